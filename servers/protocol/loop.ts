/**
 * The protocol API's own engine: the readiness loop of `nonblocking` (the
 * same OS calls, from `_loop_io.ts`), dispatching to {@linkcode Protocol}
 * callbacks instead of echoing inline — what asyncio's selector event loop
 * does for `asyncio.Protocol`.
 *
 * Per connection: readiness → one `recv` into the loop's one reused buffer →
 * `dataReceived(view)`. `write` tries `send` at once and copies only what the
 * kernel would not take; the socket is watched for writability only while
 * that buffer is non-empty. Back-pressure as asyncio documents it: after a
 * write leaves more than the high water mark buffered, `pauseWriting()`;
 * drained to the low mark, `resumeWriting()`.
 *
 * @module
 */
import {
  Acceptor,
  checkWaitFailure,
  FAILED,
  IdleSweep,
  PendingOutput,
  recvSome,
  sendSome,
  type Sweepable,
  waitTimeout,
  WOULD_BLOCK,
} from "../_loop_io.ts";
import { setImmediate } from "node:timers";
import { LOOP_STAT, type LoopThreadConfig } from "../_loop_thread.ts";
import { runnableCount } from "./_runnable.ts";
import * as libc from "../os/libc.ts";
import {
  attachWaker,
  ERROR,
  HANGUP,
  openPoller,
  type Poller,
  type PollerBackend,
  READABLE,
  WRITABLE,
} from "../os/poller.ts";
import { localAddress, peerAddress, sendFlags, setLinger } from "../os/socket.ts";
import {
  DEFAULT_HIGH_WATER,
  type Protocol,
  type ProtocolFactory,
  type Transport,
  type TransportAddr,
  type WriteBufferLimits,
} from "./types.ts";

/** What the loop needs; plain values, so it can be posted to a Worker. */
export interface ProtocolLoopConfig extends LoopThreadConfig {
  /** The mode named in warnings (`protocol`, or `stream` on this loop). */
  what: string;
  /** `epoll` or `poll`. */
  backend: PollerBackend;
  /** The module the Worker imports for the protocol factory (a URL). */
  protocolModule: string;
  /** The factory's export name in that module. */
  protocolExport: string;
  /** Bytes asked of one `recv`. */
  readSize: number;
  /** Each transport's initial high water mark. */
  highWater: number;
  /** Most connections open at once; beyond it one is accepted and closed at once. */
  maxConnections: number;
  /** Milliseconds a connection may stay silent before it is closed; 0: never. */
  idleTimeout: number;
}

/** Slots of the shared stats array (a `Float64Array`). */
export const ProtocolStat = {
  ...LOOP_STAT,
  writePauses: 8,
  writeResumes: 9,
  readPauses: 10,
  peakWriteBuffer: 11,
  length: 12,
} as const;

/** The loop's counters, shared by every transport. */
interface Counters {
  closed: number;
  bytesIn: number;
  bytesOut: number;
  errors: number;
  timedOut: number;
  writePauses: number;
  writeResumes: number;
  readPauses: number;
  peakWriteBuffer: number;
}

/** What a transport needs from its loop. */
interface LoopContext {
  poller: Poller;
  flags: number;
  counters: Counters;
  /** Called when the socket is closed; schedules `connectionLost`. */
  onClosed(transport: LoopTransport, error?: Error): void;
}

/** One connection: the {@linkcode Transport} the protocol holds, and the loop's record. */
class LoopTransport implements Transport, Sweepable {
  lastActive: number;
  protocol!: Protocol;
  readonly fd: number;
  /** What we last told the poller we want. */
  interest = READABLE;
  /** The peer sent EOF. */
  peerEof = false;
  #out = new PendingOutput();
  #ctx: LoopContext;
  #high: number;
  #low: number;
  #readingPaused = false;
  #writingPaused = false;
  #closing = false;
  #closed = false;

  constructor(fd: number, ctx: LoopContext, high: number, now: number) {
    this.fd = fd;
    this.#ctx = ctx;
    this.#high = high;
    this.#low = Math.floor(high / 4);
    this.lastActive = now;
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(data: Uint8Array): void {
    if (this.#closing || data.length === 0) return;
    const c = this.#ctx.counters;
    const out = this.#out;
    if (out.size > 0) {
      out.append(data, 0, data.length); // Behind earlier bytes, in order.
    } else {
      const sent = sendSome(this.fd, data, data.length, this.#ctx.flags);
      if (sent === FAILED) {
        return this.#fail(new Error(`send failed: ${libc.strerror(libc.errno())}`));
      }
      c.bytesOut += sent;
      if (sent === data.length) return; // The common case: nothing kept.
      out.append(data, sent, data.length);
      this.updateInterest();
    }
    if (out.size > c.peakWriteBuffer) c.peakWriteBuffer = out.size;
    if (!this.#writingPaused && out.size > this.#high) {
      this.#writingPaused = true;
      c.writePauses++;
      this.protocol.pauseWriting?.();
    }
  }

  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#out.size === 0) this.closeNow();
    else this.updateInterest(); // Stop reading; keep flushing.
  }

  abort(): void {
    if (this.#closed) return;
    this.#closing = true;
    this.#out.clear();
    // SO_LINGER 0: close sends a reset, so the peer learns at once.
    setLinger(this.fd, true, 0);
    this.closeNow();
  }

  pauseReading(): void {
    if (this.#readingPaused || this.#closing) return;
    this.#readingPaused = true;
    this.#ctx.counters.readPauses++;
    this.updateInterest();
  }

  resumeReading(): void {
    if (!this.#readingPaused || this.#closing) return;
    this.#readingPaused = false;
    this.updateInterest();
  }

  isReading(): boolean {
    return !this.#readingPaused && !this.#closing && !this.peerEof;
  }

  getWriteBufferSize(): number {
    return this.#out.size;
  }

  setWriteBufferLimits(limits: WriteBufferLimits = {}): void {
    const high = limits.high ?? (limits.low === undefined ? DEFAULT_HIGH_WATER : limits.low * 4);
    const low = limits.low ?? Math.floor(high / 4);
    if (!(high >= low && low >= 0)) {
      throw new RangeError(
        `Invalid write buffer limits high=${high} low=${low} (use high >= low >= 0)`,
      );
    }
    this.#high = high;
    this.#low = low;
  }

  getWriteBufferLimits(): Required<WriteBufferLimits> {
    return { high: this.#high, low: this.#low };
  }

  isClosing(): boolean {
    return this.#closing;
  }

  getPeerName(): TransportAddr {
    return peerAddress(this.fd);
  }

  getSockName(): TransportAddr {
    return localAddress(this.fd);
  }

  /** The socket is writable: sends what is buffered; resumes the writer at the low mark. */
  flush(): void {
    const sent = this.#out.flushTo(this.fd, this.#ctx.flags);
    if (sent === FAILED) {
      return this.#fail(new Error(`send failed: ${libc.strerror(libc.errno())}`));
    }
    this.#ctx.counters.bytesOut += sent;
    if (this.#writingPaused && this.#out.size <= this.#low) {
      this.#writingPaused = false;
      this.#ctx.counters.writeResumes++;
      this.protocol.resumeWriting?.();
      if (this.#closed) return;
    }
    if (this.#out.size === 0 && this.#closing) return this.closeNow();
    this.updateInterest();
  }

  /** Readable while reading is wanted; writable while bytes wait. */
  updateInterest(): void {
    if (this.#closed) return;
    let want = 0;
    if (!this.#readingPaused && !this.#closing && !this.peerEof) want |= READABLE;
    if (this.#out.size > 0) want |= WRITABLE;
    if (want !== this.interest) {
      this.#ctx.poller.modify(this.fd, want);
      this.interest = want;
    }
  }

  /** A failed connection: counted, closed, `connectionLost(error)`. */
  fail(error: Error): void {
    this.#fail(error);
  }

  #fail(error: Error): void {
    if (this.#closed) return;
    this.#ctx.counters.errors++;
    this.#closing = true;
    this.#out.clear();
    this.closeNow(error);
  }

  /** Closes the socket now and schedules `connectionLost`. */
  closeNow(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing = true;
    this.#out.clear();
    this.#ctx.poller.forget(this.fd);
    libc.close(this.fd);
    this.#ctx.onClosed(this, error);
  }
}

/** Lets the JS event loop run once: queued continuations, then due timers. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Microtask turns the loop waits for stream handlers before it yields a whole event-loop turn. */
const MICROTASK_TURNS = 8;

/**
 * Runs the promise continuations that this turn's callbacks started (stream
 * handlers handed a read's bytes), so that they have written and waited again
 * before the loop blocks. A few microtask turns do it for a plain
 * read-write loop; a handler still running after them (it waits on something
 * else) gets whole event-loop turns.
 */
async function settle(): Promise<void> {
  for (let i = 0; i < MICROTASK_TURNS && runnableCount() > 0; i++) await null;
  if (runnableCount() > 0) await yieldToEventLoop();
}

/**
 * Runs the protocol loop on the calling thread until the control word is set
 * and the waker fires. Blocks the thread in the poller's wait: run it on a
 * Worker. Callbacks run synchronously; after a turn that handed stream
 * handlers (`streams.ts`) their results, the loop lets their continuations
 * run before it waits again (asyncio runs ready callbacks and futures in one
 * turn the same way). A timer set by a protocol fires only when the loop
 * next yields: at once if a stream handler waits on it, else after the
 * next I/O event.
 *
 * @param config Sockets, backend, limits and shared memory.
 * @param factory Makes one protocol per connection.
 * @param warn Reports a condition the user should see. @default {stderr}
 * @returns When the loop has stopped and every socket is closed.
 */
export async function runProtocolLoop(
  config: ProtocolLoopConfig,
  factory: ProtocolFactory,
  warn: (message: string) => void = console.error,
): Promise<void> {
  const { listenFd, readSize } = config;
  const shared = new Float64Array(config.stats);
  const control = new Int32Array(config.control);
  const waker = attachWaker({ readFd: config.wakeReadFd, writeFd: config.wakeWriteFd });
  // One read buffer for every connection: a message costs no allocation.
  const buf = new Uint8Array(readSize);
  let view = buf.subarray(0, 0);
  const conns: (LoopTransport | undefined)[] = [];
  let open = 0;
  // connectionLost runs after the callback that closed the socket returns
  // (asyncio's call_soon), never inside the protocol's own write() or abort().
  let lost: { t: LoopTransport; error?: Error }[] = [];
  const counters: Counters = {
    closed: 0,
    bytesIn: 0,
    bytesOut: 0,
    errors: 0,
    timedOut: 0,
    writePauses: 0,
    writeResumes: 0,
    readPauses: 0,
    peakWriteBuffer: 0,
  };
  let warnedCallback = false;

  let now = Date.now();
  const idle = new IdleSweep(config.idleTimeout, now);
  const poller = openPoller({ backend: config.backend });
  const ctx: LoopContext = {
    poller,
    flags: sendFlags(),
    counters,
    onClosed(t, error) {
      conns[t.fd] = undefined;
      open--;
      counters.closed++;
      lost.push({ t, error });
    },
  };
  const acceptor = new Acceptor({
    listenFd,
    poller,
    maxConnections: config.maxConnections,
    what: config.what,
    warn,
  });
  poller.add(waker.readFd, READABLE);

  let stopping = false;
  while (!stopping) {
    let timeout = waitTimeout(acceptor, idle, now);
    // A stream handler waits on something other than its streams (a timer):
    // come back within a millisecond to let it run.
    if (runnableCount() > 0 && (timeout < 0 || timeout > 1)) timeout = 1;
    const n = poller.wait(timeout);
    if (timeout >= 0) now = Date.now();
    if (n < 0) {
      checkWaitFailure(config.backend);
      continue;
    }
    for (let i = 0; i < n; i++) {
      const fd = poller.readyFd(i);
      if (fd === listenFd) {
        acceptor.acceptAll(open, addConnection);
      } else if (fd === waker.readFd) {
        waker.drain();
        if (Atomics.load(control, 0) !== 0) stopping = true;
      } else {
        const t = conns[fd];
        if (!t) continue;
        try {
          service(t, poller.readyEvents(i));
        } catch (err) {
          callbackFailed(t, err);
        }
      }
    }
    // Stream handlers run now, so what they close is reported this turn.
    if (runnableCount() > 0) await settle();
    if (lost.length > 0) reportLost();
    if (now >= idle.next) {
      idle.sweep(now, conns, (t) => {
        counters.timedOut++;
        t.abort();
      });
    }
    acceptor.resumeIfDue(now);
    publish();
  }

  for (const t of conns) if (t) t.closeNow();
  reportLost();
  libc.close(listenFd);
  poller.close();
  publish();

  // ---------------------------------------------------------------------------

  function addConnection(fd: number): void {
    open++;
    const t = new LoopTransport(fd, ctx, config.highWater, now);
    conns[fd] = t;
    try {
      t.protocol = factory();
      t.protocol.connectionMade?.(t);
    } catch (err) {
      callbackFailed(t, err);
    }
  }

  /** Readiness for one connection: flush, then read and dispatch. */
  function service(t: LoopTransport, events: number): void {
    t.lastActive = now;
    if ((t.interest & WRITABLE) !== 0 && (events & (WRITABLE | ERROR | HANGUP)) !== 0) {
      t.flush();
      if (t.closed) return;
    }
    if ((t.interest & READABLE) !== 0 && (events & (READABLE | ERROR | HANGUP)) !== 0) {
      const r = recvSome(t.fd, buf, readSize);
      if (r > 0) {
        counters.bytesIn += r;
        // Same-sized messages (the usual case) reuse one view: no allocation per message.
        if (r !== view.length) view = buf.subarray(0, r);
        t.protocol.dataReceived(view);
      } else if (r === 0) {
        t.peerEof = true;
        t.updateInterest();
        if (t.protocol.eofReceived?.() !== true) t.close();
      } else if (r !== WOULD_BLOCK) {
        t.fail(new Error(`recv failed: ${libc.strerror(libc.errno())}`));
      }
    } else if (t.interest === 0 && (events & (ERROR | HANGUP)) !== 0) {
      // Nothing asked for, yet the socket is gone: level-triggered, it would be
      // reported on every wait. The peer reset or closed both ways.
      t.fail(new Error("connection reset by peer"));
    }
  }

  /** A callback that throws ends its own connection only (asyncio's fatal error). */
  function callbackFailed(t: LoopTransport, err: unknown): void {
    if (!warnedCallback) {
      warnedCallback = true;
      warn(`${config.what}: a protocol callback threw, aborting its connection: ${err}`);
    }
    t.fail(err instanceof Error ? err : new Error(String(err)));
  }

  function reportLost(): void {
    while (lost.length > 0) {
      const batch = lost;
      lost = [];
      for (const { t, error } of batch) {
        try {
          t.protocol?.connectionLost?.(error);
        } catch (err) {
          if (!warnedCallback) {
            warnedCallback = true;
            warn(`${config.what}: connectionLost threw: ${err}`);
          }
        }
      }
    }
  }

  function publish(): void {
    shared[ProtocolStat.accepted] = acceptor.accepted;
    shared[ProtocolStat.closed] = counters.closed + acceptor.dropped;
    shared[ProtocolStat.bytesIn] = counters.bytesIn;
    shared[ProtocolStat.bytesOut] = counters.bytesOut;
    shared[ProtocolStat.errors] = counters.errors + acceptor.errors;
    shared[ProtocolStat.rejected] = acceptor.rejected;
    shared[ProtocolStat.timedOut] = counters.timedOut;
    shared[ProtocolStat.syscalls] = libc.syscallCount();
    shared[ProtocolStat.writePauses] = counters.writePauses;
    shared[ProtocolStat.writeResumes] = counters.writeResumes;
    shared[ProtocolStat.readPauses] = counters.readPauses;
    shared[ProtocolStat.peakWriteBuffer] = counters.peakWriteBuffer;
  }
}
