// The conformance suite against every store we ship or document.
import { MemoryStore } from "../../stores/memory.ts";
import { DenoKvStore } from "../../stores/deno_kv.ts";
import type { SessionRecord } from "../../mod.ts";
import { AsyncStore } from "../_helpers.ts";
import { storeConformance } from "./_conformance.ts";

storeConformance("Map", () => ({ store: new Map<string, SessionRecord>() }));

storeConformance("MemoryStore", () => {
  const store = new MemoryStore();
  return { store, close: () => store.close() };
});

storeConformance("MemoryStore with maxEntries", () => {
  const store = new MemoryStore({ maxEntries: 1000, sweepInterval: 1 });
  return { store, close: () => store.close() };
});

storeConformance("DenoKvStore on :memory:", async () => {
  const kv = await Deno.openKv(":memory:");
  return { store: new DenoKvStore(kv), close: () => kv.close() };
});

storeConformance("DenoKvStore on a file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hono-session-kv-" });
  const kv = await Deno.openKv(`${dir}/sessions.kv`);
  return {
    store: new DenoKvStore(kv, { prefix: ["app", 1, "sessions"] }),
    close: async () => {
      kv.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
});

storeConformance("async custom store", () => ({ store: new AsyncStore() }));
