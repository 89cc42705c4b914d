// The conformance kit's device-bound cases: a store that moves sessions in
// one checked step (`replace`) carries device-bound sessions, and these
// cases hold it to it, through a real app and a browser that speaks DBSC
// with keys made by Web Crypto. Time passes for real: the bound lifetime
// is one second.
import assert from "node:assert/strict";
import { type SessionStore, userSessions } from "../mod.ts";
import { storeKey } from "../_store_mode/ids.ts";
import { aContext, testApp } from "./app.ts";
import { Jar } from "./jar.ts";
import {
  DbscBrowser,
  makeKey,
  refreshPost,
  signProof,
} from "./dbsc_browser.ts";
import type { Case } from "./case.ts";

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

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
      await sleep(2_050);
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
      const thief = new Jar(app.app);
      for (const [k, v] of browser.jar.cookies) thief.cookies.set(k, v);
      assert.equal(await read(thief), user);
      await sleep(1_050);
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
      const res = await refreshPost(new Jar(app.app), id);
      assert.deepEqual(await res.json(), { continue: false });
      if (typeof store.listUser !== "function") return;
      const user = aUser();
      const b = await signedIn(app, user);
      const listed = await userSessions(store).list(user);
      assert.equal(listed[0]?.deviceBound, true);
      await userSessions(store).revokeAll(user);
      const ended = await refreshPost(
        new Jar(app.app),
        b.config!.session_identifier,
      );
      assert.deepEqual(await ended.json(), { continue: false });
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
