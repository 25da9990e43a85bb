import assert from "node:assert/strict";
import { connectLocal, readToEnd } from "../../testing.ts";
import { createProtocolServer } from "../server.ts";

Deno.test({
  name: "upper_lines protocol answers each line uppercased, across chunks and at EOF",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await createProtocolServer({
      protocol: new URL("./upper_lines.ts", import.meta.url),
      port: 0,
    });
    try {
      const conn = await connectLocal(server.addr.port);
      const enc = new TextEncoder();
      await conn.write(enc.encode("hello\nwor"));
      await new Promise((r) => setTimeout(r, 50)); // Two reads on the server.
      await conn.write(enc.encode("ld ünï\nend"));
      await conn.closeWrite();
      assert.equal(new TextDecoder().decode(await readToEnd(conn)), "HELLO\nWORLD üNï\nEND");
      conn.close();
    } finally {
      await server.close();
    }
  },
});
