// The published conformance kit (@x/hono-session/testing) against every
// store we ship or document. The stores of this package claim checked
// writes, their own expiry check and device-bound sessions; a plain Map and
// an async custom store (neither checks anything) pass the basic cases.
import { MemoryStore } from "../../stores/memory.ts";
import { DenoKvStore } from "../../stores/deno_kv.ts";
import type { SessionRecord } from "../../mod.ts";
import { AsyncStore } from "../_helpers.ts";
import {
  storeConformance,
  type StoreConformanceOptions,
} from "../../testing.ts";

const checked: StoreConformanceOptions = {
  checksConflicts: true,
  checksExpiry: true,
  deviceBound: true,
};
const basic: StoreConformanceOptions = {
  checksConflicts: false,
  deviceBound: false,
};

storeConformance(
  "Map",
  () => ({ store: new Map<string, SessionRecord>() }),
  basic,
);

storeConformance("MemoryStore", () => {
  const store = new MemoryStore();
  return { store, close: () => store.close() };
}, checked);

storeConformance("MemoryStore with maxEntries", () => {
  const store = new MemoryStore({ maxEntries: 1000, sweepInterval: 1 });
  return { store, close: () => store.close() };
}, checked);

storeConformance("DenoKvStore on :memory:", async () => {
  const kv = await Deno.openKv(":memory:");
  return { store: new DenoKvStore(kv), close: () => kv.close() };
}, checked);

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
}, checked);

storeConformance(
  "async custom store",
  () => ({ store: new AsyncStore() }),
  basic,
);
