/**
 * Turns the engines' packed JTL records into JMeter CSV rows and writes them
 * in the background, in order, so sampling never waits for the disk.
 *
 * Adapter: `loadgen/jtl.ts` (loadgen-core) owns the JTL format; until its
 * writer lands this file carries a minimal copy of JMeter's default 17-column
 * layout. Private to `loadgen/`.
 *
 * @module
 */
import { EchokitError } from "../errors.ts";
import { ERROR_KINDS, JTL, JTL_STRIDE } from "./_engine_types.ts";
import type { ErrorKind } from "./types.ts";

/** JMeter 5.x default JTL header (CSV, 17 columns). */
export const JTL_HEADER =
  "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success," +
  "failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect";

/**
 * What JMeter's TCP sampler would put in `responseMessage` for a failure of
 * this kind (`exception.toString()` of the matching Java exception).
 *
 * @param kind The error kind.
 * @param bytesRead Bytes read before it failed.
 * @returns The message.
 */
export function jtlFailureMessage(kind: ErrorKind, bytesRead: number): string {
  switch (kind) {
    case "timeout":
      return "java.net.SocketTimeoutException: Read timed out";
    case "eof":
      return `org.apache.jmeter.protocol.tcp.sampler.ReadException: Error reading from server, bytes read: ${bytesRead}`;
    case "refused":
      return "java.net.ConnectException: Connection refused";
    case "reset":
      return "java.net.SocketException: Connection reset";
    case "connect":
      return "java.net.ConnectException: Connection failed";
    case "mismatch":
      return "echokit.EchoMismatchException: Response differs from the request";
    default:
      return "java.io.IOException: I/O error";
  }
}

function quote(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

/** Writes JTL rows from packed records. */
export class JtlRowWriter {
  readonly #file: Deno.FsFile;
  readonly #label: string;
  readonly #encoder = new TextEncoder();
  #queue: Promise<void> = Promise.resolve();
  #error: unknown;
  #closed = false;

  private constructor(file: Deno.FsFile, label: string) {
    this.#file = file;
    this.#label = quote(label);
  }

  /**
   * Creates (truncates) the file and writes the header.
   *
   * @param path Where to write.
   * @param label The `label` column.
   * @returns The writer.
   */
  static async create(path: string, label: string): Promise<JtlRowWriter> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { write: true, create: true, truncate: true });
    } catch (err) {
      throw new EchokitError(
        `Cannot write JTL file "${path}": ${
          err instanceof Error ? err.message : err
        } (check the folder exists and is writable)`,
      );
    }
    const w = new JtlRowWriter(file, label);
    w.#enqueue(JTL_HEADER + "\n");
    return w;
  }

  /**
   * Formats packed records and queues them for writing.
   *
   * @param rows Records, {@linkcode JTL_STRIDE} numbers each.
   * @param allThreads Active threads now (JMeter's grpThreads/allThreads).
   */
  write(rows: Float64Array, allThreads: number): void {
    if (this.#closed) return;
    let text = "";
    for (let off = 0; off < rows.length; off += JTL_STRIDE) {
      const kind = rows[off + JTL.kind];
      const bytes = rows[off + JTL.bytes];
      const ok = kind < 0;
      const message = ok ? "OK" : quote(jtlFailureMessage(ERROR_KINDS[kind], bytes));
      text += `${Math.floor(rows[off + JTL.start])},${rows[off + JTL.elapsed]},${this.#label},` +
        `${ok ? 200 : 500},${message},Thread Group 1-${rows[off + JTL.thread] + 1},text,${ok},,` +
        `${bytes},0,${allThreads},${allThreads},null,${rows[off + JTL.latency]},0,` +
        `${rows[off + JTL.connect]}\n`;
    }
    this.#enqueue(text);
  }

  #enqueue(text: string): void {
    const data = this.#encoder.encode(text);
    this.#queue = this.#queue.then(async () => {
      if (this.#error) return;
      try {
        let off = 0;
        while (off < data.length) off += await this.#file.write(data.subarray(off));
      } catch (err) {
        this.#error = err;
      }
    });
  }

  /**
   * Waits for every queued row, then closes the file.
   *
   * @throws {EchokitError} When a write failed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    this.#file.close();
    if (this.#error) {
      throw new EchokitError(
        `Cannot write JTL file: ${
          this.#error instanceof Error ? this.#error.message : this.#error
        }`,
      );
    }
  }
}
