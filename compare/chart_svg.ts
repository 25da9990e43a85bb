/**
 * Charts of a comparison as standalone SVG: throughput and p99 latency per
 * server, as grouped bars per plan, or as lines against connections (or
 * requested rate) for sweeps. No dependencies; every series is a
 * `<g class="series" data-series="NAME">` so tools and tests can find it.
 *
 * @module
 */
import type { Cell, CompareReport, Scenario } from "./types.ts";

/** One chart file. */
export interface Chart {
  /** File name to write it as (`chart.svg`, `sweep_plan2.svg`). */
  file: string;
  /** Alt text / caption. */
  title: string;
  /** The SVG document. */
  svg: string;
}

/** Colour-blind-safe series colours (Okabe–Ito, then Tableau), in server order. */
export const SERIES_COLORS: readonly string[] = [
  "#0072B2",
  "#E69F00",
  "#009E73",
  "#CC79A7",
  "#56B4E9",
  "#D55E00",
  "#8C564B",
  "#7F7F7F",
  "#BCBD22",
  "#17BECF",
];

const W = 1000;
const H = 460;
const PANEL_TOP = 96;
const PANEL_BOTTOM = 390;
const PANELS = [{ x0: 80, x1: 480 }, { x0: 580, x1: 980 }];
const FONT = `font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"`;

interface Metric {
  key: "rate" | "p99";
  title: string;
  unit: string;
  value(cell: Cell): number | undefined;
  low(cell: Cell): number | undefined;
  high(cell: Cell): number | undefined;
  format(v: number): string;
}

const METRICS: readonly Metric[] = [
  {
    key: "rate",
    title: "Throughput (higher is better)",
    unit: "samples/s",
    value: (c) => c.rate?.median,
    low: (c) => c.rate?.min,
    high: (c) => c.rate?.max,
    format: formatCount,
  },
  {
    key: "p99",
    title: "p99 latency (lower is better)",
    unit: "ms",
    value: (c) => ms(c.p99Us?.median),
    low: (c) => ms(c.p99Us?.min),
    high: (c) => ms(c.p99Us?.max),
    format: formatMs,
  },
];

/**
 * Makes the charts for a report: one grouped-bar chart for plain runs, one
 * line chart per plan for `--connections` or `--rate` sweeps.
 *
 * @param report The comparison.
 * @returns The charts (none when nothing was measured).
 *
 * @example Usage
 * ```ts ignore
 * import { renderCharts } from "./chart_svg.ts";
 * for (const chart of renderCharts(report)) await Deno.writeTextFile(chart.file, chart.svg);
 * ```
 */
export function renderCharts(report: CompareReport): Chart[] {
  if (!report.cells.some((c) => c.rate)) return [];
  const plans = [...new Set(report.scenarios.map((s) => s.plan))];
  const sweepAxis = report.scenarios.some((s) => s.rate !== undefined)
    ? "rate"
    : plans.some((p) => new Set(connectionsOf(report, p)).size > 1)
    ? "connections"
    : undefined;
  if (!sweepAxis) {
    const title = `Rate and p99 per server — ${plans.join(", ")}`;
    return [{ file: "chart.svg", title, svg: barChart(report, title) }];
  }
  return plans.map((plan) => {
    const title = `${plan}: rate and p99 vs ${
      sweepAxis === "rate" ? "requested rate" : "connections"
    }`;
    return {
      file: `sweep_${plan.replace(/[^\w.-]/g, "_")}.svg`,
      title,
      svg: lineChart(report, plan, sweepAxis, title),
    };
  });
}

function barChart(report: CompareReport, title: string): string {
  const servers = report.servers.map((s) => s.name);
  const parts: string[] = [];
  METRICS.forEach((metric, p) => {
    const { x0, x1 } = PANELS[p];
    const max = Math.max(
      0,
      ...report.cells.map((c) => metric.high(c) ?? metric.value(c) ?? 0),
    );
    const ticks = niceTicks(0, max || 1);
    const top = ticks[ticks.length - 1];
    const y = (v: number) => PANEL_BOTTOM - (v / top) * (PANEL_BOTTOM - PANEL_TOP);
    parts.push(`<g class="panel" data-metric="${metric.key}">`);
    parts.push(panelFrame(metric, x0, x1, ticks.map((t) => ({ v: t, y: y(t) }))));
    const groupW = (x1 - x0) / report.scenarios.length;
    const barW = Math.min(48, (groupW * 0.8) / servers.length);
    report.scenarios.forEach((s, g) => {
      const cx = x0 + groupW * (g + 0.5);
      parts.push(
        text(cx, PANEL_BOTTOM + 20, s.label, { anchor: "middle", size: 13, weight: 600 }),
      );
    });
    servers.forEach((server, i) => {
      const color = SERIES_COLORS[i % SERIES_COLORS.length];
      const bars: string[] = [];
      report.scenarios.forEach((s, g) => {
        const bx = x0 + groupW * (g + 0.5) + (i - servers.length / 2) * barW;
        const cell = findCell(report, s, server);
        const v = cell && metric.value(cell);
        if (v === undefined) {
          bars.push(
            text(bx + barW / 2, PANEL_BOTTOM - 6, "n/a", { anchor: "middle", size: 10 }),
          );
          return;
        }
        const label = `${server} · ${s.label}: ${metric.format(v)} ${metric.unit}`;
        bars.push(
          `<rect x="${f(bx + 1)}" y="${f(y(v))}" width="${f(barW - 2)}" height="${
            f(PANEL_BOTTOM - y(v))
          }" fill="${color}"><title>${esc(label)}</title></rect>`,
        );
        const lo = metric.low(cell!);
        const hi = metric.high(cell!);
        if (lo !== undefined && hi !== undefined && hi > lo) {
          const mx = bx + barW / 2;
          bars.push(
            `<path d="M${f(mx)} ${f(y(hi))}V${f(y(lo))}M${f(mx - 4)} ${f(y(hi))}h8M${
              f(mx - 4)
            } ${f(y(lo))}h8" stroke="#222" stroke-width="1.2" fill="none"/>`,
          );
        }
        if (barW >= 22) {
          bars.push(
            text(bx + barW / 2, y(hi ?? v) - 4, metric.format(v), {
              anchor: "middle",
              size: barW >= 34 ? 11 : 9,
            }),
          );
        }
      });
      parts.push(seriesGroup(server, bars));
    });
    parts.push("</g>");
  });
  return svgDocument(title, report, parts);
}

function lineChart(
  report: CompareReport,
  plan: string,
  axis: "connections" | "rate",
  title: string,
): string {
  const scenarios = report.scenarios
    .filter((s) => s.plan === plan)
    .sort((a, b) => xOf(a, axis) - xOf(b, axis));
  const xs = [...new Set(scenarios.map((s) => xOf(s, axis)))];
  const servers = report.servers.map((s) => s.name);
  const parts: string[] = [];
  METRICS.forEach((metric, p) => {
    const { x0, x1 } = PANELS[p];
    const lx0 = Math.log10(Math.min(...xs));
    const lx1 = Math.log10(Math.max(...xs));
    const span = lx1 - lx0 || 1;
    const pad = 24;
    const x = (v: number) =>
      xs.length === 1 ? (x0 + x1) / 2 : x0 + pad + ((Math.log10(v) - lx0) / span) * (x1 - x0 - 2 * pad);
    const values = scenarios.flatMap((s) =>
      servers.map((n) => {
        const c = findCell(report, s, n);
        return c ? metric.high(c) ?? metric.value(c) : undefined;
      })
    ).filter((v): v is number => v !== undefined && v > 0);
    // Latency across a sweep spans orders of magnitude: draw it on a log axis.
    const logY = metric.key === "p99" && values.length > 0 &&
      Math.max(...values) / Math.min(...values) > 20;
    let y: (v: number) => number;
    let ticks: { v: number; y: number }[];
    if (logY) {
      const lo = Math.floor(Math.log10(Math.min(...values)));
      const hi = Math.ceil(Math.log10(Math.max(...values)));
      y = (v) =>
        PANEL_BOTTOM - ((Math.log10(v) - lo) / (hi - lo || 1)) * (PANEL_BOTTOM - PANEL_TOP);
      ticks = [];
      for (let e = lo; e <= hi; e++) ticks.push({ v: 10 ** e, y: y(10 ** e) });
    } else {
      const t = niceTicks(0, Math.max(1e-9, ...values));
      const top = t[t.length - 1];
      y = (v) => PANEL_BOTTOM - (v / top) * (PANEL_BOTTOM - PANEL_TOP);
      ticks = t.map((v) => ({ v, y: y(v) }));
    }
    parts.push(`<g class="panel" data-metric="${metric.key}">`);
    parts.push(panelFrame(metric, x0, x1, ticks, logY));
    for (const v of xs) {
      parts.push(
        `<line x1="${f(x(v))}" x2="${f(x(v))}" y1="${PANEL_BOTTOM}" y2="${
          PANEL_BOTTOM + 5
        }" stroke="#444"/>`,
        text(x(v), PANEL_BOTTOM + 19, formatCount(v), { anchor: "middle", size: 12 }),
      );
    }
    parts.push(
      text((x0 + x1) / 2, PANEL_BOTTOM + 40, axis === "rate" ? "requested rate/s" : "connections", {
        anchor: "middle",
        size: 12,
      }),
    );
    servers.forEach((server, i) => {
      const color = SERIES_COLORS[i % SERIES_COLORS.length];
      const pts = scenarios.flatMap((s) => {
        const c = findCell(report, s, server);
        const v = c && metric.value(c);
        return v !== undefined && (!logY || v > 0) ? [[x(xOf(s, axis)), y(v), v] as const] : [];
      });
      const body: string[] = [];
      if (pts.length > 1) {
        body.push(
          `<polyline points="${
            pts.map(([px, py]) => `${f(px)},${f(py)}`).join(" ")
          }" fill="none" stroke="${color}" stroke-width="2.5" stroke-linejoin="round"/>`,
        );
      }
      for (const [px, py, v] of pts) {
        body.push(
          `<circle cx="${f(px)}" cy="${f(py)}" r="4" fill="${color}"><title>${
            esc(`${server}: ${metric.format(v)} ${metric.unit}`)
          }</title></circle>`,
        );
      }
      parts.push(seriesGroup(server, body));
    });
    parts.push("</g>");
  });
  return svgDocument(title, report, parts);
}

function svgDocument(title: string, report: CompareReport, body: string[]): string {
  const servers = report.servers.map((s) => s.name);
  const legend: string[] = [];
  let lx = 80;
  servers.forEach((name, i) => {
    const color = SERIES_COLORS[i % SERIES_COLORS.length];
    legend.push(
      `<rect x="${lx}" y="48" width="14" height="14" rx="2" fill="${color}"/>`,
      text(lx + 20, 60, name, { size: 13 }),
    );
    lx += 20 + name.length * 7.5 + 22;
  });
  const m = report.meta;
  const sub = `scale ${m.scale} · repeat ${m.repeat}${
    m.repeat > 1 ? " (bars: median, whiskers: min–max)" : ""
  } · ${m.cpus} CPUs · Deno ${m.deno}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${FONT} role="img" aria-label="${
      esc(title)
    }">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    text(80, 28, title, { size: 17, weight: 600 }),
    text(W - 20, 28, sub, { anchor: "end", size: 11, fill: "#555" }),
    `<g class="legend">${legend.join("")}</g>`,
    ...body,
    "</svg>",
    "",
  ].join("\n");
}

function panelFrame(
  metric: Metric,
  x0: number,
  x1: number,
  ticks: { v: number; y: number }[],
  log = false,
): string {
  const out = [
    text(x0, PANEL_TOP - 14, `${metric.title}${log ? " · log scale" : ""}`, {
      size: 13,
      weight: 600,
    }),
  ];
  for (const t of ticks) {
    out.push(
      `<line x1="${x0}" x2="${x1}" y1="${f(t.y)}" y2="${f(t.y)}" stroke="${
        t.v === 0 ? "#444" : "#e3e3e3"
      }"/>`,
      text(x0 - 8, t.y + 4, metric.format(t.v), { anchor: "end", size: 11, fill: "#444" }),
    );
  }
  out.push(
    `<line x1="${x0}" x2="${x0}" y1="${PANEL_TOP}" y2="${PANEL_BOTTOM}" stroke="#444"/>`,
    `<line x1="${x0}" x2="${x1}" y1="${PANEL_BOTTOM}" y2="${PANEL_BOTTOM}" stroke="#444"/>`,
    `<text x="${x0 - 58}" y="${(PANEL_TOP + PANEL_BOTTOM) / 2}" font-size="12" fill="#444" ` +
      `text-anchor="middle" transform="rotate(-90 ${x0 - 58} ${
        (PANEL_TOP + PANEL_BOTTOM) / 2
      })">${esc(metric.unit)}</text>`,
  );
  return out.join("\n");
}

function seriesGroup(name: string, body: string[]): string {
  return `<g class="series" data-series="${esc(name)}">${body.join("")}</g>`;
}

/**
 * Round axis ticks from 0 (or `min`) to at least `max`: steps of 1, 2 or 5 × 10ⁿ.
 *
 * @param min Lowest value.
 * @param max Highest value.
 * @param count About how many intervals. @default {5}
 * @returns Tick values, ascending, last ≥ max.
 *
 * @example Usage
 * ```ts
 * import { niceTicks } from "./chart_svg.ts";
 * console.log(niceTicks(0, 43)); // [0, 10, 20, 30, 40, 50]
 * ```
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.floor(min / step) * step; v < max + step * 0.999; v += step) {
    out.push(Number(v.toPrecision(12)));
  }
  if (out[out.length - 1] < max) out.push(out[out.length - 1] + step);
  return out;
}

function findCell(report: CompareReport, s: Scenario, server: string): Cell | undefined {
  return report.cells.find((c) => c.scenario === s.id && c.server === server);
}

function connectionsOf(report: CompareReport, plan: string): number[] {
  return report.scenarios.filter((s) => s.plan === plan).map((s) => s.connections);
}

function xOf(s: Scenario, axis: "connections" | "rate"): number {
  return axis === "rate" ? s.rate ?? 0 : s.connections;
}

function ms(us: number | undefined): number | undefined {
  return us === undefined ? undefined : us / 1000;
}

function formatCount(v: number): string {
  if (v >= 1e6) return `${trim(v / 1e6)}M`;
  if (v >= 1e3) return `${trim(v / 1e3)}k`;
  return trim(v);
}

function formatMs(v: number): string {
  if (v === 0) return "0";
  if (v < 0.01) return v.toPrecision(1);
  return trim(v);
}

function trim(v: number): string {
  return String(Number(v.toPrecision(3)));
}

function f(v: number): string {
  return String(Math.round(v * 10) / 10);
}

function text(
  x: number,
  y: number,
  body: string,
  o: { anchor?: "start" | "middle" | "end"; size?: number; weight?: number; fill?: string } = {},
): string {
  return `<text x="${f(x)}" y="${f(y)}" font-size="${o.size ?? 12}"${
    o.anchor ? ` text-anchor="${o.anchor}"` : ""
  }${o.weight ? ` font-weight="${o.weight}"` : ""} fill="${o.fill ?? "#222"}">${esc(body)}</text>`;
}

function esc(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}
