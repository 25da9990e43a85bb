/**
 * The one tag scheme of every JSON document echokit writes: `"schema":
 * "echokit/<kind>"` and `"schemaVersion": N`, first in the document. The
 * version is bumped when a field changes meaning or is removed.
 *
 * @module
 */

/** The kinds of document echokit writes. */
export type SchemaKind = "load-result" | "compare-report" | "bench" | "soak" | "serve-stats";

/** The tag at the head of a JSON document. */
export interface SchemaTag {
  /** `echokit/<kind>`. */
  schema: string;
  /** The document's version. */
  schemaVersion: number;
}

/**
 * The tag of a document of `kind` at `version`.
 *
 * @param kind What the document is.
 * @param version Its version.
 * @returns The tag, to spread first into the document.
 *
 * @example Usage
 * ```ts
 * import { schemaTag } from "./schema.ts";
 * console.log(JSON.stringify({ ...schemaTag("bench", 1), cells: [] }));
 * // {"schema":"echokit/bench","schemaVersion":1,"cells":[]}
 * ```
 */
export function schemaTag(kind: SchemaKind, version: number): SchemaTag {
  return { schema: `echokit/${kind}`, schemaVersion: version };
}
