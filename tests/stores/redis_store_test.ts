// RedisStore against a real redis-server: the conformance suite with both
// clients, conflicts, replace(), the node-redis "error" listener check, a
// crash of Redis mid-run with each client, and two Deno processes sharing
// one Redis.
import assert from "node:assert/strict";
import { createClient } from "redis";
import { Redis } from "ioredis";
import { Hono } from "hono";
import {
  session,
  SessionConflictError,
  type SessionRecord,
  userSessions,
} from "../../mod.ts";
import { RedisStore } from "../../stores/redis.ts";
import { storeConformance } from "../../testing.ts";
import { basicApp, Jar, storeKey, within } from "../_helpers.ts";
import {
  redisAvailable,
  redisMissing,
  redisRequired,
  RedisServer,
} from "../../support/redis_server.ts";
import {
  type ServerProcess,
  startServer,
} from "../../support/server_process.ts";

interface Client {
  store: RedisStore;
  /** Sends one raw command, past the store. */
  send(args: string[]): Promise<unknown>;
  close(): Promise<void>;
}

// node-redis as docs/stores.md sets it up: no offline queue, an "error"
// listener, reconnecting every 50 ms.
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
    send: (args) => raw.sendCommand(args),
    close: async () => void await raw.close(),
  };
}

// ioredis as docs/stores.md sets it up: no offline queue, no retries per
// request, its default reconnect strategy. Resolves once it is ready.
async function ioredis(server: RedisServer): Promise<Client & { raw: Redis }> {
  const raw = new Redis(server.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    lazyConnect: false,
  });
  raw.on("error", () => {});
  await ready(raw);
  return {
    raw,
    store: new RedisStore(raw),
    send: ([command, ...args]) => raw.call(command, ...args),
    close: () => Promise.resolve(raw.disconnect()),
  };
}

const clients = [
  ["node-redis v5", nodeRedis],
  ["ioredis v5", ioredis],
] as const;

async function ready(client: Redis): Promise<void> {
  if (client.status !== "ready") {
    await new Promise((r) => client.once("ready", r));
  }
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (!redisAvailable && redisRequired) {
  Deno.test("RedisStore: redis-server is required under CI=true", () => {
    throw new Error(`CI=true and ${redisMissing}`);
  });
} else if (!redisAvailable) {
  // Said here, once: other files skip their Redis cases without a word.
  console.warn(`Redis tests skipped: ${redisMissing}.`);
  Deno.test({
    name:
      "RedisStore (skipped: redis-server not installed; apt-get install -y redis-server)",
    ignore: true,
    fn() {},
  });
} else {
  for (const [name, connect] of clients) {
    storeConformance(`RedisStore (${name})`, async () => {
      const server = await RedisServer.start();
      const client = await connect(server);
      return {
        store: client.store,
        close: async () => {
          await client.close();
          await server.stop();
        },
      };
    }, { checksConflicts: true, checksExpiry: true, deviceBound: true });
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
    const client = await ioredis(server);
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

  Deno.test('RedisStore: refuses a node-redis client with no "error" listener; takes it with one, and ioredis either way', async () => {
    const server = await RedisServer.start();
    const bare = createClient({ url: server.url, disableOfflineQueue: true });
    let io: Redis | undefined;
    try {
      await bare.connect();
      assert.equal(bare.listenerCount("error"), 0);
      assert.throws(() => new RedisStore(bare), {
        name: "TypeError",
        message: /no "error" listener/,
      });
      bare.on("error", () => {});
      const store = new RedisStore(bare);
      const record = { data: { userId: "ada" }, expires: Date.now() + 60_000 };
      await store.set("x", record);
      assert.deepEqual(await store.get("x"), record);
      // ioredis only logs an unheard "error": accepted without a listener.
      io = new Redis(server.url, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
      });
      await ready(io);
      assert.equal(io.listenerCount("error"), 0);
      assert.deepEqual(await new RedisStore(io).get("x"), record);
    } finally {
      io?.disconnect();
      if (bare.isOpen) await bare.close();
      await server.stop();
    }
  });

  for (const [name, connect] of clients) {
    Deno.test(`RedisStore (${name}): replace() moves a session only if the old entry is as this request read it and the new id is free`, async () => {
      const server = await RedisServer.start();
      const { store, send, close } = await connect(server);
      const record = (v: string): SessionRecord => ({
        data: { v },
        expires: Date.now() + 60_000,
      });
      const raw = (id: string) => send(["GET", `sess:${id}`]);
      try {
        // Unchanged since this request's get: moved.
        await store.set("old1", record("a"));
        let c = {};
        assert.deepEqual((await store.get("old1", c))?.data, { v: "a" });
        const moved = record("b");
        await store.replace("old1", "new1", moved, c);
        assert.equal(await raw("old1"), null, "the old entry is gone");
        assert.equal(await raw("new1"), JSON.stringify(moved));
        assert.deepEqual(await store.get("new1"), moved);
        const ttl = Number(await send(["PTTL", "sess:new1"]));
        assert.ok(ttl > 50_000 && ttl <= 60_000, `PTTL ${ttl}`);

        // Changed by someone else after the get: conflict, nothing changes.
        await store.set("old2", record("a"));
        c = {};
        await store.get("old2", c);
        const other = JSON.stringify(record("someone else"));
        await send(["SET", "sess:old2", other]);
        await assert.rejects(
          store.replace("old2", "new2", record("b"), c),
          SessionConflictError,
        );
        assert.equal(await raw("old2"), other, "the other write stands");
        assert.equal(await raw("new2"), null, "no new entry");

        // Deleted after the get (a sign-out): conflict, nothing brought back.
        await store.set("old3", record("a"));
        c = {};
        await store.get("old3", c);
        await send(["DEL", "sess:old3"]);
        await assert.rejects(
          store.replace("old3", "new3", record("b"), c),
          SessionConflictError,
        );
        assert.equal(await raw("old3"), null);
        assert.equal(await raw("new3"), null, "no new entry");

        // The new id is taken: conflict, both entries as they were.
        await store.set("old4", record("a"));
        await store.set("new4", record("taken"));
        const [old4, new4] = [await raw("old4"), await raw("new4")];
        c = {};
        await store.get("old4", c);
        await assert.rejects(
          store.replace("old4", "new4", record("b"), c),
          SessionConflictError,
        );
        assert.equal(await raw("old4"), old4);
        assert.equal(await raw("new4"), new4);
      } finally {
        await close();
        await server.stop();
      }
    });

    Deno.test(`RedisStore (${name}): Redis killed mid-run: requests fail fast with 500, nothing half-written, the process lives on, the same cookie works once Redis is back`, async () => {
      const server = await RedisServer.start();
      const client = await connect(server);
      try {
        const app = basicApp({ store: client.store }).post("/regen", (c) => {
          c.session.regenerate();
          c.session.userId = "regenerated";
          return c.text("ok");
        });
        const jar = new Jar(app);
        await jar.fetch("/login?user=ada", { method: "POST" });
        assert.deepEqual(await jar.text("/count", { method: "POST" }), [
          200,
          "1",
        ]);
        const before = jar.get("sid")!;
        await server.kill();
        // Right after the crash, and again once the client is reconnecting.
        for (const wait of [0, 300]) {
          await delay(wait);
          for (
            const [path, method] of [["/read", "GET"], ["/count", "POST"], [
              "/regen",
              "POST",
            ], ["/logout", "POST"]]
          ) {
            const what = `${path} while Redis is down (after ${wait} ms)`;
            const res = await within(2_000, jar.fetch(path, { method }), what);
            await res.body?.cancel();
            assert.equal(res.status, 500, what);
            assert.equal(
              res.headers.get("set-cookie"),
              null,
              `${what}: the cookie is left alone`,
            );
          }
        }
        assert.equal(jar.get("sid"), before);
        await server.resume();
        // The client reconnects; the session is whole, as before the crash.
        const deadline = Date.now() + 10_000;
        let text = "";
        while (text !== "ada" && Date.now() < deadline) {
          const res = await within(
            2_000,
            jar.fetch("/read"),
            "/read after the restart",
          );
          text = await res.text();
          if (text !== "ada") await delay(50);
        }
        assert.equal(text, "ada", "signed in again once Redis is back");
        assert.equal(jar.get("sid"), before, "with the same cookie");
        assert.deepEqual(
          await jar.text("/count", { method: "POST" }),
          [200, "2"],
          "the counter from before the crash is intact",
        );
        const keys = await client.send(["KEYS", "sess:*"]);
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
  }

  Deno.test("RedisStore: two Deno processes share sessions through one Redis", async () => {
    const server = await RedisServer.start();
    const script =
      new URL("../fixtures/redis_server.ts", import.meta.url).pathname;
    const started = await Promise.allSettled([
      startServer(["--allow-all", script, server.url, "ioredis"]),
      startServer(["--allow-all", script, server.url, "redis"]),
    ]);
    const failure = started.find((r) => r.status === "rejected");
    if (failure) {
      // Stop the one that did start before failing.
      for (const r of started) {
        if (r.status === "fulfilled") await r.value.stop();
      }
      await server.stop();
      throw failure.reason;
    }
    const [a, b] = started.map((r) =>
      (r as PromiseFulfilledResult<ServerProcess>).value
    );
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

  Deno.test("RedisStore: an index member naming another user's session (left by a tool, or lagging) is not listed, and the session lives on", async () => {
    const server = await RedisServer.start();
    const client = await nodeRedis(server);
    try {
      const jar = new Jar(
        new Hono()
          .use(session<{ userId?: string }>({ store: client.store }))
          .get("/read", (c) => c.text(c.session.userId ?? "-"))
          .post("/signin", (c) => {
            c.session.regenerate({ user: "bob" });
            c.session.userId = "bob";
            return c.text("ok");
          }),
      );
      await jar.fetch("/signin", { method: "POST" });
      const id = storeKey(jar.get("sid")!);
      // Bob's session, named in Alice's index.
      await client.send([
        "ZADD",
        "sess:user:alice",
        String(Date.now() + 60_000),
        id,
      ]);
      assert.deepEqual(await client.store.listUser("alice"), []);
      assert.deepEqual(
        (await client.store.listUser("bob")).map((entry) => entry.id),
        [id],
      );
      assert.deepEqual(await jar.text("/read"), [200, "bob"]);
    } finally {
      await client.close();
      await server.stop();
    }
  });

  Deno.test("RedisStore: an ioredis client with a keyPrefix lists and revokes a user's sessions (the listing script builds keys with it)", async () => {
    const server = await RedisServer.start();
    // ioredis puts keyPrefix before every key it sends, but not before the
    // keys a script builds from its arguments.
    const raw = new Redis(server.url, {
      keyPrefix: "app:",
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    raw.on("error", () => {});
    await ready(raw);
    const plain = await nodeRedis(server); // sees the keys as they are
    try {
      const store = new RedisStore(raw);
      const app = new Hono()
        .use(session<{ userId?: string }>({ store }))
        .get("/read", (c) => c.text(c.session.userId ?? "-"))
        .post("/signin", (c) => {
          c.session.regenerate({ user: "u-1" });
          c.session.userId = "u-1";
          return c.text("ok");
        })
        .post("/regenerate", (c) => {
          c.session.regenerate();
          return c.text("ok");
        });
      const [a, b] = [new Jar(app), new Jar(app)];
      await a.fetch("/signin", { method: "POST" });
      await b.fetch("/signin", { method: "POST" });
      await b.fetch("/regenerate", { method: "POST" });
      assert.equal(
        Number(
          await plain.send(["EXISTS", `app:sess:${storeKey(a.get("sid")!)}`]),
        ),
        1,
      );
      const sessions = userSessions(store);
      assert.equal((await sessions.list("u-1")).length, 2);
      assert.equal(await sessions.revokeAll("u-1"), 2);
      assert.deepEqual(await a.text("/read"), [200, "-"]);
      assert.deepEqual(await b.text("/read"), [200, "-"]);
      assert.equal(Number(await plain.send(["DBSIZE"])), 0);
      // A keyPrefix that is not text (ioredis takes a Buffer) is refused.
      assert.throws(
        () =>
          new RedisStore({
            call: () => Promise.resolve(null),
            options: { keyPrefix: new Uint8Array([97]) },
          } as never),
        {
          name: "TypeError",
          message: /keyPrefix is a object; give it a string/,
        },
      );
    } finally {
      raw.disconnect();
      await plain.close();
      await server.stop();
    }
  });

  Deno.test("RedisStore: a user's index is a sorted set that expires with the user's last session; a second client revokes", async () => {
    const server = await RedisServer.start();
    const one = await nodeRedis(server);
    const two = await ioredis(server); // another instance of the app
    try {
      const app = (maxAge: number) =>
        new Hono()
          .use(session<{ userId?: string }>({ store: one.store, maxAge }))
          .get("/read", (c) => c.text(c.session.userId ?? "-"))
          .post("/signin", (c) => {
            c.session.regenerate({ user: c.req.query("user")! });
            c.session.userId = c.req.query("user")!;
            return c.text("ok");
          })
          .post("/logout", (c) => {
            c.session = null;
            return c.text("bye");
          });
      const a = new Jar(app(600));
      const b = new Jar(app(60));
      await a.fetch("/signin?user=u-1", { method: "POST" });
      await b.fetch("/signin?user=u-1", { method: "POST" });
      const index = "sess:user:u-1";
      const members = await one.send(["ZRANGE", index, "0", "-1"]);
      assert.deepEqual(
        (members as string[]).sort(),
        [storeKey(a.get("sid")!), storeKey(b.get("sid")!)].sort(),
      );
      const pttl = Number(await one.send(["PTTL", index]));
      assert.ok(pttl > 590_000 && pttl <= 600_000, `PTTL ${pttl}`);
      await b.fetch("/logout", { method: "POST" });
      assert.equal(
        Number(await one.send(["ZCARD", index])),
        1,
        "the signed-out one's member went",
      );
      assert.equal((await userSessions(two.store).list("u-1")).length, 1);
      // A sign-in as someone else moves the member to the other index.
      await b.fetch("/signin?user=u-1", { method: "POST" });
      await b.fetch("/signin?user=u-7", { method: "POST" });
      assert.equal(Number(await one.send(["ZCARD", index])), 1);
      assert.equal(Number(await one.send(["ZCARD", "sess:user:u-7"])), 1);
      // Revoked from outside a request: the member goes with the session.
      assert.equal(await userSessions(two.store).revokeAll("u-7"), 1);
      assert.equal(Number(await one.send(["EXISTS", "sess:user:u-7"])), 0);
      assert.equal(await userSessions(two.store).revokeAll("u-1"), 1);
      assert.deepEqual(await a.text("/read"), [200, "-"]);

      const short = new Jar(app(0.3));
      await short.fetch("/signin?user=u-2", { method: "POST" });
      assert.equal(Number(await one.send(["EXISTS", "sess:user:u-2"])), 1);
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(
        Number(await one.send(["EXISTS", "sess:user:u-2"])),
        0,
        "Redis dropped the index with its last session",
      );
    } finally {
      await one.close();
      await two.close();
      await server.stop();
    }
  });
}
