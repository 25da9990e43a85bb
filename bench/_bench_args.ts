/**
 * Flags of `deno task bench`.
 *
 * @module
 */
import {
  checkOutputPath,
  numberFlag,
  oneOf,
  type OptionSpecs,
  parseDuration,
  parseFlags,
  parseList,
  parseNumber,
} from "../cli/args.ts";
import { UsageError } from "../util/errors.ts";
import { MODES } from "../servers/types.ts";
import { SHIPPED_PEERS } from "../compare/peers.ts";

/** The native reference server's name in tables and `--servers`. */
export const NATIVE_SERVER = "c-epoll";

/** `serve --mode protocol --engine node`: the protocol mode on `node:net`, beside its own loop. */
export const PROTOCOL_NODE_SERVER = "protocol-node";

/** `serve --mode stream --engine deno`: the stream mode on `Deno.Conn`, beside its own loop. */
export const STREAM_DENO_SERVER = "stream-deno";

/** `serve --mode uring --batch-wait 0`: what the batched wait buys, beside `uring`. Named only. */
export const URING_NOBATCH_SERVER = "uring-nobatch";

/**
 * echokit's generators the bench can measure beside the C client:
 * `load --engine poll`, `--engine uring`, and `--engine uring` with one-shot
 * recvs (as on a kernel before 6.0: `ECHOKIT_IO_URING_NO_MULTISHOT_RECV=1`).
 */
export const ECHOKIT_GENERATORS = ["echokit", "echokit-uring", "echokit-uring-oneshot"] as const;

/** One of {@linkcode ECHOKIT_GENERATORS}. */
export type EchokitGenerator = typeof ECHOKIT_GENERATORS[number];

/** Every server `bench` runs by default, in table order: ours, the Python and Node peers, C. */
export const BENCH_SERVERS: readonly string[] = [
  ...MODES,
  STREAM_DENO_SERVER,
  PROTOCOL_NODE_SERVER,
  ...SHIPPED_PEERS.map((p) => p.name),
  NATIVE_SERVER,
];

/** How server and client are placed on CPUs. */
export type PinMode = "none" | "split" | "same";

/** The pinning modes, for `--pin`. */
export const PIN_MODES: readonly PinMode[] = ["none", "split", "same"];

/** What `deno task bench` was asked to do. */
export interface BenchOptions {
  /** Shorter cells, one repeat (unless `--repeat`/`--duration` say otherwise). */
  quick: boolean;
  /** Times each cell runs; cells of one repeat are interleaved across servers. */
  repeat: number;
  /** Connection counts of the server matrix. */
  connections: number[];
  /** Measured window per cell, ms. */
  durationMs: number;
  /** Run only one of the two matrices. */
  only?: "servers" | "loadgen";
  /** Write every figure to this JSON file. */
  json?: string;
  /** Message size, bytes. */
  size: number;
  /** Servers to run (names from {@linkcode BENCH_SERVERS}). */
  servers: string[];
  /** echokit's generators in the generator table (the C client always runs). */
  generators: EchokitGenerator[];
  /**
   * CPU pinning: `none` lets the scheduler place server and client; `split`
   * pins the server (all threads) to CPU 0 and the client to CPU 1; `same`
   * pins both to CPU 1 (pure CPU cost, no cross-CPU wake-ups).
   */
  pin: PinMode;
  /** Count syscalls per message with perf (one extra short pass per cell, first repeat). */
  syscalls: boolean;
}

/** Help text of `deno task bench`. */
export const BENCH_HELP: string =
  `Usage: deno task bench [--quick] [--repeat N] [--connections 1,100,1000] [--duration S]
                       [--only servers|loadgen] [--json FILE] [options]

Measures echokit's servers and load generator against native C epoll references
and the Python/Node peers on this machine, and prints ratios with spreads.
Servers are driven by a native C epoll client, so their figures do not depend on
echokit's own generator. A benchmark: it prints numbers, it never fails on them.

Options:
  --quick              2 s cells, 1 repeat (default: 5 s cells, 3 repeats)
  --repeat N           repeats of every cell, interleaved across servers
  --connections LIST   connection counts of the server matrix (default: 1,100,1000)
  --duration TIME      measured window per cell (bare number: seconds)
  --only WHAT          servers or loadgen (default: both)
  --servers LIST       servers to run (default: all of ${BENCH_SERVERS.join(",")};
                       also ${URING_NOBATCH_SERVER}: uring with --batch-wait 0)
  --generators LIST    echokit's generators beside the C client (default: echokit,echokit-uring;
                       also echokit-uring-oneshot: uring with one-shot recvs, as before Linux 6.0)
  --size BYTES         message size (default: 64)
  --json FILE          also write every figure as JSON
  --pin MODE           none (default), split (server CPU 0, client CPU 1) or same (both CPU 1)
  --no-syscalls        skip the perf pass that counts syscalls per message
  -h, --help           show this help`;

/** The flags of `deno task bench`, as {@linkcode parseFlags} takes them. */
export const BENCH_FLAGS: OptionSpecs = {
  quick: { type: "boolean" },
  repeat: { type: "string" },
  connections: { type: "string" },
  duration: { type: "string" },
  only: { type: "string" },
  servers: { type: "string" },
  generators: { type: "string" },
  size: { type: "string" },
  json: { type: "string" },
  pin: { type: "string" },
  "no-syscalls": { type: "boolean" },
};

/**
 * Parses `bench` flags.
 *
 * @param args Command-line arguments.
 * @returns The options, or `"help"` when help was asked for.
 * @throws {UsageError} On an unknown flag or a value out of range.
 *
 * @example Usage
 * ```ts
 * import { parseBenchArgs } from "./_bench_args.ts";
 * const options = parseBenchArgs(["--quick", "--connections", "100"]);
 * console.log(options !== "help" && options.connections); // [100]
 * ```
 */
export function parseBenchArgs(args: string[]): BenchOptions | "help" {
  const { values } = parseFlags(args, BENCH_FLAGS);
  if (values.help) return "help";
  const quick = values.quick === true;
  const connections = values.connections === undefined
    ? [1, 100, 1000]
    : parseList("--connections", String(values.connections)).map((c) =>
      parseNumber("--connections", c, { min: 1, max: 50000 })
    );
  const durationMs = values.duration === undefined
    ? (quick ? 2000 : 5000)
    : parseDuration("--duration", String(values.duration), "s");
  if (durationMs < 200 || durationMs > 3_600_000) {
    throw new UsageError(`Invalid --duration "${values.duration}" (use 0.2s to 1h)`);
  }
  if (values.json !== undefined) checkOutputPath("--json", String(values.json));
  const servers = values.servers === undefined
    ? [...BENCH_SERVERS]
    : parseList("--servers", String(values.servers)).map((s) =>
      oneOf("--servers", s, [...BENCH_SERVERS, URING_NOBATCH_SERVER])
    );
  const generators = values.generators === undefined
    ? ["echokit", "echokit-uring"] as EchokitGenerator[]
    : parseList("--generators", String(values.generators)).map((g) =>
      oneOf("--generators", g, ECHOKIT_GENERATORS)
    );
  return {
    quick,
    repeat: numberFlag(values, "repeat", { min: 1, max: 100 }) ?? (quick ? 1 : 3),
    connections: [...new Set(connections)],
    durationMs,
    only: values.only === undefined
      ? undefined
      : oneOf("--only", String(values.only), ["servers", "loadgen"] as const),
    json: values.json === undefined ? undefined : String(values.json),
    size: numberFlag(values, "size", { min: 1, max: 1 << 20 }) ?? 64,
    servers: [...new Set(servers)],
    generators: [...new Set(generators)],
    pin: values.pin === undefined ? "none" : oneOf("--pin", String(values.pin), PIN_MODES),
    syscalls: values["no-syscalls"] !== true,
  };
}
