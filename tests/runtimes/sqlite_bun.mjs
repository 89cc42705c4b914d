// SqlStore on bun:sqlite, from the npm build, under `bun test`: the
// published conformance kit, every case (checked writes, replace, expiry),
// on an in-memory database and on a file. Run by tools/test_runtimes.ts in
// its throwaway project.
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { storeConformance } from "@x/hono-session/testing";
import { SqlStore } from "@x/hono-session/stores/sql";

const options = { checksConflicts: true, checksExpiry: true };

storeConformance(`SqlStore (bun:sqlite, bun ${Bun.version})`, async () => {
  const db = new Database(":memory:");
  const store = new SqlStore(db, { sweepInterval: 0 });
  await store.createTable();
  return { store, close: () => db.close() };
}, options);

storeConformance(`SqlStore (bun:sqlite file, bun ${Bun.version})`, async () => {
  const dir = mkdtempSync(`${tmpdir()}/hono-session-bun-`);
  const db = new Database(`${dir}/sessions.db`);
  const store = new SqlStore(db, { table: "app_sessions" });
  await store.createTable();
  return {
    store,
    close: () => {
      store.close();
      db.close();
      rmSync(dir, { recursive: true });
    },
  };
}, options);
