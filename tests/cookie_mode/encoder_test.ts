// Custom encoders: the middleware asks decode() on every request, so an
// encoder that revokes a value is obeyed at once.
import assert from "node:assert/strict";
import type { Encoder, SessionRecord } from "../../mod.ts";
import { basicApp, Jar, SECRET } from "../_helpers.ts";

Deno.test("a custom encoder's decode runs on every request: a revoked value stops working at once", async () => {
  const revoked = new Set<string>();
  let decodes = 0;
  const encoder: Encoder = {
    encode: (record) => `v1.${btoa(JSON.stringify(record))}`,
    decode: (value) => {
      decodes++;
      if (revoked.has(value) || !value.startsWith("v1.")) return null;
      return JSON.parse(atob(value.slice(3))) as SessionRecord;
    },
  };
  const jar = new Jar(basicApp({ secret: SECRET, encoder }));
  await jar.fetch("/login?user=ada", { method: "POST" });
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(await jar.text("/read"), [200, "ada"]);
  }
  assert.equal(decodes, 3, "decode ran for each request");
  revoked.add(jar.get("sid")!);
  assert.deepEqual(await jar.text("/read"), [200, "-"], "revoked");
  assert.equal(decodes, 4);
});

Deno.test("an encoder whose encode() returns an empty string (or no string) fails the save: no empty cookie is sent, and the cookie the browser holds keeps working", async () => {
  let answer: unknown = undefined;
  const encoder: Encoder = {
    encode: (record) =>
      answer === undefined
        ? `v1.${btoa(JSON.stringify(record))}`
        : answer as string,
    decode: (value) =>
      value.startsWith("v1.")
        ? JSON.parse(atob(value.slice(3))) as SessionRecord
        : null,
  };
  const jar = new Jar(basicApp({ secret: SECRET, encoder }));
  await jar.fetch("/login?user=ada", { method: "POST" });
  const held = jar.get("sid");
  for (const bad of ["", Promise.resolve(""), 42, null, Promise.resolve({})]) {
    answer = bad;
    const [status, body] = await jar.text("/login?user=bob", {
      method: "POST",
    });
    assert.equal(status, 500, String(bad));
    assert.match(
      body,
      /TypeError: .*encode\(\) must return a non-empty string/,
    );
    assert.equal(jar.last.length, 0, "no Set-Cookie at all");
    assert.equal(jar.get("sid"), held);
    answer = undefined;
    assert.deepEqual(await jar.text("/read"), [200, "ada"]);
  }
});
