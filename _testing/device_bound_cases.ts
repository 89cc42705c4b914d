// The conformance kit's device-bound cases: a store that moves sessions in
// one checked step (`replace`) carries device-bound sessions, and these
// cases hold it to it, through a real app and a browser that speaks DBSC
// with keys made by Web Crypto. Time passes for real: the bound lifetime
// is one second.
import assert from "node:assert/strict";
import type { Context } from "hono";
import { type SessionStore, userSessions } from "../mod.ts";
import { storeKey } from "../_store_mode/ids.ts";
import { aContext, type TestApp, testApp } from "./app.ts";
import { Jar } from "./jar.ts";
import {
  DbscBrowser,
  makeKey,
  readOffer,
  refreshPost,
  signProof,
} from "./dbsc_browser.ts";
import type { Case } from "./case.ts";
import { waitPast } from "./clock.ts";

/** Until when the session under cookie `token` is accepted without a proof. */
async function boundUntil(store: SessionStore, token: string): Promise<number> {
  const got = await store.get(storeKey(token), await aContext());
  const until = (got as { binding?: { until?: unknown } } | undefined)
    ?.binding?.until;
  assert.ok(typeof until === "number", "the record keeps until when");
  return until;
}

/** A refresh of identifier `id` is told the session is over. */
async function assertOver(app: TestApp, id: string): Promise<void> {
  const res = await refreshPost(new Jar(app.app), id);
  assert.deepEqual(await res.json(), { continue: false });
}

/** An app on `store` with device-bound sessions of a one-second lifetime. */
function boundApp(store: SessionStore, lifetime = 1) {
  return testApp({ store, deviceBound: { lifetime } });
}

/** A user id of the case's own, so a shared store does not mix cases. */
function aUser(): string {
  return `dbsc-${crypto.randomUUID().slice(0, 12)}`;
}

/** A browser signed in as `user`, registered. */
async function signedIn(
  app: ReturnType<typeof testApp>,
  user: string,
  alg: "ES256" | "RS256" = "ES256",
): Promise<DbscBrowser> {
  const browser = await DbscBrowser.create(app.app, alg);
  const res = await browser.fetch(`/signin?user=${user}`, { method: "POST" });
  assert.equal(res.status, 200, await res.clone().text());
  assert.ok(browser.config, "the browser registered");
  return browser;
}

async function read(browser: DbscBrowser | Jar): Promise<string> {
  return await (await browser.fetch("/read")).text();
}

async function gone(store: SessionStore, key: string): Promise<boolean> {
  const got = await store.get(key, await aContext());
  return got === undefined || got === null;
}

/** A store call a gate can hold. */
type Method = "get" | "set" | "replace";

/** Which calls a gate holds: by method, key (old key), and request tag. */
type Match = (method: Method, key: string, request?: string) => boolean;

/** The header that tags a request for {@linkcode Gated.gate}'s match. */
const TAG = "x-kit-request";

/** `store` as the app sees it, with levers on its `get`, `set` and `replace`. */
interface Gated {
  store: SessionStore;
  /** The keys of identifier entries written so far. */
  pointers: Set<string>;
  /**
   * Holds the calls `match` picks (by method, key or old key, and the
   * request's `x-kit-request` header) until `count` of them have arrived,
   * or until `release()`; `reached` settles when the first one arrives.
   * Several gates may be set at once: a call is held by the first that
   * picks it.
   */
  gate(
    match: Match,
    count?: number,
  ): { reached: Promise<void>; release(): void };
}

// A store that passes every call on to `store`, whose `get`, `set` and
// `replace` can be held: two requests then both read before either writes,
// or one waits while another runs to its end.
function gated(store: SessionStore): Gated {
  const gates: {
    match: Match;
    count: number;
    arrived: number;
    arrive(): void;
    open(): void;
    wait: Promise<void>;
  }[] = [];
  const pointers = new Set<string>();
  const held = async (method: Method, key: string, c: Context) => {
    const request = c.req.header(TAG);
    const gate = gates.find((g) => g.match(method, key, request));
    if (gate === undefined) return;
    gate.arrive();
    if (++gate.arrived >= gate.count) gate.open();
    await gate.wait;
  };
  const wrapper: SessionStore = {
    async get(key, c) {
      await held("get", key, c);
      return await store.get(key, c);
    },
    async set(key, record, c) {
      if (key.includes(":dbsc")) pointers.add(key);
      await held("set", key, c);
      await store.set(key, record, c);
    },
    delete: (key, c) => store.delete(key, c),
    async replace(from, to, record, c) {
      await held("replace", from, c);
      await store.replace!(from, to, record, c);
    },
  };
  return {
    store: wrapper,
    pointers,
    gate(match, count = Infinity) {
      let arrive = (): void => {};
      let open = (): void => {};
      const reached = new Promise<void>((resolve) => arrive = resolve);
      const wait = new Promise<void>((resolve) => open = resolve);
      const gate = { match, count, arrived: 0, arrive, open, wait };
      gates.push(gate);
      return {
        reached,
        release: () => {
          const at = gates.indexOf(gate);
          if (at !== -1) gates.splice(at, 1);
          open();
        },
      };
    },
  };
}

/** The device-bound cases, in the order they run. */
export const DEVICE_BOUND_CASES: readonly Case[] = [
  {
    title:
      "device-bound: a browser registers (ES256) and refreshes; the session moves to a new id and the old one finds nothing",
    group: "device-bound",
    async run(store) {
      const app = boundApp(store);
      const user = aUser();
      const browser = await signedIn(app, user);
      const old = browser.jar.get("sid")!;
      const got = await store.get(storeKey(old), await aContext());
      assert.ok(
        got !== undefined && got !== null &&
          typeof (got as { binding?: unknown }).binding === "object",
        "the record keeps the binding",
      );
      assert.equal((await browser.refresh()).status, 200);
      const token = browser.jar.get("sid")!;
      assert.notEqual(token, old);
      const gone = await store.get(storeKey(old), await aContext());
      assert.ok(gone === undefined || gone === null, "the old id is gone");
      assert.equal(await read(browser), user);
    },
  },
  {
    title:
      "device-bound: after a refresh made while the cookie was live, the old cookie reads and writes the session (no cookie sent, no regenerate()) until its deadline, then finds nothing",
    group: "device-bound",
    async run(store) {
      // Two seconds: time for the refresh to come while the cookie lives.
      const app = boundApp(store, 2);
      const user = aUser();
      const browser = await signedIn(app, user);
      const old = new Jar(app.app);
      for (const [k, v] of browser.jar.cookies) old.cookies.set(k, v);
      const deadline = await boundUntil(store, old.get("sid")!);
      const start = Date.now();
      // A refresh before the cookie expires, as Chromium makes them.
      assert.equal((await browser.refresh()).status, 200);
      assert.ok(Date.now() - start < 1_500, "the refresh came in time");
      const gone = await store.get(
        storeKey(old.get("sid")!),
        await aContext(),
      );
      assert.ok(gone === undefined || gone === null, "the session moved");
      const seen = await old.fetch("/read");
      assert.equal(await seen.text(), user);
      assert.equal(seen.headers.getSetCookie().length, 0);
      const count = await old.fetch("/count", { method: "POST" });
      assert.equal(await count.text(), "1");
      assert.equal(count.headers.getSetCookie().length, 0);
      const moved = await old.fetch("/regenerate", { method: "POST" });
      assert.equal(moved.status, 409);
      await waitPast(deadline);
      assert.equal(await read(old), "-", "the old cookie's deadline passed");
      assert.equal(await read(browser), user);
      const all = await (await browser.fetch("/all")).json();
      assert.equal(all.n, 1, "the write through the old cookie was kept");
    },
  },
  {
    title: "device-bound: an RS256 key registers and refreshes",
    group: "device-bound",
    async run(store) {
      const app = boundApp(store);
      const user = aUser();
      const browser = await signedIn(app, user, "RS256");
      assert.equal((await browser.refresh()).status, 200);
      assert.equal(await read(browser), user);
    },
  },
  {
    title:
      "device-bound: a copied cookie stops working after the lifetime, while the key holder refreshes",
    group: "device-bound",
    async run(store) {
      const app = boundApp(store);
      const user = aUser();
      const browser = await signedIn(app, user);
      const until = await boundUntil(store, browser.jar.get("sid")!);
      const thief = new Jar(app.app);
      for (const [k, v] of browser.jar.cookies) thief.cookies.set(k, v);
      const before = await read(thief);
      // Only meaningful if the read ended well before the deadline (a
      // loaded machine may take most of the second to get here).
      if (Date.now() < until - 100) assert.equal(before, user);
      // Past the deadline the server set, and past the Max-Age the browser
      // counts from when it got the cookie (a little later).
      await waitPast(Math.max(until, browser.jar.expires.get("sid") ?? 0));
      assert.equal(await read(thief), "-", "the copy is refused");
      assert.equal(await read(browser), user, "the key holder refreshed");
      assert.ok(browser.steps.some((s) => s.step === "refresh"));
      assert.equal(await read(thief), "-");
    },
  },
  {
    title:
      "device-bound: forged, replayed and wrong-key proofs get a 4xx and change nothing",
    group: "device-bound",
    async run(store) {
      const app = boundApp(store);
      const user = aUser();
      const browser = await signedIn(app, user);
      const id = browser.config!.session_identifier;
      const token = browser.jar.get("sid")!;
      const challenge = await browser.challenge();
      const other = await makeKey("ES256");
      const forged = await refreshPost(
        new Jar(app.app),
        id,
        await signProof(other, challenge),
      );
      assert.equal(forged.status, 403);
      assert.equal(forged.headers.getSetCookie().length, 0);
      const proof = await signProof(browser.key, challenge);
      assert.equal((await refreshPost(browser.jar, id, proof)).status, 200);
      const replay = await refreshPost(new Jar(app.app), id, proof);
      assert.equal(replay.status, 403);
      assert.equal(replay.headers.getSetCookie().length, 0);
      const gone = await store.get(storeKey(token), await aContext());
      assert.ok(gone === undefined || gone === null);
      assert.equal(await read(browser), user);
    },
  },
  {
    title:
      "device-bound: sign-out ends refreshes, and so does revocation (with listUser)",
    group: "device-bound",
    async run(store) {
      const app = boundApp(store);
      const a = await signedIn(app, aUser());
      const id = a.config!.session_identifier;
      await a.fetch("/logout", { method: "POST" });
      await assertOver(app, id);
      if (typeof store.listUser !== "function") return;
      const user = aUser();
      const b = await signedIn(app, user);
      const listed = await userSessions(store).list(user);
      assert.equal(listed[0]?.deviceBound, true);
      await userSessions(store).revokeAll(user);
      await assertOver(app, b.config!.session_identifier);
    },
  },
  {
    title:
      "device-bound: the same refresh proof sent twice at once is answered once",
    group: "device-bound",
    async run(store) {
      const app = boundApp(store);
      const browser = await signedIn(app, aUser());
      const id = browser.config!.session_identifier;
      const proof = await signProof(browser.key, await browser.challenge());
      const results = await Promise.all([
        refreshPost(new Jar(app.app), id, proof),
        refreshPost(new Jar(app.app), id, proof),
      ]);
      assert.deepEqual(results.map((r) => r.status).sort(), [200, 403]);
    },
  },
  {
    title:
      "device-bound: two keys answering one registration challenge at once: one binds, the other is refused and leaves nothing",
    group: "device-bound",
    async run(store) {
      const g = gated(store);
      const app = testApp({ store: g.store, deviceBound: { lifetime: 60 } });
      const user = aUser();
      const jar = new Jar(app.app);
      const login = await jar.fetch(`/signin?user=${user}`, {
        method: "POST",
      });
      const offer = readOffer(
        login.headers.get("secure-session-registration"),
      )!;
      const token = jar.get("sid")!;
      const keys = await Promise.all([makeKey("ES256"), makeKey("ES256")]);
      // Both requests read the session and point their identifiers before
      // either writes the session.
      const both = g.gate(
        (method, key) => method === "set" && key === storeKey(token),
        2,
      );
      const results = await Promise.all(keys.map(async (key) => {
        const proof = await signProof(
          key,
          offer.challenge,
          offer.authorization,
          { withKey: true },
        );
        return await new Jar(app.app, { maxAge: true }).fetch(offer.path, {
          method: "POST",
          headers: {
            cookie: `sid=${token}`,
            "secure-session-response": `"${proof}"`,
          },
        });
      }));
      both.release();
      assert.deepEqual(results.map((r) => r.status).sort(), [200, 403]);
      const winner = results.findIndex((r) => r.status === 200);
      assert.equal(results[1 - winner]!.headers.getSetCookie().length, 0);
      const got = await store.get(storeKey(token), await aContext());
      const bound = (got as { binding?: { key?: { x?: string } } }).binding;
      assert.equal(bound?.key?.x, keys[winner]!.jwk.x, "the winner's key");
      // The loser's identifier entry went with its refusal.
      let held = 0;
      for (const key of g.pointers) if (!await gone(store, key)) held++;
      assert.equal(held, 1, "one identifier entry, the winner's");
      const browser = new DbscBrowser(app.app, keys[winner]!);
      browser.jar.cookies.set("sid", token);
      browser.config = await results[winner]!.json();
      assert.equal((await browser.refresh()).status, 200);
      assert.equal(await read(browser), user);
    },
  },
  {
    title:
      "device-bound: a registration held while another request signs out does not bring the session back",
    group: "device-bound",
    async run(store) {
      const g = gated(store);
      const app = testApp({ store: g.store, deviceBound: { lifetime: 60 } });
      const browser = await DbscBrowser.create(app.app);
      const login = await browser.jar.fetch(`/signin?user=${aUser()}`, {
        method: "POST",
      });
      const offer = readOffer(
        login.headers.get("secure-session-registration"),
      )!;
      const token = browser.jar.get("sid")!;
      // The registration has read the session and verified its proof; it
      // is held as it writes the identifier's entry.
      const hold = g.gate((method, key) =>
        method === "set" && key.includes(":dbsc")
      );
      const registration = browser.register(offer);
      await hold.reached;
      const tab = new Jar(app.app);
      tab.cookies.set("sid", token);
      assert.equal(
        (await tab.fetch("/logout", { method: "POST" })).status,
        200,
      );
      hold.release();
      const res = await registration;
      assert.equal(res.status, 403);
      assert.equal(res.headers.getSetCookie().length, 0);
      assert.ok(await gone(store, storeKey(token)), "the session stays ended");
      for (const key of g.pointers) {
        assert.ok(await gone(store, key), "no identifier entry is left");
      }
      assert.equal(await read(browser.jar), "-");
    },
  },
  {
    title:
      "device-bound: a sign-out running while the browser refreshes ends the session where the refresh moved it",
    group: "device-bound",
    async run(store) {
      const app = testApp({ store, deviceBound: { lifetime: 60 } });
      const user = aUser();
      const browser = await signedIn(app, user);
      const old = browser.jar.get("sid")!;
      // A tab signs out with the cookie it has; meanwhile the browser
      // refreshes, and the session moves to a new id.
      const tab = new Jar(app.app);
      tab.cookies.set("sid", old);
      const hold = app.hold();
      const logout = tab.fetch("/slow?logout", { method: "POST" });
      await hold.reached;
      assert.equal((await browser.refresh()).status, 200);
      const moved = browser.jar.get("sid")!;
      assert.notEqual(moved, old);
      hold.release();
      assert.equal((await logout).status, 200);
      assert.ok(await gone(store, storeKey(moved)), "the moved session ended");
      assert.equal(await read(browser), "-");
      await assertOver(app, browser.config!.session_identifier);
      if (typeof store.listUser === "function") {
        assert.deepEqual(await userSessions(store).list(user), []);
      }
    },
  },
  {
    title:
      "device-bound: the same refresh proof twice, both requests at the move before either moves: one refreshes, the other is refused, and the identifier still finds the session",
    group: "device-bound",
    async run(store) {
      const g = gated(store);
      const app = testApp({ store: g.store, deviceBound: { lifetime: 60 } });
      const user = aUser();
      const browser = await signedIn(app, user);
      const id = browser.config!.session_identifier;
      const proof = await signProof(browser.key, await browser.challenge());
      // Each has pointed the identifier at its new id and holds its move.
      const both = g.gate((method) => method === "replace", 2);
      const results = await Promise.all([
        refreshPost(new Jar(app.app), id, proof),
        refreshPost(new Jar(app.app), id, proof),
      ]);
      both.release();
      assert.deepEqual(results.map((r) => r.status).sort(), [200, 403]);
      const loser = results.find((r) => r.status === 403)!;
      assert.equal(loser.headers.getSetCookie().length, 0);
      const winner = results.find((r) => r.status === 200)!;
      browser.jar.keep(winner);
      assert.equal(await read(browser), user);
      // The key holder refreshes on, lifetime after lifetime.
      assert.equal((await browser.refresh()).status, 200);
      assert.equal(await read(browser), user);
    },
  },
  {
    title:
      "device-bound: the same refresh proof twice, one request looking the session up while the other moves it: one refreshes, the other is refused, never told the session is over",
    group: "device-bound",
    async run(store) {
      const g = gated(store);
      const app = testApp({ store: g.store, deviceBound: { lifetime: 60 } });
      // B looks the session up by its identifier: it reads the identifier's
      // entry, then the keys it names. A moves the session meanwhile: it
      // points the entry at its new key (with the old one as the key
      // before), then moves the session there in one checked step. B is
      // held at its first call after the entry and `reads` keys.
      const session = (key: string) =>
        !key.includes(":dbsc") && !key.endsWith(":moved");
      const holdB = (reads: number) => {
        let entry = false;
        let seen = 0;
        return g.gate((method, key, request) => {
          if (request !== "B") return false;
          if (entry && seen === reads) return true;
          if (method === "get" && key.includes(":dbsc")) entry = true;
          else if (method === "get" && session(key)) seen++;
          return false;
        });
      };
      for (const reads of [0, 1]) {
        const user = aUser();
        const browser = await signedIn(app, user);
        const id = browser.config!.session_identifier;
        const proof = await signProof(browser.key, await browser.challenge());
        const post = (tag: string) =>
          refreshPost(new Jar(app.app), id, proof, undefined, { [TAG]: tag });
        let a: Response;
        let b: Promise<Response>;
        if (reads === 0) {
          // B has read the entry (it names the old key only); A then
          // refreshes from start to end.
          const lookup = holdB(0);
          b = post("B");
          await lookup.reached;
          a = await post("A");
          lookup.release();
        } else {
          // A has pointed the entry at its new key and waits at its move;
          // B reads the entry and one of the two keys; A's move then runs.
          const move = g.gate((method, _key, request) =>
            request === "A" && method === "replace"
          );
          const first = post("A");
          await move.reached;
          const lookup = holdB(1);
          b = post("B");
          await lookup.reached;
          move.release();
          a = await first;
          lookup.release();
        }
        const late = await b;
        const when = reads === 0
          ? "held before reading a key"
          : "held after reading one key";
        assert.equal(a.status, 200, `the first refresh (${when})`);
        const body = await late.text();
        assert.equal(
          late.status,
          403,
          `the second refresh (${when}) answered ${late.status}: ${body}`,
        );
        assert.equal(late.headers.getSetCookie().length, 0);
        // The winner's cookie reads the session, and the key holder
        // refreshes on: the identifier still finds it.
        browser.jar.keep(a);
        assert.equal(await read(browser), user);
        assert.equal((await browser.refresh()).status, 200);
        assert.equal(await read(browser), user);
      }
    },
  },
  {
    title:
      "device-bound: the same refresh proof twice, the second pointing the identifier at its own key while the first moves the session: meanwhile the old cookie still reads the session, and a sign-out through it ends the session",
    group: "device-bound",
    async run(store) {
      const g = gated(store);
      const app = testApp({ store: g.store, deviceBound: { lifetime: 60 } });
      const user = aUser();
      const browser = await signedIn(app, user);
      const id = browser.config!.session_identifier;
      const proof = await signProof(browser.key, await browser.challenge());
      const old = new Jar(app.app);
      for (const [k, v] of browser.jar.cookies) old.cookies.set(k, v);
      const post = (tag: string) =>
        new Jar(app.app).fetch("/__dbsc/sid/refresh", {
          method: "POST",
          headers: {
            "sec-secure-session-id": `"${id}"`,
            "secure-session-response": `"${proof}"`,
            [TAG]: tag,
          },
        });
      // A has pointed the identifier at its new key and holds its move;
      // B finds the session where A moves it from, points the identifier
      // at a key of its own and holds its move; then A's move is done.
      const holdA = g.gate((method, _key, request) =>
        request === "A" && method === "replace"
      );
      const first = post("A");
      await holdA.reached;
      const holdB = g.gate((method, _key, request) =>
        request === "B" && method === "replace"
      );
      const second = post("B");
      await holdB.reached;
      holdA.release();
      const a = await first;
      assert.equal(a.status, 200, "the first refresh");
      // Until B gives up, the identifier's entry is B's: it must still
      // lead to where A moved the session.
      assert.equal(await read(old), user, "the old cookie, forwarded");
      const bye = await old.fetch("/logout", { method: "POST" });
      assert.equal(bye.status, 200);
      holdB.release();
      // Refused, or told the session is over (it is, by now).
      const b = await second;
      const body = await b.text();
      if (b.status === 403) assert.equal(b.headers.getSetCookie().length, 0);
      else {
        assert.equal(b.status, 200, body);
        assert.deepEqual(JSON.parse(body), { continue: false });
      }
      browser.jar.keep(a);
      const moved = browser.jar.get("sid")!;
      assert.ok(await gone(store, storeKey(moved)), "the sign-out ended it");
      assert.equal(await read(browser), "-");
      await assertOver(app, id);
      if (typeof store.listUser === "function") {
        assert.deepEqual(await userSessions(store).list(user), []);
      }
    },
  },
  {
    title:
      "device-bound: a regenerate() and a refresh moving the session at once: whichever wins, the identifier still finds the session",
    group: "device-bound",
    async run(store) {
      const g = gated(store);
      const app = testApp({ store: g.store, deviceBound: { lifetime: 60 } });
      const user = aUser();
      const browser = await signedIn(app, user);
      const id = browser.config!.session_identifier;
      const proof = await signProof(browser.key, await browser.challenge());
      const tab = new Jar(app.app);
      tab.cookies.set("sid", browser.jar.get("sid")!);
      const hold = app.hold();
      const regenerate = tab.fetch("/slow?regenerate", { method: "POST" });
      await hold.reached;
      // The refresh points the identifier at its new id and waits at its
      // move; the regenerate() then points it at its own and moves too.
      const both = g.gate((method) => method === "replace", 2);
      const refresh = refreshPost(new Jar(app.app), id, proof);
      await both.reached;
      hold.release();
      const [moved, refreshed] = await Promise.all([regenerate, refresh]);
      both.release();
      assert.ok(
        refreshed.status === 200 && [200, 409].includes(moved.status),
        `refresh ${refreshed.status}, regenerate() ${moved.status}`,
      );
      // The browser's next refresh finds the session wherever it went.
      browser.jar.cookies.delete("sid");
      assert.equal(await read(browser), user);
      assert.equal(browser.steps.at(-1)?.status, 200);
    },
  },
  {
    title:
      "device-bound: regenerate() keeps the binding, and the key holder refreshes the new id",
    group: "device-bound",
    async run(store) {
      const app = boundApp(store);
      const user = aUser();
      const browser = await signedIn(app, user);
      const old = browser.jar.get("sid")!;
      const res = await browser.fetch("/regenerate", { method: "POST" });
      assert.equal(res.status, 200, await res.clone().text());
      assert.notEqual(browser.jar.get("sid"), old);
      assert.equal((await browser.refresh()).status, 200);
      assert.equal(await read(browser), user);
    },
  },
];
