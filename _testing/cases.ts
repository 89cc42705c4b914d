// The cases of the store conformance kit: what every store must do (through
// a real app and directly), and what a store that claims more must do too.
import assert from "node:assert/strict";
import type { Context } from "hono";
import {
  SessionConflictError,
  type SessionRecord,
  type SessionStore,
  type UserSession,
  userSessions,
} from "../mod.ts";
import { randomToken, storeKey } from "../_store_mode/ids.ts";
import { aContext, BIG, testApp } from "./app.ts";
import { Jar } from "./jar.ts";
import type { Case } from "./case.ts";
import { sleep, waitPast } from "./clock.ts";
import { DEVICE_BOUND_CASES } from "./device_bound_cases.ts";

export type { Case, Group } from "./case.ts";

function record(
  data: Record<string, unknown>,
  ttlMs = 60_000,
): SessionRecord {
  return { data, expires: Date.now() + ttlMs };
}

/**
 * A new session id, as the middleware makes them, and the key the store
 * sees: every case uses ids of its own, so a store shared between cases
 * does not upset them.
 */
function anId(): { token: string; key: string } {
  const token = randomToken();
  return { token, key: storeKey(token) };
}

/** What the store's `get` returns, typed as the record it should be. */
async function read(
  store: SessionStore,
  id: string,
  c: Context,
): Promise<SessionRecord | undefined> {
  const got = await store.get(id, c);
  return got === undefined || got === null ? undefined : got as SessionRecord;
}

async function absent(
  store: SessionStore,
  id: string,
  c: Context,
  what: string,
): Promise<void> {
  const got = await store.get(id, c);
  assert.ok(
    got === undefined || got === null,
    `${what}: expected no entry, got ${JSON.stringify(got)?.slice(0, 200)}`,
  );
}

async function holds(
  store: SessionStore,
  id: string,
  c: Context,
  data: Record<string, unknown>,
  what: string,
): Promise<void> {
  const got = await read(store, id, c);
  assert.ok(got !== undefined, `${what}: expected an entry`);
  assert.deepEqual(got.data, data, what);
}

/** Fails unless `action` throws (or rejects with) a SessionConflictError. */
async function conflicts(action: () => unknown, what: string): Promise<void> {
  let thrown: unknown;
  try {
    await action();
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown !== undefined, `${what}: expected a SessionConflictError`);
  if (!(thrown instanceof SessionConflictError)) {
    assert.fail(
      `${what}: expected a SessionConflictError (the class of the @x/hono-session copy the app uses), got ${
        thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : thrown
      }`,
    );
  }
}

/**
 * Sends `path` and waits until the request has loaded its session and is
 * held; `release()` lets it finish, `done` is its response.
 */
async function held(
  app: ReturnType<typeof testApp>,
  jar: Jar,
  path: string,
): Promise<{ done: Promise<Response>; release(): void }> {
  const hold = app.hold();
  let reached = false;
  const done = jar.fetch(path, { method: "POST" });
  await Promise.race([
    hold.reached.then(() => reached = true),
    done.then(async (res) => {
      if (reached) return;
      throw new Error(
        `${path} answered ${res.status} before reaching its handler: ${await res
          .clone().text()}`,
      );
    }),
  ]);
  return { done, release: hold.release };
}

/**
 * A test app on `store`, signed in through `login` in jar `a`, and a
 * second jar `tab` holding the same cookie (another tab of one browser).
 */
async function signedInTwice(
  store: SessionStore,
  login = "/login",
): Promise<
  { app: ReturnType<typeof testApp>; a: Jar; tab: Jar; token: string }
> {
  const app = testApp({ store });
  const a = new Jar(app.app);
  await a.fetch(login, { method: "POST" });
  const token = a.get("sid")!;
  const tab = new Jar(app.app);
  tab.cookies.set("sid", token);
  return { app, a, tab, token };
}

/** A user id of the case's own, so a shared store does not mix cases. */
function aUser(): string {
  return `user-${randomToken().slice(0, 12)}`;
}

/** Signs a new device (jar) in as `user`, tied to that user. */
async function device(app: ReturnType<typeof testApp>, user: string) {
  const jar = new Jar(app.app);
  const res = await jar.fetch(`/signin?user=${user}`, { method: "POST" });
  assert.equal(res.status, 200, await res.text());
  return jar;
}

async function listing(jar: Jar): Promise<UserSession[]> {
  const res = await jar.fetch("/sessions");
  assert.equal(res.status, 200, await res.clone().text());
  return await res.json();
}

/** Every case but the device-bound ones, in the order they run. */
const STORE_CASES: readonly Case[] = [
  {
    title: "a session round-trips through the middleware",
    group: "basic",
    async run(store) {
      const jar = new Jar(testApp({ store }).app);
      assert.equal((await jar.fetch("/login", { method: "POST" })).status, 200);
      assert.deepEqual(await jar.text("/read"), [200, "ada"]);
      const saved = await read(
        store,
        storeKey(jar.get("sid")!),
        await aContext(),
      );
      assert.deepEqual(saved?.data, { userId: "ada" });
      assert.ok(saved!.expires > Date.now(), "expires is in the future");
    },
  },
  {
    title: "get returns every field set saved",
    group: "basic",
    async run(store) {
      const c = await aContext();
      const now = Date.now();
      const saved: SessionRecord = {
        data: {
          userId: "u-42",
          n: 1.5,
          yes: true,
          none: null,
          list: [1, "two", { three: 3 }],
          nested: { "ü🙂 \u2028": "quotes \" ' \\ <tag> & \u0000" },
          notice: "flashed",
        },
        expires: now + 60_000,
        created: now - 1_000,
        limit: now + 120_000,
        flash: ["notice"],
        user: "u-42",
        persistent: false,
        seen: now - 500,
      };
      const { key } = anId();
      await absent(store, key, c, "before any set");
      await store.set(key, structuredClone(saved), c);
      assert.deepEqual(await store.get(key, c), saved);
      assert.deepEqual(await store.get(key, await aContext()), saved);
    },
  },
  {
    title: "a later set replaces what was saved",
    group: "basic",
    async run(store) {
      const jar = new Jar(testApp({ store }).app);
      for (let i = 1; i <= 3; i++) {
        assert.deepEqual(await jar.text("/count", { method: "POST" }), [
          200,
          String(i),
        ]);
      }
      const c = await aContext();
      await holds(store, storeKey(jar.get("sid")!), c, { n: 3 }, "after 3");
      // Directly: the whole record is replaced, not merged.
      const { key } = anId();
      await store.set(key, record({ a: 1, b: 2 }), c);
      await store.set(key, record({ b: 3 }), c);
      await holds(store, key, await aContext(), { b: 3 }, "second set");
    },
  },
  {
    title:
      "delete: a sign-out removes the entry and the old cookie finds nothing",
    group: "basic",
    async run(store) {
      const jar = new Jar(testApp({ store }).app);
      await jar.fetch("/login", { method: "POST" });
      const token = jar.get("sid")!;
      const key = storeKey(token);
      await holds(store, key, await aContext(), { userId: "ada" }, "login");
      assert.deepEqual(await jar.text("/logout", { method: "POST" }), [
        200,
        "bye",
      ]);
      await absent(store, key, await aContext(), "after sign-out");
      assert.deepEqual(
        await jar.text("/read", { headers: { cookie: `sid=${token}` } }),
        [200, "-"],
      );
      // Deleting what is not there is no error.
      await store.delete(anId().key, await aContext());
      await store.delete(key, await aContext());
    },
  },
  {
    title: "expiry: a session ends at its deadline (maxAge 0.5 s, real time)",
    group: "basic",
    async run(store) {
      const jar = new Jar(testApp({ store, maxAge: 0.5 }).app);
      await jar.fetch("/login", { method: "POST" });
      const token = jar.get("sid")!;
      const saved = await read(store, storeKey(token), await aContext());
      assert.ok(saved, "saved at login");
      const deadline = saved.expires;
      assert.ok(
        deadline > Date.now() && deadline <= Date.now() + 500,
        `expires ${deadline - Date.now()} ms from now`,
      );
      const [status, body] = await jar.text("/read");
      // Only meaningful if the read started well before the deadline.
      if (Date.now() < deadline - 100) {
        assert.deepEqual([status, body], [200, "ada"], "before the deadline");
      }
      // Past the deadline by Date.now(), which a timer alone may not be
      // (see clock.ts).
      await waitPast(deadline);
      assert.deepEqual(
        await jar.text("/read", { headers: { cookie: `sid=${token}` } }),
        [200, "-"],
        "after the deadline",
      );
    },
  },
  {
    title:
      "expiry: an entry past its deadline is never served, even while the store still holds it",
    group: "basic",
    async run(store) {
      const { app } = testApp({ store });
      const read = async (token: string) =>
        await (await app.request("/read", {
          headers: { cookie: `sid=${token}` },
        })).text();
      const c = await aContext();
      // Already past: a store may keep it, drop it or refuse it.
      const past = anId();
      try {
        await store.set(past.key, {
          data: { userId: "past" },
          expires: Date.now() - 1_000,
        }, c);
      } catch {
        // Refusing a record that has already expired is fine.
      }
      assert.equal(await read(past.token), "-", "a record already expired");
      // Expiring shortly.
      const soon = anId();
      const expires = Date.now() + 300;
      await store.set(soon.key, { data: { userId: "soon" }, expires }, c);
      const before = await read(soon.token);
      if (Date.now() < expires - 50) assert.equal(before, "soon");
      await waitPast(expires);
      assert.equal(await read(soon.token), "-", "past its deadline");
    },
  },
  {
    title: "an unknown id finds nothing and is never adopted",
    group: "basic",
    async run(store) {
      const planted = anId();
      const c = await aContext();
      await absent(store, planted.key, c, "unknown key");
      await absent(store, planted.token, c, "unknown id");
      const jar = new Jar(testApp({ store }).app);
      jar.cookies.set("sid", planted.token);
      assert.deepEqual(await jar.text("/read"), [200, "-"]);
      await jar.fetch("/login", { method: "POST" });
      assert.notEqual(jar.get("sid"), planted.token, "a new id was issued");
      await absent(store, planted.key, c, "planted id after login");
      await absent(store, planted.token, c, "planted id after login");
    },
  },
  {
    title: "concurrent writes to different sessions all land",
    group: "basic",
    async run(store) {
      const { app } = testApp({ store });
      const jars = Array.from({ length: 20 }, () => new Jar(app));
      await Promise.all(
        jars.map((jar, i) =>
          jar.fetch(`/login?user=u${i}`, { method: "POST" })
        ),
      );
      for (let round = 1; round <= 3; round++) {
        const answers = await Promise.all(
          jars.map((jar) => jar.text("/count", { method: "POST" })),
        );
        for (const answer of answers) {
          assert.deepEqual(answer, [200, String(round)]);
        }
      }
      const c = await aContext();
      for (const [i, jar] of jars.entries()) {
        await holds(store, storeKey(jar.get("sid")!), c, {
          userId: `u${i}`,
          n: 3,
        }, `session ${i}`);
      }
    },
  },
  {
    title: "a large value (about 31 KB of JSON) round-trips",
    group: "basic",
    async run(store) {
      const jar = new Jar(testApp({ store }).app);
      const [status, body] = await jar.text("/big", { method: "POST" });
      assert.equal(status, 200, body);
      assert.deepEqual(await (await jar.fetch("/big")).json(), BIG);
    },
  },
  {
    title: "ids that differ slightly are kept apart",
    group: "basic",
    async run(store) {
      const c = await aContext();
      // What the middleware passes: 43 base64url characters, then `.` and
      // the cookie's name unless it is "sid". A random stem keeps them apart
      // from other cases' ids.
      const base = randomToken();
      const stem = base.slice(0, 38);
      const [upper, lower] = [`${stem}AAAAA`, `${stem}aaaaa`];
      const ids = [
        upper,
        lower,
        `${stem}-----`,
        `${stem}_____`,
        `${stem}aaaa-`,
        `${stem}aaaa_`,
        base,
        `${base}.s`,
        `${base}.__Host-sid`,
        `${base}.!#$%&'*+^\`|~`,
        `${base}.%`,
        `${base}._`,
        `${base}.*`,
      ];
      for (const [i, id] of ids.entries()) {
        await store.set(id, record({ i }), c);
      }
      for (const [i, id] of ids.entries()) {
        await holds(store, id, c, { i }, JSON.stringify(id));
      }
      await store.delete(lower, c);
      await absent(store, lower, c, "deleted");
      await holds(store, upper, c, { i: 0 }, "the other case survives");
      await store.delete(base, c);
      await holds(store, `${base}.s`, c, { i: 7 }, "a longer id survives");
      for (const id of ids) await store.delete(id, c);
      for (const id of ids) await absent(store, id, c, JSON.stringify(id));
    },
  },
  {
    title: "two middleware instances share one store",
    group: "basic",
    async run(store) {
      const a = new Jar(testApp({ store }).app);
      const b = new Jar(testApp({ store }).app);
      await a.fetch("/login?user=shared", { method: "POST" });
      const old = a.get("sid")!;
      b.cookies.set("sid", old);
      assert.deepEqual(await b.text("/read"), [200, "shared"]);
      assert.deepEqual(await a.text("/regenerate", { method: "POST" }), [
        200,
        "ok",
      ]);
      assert.notEqual(a.get("sid"), old, "regenerate gave a new id");
      assert.deepEqual(await b.text("/read"), [200, "-"], "old id after");
      b.cookies.set("sid", a.get("sid")!);
      assert.deepEqual(await b.text("/read"), [200, "shared"], "new id");
      await b.fetch("/logout", { method: "POST" });
      assert.deepEqual(await a.text("/read"), [200, "-"], "after sign-out");
    },
  },
  {
    title: "get never returns an entry past its expires",
    group: "expiry",
    async run(store) {
      const c = await aContext();
      const past = anId().key;
      await store.set(past, {
        data: { userId: "past" },
        expires: Date.now() - 1_000,
      }, c);
      await absent(store, past, c, "a record set already expired");
      const soon = anId().key;
      const expires = Date.now() + 250;
      await store.set(soon, { data: { userId: "soon" }, expires }, c);
      const before = await read(store, soon, c);
      if (Date.now() < expires - 50) {
        assert.equal(before?.data.userId, "soon", "before the deadline");
      }
      await waitPast(expires, 20);
      await absent(store, soon, c, "past its deadline");
      await absent(store, soon, await aContext(), "past its deadline");
    },
  },
  {
    title:
      "set refuses a write based on a stale read: another request changed the entry",
    group: "conflicts",
    async run(store) {
      const { key } = anId();
      await store.set(key, record({ v: 1 }), await aContext());
      const slow = await aContext();
      const fast = await aContext();
      await store.get(key, slow);
      await store.get(key, fast);
      await store.set(key, record({ v: 2 }), fast);
      await conflicts(() => store.set(key, record({ v: 3 }), slow), "set");
      await holds(store, key, await aContext(), { v: 2 }, "the other write");
    },
  },
  {
    title:
      "set refuses a write based on a stale read: another request changed only the deadline",
    group: "conflicts",
    async run(store) {
      // A renew(5) changes no value, only when the session ends: a store
      // that versions only the values would let a slow write undo it.
      const { key } = anId();
      const data = { userId: "ada" };
      await store.set(key, record(data, 3_600_000), await aContext());
      const slow = await aContext();
      const renew = await aContext();
      await store.get(key, slow);
      await store.get(key, renew);
      await store.set(key, record(data, 5_000), renew);
      await conflicts(
        () => store.set(key, record({ ...data, cart: 1 }, 3_600_000), slow),
        "set after a renew",
      );
    },
  },
  {
    title:
      "set refuses a write based on a stale read: another request deleted the entry",
    group: "conflicts",
    async run(store) {
      const { key } = anId();
      await store.set(key, record({ userId: "ada" }), await aContext());
      const slow = await aContext();
      await store.get(key, slow);
      const signOut = await aContext();
      await store.get(key, signOut);
      await store.delete(key, signOut);
      await conflicts(
        () => store.set(key, record({ userId: "ada", cart: 1 }), slow),
        "set after a delete",
      );
      await absent(store, key, await aContext(), "still signed out");
    },
  },
  {
    title:
      "set refuses a write based on a stale read: another request created the entry",
    group: "conflicts",
    async run(store) {
      const { key } = anId();
      const slow = await aContext();
      await absent(store, key, slow, "at first");
      await store.set(key, record({ v: "theirs" }), await aContext());
      await conflicts(
        () => store.set(key, record({ v: "ours" }), slow),
        "set over an entry this request found absent",
      );
      await holds(store, key, await aContext(), { v: "theirs" }, "kept");
    },
  },
  {
    title:
      "after a conflict a fresh get lets the write through; a request may write twice",
    group: "conflicts",
    async run(store) {
      const { key } = anId();
      await store.set(key, record({ v: 1 }), await aContext());
      const c = await aContext();
      await store.get(key, c);
      await store.set(key, record({ v: 2 }), await aContext());
      await conflicts(() => store.set(key, record({ v: 3 }), c), "stale set");
      await holds(store, key, c, { v: 2 }, "reloaded");
      await store.set(key, record({ v: 4 }), c);
      await store.set(key, record({ v: 5 }), c);
      await holds(store, key, await aContext(), { v: 5 }, "both writes");
    },
  },
  {
    title:
      "through the middleware: a sign-out during a slow write is not undone",
    group: "conflicts",
    async run(store) {
      const { app, a, token, tab: other } = await signedInTwice(store);
      const slow = await held(app, a, "/slow?cart=1");
      assert.deepEqual(await other.text("/logout", { method: "POST" }), [
        200,
        "bye",
      ]);
      slow.release();
      const res = await slow.done;
      assert.equal(res.status, 409, await res.text());
      await absent(store, storeKey(token), await aContext(), "signed out");
      assert.deepEqual(
        await a.text("/read", { headers: { cookie: `sid=${token}` } }),
        [200, "-"],
      );
    },
  },
  {
    title:
      "through the middleware: different values written at once both land; the same value gives 409",
    group: "conflicts",
    async run(store) {
      const { app, a, tab } = await signedInTwice(store, "/login?user=bo");
      let slow = await held(app, a, "/slow?cart=2");
      await tab.fetch("/set?theme=dark", { method: "POST" });
      slow.release();
      assert.equal((await slow.done).status, 200);
      assert.deepEqual(await (await a.fetch("/all")).json(), {
        userId: "bo",
        theme: "dark",
        cart: "2",
      });
      slow = await held(app, a, "/slow?theme=blue");
      await tab.fetch("/set?theme=light", { method: "POST" });
      slow.release();
      assert.equal((await slow.done).status, 409);
      assert.equal((await (await tab.fetch("/all")).json()).theme, "light");
    },
  },
  {
    title: "replace moves a session to a new id in one step",
    group: "replace",
    async run(store) {
      const from = anId().key;
      const to = anId().key;
      await store.set(from, record({ userId: "ada" }), await aContext());
      const c = await aContext();
      await holds(store, from, c, { userId: "ada" }, "before");
      const moved = record({ userId: "ada", role: "admin" });
      await store.replace!(from, to, moved, c);
      const after = await aContext();
      await absent(store, from, after, "the old id");
      assert.deepEqual(await store.get(to, after), moved);
      // The request that moved it may go on writing the new id.
      await store.set(to, record({ userId: "ada", n: 1 }), c);
      await holds(store, to, await aContext(), { userId: "ada", n: 1 }, "set");
    },
  },
  {
    title:
      "replace refuses when the old entry changed since this request's get; nothing changes",
    group: "replace",
    async run(store) {
      const from = anId().key;
      const to = anId().key;
      await store.set(from, record({ v: 1 }), await aContext());
      const c = await aContext();
      await store.get(from, c);
      await store.set(from, record({ v: 2 }), await aContext());
      await conflicts(
        () => store.replace!(from, to, record({ v: 1, moved: true }), c),
        "replace of a changed entry",
      );
      const after = await aContext();
      await holds(store, from, after, { v: 2 }, "the old id");
      await absent(store, to, after, "the new id");
    },
  },
  {
    title:
      "replace refuses when the old entry is gone; nothing changes (a sign-out is not undone)",
    group: "replace",
    async run(store) {
      const from = anId().key;
      const to = anId().key;
      await store.set(from, record({ userId: "ada" }), await aContext());
      const c = await aContext();
      await store.get(from, c);
      await store.delete(from, await aContext());
      await conflicts(
        () => store.replace!(from, to, record({ userId: "ada" }), c),
        "replace of a deleted entry",
      );
      let after = await aContext();
      await absent(store, from, after, "the old id");
      await absent(store, to, after, "the new id");
      // Without an earlier get in the request, too.
      const fresh = await aContext();
      await conflicts(
        () => store.replace!(from, to, record({ userId: "ada" }), fresh),
        "replace of an entry that is not there",
      );
      after = await aContext();
      await absent(store, from, after, "the old id");
      await absent(store, to, after, "the new id");
    },
  },
  {
    title: "replace refuses when the new id is taken; nothing changes",
    group: "replace",
    async run(store) {
      const from = anId().key;
      const to = anId().key;
      await store.set(from, record({ v: "old" }), await aContext());
      await store.set(to, record({ v: "taken" }), await aContext());
      const c = await aContext();
      await store.get(from, c);
      await conflicts(
        () => store.replace!(from, to, record({ v: "moved" }), c),
        "replace onto an existing id",
      );
      const after = await aContext();
      await holds(store, from, after, { v: "old" }, "the old id");
      await holds(store, to, after, { v: "taken" }, "the new id");
    },
  },
  {
    title:
      "through the middleware: a sign-out racing a regenerate is not undone",
    group: "replace",
    async run(store) {
      const { app, a, token, tab: other } = await signedInTwice(store);
      const slow = await held(app, a, "/slow?regenerate&role=admin");
      await other.fetch("/logout", { method: "POST" });
      slow.release();
      const res = await slow.done;
      assert.equal(res.status, 409, await res.text());
      const after = await aContext();
      await absent(store, storeKey(token), after, "the old id");
      const now = a.get("sid");
      if (now !== undefined && now !== token) {
        await absent(store, storeKey(now), after, "a new id");
      }
      assert.deepEqual(await a.text("/read"), [200, "-"]);
    },
  },
  {
    title:
      "through the middleware: of two regenerates at once one wins, the other gets 409",
    group: "replace",
    async run(store) {
      const { app, a, token, tab: b } = await signedInTwice(store);
      const slow = await held(app, a, "/slow?regenerate&tab=a");
      assert.deepEqual(await b.text("/regenerate", { method: "POST" }), [
        200,
        "ok",
      ]);
      const winner = b.get("sid")!;
      assert.notEqual(winner, token);
      slow.release();
      const res = await slow.done;
      assert.equal(res.status, 409, await res.text());
      const after = await aContext();
      await absent(store, storeKey(token), after, "the old id");
      await holds(store, storeKey(winner), after, { userId: "ada" }, "winner");
      const loser = a.get("sid");
      if (loser !== undefined && loser !== token && loser !== winner) {
        await absent(store, storeKey(loser), after, "the loser's new id");
      }
    },
  },
  {
    title:
      "users: a user's sessions are listed with their metadata, never an id or its hash",
    group: "users",
    async run(store) {
      const app = testApp({ store });
      const user = aUser();
      const a = await device(app, user);
      const b = await device(app, user);
      await device(app, aUser()); // someone else
      const list = await listing(a);
      assert.equal(list.length, 2);
      assert.deepEqual(list.map((s) => s.current).sort(), [false, true]);
      for (const s of list) {
        assert.match(s.handle, /^[A-Za-z0-9_-]{22}$/);
        assert.equal(typeof s.created, "number");
        assert.equal(typeof s.seen, "number");
        assert.ok(s.expires > Date.now());
        assert.deepEqual(s.values, { userId: user });
      }
      const text = JSON.stringify(list);
      for (const jar of [a, b]) {
        const token = jar.get("sid")!;
        assert.ok(!text.includes(token), "a listing holds a session id");
        assert.ok(
          !text.includes(storeKey(token)),
          "a listing holds an id's hash",
        );
      }
      // The store itself answers with the keys it was given.
      const entries = await store.listUser!(user);
      assert.deepEqual(
        entries.map((e) => e.id).sort(),
        [storeKey(a.get("sid")!), storeKey(b.get("sid")!)].sort(),
      );
    },
  },
  {
    title:
      "users: revoking one session ends it on its next request; a handle works once and only for its user",
    group: "users",
    async run(store) {
      const app = testApp({ store });
      const user = aUser();
      const a = await device(app, user);
      const b = await device(app, user);
      const other = await device(app, aUser());
      const target = (await listing(a)).find((s) => !s.current)!;
      assert.deepEqual(
        await other.text(`/revoke?handle=${target.handle}`, { method: "POST" }),
        [200, "false"],
        "another user's handle",
      );
      assert.notEqual((await b.text("/read"))[1], "-");
      assert.deepEqual(
        await a.text(`/revoke?handle=${target.handle}`, { method: "POST" }),
        [200, "true"],
      );
      assert.deepEqual(await b.text("/read"), [200, "-"]);
      assert.deepEqual(await a.text("/read"), [200, user]);
      assert.deepEqual(
        await a.text(`/revoke?handle=${target.handle}`, { method: "POST" }),
        [200, "false"],
        "the same handle again",
      );
      assert.equal((await listing(a)).length, 1);
    },
  },
  {
    title:
      "users: sign out other devices keeps this one; revokeAll from outside a request ends the rest",
    group: "users",
    async run(store) {
      const app = testApp({ store });
      // A second app on the same store: another instance of the service.
      const other = testApp({ store });
      const user = aUser();
      const a = await device(app, user);
      const b = await device(app, user);
      const c = await device(other, user);
      assert.deepEqual(await a.text("/revoke-others", { method: "POST" }), [
        200,
        "2",
      ]);
      assert.deepEqual(await b.text("/read"), [200, "-"]);
      assert.deepEqual(await c.text("/read"), [200, "-"]);
      assert.deepEqual(await a.text("/read"), [200, user]);
      const d = await device(other, user);
      const sessions = userSessions(store);
      assert.equal((await sessions.list(user)).length, 2);
      assert.equal(await sessions.revokeAll(user), 2);
      assert.deepEqual(await a.text("/read"), [200, "-"]);
      assert.deepEqual(await d.text("/read"), [200, "-"]);
      assert.deepEqual(await sessions.list(user), []);
    },
  },
  {
    title:
      "users: regenerate moves a session in the listing; sign-out and expiry take it out",
    group: "users",
    async run(store) {
      const app = testApp({ store });
      const user = aUser();
      const a = await device(app, user);
      const sessions = userSessions(store);
      const [before] = await sessions.list(user);
      const [was] = await store.listUser!(user);
      await a.fetch("/regenerate", { method: "POST" });
      const after = await sessions.list(user);
      assert.equal(after.length, 1);
      // The same sign-in, under its new id.
      assert.equal(after[0]!.handle, before!.handle);
      const now = await store.listUser!(user);
      assert.deepEqual(now.map((e) => e.id), [storeKey(a.get("sid")!)]);
      assert.notEqual(now[0]!.id, was!.id);
      await a.fetch("/logout", { method: "POST" });
      assert.deepEqual(await sessions.list(user), []);
      // A session past its deadline is never listed, whatever the backend
      // still holds.
      const { key } = anId();
      const expires = Date.now() + 300;
      await store.set(key, { data: {}, expires, user }, await aContext());
      assert.equal((await store.listUser!(user)).length, 1);
      await waitPast(expires);
      assert.deepEqual(
        (await store.listUser!(user)).filter((e) =>
          !((e.record as SessionRecord).expires > Date.now())
        ),
        [],
        "listUser returned an expired session",
      );
      assert.deepEqual(await sessions.list(user), []);
    },
  },
  {
    title:
      "users: a request running while its session is revoked cannot bring it back",
    group: "users-race",
    async run(store) {
      const app = testApp({ store });
      const user = aUser();
      const a = await device(app, user);
      const slow = await held(app, a, "/slow?cart=3");
      assert.equal(await userSessions(store).revokeAll(user), 1);
      slow.release();
      const res = await slow.done;
      assert.equal(res.status, 409, await res.text());
      assert.deepEqual(await a.text("/read"), [200, "-"]);
      assert.deepEqual(await userSessions(store).list(user), []);
    },
  },
  {
    title:
      "users: a session that regenerate() moves while revokeAll or revoke runs is caught at its new id",
    group: "users",
    async run(store) {
      const app = testApp({ store });
      // The store as userSessions sees it, with a hook that runs a request
      // between a listing and the deletes that follow it.
      let between: (() => Promise<unknown>) | undefined;
      const racing: SessionStore = {
        get: (id, c) => store.get(id, c),
        set: (id, record, c) => store.set(id, record, c),
        delete: (id, c) => store.delete(id, c),
        async listUser(user) {
          const listed = await store.listUser!(user);
          const run = between;
          between = undefined;
          await run?.();
          return listed;
        },
      };
      const sessions = userSessions(racing);
      for (const revoke of ["revokeAll", "revoke"] as const) {
        const user = aUser();
        const a = await device(app, user);
        const [listed] = await sessions.list(user);
        const before = a.get("sid");
        between = () => a.fetch("/regenerate", { method: "POST" });
        const ended = revoke === "revokeAll"
          ? await sessions.revokeAll(user)
          : Number(await sessions.revoke(user, listed!.handle));
        assert.notEqual(a.get("sid"), before, "the session moved meanwhile");
        assert.equal(ended, 1, revoke);
        assert.deepEqual(await a.text("/read"), [200, "-"], revoke);
        assert.deepEqual(await sessions.list(user), [], revoke);
      }
    },
  },
  {
    title:
      "users: a session that regenerate() moves while a listing reads the store is never missed: revokeAll and revoke end it",
    group: "users-race",
    async run(store) {
      // The app's store holds the first write of a request at a gate once
      // armed: a regenerate() that has loaded its session waits there
      // before it moves the session.
      let gate: { reached(): void; open: Promise<void> } | undefined;
      const held = async <T>(write: () => T): Promise<Awaited<T>> => {
        const at = gate;
        gate = undefined;
        if (at !== undefined) {
          at.reached();
          await at.open;
        }
        return await write();
      };
      const gated: SessionStore = {
        get: (id, c) => store.get(id, c),
        set: (id, record, c) => held(() => store.set(id, record, c)),
        delete: (id, c) => store.delete(id, c),
        listUser: (user) => store.listUser!(user),
      };
      if (store.replace) {
        gated.replace = (oldId, newId, record, c) =>
          held(() => store.replace!(oldId, newId, record, c));
      }
      const app = testApp({ store: gated });
      // userSessions sees the store as it is, except that its first
      // listing lets the held move go on: at once (the listing has only
      // started its first read), after a microtask, or after 1, 2 or 4
      // turns of the event loop. Where in the listing the move lands
      // depends on the store; across the five, it lands between its steps.
      let letGo: (() => void) | undefined;
      let turns = 0;
      const sessions = userSessions({
        get: (id, c) => store.get(id, c),
        set: (id, record, c) => store.set(id, record, c),
        delete: (id, c) => store.delete(id, c),
        listUser(user) {
          const listing = store.listUser!(user);
          const go = letGo;
          letGo = undefined;
          if (go === undefined) return listing;
          if (turns < 0) go();
          else if (turns === 0) queueMicrotask(go);
          else {
            void (async () => {
              for (let i = 0; i < turns; i++) await sleep(0);
              go();
            })();
          }
          return listing;
        },
      });
      for (const revoke of ["revokeAll", "revoke"] as const) {
        for (const after of [-1, 0, 1, 2, 4]) {
          const what = `${revoke}, the move let go ${
            after < 0
              ? "at once"
              : after === 0
              ? "after a microtask"
              : `after ${after} turns`
          }`;
          const user = aUser();
          const a = await device(app, user);
          const [listed] = await sessions.list(user);
          let open!: () => void;
          const reached = new Promise<void>((resolve) => {
            gate = { reached: resolve, open: new Promise((go) => open = go) };
          });
          // revokeAll races a sign-in on top of the session (a new handle),
          // revoke a plain regenerate() (the same handle).
          const moving = a.fetch(
            revoke === "revokeAll" ? `/signin?user=${user}` : "/regenerate",
            { method: "POST" },
          );
          await reached;
          letGo = open;
          turns = after;
          const ended = revoke === "revokeAll"
            ? await sessions.revokeAll(user)
            : Number(await sessions.revoke(user, listed!.handle));
          const res = await moving;
          assert.deepEqual(
            await a.text("/read"),
            [200, "-"],
            `${what}: the session lives on`,
          );
          assert.deepEqual(await sessions.list(user), [], what);
          assert.ok(
            res.status === 200 || res.status === 409,
            `${what}: the move answered ${res.status} ${await res.text()}`,
          );
          assert.equal(ended, 1, `${what}: how many ended`);
        }
      }
    },
  },
];

/** Every case, in the order they run: the device-bound ones last. */
export const CASES: readonly Case[] = [...STORE_CASES, ...DEVICE_BOUND_CASES];
