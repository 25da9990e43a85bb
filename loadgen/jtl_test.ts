import assert from "node:assert/strict";
import {
  formatJtlRow,
  JTL_HEADER,
  jtlFailureMessage,
  type JtlSample,
  type JtlSink,
  jtlThreadGroupName,
  JtlWriter,
  quoteJtlField,
  splitJtlRow,
} from "./jtl.ts";
import { UsageError } from "../util/errors.ts";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import parseJtl from "parse-jtl";
import { startServerProcess } from "../servers/child.ts";
import { BUILTIN_PLANS } from "./plans.ts";
import { runLoad } from "./run.ts";

const HOSTILE = fileURLToPath(new URL("../fixtures/hostile_server.ts", import.meta.url));

const OK: JtlSample = {
  timeStamp: 1700000000123,
  elapsed: 14,
  success: true,
  bytes: 64,
  threadIndex: 0,
  grpThreads: 100,
  allThreads: 100,
  latency: 13,
  connect: 0,
};

Deno.test("JTL_HEADER is JMeter 5.x's default 17-column header", () => {
  assert.equal(
    JTL_HEADER,
    "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect",
  );
  assert.equal(JTL_HEADER.split(",").length, 17);
});

Deno.test("formatJtlRow() writes a success row like JMeter's TCP Sampler", () => {
  assert.equal(
    formatJtlRow(OK),
    "1700000000123,14,TCP Sampler,200,OK,Thread Group 1-1,text,true,,64,0,100,100,null,13,0,0",
  );
  assert.equal(
    formatJtlRow({ ...OK, threadIndex: 99, sentBytes: 64 }, {
      label: "Echo",
      threadGroupName: "Users",
    }),
    "1700000000123,14,Echo,200,OK,Users 1-100,text,true,,64,64,100,100,null,13,0,0",
  );
});

Deno.test("formatJtlRow() writes failures as 500 with Java-style exception text", () => {
  const fail = (errorKind: JtlSample["errorKind"], extra: Partial<JtlSample> = {}) =>
    splitJtlRow(formatJtlRow({ ...OK, success: false, errorKind, bytes: 12, ...extra }));
  const timeout = fail("timeout");
  assert.equal(timeout.length, 17);
  assert.deepEqual(timeout.slice(3, 9), [
    "500",
    "org.apache.jmeter.protocol.tcp.sampler.ReadException: Error reading from server, bytes read: 12",
    "Thread Group 1-1",
    "text",
    "false",
    "",
  ]);
  assert.equal(fail("refused")[4], "java.net.ConnectException: Connection refused");
  assert.equal(fail("reset")[4], "java.net.SocketException: Connection reset");
  assert.equal(
    fail("connect", { errorDetail: "No route to host" })[4],
    "java.net.ConnectException: No route to host",
  );
  assert.equal(fail(undefined)[4], "java.io.IOException: I/O error");
  assert.match(fail("eof")[4], /^java\.io\.EOFException: .*bytes read: 12$/);
  assert.match(fail("mismatch")[4], /^echokit\.EchoMismatchException: /);
  // The timeout text has a comma, so it is quoted in the raw row.
  assert.match(
    formatJtlRow({ ...OK, success: false, errorKind: "timeout" }),
    /,500,"org\.apache[^"]*, bytes read: 64",/,
  );
  assert.equal(jtlFailureMessage("other", 0, "boom"), "java.io.IOException: boom");
});

Deno.test("quoteJtlField() quotes only delimiter, quote, CR and LF, doubling quotes", () => {
  assert.equal(quoteJtlField("plain text; ok"), "plain text; ok");
  assert.equal(quoteJtlField("a,b"), '"a,b"');
  assert.equal(quoteJtlField('say "hi"'), '"say ""hi"""');
  assert.equal(quoteJtlField("two\nlines"), '"two\nlines"');
  assert.equal(quoteJtlField("cr\r"), '"cr\r"');
  const row = formatJtlRow(OK, { label: 'Echo, "fast"', threadGroupName: "A,B" });
  assert.deepEqual(splitJtlRow(row).slice(2, 6), ['Echo, "fast"', "200", "OK", "A,B 1-1"]);
});

/** A sink that records writes, accepting at most `chunk` bytes per call. */
function memorySink(chunk = Infinity) {
  const writes: Uint8Array[] = [];
  let closed = false;
  const sink: JtlSink = {
    write(p) {
      const n = Math.min(p.length, chunk);
      writes.push(p.slice(0, n));
      return Promise.resolve(n);
    },
    close() {
      closed = true;
    },
  };
  return {
    sink,
    writes,
    text: () => new TextDecoder().decode(new Uint8Array(writes.flatMap((w) => [...w]))),
    closed: () => closed,
  };
}

Deno.test("JtlWriter writes the header, then whole rows in order, in few large writes", async () => {
  const mem = memorySink();
  const jtl = new JtlWriter(mem.sink, { flushChars: 10_000 });
  for (let i = 0; i < 1000; i++) {
    jtl.write({ ...OK, timeStamp: OK.timeStamp + i, threadIndex: i % 7 });
  }
  await jtl.flush();
  assert.equal(jtl.rows, 1000);
  assert.ok(mem.writes.length < 20, `${mem.writes.length} writes for 1000 rows`);
  for (const w of mem.writes) {
    assert.equal(w[w.length - 1], 10, "every write ends with a whole row");
  }
  const lines = mem.text().split("\n");
  assert.equal(lines[0], JTL_HEADER);
  assert.equal(lines.length, 1002);
  assert.equal(lines[1001], "");
  for (let i = 0; i < 1000; i++) {
    const f = lines[i + 1].split(",");
    assert.equal(f.length, 17);
    assert.equal(Number(f[0]), OK.timeStamp + i);
    assert.equal(f[5], `Thread Group 1-${(i % 7) + 1}`);
  }
  await jtl.close();
  await jtl.close();
  assert.ok(mem.closed());
  assert.throws(() => jtl.write(OK), /after close/);
});

Deno.test("JtlWriter completes partial writes", async () => {
  const mem = memorySink(7);
  const jtl = new JtlWriter(mem.sink);
  jtl.write(OK);
  await jtl.close();
  assert.equal(mem.text(), `${JTL_HEADER}\n${formatJtlRow(OK)}\n`);
});

Deno.test("JtlWriter reports a failed write on the next flush and write", async () => {
  const sink: JtlSink = {
    write: () => Promise.reject(new Error("disk full")),
    close() {},
  };
  const jtl = new JtlWriter(sink);
  jtl.write(OK);
  await assert.rejects(jtl.flush(), /disk full/);
  assert.throws(() => jtl.write(OK), /disk full/);
  await assert.rejects(jtl.close(), /disk full/);
});

Deno.test("JtlWriter.create() truncates the file and leaves a complete JTL", async () => {
  const path = await Deno.makeTempFile({ suffix: ".jtl" });
  try {
    await Deno.writeTextFile(path, "old content that must go\n".repeat(100));
    const jtl = await JtlWriter.create(path, { flushChars: 100 });
    for (let i = 0; i < 50; i++) jtl.write({ ...OK, threadIndex: i });
    await jtl.close();
    const lines = (await Deno.readTextFile(path)).split("\n");
    assert.equal(lines[0], JTL_HEADER);
    assert.equal(lines.length, 52);
    assert.equal(lines[50], formatJtlRow({ ...OK, threadIndex: 49 }));
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("jtlThreadGroupName() names threads as JMeter's distributed mode, one series per host", () => {
  assert.equal(jtlThreadGroupName(), "Thread Group");
  const names = ["hostA", "10.0.0.7:1099"].map((prefix) =>
    formatJtlRow(OK, { threadGroupName: jtlThreadGroupName(prefix) }).split(",")[5]
  );
  assert.deepEqual(names, ["hostA-Thread Group 1-1", "10.0.0.7:1099-Thread Group 1-1"]);
  // The dashboard keys "Active Threads Over Time" by the text before the last space.
  const keys = names.map((n) => n.slice(0, n.lastIndexOf(" ")));
  assert.deepEqual(keys, ["hostA-Thread Group", "10.0.0.7:1099-Thread Group"]);
  for (const bad of ["", "host A", "a,b", "x".repeat(65)]) {
    assert.throws(() => jtlThreadGroupName(bad), UsageError, `"${bad}"`);
  }
});

Deno.test("parse-jtl, an independent reader, finds echokit's own totals in its JTL", async () => {
  const server = await startServerProcess({
    command: [
      Deno.execPath(),
      "run",
      "-A",
      HOSTILE,
      "--behaviour",
      "close-after:4",
      "--port",
      "{port}",
    ],
    name: "hostile-close-after",
  });
  const path = await Deno.makeTempFile({ suffix: ".jtl" });
  try {
    const r = await runLoad({
      plan: { ...BUILTIN_PLANS.plan2, threads: 3, loops: 10, rampUp: 0, label: "Echo" },
      hostname: "127.0.0.1",
      port: server.addr.port,
      jtl: path,
    });
    assert.ok(r.errors > 0, "the hostile server should cause errors");
    // parse-jtl reads the path relative to the working directory.
    const report = parseJtl.parse(relative(Deno.cwd(), path));
    const echo = report.all["Echo"];
    assert.equal(echo.samples, r.samples);
    assert.equal(echo.errors, r.errors);
    assert.equal(echo.average, Number((r.latency.sumElapsedMs! / r.samples).toFixed(2)));
    assert.equal(Math.trunc(echo.total / echo.samples), r.latency.avgMs);
  } finally {
    await server.stop();
    await Deno.remove(path);
  }
});
