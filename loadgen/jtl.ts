/**
 * JMeter JTL (CSV) output with JMeter 5.x's default columns, so JMeter's own
 * tools (`jmeter -g results.jtl -o report/`) can read echokit runs.
 *
 * Rules matched (see `CSVSaveService`, `jmeter.properties`, `TCPSampler`):
 * the 17-column default header; `timeStamp` is the sample's *start* in epoch
 * ms (`sampleresult.timestamp.start=true`); `URL` is the literal `null` for
 * TCP; a field is quoted only when it contains `,`, `"`, CR or LF, with inner
 * quotes doubled; thread names are `Thread Group 1-<n>`; success rows are
 * `200`/`OK`, failures `500` with a Java-style exception text; `dataType` is
 * `text`; `IdleTime` is 0; `failureMessage` is empty (no assertions).
 *
 * @example Usage
 * ```ts
 * import { formatJtlRow, JTL_HEADER } from "./jtl.ts";
 * console.log(JTL_HEADER);
 * console.log(formatJtlRow({
 *   timeStamp: 1700000000000, elapsed: 3, success: true, bytes: 64, threadIndex: 0,
 *   grpThreads: 1, allThreads: 1, latency: 3, connect: 1,
 * }));
 * // 1700000000000,3,TCP Sampler,200,OK,Thread Group 1-1,text,true,,64,0,1,1,null,3,0,1
 * ```
 *
 * @module
 */
import { UsageError } from "../util/errors.ts";
import type { ErrorKind, Transaction } from "./types.ts";

/** JMeter 5.x's default CSV header (`filename`, `encoding`, `sample_count`, `hostname` off). */
export const JTL_HEADER =
  "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect";

/** One sample as the engine hands it to the JTL writer. */
export interface JtlSample {
  /** Epoch ms when the sample started (JMeter's `timeStamp` with `timestamp.start=true`). */
  timeStamp: number;
  /** Whole ms from start to end. */
  elapsed: number;
  /** Whether the sample succeeded. */
  success: boolean;
  /** Why it failed (failures only). @default {"other"} */
  errorKind?: ErrorKind;
  /** Detail for the failure text, e.g. the OS error (`connect`/`other` kinds). */
  errorDetail?: string;
  /** Bytes received (for a failed read: bytes read before the failure). */
  bytes: number;
  /** Bytes sent. @default {0, what JMeter's TCP Sampler reports} */
  sentBytes?: number;
  /** 0-based thread (virtual user) number; written as `Thread Group 1-<n+1>`. */
  threadIndex: number;
  /** Active threads in the group at sample time. */
  grpThreads: number;
  /** Active threads in the test at sample time. */
  allThreads: number;
  /** Whole ms to the first response byte (JMeter `Latency`). */
  latency: number;
  /** Whole ms to obtain the connection (about 0 when reused). */
  connect: number;
  /**
   * The timers' wait before this sample, ms, for a Transaction Controller's
   * row. @default {the writer's timerMs}
   */
  timerWait?: number;
}

/** Options for {@linkcode formatJtlRow} and {@linkcode JtlWriter}. */
export interface JtlFormatOptions {
  /** The sampler's label. @default {"TCP Sampler"} */
  label?: string;
  /** The thread group's name, the text before ` 1-<n>`. @default {"Thread Group"} */
  threadGroupName?: string;
  /** A Transaction Controller around the sampler: adds its parent row per sample. */
  transaction?: Transaction;
  /** The timer wait before each sample, ms (the transaction starts before it). @default {0} */
  timerMs?: number;
}

/** JMeter's default thread group name, the text before ` 1-<n>` in thread names. */
export const JTL_THREAD_GROUP: string = "Thread Group";

/**
 * The thread group name for a JTL written on one of several load hosts:
 * `<prefix>-Thread Group`, the form JMeter's distributed mode gives its
 * remote engines' threads (`AbstractThreadGroup.makeThread`). JMeter's
 * dashboard groups "Active Threads Over Time" by the text before the last
 * space of a thread name, so each host stays its own series and no two
 * hosts' `1-1` threads share a name when their JTLs are concatenated.
 *
 * @param prefix The host label; undefined for a single-host run.
 * @param group The plan's thread group name (a .jmx Thread Group's testname).
 * @returns The group name (`group`, `Thread Group` by default, without a prefix).
 * @throws {UsageError} When the label is empty or holds characters other
 * than letters, digits, `.`, `_`, `:`, `@`, `[`, `]` and `-`.
 *
 * @example Usage
 * ```ts
 * import { jtlThreadGroupName } from "./jtl.ts";
 * console.log(jtlThreadGroupName("hostA")); // hostA-Thread Group
 * ```
 */
export function jtlThreadGroupName(prefix?: string, group: string = JTL_THREAD_GROUP): string {
  if (prefix === undefined) return group;
  if (!/^[\w.:@\[\]-]{1,64}$/.test(prefix)) {
    throw new UsageError(
      `Invalid --jtl-thread-prefix "${prefix}" (use up to 64 letters, digits, ".", "_", ":", "@", "[", "]" or "-", e.g. the host name)`,
    );
  }
  return `${prefix}-${group}`;
}

/**
 * Where the warm-up samples of a run with `--warmup` go: beside the JTL, as
 * `FILE.warmup.jtl`, so the JTL itself holds exactly the measured samples
 * (JMeter tools read it unchanged and find echokit's totals).
 *
 * @param path The JTL's path.
 * @returns The warm-up JTL's path.
 *
 * @example Usage
 * ```ts
 * import { jtlWarmupPath } from "./jtl.ts";
 * console.log(jtlWarmupPath("out/run.jtl")); // out/run.warmup.jtl
 * ```
 */
export function jtlWarmupPath(path: string): string {
  return `${path.replace(/\.jtl$/i, "")}.warmup.jtl`;
}

/**
 * Quotes a CSV field the way JMeter's `CSVSaveService.quoteDelimiters` does:
 * only when it holds `,`, `"`, CR or LF, doubling inner quotes.
 *
 * @param value The field.
 * @returns The field as written.
 *
 * @example Usage
 * ```ts
 * import { quoteJtlField } from "./jtl.ts";
 * console.log(quoteJtlField('say "hi", then go')); // "say ""hi"", then go"
 * ```
 */
export function quoteJtlField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/**
 * The `responseMessage` JMeter would show for a failed TCP sample of this
 * kind: the exception's `toString()`.
 *
 * @param kind The failure kind.
 * @param bytes Bytes read before the failure.
 * @param detail The OS error or other detail, when known.
 * @returns Java-style exception text.
 *
 * @example Usage
 * ```ts
 * import { jtlFailureMessage } from "./jtl.ts";
 * console.log(jtlFailureMessage("refused", 0)); // java.net.ConnectException: Connection refused
 * ```
 */
export function jtlFailureMessage(kind: ErrorKind, bytes: number, detail?: string): string {
  switch (kind) {
    case "timeout":
      // TCPClientImpl.read wraps the SocketTimeoutException in a ReadException.
      return `org.apache.jmeter.protocol.tcp.sampler.ReadException: Error reading from server, bytes read: ${bytes}`;
    case "refused":
      return "java.net.ConnectException: Connection refused";
    case "reset":
      return "java.net.SocketException: Connection reset";
    case "eof":
      return `java.io.EOFException: Connection closed by server, bytes read: ${bytes}`;
    case "mismatch":
      return `echokit.EchoMismatchException: Response differs from request, bytes read: ${bytes}`;
    case "connect":
      return `java.net.ConnectException: ${detail ?? "Connection failed"}`;
    default:
      return `java.io.IOException: ${detail ?? "I/O error"}`;
  }
}

/**
 * Formats one JTL row (no line break).
 *
 * @param sample The sample.
 * @param options Label and thread group name.
 * @returns The CSV row.
 *
 * @example Usage
 * ```ts
 * import { formatJtlRow } from "./jtl.ts";
 * const row = formatJtlRow({
 *   timeStamp: 1700000000000, elapsed: 60000, success: false, errorKind: "timeout", bytes: 0,
 *   threadIndex: 4, grpThreads: 5, allThreads: 5, latency: 0, connect: 0,
 * });
 * console.log(row.split(",")[3]); // 500
 * ```
 */
export function formatJtlRow(sample: JtlSample, options: JtlFormatOptions = {}): string {
  const label = quoteJtlField(options.label ?? "TCP Sampler");
  const thread = quoteJtlField(
    `${options.threadGroupName ?? JTL_THREAD_GROUP} 1-${sample.threadIndex + 1}`,
  );
  return row(sample, label, thread);
}

function row(s: JtlSample, label: string, thread: string): string {
  const status = s.success
    ? "200,OK"
    : `500,${quoteJtlField(jtlFailureMessage(s.errorKind ?? "other", s.bytes, s.errorDetail))}`;
  return `${s.timeStamp},${s.elapsed},${label},${status},${thread},text,${s.success},,${s.bytes},${
    s.sentBytes ?? 0
  },${s.grpThreads},${s.allThreads},null,${s.latency},0,${s.connect}`;
}

/**
 * The row JMeter 5.x's Transaction Controller writes after its one sampler:
 * label = its name, elapsed = the sampler's (plus the timer with
 * `includeTimers`, else the timer is its IdleTime), responseCode 200 only on
 * success, no dataType, and "Number of samples in transaction : 1, number of
 * failing samples : N" as the message.
 */
function transactionRow(
  s: JtlSample,
  t: Transaction,
  thread: string,
  timerMs: number,
): string {
  const elapsed = s.elapsed + (t.includeTimers ? timerMs : 0);
  const idle = t.includeTimers ? 0 : timerMs;
  const message = quoteJtlField(
    `Number of samples in transaction : 1, number of failing samples : ${s.success ? 0 : 1}`,
  );
  return `${s.timeStamp - timerMs},${elapsed},${quoteJtlField(t.name)},${
    s.success ? "200" : ""
  },${message},${thread},,${s.success},,${s.bytes},${
    s.sentBytes ?? 0
  },${s.grpThreads},${s.allThreads},null,${s.latency},${idle},${s.connect}`;
}

/** Where a {@linkcode JtlWriter} writes: `Deno.FsFile` fits. */
export interface JtlSink {
  /** Writes some of the bytes, returning how many. */
  write(p: Uint8Array): Promise<number>;
  /** Releases the sink. */
  close(): void;
}

/** Options for {@linkcode JtlWriter}. */
export interface JtlWriterOptions extends JtlFormatOptions {
  /** Buffered characters that trigger a background write. @default {262144} */
  flushChars?: number;
}

/**
 * Buffers JTL rows and writes them in large chunks of whole rows, in order:
 * one write call per ~256 KiB instead of one per sample, and the file never
 * ends in half a row while the writer is alive (JMeter's report generator
 * rejects a file whose last row is short).
 *
 * @example Usage
 * ```ts
 * import { JtlWriter } from "./jtl.ts";
 * const path = await Deno.makeTempFile({ suffix: ".jtl" });
 * const jtl = await JtlWriter.create(path);
 * jtl.write({
 *   timeStamp: Date.now(), elapsed: 2, success: true, bytes: 64, threadIndex: 0,
 *   grpThreads: 1, allThreads: 1, latency: 2, connect: 0,
 * });
 * await jtl.close();
 * console.log((await Deno.readTextFile(path)).split("\n").length); // 3 (header, row, "")
 * ```
 */
export class JtlWriter {
  readonly #sink: JtlSink;
  readonly #label: string;
  readonly #group: string;
  readonly #flushChars: number;
  readonly #transaction?: Transaction;
  readonly #timerMs: number;
  readonly #threadNames: string[] = [];
  readonly #encoder = new TextEncoder();
  #buffer = "";
  #rows = 0;
  #queue: Promise<void> = Promise.resolve();
  #error: unknown = undefined;
  #closed = false;

  /**
   * Creates (or truncates) a JTL file and writes the header.
   *
   * @param path The file to write.
   * @param options Label, thread group name, buffer size.
   * @returns The writer.
   */
  static async create(path: string, options: JtlWriterOptions = {}): Promise<JtlWriter> {
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    return new JtlWriter(file, options);
  }

  /**
   * Wraps a sink; the header is the first thing written.
   *
   * @param sink Where bytes go.
   * @param options Label, thread group name, buffer size.
   */
  constructor(sink: JtlSink, options: JtlWriterOptions = {}) {
    this.#sink = sink;
    this.#label = quoteJtlField(options.label ?? "TCP Sampler");
    this.#group = options.threadGroupName ?? JTL_THREAD_GROUP;
    this.#flushChars = options.flushChars ?? 262_144;
    this.#transaction = options.transaction;
    this.#timerMs = options.timerMs ?? 0;
    this.#buffer = JTL_HEADER + "\n";
  }

  /** Rows accepted so far (not counting the header). */
  get rows(): number {
    return this.#rows;
  }

  /**
   * Adds one row to the buffer; starts a background write when the buffer is full.
   *
   * @param sample The sample.
   * @throws The error of a previous failed write, or when closed.
   */
  write(sample: JtlSample): void {
    if (this.#closed) throw new Error("JtlWriter.write() called after close()");
    if (this.#error !== undefined) throw this.#error;
    let thread = this.#threadNames[sample.threadIndex];
    if (thread === undefined) {
      thread = quoteJtlField(`${this.#group} 1-${sample.threadIndex + 1}`);
      this.#threadNames[sample.threadIndex] = thread;
    }
    const t = this.#transaction;
    if (!t?.parentSample) {
      this.#buffer += row(sample, this.#label, thread) + "\n";
      this.#rows++;
    }
    if (t) {
      this.#buffer += transactionRow(sample, t, thread, sample.timerWait ?? this.#timerMs) + "\n";
      this.#rows++;
    }
    if (this.#buffer.length >= this.#flushChars) void this.#drain().catch(() => {});
  }

  /**
   * Writes everything buffered so far.
   *
   * @returns When the bytes are handed to the OS.
   */
  flush(): Promise<void> {
    return this.#drain();
  }

  /**
   * Flushes and closes the file. Safe to call twice.
   *
   * @returns When the file is closed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#drain();
    } finally {
      this.#sink.close();
    }
  }

  #drain(): Promise<void> {
    const chunk = this.#buffer;
    this.#buffer = "";
    if (chunk !== "") {
      const bytes = this.#encoder.encode(chunk);
      this.#queue = this.#queue.then(() =>
        this.#error === undefined ? this.#writeAll(bytes) : undefined
      );
    }
    return this.#queue.then(() => {
      if (this.#error !== undefined) throw this.#error;
    });
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    try {
      for (let off = 0; off < bytes.length;) off += await this.#sink.write(bytes.subarray(off));
    } catch (err) {
      this.#error = err;
    }
  }
}

/**
 * Splits one JTL row into its fields, undoing {@linkcode quoteJtlField}: a
 * quoted field may hold the delimiter, and `""` inside it is one quote.
 *
 * @param row One line of a JTL file, without its newline.
 * @returns The fields.
 *
 * @example Usage
 * ```ts
 * import { splitJtlRow } from "./jtl.ts";
 * console.log(splitJtlRow('1,"a, ""b""",c')); // ["1", 'a, "b"', "c"]
 * ```
 */
export function splitJtlRow(row: string): string[] {
  const out: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < row.length; i++) {
    const c = row[i];
    if (quoted) {
      if (c === '"' && row[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      out.push(field);
      field = "";
    } else field += c;
  }
  out.push(field);
  return out;
}
