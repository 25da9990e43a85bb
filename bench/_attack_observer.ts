/**
 * Worker that watches a server while it is attacked: a healthy client doing
 * paced round trips (latency and exact-echo check) and a sampler of the
 * server's RSS. It runs on its own thread so the attack code in the main
 * thread cannot delay its measurements.
 *
 * Messages in: `ObserverStart`, then `"stop"`. Message out: `ObserverReport`.
 *
 * @module
 */
import type { ObserverReport, ObserverStart } from "./adversarial.ts";
import { rssBytes } from "../servers/testing.ts";

/** Round trips slower than this count as a timeout error (the server stalled us). */
const ROUND_TRIP_TIMEOUT_MS = 5000;
const MESSAGE_SIZE = 64;

const self = globalThis as unknown as {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
};

let stopped = false;
let conn: Deno.TcpConn | undefined;
const latenciesMs: number[] = [];
const errors: string[] = [];
let errorCount = 0;
let startRss = 0;
let peakRss = 0;
let sampler: ReturnType<typeof setInterval> | undefined;
let running: Promise<void> | undefined;

function sample(pid: number): void {
  const rss = rssBytes(pid) ?? 0;
  if (startRss === 0) startRss = rss;
  if (rss > peakRss) peakRss = rss;
}

function fail(message: string): void {
  errorCount++;
  if (errors.length < 5) errors.push(message);
  try {
    conn?.close();
  } catch {
    // Already closed.
  }
  conn = undefined;
}

async function roundTrip(port: number, seq: number): Promise<void> {
  conn ??= await Deno.connect({ hostname: "127.0.0.1", port });
  const msg = new TextEncoder().encode(`healthy ${seq} `.padEnd(MESSAGE_SIZE - 1, ".") + "\n");
  const back = new Uint8Array(MESSAGE_SIZE);
  const current = conn;
  const timer = setTimeout(() => {
    try {
      current.close();
    } catch {
      // Already closed.
    }
  }, ROUND_TRIP_TIMEOUT_MS);
  const started = performance.now();
  try {
    let off = 0;
    while (off < msg.length) off += await current.write(msg.subarray(off));
    let got = 0;
    while (got < back.length) {
      const n = await current.read(back.subarray(got));
      if (n === null) throw new Error(`EOF after ${got} bytes`);
      got += n;
    }
  } finally {
    clearTimeout(timer);
  }
  latenciesMs.push(performance.now() - started);
  for (let i = 0; i < msg.length; i++) {
    if (back[i] !== msg[i]) throw new Error(`Echo mismatch at byte ${i} of round trip ${seq}`);
  }
}

async function healthyLoop(start: ObserverStart): Promise<void> {
  let seq = 0;
  while (!stopped) {
    try {
      await roundTrip(start.port, seq++);
    } catch (err) {
      if (!stopped) fail(err instanceof Error ? err.message : String(err));
    }
    await new Promise((r) => setTimeout(r, start.pauseMs));
  }
}

self.onmessage = async (e: MessageEvent) => {
  if (e.data === "stop") {
    stopped = true;
    if (sampler !== undefined) clearInterval(sampler);
    try {
      conn?.close();
    } catch {
      // Already closed.
    }
    await running;
    const sorted = latenciesMs.toSorted((a, b) => a - b);
    const at = (q: number) => sorted.length ? sorted[Math.ceil(q * sorted.length) - 1] : NaN;
    const report: ObserverReport = {
      roundTrips: sorted.length,
      errorCount,
      errors,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      maxMs: sorted.length ? sorted[sorted.length - 1] : NaN,
      startRssBytes: startRss,
      peakRssBytes: peakRss,
    };
    self.postMessage(report);
    self.close();
    return;
  }
  const start = e.data as ObserverStart;
  sample(start.pid);
  sampler = setInterval(() => sample(start.pid), start.sampleEveryMs);
  running = healthyLoop(start);
  self.postMessage("started");
};
