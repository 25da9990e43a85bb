import assert from "node:assert/strict";
import { niceTicks, renderCharts } from "./chart_svg.ts";
import { fakeReport, fakeResult } from "./_test_fixtures.ts";
import { aggregate } from "./aggregate.ts";
import type { CompareReport, RunRecord, Scenario, ServerColumn } from "./types.ts";

interface Element {
  name: string;
  attrs: Record<string, string>;
  children: Element[];
}

/** A strict little XML reader: throws on any unbalanced or malformed tag. */
function parseXml(text: string): Element {
  const root: Element = { name: "#root", attrs: {}, children: [] };
  const stack = [root];
  const tag =
    /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>/g;
  let last = 0;
  for (const m of text.matchAll(tag)) {
    const between = text.slice(last, m.index);
    if (/[<>]/.test(between)) throw new Error(`Stray markup near ${m.index}: ${between}`);
    if (/&(?!amp;|lt;|gt;|quot;|#\d+;)/.test(between)) throw new Error(`Bad entity: ${between}`);
    last = m.index! + m[0].length;
    if (!m[2]) continue;
    const [, close, name, attrText, selfClose] = m;
    if (close) {
      const open = stack.pop();
      if (open?.name !== name) throw new Error(`</${name}> closes <${open?.name}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText.matchAll(/([\w:-]+)="([^"]*)"/g)) {
      if (a[1] in attrs) throw new Error(`Duplicate attribute ${a[1]} on <${name}>`);
      attrs[a[1]] = a[2];
    }
    const el: Element = { name, attrs, children: [] };
    stack[stack.length - 1].children.push(el);
    if (!selfClose) stack.push(el);
  }
  if (stack.length !== 1) throw new Error(`Unclosed <${stack[stack.length - 1].name}>`);
  if (/[<>]/.test(text.slice(last))) throw new Error("Stray markup at the end");
  return root;
}

function all(el: Element, pred: (e: Element) => boolean): Element[] {
  return [...(pred(el) ? [el] : []), ...el.children.flatMap((c) => all(c, pred))];
}

function checkChart(svg: string, servers: string[]): Element {
  const doc = parseXml(svg);
  assert.equal(doc.children.length, 1);
  const root = doc.children[0];
  assert.equal(root.name, "svg");
  assert.equal(root.attrs.xmlns, "http://www.w3.org/2000/svg");
  const panels = all(root, (e) => e.attrs.class === "panel");
  assert.deepEqual(panels.map((p) => p.attrs["data-metric"]), ["rate", "p99"]);
  for (const panel of panels) {
    const series = all(panel, (e) => e.attrs.class === "series");
    assert.deepEqual(series.map((s) => s.attrs["data-series"]), servers, "one series per server");
  }
  const legend = all(root, (e) => e.attrs.class === "legend")[0];
  assert.deepEqual(
    all(legend, (e) => e.name === "text").length,
    servers.length,
    "one legend entry per server",
  );
  for (const el of all(root, () => true)) {
    for (const [k, v] of Object.entries(el.attrs)) {
      assert.doesNotMatch(v, /NaN|undefined|Infinity/, `<${el.name} ${k}="${v}">`);
    }
  }
  return root;
}

Deno.test("renderCharts() draws a valid bar chart with one series per server", () => {
  const report = fakeReport();
  const charts = renderCharts(report);
  assert.deepEqual(charts.map((c) => c.file), ["chart.svg"]);
  const root = checkChart(charts[0].svg, ["stream", "blocking", "py-streams"]);
  const rate = all(root, (e) => e.attrs["data-metric"] === "rate")[0];
  const stream = all(rate, (e) => e.attrs["data-series"] === "stream")[0];
  assert.equal(all(stream, (e) => e.name === "rect").length, 2, "a bar per plan");
  const blocking = all(rate, (e) => e.attrs["data-series"] === "blocking")[0];
  assert.equal(all(blocking, (e) => e.name === "rect").length, 0, "no bar for a skipped cell");
  // The faster server's bar is the taller one.
  const heights = all(rate, (e) => e.name === "rect").map((r) => Number(r.attrs.height));
  assert.ok(heights.every((h) => h >= 0));
});

Deno.test("renderCharts() draws a line chart per plan for a connection sweep", () => {
  const servers: ServerColumn[] = [{ name: "stream", kind: "mode" }, {
    name: "protocol",
    kind: "mode",
  }];
  const levels = [10, 100, 1000, 10000];
  const scenarios: Scenario[] = levels.map((c) => ({
    id: `plan2@c${c}`,
    plan: "plan2",
    connections: c,
    loops: 100_000 / c,
    label: `plan2 · ${c} conns`,
  }));
  const runs: RunRecord[] = scenarios.flatMap((s, i) =>
    servers.map((srv, j) => ({
      server: srv.name,
      scenario: s.id,
      repeat: 0,
      result: fakeResult({ samples: 100_000, elapsedMs: 1000 * (i + 1 + j), p99Us: 10 ** (i + 3) }),
      wallMs: 1000,
    }))
  );
  const base = fakeReport();
  const report: CompareReport = {
    ...base,
    scenarios,
    servers,
    runs,
    cells: aggregate(runs, { scenarios, servers }),
  };
  const charts = renderCharts(report);
  assert.deepEqual(charts.map((c) => c.file), ["sweep_plan2.svg"]);
  const root = checkChart(charts[0].svg, ["stream", "protocol"]);
  for (const series of all(root, (e) => e.attrs.class === "series")) {
    assert.equal(all(series, (e) => e.name === "circle").length, levels.length);
    assert.equal(all(series, (e) => e.name === "polyline").length, 1);
  }
  assert.match(charts[0].svg, /p99 latency \(lower is better\) · log scale/);
});

Deno.test("renderCharts() draws nothing when nothing was measured", () => {
  const report = fakeReport();
  assert.deepEqual(renderCharts({ ...report, cells: [] }), []);
});

Deno.test("niceTicks() steps by 1, 2 or 5 × 10ⁿ and covers the maximum", () => {
  assert.deepEqual(niceTicks(0, 43), [0, 10, 20, 30, 40, 50]);
  assert.deepEqual(niceTicks(0, 98_000), [0, 20_000, 40_000, 60_000, 80_000, 100_000]);
  assert.deepEqual(niceTicks(0, 0.9), [0, 0.2, 0.4, 0.6, 0.8, 1]);
});
