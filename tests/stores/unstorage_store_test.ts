// UnstorageStore: the conformance suite on unstorage's memory and file
// system drivers, TTLs handed to the driver, and its documented limit.
import assert from "node:assert/strict";
import { createStorage } from "unstorage";
import memoryDriver from "unstorage/drivers/memory";
import fsDriver from "unstorage/drivers/fs";
import { type UnstorageLike, UnstorageStore } from "../../stores/unstorage.ts";
import { storeConformance } from "../../testing.ts";
import { basicApp, Jar, storeKey } from "../_helpers.ts";

// unstorage has no compare-and-set: no conflict checks to claim.
const claims = {
  checksConflicts: false,
  checksExpiry: true,
  deviceBound: false,
};

storeConformance("UnstorageStore (memory driver)", () => ({
  store: new UnstorageStore(createStorage({ driver: memoryDriver() })),
}), claims);

storeConformance("UnstorageStore (fs driver)", async () => {
  const base = await Deno.makeTempDir({ prefix: "hono-session-unstorage-" });
  const storage = createStorage({ driver: fsDriver({ base }) });
  return {
    store: new UnstorageStore(storage),
    close: async () => {
      await storage.dispose();
      await Deno.remove(base, { recursive: true });
    },
  };
}, claims);

Deno.test("UnstorageStore hands the driver a ttl to the session's deadline, under its prefix", async () => {
  const calls: [string, unknown, unknown][] = [];
  const storage: UnstorageLike = {
    getItem: () => Promise.resolve(null),
    setItem: (
      key,
      value,
      options,
    ) => (calls.push([key, JSON.parse(value).data, options]),
      Promise.resolve()),
    removeItem: () => Promise.resolve(),
  };
  const jar = new Jar(
    basicApp({
      store: new UnstorageStore(storage, { prefix: "app:s:" }),
      maxAge: 600,
    }),
  );
  await jar.fetch("/login", { method: "POST" });
  assert.deepEqual(calls, [[`app:s:${storeKey(jar.get("sid")!)}`, {
    userId: "ada",
  }, { ttl: 600 }]]);
});

Deno.test("UnstorageStore refuses what is not a storage", () => {
  assert.throws(
    () => new UnstorageStore({} as never),
    /pass an unstorage storage/,
  );
});
