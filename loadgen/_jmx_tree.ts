/**
 * Reading a .jmx tree for `jmx.ts`: elements, properties, JMeter's value
 * rules (booleans, whole numbers, `${…}` functions and variables) and the
 * problem type that carries a line number. Private to `loadgen/`.
 *
 * @module
 */
import type { XmlElement } from "./_xml.ts";

const PROP_TAGS = new Set([
  "stringProp",
  "intProp",
  "longProp",
  "boolProp",
  "doubleProp",
  "floatProp",
]);

/** A failure inside the walk; turned into a UsageError naming the file. */
export class JmxProblem extends Error {
  /** @param message What is wrong. @param line The line in the file. */
  constructor(message: string, readonly line: number) {
    super(message);
  }
}

/** How messages name an element: `<TCPSampler "Echo">`. */
export function label(el: XmlElement): string {
  const name = el.attributes.testname;
  return name === undefined ? `<${el.name}>` : `<${el.name} "${name.slice(0, 60)}">`;
}

/** An element's own text. */
export function textOf(el: XmlElement): string {
  let out = "";
  for (const child of el.children) if (typeof child === "string") out += child;
  return out;
}

/** The element children of an element. */
export function childElements(el: XmlElement): XmlElement[] {
  return el.children.filter((c): c is XmlElement => typeof c !== "string");
}

/** The element's own properties by name, with the element they came from. */
export function propsOf(el: XmlElement): Map<string, XmlElement> {
  const props = new Map<string, XmlElement>();
  for (const child of childElements(el)) {
    const name = child.attributes.name;
    if (name !== undefined && (PROP_TAGS.has(child.name) || child.name === "elementProp")) {
      props.set(name, child);
    } else if (name === undefined && PROP_TAGS.has(child.name)) {
      // A TestBean's typed property: <doubleProp><name>throughput</name><value>600.0</value>…
      const kids = childElements(child);
      const key = kids.find((k) => k.name === "name");
      const value = kids.find((k) => k.name === "value");
      if (key && value) {
        props.set(textOf(key), {
          name: child.name,
          attributes: { name: textOf(key) },
          children: value.children,
          line: value.line,
        });
      }
    }
  }
  return props;
}

/** False for `enabled="false"`: JMeter skips the element and its subtree. */
export function isEnabled(el: XmlElement): boolean {
  return el.attributes.enabled?.toLowerCase() !== "false";
}

/** Test elements in a hashTree, each with the hashTree of its children. */
export function* pairs(tree: XmlElement): Generator<[XmlElement, XmlElement | undefined]> {
  const kids = childElements(tree);
  for (let i = 0; i < kids.length; i++) {
    const el = kids[i];
    if (el.name === "hashTree") continue; // a stray tree without an owner: nothing to run
    const next = kids[i + 1];
    yield [el, next?.name === "hashTree" ? next : undefined];
  }
}

/** Every enabled element under a hashTree, in document order, parents first. */
export function enabledElements(
  tree: XmlElement | undefined,
  out: XmlElement[] = [],
  subtrees?: Map<XmlElement, XmlElement | undefined>,
): XmlElement[] {
  // Recursion depth is bounded by the XML reader's MAX_XML_DEPTH.
  if (!tree) return out;
  for (const [el, sub] of pairs(tree)) {
    if (!isEnabled(el)) continue;
    out.push(el);
    subtrees?.set(el, sub);
    enabledElements(sub, out, subtrees);
  }
  return out;
}

/** What a test element does, from its tag or testclass. */
export function kindOf(
  el: XmlElement,
): "threadGroup" | "sampler" | "controller" | "timer" | "other" {
  const cls = el.attributes.testclass ?? el.name;
  const name = el.name;
  if (/ThreadGroup$/.test(name) || /ThreadGroup$/.test(cls)) return "threadGroup";
  if (/(Sampler|SamplerProxy)$/.test(name) || /(Sampler|SamplerProxy)$/.test(cls)) return "sampler";
  if (/Controller$/.test(name) || /Controller$/.test(cls)) return "controller";
  if (/Timer$/.test(name) || /Timer$/.test(cls)) return "timer";
  return "other";
}

/** A TCP Sampler Config (a ConfigTestElement with TCPSampler properties). */
export function isTcpConfig(el: XmlElement): boolean {
  return el.name === "ConfigTestElement" &&
    [...propsOf(el).keys()].some((k) => k.startsWith("TCPSampler."));
}

/** Adds a TCP Sampler Config's non-empty values as sampler defaults. */
export function addTcpDefaults(el: XmlElement, into: Map<string, XmlElement>): void {
  for (const [name, prop] of propsOf(el)) {
    // JMeter merges config defaults only into empty sampler fields; an empty default adds nothing.
    if (name.startsWith("TCPSampler.") && textOf(prop) !== "") into.set(name, prop);
  }
}

/** Java's `Boolean.parseBoolean`, with a default for a missing or empty value. */
export function bool(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value.trim() === "") return fallback;
  return value.trim().toLowerCase() === "true";
}

/** A whole-number property; empty is `undefined` unless required. */
export function integer(
  raw: string,
  name: string,
  [el, props]: [XmlElement, Map<string, XmlElement>],
  min: number,
  max: number,
  required: boolean,
): number | undefined {
  const text = raw.trim();
  const line = props.get(name)?.line ?? el.line;
  if (text === "") {
    if (required) {
      throw new JmxProblem(`${label(el)}: "${name}" is empty (set a whole number)`, line);
    }
    return undefined;
  }
  const n = /^[-+]?\d{1,12}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new JmxProblem(
      `${label(el)}: "${name}" must be a whole number from ${min} to ${max} (got "${
        text.slice(0, 40)
      }")`,
      line,
    );
  }
  return n;
}

/** Expands `${…}` references the way a non-GUI JMeter run does, `-J` properties included. */
export function makeExpander(
  variables: ReadonlyMap<string, string>,
  properties: Readonly<Record<string, string>>,
): (raw: string, prop: XmlElement, owner: XmlElement) => string {
  // Innermost references first, pass after pass, so `${__P(a,${__P(b,1)})}` works.
  const expandOnce = (raw: string, prop: XmlElement, owner: XmlElement, depth: number): string => {
    let out = raw;
    for (let pass = 0; pass < 16 && out.includes("${"); pass++) {
      const next = expandInnermost(out, prop, owner, depth);
      if (next === out) break;
      out = next;
    }
    return out;
  };
  const expandInnermost = (
    raw: string,
    prop: XmlElement,
    owner: XmlElement,
    depth: number,
  ): string => {
    return raw.replace(/\$\{([^{}]*)\}/g, (whole, inner: string) => {
      const fn = /^(__P|__property)\((.*)\)$/s.exec(inner);
      if (fn) {
        const args = fn[2].split(/(?<!\\),/).map((a) => a.replace(/\\,/g, ","));
        const name = args[0]?.trim() ?? "";
        if (Object.hasOwn(properties, name)) return properties[name];
        // __P(name) defaults to "1"; __property(name, var, default) to "".
        if (fn[1] === "__P") return args.length > 1 ? args[1] : "1";
        return args[2] ?? "";
      }
      if (/^[A-Za-z_][\w.-]*$/.test(inner) && variables.has(inner)) {
        if (depth > 8) {
          throw new JmxProblem(`${label(owner)}: variable "${inner}" refers to itself`, prop.line);
        }
        return expandOnce(variables.get(inner)!, prop, owner, depth + 1);
      }
      throw new JmxProblem(
        `${label(owner)}: "${prop.attributes.name}" uses "${
          whole.slice(0, 60)
        }", which echokit cannot evaluate (replace it with a value)`,
        prop.line,
      );
    });
  };
  return (raw, prop, owner) => expandOnce(raw, prop, owner, 0);
}
