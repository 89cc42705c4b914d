// The published conformance kit on Node, against DenoKvStore over @deno/kv's
// openKv(): bundled by tools/test_runtimes.ts onto the npm build (the kit
// and the store come from the built files).
import { openKv } from "@deno/kv";
import { DenoKvStore, type KvDatabase } from "../../stores/deno_kv.ts";
import { storeConformance } from "../../testing.ts";

storeConformance("DenoKvStore on @deno/kv (Node)", async () => {
  const kv = await openKv(":memory:");
  return {
    store: new DenoKvStore(kv as unknown as KvDatabase),
    close: () => kv.close(),
  };
}, { checksConflicts: true, checksExpiry: true });
