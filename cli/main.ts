/**
 * The CLI's dispatcher: picks the subcommand, maps errors to exit codes.
 *
 * @module
 */
import denoJson from "../deno.json" with { type: "json" };
import { EchokitError, UsageError } from "../util/errors.ts";
import { type Command, numberFlag, type OptionSpecs, parseFlags } from "./args.ts";
import { compareCommand } from "./compare.ts";
import { loadCommand } from "./load.ts";
import { plansCommand } from "./plans.ts";
import { runOffloadChild } from "../servers/offload_child.ts";
import { parseWork } from "../servers/work.ts";
import { serveCommand } from "./serve.ts";

/** echokit's version, from deno.json. */
export const VERSION: string = denoJson.version;

/** Every subcommand, in help order. */
export const COMMANDS: readonly Command[] = [
  serveCommand,
  loadCommand,
  compareCommand,
  plansCommand,
];

// `echokit _offload-worker`: a process-pool member that `serve --offload
// processes` starts (the pool itself is servers/offload.ts). Not in help.
const offloadWorkerCommand: Command = {
  name: "_offload-worker",
  summary: "internal: a member of serve --offload processes",
  help:
    "Usage: echokit _offload-worker [--work WORK] [--iterations-per-ms N]\n\nInternal: started by serve --offload processes; speaks length-prefixed frames on stdin/stdout.",
  async run(args: string[]): Promise<number> {
    const { values } = parseFlags(args, {
      work: { type: "string" },
      "iterations-per-ms": { type: "string" },
    });
    await runOffloadChild({
      work: values.work === undefined ? undefined : parseWork(String(values.work)),
      iterationsPerMs: numberFlag(values, "iterations-per-ms", { min: 1 }) ?? 1,
    });
    return 0;
  },
};

// Internal subcommands other echokit processes start; not in help.
const HIDDEN_COMMANDS: readonly Command[] = [offloadWorkerCommand];

/** The top-level help text. */
export const USAGE =
  `echokit ${VERSION} — which I/O concurrency model should my server use, and what does it cost?

Usage: echokit <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(9)} ${c.summary}`).join("\n")}

Options:
  -h, --help     show help (also: echokit <command> --help)
  -V, --version  print the version

Run with Deno: deno run -A mod.ts <command> …`;

/** The top-level flags (before any command), as {@linkcode parseFlags} takes them. */
export const MAIN_FLAGS: OptionSpecs = { version: { type: "boolean", short: "V" } };

/** The first help line and a pointer to the rest, printed after a usage error. */
function usageLine(command: Command): string {
  return `${command.help.split("\n")[0]}\nRun "echokit ${command.name} --help" for all options.`;
}

/**
 * Runs the CLI.
 *
 * @param args Command-line arguments (without the program name).
 * @returns The exit code: 0 success, 1 runtime error, 2 usage error.
 */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined) {
    console.log(USAGE);
    return 0;
  }
  if (name.startsWith("-")) {
    // Top-level options only: the same strict parser, so `--bogus` and
    // `--version extra` get the same reasons as a subcommand's flags.
    let values;
    try {
      ({ values } = parseFlags(args, MAIN_FLAGS));
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      console.error(`error: ${err.message}\n\n${USAGE}`);
      return err.exitCode;
    }
    console.log(values.version ? `echokit ${VERSION}` : USAGE);
    return 0;
  }
  if (name === "help") {
    const topic = COMMANDS.find((c) => c.name === rest[0]);
    if (rest[0] !== undefined && !topic) {
      console.error(`error: Unknown command "${rest[0]}"\n\n${USAGE}`);
      return 2;
    }
    console.log(topic ? topic.help : USAGE);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name) ??
    HIDDEN_COMMANDS.find((c) => c.name === name);
  if (!command) {
    console.error(`error: Unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}\n${usageLine(command)}`);
      return err.exitCode;
    }
    if (err instanceof EchokitError) {
      console.error(`error: ${err.message}`);
      return err.exitCode;
    }
    throw err;
  }
}
