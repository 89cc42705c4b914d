// The plain-JavaScript SHA-256 behind store keys agrees with Web Crypto.
import assert from "node:assert/strict";
import fc from "fast-check";
import { sha256Ascii } from "../../_store_mode/sha256.ts";
import { storeKey } from "../../_store_mode/ids.ts";

function hex(words: Uint32Array): string {
  return [...words].map((w) => (w >>> 0).toString(16).padStart(8, "0")).join(
    "",
  );
}

async function webCrypto(text: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("sha256Ascii: the FIPS 180-4 one-block test vectors", () => {
  assert.equal(
    hex(sha256Ascii("")),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assert.equal(
    hex(sha256Ascii("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("sha256Ascii: equals Web Crypto's digest for every ASCII string up to one block", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.string({
        unit: fc.integer({ min: 0, max: 127 }).map((c) =>
          String.fromCharCode(c)
        ),
        maxLength: 55,
      }),
      async (text) =>
        assert.equal(hex(sha256Ascii(text)), await webCrypto(text)),
    ),
    { numRuns: 500, seed: 7 },
  );
  for (let n = 0; n <= 55; n++) {
    const text = "x".repeat(n);
    assert.equal(hex(sha256Ascii(text)), await webCrypto(text), `length ${n}`);
  }
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
