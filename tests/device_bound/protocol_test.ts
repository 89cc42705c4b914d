// Device-bound sessions over app.request, with hand-made ES256 and RS256
// proofs: registration, refresh (late, and early with the old cookie
// forwarded for a few seconds), a copied cookie dying after the lifetime
// while the key holder refreshes, and every proof that must be refused
// (forged, replayed, wrong key, expired challenge, alg none, malformed,
// after sign-out, revoke and expiry) getting a 4xx and nothing else.
import assert from "node:assert/strict";
import { Hono } from "hono";
import type { Session, SessionOptions, SessionRecord } from "../../mod.ts";
import { session, userSessions } from "../../mod.ts";
import {
  DbscBrowser,
  makeKey,
  readChallenge,
  readOffer,
  refreshPost,
  signProof,
} from "../../_testing/dbsc_browser.ts";
import { Jar } from "../../_testing/jar.ts";
import { storeKey } from "../../_store_mode/ids.ts";
import { forwardKey, pointerKey } from "../../_device_bound/binding.ts";
import { withFakeTime } from "../_helpers.ts";
import { testApp } from "../../_testing/app.ts";
import { cookiesOf, type DeviceApp, deviceApp } from "./_app.ts";
import { MemoryStore } from "../../stores/memory.ts";

type Binding = Record<string, unknown> & {
  id?: string;
  alg?: string;
  key?: Record<string, unknown>;
  proven?: number;
  until?: number;
  challenges?: { value: string; expires: number }[];
};

function recordOf(d: DeviceApp, token: string): SessionRecord | undefined {
  return d.store.get(storeKey(token));
}

function bindingOf(d: DeviceApp, token: string): Binding | undefined {
  return recordOf(d, token)?.binding as Binding | undefined;
}

/** Signs in a DBSC browser (it registers on its own) and returns it. */
async function signedIn(d: DeviceApp, alg: "ES256" | "RS256" = "ES256") {
  const browser = await DbscBrowser.create(d.app, alg);
  const res = await browser.fetch("/login", { method: "POST" });
  assert.equal(res.status, 200);
  assert.ok(browser.config, "the browser registered");
  return browser;
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

Deno.test("device-bound: sign-in offers registration; a proof of a new key binds the session, its cookie lasts the lifetime", async () => {
  const d = deviceApp({ lifetime: 60 });
  const browser = await DbscBrowser.create(d.app);
  const login = await browser.jar.fetch("/login", { method: "POST" });
  const offer = readOffer(login.headers.get("secure-session-registration"));
  assert.ok(offer, "the sign-in response offers registration");
  assert.deepEqual(offer.algorithms, ["ES256", "RS256"]);
  assert.equal(offer.path, "/__dbsc/sid/register");
  assert.match(offer.challenge, TOKEN);
  assert.match(offer.authorization!, TOKEN);
  const token = browser.jar.get("sid")!;
  // Before registration: an ordinary session holding the challenge.
  const pending = bindingOf(d, token)!;
  assert.deepEqual(Object.keys(pending), ["challenges"]);
  assert.equal(pending.challenges![0]!.value, offer.challenge);

  const res = await browser.register(offer);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "no-store");
  const config = await res.json();
  assert.deepEqual(config, {
    session_identifier: config.session_identifier,
    refresh_url: "/__dbsc/sid/refresh",
    scope: { include_site: false, scope_specification: [] },
    credentials: [{
      type: "cookie",
      name: "sid",
      attributes: "Path=/; Secure; HttpOnly; SameSite=Lax",
    }],
  });
  // The same id, now for the lifetime; the exists cookie for the session.
  const set = cookiesOf(res);
  assert.equal(set.get("sid")!.value, token);
  assert.ok(set.get("sid")!.maxAge! >= 59 && set.get("sid")!.maxAge! <= 60);
  assert.ok(set.get("sx")!.maxAge! > 86_000);
  // The key is kept with the session, beside its values.
  const record = recordOf(d, token)!;
  assert.deepEqual(record.data, { userId: "ada" });
  const binding = record.binding as Binding;
  assert.equal(binding.alg, "ES256");
  assert.deepEqual(binding.key, {
    kty: "EC",
    crv: "P-256",
    x: browser.key.jwk.x,
    y: browser.key.jwk.y,
  });
  assert.equal(binding.id, config.session_identifier);
  assert.ok(binding.until! - binding.proven! === 60_000);
  // The identifier is random: neither the id nor its hash.
  const id: string = config.session_identifier;
  assert.match(id, TOKEN);
  assert.notEqual(id, token);
  assert.notEqual(id, storeKey(token));
  assert.ok(!JSON.stringify(d.store.get(pointerKey(id, ""))).includes(token));
  assert.deepEqual(d.names(), [
    "device-bound:offered",
    "device-bound:registered",
  ]);
  assert.equal(await (await browser.fetch("/me")).text(), "ada");
});

Deno.test("device-bound: an RS256 key registers and refreshes; an algorithm not offered is refused", async () => {
  const d = deviceApp({ lifetime: 60 });
  const browser = await signedIn(d, "RS256");
  assert.equal(bindingOf(d, browser.jar.get("sid")!)!.alg, "RS256");
  assert.equal((await browser.refresh()).status, 200);
  assert.equal(await (await browser.fetch("/me")).text(), "ada");

  const es = deviceApp({ lifetime: 60, algorithms: ["ES256"] });
  const jar = new Jar(es.app);
  const login = await jar.fetch("/login", { method: "POST" });
  const offer = readOffer(login.headers.get("secure-session-registration"))!;
  assert.deepEqual(offer.algorithms, ["ES256"]);
  const rs = await makeKey("RS256");
  const proof = await signProof(rs, offer.challenge, offer.authorization, {
    withKey: true,
  });
  const res = await jar.fetch(offer.path, {
    method: "POST",
    headers: { "secure-session-response": proof },
  });
  assert.equal(res.status, 403);
  assert.equal(res.headers.getSetCookie().length, 0);
  assert.deepEqual(es.names().slice(-1), [
    "device-proof-refused:registration:algorithm",
  ]);
});

Deno.test("device-bound: a refresh gets a 403 and a challenge, then a proof gets a new id and the config; the old id is gone", async () => {
  await withFakeTime(async (clock) => {
    const d = deviceApp({ lifetime: 60 });
    const browser = await signedIn(d);
    const id = browser.config!.session_identifier;
    const old = browser.jar.get("sid")!;
    const thief = new Jar(d.app);
    thief.cookies.set("sid", old);
    // The cookie expires in the browser: it refreshes before its next
    // request (the server refuses the cookie from then on too).
    clock.tick(60_000);
    assert.equal(browser.jar.get("sid"), undefined);

    const first = await refreshPost(browser.jar, id);
    assert.equal(first.status, 403);
    assert.equal(first.headers.getSetCookie().length, 0);
    const challenge = readChallenge(
      first.headers.get("secure-session-challenge"),
    )!;
    assert.equal(challenge.id, id);
    assert.match(challenge.challenge, TOKEN);

    const proof = await signProof(browser.key, challenge.challenge);
    const res = await refreshPost(browser.jar, id, proof);
    assert.equal(res.status, 200);
    const config = await res.json();
    assert.equal(config.session_identifier, id);
    assert.equal(config.refresh_url, "/__dbsc/sid/refresh");
    const token = browser.jar.get("sid")!;
    assert.notEqual(token, old);
    assert.ok(cookiesOf(res).get("sid")!.maxAge! <= 60);
    assert.equal(recordOf(d, old), undefined, "the old id is gone");
    assert.equal(
      d.store.get(forwardKey(storeKey(old))),
      undefined,
      "an expired cookie is not forwarded",
    );
    const binding = bindingOf(d, token)!;
    assert.equal(binding.id, id);
    assert.equal(binding.challenges, undefined, "the challenges are spent");
    assert.deepEqual(recordOf(d, token)!.data, { userId: "ada" });
    // A copy of the old cookie is dead.
    assert.equal(await (await thief.fetch("/me")).text(), "-");
    assert.equal(await (await browser.fetch("/me")).text(), "ada");
    assert.deepEqual(d.names().slice(2), [
      "device-bound:challenged",
      "device-bound:refreshed",
      "unknown-id",
    ]);
  });
});

// Chromium refreshes a bound cookie early (two minutes before it expires)
// while the page goes on using it: the requests it sent with the old
// cookie before it had the refresh's answer reach the server after the
// move.
Deno.test("device-bound: after a refresh made while the cookie was live, the old cookie finds the session for 10 s at most: it reads and writes it, gets no cookie, cannot regenerate()", async () => {
  await withFakeTime(async (clock) => {
    const d = deviceApp({ lifetime: 600 }, { idleTimeout: 3600 });
    const browser = await signedIn(d);
    const old = browser.jar.get("sid")!;
    const inFlight = new Jar(d.app);
    for (const [k, v] of browser.jar.cookies) inFlight.cookies.set(k, v);
    clock.tick(500_000);
    assert.equal((await browser.refresh()).status, 200);
    const token = browser.jar.get("sid")!;
    assert.notEqual(token, old);
    assert.equal(recordOf(d, old), undefined, "the session moved");
    const entry = d.store.get(forwardKey(storeKey(old)))!;
    assert.deepEqual(Object.keys(entry.data), [], "the entry holds no values");
    assert.equal(entry.expires, Date.now() + 10_000);

    // A request the browser sent with the old cookie: served, no cookie.
    const me = await inFlight.fetch("/me");
    assert.equal(await me.text(), "ada");
    assert.equal(me.headers.getSetCookie().length, 0);
    assert.deepEqual(d.names().slice(-1), ["device-bound:forwarded"]);
    // A write lands in the session where it is now; still no cookie,
    // though the idle deadline moved (the browser keeps the new cookie).
    clock.tick(5_000);
    const write = await inFlight.fetch("/write", { method: "POST" });
    assert.equal(await write.text(), "1");
    assert.equal(write.headers.getSetCookie().length, 0);
    assert.equal(recordOf(d, token)!.data.n, 1);
    assert.equal(
      recordOf(d, old),
      undefined,
      "nothing written under the old id",
    );
    // A new id would outlive the old cookie's deadline: 409.
    const regenerate = await inFlight.fetch("/regenerate", { method: "POST" });
    assert.equal(regenerate.status, 409);
    assert.equal(regenerate.headers.getSetCookie().length, 0);
    assert.equal(await (await browser.fetch("/me")).text(), "ada");

    // 10 s after the refresh the old cookie is dead (a copy kept by
    // malware too), and stays so.
    clock.tick(5_001);
    assert.equal(await (await inFlight.fetch("/me")).text(), "-");
    assert.deepEqual(d.names().slice(-1), ["unknown-id"]);
    clock.tick(60_000);
    assert.equal(await (await inFlight.fetch("/me")).text(), "-");
    assert.equal(
      await (await browser.fetch("/write", { method: "POST" })).text(),
      "2",
    );
  });
});

Deno.test("device-bound: a cookie forwarded after an early refresh never outlives its own deadline, and sign-out through it ends the session", async () => {
  await withFakeTime(async (clock) => {
    const d = deviceApp({ lifetime: 600 });
    const browser = await signedIn(d);
    const old = browser.jar.get("sid")!;
    const inFlight = new Jar(d.app);
    inFlight.cookies.set("sid", old);
    // 4 s left on the cookie when the browser refreshes.
    clock.tick(596_000);
    assert.equal((await browser.refresh()).status, 200);
    assert.equal(await (await inFlight.fetch("/me")).text(), "ada");
    clock.tick(4_000);
    assert.equal(await (await inFlight.fetch("/me")).text(), "-");

    // Forwarded again after the next early refresh: a sign-out sent with
    // the old cookie ends the session, and the refreshes with it.
    const before = browser.jar.get("sid")!;
    inFlight.cookies.set("sid", before);
    clock.tick(500_000);
    assert.equal((await browser.refresh()).status, 200);
    const bye = await inFlight.fetch("/logout", { method: "POST" });
    assert.equal(bye.status, 200);
    assert.equal(cookiesOf(bye).get("sid")!.maxAge, 0);
    assert.equal(await (await browser.jar.fetch("/me")).text(), "-");
    const ended = await browser.refresh();
    assert.deepEqual(await ended.json(), { continue: false });
  });
});

// The browser may refresh again within seconds (it lost the answer to the
// first refresh and signs a new challenge): requests still on their way
// with either old cookie keep the session. A regenerate() ends them all.
Deno.test("device-bound: cookies forwarded by early refreshes follow the session through the next refresh, and end with regenerate()", async () => {
  await withFakeTime(async (clock) => {
    const d = deviceApp({ lifetime: 600 });
    const browser = await signedIn(d);
    const first = new Jar(d.app);
    first.cookies.set("sid", browser.jar.get("sid")!);
    clock.tick(500_000);
    assert.equal((await browser.refresh()).status, 200);
    const second = new Jar(d.app);
    second.cookies.set("sid", browser.jar.get("sid")!);
    clock.tick(1_000);
    assert.equal((await browser.refresh()).status, 200);
    assert.equal(await (await first.fetch("/me")).text(), "ada");
    assert.equal(await (await second.fetch("/me")).text(), "ada");
    assert.deepEqual(d.names().slice(-2), [
      "device-bound:forwarded",
      "device-bound:forwarded",
    ]);
    // regenerate() through the current cookie: the forwarded ones end
    // with the one it replaces, though their entries are still there.
    const moved = await browser.fetch("/regenerate", { method: "POST" });
    assert.equal(moved.status, 200);
    assert.ok(d.store.get(forwardKey(storeKey(first.get("sid")!))));
    assert.equal(await (await first.fetch("/me")).text(), "-");
    assert.equal(await (await second.fetch("/me")).text(), "-");
    assert.deepEqual(d.names().slice(-2), ["unknown-id", "unknown-id"]);
    assert.equal(await (await browser.fetch("/me")).text(), "ada");
    assert.equal((await browser.refresh()).status, 200);
    assert.equal(await (await browser.fetch("/me")).text(), "ada");
  });
});

Deno.test("device-bound: a copied cookie stops working after the lifetime, on the server, while the key holder refreshes across several lifetimes", async () => {
  await withFakeTime(async (clock) => {
    const d = deviceApp({ lifetime: 600 });
    const browser = await signedIn(d);
    // Malware copies the cookies; its jar ignores Max-Age.
    const thief = new Jar(d.app);
    for (const [k, v] of browser.jar.cookies) thief.cookies.set(k, v);
    assert.equal(await (await thief.fetch("/me")).text(), "ada");
    clock.tick(599_000);
    assert.equal(await (await thief.fetch("/me")).text(), "ada");
    clock.tick(1_001);
    assert.equal(await (await thief.fetch("/me")).text(), "-");
    assert.deepEqual(d.names().slice(-1), ["device-cookie-refused:unproven"]);
    // The key holder's cookie expired too; it refreshes and goes on, for
    // lifetime after lifetime.
    for (let round = 0; round < 4; round++) {
      assert.equal(await (await browser.fetch("/me")).text(), "ada");
      clock.tick(600_001);
    }
    assert.equal(
      browser.steps.filter((s) => s.step === "refresh" && s.status === 200)
        .length,
      4,
    );
    // The copy never works again, nor a copy of any cookie it had before.
    assert.equal(await (await thief.fetch("/me")).text(), "-");
    // The stale cookie was refused, never deleted: the session lives on.
    assert.equal(await (await browser.fetch("/me")).text(), "ada");
  });
});

Deno.test("device-bound: replayed proofs get a 403 and change nothing", async () => {
  const d = deviceApp({ lifetime: 60 });
  const browser = await DbscBrowser.create(d.app);
  const login = await browser.jar.fetch("/login", { method: "POST" });
  const offer = readOffer(login.headers.get("secure-session-registration"))!;
  const registration = await signProof(
    browser.key,
    offer.challenge,
    offer.authorization,
    { withKey: true },
  );
  const post = (proof: string) =>
    browser.jar.fetch(offer.path, {
      method: "POST",
      headers: { "secure-session-response": proof },
    });
  const registered = await post(registration);
  assert.equal(registered.status, 200);
  browser.config = await registered.json();
  const token = browser.jar.get("sid")!;
  const bound = structuredClone(bindingOf(d, token));
  // The same registration proof again: the session is registered.
  const again = await post(registration);
  assert.equal(again.status, 403);
  assert.equal(again.headers.getSetCookie().length, 0);
  assert.deepEqual(bindingOf(d, token), bound);

  // A refresh proof, answered once; replayed, it is refused.
  const id = bound!.id!;
  const proof = await signProof(browser.key, await browser.challenge());
  const ok = await refreshPost(browser.jar, id, proof);
  assert.equal(ok.status, 200);
  const now = browser.jar.get("sid")!;
  const before = JSON.parse(JSON.stringify(recordOf(d, now)));
  const replay = await refreshPost(new Jar(d.app), id, proof);
  assert.equal(replay.status, 403);
  assert.equal(replay.headers.getSetCookie().length, 0);
  // A fresh challenge comes with the refusal (a browser that raced its own
  // refresh signs it), and is all that changed.
  assert.ok(readChallenge(replay.headers.get("secure-session-challenge")));
  const after = JSON.parse(JSON.stringify(recordOf(d, now)));
  assert.deepEqual(
    { ...after, binding: { ...after.binding, challenges: undefined } },
    { ...before, binding: { ...before!.binding, challenges: undefined } },
  );
  assert.deepEqual(d.names().filter((n) => n.includes("refused")), [
    "device-proof-refused:registration:session",
    "device-proof-refused:refresh:challenge",
  ]);
});

Deno.test("device-bound: a proof signed by another key (forged, or the wrong key) gets a 403 and no cookie", async () => {
  const d = deviceApp({ lifetime: 60 });
  const browser = await signedIn(d);
  const id = browser.config!.session_identifier;
  const token = browser.jar.get("sid")!;
  const other = await makeKey("ES256");
  const challenge = await browser.challenge();
  const forged = await signProof(other, challenge);
  const res = await refreshPost(new Jar(d.app), id, forged);
  assert.equal(res.status, 403);
  assert.equal(res.headers.getSetCookie().length, 0);
  assert.ok(recordOf(d, token), "the session stays where it was");
  // The same proof with the other key in its header changes nothing: a
  // refresh is checked against the registered key only.
  const withKey = await signProof(other, challenge, undefined, {
    withKey: true,
  });
  assert.equal((await refreshPost(new Jar(d.app), id, withKey)).status, 403);
  // The genuine key still answers the very same challenge.
  const genuine = await signProof(browser.key, challenge);
  assert.equal((await refreshPost(browser.jar, id, genuine)).status, 200);

  // Registration: the key in the proof must be the key that signed it.
  const jar = new Jar(d.app);
  const login = await jar.fetch("/login?user=bob", { method: "POST" });
  const offer = readOffer(login.headers.get("secure-session-registration"))!;
  const mismatched = await signProof(
    other,
    offer.challenge,
    offer.authorization,
    { header: { alg: "ES256", typ: "dbsc+jwt", jwk: browser.key.jwk } },
  );
  const reg = await jar.fetch(offer.path, {
    method: "POST",
    headers: { "secure-session-response": mismatched },
  });
  assert.equal(reg.status, 403);
  assert.equal(reg.headers.getSetCookie().length, 0);
  assert.deepEqual(d.names().filter((n) => n.includes("refused")), [
    "device-proof-refused:refresh:signature",
    "device-proof-refused:refresh:signature",
    "device-proof-refused:registration:signature",
  ]);
});

Deno.test("device-bound: an expired challenge is refused, at registration and at refresh", async () => {
  await withFakeTime(async (clock) => {
    const d = deviceApp({ lifetime: 600, challengeTimeout: 30 });
    const browser = await DbscBrowser.create(d.app);
    const login = await browser.jar.fetch("/login", { method: "POST" });
    const offer = readOffer(login.headers.get("secure-session-registration"))!;
    clock.tick(30_001);
    const late = await browser.register(offer);
    assert.equal(late.status, 403);
    // Still signed in, as an ordinary session.
    assert.equal(await (await browser.jar.fetch("/me")).text(), "ada");

    const b = await signedIn(d);
    const challenge = await b.challenge();
    clock.tick(30_001);
    const proof = await signProof(b.key, challenge);
    const res = await refreshPost(b.jar, b.config!.session_identifier, proof);
    assert.equal(res.status, 403);
    assert.equal(res.headers.getSetCookie().length, 0);
    assert.deepEqual(d.names().filter((n) => n.includes("refused")), [
      "device-proof-refused:registration:challenge",
      "device-proof-refused:refresh:challenge",
    ]);
  });
});

Deno.test("device-bound: alg none, a malformed proof, no proof, no identifier: a 4xx and nothing else", async () => {
  const d = deviceApp({ lifetime: 60 });
  const browser = await signedIn(d);
  const id = browser.config!.session_identifier;
  const token = browser.jar.get("sid")!;
  const challenge = await browser.challenge();
  const b64 = (v: unknown) => btoa(JSON.stringify(v)).replace(/=+$/, "");
  const none = `${b64({ alg: "none", typ: "dbsc+jwt" })}.${
    b64({ jti: challenge })
  }.AA`;
  const cases: [string, Record<string, string>, number][] = [
    ["alg none", {
      "sec-secure-session-id": id,
      "secure-session-response": none,
    }, 403],
    ["garbage", {
      "sec-secure-session-id": id,
      "secure-session-response": "not a jwt",
    }, 400],
    ["no identifier", {
      "secure-session-response": await signProof(browser.key, challenge),
    }, 400],
    ["a made-up identifier", {
      "sec-secure-session-id": "x".repeat(44),
    }, 400],
  ];
  for (const [what, headers, status] of cases) {
    const res = await new Jar(d.app).fetch("/__dbsc/sid/refresh", {
      method: "POST",
      headers,
    });
    assert.equal(res.status, status, what);
    assert.equal(res.headers.getSetCookie().length, 0, what);
    assert.ok(!(await res.text()).includes(token), what);
  }
  // Registration: no proof, alg none, garbage.
  const jar = new Jar(d.app);
  const login = await jar.fetch("/login?user=bob", { method: "POST" });
  const offer = readOffer(login.headers.get("secure-session-registration"))!;
  for (
    const [proof, status] of [
      [undefined, 400],
      [
        `${b64({ alg: "none", typ: "dbsc+jwt", jwk: browser.key.jwk })}.${
          b64({ jti: offer.challenge, authorization: offer.authorization })
        }.AA`,
        403,
      ],
      ["x.y.z", 400],
    ] as const
  ) {
    const res = await jar.fetch(offer.path, {
      method: "POST",
      headers: proof ? { "secure-session-response": proof } : {},
    });
    assert.equal(res.status, status);
    assert.equal(res.headers.getSetCookie().length, 0);
  }
  // Nothing of the session changed, and its refresh still works.
  assert.equal(bindingOf(d, token)!.id, id);
  assert.equal((await browser.refresh()).status, 200);
});

Deno.test("device-bound: registration needs a live session and the authorization echoed", async () => {
  const d = deviceApp({ lifetime: 60 });
  const key = await makeKey("ES256");
  const jar = new Jar(d.app);
  const login = await jar.fetch("/login", { method: "POST" });
  const offer = readOffer(login.headers.get("secure-session-registration"))!;
  const post = (proof: string, j: Jar = jar) =>
    j.fetch(offer.path, {
      method: "POST",
      headers: { "secure-session-response": proof },
    });
  const without = await signProof(key, offer.challenge, undefined, {
    withKey: true,
  });
  assert.equal((await post(without)).status, 403);
  const wrong = await signProof(key, offer.challenge, "another", {
    withKey: true,
  });
  assert.equal((await post(wrong)).status, 403);
  // No cookie, or a cookie of no session: nothing to register.
  const good = await signProof(key, offer.challenge, offer.authorization, {
    withKey: true,
  });
  assert.equal((await post(good, new Jar(d.app))).status, 403);
  const stranger = new Jar(d.app);
  stranger.cookies.set("sid", "A".repeat(43));
  assert.equal((await post(good, stranger)).status, 403);
  // Another session's challenge does not register this one.
  const bob = new Jar(d.app);
  await bob.fetch("/login?user=bob", { method: "POST" });
  assert.equal((await post(good, bob)).status, 403);
  assert.deepEqual(d.names().filter((n) => n.includes("refused")), [
    "device-proof-refused:registration:authorization",
    "device-proof-refused:registration:authorization",
    "device-proof-refused:registration:session",
    "device-proof-refused:registration:session",
    "device-proof-refused:registration:challenge",
  ]);
  // The genuine one binds.
  assert.equal((await post(good)).status, 200);
});

Deno.test("device-bound: sign-out, revoke and expiry end refreshes: continue false, both cookies cleared", async () => {
  await withFakeTime(async (clock) => {
    const d = deviceApp({ lifetime: 60 }, { maxAge: 3600 });
    // Sign-out.
    const a = await signedIn(d);
    const aId = a.config!.session_identifier;
    await a.fetch("/logout", { method: "POST" });
    assert.equal(d.store.get(pointerKey(aId, "")), undefined);
    const ended = await refreshPost(a.jar, aId);
    assert.equal(ended.status, 200);
    assert.deepEqual(await ended.json(), { continue: false });
    assert.equal(cookiesOf(ended).get("sid")!.maxAge, 0);
    assert.equal(cookiesOf(ended).get("sx")!.maxAge, 0);
    // Revocation from elsewhere.
    const b = await signedIn(d);
    const listed = await userSessions(d.store).list("ada");
    assert.equal(listed.length, 1);
    assert.equal(listed[0]!.deviceBound, true);
    await userSessions(d.store).revokeAll("ada");
    assert.deepEqual(
      await (await refreshPost(b.jar, b.config!.session_identifier)).json(),
      {
        continue: false,
      },
    );
    // Expiry.
    const c = await signedIn(d);
    clock.tick(3_600_001);
    const res = await c.refresh();
    assert.equal(res.status, 200);
    assert.equal(c.config, undefined, "the browser stopped refreshing");
    assert.deepEqual(
      d.names().filter((n) => n === "device-bound:ended").length,
      3,
    );
  });
});

Deno.test("device-bound: Secure-Session-Skipped naming the session is taken as a missing cookie, and reported", async () => {
  const d = deviceApp({ lifetime: 60 });
  const browser = await signedIn(d);
  const id = browser.config!.session_identifier;
  const me = (skipped: string) =>
    browser.jar.text("/me", { headers: { "secure-session-skipped": skipped } });
  assert.deepEqual(await me(`unreachable;session_identifier="${id}"`), [
    200,
    "-",
  ]);
  assert.deepEqual(d.names().slice(-2), [
    "device-refresh-skipped:unreachable",
    "device-cookie-refused:skipped",
  ]);
  assert.deepEqual(
    await me(`quota_exceeded;session_identifier="${"B".repeat(43)}"`),
    [200, "ada"],
  );
  assert.deepEqual(await me("server_error"), [200, "-"]);
  assert.deepEqual(await me("(("), [200, "-"]);
  // The session itself lives on: without the header it is served.
  assert.equal(await (await browser.fetch("/me")).text(), "ada");
});

Deno.test("device-bound: a browser without DBSC keeps an ordinary session", async () => {
  await withFakeTime(async (clock) => {
    const d = deviceApp({ lifetime: 60 });
    const jar = new Jar(d.app, { maxAge: true });
    const login = await jar.fetch("/login", { method: "POST" });
    assert.ok(login.headers.get("secure-session-registration"));
    // Nobody registers: the cookie lasts the session's maxAge, and the
    // session is served well past the bound lifetime.
    assert.ok(cookiesOf(login).get("sid")!.maxAge! > 86_000);
    clock.tick(3_600_000);
    assert.equal(await (await jar.fetch("/me")).text(), "ada");
    assert.equal(
      await (await jar.fetch("/write", { method: "POST" })).text(),
      "1",
    );
    const listed = await userSessions(d.store).list("ada");
    assert.equal(listed[0]!.deviceBound, false);
  });
});

Deno.test("device-bound: apps without the option see nothing of it", async () => {
  const store = new MemoryStore();
  const d = deviceApp(false, {}, store);
  const jar = new Jar(d.app);
  const login = await jar.fetch("/login", { method: "POST" });
  assert.equal(login.headers.get("secure-session-registration"), null);
  assert.equal(recordOf(d, jar.get("sid")!)!.binding, undefined);
  const refresh = await jar.fetch("/__dbsc/sid/refresh", {
    method: "POST",
    headers: { "sec-secure-session-id": "A".repeat(43) },
  });
  assert.equal(refresh.status, 404, "the app's own 404");
  assert.deepEqual(d.names(), []);
});

Deno.test("device-bound: regenerate() keeps the binding and moves the identifier along; renew() carries its entry", async () => {
  await withFakeTime(async (clock) => {
    const d = deviceApp({ lifetime: 600 }, { maxAge: 1200 });
    const browser = await signedIn(d);
    const id = browser.config!.session_identifier;
    const old = browser.jar.get("sid")!;
    const key = bindingOf(d, old)!.key;
    const res = await browser.fetch("/regenerate", { method: "POST" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("secure-session-registration"), null);
    const token = browser.jar.get("sid")!;
    assert.notEqual(token, old);
    assert.equal(recordOf(d, old), undefined);
    assert.deepEqual(bindingOf(d, token)!.key, key);
    assert.equal(bindingOf(d, token)!.id, id);
    // The regenerated cookie still lasts only the bound lifetime.
    assert.ok(cookiesOf(res).get("sid")!.maxAge! <= 600);
    const pointer = d.store.get(pointerKey(id, ""))!;
    assert.equal(
      (pointer.binding as { session: string }).session,
      storeKey(token),
    );
    assert.equal((await browser.refresh()).status, 200);
    // renew() past the entry's expiry carries the entry along.
    const before = d.store.get(pointerKey(id, ""))!.expires;
    clock.tick(1_000);
    await browser.fetch("/renew?maxAge=7200", { method: "POST" });
    const after = d.store.get(pointerKey(id, ""))!.expires;
    assert.ok(after >= before + 6_000_000, `${before} -> ${after}`);
    clock.tick(3_000_000); // past the old maxAge, within the renewed one
    assert.equal(await (await browser.fetch("/me")).text(), "ada");
  });
});

Deno.test("device-bound: a browser-session cookie's session ends at the refresh after the browser closed", async () => {
  const d = deviceApp({ lifetime: 60 }, { persistent: false });
  const browser = await signedIn(d);
  assert.equal((await browser.refresh()).status, 200);
  // The browser closes: its browser-session exists cookie goes.
  browser.jar.cookies.delete("sx");
  const res = await browser.refresh();
  assert.deepEqual(await res.json(), { continue: false });
});

Deno.test("device-bound: the same proof sent twice at once is answered once", async () => {
  const d = deviceApp({ lifetime: 60 });
  const browser = await signedIn(d);
  const id = browser.config!.session_identifier;
  const proof = await signProof(browser.key, await browser.challenge());
  const results = await Promise.all([
    refreshPost(new Jar(d.app), id, proof),
    refreshPost(new Jar(d.app), id, proof),
  ]);
  assert.deepEqual(results.map((r) => r.status).sort(), [200, 403]);
  // Registration likewise.
  const key = await makeKey("ES256");
  const jar = new Jar(d.app);
  const login = await jar.fetch("/login?user=bob", { method: "POST" });
  const offer = readOffer(login.headers.get("secure-session-registration"))!;
  const reg = await signProof(key, offer.challenge, offer.authorization, {
    withKey: true,
  });
  const twice = await Promise.all([0, 1].map(() =>
    jar.fetch(offer.path, {
      method: "POST",
      headers: { "secure-session-response": reg },
    })
  ));
  assert.deepEqual(twice.map((r) => r.status).sort(), [200, 403]);
});

Deno.test("device-bound: a write to a bound session keeps its cookie's short Max-Age", async () => {
  await withFakeTime(async (clock) => {
    const d = deviceApp({ lifetime: 600 }, { idleTimeout: 3600 });
    const browser = await signedIn(d);
    clock.tick(500_000);
    const res = await browser.fetch("/write", { method: "POST" });
    const sid = cookiesOf(res).get("sid");
    assert.ok(sid, "idle write-back sends the cookie");
    assert.ok(sid.maxAge! <= 100, `Max-Age ${sid.maxAge}`);
    assert.ok(cookiesOf(res).get("sx")!.maxAge! > 3000);
  });
});

Deno.test("device-bound: a session past its absolute timeout (lowered after sign-in) is not refreshed, and goes", async () => {
  await withFakeTime(async (clock) => {
    const before = deviceApp({ lifetime: 60 });
    const browser = await signedIn(before);
    const token = browser.jar.get("sid")!;
    // The app is redeployed with an absolute timeout of one minute.
    const after = deviceApp(
      { lifetime: 60 },
      { absoluteTimeout: 60 },
      before.store,
    );
    clock.tick(61_000);
    const res = await refreshPost(
      new Jar(after.app),
      browser.config!.session_identifier,
    );
    assert.deepEqual(await res.json(), { continue: false });
    assert.equal(recordOf(before, token), undefined, "the record is gone");
  });
});

Deno.test("device-bound: a regenerate() after a move that did not finish still takes the identifier along", async () => {
  const d = deviceApp({ lifetime: 60 });
  const browser = await signedIn(d);
  const id = browser.config!.session_identifier;
  const key = storeKey(browser.jar.get("sid")!);
  // A refresh pointed the identifier at a new key, then failed before the
  // move (the store went away): the entry names a key never written.
  const pointer = d.store.get(pointerKey(id, ""))!;
  d.store.set(pointerKey(id, ""), {
    ...pointer,
    binding: { id, session: storeKey("x".repeat(43)), previous: [key] },
  });
  assert.equal(
    (await browser.fetch("/regenerate", { method: "POST" })).status,
    200,
  );
  assert.equal((await browser.refresh()).status, 200, "the refresh finds it");
  assert.equal(await (await browser.fetch("/me")).text(), "ada");
});

/**
 * Two refreshes with the same proof at once, on a device-bound app with
 * `extra` options: each points the identifier at its new key, then moves
 * the session there. The first move is held until the second refresh
 * (which found the session where the first would take it from, and
 * pointed the identifier at a key of its own) reaches its move.
 */
async function loserPointsLast(extra: SessionOptions = {}) {
  const store = new MemoryStore({ sweepInterval: 0 });
  const replace = store.replace.bind(store);
  let arrived = () => {};
  const second = new Promise<void>((r) => arrived = r);
  let finished = () => {};
  const first = new Promise<void>((r) => finished = r);
  let calls = 0;
  store.replace = async (...args: Parameters<MemoryStore["replace"]>) => {
    const call = ++calls;
    if (call === 1) {
      await Promise.race([second, new Promise((r) => setTimeout(r, 500))]);
      try {
        return replace(...args);
      } finally {
        finished();
      }
    }
    if (call === 2) {
      arrived();
      await first;
    }
    return replace(...args);
  };
  const d = deviceApp({ lifetime: 60 }, extra, store);
  const browser = await signedIn(d);
  const id = browser.config!.session_identifier;
  calls = 0;
  const proof = await signProof(browser.key, await browser.challenge());
  const results = await Promise.all([
    refreshPost(new Jar(d.app), id, proof),
    refreshPost(new Jar(d.app), id, proof),
  ]);
  assert.equal(calls, 2, "both refreshes reached their move");
  const answers = await Promise.all(results.map((r) => r.clone().text()));
  assert.deepEqual(
    results.map((r) => r.status).sort(),
    [200, 403],
    answers.join(" | "),
  );
  // The winner's cookie is the session's.
  browser.jar.keep(results.find((r) => r.status === 200)!);
  return { d, browser, id };
}

Deno.test("device-bound: the same proof twice at once, the loser pointing the identifier at its own key before its move fails: the winner's session stays refreshable", async () => {
  const { browser } = await loserPointsLast();
  assert.equal((await browser.refresh()).status, 200);
  assert.equal(await (await browser.fetch("/me")).text(), "ada");
});

Deno.test("device-bound: after the same proof twice at once, renew() still carries the identifier's entry: a refresh past the old deadline gets a challenge, not the end", async () => {
  await withFakeTime(async (clock) => {
    const { d, browser, id } = await loserPointsLast({ maxAge: 120 });
    // The entry names the loser's key (never written) as where the
    // session is; renew() from the winner's key must still extend it.
    assert.equal(
      (await browser.fetch("/renew?maxAge=3600", { method: "POST" })).status,
      200,
    );
    clock.tick(200_000); // past the 120 s the entry was written for
    const res = await refreshPost(new Jar(d.app), id);
    assert.equal(res.status, 403, await res.clone().text());
    assert.ok(res.headers.has("secure-session-challenge"));
    assert.equal((await browser.refresh()).status, 200);
    assert.equal(await (await browser.fetch("/me")).text(), "ada");
  });
});

Deno.test("device-bound: two device-bound middlewares on one app each offer registration in the same response, and each session registers and refreshes on its own paths", async () => {
  const store = new MemoryStore({ sweepInterval: 0 });
  const options = (name: string) => ({
    store,
    deviceBound: { lifetime: 60 },
    cookieName: name,
    existsCookieName: `${name}x`,
  });
  type Vars = { Variables: { session: Record<string, unknown> & Session } };
  const app = new Hono<Vars>()
    .use(session(options("outer")))
    // The outer session, signed in by the same request.
    .use("/login", async (c, next) => {
      c.var.session.regenerate();
      c.var.session.who = "outer";
      await next();
    })
    .use(session(options("inner")))
    .post("/login", (c) => {
      c.var.session.regenerate();
      c.var.session.who = "inner";
      return c.text("ok");
    })
    .get("/me", (c) => c.text(String(c.var.session.who ?? "-")));
  const jar = new Jar(app);
  const login = await jar.fetch("/login", { method: "POST" });
  const header = login.headers.get("secure-session-registration") ?? "";
  const offers = header.split(/,\s*(?=\()/).map((o) => readOffer(o)!);
  assert.deepEqual(offers.map((o) => o.path).sort(), [
    "/__dbsc/inner/register",
    "/__dbsc/outer/register",
  ]);
  for (const offer of offers) {
    const name = offer.path.split("/")[2]!;
    const key = await makeKey("ES256");
    const proof = await signProof(
      key,
      offer.challenge,
      offer.authorization,
      { withKey: true },
    );
    const res = await jar.fetch(offer.path, {
      method: "POST",
      headers: { "secure-session-response": proof },
    });
    assert.equal(res.status, 200, name);
    const config = await res.json();
    assert.equal(config.credentials[0].name, name);
    const challenge = readChallenge(
      (await refreshPost(
        jar,
        config.session_identifier,
        undefined,
        config.refresh_url,
      ))
        .headers.get("secure-session-challenge"),
    )!;
    const refreshed = await refreshPost(
      jar,
      config.session_identifier,
      await signProof(key, challenge.challenge),
      config.refresh_url,
    );
    assert.equal(refreshed.status, 200, name);
  }
  assert.equal(await (await jar.fetch("/me")).text(), "inner");
});

Deno.test("device-bound: turning the option off: the browser's bound cookie expires and nothing renews it; the server no longer checks, so a copy works again", async () => {
  await withFakeTime(async (clock) => {
    const before = deviceApp({ lifetime: 60 });
    const browser = await signedIn(before);
    const copied = browser.jar.get("sid")!;
    // The app is redeployed without deviceBound, on the same store.
    const after = deviceApp(false, {}, before.store);
    const again = new DbscBrowser(after.app, browser.key);
    for (const [k, v] of browser.jar.cookies) again.jar.cookies.set(k, v);
    again.jar.expires.set("sid", browser.jar.expires.get("sid")!);
    again.config = browser.config;
    clock.tick(61_000);
    // The browser dropped its cookie; its refresh finds no endpoint.
    assert.equal(await (await again.fetch("/me")).text(), "-");
    assert.deepEqual(again.steps, [{ step: "refresh", status: 404 }]);
    // A copy kept past its Max-Age is served: nothing checks the binding.
    const copy = new Jar(after.app);
    copy.cookies.set("sid", copied);
    assert.equal(await (await copy.fetch("/me")).text(), "ada");
  });
});

Deno.test("device-bound: a refresh challenge of one session does not refresh another, even signed by that one's key", async () => {
  const d = deviceApp({ lifetime: 60 });
  const a = await signedIn(d);
  const b = await signedIn(d);
  const challenge = await a.challenge();
  await b.challenge(); // B has a live challenge of its own
  // B's key holder got hold of A's challenge: it answers nothing for B.
  const proof = await signProof(b.key, challenge);
  const res = await refreshPost(b.jar, b.config!.session_identifier, proof);
  assert.equal(res.status, 403);
  assert.equal(res.headers.getSetCookie().length, 0);
  // Nor for A, whose key did not sign it; A's own proof still does.
  const aId = a.config!.session_identifier;
  assert.equal((await refreshPost(new Jar(d.app), aId, proof)).status, 403);
  const own = await signProof(a.key, challenge);
  assert.equal((await refreshPost(a.jar, aId, own)).status, 200);
  assert.deepEqual(d.names().filter((n) => n.includes("refused")), [
    "device-proof-refused:refresh:challenge",
    "device-proof-refused:refresh:signature",
  ]);
});

Deno.test("device-bound: a browser-session cookie's session does not outlive a browser restart, though its bound cookie carries the lifetime as Max-Age", async () => {
  const d = deviceApp({ lifetime: 600 }, { persistent: false });
  const browser = await signedIn(d);
  const old = browser.jar.get("sid")!;
  // An early refresh: the old cookie is forwarded for a few seconds.
  const res = await browser.refresh();
  // The bound cookie needs a Max-Age (its expiry is what makes the browser
  // refresh), so it outlives a browser restart; the exists cookie does not.
  assert.equal(cookiesOf(res).get("sid")!.maxAge, 600);
  assert.equal(cookiesOf(res).get("sx")!.maxAge, undefined);
  assert.equal(await (await browser.fetch("/me")).text(), "ada");
  const forwarded = (sx: boolean) =>
    new Jar(d.app).fetch("/me", {
      headers: { cookie: `sid=${old}${sx ? "; sx=1" : ""}` },
    });
  assert.equal(await (await forwarded(true)).text(), "ada");
  // The browser restarts within the lifetime: its exists cookie is gone.
  browser.jar.cookies.delete("sx");
  assert.equal(await (await browser.jar.fetch("/me")).text(), "-");
  assert.deepEqual(d.names().slice(-1), ["device-cookie-refused:closed"]);
  assert.equal(await (await forwarded(false)).text(), "-");
  assert.deepEqual(d.names().slice(-1), ["device-cookie-refused:closed"]);
});

Deno.test("device-bound: a request that loaded the session before a refresh moved it: a read is served, a write fails with 409 as after regenerate()", async () => {
  const app = testApp({
    store: new MemoryStore(),
    deviceBound: { lifetime: 60 },
  });
  const browser = await DbscBrowser.create(app.app);
  await browser.fetch("/signin?user=ada", { method: "POST" });
  for (const [query, status] of [["", 200], ["?x=1", 409]] as const) {
    const tab = new Jar(app.app);
    tab.cookies.set("sid", browser.jar.get("sid")!);
    const hold = app.hold();
    const slow = tab.fetch(`/slow${query}`, { method: "POST" });
    await hold.reached;
    assert.equal((await browser.refresh()).status, 200);
    hold.release();
    const res = await slow;
    assert.equal(res.status, status, query);
    assert.equal(res.headers.getSetCookie().length, 0, query);
  }
  assert.equal(await (await browser.fetch("/read")).text(), "ada");
});
