/**
 * The Kubernetes manifests in `deploy/k8s/`, parsed with `yaml` and checked
 * for what the Job needs, and `renderLoadJob()`'s output checked the same way.
 * The load pods' args go through `load`'s own flag parser, so a flag that
 * `load` does not know fails here, not in a cluster.
 */
import assert from "node:assert/strict";
import { parse, parseAllDocuments } from "yaml";
import { parseFlags } from "../cli/args.ts";
import { LOAD_FLAGS } from "../cli/load.ts";
import { SERVE_FLAGS } from "../cli/serve.ts";
import { parseSegment, parseStartAt } from "../loadgen/segment.ts";
import { LOAD_JOB_FILE, renderLoadJob } from "./k8s_render.ts";

const root = new URL("../", import.meta.url);
const read = (path: string) => Deno.readTextFile(new URL(path, root));

// deno-lint-ignore no-explicit-any
type Doc = any;

/** The Service and Deployment of the server, by kind. */
async function serverDocs(): Promise<Record<string, Doc>> {
  const docs = parseAllDocuments(await read("deploy/k8s/server.yaml")).map((d) => d.toJSON());
  return Object.fromEntries(docs.map((d: Doc) => [d.kind, d]));
}

/** Checks a load Job for N segments; returns its load args with the index substituted. */
async function checkJob(job: Doc, segments: number): Promise<Record<string, unknown>> {
  const { Service: service } = await serverDocs();
  assert.equal(job.apiVersion, "batch/v1");
  assert.equal(job.kind, "Job");
  assert.equal(job.spec.completionMode, "Indexed");
  assert.equal(job.spec.completions, segments);
  assert.equal(job.spec.parallelism, segments);
  assert.equal(job.spec.template.spec.restartPolicy, "Never");
  const [container] = job.spec.template.spec.containers;
  const args: string[] = container.args;
  assert.equal(args[0], "load");
  assert.ok(args.includes(`$(JOB_COMPLETION_INDEX)/${segments}`), args.join(" "));
  // The shell wrapper passes the args on as "$@" and keeps stdout for the JSON.
  assert.deepEqual(container.command.slice(0, 2), ["sh", "-c"]);
  assert.match(container.command[2], /^deno run -A mod\.ts "\$@" 2>/);
  const { values } = parseFlags(
    args.slice(1).map((a) => a.replace("$(JOB_COMPLETION_INDEX)", String(segments - 1))),
    LOAD_FLAGS,
  );
  assert.deepEqual(parseSegment(String(values.segment)), {
    index: segments - 1,
    count: segments,
  });
  assert.equal(values.json, "-");
  assert.equal(values.host, service.metadata.name);
  assert.equal(Number(values.port), service.spec.ports[0].port);
  return values;
}

Deno.test("deploy/k8s/load-job.yaml is an Indexed Job of load segments against the server's Service", async () => {
  const values = await checkJob(parse(await read(LOAD_JOB_FILE)), 4);
  // Unrendered, the start is a placeholder that load refuses.
  assert.equal(values["start-at"], "START_AT");
  assert.throws(() => parseStartAt("START_AT"), /Invalid --start-at "START_AT"/);
});

Deno.test("deploy/k8s/server.yaml runs serve --processes behind a Service on its port", async () => {
  const { Deployment: deployment, Service: service } = await serverDocs();
  const [container] = deployment.spec.template.spec.containers;
  assert.equal(container.args[0], "serve");
  const { values } = parseFlags(container.args.slice(1), SERVE_FLAGS);
  assert.ok(Number(values.processes) >= 1);
  assert.equal(values.host, "0.0.0.0");
  assert.deepEqual(service.spec.selector, deployment.spec.template.metadata.labels);
  assert.deepEqual(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels);
  assert.equal(container.ports[0].containerPort, Number(values.port));
  assert.equal(service.spec.ports[0].targetPort, container.ports[0].name);
});

Deno.test("renderLoadJob() sets N segments, one start time and the loops, keeping the rest", async () => {
  const startAt = Date.now() + 60_000;
  const text = renderLoadJob(await read(LOAD_JOB_FILE), { segments: 8, startAt, loops: 500 });
  const values = await checkJob(parse(text), 8);
  assert.equal(parseStartAt(String(values["start-at"])), startAt);
  assert.equal(values.loops, "500");
  assert.equal(values.plan, "plan2");
  assert.match(text, /# N load generators as one Indexed Job/);
  assert.throws(
    () => renderLoadJob("kind: Deployment\n", { segments: 2, startAt }),
    /^UsageError: Cannot render: not a Kubernetes Job/,
  );
});

Deno.test("deploy/Dockerfile builds from the official Deno image and runs the CLI", async () => {
  const text = await read("deploy/Dockerfile");
  assert.match(text, /^FROM denoland\/deno:2\.9\.6$/m);
  assert.match(text, /^RUN deno cache mod\.ts loadgen\/engine_worker\.ts/m);
  assert.match(text, /^ENTRYPOINT \["deno", "run", "-A", "mod\.ts"\]$/m);
  for (const name of (await serverDocs()).Deployment.spec.template.spec.containers) {
    assert.equal(
      name.image,
      parse(await read(LOAD_JOB_FILE)).spec.template.spec.containers[0].image,
    );
  }
});
