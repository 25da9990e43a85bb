#!/usr/bin/env -S deno run -A
/**
 * A runnable JMeter 2.13 (Debian's `jmeter` + `jmeter-tcp` packages) for the
 * conformance tests: a lab tool, not part of the product.
 *
 * Debian's XStream 1.4.20 refuses every type JMeter 2.13's `SaveService`
 * reads, so a stock `jmeter -n -t plan.jmx` fails with
 * `ForbiddenClassException: org.apache.jmeter.save.ScriptWrapper`. This module
 * compiles `NoTypePermission.java` (beside it) against
 * `/usr/share/java/xstream.jar` once, caches the class under
 * `~/.cache/echokit/jmeter/<hash>/`, and puts it first on the classpath
 * through `FORCE_CLASSPATH`, which Debian's `/usr/bin/jmeter` wrapper
 * (java-wrappers' `run_java`) honours.
 *
 * ```sh
 * deno run -A tools/jmeter/jmeter.ts   # prints the jmeter command line to use
 * ```
 *
 * @module
 */
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ChildOutput, childOutput } from "../../servers/testing.ts";

const SOURCE = fileURLToPath(new URL("./NoTypePermission.java", import.meta.url));

/** Where Debian's XStream jar lives (the one JMeter 2.13's manifest names). */
export const XSTREAM_JAR = "/usr/share/java/xstream.jar";

/**
 * `-J` properties that make JMeter 2.13 write the JTL columns JMeter 5.x writes by default
 * (2.13 prints no header and leaves `failureMessage`, `URL`, `IdleTime` and `Connect` off).
 */
export const JMETER5_SAVE_PROPERTIES: Readonly<Record<string, string>> = {
  "jmeter.save.saveservice.print_field_names": "true",
  "jmeter.save.saveservice.assertion_results_failure_message": "true",
  "jmeter.save.saveservice.url": "true",
  "jmeter.save.saveservice.idle_time": "true",
  "jmeter.save.saveservice.connect_time": "true",
  "jmeter.save.saveservice.output_format": "csv",
};

/** `-J` properties for every run: no shutdown listener on port 4445 (parallel runs, no LAN port). */
const QUIET_PROPERTIES: Readonly<Record<string, string>> = { "jmeterengine.nongui.port": "0" };

/** A JMeter ready to run: the program, its environment and the fixed arguments. */
export interface Jmeter {
  /** The `jmeter` wrapper's path. */
  program: string;
  /** Environment for it (`FORCE_CLASSPATH`). */
  env: Record<string, string>;
  /** `-J` arguments that come before the caller's (the 5.x JTL columns). */
  args: string[];
}

/** Either a runnable JMeter or why there is none here. */
export type JmeterLookup = { ok: true; jmeter: Jmeter } | { ok: false; reason: string };

/** Options for {@linkcode findJmeter}. */
export interface FindJmeterOptions {
  /** The `jmeter` program. @default {Deno.env ECHOKIT_JMETER, else `jmeter` on PATH} */
  program?: string;
  /** JMeter's installation folder. @default {"/usr/share/jmeter"} */
  home?: string;
  /** Where the compiled class is cached. @default {"$XDG_CACHE_HOME/echokit/jmeter" or "~/.cache/echokit/jmeter"} */
  cacheDir?: string;
}

function onPath(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    const path = join(dir, name);
    if (isFile(path)) return path;
  }
  return undefined;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function defaultCacheDir(): string {
  const base = Deno.env.get("XDG_CACHE_HOME") ??
    join(Deno.env.get("HOME") ?? Deno.makeTempDirSync(), ".cache");
  return join(base, "echokit", "jmeter");
}

/**
 * Compiles the XStream permission class once per source version and returns
 * the classpath folder holding it. Concurrent callers are safe: each compiles
 * into a folder of its own and renames it into place.
 */
async function compiledClassDir(cacheDir: string): Promise<string> {
  const source = await Deno.readFile(SOURCE);
  const hash = createHash("sha256").update(source).digest("hex").slice(0, 12);
  const dir = join(cacheDir, hash);
  const cls = join(dir, "com/thoughtworks/xstream/security/NoTypePermission.class");
  if (isFile(cls)) return dir;
  await Deno.mkdir(cacheDir, { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: cacheDir, prefix: `${hash}.tmp` });
  const out = await childOutput(
    new Deno.Command("javac", {
      args: ["-nowarn", "-cp", XSTREAM_JAR, "-d", tmp, SOURCE],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn(),
    { timeoutMs: 60_000 },
  );
  if (out.code !== 0) {
    await Deno.remove(tmp, { recursive: true });
    throw new Error(`Cannot compile ${SOURCE} with javac: ${out.stderr.trim().split("\n")[0]}`);
  }
  try {
    await Deno.rename(tmp, dir);
  } catch {
    // Another run put it there first.
    await Deno.remove(tmp, { recursive: true });
  }
  return dir;
}

/**
 * Finds Debian's JMeter 2.13 and makes it able to load `.jmx` files.
 *
 * @param options The program, JMeter's home and the class cache.
 * @returns The JMeter to run, or the reason there is none (for a test's skip line).
 *
 * @example Usage
 * ```ts
 * import { findJmeter } from "./jmeter.ts";
 * const found = await findJmeter();
 * console.log(found.ok ? found.jmeter.program : `skipped: ${found.reason}`);
 * ```
 */
export async function findJmeter(options: FindJmeterOptions = {}): Promise<JmeterLookup> {
  const install = "apt-get install -y jmeter jmeter-tcp default-jdk-headless";
  const named = options.program ?? Deno.env.get("ECHOKIT_JMETER");
  const program = named === undefined ? onPath("jmeter") : named;
  if (program === undefined) {
    return { ok: false, reason: `jmeter is not on PATH (${install}, or set ECHOKIT_JMETER)` };
  }
  if (!isFile(program)) {
    return { ok: false, reason: `jmeter "${program}" does not exist (${install})` };
  }
  const home = options.home ?? "/usr/share/jmeter";
  const jar = join(home, "bin/ApacheJMeter.jar");
  const needs: [string, string][] = [
    [jar, "jmeter"],
    [join(home, "lib/ext/ApacheJMeter_tcp.jar"), "jmeter-tcp"],
    [XSTREAM_JAR, "libxstream-java"],
  ];
  for (const [path, pkg] of needs) {
    if (!isFile(path)) return { ok: false, reason: `${path} is missing (apt-get install ${pkg})` };
  }
  if (onPath("javac") === undefined) {
    return { ok: false, reason: "javac is not on PATH (apt-get install default-jdk-headless)" };
  }
  const classes = await compiledClassDir(options.cacheDir ?? defaultCacheDir());
  return {
    ok: true,
    jmeter: {
      program,
      env: { FORCE_CLASSPATH: `${classes}:${jar}` },
      args: Object.entries({ ...JMETER5_SAVE_PROPERTIES, ...QUIET_PROPERTIES }).map(([k, v]) =>
        `-J${k}=${v}`
      ),
    },
  };
}

/** Options for {@linkcode runJmeter}. */
export interface RunJmeterOptions {
  /** Where JMeter writes the JTL (`-l`); must not exist yet (JMeter appends). */
  jtl: string;
  /** `-J` properties for the plan's `${__P(…)}`. @default {{}} */
  properties?: Record<string, string | number>;
  /** Kill JMeter after this long, so a hang fails the caller. @default {60000} */
  timeoutMs?: number;
}

/**
 * Runs a plan through JMeter non-GUI (`jmeter -n -t plan -l jtl -j log -J…`),
 * with its log beside the JTL.
 *
 * @param jmeter From {@linkcode findJmeter}.
 * @param plan The `.jmx` file.
 * @param options The JTL path, properties and time limit.
 * @returns JMeter's exit code and console output.
 *
 * @example Usage
 * ```ts ignore
 * import { findJmeter, runJmeter } from "./jmeter.ts";
 * const found = await findJmeter();
 * if (found.ok) await runJmeter(found.jmeter, "plan.jmx", { jtl: "/tmp/out.jtl" });
 * ```
 */
export function runJmeter(
  jmeter: Jmeter,
  plan: string,
  options: RunJmeterOptions,
): Promise<ChildOutput> {
  const props = Object.entries(options.properties ?? {}).map(([k, v]) => `-J${k}=${v}`);
  const args = [
    "-n",
    "-t",
    plan,
    "-l",
    options.jtl,
    "-j",
    `${options.jtl}.log`,
    ...jmeter.args,
    ...props,
  ];
  const child = new Deno.Command(jmeter.program, {
    args,
    env: jmeter.env,
    cwd: dirname(options.jtl),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return childOutput(child, { timeoutMs: options.timeoutMs ?? 60_000 });
}

if (import.meta.main) {
  const found = await findJmeter();
  if (!found.ok) {
    console.error(`error: ${found.reason}`);
    Deno.exit(1);
  }
  const { program, env, args } = found.jmeter;
  const line = [
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    program,
    ...args,
    "-n -t PLAN.jmx -l OUT.jtl",
  ];
  console.log(line.join(" "));
}
