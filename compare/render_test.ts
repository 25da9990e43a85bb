import assert from "node:assert/strict";
import { fakeReport } from "./_test_fixtures.ts";
import { CSV_COLUMNS, renderCsv } from "./render_csv.ts";
import { renderJson } from "./render_json.ts";
import { renderMarkdown } from "./render_markdown.ts";
import { drawGrid, renderTable } from "./render_table.ts";
import { renderHtml } from "./report_html.ts";
import { renderCharts } from "./chart_svg.ts";
import { headlineGrid } from "./tables.ts";

const GOLDEN = new URL("../fixtures/compare/", import.meta.url);

/** Compares with a golden file; `UPDATE_GOLDEN=1 deno test -A compare/` rewrites them. */
async function golden(name: string, actual: string): Promise<void> {
  const url = new URL(name, GOLDEN);
  if (Deno.env.get("UPDATE_GOLDEN") === "1") await Deno.writeTextFile(url, actual);
  assert.equal(actual, await Deno.readTextFile(url), `differs from fixtures/compare/${name}`);
}

Deno.test("renderMarkdown() matches the golden report", async () => {
  await golden("report.md", renderMarkdown(fakeReport()));
});

Deno.test("renderCsv() matches the golden CSV, one row per plan × server", async () => {
  const csv = renderCsv(fakeReport());
  await golden("results.csv", csv);
  const lines = csv.trimEnd().split("\n");
  assert.equal(lines[0], CSV_COLUMNS.join(","));
  assert.equal(lines.length, 1 + 2 * 3);
  assert.ok(lines.every((l) => l.split(",").length >= CSV_COLUMNS.length));
});

Deno.test("renderJson() matches the golden document and parses back", async () => {
  const json = renderJson(fakeReport());
  await golden("results.json", json);
  const doc = JSON.parse(json);
  assert.deepEqual([doc.schema, doc.schemaVersion], ["echokit/compare-report", 1]);
  assert.deepEqual(Object.keys(doc), [
    "schema",
    "schemaVersion",
    "meta",
    "scenarios",
    "servers",
    "cells",
    "runs",
  ]);
  assert.equal(doc.runs[0].result.intervals, undefined, "series are left out by default");
});

Deno.test("renderTable() shows the JMeter headline figures per plan and server", () => {
  const text = renderTable(fakeReport());
  assert.match(
    text,
    /plan1 +1000000 in 00:00:20 = 50000\.0\/s Avg: 19 +skipped¹ +1000000 in 00:00:40 = 25000\.0\/s Avg: 39 Err: 25/,
  );
  // The median-rate run of three: 1e6 in 11 s.
  assert.match(text, /plan2 +1000000 in 00:00:11 = 90909\.1\/s Avg: 1 /);
  assert.match(text, /¹ blocking: Mode "blocking" is not built yet/);
  assert.match(text, /stream +90909 ±\d+% +1\.00×/);
  assert.match(text, /py-streams: memory guard: capped/);
});

Deno.test("drawGrid() aligns columns by code points, not UTF-16 units", () => {
  const text = drawGrid({
    title: "t",
    header: ["a", "µs"],
    rows: [["x×", "1"], ["y", "22"]],
    align: ["l", "r"],
    notes: [],
  });
  assert.deepEqual(text.split("\n").slice(1), ["a   µs", "──  ──", "x×   1", "y   22"]);
});

Deno.test("headlineGrid() marks each skip reason once with a footnote", () => {
  const grid = headlineGrid(fakeReport());
  assert.deepEqual(grid.notes, ['¹ blocking: Mode "blocking" is not built yet']);
});

Deno.test("renderHtml() embeds the charts and needs no external resource", () => {
  const report = fakeReport();
  const html = renderHtml(report, renderCharts(report));
  assert.match(html, /^<!doctype html>/);
  assert.match(html, /<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.doesNotMatch(html, /<(script|link|img)\b|src=|href=/);
  assert.match(html, /<td>1000000 in 00:00:20 = 50000\.0\/s Avg: 19<\/td>/);
});
