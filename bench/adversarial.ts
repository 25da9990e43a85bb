/**
 * Hostile clients for echo servers, and the observer that measures what they
 * cost: while each attack runs, a healthy client on its own thread keeps
 * doing round trips (its p99 is recorded, every echo is checked) and the
 * server's RSS is sampled for its peak.
 *
 * Each attack checks its own correctness (exact echoes, connections served)
 * and throws on failure; figures are reported, never asserted against a time.
 * Used by `adversarial_test.ts` (quick scale) and `deno task bench:adversarial`
 * (long scale).
 *
 * @module
 */
import { alignRows } from "../util/text_table.ts";
import {
  connectLocal,
  pattern,
  readExactly,
  roundTrip,
  seededRandom,
  writeAll,
} from "../servers/testing.ts";

/** How hard the attacks push. */
export interface AttackScale {
  /** Idle connections held at once. */
  idleConnections: number;
  /** Seconds the never-reading client keeps sending. */
  neverReadSeconds: number;
  /** Clients that reset mid-message. */
  resets: number;
  /** Bytes sent in one go by the big-message client. */
  bigMessageBytes: number;
  /** Clients sending seeded random binary. */
  randomClients: number;
  /** Bytes each random client sends. */
  randomBytesPerClient: number;
  /** Connect/close churn target rate, connections per second. */
  churnPerSecond: number;
  /** Seconds of churn. */
  churnSeconds: number;
}

/** The scale `deno task test` runs: every attack, bounded to a few seconds per mode. */
export const QUICK_SCALE: AttackScale = {
  idleConnections: 2000,
  neverReadSeconds: 1.5,
  resets: 40,
  bigMessageBytes: 16 * 1024 * 1024,
  randomClients: 8,
  randomBytesPerClient: 512 * 1024,
  churnPerSecond: 2000,
  churnSeconds: 1,
};

/** The scale of the long variant (`deno task bench:adversarial`): the full numbers. */
export const LONG_SCALE: AttackScale = {
  idleConnections: 10_000,
  neverReadSeconds: 10,
  resets: 1000,
  bigMessageBytes: 16 * 1024 * 1024,
  randomClients: 32,
  randomBytesPerClient: 8 * 1024 * 1024,
  churnPerSecond: 2000,
  churnSeconds: 10,
};

/** Where the attacked server is. */
export interface AttackTarget {
  /** Its loopback port. */
  port: number;
  /** Its process id (for RSS). */
  pid: number;
}

/** One hostile client behaviour. */
export interface Attack {
  /** Short name for tables (`idle`, `never-read`). */
  name: string;
  /** What the attacker does and what the server must do, for test names. */
  description: string;
  /**
   * Runs the attack to completion, checking the server's answers.
   *
   * @returns A note for the figures table (an achieved rate), if any.
   * @throws {Error} When the server answered wrongly or stopped serving.
   */
  run(target: AttackTarget, scale: AttackScale): Promise<string | undefined>;
  /** Generous bound on the server's RSS growth during the attack, bytes. */
  maxGrowthBytes(scale: AttackScale): number;
}

/** What the observer thread is told to do (internal to this module and its worker). */
export interface ObserverStart {
  /** Server port for the healthy client. */
  port: number;
  /** Server pid for RSS sampling. */
  pid: number;
  /** Pause between healthy round trips, ms. */
  pauseMs: number;
  /** RSS sampling period, ms. */
  sampleEveryMs: number;
}

/** What the observer thread measured. */
export interface ObserverReport {
  /** Healthy round trips completed. */
  roundTrips: number;
  /** Healthy round trips that failed (wrong bytes, EOF, reset, timeout). */
  errorCount: number;
  /** The first few failure messages. */
  errors: string[];
  /** Healthy round-trip median, ms. */
  p50Ms: number;
  /** Healthy round-trip 99th percentile, ms. */
  p99Ms: number;
  /** Slowest healthy round trip, ms. */
  maxMs: number;
  /** Server RSS when the attack started, bytes. */
  startRssBytes: number;
  /** Highest server RSS sampled during the attack, bytes. */
  peakRssBytes: number;
}

/** Options for {@linkcode observeAttack}. */
export interface ObserveOptions {
  /** How hard the attack pushes. @default {QUICK_SCALE} */
  scale?: AttackScale;
  /** Longest the attack may take before it counts as a hang, ms. @default {120000} */
  timeoutMs?: number;
}

/** One attack's figures. */
export interface AttackFigures extends ObserverReport {
  /** The attack's name. */
  attack: string;
  /** The attack's own note (achieved rate…). */
  note?: string;
}

/**
 * Runs an attack while a healthy client and an RSS sampler watch the server
 * from another thread.
 *
 * @param target The server.
 * @param attack What to run.
 * @param options How hard, and how long before a hang.
 * @returns The figures; the attack's own failure (or a hang) is thrown.
 *
 * @example Usage
 * ```ts ignore
 * import { observeAttack, QUICK_SCALE, SERVER_ATTACKS } from "./adversarial.ts";
 * const figures = await observeAttack({ port, pid }, SERVER_ATTACKS[0], { scale: QUICK_SCALE });
 * console.log(figures.p99Ms, figures.peakRssBytes);
 * ```
 */
export async function observeAttack(
  target: AttackTarget,
  attack: Attack,
  options: ObserveOptions = {},
): Promise<AttackFigures> {
  const { scale = QUICK_SCALE, timeoutMs = 120_000 } = options;
  const worker = new Worker(new URL("./_attack_observer.ts", import.meta.url), {
    type: "module",
  });
  const messages: unknown[] = [];
  let wake: (() => void) | undefined;
  worker.onmessage = (e) => {
    messages.push(e.data);
    wake?.();
  };
  const next = async (): Promise<unknown> => {
    while (messages.length === 0) await new Promise<void>((r) => wake = r);
    return messages.shift();
  };
  try {
    const start: ObserverStart = { ...target, pauseMs: 2, sampleEveryMs: 20 };
    worker.postMessage(start);
    await next();
    // Let the healthy client measure a baseline before the attack starts.
    await new Promise((r) => setTimeout(r, 100));
    let note: string | undefined;
    let failure: unknown;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      note = await Promise.race([
        attack.run(target, scale),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(new Error(`Attack "${attack.name}" did not finish within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } catch (err) {
      failure = err;
    } finally {
      clearTimeout(timer);
    }
    worker.postMessage("stop");
    const report = await next() as ObserverReport;
    if (failure !== undefined) throw failure;
    return { attack: attack.name, note, ...report };
  } finally {
    worker.terminate();
  }
}

/**
 * Fills `n` bytes from a seeded PRNG.
 *
 * @param n Length.
 * @param random The PRNG.
 * @returns The bytes.
 */
export function randomBytes(n: number, random: () => number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (random() * 256) | 0;
  return out;
}

/**
 * Throws unless two byte arrays are equal, naming the first differing offset
 * (fast on 16 MiB, unlike a generic deep-equal).
 *
 * @param actual What came back.
 * @param expected What was sent.
 * @param what What is compared, for the message.
 */
export function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: got ${actual.length} bytes, sent ${expected.length}`);
  }
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) throw new Error(`${what}: first wrong byte at offset ${i}`);
  }
}

const MiB = 1024 * 1024;

/** Connections sent nothing, held open, then checked to be still served. */
const idle: Attack = {
  name: "idle",
  description: "clients that connect and send nothing stay served",
  async run(target, scale) {
    const conns: Deno.TcpConn[] = [];
    try {
      // Open in batches: a burst of thousands of SYNs would test the backlog,
      // not idle connections.
      while (conns.length < scale.idleConnections) {
        const batch = Math.min(500, scale.idleConnections - conns.length);
        conns.push(
          ...await Promise.all(Array.from({ length: batch }, () => connectLocal(target.port))),
        );
      }
      await new Promise((r) => setTimeout(r, 500));
      // Every 100th idle connection must still echo.
      const msg = new TextEncoder().encode("still there?\n");
      for (let i = 0; i < conns.length; i += 100) {
        assertSameBytes(await roundTrip(conns[i], msg), msg, `idle connection ${i}`);
      }
    } finally {
      for (const conn of conns) conn.close();
    }
    return `${conns.length} held`;
  },
  maxGrowthBytes: (scale) => 64 * MiB + scale.idleConnections * 64 * 1024,
};

/** One client sends forever and never reads; the server must stop reading it. */
const neverRead: Attack = {
  name: "never-read",
  description: "a client that sends forever and never reads is stopped at a bounded buffer",
  async run(target, scale) {
    const hog = await connectLocal(target.port);
    const chunk = pattern(MiB);
    let sent = 0;
    const deadline = Date.now() + scale.neverReadSeconds * 1000;
    const writing = (async () => {
      try {
        while (Date.now() < deadline) {
          await writeAll(hog, chunk);
          sent += chunk.length;
        }
      } catch {
        // Closed below while a write was stalled.
      }
    })();
    await Promise.race([
      writing,
      new Promise((r) => setTimeout(r, scale.neverReadSeconds * 1000 + 200)),
    ]);
    hog.close();
    await writing;
    // The kernel buffers a few MiB both ways; the rest must have stalled.
    if (sent >= 64 * MiB) throw new Error(`The server kept reading: ${sent} bytes accepted`);
    return `${(sent / MiB).toFixed(0)} MiB accepted`;
  },
  maxGrowthBytes: () => 48 * MiB,
};

/** Clients that close with unread echoes pending, so the kernel sends RST mid-message. */
const resetMidMessage: Attack = {
  name: "reset",
  description: "clients that reset mid-message end only their own connection",
  async run(target, scale) {
    const message = pattern(256 * 1024);
    let done = 0;
    while (done < scale.resets) {
      const batch = Math.min(10, scale.resets - done);
      await Promise.all(Array.from({ length: batch }, async () => {
        const conn = await connectLocal(target.port);
        // Send a whole message but read only its first bytes: the server is
        // mid-echo and our receive buffer holds unread data, so close() resets.
        const writing = writeAll(conn, message).catch(() => {});
        await readExactly(conn, 1024);
        conn.close();
        await writing;
      }));
      done += batch;
    }
    return `${done} resets`;
  },
  // Garbage from the echoes in flight, collected lazily; a leak would grow
  // with the count (1000 resets move 256 MiB).
  maxGrowthBytes: () => 128 * MiB,
};

/** One 16 MiB message written in one call, echoed exactly. */
const bigMessage: Attack = {
  name: "16MiB",
  description: "16 MiB written in one go is echoed exactly",
  async run(target, scale) {
    const data = randomBytes(scale.bigMessageBytes, seededRandom(16));
    const conn = await connectLocal(target.port);
    try {
      assertSameBytes(await roundTrip(conn, data), data, `${scale.bigMessageBytes}-byte echo`);
    } finally {
      conn.close();
    }
    return undefined;
  },
  maxGrowthBytes: (scale) => 64 * MiB + 4 * scale.bigMessageBytes,
};

/** Seeded random binary in random-sized writes, echoed exactly per client. */
const randomBinary: Attack = {
  name: "random",
  description: "seeded random binary in random-sized writes is echoed exactly",
  async run(target, scale) {
    await Promise.all(Array.from({ length: scale.randomClients }, async (_, c) => {
      const random = seededRandom(1000 + c);
      const data = randomBytes(scale.randomBytesPerClient, random);
      const conn = await connectLocal(target.port);
      try {
        const reading = readExactly(conn, data.length);
        let off = 0;
        while (off < data.length) {
          const size = 1 + Math.floor(random() * 65536);
          await writeAll(conn, data.subarray(off, off + size));
          off += size;
        }
        assertSameBytes(await reading, data, `random client ${c} (seed ${1000 + c})`);
      } finally {
        conn.close();
      }
    }));
    return `${scale.randomClients} × ${(scale.randomBytesPerClient / 1024).toFixed(0)} KiB`;
  },
  // Per client: a bounded buffer plus garbage collected lazily; far below the
  // data moved (256 MiB in the long variant), which a leak would approach.
  maxGrowthBytes: (scale) => 64 * MiB + scale.randomClients * 4 * MiB,
};

/** Connections opened and closed at a target rate; one in ten checks an echo. */
const churn: Attack = {
  name: "churn",
  description: "connections opened and closed at 2000/s are all served",
  async run(target, scale) {
    const tickMs = 10;
    const perTick = Math.max(1, Math.round(scale.churnPerSecond * tickMs / 1000));
    const started = performance.now();
    const end = started + scale.churnSeconds * 1000;
    let opened = 0;
    let tick = 0;
    const msg = new TextEncoder().encode("churn\n");
    while (performance.now() < end) {
      const due = started + tick++ * tickMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await Promise.all(Array.from({ length: perTick }, async (_, i) => {
        const conn = await connectLocal(target.port);
        try {
          if (i === 0) assertSameBytes(await roundTrip(conn, msg), msg, "churn echo");
        } finally {
          conn.close();
        }
      }));
      opened += perTick;
    }
    const rate = opened / ((performance.now() - started) / 1000);
    return `${rate.toFixed(0)} conn/s`;
  },
  maxGrowthBytes: () => 64 * MiB,
};

/** Every attack in the order the suite runs them. */
export const SERVER_ATTACKS: readonly Attack[] = [
  idle,
  neverRead,
  resetMidMessage,
  bigMessage,
  randomBinary,
  churn,
];

/**
 * Formats figures as a compact table, one row per mode × attack.
 *
 * @param rows Figures per mode.
 * @returns The table, lines joined by `\n`.
 *
 * @example Usage
 * ```ts ignore
 * console.log(formatFigures([{ mode: "stream", figures }]));
 * ```
 */
export function formatFigures(rows: { mode: string; figures: AttackFigures[] }[]): string {
  const mib = (b: number) => (b / MiB).toFixed(1);
  const ms = (v: number) => Number.isNaN(v) ? "-" : v.toFixed(2);
  const lines = [
    [
      "mode",
      "attack",
      "rss0 MiB",
      "peak MiB",
      "healthy n",
      "p50 ms",
      "p99 ms",
      "max ms",
      "err",
      "note",
    ],
  ];
  for (const { mode, figures } of rows) {
    for (const f of figures) {
      lines.push([
        mode,
        f.attack,
        mib(f.startRssBytes),
        mib(f.peakRssBytes),
        String(f.roundTrips),
        ms(f.p50Ms),
        ms(f.p99Ms),
        ms(f.maxMs),
        String(f.errorCount),
        f.note ?? "",
      ]);
    }
  }
  const last = lines[0].length - 1;
  return alignRows(lines, (i) => i < 2 || i === last ? "l" : "r").lines.join("\n");
}
