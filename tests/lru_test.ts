// The caches on the request path stay bounded whatever is put in them.
import assert from "node:assert/strict";
import { Lru } from "../_lru.ts";

Deno.test("Lru keeps at most twice its limit and keeps what is used", () => {
  const lru = new Lru<string, number>(100);
  for (let i = 0; i < 100_000; i++) {
    lru.set(`k${i}`, i);
    assert.ok(lru.size <= 200);
    if (i % 10 === 0) {
      assert.equal(
        lru.get("hot") ?? lru.set("hot", -1),
        i === 0 ? undefined : -1,
      );
    }
  }
  assert.equal(lru.get("hot"), -1, "an entry read all along survives");
  assert.equal(lru.get("k0"), undefined, "an old entry is gone");
  assert.equal(lru.get("k99999"), 99999);
  lru.delete("k99999");
  assert.equal(lru.get("k99999"), undefined);
});
