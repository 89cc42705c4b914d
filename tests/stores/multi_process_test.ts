// Two separate Deno processes, two servers on loopback, one Deno KV file:
// a session started on one is seen, ended and regenerated across both.
import assert from "node:assert/strict";
import { Jar } from "../_helpers.ts";
import {
  type ServerProcess,
  startServer,
} from "../../support/server_process.ts";

function start(kvPath: string): Promise<ServerProcess> {
  const script = new URL("../fixtures/kv_server.ts", import.meta.url).pathname;
  return startServer(["--allow-all", script, kvPath]);
}

/** A browser talking to a real server over HTTP. */
function browser(server: ServerProcess, cookies?: Jar): Jar {
  const jar = new Jar(
    {
      request: (path: string, init: RequestInit) =>
        fetch(server.url + path, init),
    } as never,
  );
  if (cookies) { for (const [k, v] of cookies.cookies) jar.cookies.set(k, v); }
  return jar;
}

Deno.test("two Deno processes share sessions through one Deno KV file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hono-session-mp-" });
  const kvPath = `${dir}/sessions.kv`;
  // One after the other: two processes creating a new KV file at the same
  // moment can meet SQLite's "database is locked".
  const a = await start(kvPath);
  const b = await start(kvPath);
  try {
    assert.notEqual(a.url, b.url);
    // Log in through A, read through B.
    const viaA = browser(a);
    assert.deepEqual(await viaA.text("/login?user=ada", { method: "POST" }), [
      200,
      "ok",
    ]);
    const viaB = browser(b, viaA);
    assert.deepEqual(await viaB.text("/read"), [200, "ada"]);
    // Write through B, read through A.
    assert.deepEqual(await viaB.text("/count", { method: "POST" }), [200, "1"]);
    assert.deepEqual(await viaA.text("/count", { method: "POST" }), [200, "2"]);
    // Log out through B: A sees no session.
    await viaB.fetch("/logout", { method: "POST" });
    assert.deepEqual(viaB.last.map((c) => c.maxAge), [0, 0]);
    assert.deepEqual(await viaA.text("/read"), [200, "-"]);

    // Regenerate through A: the old id is dead on B, the new one works.
    const again = browser(a);
    await again.fetch("/login?user=lin", { method: "POST" });
    const oldId = again.get("sid")!;
    await again.fetch("/regen", { method: "POST" });
    assert.notEqual(again.get("sid"), oldId);
    const old = browser(b);
    old.cookies.set("sid", oldId);
    assert.deepEqual(await old.text("/read"), [200, "-"]);
    assert.deepEqual(await browser(b, again).text("/read"), [200, "lin"]);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await Deno.remove(dir, { recursive: true });
  }
});
