/**
 * Imports a JMeter test plan (`.jmx`) with one Thread Group and one TCP
 * Sampler as an echokit {@linkcode Plan}, so JMeter users can bring theirs.
 *
 * What is read, with JMeter's own meaning (empty values as JMeter treats them):
 * - Thread Group: `ThreadGroup.num_threads`, `ramp_time`, the main
 *   `LoopController.loops` (-1 = infinite), `scheduler` + `duration` +
 *   `delay`, `on_sample_error` (`startnextloop` behaves as `continue` with one
 *   sampler, `stoptestnow` as `stopTest`); its testname names the JTL threads.
 * - TCP Sampler (and a TCP Sampler Config's defaults): `server`, `port`,
 *   `request`, `EolByte` (-128..127, stored as the unsigned byte), `timeout`,
 *   `ctimeout` (empty = 0 = wait forever), `reUseConnection` unless
 *   `closeConnection`, `nodelay`; its testname is the JTL label.
 * - Simple Controllers (transparent), Loop Controllers around the sampler
 *   (multiply the loops), one Transaction Controller; Constant, Uniform and
 *   Gaussian Random, Constant Throughput and Precise Throughput Timers
 *   (`_jmx_timers.ts`); the `-Jtcp.charset` property (`_jmx_charset.ts`).
 * - Variables: `${__P(name,default)}` and `${__property(name,,default)}` give
 *   a `-J` property or the default (JMeter's `__P` default is `1`), nested
 *   calls included; `${name}` a User Defined Variable (Test Plan or Thread
 *   Group level).
 *
 * Listeners, assertions, pre/post-processors and other config elements are
 * ignored with a note. Anything that would change what is measured — other
 * samplers, controllers or timers, setUp/tearDown and other thread group
 * kinds, `soLinger` — is
 * refused with a {@linkcode UsageError} naming the file, the line and the
 * element. See `docs/jmeter.md`.
 *
 * @example Usage
 * ```ts
 * import { parseJmx } from "./jmx.ts";
 * const text = await Deno.readTextFile(new URL("../fixtures/echo_tcp.jmx", import.meta.url));
 * const { plan, notes } = parseJmx(text, "echo_tcp.jmx");
 * console.log(plan.threads, plan.loops, notes.length);
 * ```
 *
 * @module
 */
import { UsageError } from "../util/errors.ts";
import { parseXml, type XmlElement, XmlError } from "./_xml.ts";
import {
  addTcpDefaults,
  bool,
  childElements,
  enabledElements,
  integer,
  isEnabled,
  isTcpConfig,
  JmxProblem,
  kindOf,
  label,
  makeExpander,
  pairs,
  propsOf,
  textOf,
} from "./_jmx_tree.ts";
import { JMX_TIMERS, readTimers } from "./_jmx_timers.ts";
import { readCharset } from "./_jmx_charset.ts";
import { checkPlan, defaultName, MAX_LOOPS, MAX_THREADS, MAX_TIMEOUT_MS } from "./_plan_fields.ts";
import type { OnError, Plan } from "./types.ts";

/** Largest .jmx accepted, characters (real TCP plans are a few KiB). */
export const MAX_JMX_CHARS = 16 * 1024 * 1024;

/** The result of {@linkcode parseJmx}. */
export interface JmxImport {
  /** The plan. */
  plan: Plan;
  /** What was ignored or interpreted, one sentence each, for the user's information. */
  notes: string[];
}

/** Options for {@linkcode parseJmx}. */
export interface ParseJmxOptions {
  /** JMeter properties for `${__P(name)}`, like `jmeter -Jname=value`. @default {{}} */
  properties?: Readonly<Record<string, string>>;
}

const ON_ERROR: Readonly<Record<string, OnError>> = {
  continue: "continue",
  startnextloop: "continue",
  stopthread: "stopThread",
  stoptest: "stopTest",
  stoptestnow: "stopTest",
};

/**
 * Parses a .jmx file's text into a plan.
 *
 * @param text The file's text.
 * @param fileName The file's name, for messages and the default plan name.
 * @param options JMeter properties for `${__P(…)}`.
 * @returns The plan and notes about what was ignored.
 * @throws {UsageError} `Invalid JMeter plan "x.jmx": line 12: <ThreadGroup "Users">: …`
 *
 * @example Usage
 * ```ts
 * import { parseJmx } from "./jmx.ts";
 * const text = await Deno.readTextFile(new URL("../fixtures/echo_tcp.jmx", import.meta.url));
 * console.log(parseJmx(text, "echo_tcp.jmx").plan.eolByte); // 10
 * ```
 */
export function parseJmx(text: string, fileName: string, options: ParseJmxOptions = {}): JmxImport {
  const where = `Invalid JMeter plan "${fileName}"`;
  if (text.length > MAX_JMX_CHARS) {
    throw new UsageError(`${where}: the file is larger than ${MAX_JMX_CHARS} characters`);
  }
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch (err) {
    if (err instanceof XmlError) throw new UsageError(`${where}: line ${err.line}: ${err.message}`);
    throw err;
  }
  try {
    return importPlan(root, fileName, options.properties ?? {});
  } catch (err) {
    if (err instanceof JmxProblem) {
      throw new UsageError(`${where}: line ${err.line}: ${err.message}`);
    }
    throw err;
  }
}

function importPlan(
  root: XmlElement,
  fileName: string,
  properties: Readonly<Record<string, string>>,
): JmxImport {
  if (root.name !== "jmeterTestPlan") {
    throw new JmxProblem(
      `not a JMeter test plan (the root element is <${root.name}>, expected <jmeterTestPlan>)`,
      root.line,
    );
  }
  const top = childElements(root).find((e) => e.name === "hashTree");
  if (!top) throw new JmxProblem("<jmeterTestPlan> has no <hashTree>", root.line);
  const notes: string[] = [];
  const variables = new Map<string, string>();
  const threadGroups: [XmlElement, XmlElement | undefined][] = [];
  let testPlan: XmlElement | undefined;
  const tcpDefaults = new Map<string, XmlElement>();

  const collectVariables = (args: XmlElement) => {
    for (const coll of childElements(args)) {
      if (coll.name !== "collectionProp") continue;
      for (const arg of childElements(coll)) {
        const p = propsOf(arg);
        const name = p.get("Argument.name");
        const value = p.get("Argument.value");
        if (name && value) variables.set(textOf(name), textOf(value));
      }
    }
  };

  for (const [el, sub] of pairs(top)) {
    if (el.name === "TestPlan") {
      testPlan = el;
      const udv = propsOf(el).get("TestPlan.user_defined_variables");
      if (udv) collectVariables(udv);
      for (const [child, childTree] of pairs(sub ?? el)) {
        if (!isEnabled(child)) continue;
        if (kindOf(child) === "threadGroup") threadGroups.push([child, childTree]);
        else if (child.attributes.testclass === "Arguments") collectVariables(child);
        else if (isTcpConfig(child)) addTcpDefaults(child, tcpDefaults);
        else if (kindOf(child) === "sampler" || kindOf(child) === "controller") {
          throw new JmxProblem(`${label(child)} is outside a Thread Group`, child.line);
        } else notes.push(`Ignored ${label(child)} (line ${child.line})`);
      }
    }
  }
  if (!testPlan) throw new JmxProblem("no <TestPlan> element", top.line);
  if (threadGroups.length === 0) {
    throw new JmxProblem("no enabled Thread Group (add one with a TCP Sampler)", testPlan.line);
  }
  for (const [g] of threadGroups) {
    if (g.name === "ThreadGroup") continue;
    const what = /^(SetupThreadGroup|PostThreadGroup)$/.test(g.name)
      ? `a ${
        g.name === "SetupThreadGroup" ? "setUp" : "tearDown"
      } Thread Group, which echokit does not run yet (disable it, or run its work as a separate plan)`
      : "not a plain Thread Group; echokit supports only <ThreadGroup>";
    throw new JmxProblem(`${label(g)} is ${what}`, g.line);
  }
  if (threadGroups.length > 1) {
    throw new JmxProblem(
      `${threadGroups.length} enabled Thread Groups; echokit runs one (disable the others)`,
      threadGroups[1][0].line,
    );
  }
  const [group, groupTree] = threadGroups[0];

  const expand = makeExpander(variables, properties);
  let sampler: XmlElement | undefined;
  let transaction: XmlElement | undefined;
  const timers: XmlElement[] = [];
  const innerLoops: XmlElement[] = [];
  const subtrees = new Map<XmlElement, XmlElement | undefined>();
  for (const el of enabledElements(groupTree, [], subtrees)) {
    const kind = kindOf(el);
    if (kind === "sampler") {
      if (el.name !== "TCPSampler") {
        throw new JmxProblem(
          `${label(el)} is not a TCP Sampler; echokit runs only TCP Samplers`,
          el.line,
        );
      }
      if (sampler) {
        throw new JmxProblem(
          `a second TCP Sampler ${label(el)}; echokit runs exactly one (disable the others)`,
          el.line,
        );
      }
      sampler = el;
    } else if (kind === "controller" && el.attributes.testclass === "GenericController") {
      // A Simple Controller only groups: transparent with one sampler.
    } else if (kind === "controller" && el.name === "LoopController") {
      innerLoops.push(el);
    } else if (kind === "controller" && el.name === "TransactionController" && !transaction) {
      transaction = el;
    } else if (kind === "controller") {
      throw new JmxProblem(
        `${
          label(el)
        }: this controller is not supported inside the Thread Group (echokit runs Simple Controllers and one Transaction Controller)`,
        el.line,
      );
    } else if (kind === "timer" && JMX_TIMERS.has(el.name)) {
      timers.push(el);
    } else if (kind === "timer") {
      throw new JmxProblem(
        `${
          label(el)
        }: this timer is not supported (echokit runs Constant, Uniform/Gaussian Random, Constant Throughput and Precise Throughput Timers; disable it)`,
        el.line,
      );
    } else if (el.attributes.testclass === "Arguments") {
      collectVariables(el); // User Defined Variables on the Thread Group
    } else if (kind === "threadGroup") {
      throw new JmxProblem(`${label(el)} is nested inside a Thread Group`, el.line);
    } else if (isTcpConfig(el)) {
      addTcpDefaults(el, tcpDefaults);
    } else {
      notes.push(`Ignored ${label(el)} (line ${el.line})`);
    }
  }
  if (!sampler) throw new JmxProblem(`${label(group)} has no enabled TCP Sampler`, group.line);

  // ---- Thread Group ---------------------------------------------------------
  const gp = propsOf(group);
  const gText = (name: string): string | undefined => {
    const p = gp.get(name);
    return p ? expand(textOf(p), p, group) : undefined;
  };
  const threads = integer(
    gText("ThreadGroup.num_threads") ?? "",
    "ThreadGroup.num_threads",
    [group, gp],
    1,
    MAX_THREADS,
    true,
  );
  const rampUp = integer(
    gText("ThreadGroup.ramp_time") ?? "",
    "ThreadGroup.ramp_time",
    [group, gp],
    0,
    86_400,
    false,
  ) ?? 0;
  const controller = gp.get("ThreadGroup.main_controller");
  let loops = 1;
  if (controller) {
    const lp = propsOf(controller).get("LoopController.loops");
    if (lp) {
      const value = integer(
        expand(textOf(lp), lp, group),
        "LoopController.loops",
        [group, propsOf(controller)],
        -1,
        MAX_LOOPS,
        true,
      )!;
      if (value === 0) {
        throw new JmxProblem(
          `${label(group)}: "LoopController.loops" must be -1 or at least 1 (got "0")`,
          lp.line,
        );
      }
      loops = value;
    }
  }
  // A Loop Controller around the one sampler multiplies the group's loops.
  for (const inner of innerLoops) {
    if (!enabledElements(subtrees.get(inner)).includes(sampler)) {
      throw new JmxProblem(
        `${label(inner)} holds no TCP Sampler (move the sampler into it or disable it)`,
        inner.line,
      );
    }
    const ip = propsOf(inner);
    const lp = ip.get("LoopController.loops");
    const n = integer(
      lp ? expand(textOf(lp), lp, inner) : "",
      "LoopController.loops",
      [inner, ip],
      -1,
      MAX_LOOPS,
      true,
    )!;
    if (n === 0) {
      throw new JmxProblem(
        `${label(inner)}: "LoopController.loops" must be -1 or at least 1 (got "0")`,
        lp?.line ?? inner.line,
      );
    }
    loops = n === -1 || loops === -1 ? -1 : loops * n;
    if (loops > MAX_LOOPS) {
      throw new JmxProblem(
        `${label(inner)}: the loops multiply to ${loops}, more than ${MAX_LOOPS}`,
        inner.line,
      );
    }
  }
  let duration: number | undefined;
  if (bool(gText("ThreadGroup.scheduler"), false)) {
    const d = integer(
      gText("ThreadGroup.duration") ?? "",
      "ThreadGroup.duration",
      [group, gp],
      0,
      2_592_000,
      false,
    );
    if (d !== undefined && d > 0) duration = d;
  }
  // JMeter applies the startup delay only with the scheduler on, as here.
  let delay: number | undefined;
  if (bool(gText("ThreadGroup.scheduler"), false)) {
    const d = integer(
      gText("ThreadGroup.delay") ?? "",
      "ThreadGroup.delay",
      [group, gp],
      0,
      2_592_000,
      false,
    );
    if (d !== undefined && d > 0) delay = d;
  }
  const onErrorText = (gText("ThreadGroup.on_sample_error") ?? "continue").trim().toLowerCase();
  const onError = ON_ERROR[onErrorText === "" ? "continue" : onErrorText];
  if (!onError) {
    throw new JmxProblem(
      `${
        label(group)
      }: "ThreadGroup.on_sample_error" must be continue, startnextloop, stopthread, stoptest or stoptestnow (got "${
        onErrorText.slice(0, 40)
      }")`,
      group.line,
    );
  }

  // ---- TCP Sampler ----------------------------------------------------------
  const sp = new Map([...tcpDefaults, ...propsOf(sampler)]);
  const sText = (name: string): string | undefined => {
    const p = sp.get(name);
    return p ? expand(textOf(p), p, sampler!) : undefined;
  };
  const classname = (sText("TCPSampler.classname") ?? "").trim();
  if (classname !== "" && classname !== "TCPClientImpl" && !classname.endsWith(".TCPClientImpl")) {
    throw new JmxProblem(
      `${label(sampler)}: TCP client "${
        classname.slice(0, 80)
      }" is not supported (use TCPClientImpl, the text client)`,
      sampler.line,
    );
  }
  const message = sText("TCPSampler.request") ?? "";
  if (message === "") {
    throw new JmxProblem(
      `${label(sampler)}: "TCPSampler.request" is empty (set the text to send)`,
      sampler.line,
    );
  }
  const host = (sText("TCPSampler.server") ?? "").trim();
  const portText = sText("TCPSampler.port") ?? "";
  const port = integer(portText, "TCPSampler.port", [sampler!, sp], 1, 65535, false);
  const responseTimeout = integer(
    sText("TCPSampler.timeout") ?? "",
    "TCPSampler.timeout",
    [sampler!, sp],
    0,
    MAX_TIMEOUT_MS,
    false,
  ) ?? 0;
  const connectTimeout = integer(
    sText("TCPSampler.ctimeout") ?? "",
    "TCPSampler.ctimeout",
    [sampler!, sp],
    0,
    MAX_TIMEOUT_MS,
    false,
  ) ?? 0;
  const noDelay = bool(sText("TCPSampler.nodelay"), false);
  const linger = (sText("TCPSampler.soLinger") ?? "").trim();
  if (linger !== "") {
    throw new JmxProblem(
      `${label(sampler)}: "TCPSampler.soLinger" is set ("${
        linger.slice(0, 20)
      }"), which echokit does not support (clear it)`,
      sp.get("TCPSampler.soLinger")?.line ?? sampler.line,
    );
  }
  const reuse = bool(sText("TCPSampler.reUseConnection"), true) &&
    !bool(sText("TCPSampler.closeConnection"), false);
  const eol = integer(
    sText("TCPSampler.EolByte") ?? "",
    "TCPSampler.EolByte",
    [sampler!, sp],
    -2147483648,
    2147483647,
    false,
  );
  let eolByte: number | undefined;
  if (eol === undefined) {
    notes.push(
      "No EOL byte set: JMeter would read until the server closes; echokit reads back exactly the bytes sent (strict echo)",
    );
  } else if (eol < -128 || eol > 127) {
    notes.push(
      `EOL byte ${eol} is outside -128..127, which disables it in JMeter; echokit uses strict echo`,
    );
  } else {
    eolByte = eol & 0xff;
  }

  const testName = testPlan.attributes.testname?.trim();
  const plan: Plan = {
    // JMeter's default "Test Plan" says less than the file name does.
    name: testName && testName !== "Test Plan" && testName.length <= 200 && !/[\r\n]/.test(testName)
      ? testName
      : defaultName(fileName),
    threads: threads!,
    loops,
    rampUp,
    message,
    connectTimeout,
    responseTimeout,
    reuseConnection: reuse,
    onError,
    noDelay,
  };
  if (eolByte !== undefined) plan.eolByte = eolByte;
  if (duration !== undefined) plan.duration = duration;
  if (delay !== undefined) plan.delay = delay;
  Object.assign(plan, readTimers(timers, expand, notes));
  const charset = readCharset(properties, sampler);
  if (charset !== undefined) plan.charset = charset;
  if (transaction) {
    const tp = propsOf(transaction);
    const flag = (name: string) => {
      const p = tp.get(name);
      return bool(p ? expand(textOf(p), p, transaction!) : undefined, false);
    };
    plan.transaction = {
      name: (transaction.attributes.testname?.trim() || "Transaction Controller").slice(0, 200),
      parentSample: flag("TransactionController.parent"),
      includeTimers: flag("TransactionController.includeTimers"),
    };
  }
  // The JTL's label and thread names, as JMeter writes them.
  const samplerName = sampler.attributes.testname?.trim();
  if (samplerName) plan.label = samplerName.slice(0, 200);
  const groupName = group.attributes.testname?.trim();
  if (groupName) plan.threadGroup = groupName.slice(0, 200);
  if (host !== "") {
    if (!/^[^\s/]{1,255}$/.test(host)) {
      throw new JmxProblem(
        `${label(sampler)}: "TCPSampler.server" is not a host name (got "${host.slice(0, 40)}")`,
        sampler.line,
      );
    }
    plan.host = host;
  }
  if (port !== undefined) plan.port = port;
  if (plan.loops === -1 && plan.duration === undefined) {
    throw new JmxProblem(
      `${
        label(group)
      } loops forever without a duration (set "Specify Thread lifetime" with a duration, or a loop count)`,
      group.line,
    );
  }
  return { plan: checkPlan(plan, `JMeter plan "${fileName}"`), notes };
}
