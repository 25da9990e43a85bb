/**
 * The lab: echokit's benchmarks, profiles and stress harnesses. Nothing in
 * the product (`servers/`, `loadgen/`, `compare/`, `cli/`) imports this
 * folder; each file here is a script run by a `deno task`:
 *
 * - `bench.ts` (`deno task bench`): every server under the native C client.
 * - `bench_loadgen.ts` (`deno task bench:loadgen`): the load generator's engines.
 * - `profile.ts` (`deno task profile`): where each server's CPU goes.
 * - `soak.ts` (`deno task soak`): long runs, RSS over time.
 * - `adversarial.ts` (`deno task bench:adversarial`): hostile clients.
 * - `jtl_bench.ts`: JTL writer throughput (`deno bench`).
 * - `native/`: the C epoll echo server and ping-pong client the figures are measured against.
 *
 * @example Usage
 * ```sh
 * deno task bench --quick
 * ```
 *
 * @module
 */
export { BENCH_FLAGS, BENCH_HELP } from "./bench.ts";
