/**
 * Soak: each mode serves a steady load for a while in its own process, its
 * RSS sampled every few seconds. A server that leaks per request or per
 * connection shows a rising slope; a healthy one goes flat after warm-up.
 *
 * The load is built in: `connections` clients doing closed-loop round trips
 * of a 64-byte message (every echo checked), each reconnecting every
 * `reconnectEvery` round trips so connection setup and teardown are soaked too.
 *
 * Each server runs with V8's young generation capped (`--semi-space-mb`,
 * default {@linkcode SOAK_SEMI_SPACE_MB} MiB per semi-space). Left to itself,
 * V8 doubles the young generation in steps, up to a limit sized from the
 * machine's memory, as long as objects keep surviving scavenges, which under a steady
 * load takes many minutes (and its memory reducer may shrink it back): RSS
 * steps of 3 to 13 MiB each in our `stream` soaks, which a soak would take for
 * a leak. Capped, the young generation reaches its size within seconds.
 *
 * Run: `deno task soak [--minutes 10] [--modes stream,protocol] [--connections 32]
 * [--reconnect-every 1000]` (the minutes are shared by the modes);
 * `--reconnect-every 1` opens a connection per round trip, a soak of connection churn.
 *
 * @module
 */
import { schemaTag } from "../util/schema.ts";
import {
  checkOutputPath,
  type Command,
  numberFlag,
  type OptionSpecs,
  parseFlags,
  parseNumber,
} from "../cli/args.ts";
import { EchokitError, UsageError } from "../util/errors.ts";
import { writeFileAtomic } from "../util/atomic_write.ts";
import { alignRows } from "../util/text_table.ts";
import { startServerProcess } from "../servers/child.ts";
import { readExactly, rssBytes, writeAll } from "../servers/testing.ts";
import { type Mode, MODES } from "../servers/types.ts";

/** Options for {@linkcode soakMode}. */
export interface SoakOptions {
  /** How long to soak, seconds. */
  seconds: number;
  /** Concurrent clients. @default {32} */
  connections?: number;
  /** RSS sampling period, seconds. @default {5} */
  sampleEvery?: number;
  /** Round trips per connection before it reconnects. @default {1000} */
  reconnectEvery?: number;
  /**
   * Round trips per second across all clients, paced; unset runs closed-loop
   * flat out. A paced soak leaves CPU for the other modes of a parallel soak.
   */
  rate?: number;
  /** Extra `serve` flags. */
  serveArgs?: string[];
  /**
   * Caps the server's V8 old generation, MiB (`DENO_V8_FLAGS=--max-old-space-size`).
   * V8 collects its old generation lazily, growing toward a limit sized from
   * the machine's memory, which a short soak can mistake for a leak; under a
   * cap, garbage is collected and only a real leak keeps growing (and ends in
   * an out-of-memory exit, counted as an error).
   */
  heapMb?: number;
  /**
   * Caps each of the server's two V8 semi-spaces (its young generation), MiB
   * (`DENO_V8_FLAGS=--max-semi-space-size`), so V8's step-wise growth of it
   * cannot pass for a leak; 0 leaves V8's own sizing.
   *
   * @default {SOAK_SEMI_SPACE_MB}
   */
  semiSpaceMb?: number;
  /** Called with each sample (progress). */
  onSample?: (sample: RssSample) => void;
}

/** One RSS reading. */
export interface RssSample {
  /** Seconds since the soak started. */
  seconds: number;
  /** Server RSS, bytes. */
  rssBytes: number;
  /** Round trips completed so far. */
  roundTrips: number;
}

/** What one mode's soak measured. */
export interface SoakResult {
  /** The mode. */
  mode: Mode;
  /** Seconds soaked. */
  seconds: number;
  /** Round trips completed (every echo checked). */
  roundTrips: number;
  /** Connections opened. */
  connections: number;
  /** Failed round trips. */
  errors: number;
  /** The first failure, if any. */
  firstError?: string;
  /** RSS at the first sample, bytes. */
  startRssBytes: number;
  /** Highest RSS sampled, bytes. */
  peakRssBytes: number;
  /** RSS at the last sample, bytes. */
  endRssBytes: number;
  /** Least-squares RSS slope after the first fifth (warm-up), MiB per minute. */
  slopeMiBPerMinute: number;
  /** Whether RSS was flat after warm-up: |slope| at most {@linkcode FLAT_MIB_PER_MINUTE}. */
  flat: boolean;
  /** Every sample. */
  samples: RssSample[];
}

const MESSAGE_SIZE = 64;

/** The RSS slope after warm-up, MiB per minute, below which a soak counts as flat. */
export const FLAT_MIB_PER_MINUTE = 1;

/**
 * The soak's default cap on each V8 semi-space of a server, MiB: the young
 * generation V8 starts with grows to it within seconds of load.
 */
export const SOAK_SEMI_SPACE_MB = 2;

/**
 * The `DENO_V8_FLAGS` value a soaked server runs with (V8 takes a
 * comma-separated list there).
 *
 * @param heapMb Old-generation cap, MiB; unset or 0 for none.
 * @param semiSpaceMb Semi-space cap, MiB; 0 for none. @default {SOAK_SEMI_SPACE_MB}
 * @returns The flags, or undefined when there are none.
 *
 * @example Usage
 * ```ts
 * import { soakV8Flags } from "./soak.ts";
 * console.log(soakV8Flags(32, 2)); // --max-old-space-size=32,--max-semi-space-size=2
 * ```
 */
export function soakV8Flags(
  heapMb?: number,
  semiSpaceMb: number = SOAK_SEMI_SPACE_MB,
): string | undefined {
  const flags: string[] = [];
  if (heapMb) flags.push(`--max-old-space-size=${heapMb}`);
  if (semiSpaceMb) flags.push(`--max-semi-space-size=${semiSpaceMb}`);
  return flags.length ? flags.join(",") : undefined;
}

/**
 * Soaks one mode: starts it as a child process, drives the steady load,
 * samples its RSS, stops it.
 *
 * @param mode The mode.
 * @param options How long and how hard.
 * @returns The figures.
 * @throws {EchokitError} When the server cannot start.
 *
 * @example Usage
 * ```ts ignore
 * import { soakMode } from "./soak.ts";
 * const r = await soakMode("stream", { seconds: 60 });
 * console.log(r.peakRssBytes, r.slopeMiBPerMinute);
 * ```
 */
export async function soakMode(mode: Mode, options: SoakOptions): Promise<SoakResult> {
  const connections = options.connections ?? 32;
  const sampleEvery = options.sampleEvery ?? 5;
  const reconnectEvery = options.reconnectEvery ?? 1000;
  const v8Flags = soakV8Flags(options.heapMb, options.semiSpaceMb);
  const server = await startServerProcess({
    mode,
    args: options.serveArgs,
    env: v8Flags ? { DENO_V8_FLAGS: v8Flags } : undefined,
  });
  const started = performance.now();
  const end = started + options.seconds * 1000;
  let roundTrips = 0;
  let opened = 0;
  let errors = 0;
  let firstError: string | undefined;
  const samples: RssSample[] = [];
  const sample = () => {
    const rss = rssBytes(server.pid);
    if (rss === undefined) return;
    const s = { seconds: (performance.now() - started) / 1000, rssBytes: rss, roundTrips };
    samples.push(s);
    options.onSample?.(s);
  };

  // Paced clients share the rate; each keeps its own schedule, never sends
  // early and never catches up: a client that fell behind (a slow server, a
  // paused VM) resumes from now, so the load stays steady rather than bursting.
  const interval = options.rate ? 1000 * connections / options.rate : 0;

  async function client(id: number): Promise<void> {
    let next = performance.now() + interval * id / connections;
    const msg = new TextEncoder().encode(`soak ${id} `.padEnd(MESSAGE_SIZE - 1, ".") + "\n");
    while (performance.now() < end) {
      let conn: Deno.TcpConn | undefined;
      try {
        conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
        opened++;
        for (let i = 0; i < reconnectEvery && performance.now() < end; i++) {
          if (interval > 0) {
            const wait = next - performance.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            next = Math.max(next + interval, performance.now());
          }
          // A short write would leave the echo waiting for bytes never sent.
          await writeAll(conn, msg);
          const back = await readExactly(conn, MESSAGE_SIZE);
          if (!back.every((b, j) => b === msg[j])) throw new Error("Echo mismatch");
          roundTrips++;
        }
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
        await new Promise((r) => setTimeout(r, 100));
      } finally {
        conn?.close();
      }
    }
  }

  sample();
  const sampler = setInterval(sample, sampleEvery * 1000);
  try {
    await Promise.all(Array.from({ length: connections }, (_, i) => client(i)));
    sample();
  } finally {
    clearInterval(sampler);
    const status = await server.stop();
    if (status.code !== 0) {
      errors++;
      firstError ??= `server exited ${status.code}: ${server.stderr().trim().split("\n").pop()}`;
    }
  }
  const rss = samples.map((s) => s.rssBytes);
  const slopeMiBPerMinute = slope(samples.slice(Math.floor(samples.length / 5)));
  return {
    mode,
    seconds: (performance.now() - started) / 1000,
    roundTrips,
    connections: opened,
    errors,
    firstError,
    startRssBytes: rss[0] ?? NaN,
    peakRssBytes: rss.length ? Math.max(...rss) : NaN,
    endRssBytes: rss[rss.length - 1] ?? NaN,
    slopeMiBPerMinute,
    flat: Math.abs(slopeMiBPerMinute) <= FLAT_MIB_PER_MINUTE,
    samples,
  };
}

/** Least-squares slope of RSS over time, MiB per minute; NaN with fewer than 3 samples. */
function slope(samples: RssSample[]): number {
  if (samples.length < 3) return NaN;
  const xs = samples.map((s) => s.seconds / 60);
  const ys = samples.map((s) => s.rssBytes / (1024 * 1024));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/**
 * Formats soak results as a table, one row per mode.
 *
 * @param results The results.
 * @returns The table.
 *
 * @example Usage
 * ```ts ignore
 * console.log(formatSoak([await soakMode("stream", { seconds: 60 })]));
 * ```
 */
export function formatSoak(results: SoakResult[]): string {
  const mib = (b: number) => (b / (1024 * 1024)).toFixed(1);
  const rows = [[
    "mode",
    "seconds",
    "round trips",
    "rt/s",
    "conns",
    "errors",
    "start MiB",
    "peak MiB",
    "end MiB",
    "slope MiB/min",
    "RSS",
  ]];
  for (const r of results) {
    rows.push([
      r.mode,
      r.seconds.toFixed(0),
      String(r.roundTrips),
      (r.roundTrips / r.seconds).toFixed(0),
      String(r.connections),
      String(r.errors),
      mib(r.startRssBytes),
      mib(r.peakRssBytes),
      mib(r.endRssBytes),
      Number.isNaN(r.slopeMiBPerMinute) ? "-" : r.slopeMiBPerMinute.toFixed(2),
      Number.isNaN(r.slopeMiBPerMinute)
        ? "-"
        : r.flat
        ? "flat"
        : r.slopeMiBPerMinute > 0
        ? "rising"
        : "falling",
    ]);
  }
  return alignRows(rows, (i) => i === 0 ? "l" : "r").lines.join("\n");
}

const HELP = `Usage: deno task soak [--minutes M] [--modes LIST] [options]

Serves a steady load from each mode, sampling the server's RSS, and prints
start/peak/end RSS and the slope after warm-up (flat = |slope| <= ${FLAT_MIB_PER_MINUTE} MiB/min).

Options:
  --minutes M        soak time: shared by the modes in turn, or each mode's
                     whole time with --parallel (default: 10)
  --parallel         soak every mode at the same time, each for M minutes
  --rate N           round trips/s per mode, paced (default: flat out)
  --heap-mb MB       cap each server's V8 old generation, so lazy GC cannot
                     pass for a leak (default: V8's own limit)
  --semi-space-mb MB cap each server's V8 semi-spaces (young generation), so
                     V8 growing it in steps cannot pass for a leak; 0 for V8's
                     own sizing (default: ${SOAK_SEMI_SPACE_MB})
  --modes LIST       comma-separated modes (default: every mode that starts)
  --connections N    concurrent clients (default: 32)
  --reconnect-every N
                     round trips per connection before it reconnects; 1 soaks
                     connection churn (default: 1000)
  --sample-every S   seconds between RSS samples (default: 5)
  --json FILE        also write the results (with every sample) as JSON
  -h, --help         show this help`;

/** The flags of `deno task soak`, as {@linkcode parseFlags} takes them. */
export const SOAK_FLAGS: OptionSpecs = {
  minutes: { type: "string" },
  modes: { type: "string" },
  connections: { type: "string" },
  "sample-every": { type: "string" },
  json: { type: "string" },
  parallel: { type: "boolean" },
  rate: { type: "string" },
  "heap-mb": { type: "string" },
  "reconnect-every": { type: "string" },
  "semi-space-mb": { type: "string" },
};

/** The soak script as a command (exit code 1 when any round trip failed). */
export const soakCommand: Command = {
  name: "soak",
  summary: "steady-load soak per mode with RSS samples",
  help: HELP,
  async run(args: string[]): Promise<number> {
    const { values } = parseFlags(args, SOAK_FLAGS);
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const minutes = values.minutes === undefined
      ? 10
      : parseNumber("--minutes", String(values.minutes), {
        min: 0.05,
        max: 24 * 60,
        fraction: true,
      });
    const explicit = values.modes !== undefined;
    const modes = explicit ? String(values.modes).split(",").map((m) => m.trim()) : [...MODES];
    for (const m of modes) {
      if (!(MODES as readonly string[]).includes(m)) {
        throw new UsageError(
          `Invalid --modes "${values.modes}" (use a list of ${MODES.join(", ")})`,
        );
      }
    }
    const connections = numberFlag(values, "connections", { min: 1, max: 10_000 }) ?? 32;
    if (values.json !== undefined) checkOutputPath("--json", String(values.json));
    const sampleEvery = values["sample-every"] === undefined ? 5 : parseNumber(
      "--sample-every",
      String(values["sample-every"]),
      { min: 0.1, max: 600, fraction: true },
    );
    const rate = numberFlag(values, "rate", { min: 1, max: 10_000_000 });
    const heapMb = numberFlag(values, "heap-mb", { min: 16, max: 65_536 });
    const reconnectEvery = numberFlag(values, "reconnect-every", { min: 1 }) ?? 1000;
    const semiSpaceMb = numberFlag(values, "semi-space-mb", { min: 0, max: 1024 }) ??
      SOAK_SEMI_SPACE_MB;
    const parallel = values.parallel === true;
    // A mode that is not built (or cannot run here) is skipped unless asked
    // for by name; find out first so the others share the whole time.
    const runnable: Mode[] = [];
    for (const mode of modes as Mode[]) {
      try {
        await (await startServerProcess({ mode })).stop();
        runnable.push(mode);
      } catch (err) {
        if (explicit || !(err instanceof EchokitError)) throw err;
        console.error(`soak: skipping ${mode}: ${err.message.trim().split("\n").pop()}`);
      }
    }
    const seconds = parallel ? minutes * 60 : minutes * 60 / Math.max(1, runnable.length);
    // What each server runs with: ours replace an inherited DENO_V8_FLAGS.
    const v8Flags = soakV8Flags(heapMb, semiSpaceMb);
    const soak = (mode: Mode) => {
      console.error(
        `soak: ${mode} for ${seconds.toFixed(0)} s, ${connections} connections, ${
          rate ? `${rate} round trips/s` : "flat out"
        }, reconnecting every ${reconnectEvery} round trips, DENO_V8_FLAGS=${
          v8Flags ?? Deno.env.get("DENO_V8_FLAGS") ?? "(unset)"
        }`,
      );
      return soakMode(mode, {
        seconds,
        connections,
        sampleEvery,
        rate,
        heapMb,
        reconnectEvery,
        semiSpaceMb,
        onSample: (s) =>
          console.error(
            `soak: ${mode} t=${s.seconds.toFixed(0)}s rss=${
              (s.rssBytes / 1048576).toFixed(1)
            }MiB rt=${s.roundTrips}`,
          ),
      });
    };
    const results: SoakResult[] = [];
    if (parallel) results.push(...await Promise.all(runnable.map(soak)));
    else for (const mode of runnable) results.push(await soak(mode));
    console.log(formatSoak(results));
    if (values.json !== undefined) {
      await writeFileAtomic(
        String(values.json),
        JSON.stringify({ ...schemaTag("soak", 1), results }, null, 2) + "\n",
        {
          what: "--json",
        },
      );
    }
    return results.some((r) => r.errors > 0) ? 1 : 0;
  },
};

if (import.meta.main) {
  try {
    Deno.exit(await soakCommand.run(Deno.args));
  } catch (err) {
    if (err instanceof UsageError || err instanceof EchokitError) {
      console.error(`error: ${err.message}`);
      Deno.exit(err.exitCode);
    }
    throw err;
  }
}
