// One server for the HTTP benchmarks, by name (the first argument): `bare`
// (no middleware); ours in cookie mode or with a store: `ours-cookie`,
// `ours-map`, `ours-kv`, `ours-redis`, `ours-postgres`, `ours-sqlite`; or
// the hand-written floor of the same kind: `floor-iron`, `floor-map`,
// `floor-kv`, `floor-redis`, `floor-postgres`, `floor-sqlite`. The same
// handlers for each (also `ours-redis-cluster`, `floor-redis-cluster`).
// Where the sessions live comes from the environment: KV_PATH (a Deno KV
// file), REDIS_URL, REDIS_CLUSTER_URLS (the masters, comma-separated),
// POSTGRES_URL, SQLITE_PATH (a file, with the tables `sessions` and
// `floor_sessions` made; SQLITE_WAL=1 for write-ahead logging). Prints its port,
// then serves until killed.
import { Hono, type MiddlewareHandler } from "hono";
import { session, type SessionOptions } from "../mod.ts";
import {
  floorSession,
  ironFloor,
  kvFloor,
  mapFloor,
  redisFloor,
  sqlFloor,
  type SqlQuery,
} from "./floors.ts";
import { serveAndPrintPort } from "../support/server_process.ts";

type Ctx = any;

const kind = Deno.args[0] ?? "bare";
const [side, setup] = kind === "bare" ? [] : kind.split(/-(.*)/s);

const env = (name: string): string => {
  const value = Deno.env.get(name);
  if (value === undefined) throw new Error(`${kind}: set ${name}`);
  return value;
};

// Where the sessions of `setup` live: ours as session() options, the
// floor as its middleware.
async function sessions(
  setup: string,
): Promise<{ ours(): SessionOptions; floor(): Promise<MiddlewareHandler> }> {
  switch (setup) {
    case "cookie":
    case "iron":
      return {
        ours: () => ({ secret: "bench-secret-bench-secret-bench-secret-42" }),
        floor: async () => (await ironFloor())(),
      };
    case "map":
      return {
        ours: () => ({ store: new Map() }),
        floor: () => Promise.resolve(mapFloor()),
      };
    case "kv": {
      const { DenoKvStore } = await import("../stores/deno_kv.ts");
      const kv = await Deno.openKv(env("KV_PATH"));
      return {
        ours: () => ({ store: new DenoKvStore(kv) }),
        floor: () => Promise.resolve(kvFloor(kv as never)),
      };
    }
    case "redis": {
      const { createClient } = await import("redis");
      const { RedisStore } = await import("../stores/redis.ts");
      const client = await createClient({
        url: env("REDIS_URL"),
        disableOfflineQueue: true,
      }).on("error", (err: Error) => console.error(`redis: ${err.message}`))
        .connect();
      return {
        ours: () => ({ store: new RedisStore(client as never) }),
        floor: () => Promise.resolve(redisFloor(client as never)),
      };
    }
    case "redis-cluster": {
      // A node-redis cluster client over the masters REDIS_CLUSTER_URLS
      // names (comma-separated); the floor sends each command to the slot
      // of its key.
      const { createCluster } = await import("redis");
      const { RedisStore } = await import("../stores/redis.ts");
      const cluster = await createCluster({
        rootNodes: env("REDIS_CLUSTER_URLS").split(",").map((url) => ({ url })),
      }).on("error", (err: Error) => console.error(`redis: ${err.message}`))
        .connect();
      const bySlot = {
        sendCommand: (args: string[]) =>
          cluster.sendCommand(
            args[0] === "EVAL" ? args[3] : args[1],
            args[0] === "GET",
            args,
          ),
      };
      return {
        ours: () => ({ store: new RedisStore(cluster as never) }),
        floor: () => Promise.resolve(redisFloor(bySlot)),
      };
    }
    case "postgres": {
      const { default: pg } = await import("pg");
      const { SqlStore } = await import("../stores/sql.ts");
      // node-postgres' default pool: up to 10 connections.
      const pool = new pg.Pool({ connectionString: env("POSTGRES_URL") });
      pool.on(
        "error",
        (err: Error) => console.error(`postgres: ${err.message}`),
      );
      const query: SqlQuery = async (sql, params) =>
        (await pool.query(sql, params)).rows;
      return {
        ours: () => ({ store: new SqlStore(pool, { sweepInterval: 0 }) }),
        floor: () => Promise.resolve(sqlFloor(query, "postgres")),
      };
    }
    case "sqlite": {
      const { DatabaseSync } = await import("node:sqlite");
      const { SqlStore } = await import("../stores/sql.ts");
      const db = new DatabaseSync(env("SQLITE_PATH"), { timeout: 5_000 });
      // SQLITE_WAL=1: write-ahead logging (kept in the file once set).
      if (Deno.env.get("SQLITE_WAL") === "1") {
        db.exec("PRAGMA journal_mode = WAL");
      }
      const statements = new Map<string, ReturnType<typeof db.prepare>>();
      const query: SqlQuery = (sql, params) => {
        let statement = statements.get(sql);
        if (!statement) statements.set(sql, statement = db.prepare(sql));
        return statement.all(...params) as Record<string, unknown>[];
      };
      return {
        ours: () => ({ store: new SqlStore(db, { sweepInterval: 0 }) }),
        floor: () => Promise.resolve(sqlFloor(query, "sqlite")),
      };
    }
    default:
      throw new Error(`http_server: unknown server ${kind}`);
  }
}

interface Access {
  mw: MiddlewareHandler;
  read(c: Ctx): unknown;
  write(c: Ctx, key: string, value: string): void;
}

async function access(): Promise<Access | undefined> {
  if (side === undefined) return undefined;
  const where = await sessions(setup!);
  if (side === "floor") {
    return {
      mw: await where.floor(),
      read: (c) => floorSession(c).values.userId,
      write: (c, k, v) => {
        const s = floorSession(c);
        s.values = { ...s.values, [k]: v };
        s.changed = true;
      },
    };
  }
  if (side !== "ours") throw new Error(`http_server: unknown server ${kind}`);
  return {
    mw: session<Record<string, string>>(where.ours()),
    read: (c) => c.session.userId,
    write: (c, k, v) => void (c.session[k] = v),
  };
}

const chosen = await access();
const app = new Hono();
if (chosen) app.use(chosen.mw);
let n = 0;
app.get("/new", (c) => {
  chosen?.write(c, "userId", "u1");
  return c.text("ok");
});
app.get("/read", (c) => c.text(String(chosen ? chosen.read(c) : "u1")));
app.get("/write", (c) => {
  chosen?.read(c);
  chosen?.write(c, "n", String(++n));
  return c.text("ok");
});
serveAndPrintPort(app.fetch);
