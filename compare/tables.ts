/**
 * The comparison's tables as plain grids of text (header, rows, alignment),
 * built once and drawn by every renderer: terminal, Markdown, HTML.
 *
 * @module
 */
import { spreadPercent } from "./aggregate.ts";
import { formatHeadlineFigures } from "./_jmeter_figures.ts";
import type { Cell, CompareReport, Scenario, Stat } from "./types.ts";

/** A table as text cells. */
export interface Grid {
  /** Caption shown above it. */
  title: string;
  /** Column headers. */
  header: string[];
  /** Rows of cells, as wide as the header. */
  rows: string[][];
  /** Alignment per column: left or right. */
  align: ("l" | "r")[];
  /** Lines shown under it (skips, caps, footnotes). */
  notes: string[];
}

/**
 * Lines describing the run: what, how scaled, how often, on what machine.
 *
 * @param report The comparison.
 * @returns Header lines, no trailing newline.
 *
 * @example Usage
 * ```ts ignore
 * import { headerLines } from "./tables.ts";
 * console.log(headerLines(report).join("\n"));
 * ```
 */
export function headerLines(report: CompareReport): string[] {
  const m = report.meta;
  const servers = report.servers.map((s) => s.name).join(", ");
  const plans = report.scenarios.map((s) =>
    `${s.label} (${s.connections} conns × ${s.loops} loops${s.rate ? `, ${s.rate}/s` : ""})`
  ).join("; ");
  const lines = [
    `echokit compare — ${servers}`,
    `plans: ${plans}`,
    `scale: ${
      m.scale === 1
        ? "1 (full-size plans)"
        : `${m.scale} of each plan's loops (--full for full size)`
    }` +
    ` · repeat: ${m.repeat}${
      m.repeat === 1
        ? " (one run per cell; --repeat 3 for medians with spread)"
        : " (medians; ± = half the min–max range)"
    }`,
    `machine: ${m.cpus} CPUs, ${
      (m.memTotalBytes / 2 ** 30).toFixed(0)
    } GiB, ${m.platform}, Deno ${m.deno}` +
    ` · took ${formatClock(m.durationMs)}`,
  ];
  if (m.command) lines.push(`command: ${m.command}`);
  for (const note of m.notes) lines.push(`note: ${note}`);
  return lines;
}

/**
 * The seeds' headline table: a row per plan, a column per server, each cell
 * JMeter's `summary =` figures `count in HH:MM:SS = rate/s Avg: N`.
 *
 * @param report The comparison.
 * @returns The grid.
 *
 * @example Usage
 * ```ts ignore
 * import { headlineGrid } from "./tables.ts";
 * const grid = headlineGrid(report);
 * ```
 */
export function headlineGrid(report: CompareReport): Grid {
  const notes: string[] = [];
  const rows = report.scenarios.map((scenario) => [
    scenario.label,
    ...report.servers.map((server) => {
      const cell = findCell(report, scenario.id, server.name);
      if (!cell?.headline) {
        const mark = footnote(notes, `${server.name}: ${cell?.skipped ?? "not run"}`);
        return `skipped${mark}`;
      }
      return formatHeadlineFigures(cell.headline);
    }),
  ]);
  return {
    title: "summary = (JMeter figures; median-rate run per cell)",
    header: ["plan", ...report.servers.map((s) => s.name)],
    rows,
    align: ["l", ...report.servers.map(() => "l" as const)],
    notes,
  };
}

/**
 * The detail table for one scenario: a row per server with rate, latency,
 * errors, server CPU and memory, fairness, syscalls and the ratio.
 *
 * @param report The comparison.
 * @param scenario The scenario (row of the headline table).
 * @returns The grid.
 *
 * @example Usage
 * ```ts ignore
 * import { detailGrid } from "./tables.ts";
 * const grids = report.scenarios.map((s) => detailGrid(report, s));
 * ```
 */
export function detailGrid(report: CompareReport, scenario: Scenario): Grid {
  const notes: string[] = [];
  const header = [
    "server",
    "rate/s",
    report.meta.baseline ? `vs ${report.meta.baseline}` : "vs fastest",
    "p50 ms",
    "p99 ms",
    "err %",
    "CPU %",
    "CPU µs/msg",
    "load CPU %",
    "RSS MiB",
    "VSZ MiB",
    "fair p5/p95",
    "sys/msg",
  ];
  const rows = report.servers.map((server) => {
    const cell = findCell(report, scenario.id, server.name);
    for (const note of cell?.notes ?? []) notes.push(`${server.name}: ${note}`);
    if (!cell || !cell.rate) {
      const mark = footnote(notes, `${server.name}: ${cell?.skipped ?? "not run"}`);
      return [server.name + mark, "skipped", ...header.slice(2).map(() => "–")];
    }
    return [
      server.name,
      withSpread(cell.rate, (v) => v.toFixed(0)),
      cell.ratio === undefined ? "–" : `${cell.ratio.toFixed(2)}×`,
      fmt(cell.p50Us, (v) => (v / 1000).toFixed(2)),
      withSpread(cell.p99Us, (v) => (v / 1000).toFixed(2)),
      fmt(cell.errorPercent, (v) => v.toFixed(2)),
      fmt(cell.cpuPercent, (v) => v.toFixed(0)),
      fmt(cell.cpuUsPerMessage, (v) => v.toFixed(1)),
      fmt(cell.loadCpuPercent, (v) => v.toFixed(0)),
      fmt(cell.peakRssBytes, (v) => (v / 2 ** 20).toFixed(0)),
      fmt(cell.peakVszBytes, (v) => (v / 2 ** 20).toFixed(0)),
      cell.fairnessP5 && cell.fairnessP95
        ? `${cell.fairnessP5.median.toFixed(0)}/${cell.fairnessP95.median.toFixed(0)}`
        : "–",
      fmt(cell.syscallsPerMessage, (v) => v.toFixed(1)),
    ];
  });
  return {
    title: `${scenario.label} — ${scenario.connections} connections × ${scenario.loops} loops` +
      (scenario.rate ? ` at ${scenario.rate}/s requested` : ""),
    header,
    rows,
    align: header.map((_, i) => i === 0 ? "l" : "r"),
    notes: [
      ...new Set(notes),
      "fair p5/p95: round trips per connection while every connection was active (5th/95th percentile)",
      "load CPU %: the load generator's own CPU; where it nears 100 and the server's does not, the cell measures the generator",
    ],
  };
}

/**
 * The `--micro` table: single-connection round trips per server.
 *
 * @param report The comparison (with `micro`).
 * @returns The grid, or undefined when there are no micro results.
 *
 * @example Usage
 * ```ts ignore
 * import { microGrid } from "./tables.ts";
 * const grid = microGrid(report);
 * ```
 */
export function microGrid(report: CompareReport): Grid | undefined {
  if (!report.micro) return undefined;
  const notes: string[] = [];
  const rows = report.micro.map((m) => {
    if (m.skipped !== undefined || m.meanUs === undefined) {
      const mark = footnote(notes, `${m.server}: ${m.skipped ?? "not run"}`);
      return [m.server + mark, "skipped", "–", "–", "–", "–"];
    }
    return [
      m.server,
      m.meanUs.toFixed(1),
      (m.p99Us ?? NaN).toFixed(1),
      (m.opsPerSecond ?? NaN).toFixed(0),
      `±${(m.rmePercent ?? NaN).toFixed(2)}%`,
      String(m.samples ?? ""),
    ];
  });
  return {
    title: "micro — one connection, one 64-byte round trip at a time (tinybench)",
    header: ["server", "mean µs", "p99 µs", "ops/s", "rme", "samples"],
    rows,
    align: ["l", "r", "r", "r", "r", "r"],
    notes,
  };
}

/**
 * Every grid of a report, in reading order: micro, or headline then details.
 *
 * @param report The comparison.
 * @returns The grids.
 *
 * @example Usage
 * ```ts ignore
 * import { allGrids } from "./tables.ts";
 * for (const grid of allGrids(report)) console.log(grid.title);
 * ```
 */
export function allGrids(report: CompareReport): Grid[] {
  const micro = microGrid(report);
  if (micro && report.scenarios.length === 0) return [micro];
  const grids = [headlineGrid(report), ...report.scenarios.map((s) => detailGrid(report, s))];
  if (micro) grids.push(micro);
  return grids;
}

/**
 * Formats milliseconds as `m:ss` (or `h:mm:ss`).
 *
 * @param ms Milliseconds.
 * @returns The clock text.
 *
 * @example Usage
 * ```ts
 * import { formatClock } from "./tables.ts";
 * console.log(formatClock(185_000)); // "3:05"
 * ```
 */
export function formatClock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(mm).padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

function findCell(report: CompareReport, scenario: string, server: string): Cell | undefined {
  return report.cells.find((c) => c.scenario === scenario && c.server === server);
}

function fmt(s: Stat | undefined, f: (v: number) => string): string {
  return s === undefined ? "–" : f(s.median);
}

function withSpread(s: Stat | undefined, f: (v: number) => string): string {
  if (s === undefined) return "–";
  if (s.n < 2) return f(s.median);
  return `${f(s.median)} ±${spreadPercent(s).toFixed(0)}%`;
}

/** Adds a numbered note once and returns its marker (`¹`, `²`, …). */
function footnote(notes: string[], text: string): string {
  const marked = notes.filter((n) => /^(\S+) /.test(n) && MARKS.has(n.split(" ")[0]));
  const existing = marked.find((n) => n.slice(n.indexOf(" ") + 1) === text);
  if (existing) return existing.split(" ")[0];
  const mark = SUPERSCRIPTS[marked.length] ?? `[${marked.length + 1}]`;
  MARKS.add(mark);
  notes.push(`${mark} ${text}`);
  return mark;
}

const SUPERSCRIPTS = ["¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"];
const MARKS = new Set(SUPERSCRIPTS);
