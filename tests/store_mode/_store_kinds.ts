// The kinds of store the interleaving searches run on, each opened once
// and giving a fresh, empty store for every ordering: MemoryStore,
// DenoKvStore (":memory:"), RedisStore (a real redis-server, and the
// process's Redis Cluster with each cluster client; ignored when
// redis-server is not installed), SqlStore on PostgreSQL (ignored when it
// is not installed) and on SQLite (node:sqlite), and a plain Map.
import { createClient } from "redis";
import type { SessionRecord, SessionStore } from "../../mod.ts";
import { MemoryStore } from "../../stores/memory.ts";
import { DenoKvStore } from "../../stores/deno_kv.ts";
import { RedisStore } from "../../stores/redis.ts";
import { RedisCluster } from "../../support/redis_cluster.ts";
import { clusterClients } from "../stores/_redis_clusters.ts";
import { redisAvailable, RedisServer } from "../../support/redis_server.ts";
import { withWhyIgnored } from "../_helpers.ts";
import { SqlStore } from "../../stores/sql.ts";
import {
  postgresAvailable,
  PostgresServer,
} from "../../support/postgres_server.ts";
import { nodePostgres, sqlite } from "../stores/_sql_engines.ts";

/** A kind of store: opens a fresh, empty store for each ordering. */
export interface StoreKind {
  name: string;
  /**
   * Whether its writes are checked against what the request read (and it
   * has `replace`): a Map's are not, so the last write wins.
   */
  checksWrites: boolean;
  /** Set when the server it needs is not installed. */
  ignore?: boolean;
  open(): Promise<{ fresh(): SessionStore; close(): Promise<void> }>;
}

/** The name of a kind, with why it is ignored when it is. */
export function kindName(kind: StoreKind): string {
  return withWhyIgnored(kind.name, !kind.ignore);
}

export const STORE_KINDS: readonly StoreKind[] = [
  {
    name: "MemoryStore",
    checksWrites: true,
    open: () =>
      Promise.resolve({
        fresh: () => new MemoryStore({ sweepInterval: 0 }),
        close: () => Promise.resolve(),
      }),
  },
  {
    name: "DenoKvStore",
    checksWrites: true,
    async open() {
      const kv = await Deno.openKv(":memory:");
      let run = 0;
      return {
        // A fresh prefix per ordering: an empty store each time.
        fresh: () => new DenoKvStore(kv, { prefix: ["interleaving", run++] }),
        close: () => Promise.resolve(kv.close()),
      };
    },
  },
  {
    name: "RedisStore",
    checksWrites: true,
    ignore: !redisAvailable,
    async open() {
      const server = await RedisServer.start({ durable: false });
      const client = createClient({
        url: server.url,
        disableOfflineQueue: true,
      });
      client.on("error", () => {});
      try {
        await client.connect();
      } catch (error) {
        await server.stop();
        throw error;
      }
      let run = 0;
      return {
        fresh: () => new RedisStore(client, { prefix: `il${run++}:` }),
        async close() {
          try {
            await client.sendCommand(["FLUSHALL"]);
            await client.close();
          } finally {
            await server.stop();
          }
        },
      };
    },
  },
  // On a cluster a regenerate() and a tied write take several steps, each on
  // one slot: the orderings of the store calls run over them as they are.
  ...clusterClients.map(([client, connect]): StoreKind => ({
    name: `RedisStore on Redis Cluster (${client})`,
    checksWrites: true,
    ignore: !redisAvailable,
    async open() {
      const { client, close } = await connect(await RedisCluster.shared());
      let run = 0;
      const tag = crypto.randomUUID().slice(0, 6);
      return {
        fresh: () => new RedisStore(client, { prefix: `il${run++}-${tag}:` }),
        close,
      };
    },
  })),
  {
    name: "SqlStore (PostgreSQL)",
    checksWrites: true,
    ignore: !postgresAvailable,
    async open() {
      const server = await PostgresServer.start();
      const conn = nodePostgres.connect(server.url);
      try {
        await new SqlStore(conn.client).createTable();
      } catch (error) {
        await conn.close();
        await server.stop();
        throw error;
      }
      return {
        // Every ordering uses new random ids: one table serves them all.
        fresh: () => new SqlStore(conn.client, { sweepInterval: 0 }),
        async close() {
          try {
            await conn.close();
          } finally {
            await server.stop();
          }
        },
      };
    },
  },
  {
    name: "SqlStore (SQLite)",
    checksWrites: true,
    async open() {
      const conn = sqlite();
      await new SqlStore(conn.client).createTable();
      return {
        fresh: () => new SqlStore(conn.client, { sweepInterval: 0 }),
        close: () => conn.close(),
      };
    },
  },
  {
    name: "Map",
    checksWrites: false,
    open: () =>
      Promise.resolve({
        fresh: () => new Map<string, SessionRecord>(),
        close: () => Promise.resolve(),
      }),
  },
];
