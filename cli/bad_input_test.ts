/**
 * Every flag of every command, given a wrong type, an out-of-range value, no
 * value or a bad combination: exit 2, nothing on stdout, and a one-line
 * `error: …` reason first on stderr that names the flag. Real subprocesses,
 * so a crash or a hang shows up as a wrong exit code.
 *
 * Each table is checked against its command's exported flag spec: a flag
 * added without a bad-input case here (or without a help line) fails.
 */
import assert from "node:assert/strict";
import type { OptionSpecs } from "./args.ts";
import { COMPARE_FLAGS, compareCommand, MERGE_FLAGS, MERGE_HELP } from "./compare.ts";
import { LOAD_FLAGS, loadCommand } from "./load.ts";
import { MAIN_FLAGS, USAGE } from "./main.ts";
import { PLANS_FLAGS, plansCommand } from "./plans.ts";
import { SERVE_FLAGS, serveCommand } from "./serve.ts";
import { BENCH_FLAGS, BENCH_HELP } from "../bench/bench.ts";
import { procAvailable } from "../loadgen/resource_monitor.ts";
import { SOAK_FLAGS, soakCommand } from "../bench/soak.ts";
import { type ChildOutput, runEchokit, runScript } from "../servers/testing.ts";

/** One bad invocation and what its reason must say. */
type Case = [args: string[], reason: RegExp];

/** A command, its declared flags and its bad invocations. */
interface Table {
  /** How the test names it. */
  name: string;
  /** What it declares (parseFlags adds `-h, --help`). */
  flags: OptionSpecs;
  /** Its help text, which must document every flag. */
  help: string;
  /** Runs it with these arguments. */
  run: (args: string[]) => Promise<ChildOutput>;
  /**
   * Harmless flags put in front of a case's own, so a bad flag that slips
   * through starts no real load (the case then fails on its reason instead).
   */
  guard?: (args: string[]) => string[];
  /** Bad values and combinations; a missing value and `--bogus` are added per flag. */
  cases: Case[];
}

const TIMEOUT_MS = 30_000;
/** A plan file that does not exist: compare fails on it before any server starts. */
const NO_PLAN = "/nonexistent-echokit/guard.json";
/** A `load --json` file that does not exist, as compare merge's input. */
const NO_HOST = "/nonexistent-echokit/hostA.json";

const has = (args: string[], flag: string) =>
  args.some((a) => a === `--${flag}` || a.startsWith(`--${flag}=`));

/** `--flag value` for each pair whose flag the case does not give itself. */
const unless = (args: string[], pairs: [string, string][]) =>
  pairs.filter(([flag]) => !has(args, flag)).flatMap(([flag, value]) => [`--${flag}`, value]);

const SERVE: Case[] = [
  [
    ["--mode", "fast"],
    /^Invalid --mode "fast" \(use stream, protocol, blocking, nonblocking, uring\)$/,
  ],
  [["--host="], /^Invalid --host "" \(use an address such as 127\.0\.0\.1\)$/],
  [["--host", "a b"], /^Invalid --host "a b"/],
  [["--port", "abc"], /^Invalid --port "abc" \(use a whole number from 0 to 65535\)$/],
  [["--port", "-1"], /^Invalid --port "-1"/],
  [["--port", "65536"], /^Invalid --port "65536"/],
  [["--port", "1.5"], /^Invalid --port "1\.5"/],
  [["--port", "0x10"], /^Invalid --port "0x10"/],
  [["--port="], /^Invalid --port ""/],
  [["--backlog", "0"], /^Invalid --backlog "0" \(use a whole number from 1 to 1048576\)$/],
  [["--backlog", "1048577"], /^Invalid --backlog "1048577"/],
  [["--backlog", "many"], /^Invalid --backlog "many"/],
  [["--max-buffer", "0"], /^Invalid --max-buffer "0"/],
  [["--max-buffer", "1k"], /^Invalid --max-buffer "1k"/],
  [["--max-buffer", "2147483648"], /^Invalid --max-buffer "2147483648"/],
  [["--max-connections", "0"], /^Invalid --max-connections "0"/],
  [["--max-connections", "-5"], /^Invalid --max-connections "-5"/],
  [["--max-connections", "Infinity"], /^Invalid --max-connections "Infinity"/],
  [["--idle-timeout", "abc"], /^Invalid --idle-timeout "abc" \(use a duration such as/],
  [["--idle-timeout", "-1s"], /^Invalid --idle-timeout "-1s"/],
  [["--idle-timeout", "0.1ms"], /^Invalid --idle-timeout "0\.1ms" \(use a duration from 1ms/],
  [["--idle-timeout", "99999999h"], /^Invalid --idle-timeout "99999999h"/],
  [
    ["--backend", "select", "--mode", "nonblocking"],
    /^Invalid --backend "select" \(use epoll, poll\)$/,
  ],
  [
    ["--backend", "poll"],
    /^Option --backend applies to --mode nonblocking only \(got --mode stream\)$/,
  ],
  [
    ["--engine", "uring", "--mode", "protocol"],
    /^Invalid --engine "uring" \(use loop, node\)$/,
  ],
  [
    ["--engine", "node"],
    /^Invalid --engine "node" \(use loop, deno\)$/,
  ],
  [
    ["--engine", "deno", "--mode", "nonblocking"],
    /^Option --engine applies to --mode stream or protocol only \(got --mode nonblocking\)$/,
  ],
  [
    ["--engine", "loop", "--work", "sleep:1ms"],
    /^--work and --offload need --engine deno in mode stream/,
  ],
  [
    ["--engine", "loop", "--mode", "protocol", "--work", "sleep:1ms"],
    /^--work and --offload need --engine node in mode protocol/,
  ],
  [
    ["--batch-wait", "50us", "--mode", "nonblocking"],
    /^Option --batch-wait applies to --mode uring only \(got --mode nonblocking\)$/,
  ],
  [
    ["--batch-wait", "20ms", "--mode", "uring"],
    /^Invalid --batch-wait "20ms" \(use 0 to 10ms, e.g. 50us\)$/,
  ],
  [["--batch-wait", "soon", "--mode", "uring"], /^Invalid --batch-wait "soon"/],
  [["--max-threads", "0", "--mode", "blocking"], /^Invalid --max-threads "0"/],
  [
    ["--max-threads", "8", "--mode", "protocol"],
    /^Option --max-threads applies to --mode blocking only/,
  ],
  [["--prespawn", "-1", "--mode", "blocking"], /^Invalid --prespawn "-1"/],
  [["--prespawn", "2"], /^Option --prespawn applies to --mode blocking only/],
  [
    ["--mode", "blocking", "--max-threads", "4", "--prespawn", "8"],
    /^Invalid --prespawn "8" \(use at most --max-threads, 4\)$/,
  ],
  // Without --max-threads, the server's default cap (128) bounds --prespawn.
  [
    ["--mode", "blocking", "--prespawn", "200"],
    /^Invalid --prespawn "200" \(use at most --max-threads, 128\)$/,
  ],
  [
    ["--work", "spin:1ms"],
    /^Invalid --work "spin:1ms" \(use sleep:DURATION, block:DURATION, cpu:DURATION or file:PATH\)$/,
  ],
  [["--work", "sleep:0ms"], /^Invalid --work "sleep:0ms" \(use a duration above 0 and at most/],
  [["--work", "file:"], /^Invalid --work "file:" \(give a path: file:PATH\)$/],
  [
    ["--offload", "fibers"],
    /^Invalid --offload "fibers" \(use threads\[:N\] or processes\[:N\]\)$/,
  ],
  [
    ["--offload", "threads:0"],
    /^Invalid --offload "threads:0" \(use a pool size from 1 to 1024\)$/,
  ],
  [
    ["--mode", "blocking", "--offload", "threads"],
    /^--offload is not available in mode "blocking"/,
  ],
  [
    ["--mode", "uring", "--work", "sleep:1ms"],
    /^Option --work is not available in --mode uring \(use --mode nonblocking\)$/,
  ],
  [
    ["--mode", "uring", "--offload", "threads"],
    /^Option --offload is not available in --mode uring \(use --mode stream or protocol\)$/,
  ],
  [["--processes", "x"], /^Invalid --processes "x" \(use a whole number from 1 to 256\)$/],
  [["--processes", "0"], /^Invalid --processes "0"/],
  [["--processes", "257"], /^Invalid --processes "257"/],
  [
    ["--processes", "2", "--stats-interval", "1"],
    /^--stats-interval and --stats-json sample this process only, and with --processes/,
  ],
  [["--stats-interval", "x"], /^Invalid --stats-interval "x" \(use a duration such as/],
  [["--stats-interval", "0"], /^Invalid --stats-interval "0" \(use 0\.01 to 86400 seconds\)$/],
  [["--stats-interval", "99999999h"], /^Invalid --stats-interval "99999999h"/],
  [["--stats-json="], /^Invalid --stats-json "" \(give a file path\)$/],
  [["--stats-json", "/"], /^Cannot write --stats-json "\/": it is a folder \(give a file path\)$/],
  [
    ["--stats-json", "/nonexistent-echokit/s.json"],
    /^Cannot write --stats-json "\/nonexistent-echokit\/s\.json": directory "\/nonexistent-echokit" does not exist$/,
  ],
  [["extra"], /^Unexpected argument 'extra'$/],
];

const LOAD: Case[] = [
  [["--threads", "abc"], /^Invalid --threads "abc" \(use a whole number from 1 to 100000\)$/],
  [["--threads", "0"], /^Invalid --threads "0"/],
  [["--threads", "100001"], /^Invalid --threads "100001"/],
  [["--loops", "x"], /^Invalid --loops "x" \(use a whole number from 1 to 1000000000\)$/],
  [["--loops", "0"], /^Invalid --loops "0"/],
  [["--loops", "1000000001"], /^Invalid --loops "1000000001"/],
  [["--loops", "infinite"], /^--loops infinite needs a duration \(add --duration TIME\)$/],
  [["--ramp-up", "x"], /^Invalid --ramp-up "x" \(use a duration such as/],
  [["--ramp-up", "-1"], /^Invalid --ramp-up "-1"/],
  [["--ramp-up", "86401"], /^Invalid --ramp-up "86401" \(use 0 to 86400 seconds\)$/],
  [["--message="], /^Invalid --message "" \(use a non-empty text of at most 16777216 bytes\)$/],
  [["--message", "hi", "--message-size", "10"], /^Use --message or --message-size, not both$/],
  [
    ["--message-size", "x"],
    /^Invalid --message-size "x" \(use a whole number from 1 to 16777216\)$/,
  ],
  [["--message-size", "0"], /^Invalid --message-size "0"/],
  [["--message-size", "16777217"], /^Invalid --message-size "16777217"/],
  [["--eol-byte", "x"], /^Invalid --eol-byte "x" \(use a whole number from 0 to 255\)$/],
  [["--eol-byte", "256"], /^Invalid --eol-byte "256"/],
  [["--eol-byte", "-1"], /^Invalid --eol-byte "-1"/],
  [["--connect-timeout", "x"], /^Invalid --connect-timeout "x" \(use a duration such as/],
  [
    ["--connect-timeout", "0.5"],
    /^Invalid --connect-timeout "0\.5" \(use whole milliseconds up to 1h, or 0 to wait forever\)$/,
  ],
  [["--connect-timeout", "2h"], /^Invalid --connect-timeout "2h"/],
  [["--response-timeout", "x"], /^Invalid --response-timeout "x" \(use a duration such as/],
  [["--response-timeout", "2h"], /^Invalid --response-timeout "2h" \(use whole milliseconds/],
  [["--reuse", "--no-reuse"], /^Use --reuse or --no-reuse, not both$/],
  [["--on-error", "ignore"], /^Invalid --on-error "ignore" \(use continue, stop-thread, stop-test/],
  [["--duration", "x"], /^Invalid --duration "x" \(use a duration such as/],
  [["--threshold", "p99<5"], /^Invalid --threshold "p99<5" \(give a time with a unit/],
  [["--connections", "0"], /^--connections is --threads under another name \(give one of them\)$/],
  [["--duration", "0"], /^Invalid --duration "0" \(use 0\.001 to 2592000 seconds\)$/],
  [["--duration", "2592001"], /^Invalid --duration "2592001"/],
  [
    ["--plan", "plan9"],
    /^Unknown --plan "plan9" \(use plan1, plan2, a \.json file or a \.jmx file\)$/,
  ],
  [["--plan="], /^Unknown --plan ""/],
  [
    ["--plan", "/nonexistent-echokit/p.json"],
    /^Cannot read --plan file "\/nonexistent-echokit\/p\.json": no such file$/,
  ],
  [["--host="], /^Invalid --host "" \(use an address such as 127\.0\.0\.1\)$/],
  [["--host", "a b"], /^Invalid --host "a b"/],
  [["--port", "x"], /^Invalid --port "x" \(use a whole number from 1 to 65535\)$/],
  [["--port", "0"], /^Invalid --port "0"/],
  [["--port", "65536"], /^Invalid --port "65536"/],
  [
    ["--spawn", "fast"],
    /^Invalid --spawn "fast" \(use stream, protocol, blocking, nonblocking, uring\)$/,
  ],
  [["--spawn", "stream", "--host", "127.0.0.1"], /^Use --spawn or --host\/--port, not both$/],
  [["--spawn", "stream", "--port", "7000"], /^Use --spawn or --host\/--port, not both$/],
  [["--pid", "x"], /^Invalid --pid "x" \(use a whole number of at least 1\)$/],
  [["--pid", "0"], /^Invalid --pid "0"/],
  ...(procAvailable()
    ? [[
      ["--pid", "99999999"],
      /^Invalid --pid "99999999" \(no such process; give the server's pid\)$/,
    ] as Case]
    : []),
  [["--interval", "x"], /^Invalid --interval "x" \(use a duration such as/],
  [["--interval", "0"], /^Invalid --interval "0" \(use whole seconds from 1 to 86400\)$/],
  [["--interval", "1.5s"], /^Invalid --interval "1\.5s"/],
  [["--interval", "86401"], /^Invalid --interval "86401"/],
  [["--warmup", "x"], /^Invalid --warmup "x" \(use a duration such as/],
  [["--warmup", "-1"], /^Invalid --warmup "-1"/],
  [["--warmup", "86401"], /^Invalid --warmup "86401" \(use 0 to 86400 seconds\)$/],
  [["--engine", "threads"], /^Invalid --engine "threads" \(use auto, poll, uring, async\)$/],
  [["--engine", "poll", "--host", "::1"], /^Cannot use --engine poll: .*\(use --engine async\)$/],
  [["--workers", "x"], /^Invalid --workers "x" \(use a whole number from 1 to 64\)$/],
  [["--workers", "0"], /^Invalid --workers "0"/],
  [["--workers", "65"], /^Invalid --workers "65"/],
  [["--rate", "x"], /^Invalid --rate "x" \(use a number of at least 0\.001\)$/],
  [["--rate", "0"], /^Invalid --rate "0"/],
  [["--rate", "Infinity"], /^Invalid --rate "Infinity"/],
  [
    ["--segment", "4/4"],
    /^Invalid --segment "4\/4" \(use I\/N with 0 ≤ I < N ≤ 10000; I is 0-based/,
  ],
  [["--segment", "1"], /^Invalid --segment "1"/],
  [["--segment", "-1/4"], /^Invalid --segment "-1\/4"/],
  [["--start-at", "soon"], /^Invalid --start-at "soon" \(use an ISO 8601 time such as/],
  [["--start-at", "1000"], /^Invalid --start-at "1000": it is \d+\.\d s in the past \(give a time/],
  [
    ["--start-at", "2020-01-01T00:00:00Z"],
    /^Invalid --start-at "2020-01-01T00:00:00Z": it is [\d.]+ s in the past/,
  ],
  [
    ["--start-at", "9999999999999"],
    /^Invalid --start-at "9999999999999": it is more than 24 h away/,
  ],
  [["--jtl="], /^Invalid --jtl "" \(give a file path\)$/],
  [["--jtl", "/"], /^Cannot write --jtl "\/": it is a folder \(give a file path\)$/],
  [
    ["--jtl", "/nonexistent-echokit/x.jtl"],
    /^Cannot write --jtl "\/nonexistent-echokit\/x\.jtl": directory "\/nonexistent-echokit" does not exist$/,
  ],
  [
    ["-Jthreads"],
    /^Invalid -J\/--property "threads" \(use -JNAME=VALUE, e\.g\. -Jthreads=20\)$/,
  ],
  [
    ["--jtl-thread-prefix", "hostA"],
    /^--jtl-thread-prefix names the threads of a JTL \(add --jtl FILE\)$/,
  ],
  [
    ["--jtl", "/nonexistent-echokit/x.jtl", "--jtl-thread-prefix", "host A"],
    /^Invalid --jtl-thread-prefix "host A" \(use up to 64 letters/,
  ],
  [
    ["--jtl-timestamps", "sent"],
    /^Invalid --jtl-timestamps "sent" \(use intended, actual\)$/,
  ],
  [
    ["--jtl-timestamps", "actual"],
    /^--jtl-timestamps picks the JTL's timeStamp under --rate \(add --rate R and --jtl FILE\)$/,
  ],
  [["--json="], /^Invalid --json "" \(give a file path\)$/],
  [["--json", "/"], /^Cannot write --json "\/": it is a folder \(give a file path\)$/],
  [
    ["--json", "/nonexistent-echokit/r.json"],
    /^Cannot write --json "\/nonexistent-echokit\/r\.json": directory "\/nonexistent-echokit" does not exist$/,
  ],
  [["extra"], /^Unexpected argument 'extra'$/],
];

/** Each flag `compare --micro` refuses, with a value it would otherwise take. */
const MICRO_CLASHES: [string, ...string[]][] = [
  ["plan", "plan1"],
  ["connections", "10"],
  ["rate", "10"],
  ["repeat", "2"],
  ["scale", "1"],
  ["full"],
  ["quick"],
  ["work", "sleep:1ms"],
  ["offload", "threads"],
  ["processes", "2"],
];

const COMPARE: Case[] = [
  [
    ["--mode", "fast"],
    /^Invalid --mode "fast" \(use stream, protocol, blocking, nonblocking, uring\)$/,
  ],
  [["--mode", "stream,fast"], /^Invalid --mode "fast"/],
  [["--engine", "turbo"], /^Invalid --engine "turbo" \(use auto, poll, uring, async\)$/],
  [["--mode="], /^Invalid --mode "" \(use a comma-separated list without blanks\)$/],
  [["--mode", "stream,"], /^Invalid --mode "stream,"/],
  [["--plan", "plan9"], /^Unknown --plan "plan9" \(use plan1, plan2, a \.json file/],
  [["--plan="], /^Invalid --plan "" \(use a comma-separated list without blanks\)$/],
  [
    ["--plan", "plan1,/nonexistent-echokit/p.json"],
    /^Cannot read --plan file "\/nonexistent-echokit\/p\.json": no such file$/,
  ],
  [["--peer", "py-fast"], /^Unknown --peer "py-fast" \(use name='command … \{port\}', or one of /],
  [["--peer="], /^Invalid --peer "" \(use a comma-separated list without blanks\)$/],
  [
    ["--peer", "x=python3 server.py 7000"],
    /^Invalid --peer "x=python3 server\.py 7000": the command has no \{port\}/,
  ],
  [["--peer", "x="], /^Invalid --peer "x=": the command is empty/],
  [["--peer", "bad name=a {port}"], /^Invalid --peer name "bad name"/],
  [["--peer", "x='a {port}"], /^Unterminated ' quote in --peer command "'a \{port\}"$/],
  [["--peer", "x=a {port}", "--peer", "x=b {port}"], /^The --peer name "x" is used twice/],
  [["--peer", "stream=a {port}"], /^The --peer name "stream" is taken by a mode's column/],
  [
    ["--baseline", "fastest"],
    /^Unknown --baseline "fastest" \(use one of stream, protocol, blocking, nonblocking\)$/,
  ],
  [["--mode", "stream", "--baseline", "protocol"], /^Unknown --baseline "protocol" \(use one of/],
  [["--scale", "x"], /^Invalid --scale "x" \(use a number from 0\.0001 to 1000\)$/],
  [["--scale", "0"], /^Invalid --scale "0"/],
  [["--scale", "1001"], /^Invalid --scale "1001"/],
  [["--scale", "1", "--full"], /^Flags --scale and --full conflict \(give one of them\)$/],
  [["--scale", "1", "--quick"], /^Flags --scale and --quick conflict/],
  [["--full", "--quick"], /^Flags --full and --quick conflict/],
  [["--repeat", "x"], /^Invalid --repeat "x" \(use a whole number from 1 to 100\)$/],
  [["--repeat", "0"], /^Invalid --repeat "0"/],
  [["--repeat", "101"], /^Invalid --repeat "101"/],
  [
    ["--connections", "x"],
    /^Invalid --connections level "x" \(use a whole number from 1 to 100000\)$/,
  ],
  [["--connections", "10,0"], /^Invalid --connections level "0"/],
  [["--connections", "100001"], /^Invalid --connections level "100001"/],
  [["--connections="], /^Invalid --connections "" \(use a comma-separated list/],
  [["--rate", "x"], /^Invalid --rate level "x" \(use a number from 0\.001 to 10000000\)$/],
  [["--rate", "0"], /^Invalid --rate level "0"/],
  [["--rate", "10000001"], /^Invalid --rate level "10000001"/],
  [["--rate="], /^Invalid --rate "" \(use a comma-separated list/],
  [["--thread-mb", "x"], /^Invalid --thread-mb "x" \(use a number from 0\.01 to 1024\)$/],
  [["--thread-mb", "0"], /^Invalid --thread-mb "0"/],
  [["--thread-mb", "1025"], /^Invalid --thread-mb "1025"/],
  [["--memory-policy", "drop"], /^Invalid --memory-policy "drop" \(use cap, skip\)$/],
  [["--format", "xml"], /^Invalid --format "xml" \(use table, markdown, json, csv\)$/],
  [["--threshold", "p42<5ms"], /^Invalid --threshold "p42<5ms" \(unknown metric "p42"/],
  [["--out="], /^Invalid --out "" \(give a folder path\)$/],
  [
    ["--out", "/dev/null"],
    /^Cannot write --out "\/dev\/null": it is a file \(give a folder path\)$/,
  ],
  [
    ["--out", "/dev/null/report"],
    /^Cannot write --out "\/dev\/null\/report": "\/dev\/null" is not a directory$/,
  ],
  ...MICRO_CLASHES.map(([flag, ...value]): Case => [
    ["--micro", `--${flag}`, ...value],
    new RegExp(`^--micro measures one connection and takes no --${flag} \\(drop one of them\\)$`),
  ]),
  [["--micro-time", "100"], /^--micro-time needs --micro \(add --micro\)$/],
  [
    ["--micro", "--micro-time", "x"],
    /^Invalid --micro-time "x" \(use a whole number from 10 to 600000\)$/,
  ],
  [["--micro", "--micro-time", "9"], /^Invalid --micro-time "9"/],
  [["--micro", "--micro-time", "600001"], /^Invalid --micro-time "600001"/],
  [["--work", "spin:1ms"], /^Invalid --work "spin:1ms" \(use sleep:DURATION/],
  [["--work", "sleep:1ms,sleep:0ms"], /^Invalid --work "sleep:0ms" \(use a duration above 0/],
  [["--work", "sleep:x"], /^Invalid --work sleep duration "x"/],
  [["--work="], /^Invalid --work "" \(use a comma-separated list/],
  [
    ["--offload", "fibers"],
    /^Invalid --offload "fibers" \(use threads\[:N\] or processes\[:N\]\)$/,
  ],
  [
    ["--offload", "threads:0"],
    /^Invalid --offload "threads:0" \(use a pool size from 1 to 1024\)$/,
  ],
  [["--offload="], /^Invalid --offload "" \(use a comma-separated list/],
  [["--engines", "uring"], /^Invalid --engines "uring" \(use loop, deno, node\)$/],
  [["--processes", "x"], /^Invalid --processes level "x" \(use a whole number from 1 to 256\)$/],
  [["--processes", "0"], /^Invalid --processes level "0"/],
  [["--processes", "257"], /^Invalid --processes level "257"/],
  [["--processes="], /^Invalid --processes "" \(use a comma-separated list/],
  [["extra"], /^Unexpected argument 'extra'$/],
];

const MERGE: Case[] = [
  [["--format", "xml"], /^Nothing to merge \(give the load --json files of each host\)$/],
  [[NO_HOST, "--format", "xml"], /^Invalid --format "xml" \(use table, markdown, json, csv\)$/],
  [[NO_HOST, "--out="], /^Invalid --out "" \(give a folder path\)$/],
  [[NO_HOST, "--out", "/dev/null"], /^Cannot write --out "\/dev\/null": it is a file/],
  [
    [NO_HOST, "--server-stats", "/nonexistent-echokit/s.json"],
    /^Cannot read --server-stats "\/nonexistent-echokit\/s\.json": no such file$/,
  ],
  [[NO_HOST, "--server-stats="], /^Cannot read --server-stats "": /],
  [[NO_HOST, "--server-stats", "/dev/null"], /^Cannot read --server-stats "\/dev\/null": not JSON/],
];

const PLANS: Case[] = [
  [["extra"], /^Unexpected argument 'extra'$/],
];

const MAIN: Case[] = [
  [["bogus"], /^Unknown command "bogus"$/],
  [["help", "bogus"], /^Unknown command "bogus"$/],
  [["--version", "extra"], /^Unexpected argument 'extra'$/],
];

const SOAK: Case[] = [
  [["--minutes", "x"], /^Invalid --minutes "x" \(use a number from 0\.05 to 1440\)$/],
  [["--minutes", "0"], /^Invalid --minutes "0"/],
  [["--minutes", "1441"], /^Invalid --minutes "1441"/],
  [
    ["--modes", "fast"],
    /^Invalid --modes "fast" \(use a list of stream, protocol, blocking, nonblocking, uring\)$/,
  ],
  [["--modes="], /^Invalid --modes ""/],
  [["--modes", "stream,"], /^Invalid --modes "stream,"/],
  [["--connections", "x"], /^Invalid --connections "x" \(use a whole number from 1 to 10000\)$/],
  [["--connections", "0"], /^Invalid --connections "0"/],
  [["--connections", "10001"], /^Invalid --connections "10001"/],
  [["--sample-every", "x"], /^Invalid --sample-every "x" \(use a number from 0\.1 to 600\)$/],
  [["--sample-every", "0.01"], /^Invalid --sample-every "0\.01"/],
  [["--sample-every", "601"], /^Invalid --sample-every "601"/],
  [["--json="], /^Invalid --json "" \(give a file path\)$/],
  [["--json", "/"], /^Cannot write --json "\/": it is a folder/],
  [["--rate", "x"], /^Invalid --rate "x" \(use a whole number from 1 to 10000000\)$/],
  [["--rate", "0"], /^Invalid --rate "0"/],
  [["--rate", "10000001"], /^Invalid --rate "10000001"/],
  [["--parallel=yes"], /^Option '--parallel' does not take an argument$/],
  [["--heap-mb", "x"], /^Invalid --heap-mb "x" \(use a whole number from 16 to 65536\)$/],
  [["--heap-mb", "8"], /^Invalid --heap-mb "8"/],
  [
    ["--reconnect-every", "x"],
    /^Invalid --reconnect-every "x" \(use a whole number of at least 1\)$/,
  ],
  [["--reconnect-every", "0"], /^Invalid --reconnect-every "0"/],
  [["--reconnect-every", "1.5"], /^Invalid --reconnect-every "1\.5"/],
  [
    ["--semi-space-mb", "x"],
    /^Invalid --semi-space-mb "x" \(use a whole number from 0 to 1024\)$/,
  ],
  [["--semi-space-mb", "-1"], /^Invalid --semi-space-mb "-1"/],
  [["--semi-space-mb", "1025"], /^Invalid --semi-space-mb "1025"/],
  [["extra"], /^Unexpected argument 'extra'$/],
];

const BENCH: Case[] = [
  [["--repeat", "x"], /^Invalid --repeat "x" \(use a whole number from 1 to 100\)$/],
  [["--repeat", "0"], /^Invalid --repeat "0"/],
  [["--repeat", "101"], /^Invalid --repeat "101"/],
  [["--connections", "x"], /^Invalid --connections "x" \(use a whole number from 1 to 50000\)$/],
  [["--connections", "0"], /^Invalid --connections "0"/],
  [["--connections", "50001"], /^Invalid --connections "50001"/],
  [["--connections", "1,,2"], /^Invalid --connections "1,,2" \(use a comma-separated list/],
  [["--duration", "x"], /^Invalid --duration "x" \(use a duration such as/],
  [["--duration", "0.1"], /^Invalid --duration "0\.1" \(use 0\.2s to 1h\)$/],
  [["--duration", "2h"], /^Invalid --duration "2h"/],
  [["--only", "both"], /^Invalid --only "both" \(use servers, loadgen\)$/],
  [["--servers", "nginx"], /^Invalid --servers "nginx" \(use stream, protocol, /],
  [["--servers="], /^Invalid --servers "" \(use a comma-separated list/],
  [
    ["--generators", "wrk"],
    /^Invalid --generators "wrk" \(use echokit, echokit-uring, echokit-uring-oneshot\)$/,
  ],
  [["--size", "x"], /^Invalid --size "x" \(use a whole number from 1 to 1048576\)$/],
  [["--size", "0"], /^Invalid --size "0"/],
  [["--size", "1048577"], /^Invalid --size "1048577"/],
  [["--json="], /^Invalid --json "" \(give a file path\)$/],
  [["--json", "/"], /^Cannot write --json "\/": it is a folder/],
  [["--pin", "cpu0"], /^Invalid --pin "cpu0" \(use none, split, same\)$/],
  [["extra"], /^Unexpected argument 'extra'$/],
];

const echokit = (...words: string[]) => (args: string[]) =>
  runEchokit([...words, ...args], { timeoutMs: TIMEOUT_MS });

const TABLES: Table[] = [
  {
    name: "echokit",
    flags: MAIN_FLAGS,
    help: USAGE,
    run: echokit(),
    cases: MAIN,
  },
  {
    name: "echokit serve",
    flags: SERVE_FLAGS,
    help: serveCommand.help,
    run: echokit("serve"),
    // serve would bind 7000 if a bad flag slipped through; port 0 keeps it harmless.
    guard: (args) => unless(args, [["port", "0"]]),
    cases: SERVE,
  },
  {
    name: "echokit load",
    flags: LOAD_FLAGS,
    help: loadCommand.help,
    run: echokit("load"),
    guard: (args) => unless(args, [["threads", "1"], ["loops", "1"]]),
    cases: LOAD,
  },
  {
    name: "echokit compare",
    flags: COMPARE_FLAGS,
    help: compareCommand.help,
    run: echokit("compare"),
    guard: (args) =>
      has(args, "micro") ? unless(args, [["micro-time", "10"]]) : unless(args, [["plan", NO_PLAN]]),
    cases: COMPARE,
  },
  {
    name: "echokit compare merge",
    flags: MERGE_FLAGS,
    help: MERGE_HELP,
    run: echokit("compare", "merge"),
    cases: MERGE,
  },
  {
    name: "echokit plans",
    flags: PLANS_FLAGS,
    help: plansCommand.help,
    run: echokit("plans"),
    cases: PLANS,
  },
  {
    name: "deno task soak",
    flags: SOAK_FLAGS,
    help: soakCommand.help,
    run: (args) => runScript("bench/soak.ts", args, { timeoutMs: TIMEOUT_MS }),
    guard: (args) => unless(args, [["minutes", "0.05"], ["modes", "stream"]]),
    cases: SOAK,
  },
  {
    name: "deno task bench",
    flags: BENCH_FLAGS,
    help: BENCH_HELP,
    run: (args) => runScript("bench/bench.ts", args, { timeoutMs: TIMEOUT_MS }),
    guard: (args) => unless(args, [["only", "loadgen"], ["duration", "0.2"], ["repeat", "1"]]),
    cases: BENCH,
  },
];

/** Every declared flag plus the `-h, --help` that parseFlags adds. */
function declared(flags: OptionSpecs): OptionSpecs {
  return { ...flags, help: { type: "boolean", short: "h" } };
}

/** For every flag: no value (or a value for a boolean), and an unknown flag. */
function generatedCases(flags: OptionSpecs): Case[] {
  const cases: Case[] = [[["--bogus"], /^Unknown option '--bogus'$/]];
  for (const [name, spec] of Object.entries(declared(flags))) {
    const shown = spec.short ? `-${spec.short}, --${name}` : `--${name}`;
    cases.push(
      spec.type === "string"
        ? [[`--${name}`], new RegExp(`^Option '${shown} <value>' argument missing$`)]
        : [[`--${name}=yes`], new RegExp(`^Option '${shown}' does not take an argument$`)],
    );
  }
  return cases;
}

const names = (flag: string) => new RegExp(`--${flag}(?![\\w-])`);

/** Runs `fn` over `items`, `limit` at a time. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: limit }, async () => {
    while (queue.length) await fn(queue.shift()!);
  }));
}

for (const table of TABLES) {
  Deno.test(`${table.name} has a bad-input case and a help line for every flag it declares`, () => {
    const flags = declared(table.flags);
    // A value flag needs a bad value of its own; a boolean's only wrong type is a value.
    const uncovered = Object.keys(flags).filter((flag) =>
      flags[flag].type === "string" &&
      !table.cases.some(([, reason]) => names(flag).test(reason.source))
    );
    assert.deepEqual(uncovered, [], "flags without a bad-value case");
    // The flags an option line names before its description: "  --reuse, --no-reuse   keep …".
    const documented = table.help.split("\n")
      .filter((line) => /^ {2,4}-/.test(line))
      .flatMap((line) =>
        [...line.trim().split(/ {2,}/)[0].matchAll(/--([\w-]+)/g)].map((m) => m[1])
      );
    const undocumented = Object.keys(flags).filter((flag) => !documented.includes(flag));
    assert.deepEqual(undocumented, [], "flags without an option line in the help");
    const undeclared = documented.filter((flag) => !(flag in flags));
    assert.deepEqual(undeclared, [], "option lines in the help of undeclared flags");
    const typos = table.cases.flatMap(([args]) => args)
      .filter((a) => a.startsWith("--"))
      .map((a) => a.slice(2).split("=")[0])
      .filter((f) => !(f in flags));
    assert.deepEqual(typos, [], "cases using undeclared flags");
  });

  const cases = [...generatedCases(table.flags), ...table.cases];
  Deno.test(`${table.name} exits 2 with a one-line reason for each of ${cases.length} bad invocations`, async () => {
    const failures: string[] = [];
    await pool(cases, 4, async ([args, reason]) => {
      const full = [...(table.guard?.(args) ?? []), ...args];
      const r = await table.run(full);
      const [first, second] = r.stderr.split("\n");
      const why = r.code !== 2
        ? `exit ${r.code}`
        : r.stdout !== ""
        ? `stdout not empty: ${JSON.stringify(r.stdout.slice(0, 80))}`
        : !first.startsWith("error: ")
        ? 'first stderr line is not "error: …"'
        : !reason.test(first.slice("error: ".length))
        ? `reason does not match ${reason}`
        : first.endsWith(".")
        ? "reason ends with a period"
        : second !== undefined && second !== "" && !second.startsWith("Usage: ")
        ? `reason goes on to a second line: ${JSON.stringify(second)}`
        : undefined;
      if (why) failures.push(`${full.join(" ")}: ${why}\n  stderr: ${first}`);
    });
    assert.deepEqual(failures, []);
  });
}
