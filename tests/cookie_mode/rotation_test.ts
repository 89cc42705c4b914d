// Secret rotation and purpose binding in cookie mode.
import assert from "node:assert/strict";
import { defaults, seal } from "iron-webcrypto";
import type { SessionEvent } from "../../mod.ts";
import { Keyring } from "../../_cookie_mode/keyring.ts";
import { basicApp, Jar } from "../_helpers.ts";

const OLD = "old-secret-old-secret-old-secret-0001";
const NEW = "new-secret-new-secret-new-secret-0002";

function keyId(cookie: string): string {
  return cookie.split("*")[1];
}

Deno.test("rotation: seal with the newest secret, accept any listed, re-seal on the next write", async () => {
  const events: SessionEvent[] = [];
  const before = new Jar(basicApp({ secret: OLD }));
  await before.fetch("/login?user=ada", { method: "POST" });
  const oldCookie = before.get("sid")!;

  const rotated = basicApp({
    secret: [NEW, OLD],
    onEvent: (e) => void events.push(e),
  });
  const jar = new Jar(rotated);
  jar.cookies.set("sid", oldCookie);
  assert.deepEqual(
    await jar.text("/read"),
    [200, "ada"],
    "an old seal still opens",
  );
  assert.equal(jar.last.length, 0, "reading alone does not re-seal");
  assert.deepEqual(events, [{ type: "rotated-secret", keyIndex: 1 }]);

  await jar.fetch("/count", { method: "POST" });
  const newCookie = jar.get("sid")!;
  const newest = await new Keyring([NEW], "cookie:sid").newest();
  const oldest = await new Keyring([OLD], "cookie:sid").newest();
  assert.equal(keyId(oldCookie), oldest.id);
  assert.equal(
    keyId(newCookie),
    newest.id,
    "the write re-sealed with the newest secret",
  );

  // Once OLD is dropped, the re-sealed session lives on and the old seal is dead.
  const after = basicApp({ secret: [NEW] });
  assert.equal(
    await (await after.request("/read", {
      headers: { cookie: `sid=${newCookie}` },
    })).text(),
    "ada",
  );
  assert.equal(
    await (await after.request("/read", {
      headers: { cookie: `sid=${oldCookie}` },
    })).text(),
    "-",
  );
});

Deno.test("rotation: every listed secret is checked when the middleware is created", () => {
  assert.throws(
    () => basicApp({ secret: [NEW, "short"] }),
    /secret\[1\] must have at least 32 characters; this one has 5/,
  );
  assert.throws(() => basicApp({ secret: [] }), /secret is an empty list/);
  assert.throws(
    () => basicApp({ secret: [NEW, 7 as never] }),
    /secret\[1\] must be a string/,
  );
  assert.throws(
    () => basicApp({ secret: [NEW, NEW] }),
    /lists the same secret twice/,
  );
});

Deno.test("rotation: key ids a client writes into a seal reach no prototype", async () => {
  const events: SessionEvent[] = [];
  const app = basicApp({ secret: NEW, onEvent: (e) => void events.push(e) });
  const key = await new Keyring([NEW], "cookie:sid").newest();
  const record = { data: { userId: "forged" }, expires: Date.now() + 60_000 };
  for (
    const id of [
      "constructor",
      "__proto__",
      "toString",
      "hasOwnProperty",
      "valueOf",
      "default",
      "0",
    ]
  ) {
    // A genuine seal, with the right password, but under an id we never issued.
    const sealed = await seal(record, { id, secret: key.password }, defaults)
      .catch(() => undefined);
    const value = sealed ?? `Fe26.2*${id}*${"a".repeat(64)}*iv*data**salt*mac`;
    const res = await app.request("/read", {
      headers: { cookie: `sid=${value}` },
    });
    assert.equal(res.status, 200, id);
    assert.equal(await res.text(), "-", id);
  }
  assert.ok(
    events.every((e) => e.type === "invalid-cookie" && e.reason === "bad-seal"),
  );
  assert.equal(({} as Record<string, unknown>).userId, undefined);
});

Deno.test("purpose binding: a seal made for another cookie name or by another iron user is refused", async () => {
  const a = new Jar(
    basicApp({ secret: NEW, cookieName: "a", existsCookieName: "ax" }),
  );
  await a.fetch("/login?user=ada", { method: "POST" });
  const b = basicApp({ secret: NEW, cookieName: "b", existsCookieName: "bx" });
  const swapped = await b.request("/read", {
    headers: { cookie: `b=${a.get("a")}` },
  });
  assert.equal(await swapped.text(), "-", "same secret, other cookie: refused");

  // Another app that uses iron with the same secret, sealing a session-shaped object.
  const foreign = await seal(
    { data: { userId: "mallory" }, expires: Date.now() + 60_000 },
    NEW,
    defaults,
  );
  const sameName = basicApp({ secret: NEW });
  assert.equal(
    await (await sameName.request("/read", {
      headers: { cookie: `sid=${foreign}` },
    })).text(),
    "-",
  );
  const withId = await seal(
    { data: { userId: "mallory" }, expires: Date.now() + 60_000 },
    { id: (await new Keyring([NEW], "cookie:sid").newest()).id, secret: NEW },
    defaults,
  );
  assert.equal(
    await (await sameName.request("/read", {
      headers: { cookie: `sid=${withId}` },
    })).text(),
    "-",
  );
});

Deno.test("a custom encoder gets the secret as configured: the newest to encode, each in turn (newest first) to decode", async () => {
  const encoded: string[] = [];
  const decoded: string[] = [];
  // Shares the secret with another system: it writes the secret's length
  // into the value and accepts only values made with the same secret.
  const encoder = {
    encode: (
      record: unknown,
      secret: string,
    ) => (encoded.push(secret),
      `${secret.length}.${btoa(JSON.stringify(record))}`),
    decode: (
      value: string,
      secret: string,
    ) => (decoded.push(secret),
      value.startsWith(`${secret.length}.`)
        ? JSON.parse(atob(value.slice(value.indexOf(".") + 1)))
        : null),
  };
  const older = "o".repeat(40);
  const newer = "n".repeat(33);
  const old = new Jar(basicApp({ secret: older, encoder }));
  await old.fetch("/login?user=lin", { method: "POST" });
  assert.deepEqual(encoded, [older]);
  // Another system, holding the same secret, reads the cookie as is.
  assert.equal(
    JSON.parse(atob(old.get("sid")!.slice(3))).data.userId,
    "lin",
  );
  const both = basicApp({ secret: [newer, older], encoder });
  const res = await both.request("/read", {
    headers: { cookie: old.header() },
  });
  assert.equal(await res.text(), "lin");
  assert.deepEqual(decoded, [newer, older], "newest first, then the older");
  encoded.length = 0;
  await new Jar(both).fetch("/login", { method: "POST" });
  assert.deepEqual(encoded, [newer]);
});

Deno.test("rotation with a custom encoder: each listed key is offered to decode, newest first", async () => {
  const encoder = {
    encode: (record: unknown, secret: string) =>
      `${secret}.${btoa(JSON.stringify(record))}`,
    decode: (value: string, secret: string) =>
      value.startsWith(`${secret}.`)
        ? JSON.parse(atob(value.slice(secret.length + 1)))
        : null,
  };
  const old = new Jar(basicApp({ secret: OLD, encoder }));
  await old.fetch("/login?user=lin", { method: "POST" });
  const events: SessionEvent[] = [];
  const both = basicApp({
    secret: [NEW, OLD],
    encoder,
    onEvent: (e) => void events.push(e),
  });
  const res = await both.request("/read", {
    headers: { cookie: old.header() },
  });
  assert.equal(await res.text(), "lin");
  assert.deepEqual(events, [{ type: "rotated-secret", keyIndex: 1 }]);
  const only = basicApp({ secret: NEW, encoder });
  assert.equal(
    await (await only.request("/read", { headers: { cookie: old.header() } }))
      .text(),
    "-",
  );
});
