/**
 * Turns benchmark cells into medians with spreads, ratios against the C and
 * Python references, and text tables; the targets are checked in {@link ./_bench_targets.ts}.
 *
 * @module
 */
import { alignRows } from "../util/text_table.ts";
import type { Mode } from "../servers/types.ts";
import { NATIVE_SERVER } from "./_bench_args.ts";
import { PYTHON_PEER_OF, type ServerCell } from "./_bench_run.ts";
import type { GeneratorCell } from "./_bench_generator.ts";
import type { MachineInfo } from "./_bench_machine.ts";

/** Median and range of repeated figures. */
export interface Spread {
  /** Median. */
  median: number;
  /** Smallest. */
  min: number;
  /** Largest. */
  max: number;
  /** How many figures. */
  n: number;
}

/**
 * Median and range of the finite values given.
 *
 * @param values Figures from repeats.
 * @returns The spread, or undefined when no value is finite.
 */
export function spreadOf(values: readonly (number | undefined)[]): Spread | undefined {
  const xs = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v))
    .sort((a, b) => a - b);
  if (xs.length === 0) return undefined;
  const mid = xs.length >> 1;
  const median = xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
  return { median, min: xs[0], max: xs[xs.length - 1], n: xs.length };
}

type Metric = keyof Pick<
  ServerCell,
  | "rate"
  | "p50Us"
  | "p99Us"
  | "serverCpuUsPerMsg"
  | "serverCpuPercent"
  | "rssIdleBytes"
  | "rssPer1000Bytes"
  | "syscallsPerMsg"
  | "selfSyscallsPerMsg"
  | "clientCpuUsPerRt"
>;

const METRICS: readonly Metric[] = [
  "rate",
  "p50Us",
  "p99Us",
  "serverCpuUsPerMsg",
  "serverCpuPercent",
  "rssIdleBytes",
  "rssPer1000Bytes",
  "syscallsPerMsg",
  "selfSyscallsPerMsg",
  "clientCpuUsPerRt",
];

/** One server at one connection count, over all repeats. */
export interface ServerSummary {
  /** Server name. */
  server: string;
  /** Connections. */
  connections: number;
  /** Each figure's spread over repeats. */
  figures: Partial<Record<Metric, Spread>>;
  /** Connection errors summed over repeats. */
  errors: number;
  /** Repeats where some connection never completed a round trip before the window. */
  incompleteWarmups: number;
  /** Rate ÷ the C server's, per repeat. */
  rateVsC?: Spread;
  /** CPU per message ÷ the C server's, per repeat. */
  cpuVsC?: Spread;
  /** The Python peer compared against (our modes only). */
  peer?: string;
  /** Rate ÷ the Python peer's, per repeat. */
  rateVsPeer?: Spread;
  /** CPU per message ÷ the Python peer's, per repeat. */
  cpuVsPeer?: Spread;
  /** `uring` only: rate ÷ `nonblocking`'s (completion against readiness), per repeat. */
  rateVsNonblocking?: Spread;
}

/**
 * Summarises server cells: spreads per figure, and ratios taken within each
 * repeat (both sides measured minutes apart at most) before their spread.
 *
 * @param cells Every measured cell.
 * @returns One summary per server × connections, in the order first seen.
 */
export function summariseServers(cells: readonly ServerCell[]): ServerSummary[] {
  const groups = new Map<string, ServerCell[]>();
  for (const c of cells) {
    const key = `${c.server}@${c.connections}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const find = (server: string, connections: number, repeat: number) =>
    cells.find((c) => c.server === server && c.connections === connections && c.repeat === repeat);
  const ratio = (
    group: ServerCell[],
    other: string,
    metric: "rate" | "serverCpuUsPerMsg",
  ) =>
    spreadOf(group.map((c) => {
      const o = find(other, c.connections, c.repeat);
      return o ? c[metric] / o[metric] : undefined;
    }));
  const out: ServerSummary[] = [];
  for (const group of groups.values()) {
    const { server, connections } = group[0];
    const figures: Partial<Record<Metric, Spread>> = {};
    for (const m of METRICS) {
      const s = spreadOf(group.map((c) => c[m]));
      if (s) figures[m] = s;
    }
    const peer = PYTHON_PEER_OF[server as Mode];
    out.push({
      server,
      connections,
      figures,
      errors: group.reduce((n, c) => n + c.errors, 0),
      incompleteWarmups: group.filter((c) => !c.warmupComplete).length,
      rateVsC: ratio(group, NATIVE_SERVER, "rate"),
      cpuVsC: ratio(group, NATIVE_SERVER, "serverCpuUsPerMsg"),
      peer,
      rateVsPeer: peer ? ratio(group, peer, "rate") : undefined,
      cpuVsPeer: peer ? ratio(group, peer, "serverCpuUsPerMsg") : undefined,
      rateVsNonblocking: server === "uring" ? ratio(group, "nonblocking", "rate") : undefined,
    });
  }
  return out;
}

/** A generator against one server, over all repeats. */
export interface GeneratorSummary {
  /** Generator name. */
  generator: string;
  /** Server. */
  server: string;
  /** Samples per second. */
  rate?: Spread;
  /** Generator CPU per sample, µs. */
  cpuUsPerSample?: Spread;
  /** Median latency, µs. */
  p50Us?: Spread;
  /** 99th percentile latency, µs. */
  p99Us?: Spread;
  /** Failed samples over repeats. */
  errors: number;
  /** The server's CPU while loaded, % of one core. */
  serverCpuPercent?: Spread;
  /** Rate ÷ the native client's against the same server process, per repeat. */
  rateVsC?: Spread;
  /** CPU per sample ÷ the native client's against the same server process, per repeat. */
  cpuVsC?: Spread;
}

/**
 * Summarises generator cells.
 *
 * @param cells Every measured cell.
 * @returns One summary per generator × server.
 */
export function summariseGenerators(cells: readonly GeneratorCell[]): GeneratorSummary[] {
  const keys = [...new Set(cells.map((c) => `${c.generator}\0${c.server}`))];
  // A figure ÷ the native client's against the same server process, per repeat.
  const vsC = (group: GeneratorCell[], metric: "rate" | "cpuUsPerSample") =>
    spreadOf(group.map((c) => {
      const ref = cells.find((o) =>
        o.generator === "c-client" && o.server === c.server && o.repeat === c.repeat
      );
      return ref ? c[metric] / ref[metric] : undefined;
    }));
  return keys.map((key) => {
    const [generator, server] = key.split("\0");
    const group = cells.filter((c) => c.generator === generator && c.server === server);
    return {
      generator,
      server,
      rate: spreadOf(group.map((c) => c.rate)),
      cpuUsPerSample: spreadOf(group.map((c) => c.cpuUsPerSample)),
      p50Us: spreadOf(group.map((c) => c.p50Us)),
      p99Us: spreadOf(group.map((c) => c.p99Us)),
      errors: group.reduce((n, c) => n + c.errors, 0),
      serverCpuPercent: spreadOf(group.map((c) => c.serverCpuPercent)),
      rateVsC: vsC(group, "rate"),
      cpuVsC: vsC(group, "cpuUsPerSample"),
    };
  });
}

/** One of issue 7's targets, checked against the figures. */
export interface TargetCheck {
  /** What is required, in words. */
  target: string;
  /** The measured ratio or figure (median, with spread). */
  measured?: Spread;
  /** Unit of `measured` (`×` for ratios). */
  unit: string;
  /** Met, not met, or not measured in this run (with why). */
  status: "met" | "not met" | "not measured";
  /** Extra words (e.g. why not measured). */
  note?: string;
}

// ---- text rendering ----

function si(n: number): string {
  if (!Number.isFinite(n)) return "–";
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (Math.abs(n) >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  if (Math.abs(n) >= 1e3) return `${(n / 1e3).toFixed(2)}k`;
  return n.toFixed(n >= 100 ? 0 : 1);
}

function dec(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "–";
}

function mib(n: number): string {
  return Number.isFinite(n) ? (n / 1048576).toFixed(1) : "–";
}

function withSpread(s: Spread | undefined, fmt: (n: number) => string): string {
  if (!s) return "–";
  if (s.n === 1 || s.min === s.max) return fmt(s.median);
  return `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
}

function times(s: Spread | undefined): string {
  return withSpread(s, (n) => `${n.toFixed(2)}`) + (s ? "×" : "");
}

// Columns before `rightFrom` and from `leftFrom` on are left-aligned, the rest right-aligned.
function table(header: string[], rows: string[][], rightFrom = 1, leftFrom = Infinity): string {
  const align = (i: number) => i < rightFrom || i >= leftFrom ? "l" : "r";
  return alignRows([header, ...rows], align).lines.join("\n");
}

/** The runtime floor line of the header, if anything was measured. */
function idleRssLine(idle: Record<string, number>): string[] {
  const parts = Object.entries(idle).map(([k, v]) => `${k} ${(v / 2 ** 20).toFixed(1)} MiB`);
  return parts.length ? [`idle runtime RSS (a program that only sleeps): ${parts.join("; ")}`] : [];
}

/**
 * Renders the header block: command, date, commit, machine.
 *
 * @param command The command as typed.
 * @param machine The machine description.
 * @param notes Extra lines (pinning, window, skips).
 * @returns Text lines.
 */
export function formatHeader(command: string, machine: MachineInfo, notes: string[]): string {
  const tools = Object.entries(machine.tools).map(([k, v]) => `${k}: ${v}`).join("; ");
  return [
    `command: ${command}`,
    `date: ${machine.date}  commit: ${machine.commit}`,
    `machine: ${machine.cpus} × ${machine.cpuModel}, ${
      (machine.memTotalBytes / 2 ** 30).toFixed(1)
    } GiB, ${machine.kernel}`,
    `software: deno ${machine.deno}${tools ? `; ${tools}` : ""}`,
    ...idleRssLine(machine.idleRssBytes),
    ...notes,
  ].join("\n");
}

/**
 * Renders the server matrix: one table per connection count.
 *
 * @param summaries Server summaries.
 * @returns Text.
 */
export function formatServerTables(summaries: readonly ServerSummary[]): string {
  const counts = [...new Set(summaries.map((s) => s.connections))];
  const blocks: string[] = [];
  for (const c of counts) {
    const rows = summaries.filter((s) => s.connections === c).map((s) => {
      const f = s.figures;
      return [
        s.server,
        withSpread(f.rate, si),
        withSpread(f.p50Us, si),
        withSpread(f.p99Us, si),
        withSpread(f.serverCpuUsPerMsg, (n) => dec(n)),
        withSpread(f.serverCpuPercent, (n) => dec(n, 0)),
        f.syscallsPerMsg ? dec(f.syscallsPerMsg.median) : "–",
        f.selfSyscallsPerMsg ? dec(f.selfSyscallsPerMsg.median) : "–",
        f.rssIdleBytes ? mib(f.rssIdleBytes.median) : "–",
        c >= 100 && f.rssPer1000Bytes ? mib(f.rssPer1000Bytes.median) : "–",
        times(s.rateVsC),
        times(s.cpuVsC),
        s.peer ? `${times(s.rateVsPeer)}` : "",
        s.peer ? `${times(s.cpuVsPeer)}` : "",
        (s.errors ? `${s.errors} err` : "") + (s.incompleteWarmups ? " !warm" : ""),
      ];
    });
    blocks.push(
      `${c} connection${c === 1 ? "" : "s"}\n` + table(
        [
          "server",
          "msgs/s",
          "p50 µs",
          "p99 µs",
          "CPU µs/msg",
          "CPU %",
          "sys/msg",
          "self sys/msg",
          "RSS idle MiB",
          "MiB/1k conns",
          "rate ×C",
          "CPU ×C",
          "rate ×py",
          "CPU ×py",
          "",
        ],
        rows,
        1,
        14,
      ),
    );
  }
  return blocks.join("\n\n");
}

/**
 * Renders the generator matrix.
 *
 * @param summaries Generator summaries.
 * @returns Text.
 */
export function formatGeneratorTable(summaries: readonly GeneratorSummary[]): string {
  return table(
    [
      "generator",
      "server",
      "samples/s",
      "CPU µs/sample",
      "p50 µs",
      "p99 µs",
      "rate ×C",
      "CPU ×C",
      "server CPU %",
      "errors",
    ],
    summaries.map((g) => [
      g.generator,
      g.server,
      withSpread(g.rate, si),
      withSpread(g.cpuUsPerSample, (n) => dec(n)),
      withSpread(g.p50Us, si),
      withSpread(g.p99Us, si),
      g.generator === "c-client" ? "1.00×" : times(g.rateVsC),
      g.generator === "c-client" ? "1.00×" : times(g.cpuVsC),
      withSpread(g.serverCpuPercent, (n) => n.toFixed(0)),
      String(g.errors),
    ]),
    2,
  );
}

/**
 * Renders the target checks.
 *
 * @param checks Checked targets.
 * @returns Text.
 */
export function formatTargets(checks: readonly TargetCheck[]): string {
  return table(
    ["target (issues 7, 14)", "measured", "status"],
    checks.map((t) => [
      t.target,
      t.measured ? withSpread(t.measured, (n) => `${dec(n)}`) + t.unit : "–",
      t.status + (t.note ? ` (${t.note})` : ""),
    ]),
    1,
    2,
  );
}
