// Which of our stores a hono-session 1.x app could have shared. 1.x hands
// its store the flat values under the raw id, with no `expires`:
// DenoKvStore, RedisStore and SqlStore refuse such a write (1.2.0 answers
// 500 at sign-in), and UnstorageStore stores it but never gives it back
// (its reads check `expires`). No 1.x session ever lived in them, so there
// is nothing to migrate; migrateFrom beside them finds nothing and costs a
// failed lookup per 1.x cookie. (Map, MemoryStore and stores of the app's
// own hold 1.x sessions: see store_mode_test.ts.)
import assert from "node:assert/strict";
import { createStorage } from "unstorage";
import { createClient } from "redis";
import type { SessionStore } from "../../mod.ts";
import { DenoKvStore } from "../../stores/deno_kv.ts";
import { UnstorageStore } from "../../stores/unstorage.ts";
import { SqlStore } from "../../stores/sql.ts";
import { RedisStore } from "../../stores/redis.ts";
import {
  redisAvailable,
  redisMissing,
  redisRequired,
  RedisServer,
} from "../../support/redis_server.ts";
import { withWhyIgnored } from "../_helpers.ts";
import { sqlite } from "../stores/_sql_engines.ts";
import { Browser, ourApp, v1App } from "./_v1.ts";

interface Subject {
  name: string;
  available: boolean;
  /** What 1.2.0's sign-in answers with this store. */
  signIn: RegExp;
  make(): Promise<{ store: SessionStore; close(): Promise<void> }>;
}

const subjects: Subject[] = [
  {
    name: "DenoKvStore",
    available: true,
    signIn: /^500 TypeError: expireIn must be a non-negative integer/,
    async make() {
      const kv = await Deno.openKv(":memory:");
      return {
        store: new DenoKvStore(kv),
        close: () => Promise.resolve(kv.close()),
      };
    },
  },
  {
    name: "UnstorageStore",
    available: true,
    signIn: /^200 ok$/,
    make: () =>
      Promise.resolve({
        store: new UnstorageStore(createStorage()),
        close: () => Promise.resolve(),
      }),
  },
  {
    name: "SqlStore (SQLite)",
    available: true,
    signIn: /^500 TypeError: SqlStore: record.expires must be a finite number/,
    async make() {
      const conn = sqlite();
      const store = new SqlStore(conn.client, { sweepInterval: 0 });
      await store.createTable();
      return { store, close: () => Promise.resolve(conn.close()) };
    },
  },
  {
    name: "RedisStore",
    available: redisAvailable,
    signIn: /^500 .*(not an integer|out of range)/i,
    async make() {
      const server = await RedisServer.start({ durable: false });
      const client = createClient({
        url: server.url,
        disableOfflineQueue: true,
      });
      client.on("error", () => {});
      await client.connect();
      return {
        store: new RedisStore(client),
        close: async () => {
          await client.close();
          await server.stop();
        },
      };
    },
  },
];

for (const subject of subjects) {
  if (!subject.available && redisRequired) {
    Deno.test(`v1 unshared [${subject.name}]: redis-server is required under CI=true`, () => {
      throw new Error(`CI=true and ${redisMissing}`);
    });
    continue;
  }
  Deno.test({
    name: `v1 unshared [${
      withWhyIgnored(subject.name, subject.available)
    }]: 1.2.0 cannot keep a session in it, so there is nothing to migrate`,
    ignore: !subject.available,
    async fn() {
      const { store, close } = await subject.make();
      try {
        const browser = new Browser(v1App({ store }));
        assert.match(
          await browser.step("POST /login?user=ada"),
          subject.signIn,
        );
        assert.equal(await browser.step("GET /me"), "401 Unauthorised");
        // Beside it, migrateFrom finds nothing under a 1.x id: no session.
        const uuid = browser.cookies.get("sid") ?? crypto.randomUUID();
        const res = await ourApp({ store, migrateFrom: "hono-session@1" })
          .request("/me", { headers: { cookie: `sid=${uuid}` } });
        assert.equal(res.status, 401);
      } finally {
        await close();
      }
    },
  });
}
