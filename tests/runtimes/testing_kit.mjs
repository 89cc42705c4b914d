// The published conformance kit (@x/hono-session/testing), from the npm
// build, on Node and on Bun: `node --test testing_kit.mjs` and
// `bun test ./testing_kit.mjs`, run by tools/test_runtimes.ts in its
// throwaway project. MemoryStore must pass every case, checked writes and
// its own expiry check included; a plain Map the basic cases.
import { storeConformance } from "@x/hono-session/testing";
import { MemoryStore } from "@x/hono-session/stores/memory";

const runtime = globalThis.Bun
  ? `bun ${globalThis.Bun.version}`
  : `node ${process.version}`;

storeConformance(`MemoryStore (${runtime})`, () => {
  const store = new MemoryStore();
  return { store, close: () => store.close() };
}, { checksConflicts: true, checksExpiry: true });

storeConformance(`Map (${runtime})`, () => ({ store: new Map() }), {
  checksConflicts: false,
});
