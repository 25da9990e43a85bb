/**
 * `echokit _offload-worker`: a process-pool member started by
 * `serve --offload processes`. Internal; not listed in help.
 *
 * @module
 */
import { runOffloadChild } from "../servers/offload_child.ts";
import { parseWork } from "../servers/work.ts";
import { type Command, numberFlag, parseFlags } from "./args.ts";

/** The hidden `_offload-worker` subcommand. */
export const offloadWorkerCommand: Command = {
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
