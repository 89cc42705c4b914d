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
