/**
 * The benchmark's targets (issue 7's, and issue 14's for the uring server):
 * each checked against the medians of one run, met or not, with the spread
 * shown so a reader can see how close the call was.
 *
 * @module
 */
import type { Mode } from "../servers/types.ts";
import { PYTHON_PEER_OF } from "./_bench_run.ts";
import type { GeneratorSummary, ServerSummary, Spread, TargetCheck } from "./_bench_report.ts";

/**
 * Checks issue 7's targets. A target is met when the median meets it; the
 * spread is shown so a reader can see how close the call was.
 *
 * @param servers Server summaries.
 * @param generators Generator summaries.
 * @returns One check per target, in the issue's order.
 */
export function checkTargets(
  servers: readonly ServerSummary[],
  generators: readonly GeneratorSummary[],
): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const at = (server: string, connections: number) =>
    servers.find((s) => s.server === server && s.connections === connections);
  const ratioCheck = (
    target: string,
    s: Spread | undefined,
    ok: (x: number) => boolean,
    why: string,
  ) => {
    checks.push(
      s
        ? { target, measured: s, unit: "×", status: ok(s.median) ? "met" : "not met" }
        : { target, unit: "×", status: "not measured", note: why },
    );
  };
  for (const c of [100, 1000]) {
    const nb = at("nonblocking", c);
    const why = nb ? "peer not measured" : `nonblocking not measured at ${c} connections`;
    ratioCheck(`nonblocking rate ≥ 1.0× py-selectors @${c}`, nb?.rateVsPeer, (x) => x >= 1, why);
    ratioCheck(
      `nonblocking CPU/msg ≤ 1.0× py-selectors @${c}`,
      nb?.cpuVsPeer,
      (x) => x <= 1,
      why,
    );
    ratioCheck(`nonblocking CPU/msg ≤ 1.25× c-epoll @${c}`, nb?.cpuVsC, (x) => x <= 1.25, why);
    // Issue 14: the completion model against readiness and against C.
    const ur = at("uring", c);
    const whyUring = ur ? `nonblocking not measured at ${c} connections` : `uring not measured`;
    ratioCheck(
      `uring rate ≥ 1.0× nonblocking @${c}`,
      ur?.rateVsNonblocking,
      (x) => x >= 1,
      whyUring,
    );
    ratioCheck(`uring CPU/msg ≤ 1.1× c-epoll @${c}`, ur?.cpuVsC, (x) => x <= 1.1, whyUring);
  }
  const at100 = (mode: Mode) => at(mode, 100);
  ratioCheck(
    "stream rate ≥ 1.5× py-streams @100",
    at100("stream")?.rateVsPeer,
    (x) => x >= 1.5,
    "stream or py-streams not measured at 100 connections",
  );
  ratioCheck(
    "protocol rate ≥ 1.2× py-protocol @100",
    at100("protocol")?.rateVsPeer,
    (x) => x >= 1.2,
    "protocol or py-protocol not measured at 100 connections",
  );
  ratioCheck(
    "blocking rate ≥ 1.5× py-threaded @100",
    at100("blocking")?.rateVsPeer,
    (x) => x >= 1.5,
    "blocking or py-threaded not measured at 100 connections",
  );
  const b1000 = at("blocking", 1000);
  checks.push(
    b1000
      ? {
        target: "blocking serves 1000 connections with 0 errors",
        measured: { median: b1000.errors, min: b1000.errors, max: b1000.errors, n: 1 },
        unit: " errors",
        status: b1000.errors === 0 && b1000.incompleteWarmups === 0 ? "met" : "not met",
        note: b1000.incompleteWarmups
          ? `${b1000.incompleteWarmups} incomplete warm-ups`
          : undefined,
      }
      : {
        target: "blocking serves 1000 connections with 0 errors",
        unit: "",
        status: "not measured",
        note: "blocking not measured at 1000 connections",
      },
  );
  for (const g of generators.filter((g) => g.generator !== "c-client")) {
    ratioCheck(
      `${g.generator} rate ≥ 0.9× C client vs ${g.server}`,
      g.rateVsC,
      (x) => x >= 0.9,
      "native client not measured",
    );
    checks.push(
      g.cpuUsPerSample
        ? {
          target: `${g.generator} CPU ≤ 12 µs/sample vs ${g.server}`,
          measured: g.cpuUsPerSample,
          unit: " µs",
          status: g.cpuUsPerSample.median <= 12 ? "met" : "not met",
        }
        : {
          target: `${g.generator} CPU ≤ 12 µs/sample vs ${g.server}`,
          unit: " µs",
          status: "not measured",
        },
    );
  }
  // Issue 14: the best engine against the C client, on the C server.
  const best = generators.find((g) => g.generator === "echokit-uring" && g.server === "c-epoll");
  const whyBest = "load --engine uring not measured against c-epoll";
  ratioCheck(
    "echokit-uring rate ≥ 1.0× C client vs c-epoll",
    best?.rateVsC,
    (x) => x >= 1,
    whyBest,
  );
  ratioCheck(
    "echokit-uring CPU/sample ≤ 1.2× C client's vs c-epoll",
    best?.cpuVsC,
    (x) => x <= 1.2,
    whyBest,
  );
  if (!generators.some((g) => g.generator === "echokit")) {
    checks.push({
      target: "load generator ≥ 0.9× C client, ≤ 12 µs/sample",
      unit: "",
      status: "not measured",
      note: "generator matrix not run",
    });
  }
  for (const mode of ["stream", "protocol", "nonblocking"] as const) {
    const peer = PYTHON_PEER_OF[mode]!;
    const conns = [1000, 100].find((c) => at(mode, c) && at(peer, c));
    const ours = conns ? at(mode, conns) : undefined;
    const theirs = conns ? at(peer, conns) : undefined;
    const idle = ratioOfMedians(ours?.figures.rssIdleBytes, theirs?.figures.rssIdleBytes);
    ratioCheck(`${mode} idle RSS ≤ 2× ${peer}`, idle, (x) => x <= 2, "not measured");
    const per = ratioOfMedians(ours?.figures.rssPer1000Bytes, theirs?.figures.rssPer1000Bytes);
    ratioCheck(
      `${mode} RSS/1000 conns ≤ 2× ${peer}${conns ? ` @${conns}` : ""}`,
      per,
      (x) => x <= 2,
      "not measured at 100 or 1000 connections",
    );
  }
  return checks;
}

function ratioOfMedians(a?: Spread, b?: Spread): Spread | undefined {
  if (!a || !b || !(b.median > 0)) return undefined;
  const r = a.median / b.median;
  return { median: r, min: r, max: r, n: 1 };
}
