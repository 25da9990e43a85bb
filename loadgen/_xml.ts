/**
 * A small, safe XML reader for JMeter `.jmx` files. Private to `loadgen/`.
 *
 * Safe by refusal: any `<!DOCTYPE` or `<!ENTITY` is rejected outright, so there
 * are no external entities and no entity expansion bombs. Only the five
 * predefined entities and numeric character references are decoded. It reads
 * elements, attributes, text, CDATA, comments and processing instructions (the
 * latter two are skipped), iteratively (no recursion, bounded depth), and
 * reports the line of every problem.
 *
 * @module
 */

/** An element: its name, attributes, children in order, and where it starts. */
export interface XmlElement {
  /** Tag name, e.g. `stringProp`. */
  name: string;
  /** Attributes with entities decoded. */
  attributes: Record<string, string>;
  /** Child elements and text (entities decoded, CDATA as text). */
  children: XmlNode[];
  /** 1-based line of the start tag. */
  line: number;
}

/** A child of an element: another element or a run of text. */
export type XmlNode = XmlElement | string;

/** A malformed or refused document. */
export class XmlError extends Error {
  /** 1-based line of the problem. */
  readonly line: number;
  /**
   * Makes an XML error.
   *
   * @param message What is wrong.
   * @param line Where.
   */
  constructor(message: string, line: number) {
    super(message);
    this.name = "XmlError";
    this.line = line;
  }
}

/** Deepest element nesting accepted; real .jmx files stay far below it. */
export const MAX_XML_DEPTH = 256;

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
const SPACE = /[ \t\r\n]*/y;
const PREDEFINED: Readonly<Record<string, string>> = {
  lt: "<",
  gt: ">",
  amp: "&",
  quot: '"',
  apos: "'",
};

function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/**
 * Parses an XML document into its root element.
 *
 * @param text The document.
 * @returns The root element.
 * @throws {XmlError} For malformed markup, unknown entities, or any DTD.
 */
export function parseXml(text: string): XmlElement {
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  // Line numbers, computed lazily and only forwards: O(n) over the whole parse.
  // `nextNewline` caches the first newline at or after `lineStart`, so a long
  // line is not rescanned for every element on it.
  let lineStart = 0;
  let line = 1;
  let nextNewline = -2;
  const lineOf = (at: number): number => {
    if (at < lineStart) {
      lineStart = 0;
      line = 1;
      nextNewline = -2;
    }
    for (;;) {
      if (nextNewline === -2) nextNewline = text.indexOf("\n", lineStart);
      if (nextNewline === -1 || nextNewline >= at) return line;
      line++;
      lineStart = nextNewline + 1;
      nextNewline = -2;
    }
  };
  const fail = (message: string, at: number): never => {
    throw new XmlError(message, lineOf(Math.min(at, text.length)));
  };

  const decode = (raw: string, at: number): string => {
    if (!raw.includes("&")) return raw;
    let out = "";
    let from = 0;
    for (let amp = raw.indexOf("&"); amp !== -1; amp = raw.indexOf("&", from)) {
      out += raw.slice(from, amp);
      const semi = raw.indexOf(";", amp);
      if (semi === -1 || semi - amp > 12) fail(`a bare "&" must be written as "&amp;"`, at + amp);
      const ref = raw.slice(amp + 1, semi);
      if (ref.startsWith("#")) {
        const cp = /^#x[0-9a-fA-F]{1,6}$/.test(ref)
          ? parseInt(ref.slice(2), 16)
          : /^#[0-9]{1,7}$/.test(ref)
          ? parseInt(ref.slice(1), 10)
          : NaN;
        if (!isXmlChar(cp)) fail(`invalid character reference "&${ref.slice(0, 12)};"`, at + amp);
        out += String.fromCodePoint(cp);
      } else if (Object.hasOwn(PREDEFINED, ref)) {
        out += PREDEFINED[ref];
      } else {
        fail(
          `unknown entity "&${
            ref.slice(0, 12)
          };" (only &lt; &gt; &amp; &quot; &apos; and &#N; are allowed)`,
          at + amp,
        );
      }
      from = semi + 1;
    }
    return out + raw.slice(from);
  };

  const readName = (at: number, what: string): string => {
    NAME.lastIndex = at;
    const m = NAME.exec(text);
    if (!m) fail(`expected ${what} name`, at);
    return m![0];
  };
  const skipSpace = (at: number): number => {
    SPACE.lastIndex = at;
    SPACE.exec(text);
    return SPACE.lastIndex;
  };

  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let rootStarted = false;
  const addText = (raw: string, at: number, isCdata: boolean) => {
    if (raw === "") return;
    const top = stack[stack.length - 1];
    if (!top) {
      if (isCdata || /[^ \t\r\n]/.test(raw)) fail("text outside the root element", at);
      return;
    }
    const value = isCdata ? raw : decode(raw, at);
    const children = top.children;
    const last = children[children.length - 1];
    if (typeof last === "string") children[children.length - 1] = last + value;
    else children.push(value);
  };

  while (pos < text.length) {
    const lt = text.indexOf("<", pos);
    if (lt === -1) {
      addText(text.slice(pos), pos, false);
      break;
    }
    addText(text.slice(pos, lt), pos, false);
    if (text.startsWith("<!--", lt)) {
      const end = text.indexOf("-->", lt + 4);
      if (end === -1) fail("comment is not closed with -->", lt);
      pos = end + 3;
    } else if (text.startsWith("<![CDATA[", lt)) {
      if (stack.length === 0) fail("CDATA outside the root element", lt);
      const end = text.indexOf("]]>", lt + 9);
      if (end === -1) fail("CDATA section is not closed with ]]>", lt);
      addText(text.slice(lt + 9, end), lt, true);
      pos = end + 3;
    } else if (text.startsWith("<!", lt)) {
      if (/^<!(DOCTYPE|ENTITY)/i.test(text.slice(lt, lt + 9))) {
        fail("DOCTYPE and ENTITY declarations are not allowed", lt);
      }
      fail(`unexpected markup "${text.slice(lt, lt + 12)}"`, lt);
    } else if (text.startsWith("<?", lt)) {
      const end = text.indexOf("?>", lt + 2);
      if (end === -1) fail("processing instruction is not closed with ?>", lt);
      pos = end + 2;
    } else if (text.startsWith("</", lt)) {
      const name = readName(lt + 2, "closing tag");
      const after = skipSpace(lt + 2 + name.length);
      if (text[after] !== ">") fail(`closing tag </${name}> is not closed with >`, lt);
      const open = stack.pop();
      if (!open) fail(`closing tag </${name}> has no opening tag`, lt);
      if (open!.name !== name) {
        fail(`closing tag </${name}> does not match <${open!.name}> from line ${open!.line}`, lt);
      }
      if (stack.length === 0) root = open;
      pos = after + 1;
    } else {
      if (stack.length === 0 && rootStarted) fail("a second root element", lt);
      const name = readName(lt + 1, "element");
      const element: XmlElement = { name, attributes: {}, children: [], line: lineOf(lt) };
      let at = lt + 1 + name.length;
      let selfClosing = false;
      for (;;) {
        const afterSpace = skipSpace(at);
        if (text.startsWith("/>", afterSpace)) {
          selfClosing = true;
          at = afterSpace + 2;
          break;
        }
        if (text[afterSpace] === ">") {
          at = afterSpace + 1;
          break;
        }
        if (afterSpace >= text.length) fail(`<${name}> is not closed with >`, lt);
        if (afterSpace === at) fail(`expected a space, > or /> in <${name}>`, at);
        const attr = readName(afterSpace, `attribute in <${name}>`);
        let p = skipSpace(afterSpace + attr.length);
        if (text[p] !== "=") fail(`attribute "${attr}" in <${name}> has no value`, p);
        p = skipSpace(p + 1);
        const quote = text[p];
        if (quote !== '"' && quote !== "'") {
          fail(`attribute "${attr}" in <${name}> must be quoted`, p);
        }
        const close = text.indexOf(quote, p + 1);
        if (close === -1) fail(`attribute "${attr}" in <${name}> is not closed`, p);
        const raw = text.slice(p + 1, close);
        if (raw.includes("<")) fail(`attribute "${attr}" in <${name}> contains "<"`, p);
        if (Object.hasOwn(element.attributes, attr)) {
          fail(`attribute "${attr}" appears twice in <${name}>`, afterSpace);
        }
        // XML attribute-value normalisation: literal tabs and newlines become spaces.
        element.attributes[attr] = decode(raw.replace(/[\t\n\r]/g, " "), p + 1);
        at = close + 1;
      }
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(element);
      else rootStarted = true;
      if (selfClosing) {
        if (!parent) root = element;
      } else {
        if (stack.length >= MAX_XML_DEPTH) {
          fail(`elements nest deeper than ${MAX_XML_DEPTH} levels`, lt);
        }
        stack.push(element);
      }
      pos = at;
    }
  }
  if (stack.length > 0) {
    const open = stack[stack.length - 1];
    fail(`<${open.name}> from line ${open.line} is not closed`, text.length);
  }
  if (!root) fail("no root element", text.length);
  return root!;
}
