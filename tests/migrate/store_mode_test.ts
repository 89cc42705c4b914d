// migrateFrom: "hono-session@1" in store mode, against records written by
// the real hono-session 1.2.0 (npm) into the same store object (a Map, a
// MemoryStore, a store of the app's own over SQLite): found under the raw
// UUID the 1.x cookie holds, served as 1.2.0 would, moved at the first
// write to a new 256-bit id (the record under its hash, the 1.x record
// deleted, with the checked replace where the store has one), and a
// sign-out that races the move is never undone (real overlapping
// requests). Garbage never answers 5xx.
import assert from "node:assert/strict";
import {
  session,
  type SessionEvent,
  type SessionRecord,
  userSessions,
} from "../../mod.ts";
import { MemoryStore } from "../../stores/memory.ts";
import { storeKey, withFakeTime } from "../_helpers.ts";
import {
  Browser,
  Gates,
  LOADED,
  MOVED,
  ourApp,
  recorder,
  routes,
  type SharedStore,
  sharedStores,
  v1App,
  type V1Options,
} from "./_v1.ts";

const V1 = "hono-session@1";
const UUID =
  /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** A browser signed in on 1.2.0 with `store`, its welcome already shown. */
async function signedInOnV1(options: V1Options): Promise<Browser> {
  const browser = new Browser(v1App(options));
  assert.equal(await browser.step("POST /login?user=ada"), "200 ok");
  await browser.step("GET /state");
  assert.match(browser.cookies.get("sid")!, UUID);
  return browser;
}

/** Registers `v1 store <kind> [store]: name`, with a fresh store. */
function tests(shared: SharedStore, kind: string) {
  return (
    name: string,
    fn: (s: ReturnType<SharedStore["make"]>) => Promise<void>,
  ) =>
    Deno.test(`v1 store ${kind}[${shared.name}]: ${name}`, async () => {
      const s = shared.make();
      try {
        await fn(s);
      } finally {
        s.close();
      }
    });
}

for (const shared of sharedStores) {
  const test = tests(shared, "");

  test("served as 1.2.0 would, untouched by reads, moved to a new id at the first write", async (s) => {
    await withFakeTime(async (clock) => {
      const browser = await signedInOnV1({ store: s.store });
      const uuid = browser.cookies.get("sid")!;
      assert.deepEqual(s.ids(), [uuid]);
      const v1Record = await s.peek(uuid) as Record<string, unknown>;
      assert.deepEqual(Object.keys(v1Record).sort(), ["_expires", "userId"]);

      const events: SessionEvent[] = [];
      browser.app = ourApp({
        store: s.store,
        migrateFrom: V1,
        onEvent: recorder(events),
      });
      clock.tick(60_000);
      assert.equal(await browser.step("GET /me"), "200 ada");
      assert.equal(await browser.step("GET /me"), "200 ada");
      assert.equal(browser.last.length, 0, "a read sends no cookie");
      assert.deepEqual(s.ids(), [uuid], "and moves nothing");
      assert.deepEqual(events, [LOADED, LOADED]);

      events.length = 0;
      assert.equal(await browser.step("POST /count"), "200 1");
      assert.deepEqual(events, [LOADED, MOVED]);
      const token = browser.cookies.get("sid")!;
      assert.match(token, TOKEN, "a new 256-bit id of ours");
      assert.deepEqual(s.ids(), [storeKey(token)], "the 1.x record is gone");
      const record = await s.peek(storeKey(token)) as SessionRecord;
      assert.deepEqual({ ...record.data }, { userId: "ada", n: 1 });
      assert.equal(record.expires, v1Record._expires, "the 1.x deadline");
      const maxAge = browser.last.find((c) => c.name === "sid")!.maxAge;
      assert.equal(
        maxAge,
        Math.ceil((record.expires - clock.now()) / 1000),
      );

      events.length = 0;
      assert.equal(await browser.step("GET /me"), "200 ada");
      assert.deepEqual(events, [], "now one of ours");

      // The 1.x cookie, replayed: nothing under it any more.
      const replay = await browser.app.request("/me", {
        headers: { cookie: `sid=${uuid}` },
      });
      assert.equal(replay.status, 401);
      assert.deepEqual(events, [{ type: "unknown-id" }]);

      // One way: 1.2.0 does not know the new id.
      browser.app = v1App({ store: s.store });
      assert.equal(await browser.step("GET /me"), "401 Unauthorised");
    });
  });

  test("regenerate() and sign-out of a 1.x session move or delete its record", async (s) => {
    const browser = await signedInOnV1({ store: s.store });
    const app = ourApp({ store: s.store, migrateFrom: V1 });
    browser.app = app;
    assert.equal(await browser.step("POST /login?user=bob"), "200 ok");
    const token = browser.cookies.get("sid")!;
    assert.deepEqual(s.ids(), [storeKey(token)]);

    const other = await signedInOnV1({ store: s.store });
    other.app = app;
    assert.equal(await other.step("POST /logout"), "200 bye");
    assert.equal(other.cookies.size, 0, "both cookies expired");
    assert.deepEqual(s.ids(), [storeKey(token)], "its 1.x record deleted");
  });

  test("an expired 1.x record is refused at its deadline, and deleted", async (s) => {
    await withFakeTime(async (clock) => {
      const browser = await signedInOnV1({ store: s.store, maxAge: 60 });
      const uuid = browser.cookies.get("sid")!;
      const { _expires } = await s.peek(uuid) as { _expires: number };
      const events: SessionEvent[] = [];
      browser.app = ourApp({
        store: s.store,
        migrateFrom: V1,
        onEvent: recorder(events),
      });
      clock.tick(_expires - clock.now() - 1);
      assert.equal(await browser.step("GET /me"), "200 ada");
      clock.tick(1);
      events.length = 0;
      assert.equal(await browser.step("GET /me"), "401 Unauthorised");
      assert.deepEqual(events, [LOADED, {
        type: "expired",
        reason: "lifetime",
      }]);
      assert.deepEqual(s.ids(), []);
    });
  });

  test("with idleTimeout, the first read writes its activity back (the session moves), and a session then left idle ends", async (s) => {
    await withFakeTime(async (clock) => {
      const browser = await signedInOnV1({ store: s.store });
      const uuid = browser.cookies.get("sid")!;
      const events: SessionEvent[] = [];
      browser.app = ourApp({
        store: s.store,
        migrateFrom: V1,
        idleTimeout: 600,
        onEvent: recorder(events),
      });
      clock.tick(3600_000); // 1.x kept no activity: idle since 1.x counts not
      assert.equal(await browser.step("GET /me"), "200 ada");
      assert.deepEqual(events, [LOADED, MOVED], "a read, written back");
      const token = browser.cookies.get("sid")!;
      assert.match(token, TOKEN);
      assert.deepEqual(s.ids(), [storeKey(token)], "the 1.x record is gone");
      const record = await s.peek(storeKey(token)) as SessionRecord;
      assert.equal(record.expires, clock.now() + 600_000);
      // Left idle past the window its first request opened: ended.
      clock.tick(600_000);
      assert.equal(await browser.step("GET /me"), "401 Unauthorised");
      const replay = await browser.app.request("/me", {
        headers: { cookie: `sid=${uuid}` },
      });
      assert.equal(replay.status, 401);
    });
  });

  test("a 1.x record without _expires (1.x given maxAge: undefined) is served as 1.x did, with maxAge from now, until it moves", async (s) => {
    await withFakeTime(async (clock) => {
      const browser = await signedInOnV1({
        store: s.store,
        maxAge: undefined as unknown as number,
      });
      const uuid = browser.cookies.get("sid")!;
      const { _expires } = await s.peek(uuid) as { _expires?: number };
      assert.ok(!Number.isFinite(_expires), "no deadline: NaN, null or none");
      browser.app = ourApp({ store: s.store, migrateFrom: V1, maxAge: 60 });
      clock.tick(86400_000 * 30);
      assert.equal(await browser.step("GET /me"), "200 ada", "as 1.x would");
      assert.equal(browser.cookies.get("sid"), uuid);
      assert.equal(await browser.step("POST /count"), "200 1");
      const token = browser.cookies.get("sid")!;
      const record = await s.peek(storeKey(token)) as SessionRecord;
      assert.equal(record.expires, clock.now() + 60_000, "a real deadline");
      clock.tick(60_000);
      assert.equal(await browser.step("GET /me"), "401 Unauthorised");
    });
  });

  test("pending flash values carry over and are dropped after one request", async (s) => {
    const browser = new Browser(v1App({ store: s.store }));
    await browser.step("POST /login?user=ada"); // flashes the welcome
    browser.app = ourApp({ store: s.store, migrateFrom: V1 });
    assert.equal(
      await browser.step("GET /state"),
      '200 {"userId":"ada","n":null,"cart":null,"notice":"welcome ada","isNew":false}',
    );
    assert.match(browser.cookies.get("sid")!, TOKEN, "the drop was a write");
    assert.equal(
      await browser.step("GET /state"),
      '200 {"userId":"ada","n":null,"cart":null,"notice":null,"isNew":false}',
    );
  });

  test("bound to no cookie name, as in 1.x: a 1.x id of another cookie in the same store is read too; ours are not", async (s) => {
    const admin = new Browser(v1App({ store: s.store, cookieName: "admin" }));
    await admin.step("POST /login?user=mallory");
    await admin.step("GET /state");
    const uuid = admin.cookies.get("admin")!;
    const sid = ourApp({ store: s.store, migrateFrom: V1 });
    const res = await sid.request("/me", {
      headers: { cookie: `sid=${uuid}` },
    });
    assert.equal(await res.text(), "mallory", "1.x read it so too");
    admin.app = ourApp({
      store: s.store,
      cookieName: "admin",
      migrateFrom: V1,
    });
    await admin.step("POST /count");
    const token = admin.cookies.get("admin")!;
    assert.match(token, TOKEN);
    const moved = await sid.request("/me", {
      headers: { cookie: `sid=${token}` },
    });
    assert.equal(moved.status, 401);
  });

  test("without migrateFrom, or for ids 1.x never drew, the store is not asked", async (s) => {
    const browser = await signedInOnV1({ store: s.store });
    const uuid = browser.cookies.get("sid")!;
    const asked: string[] = [];
    const get = s.store.get.bind(s.store);
    s.store.get = (id: string, c: unknown) => {
      asked.push(id);
      return get(id, c);
    };
    const events: SessionEvent[] = [];
    const onEvent = (e: SessionEvent) => void events.push(e);
    const plain = ourApp({ store: s.store, onEvent });
    const ask = async (app: typeof plain, value: string) =>
      (await app.request("/me", { headers: { cookie: `sid=${value}` } }))
        .status;
    assert.equal(await ask(plain, uuid), 401);
    assert.deepEqual(events, [{ type: "invalid-cookie", reason: "malformed" }]);

    const migrating = ourApp({ store: s.store, migrateFrom: V1, onEvent });
    for (
      const value of [
        uuid.toUpperCase(),
        uuid.replace(/^(.{14})4/, "$11"), // version 1
        uuid.replace(/^(.{19})./, "$1c"), // another variant
        `${uuid.slice(0, -1)}`,
        `${uuid}0`,
        "00000000-0000-0000-0000-000000000000",
        "not-a-uuid-not-a-uuid-not-a-uuid-123",
      ]
    ) assert.equal(await ask(migrating, value), 401, value);
    assert.deepEqual(asked, [], "none of these reached the store");
    assert.equal(await ask(migrating, uuid), 200);
    assert.deepEqual(asked, [uuid]);
    // A well-formed 1.x id the store does not know.
    events.length = 0;
    assert.equal(await ask(migrating, crypto.randomUUID()), 401);
    assert.deepEqual(events, [{ type: "unknown-id" }]);
  });

  test("garbage under a 1.x id is no session, never a 5xx", async (s) => {
    const expires = Date.now() + 60_000;
    const garbage: unknown[] = [
      "text",
      42,
      true,
      [],
      [{ _expires: expires }],
      { _expires: String(expires), userId: "ada" },
      { _expires: {}, userId: "ada" },
      { _expires: expires, _flashKeys: "notice", notice: "x" },
      { _expires: expires, _flashKeys: [1], notice: "x" },
      { _expires: expires, _flashKeys: { 0: "notice" }, notice: "x" },
    ];
    const events: SessionEvent[] = [];
    const app = ourApp({
      store: s.store,
      migrateFrom: V1,
      onEvent: recorder(events),
    });
    for (const value of garbage) {
      const uuid = crypto.randomUUID();
      await s.store.set(uuid, value);
      events.length = 0;
      const res = await app.request("/state", {
        headers: { cookie: `sid=${uuid}` },
      });
      assert.equal(res.status, 200, JSON.stringify(value));
      assert.equal((await res.json()).isNew, true);
      assert.deepEqual(events, [
        { type: "invalid-cookie", reason: "bad-record" },
      ]);
    }
  });
}

// What only a store that keeps objects can hold: what 1.x put in it as is.
Deno.test("v1 store [Map]: values JSON cannot write are no session; the rest arrive as JSON gives them", async () => {
  const map = new Map<string, any>();
  const app = ourApp({ store: map, migrateFrom: V1 });
  const expires = Date.now() + 60_000;
  const cyclic: Record<string, unknown> = { _expires: expires };
  cyclic.self = cyclic;
  const throwing = { _expires: expires };
  Object.defineProperty(throwing, "boom", {
    enumerable: true,
    get() {
      throw new Error("boom");
    },
  });
  const hostile = new Proxy({}, {
    ownKeys() {
      throw new Error("no keys");
    },
  });
  for (
    const value of [
      { _expires: expires, big: 1n },
      cyclic,
      throwing,
      hostile,
      { _expires: 1n },
    ]
  ) {
    const uuid = crypto.randomUUID();
    map.set(uuid, value);
    const res = await app.request("/me", {
      headers: { cookie: `sid=${uuid}` },
    });
    assert.equal(res.status, 401);
  }
  const uuid = crypto.randomUUID();
  map.set(uuid, {
    _expires: expires,
    userId: "ada",
    profile: { since: new Date(0) },
    gone: undefined,
    _flashKeys: ["gone"],
  });
  const res = await app.request("/state", {
    headers: { cookie: `sid=${uuid}` },
  });
  assert.equal(res.status, 200);
  const browser = new Browser(app);
  browser.cookies.set("sid", uuid);
  assert.equal(await browser.step("POST /count"), "200 1");
  const record = map.get(
    storeKey(browser.cookies.get("sid")!),
  ) as SessionRecord;
  assert.deepEqual({ ...record.data }, {
    userId: "ada",
    profile: { since: "1970-01-01T00:00:00.000Z" },
    n: 1,
  });
  assert.equal(record.flash, undefined, "a flash key without a value");
});

Deno.test("v1 store [MemoryStore]: the move is the checked replace that regenerate() uses", async () => {
  const store = new MemoryStore({ sweepInterval: 0 });
  const calls: [string, string][] = [];
  const replace = store.replace.bind(store);
  store.replace = (oldId, newId, record, c) => {
    calls.push([oldId, newId]);
    replace(oldId, newId, record, c);
  };
  const browser = await signedInOnV1({ store });
  const uuid = browser.cookies.get("sid")!;
  browser.app = ourApp({ store, migrateFrom: V1 });
  await browser.step("POST /count");
  assert.deepEqual(calls, [[uuid, storeKey(browser.cookies.get("sid")!)]]);
  assert.equal(store.size, 1);
  store.close();
});

Deno.test("v1 store [MemoryStore]: its sweep leaves 1.x records (they have no expires); a request after their deadline deletes them", async () => {
  await withFakeTime(async (clock) => {
    const store = new MemoryStore({ sweepInterval: 0 });
    const browser = await signedInOnV1({ store, maxAge: 60 });
    clock.tick(61_000);
    assert.equal(store.sweep(), 0);
    assert.equal(store.size, 1);
    browser.app = ourApp({ store, migrateFrom: V1 });
    assert.equal(await browser.step("GET /me"), "401 Unauthorised");
    assert.equal(store.size, 0);
    store.close();
  });
});

Deno.test("v1 store [MemoryStore]: a 1.x session is no user's, whatever its values, until regenerate({ user }) ties it; then listed and revoked", async () => {
  const store = new MemoryStore({ sweepInterval: 0 });
  const browser = await signedInOnV1({ store });
  const uuid = browser.cookies.get("sid")!;
  // A value named like our record's user: MemoryStore indexes it, but a
  // 1.x record is no record of ours, so it is never listed.
  browser.app = v1App({ store });
  await browser.step("POST /slow-set?key=user&value=ada");
  assert.equal((store.get(uuid) as Record<string, unknown>).user, "ada");
  const users = userSessions(store);
  assert.deepEqual(await users.list("ada"), []);
  assert.equal(await users.revokeAll("ada"), 0);

  const app = routes(session({ store, migrateFrom: V1 }));
  app.post("/tie", (c) => {
    c.session.regenerate({ user: "ada" });
    return c.text("ok");
  });
  browser.app = app;
  const replay = browser.tab();
  assert.equal(await browser.step("GET /me"), "200 ada", "served, untied");
  assert.deepEqual(await users.list("ada"), []);
  assert.equal(await browser.step("POST /tie"), "200 ok");
  assert.match(browser.cookies.get("sid")!, TOKEN);
  const listed = await users.list("ada");
  assert.equal(listed.length, 1);
  assert.equal(listed[0]!.values.userId, "ada");
  assert.equal(await users.revokeAll("ada"), 1);
  assert.equal(await browser.step("GET /me"), "401 Unauthorised");
  assert.equal(await replay.step("GET /me"), "401 Unauthorised", "1.x id");
  assert.equal(store.size, 0);
  store.close();
});

// Real overlapping requests: a handler that read the 1.x session waits at
// a gate while another request runs to its end.
for (const shared of sharedStores) {
  const test = tests(shared, "races ");

  test("a sign-out while the move is held open is not undone", async (s) => {
    const gates = new Gates();
    const browser = await signedInOnV1({ store: s.store });
    const uuid = browser.cookies.get("sid")!;
    const events: SessionEvent[] = [];
    const app = ourApp({
      store: s.store,
      migrateFrom: V1,
      onEvent: recorder(events),
    }, gates);
    browser.app = app;
    const slow = browser.tab();
    const held = slow.fetch("/slow-set?gate=g&key=n&value=1", {
      method: "POST",
    });
    await gates.reached("g");
    assert.equal(await browser.step("POST /logout"), "200 bye");
    assert.deepEqual(s.ids(), []);
    gates.open("g");
    const res = await held;
    assert.equal(res.status, 409, await res.text());
    assert.equal(slow.last.length, 0, "no cookie for a session not saved");
    assert.deepEqual(s.ids(), [], "nothing brought back, under any id");
    assert.ok(
      events.some((e) => e.type === "conflict" && e.outcome === "rejected"),
    );
    assert.ok(
      !events.some((e) => e.type === "legacy-session" && e.step === "moved"),
    );
    const replay = await app.request("/me", {
      headers: { cookie: `sid=${uuid}` },
    });
    assert.equal(replay.status, 401);
  });

  test("with idleTimeout, two reads racing the move: one moves it, the other is answered as usual, one session", async (s) => {
    const gates = new Gates();
    const browser = await signedInOnV1({ store: s.store });
    const events: SessionEvent[] = [];
    browser.app = ourApp({
      store: s.store,
      migrateFrom: V1,
      idleTimeout: 600,
      onEvent: recorder(events),
    }, gates);
    const a = browser.tab();
    const b = browser.tab();
    const heldA = a.fetch("/slow-read?gate=a");
    const heldB = b.fetch("/slow-read?gate=b");
    await Promise.all([gates.reached("a"), gates.reached("b")]);
    gates.open("a");
    assert.equal(await (await heldA).text(), "ada");
    gates.open("b");
    const resB = await heldB;
    assert.equal(resB.status, 200);
    assert.equal(await resB.text(), "ada");
    assert.equal(b.last.length, 0, "no cookie: the browser keeps a's");
    const token = a.cookies.get("sid")!;
    assert.deepEqual(s.ids(), [storeKey(token)], "one live session");
    assert.equal(await a.step("GET /me"), "200 ada");
    assert.ok(!events.some((e) => e.type === "conflict"), "no conflict");
  });

  test("with idleTimeout, a read held open while the 1.x session is signed out is answered, and brings nothing back", async (s) => {
    const gates = new Gates();
    const browser = await signedInOnV1({ store: s.store });
    browser.app = ourApp({
      store: s.store,
      migrateFrom: V1,
      idleTimeout: 600,
    }, gates);
    const slow = browser.tab();
    const held = slow.fetch("/slow-read?gate=g");
    await gates.reached("g");
    assert.equal(await browser.step("POST /logout"), "200 bye");
    gates.open("g");
    const res = await held;
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "ada", "it read the session while alive");
    assert.equal(slow.last.length, 0);
    assert.deepEqual(s.ids(), [], "nothing brought back, under any id");
  });

  test("two writes racing the move: one moves it, the other gets 409, one session", async (s) => {
    const gates = new Gates();
    const browser = await signedInOnV1({ store: s.store });
    browser.app = ourApp({ store: s.store, migrateFrom: V1 }, gates);
    const a = browser.tab();
    const b = browser.tab();
    const heldA = a.fetch("/slow-set?gate=a&key=x&value=1", { method: "POST" });
    const heldB = b.fetch("/slow-set?gate=b&key=y&value=2", { method: "POST" });
    await Promise.all([gates.reached("a"), gates.reached("b")]);
    gates.open("a");
    assert.equal((await heldA).status, 200);
    gates.open("b");
    const resB = await heldB;
    assert.equal(resB.status, 409, await resB.text());
    assert.equal(b.last.length, 0);
    const token = a.cookies.get("sid")!;
    assert.deepEqual(s.ids(), [storeKey(token)], "one live session");
    assert.equal(await a.step("GET /me"), "200 ada");
  });
}

Deno.test("v1 store races [MemoryStore]: a 1.x instance still running writes while the move is held: both changes kept", async () => {
  const store = new MemoryStore({ sweepInterval: 0 });
  const gates = new Gates();
  const browser = await signedInOnV1({ store });
  const ours = browser.tab();
  ours.app = ourApp({ store, migrateFrom: V1 }, gates);
  const held = ours.fetch("/slow-set?gate=g&key=mood&value=calm", {
    method: "POST",
  });
  await gates.reached("g");
  assert.equal(await browser.step("POST /count"), "200 1"); // on 1.2.0
  gates.open("g");
  assert.equal((await held).status, 200);
  const token = ours.cookies.get("sid")!;
  assert.equal(store.size, 1);
  const record = store.get(storeKey(token))!;
  assert.deepEqual({ ...record.data }, { userId: "ada", n: 1, mood: "calm" });
  store.close();
});
