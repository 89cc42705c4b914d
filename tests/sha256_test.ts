// The plain-JavaScript SHA-256 behind store keys agrees with Web Crypto.
import assert from "node:assert/strict";
import fc from "fast-check";
import { sha256, sha256Ascii } from "../_sha256.ts";
import { storeKey } from "../_random.ts";

const hex = (b: Uint8Array) =>
  [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("sha256: the FIPS 180-4 test vectors", () => {
  const vector = (s: string) => hex(sha256(new TextEncoder().encode(s)));
  assert.equal(
    vector(""),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assert.equal(
    vector("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(
    vector("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
  assert.equal(
    vector("a".repeat(1_000_000)),
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
  );
});

Deno.test("sha256: equals Web Crypto's digest on random input of every length around the block edges", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ minLength: 0, maxLength: 300 }),
      async (bytes) => {
        const expected = new Uint8Array(
          await crypto.subtle.digest("SHA-256", bytes),
        );
        assert.equal(hex(sha256(bytes)), hex(expected));
      },
    ),
    { numRuns: 500, seed: 42 },
  );
});

Deno.test("sha256Ascii: the one-block path equals the general one for every short ASCII string", () => {
  fc.assert(
    fc.property(
      fc.string({
        unit: fc.integer({ min: 0, max: 127 }).map((c) =>
          String.fromCharCode(c)
        ),
        maxLength: 55,
      }),
      (text) => {
        const words = sha256Ascii(text);
        const bytes = new Uint8Array(32);
        new DataView(bytes.buffer).setUint32(0, words[0]);
        for (let i = 0; i < 8; i++) {
          new DataView(bytes.buffer).setUint32(
            i * 4,
            words[i],
          );
        }
        assert.equal(hex(bytes), hex(sha256(new TextEncoder().encode(text))));
      },
    ),
    { numRuns: 500, seed: 7 },
  );
  assert.throws(() => sha256Ascii("x".repeat(56)), RangeError);
});

Deno.test("storeKey is the base64url SHA-256 of the id", async () => {
  const token = "abcDEF123_-".padEnd(43, "z");
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)),
  );
  const b64 = btoa(String.fromCharCode(...digest)).replaceAll("+", "-")
    .replaceAll("/", "_").replace(/=+$/, "");
  assert.equal(storeKey(token), b64);
});
