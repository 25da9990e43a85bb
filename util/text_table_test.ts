import assert from "node:assert/strict";
import { alignRows } from "./text_table.ts";

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
