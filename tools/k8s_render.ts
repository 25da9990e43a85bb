/**
 * `deno task k8s:render`: the Indexed Job of `deploy/k8s/load-job.yaml` made
 * ready to apply. It sets `completions` and `parallelism` to N, the
 * `--segment $(JOB_COMPLETION_INDEX)/N` of the load command, and one
 * `--start-at` for every pod: now + the lead time (enough for the pods to be
 * scheduled, pull the image and start), or a time given. That is how the pods
 * agree on their start: it is written into the Job itself, so a pod started
 * by the Job at any moment reads the same instant.
 *
 * Run: `deno task k8s:render [--segments 4] [--lead 60s | --start-at TIME]
 * [--plan plan2] [--loops L] [--file deploy/k8s/load-job.yaml] | kubectl apply -f -`
 *
 * @module
 */
import { parseDocument } from "yaml";
import { type Command, numberFlag, type OptionSpecs, parseFlags } from "../cli/args.ts";
import { parseDuration } from "../util/units.ts";
import { EchokitError, UsageError } from "../util/errors.ts";
import { MAX_SEGMENTS, parseStartAt } from "../loadgen/segment.ts";

/** The Job template in this repository. */
export const LOAD_JOB_FILE = "deploy/k8s/load-job.yaml";

/** Options for {@linkcode renderLoadJob}. */
export interface RenderLoadJobOptions {
  /** Segments: pods, completions and the N of `--segment`. */
  segments: number;
  /** The start every pod waits for, epoch ms. */
  startAt: number;
  /** Replace the plan (`--plan`). */
  plan?: string;
  /** Set the loops per thread (`--loops`). */
  loops?: number;
}

/** The `load` container's `args` of a Job document. */
function loadArgs(doc: ReturnType<typeof parseDocument>): string[] {
  const args = doc.getIn(["spec", "template", "spec", "containers", 0, "args"], false);
  const list = (args as { toJSON?: () => unknown })?.toJSON?.();
  if (!Array.isArray(list) || list[0] !== "load") {
    throw new UsageError(
      "The Job has no load container (spec.template.spec.containers[0].args must start with load)",
    );
  }
  return list.map(String);
}

function setFlag(args: string[], flag: string, value: string): void {
  const at = args.indexOf(flag);
  if (at >= 0) args[at + 1] = value;
  else args.push(flag, value);
}

/**
 * Renders the Job: N segments, one start time, optionally another plan or loops.
 *
 * @param text The Job's YAML.
 * @param options Segments and start.
 * @returns The YAML to apply (comments kept).
 * @throws {UsageError} When the text is not a Job with a load container.
 *
 * @example Usage
 * ```ts ignore
 * import { renderLoadJob } from "./k8s_render.ts";
 * const text = await Deno.readTextFile("deploy/k8s/load-job.yaml");
 * console.log(renderLoadJob(text, { segments: 8, startAt: Date.now() + 60_000 }));
 * ```
 */
export function renderLoadJob(text: string, options: RenderLoadJobOptions): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0 || doc.get("kind") !== "Job") {
    throw new UsageError(
      `Cannot render: not a Kubernetes Job${
        doc.errors[0] ? ` (${doc.errors[0].message.split("\n")[0]})` : ""
      } (give ${LOAD_JOB_FILE})`,
    );
  }
  const args = loadArgs(doc);
  setFlag(args, "--segment", `$(JOB_COMPLETION_INDEX)/${options.segments}`);
  setFlag(args, "--start-at", new Date(options.startAt).toISOString());
  if (options.plan !== undefined) setFlag(args, "--plan", options.plan);
  if (options.loops !== undefined) setFlag(args, "--loops", String(options.loops));
  doc.setIn(["spec", "completions"], options.segments);
  doc.setIn(["spec", "parallelism"], options.segments);
  doc.setIn(["spec", "template", "spec", "containers", 0, "args"], args);
  return doc.toString({ lineWidth: 0 });
}

const HELP = `Usage: deno task k8s:render [--segments N] [--lead TIME | --start-at TIME] [options]

Prints deploy/k8s/load-job.yaml ready to apply: completions = parallelism = N,
"--segment $(JOB_COMPLETION_INDEX)/N" and one --start-at for every pod.

  --segments N     load pods (default: 4)
  --lead TIME      start this long from now (default: 60s; pods must be running by then)
  --start-at TIME  start at TIME instead (ISO 8601 or epoch ms)
  --plan P         the plan (a built-in name; a file must be in the image)
  --loops L        loops per thread
  --file F         the Job template (default: ${LOAD_JOB_FILE})
  -h, --help       show this help

  deno task k8s:render --segments 8 --lead 90s | kubectl apply -f -`;

const FLAGS: OptionSpecs = {
  segments: { type: "string" },
  lead: { type: "string" },
  "start-at": { type: "string" },
  plan: { type: "string" },
  loops: { type: "string" },
  file: { type: "string" },
};

/** `deno task k8s:render`. */
export const k8sRenderCommand: Command = {
  name: "k8s:render",
  summary: "render the load Job with N segments and one start time",
  help: HELP,
  async run(args: string[]): Promise<number> {
    const { values } = parseFlags(args, FLAGS);
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (values.lead !== undefined && values["start-at"] !== undefined) {
      throw new UsageError("Use --lead or --start-at, not both");
    }
    const startAt = values["start-at"] !== undefined
      ? parseStartAt(String(values["start-at"]))
      : Date.now() + parseDuration("--lead", String(values.lead ?? "60s"));
    const file = String(values.file ?? LOAD_JOB_FILE);
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (err) {
      throw new UsageError(
        `Cannot read --file "${file}": ${err instanceof Error ? err.message : err}`,
      );
    }
    console.log(
      renderLoadJob(text, {
        segments: numberFlag(values, "segments", { min: 1, max: MAX_SEGMENTS }) ?? 4,
        startAt,
        plan: values.plan === undefined ? undefined : String(values.plan),
        loops: numberFlag(values, "loops", { min: 1 }),
      }).trimEnd(),
    );
    return 0;
  },
};

if (import.meta.main) {
  try {
    Deno.exit(await k8sRenderCommand.run(Deno.args));
  } catch (err) {
    if (err instanceof UsageError || err instanceof EchokitError) {
      console.error(`error: ${err.message}`);
      Deno.exit(err.exitCode);
    }
    throw err;
  }
}
