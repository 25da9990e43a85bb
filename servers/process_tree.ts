/**
 * A process's descendants: on Linux read straight from `/proc` (a scan of
 * every `/proc/<pid>/stat` for its parent pid, no child process spawned);
 * elsewhere (macOS) through the npm package `pidtree`, which runs `ps`.
 *
 * @module
 */
import { readProcStat } from "./proc_stats.ts";

/** Options for {@linkcode descendants}. */
export interface DescendantsOptions {
  /** How to find them: `proc` (Linux), `pidtree` (runs `ps`). @default {"proc" on Linux, else "pidtree"} */
  method?: "proc" | "pidtree";
}

/**
 * Every descendant of `pid` (children, their children, …), not `pid` itself.
 *
 * @param pid The root process.
 * @param options How to find them.
 * @returns The descendants' pids, in no particular order; empty when the root has none or is gone.
 * @throws {Error} When the process table cannot be read at all (no `/proc`, no `ps`).
 *
 * @example Usage
 * ```ts ignore
 * import { descendants } from "./process_tree.ts";
 * console.log(await descendants(Deno.pid));
 * ```
 */
export async function descendants(
  pid: number,
  options: DescendantsOptions = {},
): Promise<number[]> {
  const method = options.method ?? (Deno.build.os === "linux" ? "proc" : "pidtree");
  if (method === "proc") return procDescendants(pid);
  // Imported on use: a `serve` process loads this module through mod.ts and
  // should not carry an npm package it never calls.
  const { default: pidtree } = await import("pidtree");
  const found = await pidtree(pid) as number[];
  // pidtree lists the `ps` it ran, a child of ours: drop our own pid's tree of one.
  return found.filter((p) => p !== Deno.pid && !isPs(p));
}

function isPs(pid: number): boolean {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/comm`).trim() === "ps";
  } catch {
    return false;
  }
}

function procDescendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    // A process may exit between the listing and the read: skip it.
    const st = readProcStat(Number(entry.name));
    if (!st) continue;
    const list = children.get(st.ppid);
    if (list) list.push(st.pid);
    else children.set(st.ppid, [st.pid]);
  }
  const out: number[] = [];
  const queue = [root];
  const seen = new Set<number>([root]);
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      if (seen.has(child)) continue;
      seen.add(child);
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}
