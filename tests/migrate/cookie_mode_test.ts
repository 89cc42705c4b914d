// migrateFrom: "hono-session@1" in cookie mode, against cookies issued by
// the real hono-session 1.2.0 (npm): read with the same secret (each of a
// rotation list), served as 1.2.0 would, moved to our seal at the first
// write and never earlier, with the 1.x deadline exactly; tampered, foreign
// and garbage seals are no session, never a 5xx.
import assert from "node:assert/strict";
import fc from "fast-check";
import { defaults, seal, unseal } from "iron-webcrypto";
import { parse } from "hono/utils/cookie";
import type { SessionEvent } from "../../mod.ts";
import { Keyring } from "../../_cookie_mode/keyring.ts";
import { IronKey } from "../../_cookie_mode/iron.ts";
import { withFakeTime } from "../_helpers.ts";
import {
  Browser,
  LOADED,
  MOVED,
  ourApp,
  recorder,
  V1_SECRET,
  v1App,
} from "./_v1.ts";

const V1 = "hono-session@1";
const OTHER = "another-secret-another-secret-another-1";

/** A browser signed in on hono-session 1.2.0, its welcome already shown. */
async function signedInOnV1(
  secret = V1_SECRET,
  maxAge?: number,
): Promise<Browser> {
  const browser = new Browser(
    v1App(maxAge === undefined ? { secret } : { secret, maxAge }),
  );
  assert.equal(await browser.step("POST /login?user=ada"), "200 ok");
  await browser.step("GET /state");
  return browser;
}

/** What a 1.x cookie holds, opened as 1.x opens it. */
async function v1Contents(cookie: string): Promise<Record<string, unknown>> {
  return await unseal(cookie, V1_SECRET, defaults) as Record<string, unknown>;
}

/** What one of our cookies holds, opened with our key for cookie "sid". */
async function ourContents(
  cookie: string,
  secret = V1_SECRET,
): Promise<Record<string, any>> {
  const key = await new Keyring([secret], "cookie:sid").newest();
  return JSON.parse((await key.iron.open(cookie))!);
}

/** Whether fetch can send `s` in a header at all. */
function isByteString(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 255) return false;
  return !/[\r\n\0]/.test(s);
}

function withEvents(events: SessionEvent[]) {
  return {
    secret: V1_SECRET,
    migrateFrom: V1,
    onEvent: recorder(events),
  } as const;
}

Deno.test("v1 cookie: served as 1.2.0 would, untouched by reads, moved to our seal at the first write", async () => {
  await withFakeTime(async (clock) => {
    const browser = await signedInOnV1();
    const v1Cookie = browser.cookies.get("sid")!;
    assert.match(v1Cookie, /^Fe26\.2\*\*/, "1.2.0 seals with no key id");
    const { _expires } = await v1Contents(v1Cookie);
    assert.equal(typeof _expires, "number");

    const events: SessionEvent[] = [];
    browser.app = ourApp(withEvents(events));
    clock.tick(60_000);
    assert.equal(await browser.step("GET /me"), "200 ada");
    assert.equal(await browser.step("GET /me"), "200 ada");
    assert.equal(browser.last.length, 0, "a read sends no cookie");
    assert.equal(browser.cookies.get("sid"), v1Cookie);
    assert.deepEqual(events, [LOADED, LOADED]);

    events.length = 0;
    assert.equal(await browser.step("POST /count"), "200 1");
    const ours = browser.cookies.get("sid")!;
    assert.deepEqual(events, [LOADED, MOVED]);
    const newest = await new Keyring([V1_SECRET], "cookie:sid").newest();
    assert.equal(ours.split("*")[1], newest.id, "sealed with our key");
    const record = await ourContents(ours);
    assert.deepEqual(record.data, { userId: "ada", n: 1 });
    assert.equal(record.expires, _expires, "the 1.x deadline, not extended");
    const maxAge = browser.last.find((c) => c.name === "sid")!.maxAge;
    assert.equal(
      maxAge,
      Math.ceil(((_expires as number) - clock.now()) / 1000),
    );
    assert.equal(browser.last.find((c) => c.name === "sx")?.value, "1");

    events.length = 0;
    assert.equal(await browser.step("GET /me"), "200 ada");
    assert.deepEqual(events, [], "now one of ours");

    // One way: 1.2.0 cannot read what replaced its cookie.
    browser.app = v1App({ secret: V1_SECRET });
    assert.equal(await browser.step("GET /me"), "401 Unauthorised");
  });
});

Deno.test("v1 cookie: read again, a 1.x cookie costs a lookup: no HMAC, no decryption", async () => {
  const browser = await signedInOnV1();
  browser.app = ourApp({ secret: [OTHER, V1_SECRET], migrateFrom: V1 });
  const subtle = crypto.subtle;
  const calls = { verify: 0, decrypt: 0 };
  const verify = subtle.verify.bind(subtle);
  const decrypt = subtle.decrypt.bind(subtle);
  subtle.verify = (...args: Parameters<SubtleCrypto["verify"]>) => {
    calls.verify++;
    return verify(...args);
  };
  subtle.decrypt = (...args: Parameters<SubtleCrypto["decrypt"]>) => {
    calls.decrypt++;
    return decrypt(...args);
  };
  try {
    assert.equal(await browser.step("GET /me"), "200 ada");
    // The first secret's check fails, the second's passes, then it decrypts.
    assert.deepEqual(calls, { verify: 2, decrypt: 1 });
    assert.equal(await browser.step("GET /me"), "200 ada");
    assert.deepEqual(calls, { verify: 2, decrypt: 1 });
  } finally {
    subtle.verify = verify;
    subtle.decrypt = decrypt;
  }
});

Deno.test("v1 cookie: pending flash values are served once, as 1.2.0 would", async () => {
  const browser = new Browser(v1App({ secret: V1_SECRET }));
  await browser.step("POST /login?user=ada"); // flashes the welcome
  await browser.step("POST /flash?text=saved"); // and a second notice
  browser.app = ourApp({ secret: V1_SECRET, migrateFrom: V1 });
  assert.equal(
    await browser.step("GET /state"),
    '200 {"userId":"ada","n":null,"cart":null,"notice":"saved","isNew":false}',
  );
  assert.equal(
    await browser.step("GET /state"),
    '200 {"userId":"ada","n":null,"cart":null,"notice":null,"isNew":false}',
  );
});

Deno.test("v1 cookie: each secret of a rotation list opens it; a secret not listed does not", async () => {
  const browser = await signedInOnV1(OTHER);
  const v1Cookie = browser.cookies.get("sid")!;
  const events: SessionEvent[] = [];
  browser.app = ourApp({
    secret: [V1_SECRET, OTHER],
    migrateFrom: V1,
    onEvent: recorder(events),
  });
  assert.equal(await browser.step("GET /me"), "200 ada");
  assert.deepEqual(events, [LOADED, { type: "rotated-secret", keyIndex: 1 }]);
  await browser.step("POST /count");
  const newest = await new Keyring([V1_SECRET], "cookie:sid").newest();
  assert.equal(browser.cookies.get("sid")!.split("*")[1], newest.id);

  events.length = 0;
  const elsewhere = ourApp({
    secret: V1_SECRET,
    migrateFrom: V1,
    onEvent: recorder(events),
  });
  const res = await elsewhere.request("/me", {
    headers: { cookie: `sid=${v1Cookie}` },
  });
  assert.equal(res.status, 401);
  assert.deepEqual(events, [{ type: "invalid-cookie", reason: "bad-seal" }]);
});

Deno.test("v1 cookie: the deadline is exact, and at most 400 days away", async () => {
  await withFakeTime(async (clock) => {
    const browser = await signedInOnV1(V1_SECRET, 3600);
    const { _expires } = await v1Contents(browser.cookies.get("sid")!);
    const events: SessionEvent[] = [];
    browser.app = ourApp(withEvents(events));
    clock.tick((_expires as number) - clock.now() - 1);
    assert.equal(
      await browser.step("GET /me"),
      "200 ada",
      "a millisecond left",
    );
    clock.tick(1);
    events.length = 0;
    assert.equal(await browser.step("GET /me"), "401 Unauthorised");
    assert.deepEqual(events, [LOADED, { type: "expired", reason: "lifetime" }]);

    // A 1.x session renewed for 1000 days: served, and moved with the
    // longest lifetime a cookie may have.
    const far = await signedInOnV1();
    far.app = v1App({ secret: V1_SECRET });
    await far.step(`POST /renew?seconds=${1000 * 86400}`);
    far.app = ourApp({ secret: V1_SECRET, migrateFrom: V1 });
    assert.equal(await far.step("POST /count"), "200 1");
    assert.equal(far.last.find((c) => c.name === "sid")!.maxAge, 400 * 86400);
    const record = await ourContents(far.cookies.get("sid")!);
    assert.equal(record.expires, clock.now() + 400 * 86400 * 1000);
  });
});

Deno.test("v1 cookie: with idleTimeout and absoluteTimeout, a 1.x session counts as last used now and created maxAge before its deadline", async () => {
  await withFakeTime(async (clock) => {
    const browser = await signedInOnV1(); // 1.x maxAge: one day
    const { _expires } = await v1Contents(browser.cookies.get("sid")!);
    const options = {
      secret: V1_SECRET,
      migrateFrom: V1,
      idleTimeout: 600,
      absoluteTimeout: 12 * 3600,
    } as const;
    browser.app = ourApp(options);
    clock.tick(3600_000);
    assert.equal(await browser.step("POST /count"), "200 1");
    const record = await ourContents(browser.cookies.get("sid")!);
    assert.equal(record.created, (_expires as number) - 86400_000);
    assert.equal(record.expires, clock.now() + 600_000, "idle window from now");
    // The absolute deadline (12 h after the estimated creation) still
    // bounds the idle one.
    assert.equal(record.limit, record.created + 12 * 3600_000);
    clock.tick(11 * 3600_000 - 1);
    // Idle since the write: ended.
    assert.equal(await browser.step("GET /me"), "401 Unauthorised");
  });
});

Deno.test("v1 cookie: with idleTimeout, the first read writes its activity back in our seal, and a session then left idle ends", async () => {
  await withFakeTime(async (clock) => {
    const browser = await signedInOnV1();
    const events: SessionEvent[] = [];
    browser.app = ourApp({ ...withEvents(events), idleTimeout: 600 });
    clock.tick(3600_000);
    assert.equal(await browser.step("GET /me"), "200 ada");
    assert.deepEqual(events, [LOADED, MOVED], "a read, written back");
    const record = await ourContents(browser.cookies.get("sid")!);
    assert.equal(record.expires, clock.now() + 600_000);
    clock.tick(600_000);
    assert.equal(await browser.step("GET /me"), "401 Unauthorised");
  });
});

Deno.test("v1 cookie: only a seal with 1.x's deadline is read: one without _expires (1.x given maxAge: undefined) or anything else sealed with the raw secret is no session", async () => {
  const events: SessionEvent[] = [];
  const app = ourApp(withEvents(events));
  const ask = async (cookie: string) => {
    events.length = 0;
    const res = await app.request("/me", { headers: { cookie } });
    return [res.status, events.slice()];
  };
  const refused = [401, [{ type: "invalid-cookie", reason: "bad-record" }]];

  // 1.x without a deadline: it wrote _expires as null, then not at all
  // (and browser-session cookies: no Max-Age).
  const browser = new Browser(
    v1App({ secret: V1_SECRET, maxAge: undefined as unknown as number }),
  );
  await browser.step("POST /login?user=ada");
  const first = browser.cookies.get("sid")!;
  assert.equal((await v1Contents(first))._expires, null);
  assert.equal(
    browser.last.findLast((c) => c.name === "sid")!.maxAge,
    undefined,
  );
  await browser.step("GET /state"); // the welcome, shown
  const second = browser.cookies.get("sid")!;
  assert.ok(!("_expires" in await v1Contents(second)));
  assert.equal(await browser.step("GET /me"), "200 ada", "1.x served them");
  assert.deepEqual(await ask(`sid=${first}`), refused);
  assert.deepEqual(await ask(`sid=${second}`), refused);

  // The same through a custom encoder (1.2.0's own, handed to both).
  const encoder = {
    encode: (data: object, secret: string) => seal(data, secret, defaults),
    decode: (value: string, secret: string) =>
      unseal(value, secret, defaults) as Promise<Record<string, unknown>>,
  };
  const custom = ourApp({ ...withEvents(events), encoder });
  for (const cookie of [first, second]) {
    events.length = 0;
    const res = await custom.request("/me", {
      headers: { cookie: `sid=${cookie}` },
    });
    assert.deepEqual([res.status, events], refused);
  }

  // What other code seals with iron and the same secret, no key id: a
  // token of the app's own, another library's cookie (h3's useSession
  // shape), our record's names. None of it is a 1.x session.
  for (
    const value of [
      { userId: "victim", purpose: "invite" },
      { id: "s-1", createdAt: Date.now(), data: { userId: "ada" } },
      { data: { userId: "ada" }, expires: Date.now() + 60_000 },
    ]
  ) {
    const sealed = await seal(value, V1_SECRET, defaults);
    assert.deepEqual(
      await ask(`sid=${sealed}`),
      refused,
      JSON.stringify(value),
    );
  }
  // The same objects with a deadline in _expires are read as 1.x's.
  const withDeadline = await seal(
    { userId: "ada", _expires: Date.now() + 60_000 },
    V1_SECRET,
    defaults,
  );
  assert.deepEqual(await ask(`sid=${withDeadline}`), [200, [LOADED]]);
});

Deno.test("v1 cookie: bound to no cookie name, as in 1.x: a 1.x cookie of another cookie name and the same secret is read too; ours are not", async () => {
  const prefs = new Browser(v1App({ secret: V1_SECRET, cookieName: "prefs" }));
  await prefs.step("POST /login?user=mallory");
  await prefs.step("GET /state");
  const v1Prefs = prefs.cookies.get("prefs")!;
  const sid = ourApp({ secret: V1_SECRET, migrateFrom: V1 });
  const res = await sid.request("/me", {
    headers: { cookie: `sid=${v1Prefs}` },
  });
  assert.equal(await res.text(), "mallory", "1.x read it so too");
  // A seal of ours for "prefs" does not open as "sid".
  prefs.app = ourApp({
    secret: V1_SECRET,
    cookieName: "prefs",
    migrateFrom: V1,
  });
  await prefs.step("POST /count");
  const ours = prefs.cookies.get("prefs")!;
  assert.notEqual(ours, v1Prefs);
  const moved = await sid.request("/me", {
    headers: { cookie: `sid=${ours}` },
  });
  assert.equal(moved.status, 401);
});

Deno.test("v1 cookie: without migrateFrom it is no session, as before", async () => {
  const browser = await signedInOnV1();
  const events: SessionEvent[] = [];
  browser.app = ourApp({
    secret: V1_SECRET,
    onEvent: recorder(events),
  });
  assert.equal(await browser.step("GET /me"), "401 Unauthorised");
  assert.deepEqual(events, [{ type: "invalid-cookie", reason: "bad-seal" }]);
});

Deno.test("v1 cookie: tampered seals, foreign seals and sealed garbage are no session, never a 5xx", async () => {
  const browser = await signedInOnV1();
  const genuine = browser.cookies.get("sid")!;
  const events: SessionEvent[] = [];
  const app = ourApp(withEvents(events));
  const ask = async (value: string) => {
    events.length = 0;
    const res = await app.request("/state", {
      headers: { cookie: `sid=${value}` },
    });
    assert.equal(res.status, 200, value);
    return [(await res.json()).userId, events.slice()];
  };
  assert.deepEqual(await ask(genuine), ["ada", [LOADED]]);

  // One character changed in each part: salt, iv, data, mac salt, mac.
  const parts = genuine.split("*");
  for (const i of [2, 3, 4, 6, 7]) {
    const changed = [...parts];
    const c = changed[i]!;
    changed[i] = (c[5] === "A" ? "B" : "A") + c.slice(1);
    changed[i] = c.slice(0, 5) + (c[5] === "a" ? "b" : "a") + c.slice(6);
    assert.deepEqual(await ask(changed.join("*")), [null, [
      { type: "invalid-cookie", reason: "bad-seal" },
    ]], `part ${i}`);
  }
  // An iron expiry written in, a key id written in: the MAC covers both.
  const withExpiry = [...parts];
  withExpiry[5] = String(Date.now() + 60_000);
  assert.deepEqual((await ask(withExpiry.join("*")))[0], null);
  const withId = [...parts];
  withId[1] = "abc";
  assert.deepEqual((await ask(withId.join("*")))[0], null);

  // Sealed with the real secret, as 1.2.0 seals, but not a 1.x session.
  const expires = Date.now() + 60_000;
  const garbage: unknown[] = [
    null,
    42,
    "text",
    [],
    [{ _expires: expires }],
    { _expires: String(expires), userId: "ada" },
    { _expires: expires, _flashKeys: "notice", notice: "x" },
    { _expires: expires, _flashKeys: [1], notice: "x" },
    { _expires: {} },
    { _expires: true, userId: "ada" },
  ];
  for (const value of garbage) {
    const sealed = await seal(value, V1_SECRET, defaults);
    assert.deepEqual(await ask(sealed), [null, [
      { type: "invalid-cookie", reason: "bad-record" },
    ]], JSON.stringify(value));
  }
  // Not JSON at all, under a genuine seal.
  const notJson = await new IronKey("", V1_SECRET).seal("{not json");
  assert.deepEqual((await ask(notJson))[0], null);

  // A value named __proto__ is a value; nothing is polluted.
  const proto = await seal(
    JSON.parse(
      `{"_expires":${expires},"userId":"ada","__proto__":{"polluted":1}}`,
    ),
    V1_SECRET,
    defaults,
  );
  assert.deepEqual((await ask(proto))[0], "ada");
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("v1 cookie: a custom encoder gets 1.x's flat object back and migrateFrom reads it", async () => {
  // 1.2.0's own default encoder, handed to both libraries as `encoder`.
  const encoder = {
    encode: (data: object, secret: string) => seal(data, secret, defaults),
    decode: (value: string, secret: string) =>
      unseal(value, secret, defaults) as Promise<Record<string, unknown>>,
  };
  const browser = new Browser(v1App({ secret: V1_SECRET, encoder }));
  await browser.step("POST /login?user=ada");
  const events: SessionEvent[] = [];
  browser.app = ourApp({
    secret: V1_SECRET,
    encoder,
    onEvent: recorder(events),
  });
  assert.equal(await browser.step("GET /me"), "401 Unauthorised");
  assert.deepEqual(events, [{ type: "invalid-cookie", reason: "bad-record" }]);

  events.length = 0;
  browser.app = ourApp({
    secret: V1_SECRET,
    encoder,
    migrateFrom: V1,
    onEvent: recorder(events),
  });
  assert.equal(
    await browser.step("GET /state"),
    '200 {"userId":"ada","n":null,"cart":null,"notice":"welcome ada","isNew":false}',
  );
  assert.deepEqual(events, [LOADED, MOVED], "the flash was consumed: a write");
  const record = await unseal(browser.cookies.get("sid")!, V1_SECRET, defaults);
  assert.deepEqual((record as { data: unknown }).data, { userId: "ada" });
  assert.equal(await browser.step("GET /me"), "200 ada");
});

Deno.test("v1 cookie: fuzzed 1.x seals are no session or the genuine one, never a 5xx", async () => {
  const browser = await signedInOnV1();
  const genuine = browser.cookies.get("sid")!;
  const bob = new Browser(v1App({ secret: V1_SECRET }));
  await bob.step("POST /login?user=bob");
  const other = bob.cookies.get("sid")!;
  const app = ourApp({ secret: V1_SECRET, migrateFrom: V1 });
  const at = fc.nat({ max: genuine.length });
  const char = fc.oneof(
    fc.string({ minLength: 1, maxLength: 1 }),
    fc.constantFrom("*", "%", "=", "\u0000", "é", "🙂", "0", "-", "_"),
  );
  const mutated = fc.oneof(
    at.map((i) => genuine.slice(0, i)),
    fc.tuple(at, char).map(([i, ch]) =>
      genuine.slice(0, i) + ch + genuine.slice(i + 1)
    ),
    fc.tuple(at, char).map(([i, ch]) =>
      genuine.slice(0, i) + ch + genuine.slice(i)
    ),
    at.map((i) => genuine.slice(0, i) + genuine.slice(i + 1)),
    fc.tuple(at, fc.nat({ max: other.length })).map(([i, j]) =>
      genuine.slice(0, i) + other.slice(j)
    ),
    fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }).map((picks) => {
      const a = genuine.split("*");
      const b = other.split("*");
      return a.map((part, i) => (picks[i] ? b[i] : part)).join("*");
    }),
    fc.string({ maxLength: 300 }).map((s) => `Fe26.2**${s}`),
  );
  await fc.assert(
    fc.asyncProperty(mutated, async (value) => {
      // What fetch cannot send never reaches a server.
      if (!isByteString(value)) return;
      const res = await app.request("/me", {
        headers: { cookie: `sid=${value}` },
      });
      const body = await res.text();
      assert.ok(res.status === 200 || res.status === 401, `${res.status}`);
      if (res.status === 200) {
        // Only a genuine seal, however the Cookie header spelt it.
        const sent = parse(`sid=${value}`)["sid"];
        assert.equal(sent, body === "ada" ? genuine : other, body);
      }
    }),
    { numRuns: 200, seed: 20261223 },
  );

  // Any JSON, sealed with the real secret as 1.x would: no 5xx; served
  // only when it is a live 1.x session.
  const sealedJson = fc.oneof(
    fc.jsonValue(),
    fc.dictionary(fc.string(), fc.jsonValue()).map((values) => ({
      ...values,
      _expires: Date.now() + 60_000,
    })),
  );
  await fc.assert(
    fc.asyncProperty(sealedJson, async (value) => {
      const sealed = await seal(value, V1_SECRET, defaults);
      const res = await app.request("/state", {
        headers: { cookie: `sid=${sealed}` },
      });
      assert.equal(res.status, 200);
      const state = await res.json();
      // A plain object whose _expires is a future time, and _flashKeys, if
      // any, names.
      const flat = value as { _expires?: unknown; _flashKeys?: unknown };
      const live = value !== null && typeof value === "object" &&
        !Array.isArray(value) &&
        typeof flat._expires === "number" && flat._expires > Date.now() &&
        (flat._flashKeys == null ||
          (Array.isArray(flat._flashKeys) &&
            flat._flashKeys.every((k) => typeof k === "string")));
      assert.equal(state.isNew, !live, JSON.stringify(value));
    }),
    { numRuns: 150, seed: 20261224 },
  );
});
