/**
 * Reading the commands of the project's documents: fenced blocks, the
 * command lines of shell blocks with the output shown under them, and words
 * split as `sh` splits them. The pages read are the README and every page in
 * `docs/`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";

/** The documents whose shell blocks are checked, relative to the repository root. */
export async function docPages(root: string): Promise<{ file: string; text: string }[]> {
  const files = ["README.md"];
  for await (const entry of Deno.readDir(join(root, "docs"))) {
    if (entry.isFile && entry.name.endsWith(".md")) files.push(`docs/${entry.name}`);
  }
  files.sort((a, b) => (a === "README.md" ? -1 : b === "README.md" ? 1 : a.localeCompare(b)));
  return await Promise.all(
    files.map(async (file) => ({ file, text: await Deno.readTextFile(join(root, file)) })),
  );
}

/** One command line of a shell block, with the comment lines right below it. */
export interface DocCommand {
  /** The command as typed, continuation lines joined, trailing comment removed. */
  line: string;
  /** The `# …` lines directly after it (its shown output, where the map says so). */
  after: string[];
}

/** A fenced block: its language tag and its lines, indentation removed. */
export interface Block {
  lang: string;
  lines: string[];
}

export function fencedBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    // The language tag, then maybe more of the info string (```ts ignore).
    const open = /^( *)```(\S*)(?:\s+\S.*)?\s*$/.exec(lines[i]);
    if (!open) continue;
    const indent = open[1].length;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !new RegExp(`^ {${indent}}\`\`\`\\s*$`).test(lines[j])) {
      body.push(lines[j].slice(Math.min(indent, lines[j].length - lines[j].trimStart().length)));
      j++;
    }
    assert.ok(j < lines.length, `the block opened on line ${i + 1} is never closed`);
    blocks.push({ lang: open[2], lines: body });
    i = j;
  }
  return blocks;
}

/** The fence tags of shell blocks. */
export const SHELL_LANGS = new Set(["sh", "bash", "shell", "console"]);

/** Removes a `# comment` that starts outside quotes after whitespace. */
export function stripComment(line: string): string {
  let quote = "";
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = "";
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === "\\") {
      i++;
    } else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]))) {
      return line.slice(0, i).trimEnd();
    }
  }
  return line.trimEnd();
}

export function docCommands(markdown: string): DocCommand[] {
  const commands: DocCommand[] = [];
  for (const block of fencedBlocks(markdown).filter((b) => SHELL_LANGS.has(b.lang))) {
    let last: DocCommand | undefined;
    for (let i = 0; i < block.lines.length; i++) {
      let text = block.lines[i].trim();
      if (text === "") {
        last = undefined;
        continue;
      }
      if (text.startsWith("#")) {
        // Output shown under a command, or a note between commands: never a command.
        last?.after.push(text.replace(/^# ?/, ""));
        continue;
      }
      while (text.endsWith("\\") && i + 1 < block.lines.length) {
        text = text.slice(0, -1).trimEnd() + " " + block.lines[++i].trim();
      }
      last = { line: stripComment(text), after: [] };
      commands.push(last);
    }
  }
  return commands;
}

/** Splits a command line into words as `sh` would (quotes, backslashes; no expansions). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote = "";
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = "";
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = "";
      else if (c === "\\" && '"\\$`'.includes(line[i + 1])) word += line[++i];
      else word += c;
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word ??= "";
      if (c === "'" || c === '"') quote = c;
      else if (c === "\\") word += line[++i];
      else word += c;
    }
  }
  assert.equal(quote, "", `unbalanced quotes in ${JSON.stringify(line)}`);
  if (word !== undefined) words.push(word);
  return words;
}

/**
 * A pattern for a line of output shown in the README: the text literally, any
 * number where it shows one (with any padding before it), anything for "…".
 */
export function shapeOf(shown: string): RegExp {
  const parts = shown.split(/(\d+(?:\.\d+)?|…)/);
  const source = parts.map((part, i) => {
    if (i % 2 === 1) return part === "…" ? ".*" : "\\d+(?:\\.\\d+)?";
    return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/ +$/, " *");
  }).join("");
  return new RegExp(`^${source}$`);
}

export function assertShows(shown: string[], mode: "shape" | "exact", output: string): void {
  assert.ok(shown.length > 0, "the map says this command shows output, but the README shows none");
  const lines = output.split("\n").map((l) => l.trimEnd());
  for (const line of shown) {
    const ok = mode === "exact" ? lines.includes(line) : lines.some((l) => shapeOf(line).test(l));
    assert.ok(ok, `the README shows ${JSON.stringify(line)}, the command printed:\n${output}`);
  }
}
