/**
 * JMeter's `tcp.charset` property for `jmx.ts`: how the TCP Sampler's text
 * becomes bytes (`TCPClientImpl` writes `request.getBytes(charset)`). Private
 * to `loadgen/`.
 *
 * @module
 */
import type { XmlElement } from "./_xml.ts";
import { JmxProblem, label } from "./_jmx_tree.ts";
import type { Plan } from "./types.ts";

/** Java's names and aliases of the charsets echokit encodes, upper case. */
const CHARSETS: Readonly<Record<string, NonNullable<Plan["charset"]>>> = {
  "UTF-8": "UTF-8",
  "UTF8": "UTF-8",
  "ISO-8859-1": "ISO-8859-1",
  "ISO8859_1": "ISO-8859-1",
  "ISO_8859_1": "ISO-8859-1",
  "ISO8859-1": "ISO-8859-1",
  "LATIN1": "ISO-8859-1",
  "L1": "ISO-8859-1",
  "US-ASCII": "US-ASCII",
  "ASCII": "US-ASCII",
};

/**
 * The charset a `-Jtcp.charset=…` property asks for, or undefined (JMeter
 * then uses the platform default, UTF-8 on a usual Linux, as echokit does).
 *
 * @param properties The run's `-J` properties.
 * @param sampler The TCP Sampler, for the message's line.
 * @returns The plan's `charset`, or undefined when the property is unset.
 * @throws {JmxProblem} A charset echokit does not encode.
 */
export function readCharset(
  properties: Readonly<Record<string, string>>,
  sampler: XmlElement,
): Plan["charset"] | undefined {
  if (!Object.hasOwn(properties, "tcp.charset")) return undefined;
  const raw = properties["tcp.charset"].trim();
  if (raw === "") return undefined;
  const charset = CHARSETS[raw.toUpperCase()];
  if (!charset) {
    throw new JmxProblem(
      `${label(sampler)}: charset "${
        raw.slice(0, 40)
      }" (tcp.charset) is not supported (use UTF-8, ISO-8859-1 or US-ASCII)`,
      sampler.line,
    );
  }
  return charset;
}
