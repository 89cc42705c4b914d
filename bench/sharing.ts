// What sharing sessions between workers and instances costs over HTTP:
// requests per second of one worker (one `Deno.serve` process, as each
// worker of `deno serve --parallel` or each instance is) keeping sessions
// where every worker sees them: sealed in the cookie, in a Deno KV file, in
// Redis, in a Redis Cluster (three masters), in PostgreSQL, in a SQLite
// file. Each beside bare Hono and beside its floor (bench/floors.ts: the
// least such a middleware must do). Two scenarios: "read" (a known session, read) and "write" (a known session,
// read and changed: a checked write). Every client connection has a
// session of its own, as users do (two connections writing one session
// would conflict). Alternating rounds of fixed duration; medians.
// `deno task bench:sharing`; BENCH_SHARING_ROUNDS, BENCH_SHARING_SECONDS
// and BENCH_SHARING_ONLY (a regular expression over setup names) size it.
import autocannon from "autocannon";
import { DatabaseSync } from "node:sqlite";
// @ts-types="@types/pg"
import pg from "pg";
import { createClient } from "redis";
import { type ServerProcess, startServer } from "../support/server_process.ts";
import { redisAvailable, RedisServer } from "../support/redis_server.ts";
import { RedisCluster } from "../support/redis_cluster.ts";
import {
  postgresAvailable,
  PostgresServer,
} from "../support/postgres_server.ts";
import { SqlStore } from "../stores/sql.ts";

const ROUNDS = Number(Deno.env.get("BENCH_SHARING_ROUNDS") ?? 3);
const SECONDS = Number(Deno.env.get("BENCH_SHARING_SECONDS") ?? 5);
const ONLY = new RegExp(Deno.env.get("BENCH_SHARING_ONLY") ?? ".");
const CONNECTIONS = 16;

/** A place sessions are shared through: its floor and ours, and their environment. */
interface Setup {
  name: string;
  floor: string;
  ours: string;
  env: Record<string, string>;
  /** Redis servers whose CPU time to read (INFO cpu) around each run. */
  redis?: string[];
}

const dir = await Deno.makeTempDir({ prefix: "hono-session-sharing-" });
const redis = redisAvailable
  ? await RedisServer.start({ durable: false })
  : undefined;
const postgres = postgresAvailable ? await PostgresServer.start() : undefined;
// A Redis Cluster of three masters on loopback, when asked for (it takes a
// few seconds to start).
const cluster = redis && ONLY.test("Redis Cluster")
  ? await RedisCluster.start()
  : undefined;

// The tables of SqlStore and of the SQL floor (made alike), in PostgreSQL
// and in the SQLite file.
if (postgres) {
  const pool = new pg.Pool({ connectionString: postgres.url });
  pool.on("error", () => {});
  for (const table of ["sessions", "floor_sessions"]) {
    for (const sql of SqlStore.schema("postgres", table)) await pool.query(sql);
  }
  await pool.end();
}
for (const file of ["sessions.db", "wal.db"]) {
  const sqlite = new DatabaseSync(`${dir}/${file}`);
  for (const table of ["sessions", "floor_sessions"]) {
    for (const sql of SqlStore.schema("sqlite", table)) sqlite.exec(sql);
  }
  sqlite.close();
}

const setups = ([
  {
    name: "cookie mode (a secret)",
    floor: "floor-iron",
    ours: "ours-cookie",
    env: {},
  },
  {
    name: "Deno KV, a local file",
    floor: "floor-kv",
    ours: "ours-kv",
    env: { KV_PATH: `${dir}/sessions.kv` },
  },
  ...(redis
    ? [{
      name: "Redis",
      floor: "floor-redis",
      ours: "ours-redis",
      env: { REDIS_URL: redis.url },
      redis: [redis.url],
    }]
    : []),
  ...(cluster
    ? [{
      name: "Redis Cluster",
      floor: "floor-redis-cluster",
      ours: "ours-redis-cluster",
      env: {
        REDIS_CLUSTER_URLS: cluster.nodes.map((node) => node.url).join(","),
      },
      redis: cluster.nodes.map((node) => node.url),
    }]
    : []),
  ...(postgres
    ? [{
      name: "PostgreSQL",
      floor: "floor-postgres",
      ours: "ours-postgres",
      env: { POSTGRES_URL: postgres.url },
    }]
    : []),
  {
    name: "SQLite, a local file",
    floor: "floor-sqlite",
    ours: "ours-sqlite",
    env: { SQLITE_PATH: `${dir}/sessions.db` },
  },
  {
    name: "SQLite, a local file in WAL mode",
    floor: "floor-sqlite",
    ours: "ours-sqlite",
    env: { SQLITE_PATH: `${dir}/wal.db`, SQLITE_WAL: "1" },
  },
] as Setup[]).filter((setup) => ONLY.test(setup.name));
if (!redis) console.warn("redis-server not installed: no Redis rows");
if (!postgres) console.warn("PostgreSQL not installed: no PostgreSQL rows");

/** One measurement: a server, a scenario's path. */
interface Cell {
  scenario: "read" | "write";
  setup: string;
  kind: string;
  env: Record<string, string>;
  redis?: string[];
}

const cells: Cell[] = [];
for (const scenario of ["read", "write"] as const) {
  cells.push({ scenario, setup: "bare Hono", kind: "bare", env: {} });
  for (const setup of setups) {
    for (const kind of [setup.floor, setup.ours]) {
      cells.push({
        scenario,
        setup: setup.name,
        kind,
        env: setup.env,
        redis: setup.redis,
      });
    }
  }
}

// The CPU time, in seconds, the Redis servers at `urls` have used so far
// (user + system, as INFO cpu reports it).
const infoClients = new Map<string, ReturnType<typeof createClient>>();
async function redisCpu(urls: string[]): Promise<number> {
  let total = 0;
  for (const url of urls) {
    let client = infoClients.get(url);
    if (!client) {
      client = createClient({ url }).on("error", () => {});
      await client.connect();
      infoClients.set(url, client);
    }
    const info = await client.info("cpu");
    for (const name of ["used_cpu_sys", "used_cpu_user"]) {
      total += Number(info.match(new RegExp(`^${name}:([\\d.]+)`, "m"))?.[1]);
    }
  }
  return total;
}

/** One run's requests per second, and the store's share of a core (Redis). */
interface Run {
  rate: number;
  storeCpu?: number;
}

async function measure(cell: Cell): Promise<Run> {
  const script = new URL("./http_server.ts", import.meta.url).pathname;
  const server: ServerProcess = await startServer(
    ["--allow-all", script, cell.kind],
    { env: cell.env },
  );
  try {
    // A session per connection.
    const cookies: string[] = [];
    for (let i = 0; i < CONNECTIONS; i++) {
      if (cell.kind === "bare") {
        cookies.push("");
        continue;
      }
      const first = await fetch(`${server.url}/new`);
      await first.body?.cancel();
      const cookie = first.headers.getSetCookie().map((c) => c.split(";")[0])
        .join("; ");
      const check = await (await fetch(`${server.url}/read`, {
        headers: { cookie },
      })).text();
      if (check !== "u1") throw new Error(`${cell.kind}: read back ${check}`);
      cookies.push(cookie);
    }
    const cpuBefore = cell.redis ? await redisCpu(cell.redis) : 0;
    const start = performance.now();
    const results = await Promise.all(cookies.map((cookie) =>
      autocannon({
        url: `${server.url}/${cell.scenario}`,
        connections: 1,
        duration: SECONDS,
        headers: cookie ? { cookie } : {},
      })
    ));
    let total = 0;
    for (const result of results) {
      if (result.errors || result.non2xx) {
        throw new Error(
          `${cell.kind} /${cell.scenario}: ${result.errors} errors, ${result.non2xx} non-2xx`,
        );
      }
      total += result.requests.average;
    }
    const storeCpu = cell.redis
      ? (await redisCpu(cell.redis) - cpuBefore) /
        ((performance.now() - start) / 1000)
      : undefined;
    return { rate: total, storeCpu };
  } finally {
    await server.stop();
  }
}

const results = new Map<Cell, number[]>();
const storeCpu = new Map<Cell, number[]>();
try {
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order each round, so no contender always runs first.
    for (const cell of round % 2 ? [...cells].reverse() : cells) {
      const run = await measure(cell);
      results.set(cell, [...(results.get(cell) ?? []), run.rate]);
      if (run.storeCpu !== undefined) {
        storeCpu.set(cell, [...(storeCpu.get(cell) ?? []), run.storeCpu]);
      }
    }
  }
} finally {
  for (const client of infoClients.values()) await client.close();
  await redis?.stop();
  await cluster?.stop();
  await postgres?.stop();
  await Deno.remove(dir, { recursive: true });
}

const median = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rate = (xs: number[]) =>
  `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}-${
    Math.max(...xs).toFixed(0)
  })`;
const cellOf = (scenario: string, setup: string, kind: string) =>
  cells.find((c) =>
    c.scenario === scenario && c.setup === setup && c.kind === kind
  )!;

console.log(
  `HTTP on loopback, one worker (a Deno.serve process), Deno ${Deno.version.deno}; the load from autocannon in the benchmark process, ${CONNECTIONS} connections with a session each, ${SECONDS} s x ${ROUNDS} rounds, alternating; median requests/s (min-max):`,
);
console.log(
  "| scenario | sessions shared through | floor | ours | ours of bare | ours of floor |",
);
console.log("|---|---|---:|---:|---:|---:|");
for (const scenario of ["read", "write"] as const) {
  const bare = results.get(cellOf(scenario, "bare Hono", "bare"))!;
  console.log(
    `| ${scenario} | bare Hono (nothing) | – | ${rate(bare)} | 100% | – |`,
  );
  for (const setup of setups) {
    const floor = results.get(cellOf(scenario, setup.name, setup.floor))!;
    const ours = results.get(cellOf(scenario, setup.name, setup.ours))!;
    console.log(
      `| ${scenario} | ${setup.name} | ${rate(floor)} | ${rate(ours)} | ${
        (median(ours) / median(bare) * 100).toFixed(1)
      }% | ${(median(ours) / median(floor)).toFixed(2)}x |`,
    );
  }
}

// What one worker at these rates asks of Redis: the CPU the Redis servers
// used (summed over a cluster's masters), and so how many such workers
// they keep up with, each server having one core to give and the sessions
// spread evenly over a cluster's masters.
const cpuRows = cells.filter((cell) =>
  storeCpu.has(cell) && setups.some((s) => s.ours === cell.kind)
);
if (cpuRows.length > 0) {
  console.log("");
  console.log(
    "Redis CPU while one worker (ours) ran, median cores used (min-max), and how many workers at that rate the servers keep up with (a core each):",
  );
  console.log(
    "| scenario | sessions shared through | Redis servers | Redis CPU | workers kept up with |",
  );
  console.log("|---|---|---:|---:|---:|");
  for (const cell of cpuRows) {
    const shares = storeCpu.get(cell)!;
    const servers = cell.redis!.length;
    console.log(
      `| ${cell.scenario} | ${cell.setup} | ${servers} | ${
        median(shares).toFixed(2)
      } (${Math.min(...shares).toFixed(2)}-${
        Math.max(...shares).toFixed(2)
      }) | ${(servers / median(shares)).toFixed(1)} |`,
    );
  }
}
