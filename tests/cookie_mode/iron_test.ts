// Our iron seals are standard iron, and the key reuse behind their speed
// keeps every guarantee: a fresh IV per seal, bounded salt reuse, and no
// cache a forger can grow.
import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { defaults, seal, unseal } from "iron-webcrypto";
import { IronKey } from "../../_cookie_mode/iron.ts";
import { Keyring } from "../../_cookie_mode/keyring.ts";
import { basicApp, Jar, SECRET } from "../_helpers.ts";

const PASSWORD = "p".repeat(43);
const value = {
  data: { userId: "ada", n: [1, 2, 3], s: "é€🙂" },
  expires: 1e15,
};

Deno.test("iron-webcrypto opens our seals, and we open iron-webcrypto's", async () => {
  const key = new IronKey("k1", PASSWORD);
  const ours = await key.seal(JSON.stringify(value));
  assert.deepEqual(await unseal(ours, { k1: PASSWORD }, defaults), value);
  const theirs = await seal(value, { id: "k1", secret: PASSWORD }, defaults);
  assert.deepEqual(JSON.parse((await key.open(theirs))!), value);
  // Without an id too.
  const plain = new IronKey("", PASSWORD);
  assert.deepEqual(
    await unseal(await plain.seal(JSON.stringify(value)), PASSWORD, defaults),
    value,
  );
  assert.deepEqual(
    JSON.parse((await plain.open(await seal(value, PASSWORD, defaults)))!),
    value,
  );
});

Deno.test("sealedLength() is the length of the seal, for every payload size", async () => {
  for (const id of ["", "k1", "0123456789ab"]) {
    const key = new IronKey(id, PASSWORD);
    for (let n = 0; n < 200; n++) {
      const sealed = await key.seal(new Uint8Array(n));
      assert.equal(key.sealedLength(n), sealed.length, `${id} ${n}`);
      assert.deepEqual(await key.openBytes(sealed), new Uint8Array(n));
    }
    const big = await key.seal("x".repeat(9999));
    assert.equal(key.sealedLength(9999), big.length);
  }
});

Deno.test("the middleware's cookies are iron seals any iron library opens with the derived key", async () => {
  const jar = new Jar(basicApp({ secret: SECRET }));
  await jar.fetch("/login?user=ada", { method: "POST" });
  const key = await new Keyring([SECRET], "cookie:sid").newest();
  const record = await unseal(
    jar.get("sid")!,
    { [key.id]: key.password },
    defaults,
  ) as { data: unknown };
  assert.deepEqual(record.data, { userId: "ada" });
});

Deno.test("each seal gets a fresh IV; a salt serves a bounded number of seals and a bounded time", async () => {
  const key = new IronKey("k", PASSWORD);
  const parts = async () => (await key.seal("{}")).split("*");
  const first = await parts();
  const ivs = new Set([first[3]]);
  for (let i = 0; i < 200; i++) {
    const p = await parts();
    assert.equal(p[2], first[2], "the salt is reused within its budget");
    ivs.add(p[3]);
  }
  assert.equal(ivs.size, 201, "never the same IV twice");
  for (let i = 0; i < 10_000; i++) await key.seal("{}");
  assert.notEqual(
    (await parts())[2],
    first[2],
    "a new salt after 10,000 seals",
  );

  const clock = FakeTimers.install({ now: Date.now(), toFake: ["Date"] });
  try {
    const timed = new IronKey("t", PASSWORD);
    const salt = (await timed.seal("{}")).split("*")[2];
    clock.tick(10 * 60 * 1000 - 1);
    assert.equal((await timed.seal("{}")).split("*")[2], salt);
    clock.tick(1);
    assert.notEqual(
      (await timed.seal("{}")).split("*")[2],
      salt,
      "a new salt after 10 minutes",
    );
  } finally {
    clock.uninstall();
  }
});

Deno.test("forged seals never enter the key cache; genuine ones from other instances do, boundedly", async () => {
  const key = new IronKey("k", PASSWORD);
  await key.seal("{}");
  const before = key.cachedKeys;
  const genuine = await key.seal('{"a":1}');
  const [p, id, , iv, data, exp, , mac] = genuine.split("*");
  for (let i = 0; i < 300; i++) {
    const salt = crypto.randomUUID().replaceAll("-", "");
    assert.equal(
      await key.open([p, id, salt, iv, data, exp, salt, mac].join("*")),
      undefined,
    );
  }
  assert.equal(
    key.cachedKeys,
    before,
    "300 forged salts later, nothing new is cached",
  );
  // Seals from 1,000 other instances (each its own salt): the cache stays bounded.
  for (let i = 0; i < 1000; i++) {
    const other = await seal({ i }, { id: "k", secret: PASSWORD }, defaults);
    assert.equal(await key.open(other), JSON.stringify({ i }));
  }
  assert.ok(key.cachedKeys <= 2 * 2 * 256, `${key.cachedKeys}`);
});

Deno.test("iron's own expiry field is honoured, without clock-skew grace", async () => {
  const key = new IronKey("k", PASSWORD);
  const live = await seal(value, { id: "k", secret: PASSWORD }, {
    ...defaults,
    ttl: 60_000,
  });
  assert.ok(await key.open(live));
  const clock = FakeTimers.install({
    now: Date.now() + 60_001,
    toFake: ["Date"],
  });
  try {
    assert.equal(await key.open(live), undefined);
  } finally {
    clock.uninstall();
  }
});

Deno.test("open() accepts only the canonical base64url spelling of the IV, the data and the MAC", async () => {
  const abc =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const key = new IronKey("k", PASSWORD);
  // Data of 1, 2 and 3 AES blocks: 16, 32 and 48 bytes, so every length
  // class of base64url (2, 4 and no unused bits) shows up.
  for (
    const json of [
      '"x"',
      JSON.stringify("y".repeat(20)),
      '"' + "z".repeat(40) + '"',
    ]
  ) {
    const genuine = await key.seal(json);
    assert.equal(await key.open(genuine), json);
    const parts = genuine.split("*");
    let refused = 0;
    for (const field of [3, 4, 7]) {
      const text = parts[field];
      const unused = [0, 0, 4, 2][text.length % 4];
      const at = abc.indexOf(text.at(-1)!);
      for (let i = 0; i < 1 << unused; i++) {
        const c = abc[(at & ~((1 << unused) - 1)) | i];
        if (c === text.at(-1)) continue;
        const copy = [...parts];
        copy[field] = text.slice(0, -1) + c;
        assert.equal(await key.open(copy.join("*")), undefined, `${field}`);
        refused++;
      }
    }
    assert.ok(refused >= 3 + 15, `${refused}`);
  }
});
