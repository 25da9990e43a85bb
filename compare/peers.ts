/**
 * External servers as extra columns: `--peer name='command … {port}'`, split
 * into argv without a shell, and the shipped example peers (Python asyncio
 * streams, asyncio Protocol, threads, selectors; Node `net`).
 *
 * @module
 */
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseList } from "../util/flags.ts";
import { UsageError } from "../util/errors.ts";
import { isCompiled } from "../servers/child.ts";
import type { ServerColumn } from "./types.ts";

/** An external server to compare: a name and an argv with `{port}` placeholders. */
export interface PeerSpec {
  /** Column name. */
  name: string;
  /** Program and arguments; every `{port}` is replaced with the port, nothing else is interpreted. */
  command: string[];
  /** A command that must exit 0 for the peer to run, and what is missing when it does not. */
  probe?: { command: string[]; needs: string };
}

/** A shipped example peer. */
export interface ShippedPeer extends PeerSpec {
  /** The model it demonstrates. */
  summary: string;
}

// One literal URL per script, so `deno compile` sees and embeds each of them.
const SCRIPTS: readonly URL[] = [
  new URL("../fixtures/peers/py_asyncio_streams_echo.py", import.meta.url),
  new URL("../fixtures/peers/py_asyncio_protocol_echo.py", import.meta.url),
  new URL("../fixtures/peers/py_threaded_echo.py", import.meta.url),
  new URL("../fixtures/peers/py_selectors_echo.py", import.meta.url),
  new URL("../fixtures/peers/node_net_echo.mjs", import.meta.url),
];

/** The shipped peer scripts, repository-relative, for `deno compile --include`. */
export const PEER_SCRIPT_FILES: readonly string[] = SCRIPTS.map((url) =>
  `fixtures/peers/${basename(url.pathname)}`
);

function fixture(file: string): string {
  const url = SCRIPTS.find((u) => u.pathname.endsWith(`/${file}`));
  if (!url) throw new Error(`No shipped peer script "${file}"`);
  return fileURLToPath(url);
}

let copiedScriptsDir: string | undefined;

/**
 * A shipped peer's argv, ready to run. Inside a compiled binary the scripts
 * live in the binary's embedded file system, which python3 and node cannot
 * open, so each is copied to a temporary folder once, on first use.
 */
function runnable(command: readonly string[]): string[] {
  if (!isCompiled()) return [...command];
  return command.map((arg) => {
    const script = SCRIPTS.find((u) => fileURLToPath(u) === arg);
    if (!script) return arg;
    copiedScriptsDir ??= Deno.makeTempDirSync({ prefix: "echokit-peers-" });
    const path = join(copiedScriptsDir, basename(arg));
    Deno.writeFileSync(path, Deno.readFileSync(script));
    return path;
  });
}

/**
 * The example peers shipped in `fixtures/peers/`, by name. Use them as
 * `--peer py-streams` (or `--peer python` for the four Python ones,
 * `--peer shipped` for all).
 *
 * @example Usage
 * ```ts
 * import { SHIPPED_PEERS } from "./peers.ts";
 * console.log(SHIPPED_PEERS.map((p) => p.name).join(" "));
 * // py-streams py-protocol py-threaded py-selectors py-uvloop node-net
 * ```
 */
export const SHIPPED_PEERS: readonly ShippedPeer[] = [
  {
    name: "py-streams",
    summary: "Python asyncio streams (StreamReader/StreamWriter)",
    command: ["python3", fixture("py_asyncio_streams_echo.py"), "{port}"],
  },
  {
    name: "py-protocol",
    summary: "Python asyncio.Protocol callbacks",
    command: ["python3", fixture("py_asyncio_protocol_echo.py"), "{port}"],
  },
  {
    name: "py-threaded",
    summary: "Python blocking sockets, one thread per connection",
    command: ["python3", fixture("py_threaded_echo.py"), "{port}"],
  },
  {
    name: "py-selectors",
    summary: "Python selectors loop over non-blocking sockets",
    command: ["python3", fixture("py_selectors_echo.py"), "{port}"],
  },
  {
    name: "py-uvloop",
    summary: "Python asyncio.Protocol callbacks on uvloop (libuv), where uvloop is installed",
    command: ["python3", fixture("py_asyncio_protocol_echo.py"), "{port}", "--uvloop"],
    probe: {
      command: ["python3", "-c", "import uvloop"],
      needs:
        "uvloop is not installed for python3 (apt-get install python3-uvloop, or pip install uvloop)",
    },
  },
  {
    name: "node-net",
    summary: "Node.js net.createServer",
    command: ["node", fixture("node_net_echo.mjs"), "{port}"],
  },
];

const GROUPS: Record<string, readonly string[]> = {
  python: ["py-streams", "py-protocol", "py-threaded", "py-selectors"],
  shipped: SHIPPED_PEERS.map((p) => p.name),
};

/**
 * Splits a command line into argv the way a POSIX shell splits words, and
 * does nothing else: quotes ('…', "…") and backslashes group characters;
 * `$`, `*`, `;`, `|`, `>` and the like are literal characters.
 *
 * @param line The command text.
 * @returns The words.
 * @throws {UsageError} On an unterminated quote.
 *
 * @example Usage
 * ```ts
 * import { splitCommand } from "./peers.ts";
 * console.log(splitCommand(`python3 "my server.py" {port} $HOME`));
 * // ["python3", "my server.py", "{port}", "$HOME"]
 * ```
 */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === "\\" && quote === '"' && /["\\]/.test(line[i + 1] ?? "")) word += line[++i];
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === "\\" && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw new UsageError(`Unterminated ${quote} quote in --peer command "${line}"`);
  if (inWord) words.push(word);
  return words;
}

/**
 * Parses `--peer` values: `name=command … {port}` for any server, or the name
 * of a shipped peer (`py-streams`), a group (`python`, `shipped`), or a
 * comma-separated list of those.
 *
 * @param values Every `--peer` value, in order.
 * @returns The peers, each name once.
 * @throws {UsageError} On an empty name or command, a command without `{port}`,
 * an unknown shipped name, or a name used twice.
 *
 * @example Usage
 * ```ts
 * import { parsePeers } from "./peers.ts";
 * const [peer] = parsePeers(["uv='python3 uv_echo.py --port {port}'"]);
 * console.log(peer.command); // ["python3", "uv_echo.py", "--port", "{port}"]
 * ```
 */
export function parsePeers(values: readonly string[]): PeerSpec[] {
  const peers: PeerSpec[] = [];
  const add = (peer: PeerSpec) => {
    if (peers.some((p) => p.name === peer.name)) {
      throw new UsageError(
        `The --peer name "${peer.name}" is used twice (give each --peer its own name)`,
      );
    }
    peers.push(peer);
  };
  for (const value of values) {
    const eq = value.indexOf("=");
    if (eq === -1) {
      for (const name of parseList("--peer", value)) {
        for (const n of GROUPS[name] ?? [name]) {
          const shipped = SHIPPED_PEERS.find((p) => p.name === n);
          if (!shipped) {
            throw new UsageError(
              `Unknown --peer "${n}" (use name='command … {port}', or one of ${
                [...SHIPPED_PEERS.map((p) => p.name), ...Object.keys(GROUPS)].join(", ")
              })`,
            );
          }
          add({ name: shipped.name, command: runnable(shipped.command), probe: shipped.probe });
        }
      }
      continue;
    }
    const name = value.slice(0, eq).trim();
    let text = value.slice(eq + 1).trim();
    // Accept the quotes a user typed around the whole command in a config file.
    if (/^'.*'$|^".*"$/s.test(text)) text = text.slice(1, -1);
    if (!/^[\w.-]+$/.test(name)) {
      throw new UsageError(
        `Invalid --peer name "${name}" (use letters, digits, ".", "-" or "_")`,
      );
    }
    const command = splitCommand(text);
    if (command.length === 0) {
      throw new UsageError(
        `Invalid --peer "${value}": the command is empty (use ${name}='command … {port}')`,
      );
    }
    if (!command.some((w) => w.includes("{port}"))) {
      throw new UsageError(
        `Invalid --peer "${value}": the command has no {port} (add {port} where the port goes)`,
      );
    }
    add({ name, command });
  }
  return peers;
}

/**
 * Finds why a peer cannot run here: its program is not on PATH or not a file.
 *
 * @param peer The peer.
 * @param env Where to look (tests inject PATH). @default {the process environment}
 * @returns A reason such as `python3 not found on PATH`, or undefined when it can run.
 *
 * @example Usage
 * ```ts
 * import { missingRuntime } from "./peers.ts";
 * console.log(missingRuntime({ name: "x", command: ["no-such-program-xyz", "{port}"] }));
 * // "no-such-program-xyz not found on PATH"
 * ```
 */
export function missingRuntime(
  peer: PeerSpec,
  env: { PATH?: string } = { PATH: Deno.env.get("PATH") },
): string | undefined {
  const program = peer.command[0];
  if (program.includes("/")) {
    if (!isFile(program)) return `${program} does not exist`;
  } else {
    const dirs = (env.PATH ?? "").split(Deno.build.os === "windows" ? ";" : ":").filter(Boolean);
    if (!dirs.some((d) => isFile(`${d}/${program}`))) return `${program} not found on PATH`;
  }
  // A shipped script or any other file argument that is missing fails the same clear way.
  for (const arg of peer.command.slice(1)) {
    if (/\.(py|mjs|js|ts)$/.test(arg) && !arg.includes("{port}") && !isFile(arg)) {
      return `${arg} does not exist`;
    }
  }
  if (peer.probe && !probeSucceeds(peer.probe.command)) return peer.probe.needs;
  return undefined;
}

function probeSucceeds(command: string[]): boolean {
  try {
    const { success } = new Deno.Command(command[0], {
      args: command.slice(1),
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return success;
  } catch {
    return false;
  }
}

/**
 * The column a peer adds to the tables.
 *
 * @param peer The peer.
 * @returns Its server column.
 *
 * @example Usage
 * ```ts
 * import { peerColumn } from "./peers.ts";
 * console.log(peerColumn({ name: "x", command: ["x", "{port}"] }).kind); // "peer"
 * ```
 */
export function peerColumn(peer: PeerSpec): ServerColumn {
  return { name: peer.name, kind: "peer", command: peer.command };
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}
