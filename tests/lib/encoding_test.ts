// The one encoding module: base64url both ways (native and portable
// paths), canonical spellings only, and hex.
import assert from "node:assert/strict";
import { fromBase64url, hex, toBase64url } from "../../_lib/encoding.ts";

function reference(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-")
    .replaceAll("/", "_").replace(/=+$/, "");
}

Deno.test("encoding: base64url round-trips every length and matches btoa", () => {
  for (let n = 0; n < 70; n++) {
    const bytes = crypto.getRandomValues(new Uint8Array(n));
    const text = toBase64url(bytes);
    assert.equal(text, reference(bytes), `length ${n}`);
    assert.deepEqual(fromBase64url(text), bytes);
  }
});

Deno.test("encoding: the portable path gives the same text and bytes", async () => {
  const proto = Uint8Array.prototype as unknown as Record<string, unknown>;
  const ctor = Uint8Array as unknown as Record<string, unknown>;
  const saved = [proto.toBase64, ctor.fromBase64];
  delete proto.toBase64;
  delete ctor.fromBase64;
  try {
    const portable = await import(`../../_lib/encoding.ts?portable`);
    for (let n = 0; n < 40; n++) {
      const bytes = crypto.getRandomValues(new Uint8Array(n));
      assert.equal(portable.toBase64url(bytes), reference(bytes));
      assert.deepEqual(portable.fromBase64url(reference(bytes)), bytes);
    }
    assert.throws(() => portable.fromBase64url("AB"), TypeError);
  } finally {
    [proto.toBase64, ctor.fromBase64] = saved;
  }
});

Deno.test("encoding: only the canonical spelling decodes", () => {
  // One byte is 2 characters, the second carrying 4 unused bits; two bytes
  // are 3 characters, the last carrying 2.
  assert.deepEqual(fromBase64url("AA"), new Uint8Array([0]));
  for (const text of ["AB", "AP", "AAB", "AAD", "A", "A=", "A+", "A/"]) {
    assert.throws(() => fromBase64url(text), TypeError, text);
  }
});

Deno.test("encoding: hex", () => {
  assert.equal(hex(new Uint8Array([0, 1, 171, 255])), "0001abff");
});
