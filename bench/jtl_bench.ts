import { JtlWriter } from "../loadgen/jtl.ts";

const ROWS = 100_000;

Deno.bench(`JtlWriter writes ${ROWS} rows to a file`, async (b) => {
  const path = await Deno.makeTempFile({ suffix: ".jtl" });
  const jtl = await JtlWriter.create(path);
  const start = Date.now();
  b.start();
  for (let i = 0; i < ROWS; i++) {
    jtl.write({
      timeStamp: start + i,
      elapsed: i % 40,
      success: i % 1000 !== 0,
      errorKind: "timeout",
      bytes: 64,
      threadIndex: i % 100,
      grpThreads: 100,
      allThreads: 100,
      latency: i % 40,
      connect: 0,
    });
  }
  await jtl.close();
  b.end();
  await Deno.remove(path);
});
