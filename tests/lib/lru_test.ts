// The caches on the request path stay bounded whatever is put in them.
import assert from "node:assert/strict";
import { Lru } from "../../_lib/lru.ts";

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

Deno.test("Lru with a byte budget holds about that many bytes, whatever the count limit", () => {
  const budget = 64 * 1024;
  const lru = new Lru<string, string>(
    10_000,
    budget,
    (k, v) => k.length + v.length,
  );
  for (let i = 0; i < 5_000; i++) lru.set(`k${i}`, "x".repeat(2_800));
  assert.ok(lru.size <= Math.ceil(budget / 2_800) + 2, `held ${lru.size}`);
  assert.equal(lru.get("k4999")?.length, 2_800, "the newest is kept");
  // One entry larger than half the budget still fits on its own.
  lru.set("big", "y".repeat(budget));
  assert.equal(lru.get("big")?.length, budget);
});
