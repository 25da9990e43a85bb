/**
 * Flag parsing shared by every subcommand and by the libraries that define
 * flags of their own (plan overrides, peers): `node:util` `parseArgs` in
 * strict mode, with every failure turned into a one-line
 * {@linkcode UsageError}.
 *
 * @module
 */
import { dirname } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./errors.ts";

export { parseDuration } from "./units.ts";

/** Option definitions, as `node:util` `parseArgs` takes them. */
export type OptionSpecs = NonNullable<ParseArgsConfig["options"]>;

/** Parsed flag values by name. */
export type FlagValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

/**
 * Parses flags strictly; an unknown flag or a missing value is a UsageError.
 *
 * @param args The arguments to parse.
 * @param options The flags allowed.
 * @param allowPositionals Whether bare words are allowed.
 * @returns Flag values and positionals.
 */
export function parseFlags(
  args: string[],
  options: OptionSpecs,
  allowPositionals = false,
): { values: FlagValues; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: joinNegativeValues(args, options),
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals,
    });
    return { values: values as FlagValues, positionals };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // parseArgs messages are already one sentence; drop its advice about "--".
    throw new UsageError(message.split(/\. |\n/)[0].replace(/\.$/, ""));
  }
}

// parseArgs calls `--port -1` ambiguous; join such values so the range check
// can say what is really wrong with them.
function joinNegativeValues(args: string[], options: OptionSpecs): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith("--") ? args[i].slice(2) : "";
    if (options[name]?.type === "string" && /^-\d/.test(args[i + 1] ?? "")) {
      out.push(`${args[i]}=${args[++i]}`);
    } else {
      out.push(args[i]);
    }
  }
  return out;
}

/** Bounds for a numeric flag. */
export interface NumberBounds {
  /** Smallest allowed value. */
  min?: number;
  /** Largest allowed value. */
  max?: number;
  /** Whether fractions are allowed. @default {false} */
  fraction?: boolean;
}

/**
 * Reads a numeric flag, checking its range.
 *
 * @param values Parsed flags.
 * @param name The flag's name without dashes.
 * @param bounds Range and integer-ness.
 * @returns The number, or undefined when the flag was not given.
 */
export function numberFlag(
  values: FlagValues,
  name: string,
  bounds: NumberBounds = {},
): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  return parseNumber(`--${name}`, String(raw), bounds);
}

/**
 * Parses a number given by the user, checking its range.
 *
 * @param what What the value is, for the message (`--port`).
 * @param raw The text given.
 * @param bounds Range and integer-ness.
 * @returns The number.
 */
export function parseNumber(what: string, raw: string, bounds: NumberBounds = {}): number {
  const { min = -Infinity, max = Infinity, fraction = false } = bounds;
  // Plain decimal only: Number() would also take "0x10", "0b1", " 5" and "Infinity".
  const n = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(raw) ? Number(raw) : NaN;
  const kind = fraction ? "a number" : "a whole number";
  const range = Number.isFinite(min) && Number.isFinite(max)
    ? ` from ${min} to ${max}`
    : Number.isFinite(min)
    ? ` of at least ${min}`
    : "";
  if (!Number.isFinite(n) || (!fraction && !Number.isInteger(n)) || n < min || n > max) {
    throw new UsageError(`Invalid ${what} "${raw}" (use ${kind}${range})`);
  }
  return n;
}

/**
 * Checks a flag's value against a fixed set of words.
 *
 * @param what What the value is, for the message (`--mode`).
 * @param raw The text given.
 * @param allowed The allowed words.
 * @returns The value, typed.
 */
export function oneOf<T extends string>(what: string, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new UsageError(`Invalid ${what} "${raw}" (use ${allowed.join(", ")})`);
  }
  return raw as T;
}

/**
 * Checks a host name or address given by the user: 1 to 255 characters, no
 * spaces or slashes, so a typo fails here rather than as a connect or bind
 * error after the run has started.
 *
 * @param what What the value is, for the message (`--host`).
 * @param raw The text given.
 * @returns The host.
 *
 * @example Usage
 * ```ts
 * import { parseHost } from "./args.ts";
 * console.log(parseHost("--host", "127.0.0.1")); // 127.0.0.1
 * ```
 */
export function parseHost(what: string, raw: string): string {
  if (!/^[^\s/]{1,255}$/.test(raw)) {
    throw new UsageError(`Invalid ${what} "${raw}" (use an address such as 127.0.0.1)`);
  }
  return raw;
}

/** Options for {@linkcode checkOutputPath}. */
export interface OutputPathOptions {
  /** Whether the path names a folder the run creates (else a file). @default {false} */
  folder?: boolean;
}

/**
 * Checks, before a run, that an output path given by a flag can be written:
 * not empty; a file path is not a folder and its folder exists; a folder path
 * is not a file and sits under a folder. Results are written at the end, so a
 * typo found then would cost the whole run.
 *
 * @param what What the value is, for the message (`--json`).
 * @param path The path given.
 * @param options Whether it names a folder.
 *
 * @example Usage
 * ```ts
 * import { checkOutputPath } from "./args.ts";
 * checkOutputPath("--json", "result.json");
 * checkOutputPath("--out", "report", { folder: true });
 * ```
 */
export function checkOutputPath(what: string, path: string, options: OutputPathOptions = {}): void {
  const kind = options.folder ? "folder" : "file";
  if (path === "") throw new UsageError(`Invalid ${what} "" (give a ${kind} path)`);
  const info = statOrUndefined(path);
  if (info && info.isDirectory !== (options.folder ?? false)) {
    throw new UsageError(
      `Cannot write ${what} "${path}": it is ${
        info.isDirectory ? "a folder" : "a file"
      } (give a ${kind} path)`,
    );
  }
  if (info) return;
  // A folder is created with its missing parents; a file needs its folder.
  let dir = dirname(path);
  while (options.folder && !statOrUndefined(dir) && dirname(dir) !== dir) dir = dirname(dir);
  const parent = statOrUndefined(dir);
  if (!parent?.isDirectory) {
    const why = parent ? `"${dir}" is not a directory` : `directory "${dir}" does not exist`;
    throw new UsageError(`Cannot write ${what} "${path}": ${why}`);
  }
}

function statOrUndefined(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Splits a comma-separated flag value. A blank item (`"a,,b"`, `"a,"`, `""`)
 * is an error, so a list that is empty by mistake never means "none".
 *
 * @param what What the value is, for the message (`--mode`).
 * @param raw The text given.
 * @returns The items, trimmed.
 *
 * @example Usage
 * ```ts
 * import { parseList } from "./args.ts";
 * console.log(parseList("--mode", "stream, protocol")); // ["stream", "protocol"]
 * ```
 */
export function parseList(what: string, raw: string): string[] {
  const items = raw.split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) {
    throw new UsageError(`Invalid ${what} "${raw}" (use a comma-separated list without blanks)`);
  }
  return items;
}
