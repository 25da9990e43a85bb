import assert from "node:assert/strict";
import { alignRows, displayWidth } from "./text_table.ts";

Deno.test("alignRows() pads each column to its widest cell, by code points, two spaces apart", () => {
  const { lines, widths } = alignRows(
    [["mode", "µs/msg", "note"], ["nonblocking", "3.9", ""], ["c", "12.25", "×2"]],
    (i) => i === 1 ? "r" : "l",
  );
  assert.deepEqual(widths, [11, 6, 4]);
  assert.deepEqual(lines, [
    "mode         µs/msg  note",
    "nonblocking     3.9",
    "c             12.25  ×2",
  ]);
});

Deno.test("alignRows() of no rows is empty", () => {
  assert.deepEqual(alignRows([], () => "l"), { lines: [], widths: [] });
});

Deno.test("alignRows aligns CJK and emoji labels by display width", () => {
  const { lines, widths } = alignRows([
    ["label", "rate"],
    ["東京サーバー", "10"],
    ["🚀 fast", "200"],
    ["plain", "3"],
  ], (i) => i === 0 ? "l" : "r");
  assert.deepEqual(widths, [12, 4]);
  // Every rate ends in the same terminal column.
  const ends = lines.map((l) => displayWidth(l));
  assert.deepEqual(ends, [18, 18, 18, 18], lines.join("\n"));
  assert.equal(lines[1], "東京サーバー    10");
  assert.equal(lines[2], "🚀 fast        200");
});

Deno.test("displayWidth counts wide characters as two columns and marks as none", () => {
  assert.equal(displayWidth("abc"), 3);
  assert.equal(displayWidth("東京"), 4);
  assert.equal(displayWidth("👍"), 2);
  assert.equal(displayWidth("e\u0301"), 1);
});
