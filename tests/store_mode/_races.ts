// What the race tests share: each store that checks its writes (started
// fresh for each test, Redis and PostgreSQL only when installed; on the
// process's one Redis Cluster, a key prefix of its own), named gates that
// hold a request open, and a second tab holding the same cookie.
import { createClient } from "redis";
import type { SessionStore } from "../../mod.ts";
import { MemoryStore } from "../../stores/memory.ts";
import { DenoKvStore } from "../../stores/deno_kv.ts";
import { RedisStore } from "../../stores/redis.ts";
import { Jar, withWhyIgnored } from "../_helpers.ts";
import { redisAvailable, RedisServer } from "../../support/redis_server.ts";
import { SqlStore } from "../../stores/sql.ts";
import {
  postgresAvailable,
  PostgresServer,
} from "../../support/postgres_server.ts";
import { nodePostgres, sqlite } from "../stores/_sql_engines.ts";
import { RedisCluster } from "../../support/redis_cluster.ts";
import { clusterClients } from "../stores/_redis_clusters.ts";

export interface Subject {
  store: SessionStore;
  /**
   * The same sessions through a connection of its own, as another instance
   * of the app sees them (a process-local store: the store itself).
   */
  elsewhere: SessionStore;
  /** How many sessions the store holds. */
  count(): Promise<number>;
  close(): Promise<void>;
}

let clusterRuns = 0;

const kinds: [string, () => Promise<Subject>, boolean][] = [
  ["MemoryStore", () => {
    const store = new MemoryStore({ sweepInterval: 0 });
    return Promise.resolve({
      store,
      elsewhere: store,
      count: () => Promise.resolve(store.size),
      close: () => Promise.resolve(store.close()),
    });
  }, true],
  ["DenoKvStore", async () => {
    const kv = await Deno.openKv(":memory:");
    const store = new DenoKvStore(kv);
    return {
      store,
      elsewhere: store,
      count: async () =>
        (await Array.fromAsync(kv.list({ prefix: [] }))).length,
      close: () => Promise.resolve(kv.close()),
    };
  }, true],
  ["RedisStore", async () => {
    const server = await RedisServer.start({ durable: false });
    const [client, other] = await Promise.all([0, 1].map(async () => {
      const client = createClient({
        url: server.url,
        disableOfflineQueue: true,
      });
      client.on("error", () => {});
      return await client.connect();
    }));
    return {
      store: new RedisStore(client!),
      elsewhere: new RedisStore(other!),
      count: async () => Number(await client!.sendCommand(["DBSIZE"])),
      close: async () => {
        await client!.close();
        await other!.close();
        await server.stop();
      },
    };
  }, redisAvailable],
  ...clusterClients.map(([client, connect]) =>
    [`RedisStore on Redis Cluster (${client})`, async () => {
      const cluster = await RedisCluster.shared();
      const [one, two] = await Promise.all([
        connect(cluster),
        connect(cluster),
      ]);
      const prefix = `race${++clusterRuns}:`;
      return {
        store: new RedisStore(one.client, { prefix }),
        elsewhere: new RedisStore(two.client, { prefix }),
        count: async () => (await cluster.keys(`${prefix}*`)).flat().length,
        close: async () => {
          await one.close();
          await two.close();
        },
      };
    }, redisAvailable] as [string, () => Promise<Subject>, boolean]
  ),
  ["SqlStore (PostgreSQL)", async () => {
    const server = await PostgresServer.start();
    const conn = nodePostgres.connect(server.url);
    const other = nodePostgres.connect(server.url);
    const store = new SqlStore(conn.client, { sweepInterval: 0 });
    await store.createTable();
    return {
      store,
      elsewhere: new SqlStore(other.client, { sweepInterval: 0 }),
      count: async () =>
        Number(
          (await conn.raw(
            `SELECT count(*) AS n FROM sessions WHERE expires > $1`,
            [Date.now()],
          ))[0]!.n,
        ),
      close: async () => {
        await conn.close();
        await other.close();
        await server.stop();
      },
    };
  }, postgresAvailable],
  ["SqlStore (SQLite)", async () => {
    const conn = sqlite();
    const store = new SqlStore(conn.client, { sweepInterval: 0 });
    await store.createTable();
    return {
      store,
      elsewhere: store,
      count: async () =>
        Number(
          (await conn.raw(
            `SELECT count(*) AS n FROM sessions WHERE expires > ?1`,
            [Date.now()],
          ))[0]!.n,
        ),
      close: () => conn.close(),
    };
  }, true],
];

/** The stores the race tests run on, named with why when one is ignored. */
export const subjects: [string, () => Promise<Subject>, boolean][] = kinds.map((
  [name, make, available],
) => [withWhyIgnored(name, available), make, available]);

/** Named gates: a handler awaiting one holds its request open. */
export class Gates {
  readonly #open = new Map<string, () => void>();
  readonly #waits = new Map<string, Promise<void>>();
  readonly #arrived = new Map<string, () => void>();
  readonly #reached = new Map<string, Promise<void>>();

  #make(name: string): void {
    if (this.#waits.has(name)) return;
    this.#waits.set(name, new Promise((r) => this.#open.set(name, r)));
    this.#reached.set(name, new Promise((r) => this.#arrived.set(name, r)));
  }
  /** In a handler: says it got here, then waits for the gate to open. */
  async hold(name: string): Promise<void> {
    this.#make(name);
    this.#arrived.get(name)!();
    await this.#waits.get(name);
  }
  /** Resolves once a handler waits at the gate. */
  reached(name: string): Promise<void> {
    this.#make(name);
    return this.#reached.get(name)!;
  }
  open(name: string): void {
    this.#make(name);
    this.#open.get(name)!();
  }
}

/** A second browser tab holding the same cookie as `jar`. */
export function tab(jar: Jar): Jar {
  const other = new Jar(jar.app);
  for (const [k, v] of jar.cookies) other.cookies.set(k, v);
  return other;
}
