// RedisStore against a real redis-server: the conformance suite with both
// clients, conflicts, a crash of Redis mid-run, and two Deno processes
// sharing one Redis.
import assert from "node:assert/strict";
import { createClient } from "redis";
import { Redis } from "ioredis";
import { Hono } from "hono";
import { session, SessionConflictError, type SessionStore } from "../mod.ts";
import { RedisStore } from "../stores/redis.ts";
import { storeConformance } from "./store_conformance.ts";
import { basicApp, Jar, storeKey } from "./_helpers.ts";
import { redisAvailable, RedisServer } from "./_redis.ts";
import { startServer } from "./_server.ts";

type Client = { store: SessionStore; close(): Promise<void> };

async function nodeRedis(
  server: RedisServer,
): Promise<Client & { raw: ReturnType<typeof createClient> }> {
  const raw = createClient({
    url: server.url,
    disableOfflineQueue: true,
    socket: { reconnectStrategy: () => 50 },
  });
  raw.on("error", () => {}); // reconnects are expected in the crash test
  await raw.connect();
  return {
    raw,
    store: new RedisStore(raw),
    close: async () => void await raw.close(),
  };
}

function ioredis(server: RedisServer): Client & { raw: Redis } {
  const raw = new Redis(server.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    lazyConnect: false,
  });
  raw.on("error", () => {});
  return {
    raw,
    store: new RedisStore(raw),
    close: () => Promise.resolve(raw.disconnect()),
  };
}

async function ready(client: Redis): Promise<void> {
  if (client.status !== "ready") {
    await new Promise((r) => client.once("ready", r));
  }
}

if (!redisAvailable) {
  Deno.test({
    name: "RedisStore (redis-server not installed)",
    ignore: true,
    fn() {},
  });
} else {
  for (
    const [name, connect] of [["node-redis v5", nodeRedis], [
      "ioredis v5",
      ioredis,
    ]] as const
  ) {
    storeConformance(`RedisStore (${name})`, async () => {
      const server = await RedisServer.start();
      const client = await connect(server);
      if ("status" in client.raw) await ready(client.raw as Redis);
      return {
        store: client.store,
        close: async () => {
          await client.close();
          await server.stop();
        },
      };
    });
  }

  Deno.test("RedisStore: entries carry Redis's own expiry (PX) and a prefix", async () => {
    const server = await RedisServer.start();
    const client = await nodeRedis(server);
    try {
      const store = new RedisStore(client.raw, { prefix: "app:s:" });
      const jar = new Jar(basicApp({ store, maxAge: 600 }));
      await jar.fetch("/login", { method: "POST" });
      const key = `app:s:${storeKey(jar.get("sid")!)}`;
      const ttl = Number(await client.raw.sendCommand(["PTTL", key]));
      assert.ok(ttl > 590_000 && ttl <= 600_000, `PTTL ${ttl}`);
      assert.equal(
        JSON.parse(String(await client.raw.get(key))).data.userId,
        "ada",
      );
    } finally {
      await client.close();
      await server.stop();
    }
  });

  Deno.test("RedisStore: refuses a client of another shape", () => {
    assert.throws(
      () => new RedisStore({} as never),
      /pass a connected ioredis client/,
    );
  });

  Deno.test("RedisStore: a slow request cannot undo a sign-out; different keys merge; same-key writes fail with 409", async () => {
    const server = await RedisServer.start();
    const client = ioredis(server);
    await ready(client.raw);
    try {
      let arrive = () => {};
      let wait = Promise.resolve();
      const app = new Hono()
        .use(session<Record<string, string>>({ store: client.store }))
        .post("/set", (c) => {
          for (const [k, v] of Object.entries(c.req.query())) c.session[k] = v;
          return c.text("ok");
        })
        .post("/slow", async (c) => {
          void c.session.userId;
          arrive();
          await wait;
          for (const [k, v] of Object.entries(c.req.query())) c.session[k] = v;
          return c.text("ok");
        })
        .post("/logout", (c) => {
          c.session = null;
          return c.text("bye");
        })
        .get("/all", (c) => c.json({ ...c.session }));
      app.onError((err, c) =>
        c.text(err.message, err instanceof SessionConflictError ? 409 : 500)
      );
      const slow = async (jar: Jar, query: string) => {
        let open!: () => void;
        wait = new Promise<void>((r) => open = r);
        const reached = new Promise<void>((r) => arrive = r);
        const done = jar.fetch(`/slow?${query}`, { method: "POST" });
        await reached;
        return { done, open };
      };
      // Sign-out during a slow write: stays signed out.
      const a = new Jar(app);
      await a.fetch("/set?userId=ada", { method: "POST" });
      const key = `sess:${storeKey(a.get("sid")!)}`;
      const other = new Jar(app);
      other.cookies.set("sid", a.get("sid")!);
      let s = await slow(a, "cart=1");
      await other.fetch("/logout", { method: "POST" });
      s.open();
      assert.equal((await s.done).status, 409);
      assert.equal(await client.raw.exists(key), 0, "not resurrected");
      // Different keys at once: merged.
      const b = new Jar(app);
      await b.fetch("/set?userId=bo", { method: "POST" });
      const tab = new Jar(app);
      tab.cookies.set("sid", b.get("sid")!);
      s = await slow(b, "cart=2");
      await tab.fetch("/set?theme=dark", { method: "POST" });
      s.open();
      assert.equal((await s.done).status, 200);
      assert.deepEqual(await (await b.fetch("/all")).json(), {
        userId: "bo",
        theme: "dark",
        cart: "2",
      });
      // The same key at once: the later one fails loudly.
      s = await slow(b, "theme=blue");
      await tab.fetch("/set?theme=light", { method: "POST" });
      s.open();
      assert.equal((await s.done).status, 409);
      assert.equal((await (await tab.fetch("/all")).json()).theme, "light");
    } finally {
      await client.close();
      await server.stop();
    }
  });

  Deno.test("RedisStore: Redis killed mid-run: requests fail cleanly, nothing half-written, the app recovers", async () => {
    const server = await RedisServer.start();
    const client = await nodeRedis(server);
    try {
      const store = client.store;
      const app = basicApp({ store }).post("/regen", (c) => {
        c.session.regenerate();
        c.session.userId = "regenerated";
        return c.text("ok");
      });
      const jar = new Jar(app);
      await jar.fetch("/login?user=ada", { method: "POST" });
      const before = jar.get("sid")!;
      await server.kill();
      for (
        const [path, method] of [["/read", "GET"], ["/count", "POST"], [
          "/regen",
          "POST",
        ], ["/logout", "POST"]]
      ) {
        const res = await jar.fetch(path, { method });
        assert.equal(res.status, 500, `${path} while Redis is down`);
        assert.equal(
          res.headers.get("set-cookie"),
          null,
          `${path}: the cookie is left alone`,
        );
      }
      assert.equal(jar.get("sid"), before);
      await server.resume();
      // The client reconnects; the session is whole, as before the crash.
      let text = "";
      for (let i = 0; i < 100 && text !== "ada"; i++) {
        const res = await jar.fetch("/read");
        text = await res.text();
        if (text !== "ada") await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(text, "ada", "signed in again once Redis is back");
      assert.deepEqual(await jar.text("/count", { method: "POST" }), [
        200,
        "1",
      ]);
      const keys = (await client.raw.keys("sess:*")) as string[];
      assert.deepEqual(
        keys,
        [`sess:${storeKey(before)}`],
        "no orphan from the failed regenerate",
      );
    } finally {
      await client.close();
      await server.stop();
    }
  });

  Deno.test("RedisStore: two Deno processes share sessions through one Redis", async () => {
    const server = await RedisServer.start();
    const script =
      new URL("./fixtures/redis_server.ts", import.meta.url).pathname;
    const [a, b] = await Promise.all([
      startServer(["--allow-all", script, server.url, "ioredis"]),
      startServer(["--allow-all", script, server.url, "redis"]),
    ]);
    const browser = (base: string) =>
      new Jar(
        {
          request: (path: string, init: RequestInit) =>
            fetch(base + path, init),
        } as never,
      );
    try {
      const viaA = browser(a.url);
      await viaA.fetch("/login?user=ada", { method: "POST" });
      const viaB = browser(b.url);
      viaB.cookies.set("sid", viaA.get("sid")!);
      assert.deepEqual(await viaB.text("/read"), [200, "ada"]);
      await viaB.fetch("/logout", { method: "POST" });
      assert.deepEqual(await viaA.text("/read"), [200, "-"]);
      await viaA.fetch("/login?user=lin", { method: "POST" });
      const old = viaA.get("sid")!;
      await viaA.fetch("/regen", { method: "POST" });
      const stale = browser(b.url);
      stale.cookies.set("sid", old);
      assert.deepEqual(await stale.text("/read"), [200, "-"]);
      viaB.cookies.set("sid", viaA.get("sid")!);
      assert.deepEqual(await viaB.text("/read"), [200, "lin"]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await server.stop();
    }
  });
}
