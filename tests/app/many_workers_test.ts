// What each setup shares between the workers of `deno serve --parallel`
// (each worker loads the app afresh) and between two `deno serve`
// processes: cookie mode with and without a secret, and each store. Clients
// sign in, then read their session again and again, every request on a
// connection of its own so that it lands on any worker or process. A
// setup that shares keeps every session wherever the read lands; one that
// does not (a random secret, a Map, a MemoryStore: one per worker) keeps it
// only where the client signed in, and the reads that land elsewhere find
// no session. The README's "Running on many cores and instances" reports
// these runs.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
// @ts-types="@types/pg"
import pg from "pg";
import { SqlStore } from "../../stores/sql.ts";
import { SECRET } from "../_helpers.ts";
import {
  fetchOnce,
  sendUntil,
  type ServeProcess,
  startServe,
} from "../../support/server_process.ts";
import {
  redisAvailable,
  redisMissing,
  redisRequired,
  RedisServer,
} from "../../support/redis_server.ts";
import { RedisCluster } from "../../support/redis_cluster.ts";
import {
  postgresAvailable,
  postgresMissing,
  postgresRequired,
  PostgresServer,
} from "../../support/postgres_server.ts";

const SCRIPT = new URL("../fixtures/serve_app.ts", import.meta.url).pathname;
const CLIENTS = 12;
const READS = 8;

interface Setup {
  name: string;
  /** Whether every worker and process sees the same sessions. */
  shared: boolean;
  /** What it needs, if anything: a missing service skips (CI: fails). */
  needs?: "redis" | "postgres";
  /** Prepares the setup's data in `dir`; its variables for serve_app.ts. */
  prepare(dir: string): Promise<Record<string, string>>;
}

let redis: RedisServer | undefined;
let postgres: PostgresServer | undefined;

const setups: Setup[] = [
  {
    name: "cookie mode, no secret",
    shared: false,
    prepare: () => Promise.resolve({ SESSION_SETUP: "cookie" }),
  },
  {
    name: "cookie mode, a secret",
    shared: true,
    prepare: () =>
      Promise.resolve({
        SESSION_SETUP: "cookie-secret",
        SESSION_SECRET: SECRET,
      }),
  },
  {
    name: "Map",
    shared: false,
    prepare: () => Promise.resolve({ SESSION_SETUP: "map" }),
  },
  {
    name: "MemoryStore",
    shared: false,
    prepare: () => Promise.resolve({ SESSION_SETUP: "memory" }),
  },
  {
    name: "DenoKvStore, a local file",
    shared: true,
    async prepare(dir) {
      (await Deno.openKv(`${dir}/sessions.kv`)).close();
      return { SESSION_SETUP: "kv", KV_PATH: `${dir}/sessions.kv` };
    },
  },
  {
    name: "SqlStore, a SQLite file",
    shared: true,
    async prepare(dir) {
      const db = new DatabaseSync(`${dir}/sessions.db`);
      await new SqlStore(db).createTable();
      db.close();
      return { SESSION_SETUP: "sqlite", SQLITE_PATH: `${dir}/sessions.db` };
    },
  },
  {
    name: "RedisStore",
    shared: true,
    needs: "redis",
    async prepare() {
      redis ??= await RedisServer.start({ durable: false });
      return { SESSION_SETUP: "redis", REDIS_URL: redis.url };
    },
  },
  {
    name: "RedisStore on a Redis Cluster",
    shared: true,
    needs: "redis",
    async prepare() {
      const cluster = await RedisCluster.shared();
      return {
        SESSION_SETUP: "redis-cluster",
        REDIS_CLUSTER_URLS: cluster.nodes.map((node) => node.url).join(","),
      };
    },
  },
  {
    name: "SqlStore, PostgreSQL",
    shared: true,
    needs: "postgres",
    async prepare() {
      if (!postgres) {
        postgres = await PostgresServer.start();
        const pool = new pg.Pool({ connectionString: postgres.url });
        pool.on("error", () => {});
        await new SqlStore(pool).createTable();
        await pool.end();
      }
      return { SESSION_SETUP: "postgres", POSTGRES_URL: postgres.url };
    },
  },
];

interface Tally {
  /** Reads answered by the worker the client signed in on, and kept. */
  same: number;
  sameKept: number;
  /** Reads answered by another worker or process, and kept. */
  other: number;
  otherKept: number;
}

// Signs CLIENTS in, then reads each session READS times, each request on
// any of `servers`' workers, and more until a worker other than the one
// that signed it in has read it (nothing keeps the kernel from giving one
// worker a dozen connections in a row).
async function measure(servers: ServeProcess[]): Promise<Tally> {
  const tally: Tally = { same: 0, sameKept: 0, other: 0, otherKept: 0 };
  const pick = () => servers[Math.floor(Math.random() * servers.length)]!;
  await Promise.all(Array.from({ length: CLIENTS }, async (_, i) => {
    const user = `user${i}`;
    const login = await fetchOnce(`${pick().url}/login?user=${user}`, {
      method: "POST",
    });
    assert.equal(login.status, 200, login.body);
    const home = login.headers.get("x-worker");
    const cookie = login.headers.getSetCookie().map((c) => c.split(";")[0])
      .join("; ");
    const answered = new Set([home]);
    const read = async () => {
      const res = await fetchOnce(`${pick().url}/`, { headers: { cookie } });
      assert.equal(res.status, 200, res.body);
      const kept = res.body === user;
      assert.ok(kept || res.body === "-", res.body);
      const worker = res.headers.get("x-worker");
      answered.add(worker);
      if (worker === home) {
        tally.same++;
        if (kept) tally.sameKept++;
      } else {
        tally.other++;
        if (kept) tally.otherKept++;
      }
    };
    for (let k = 0; k < READS; k++) await read();
    await sendUntil(
      `${user}: a worker other than the one that signed in read the session`,
      () => answered.size > 1,
      read,
    );
  }));
  return tally;
}

function check(setup: Setup, where: string, tally: Tally): void {
  console.log(
    `${setup.name}, ${where}: sessions kept on ${tally.sameKept} of ${tally.same} reads by the worker that signed in, ${tally.otherKept} of ${tally.other} by another`,
  );
  assert.equal(tally.sameKept, tally.same, "kept where it was made");
  assert.equal(
    tally.otherKept,
    setup.shared ? tally.other : 0,
    setup.shared ? "shared by every worker" : "lost on every other worker",
  );
}

for (const setup of setups) {
  // The install hint as the other files that skip these services word it
  // (the long explanation is printed once, by those files).
  const missing = setup.needs === "redis"
    ? (redisAvailable ? undefined : {
      required: redisRequired,
      why: redisMissing,
      hint: "redis-server not installed; apt-get install -y redis-server",
    })
    : setup.needs === "postgres"
    ? (postgresAvailable ? undefined : {
      required: postgresRequired,
      why: postgresMissing,
      hint: "PostgreSQL not installed; apt-get install -y postgresql",
    })
    : undefined;
  const name = `many workers and processes: ${setup.name} is ${
    setup.shared ? "shared by all" : "one per worker"
  }`;
  if (missing?.required) {
    Deno.test(name, () => {
      throw new Error(`CI=true and ${missing.why}`);
    });
    continue;
  }
  Deno.test({
    name: missing ? `${name} (skipped: ${missing.hint})` : name,
    ignore: missing !== undefined,
    async fn() {
      const dir = await Deno.makeTempDir({ prefix: "hono-session-workers-" });
      try {
        const env = await setup.prepare(dir);
        const parallel = await startServe(SCRIPT, { workers: 2, env });
        try {
          check(setup, "deno serve --parallel", await measure([parallel]));
        } finally {
          await parallel.stop();
        }
        const two = [
          await startServe(SCRIPT, { env }),
          await startServe(SCRIPT, { env }),
        ];
        try {
          check(setup, "two processes", await measure(two));
        } finally {
          await Promise.all(two.map((server) => server.stop()));
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

Deno.test({
  name: "many workers and processes: stop the services",
  sanitizeResources: false,
  async fn() {
    await redis?.stop();
    await postgres?.stop();
  },
});
