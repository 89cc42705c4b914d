// Per-request cost of session middleware, in one process, on the lean
// request (`app.fetch(new Request(url))`, GET, sync handler where the
// middleware allows, `.text()`): bare Hono, the hand-written floor of each
// kind (bench/floors.ts), ours, and the peers, interleaved in shuffled
// rounds; medians with their spread. Every row is shown as a multiple of
// bare Hono and of the floor of its kind. Writes bench/results/requests.json
// and the chart bench/results/requests.svg. `deno task bench:requests`.
import { Hono, type MiddlewareHandler } from "hono";
import { createClient } from "redis";
import { session } from "../mod.ts";
import { MemoryStore } from "../stores/memory.ts";
import { DenoKvStore } from "../stores/deno_kv.ts";
import { RedisStore } from "../stores/redis.ts";
import { redisAvailable, RedisServer } from "../support/redis_server.ts";
import { DatabaseSync } from "node:sqlite";
// @ts-types="@types/pg"
import pg from "pg";
import { SqlStore } from "../stores/sql.ts";
import {
  postgresAvailable,
  PostgresServer,
} from "../support/postgres_server.ts";
import peerHonoSession from "peer-hono-session";
import {
  CookieStore,
  MemoryStore as PeerMemoryStore,
  sessionMiddleware,
} from "peer-hono-sessions";
import { useSession } from "peer-hono-official-session";
import { getIronSession } from "peer-iron-session";
import {
  floorSession,
  ironFloor,
  kvFloor,
  mapFloor,
  redisFloor,
  sqlFloor,
  type SqlQuery,
} from "./floors.ts";
import { barChart } from "./chart.ts";
import { withTelemetry } from "../otel.ts";
import {
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";

const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 9);
// Only the contenders whose name matches (bare Hono always runs), e.g.
// BENCH_ONLY="iron|cookie" for the cookie-mode rows.
const ONLY = new RegExp(Deno.env.get("BENCH_ONLY") ?? "");
const PER_ROUND = Number(Deno.env.get("BENCH_N") ?? 200);
const SECRET = "bench-secret-bench-secret-bench-secret-42";

type Ctx = any;
/** Which floor a row is held against. */
type Kind = "iron" | "map" | "kv" | "redis" | "postgres" | "sqlite";
type Group = "bare" | "floor" | "ours" | "peer";

interface Contender {
  name: string;
  group: Group;
  kind?: Kind;
  /** Sessions live in the cookie: there is a "first read" to measure. */
  cookieMode?: boolean;
  /** Makes the middleware; called twice for cookie mode (first read). */
  mw?: () => MiddlewareHandler;
  /** The handlers await read/write (the middleware's API is async). */
  async?: boolean;
  /**
   * Values "new" writes besides userId, to size the session; "write" then
   * changes one more value of that session. Such rows are not held against
   * the peers (their sessions are small).
   */
  payload?: Record<string, string>;
  read(c: Ctx): unknown;
  write(c: Ctx, key: string, value: string): unknown;
}

const kv = await Deno.openKv(":memory:");
const redisServer = redisAvailable
  ? await RedisServer.start({ durable: false })
  : undefined;
const redis = redisServer
  ? await createClient({ url: redisServer.url, disableOfflineQueue: true })
    .on("error", (err) => console.error(`redis: ${err.message}`))
    .connect()
  : undefined;

// SqlStore on PostgreSQL (a server started here, when installed) and on
// SQLite (node:sqlite, in memory); the floors run their raw queries on the
// same connections.
const pgServer = postgresAvailable ? await PostgresServer.start() : undefined;
const pgPool = pgServer
  ? new pg.Pool({ connectionString: pgServer.url, max: 1 })
    .on("error", (err) => console.error(`postgres: ${err.message}`))
  : undefined;
const sqliteDb = new DatabaseSync(":memory:");
const sqliteStatements = new Map<string, ReturnType<DatabaseSync["prepare"]>>();
const sqliteQuery: SqlQuery = (sql, params) => {
  let statement = sqliteStatements.get(sql);
  if (!statement) sqliteStatements.set(sql, statement = sqliteDb.prepare(sql));
  return statement.all(...params) as Record<string, unknown>[];
};
const pgQuery: SqlQuery | undefined = pgPool
  ? async (sql, params) => (await pgPool.query(sql, params)).rows
  : undefined;
// The floor's table is made like the store's: same columns, same indexes.
for (const table of ["sessions", "floor_sessions"]) {
  for (const sql of SqlStore.schema("sqlite", table)) sqliteDb.exec(sql);
  for (const sql of pgPool ? SqlStore.schema("postgres", table) : []) {
    await pgPool!.query(sql);
  }
}

// OpenTelemetry's SDK as an app runs it (issue 25), exporting nowhere:
// metrics aggregated in memory and read once a minute, spans batched.
// What a request pays is the instrumentation, the aggregation and the span
// processing; the export itself happens off the request path.
const discard = {
  export: (_: unknown, done: (result: { code: 0 }) => void) =>
    done({ code: 0 }),
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};
const otelMeters = new MeterProvider({
  readers: [
    new PeriodicExportingMetricReader({
      exporter: discard as never,
      exportIntervalMillis: 60_000,
    }),
  ],
});
const otelTracers = new TracerProvider({
  spanProcessors: [new BatchSpanProcessor({ exporter: discard as never })],
});
const telemetry = { meterProvider: otelMeters, tracerProvider: otelTracers };

const ours = {
  read: (c: Ctx) => c.session.userId,
  write: (c: Ctx, k: string, v: string) => void (c.session[k] = v),
};
const floor = {
  read: (c: Ctx) => floorSession(c).values.userId,
  write: (c: Ctx, k: string, v: string) => {
    const s = floorSession(c);
    s.values = { ...s.values, [k]: v };
    s.changed = true;
  },
};
const iron = await ironFloor();

// Session values of a given size, the same in every run: `random` of them
// tokens (base64 of pseudo-random bytes, compress poorly), the rest a cart
// (repetitive, compresses well).
function sized(bytes: number, random: number): Record<string, string> {
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) >> 8;
  const tokenChars = Math.round(bytes * random);
  let tokens = "";
  while (tokens.length < tokenChars) {
    tokens += btoa(
      String.fromCharCode(next() & 255, next() & 255, next() & 255),
    );
  }
  let cart = "";
  for (let i = 0; cart.length < bytes - tokenChars; i++) {
    cart += `{"sku":"SKU-${10000 + i}","qty":${1 + (i % 3)}},`;
  }
  return {
    tokens: tokens.slice(0, tokenChars),
    cart: cart.slice(0, bytes - tokenChars),
  };
}
// Compression and cookieChunks, on.
const BIG = { compression: "deflate-raw", cookieChunks: 4 } as const;

// The least any app pays for cookies of this size, session or not: it
// receives `count` full cookies (4096 bytes each) on every request and
// sets them on "new" and "write". Deno checks each header value byte by
// byte when a Request or Response is built in JavaScript, which these
// rows measure.
function cookieFloor(count: number): MiddlewareHandler {
  const lines = Array.from(
    { length: count },
    (_, i) =>
      `sid.${i}=${
        "x".repeat(4091)
      }; Max-Age=86400; Path=/; HttpOnly; Secure; SameSite=Lax`,
  );
  return async (c, next) => {
    await next();
    if (c.req.path === "/read") return;
    c.header("Set-Cookie", lines[0]!, { append: true });
    for (const line of lines.slice(1)) c.res.headers.append("Set-Cookie", line);
  };
}

function ironSessionMiddleware(): MiddlewareHandler {
  return async (c, next) => {
    const res = new Response();
    c.set(
      "iron",
      await getIronSession(c.req.raw, res, {
        password: SECRET,
        cookieName: "sid",
      }),
    );
    await next();
    for (const cookie of res.headers.getSetCookie()) {
      c.res.headers.append("set-cookie", cookie);
    }
  };
}

const contenders: Contender[] = [
  { name: "bare Hono", group: "bare", read: () => "u1", write: () => {} },
  {
    name: "floor: iron",
    group: "floor",
    kind: "iron",
    cookieMode: true,
    mw: iron,
    ...floor,
  },
  { name: "floor: Map", group: "floor", kind: "map", mw: mapFloor, ...floor },
  {
    name: "floor: Deno KV",
    group: "floor",
    kind: "kv",
    mw: () => kvFloor(kv as never),
    ...floor,
  },
  ...(redis
    ? [{
      name: "floor: Redis",
      group: "floor" as const,
      kind: "redis" as const,
      mw: () => redisFloor(redis),
      ...floor,
    }]
    : []),
  ...(pgQuery
    ? [{
      name: "floor: PostgreSQL",
      group: "floor" as const,
      kind: "postgres" as const,
      mw: () => sqlFloor(pgQuery, "postgres"),
      ...floor,
    }]
    : []),
  {
    name: "floor: SQLite",
    group: "floor",
    kind: "sqlite",
    mw: () => sqlFloor(sqliteQuery, "sqlite"),
    ...floor,
  },
  {
    name: "ours: cookie",
    group: "ours",
    kind: "iron",
    cookieMode: true,
    mw: () => session({ secret: SECRET }),
    ...ours,
  },
  {
    name: "ours: cookie + otel",
    group: "ours",
    kind: "iron",
    cookieMode: true,
    mw: () => session(withTelemetry({ secret: SECRET }, telemetry)),
    ...ours,
  },
  // Sessions of 1 KB and 10 KB in cookie mode (issue 17), and what
  // carrying cookies that big costs any app.
  ...[2, 4].map((count): Contender => ({
    name: `floor: ${count} cookies of 4 KB`,
    group: "floor",
    cookieMode: true,
    mw: () => cookieFloor(count),
    read: () => "u1",
    write: () => {},
  })),
  {
    name: "ours: cookie 1 KB",
    group: "ours",
    kind: "iron",
    cookieMode: true,
    payload: sized(1000, 0.5),
    mw: () => session({ secret: SECRET }),
    ...ours,
  },
  {
    name: "ours: cookie 1 KB, both options",
    group: "ours",
    kind: "iron",
    cookieMode: true,
    payload: sized(1000, 0.5),
    mw: () => session({ secret: SECRET, ...BIG }),
    ...ours,
  },
  {
    name: "ours: cookie 10 KB, compressed to 1 cookie",
    group: "ours",
    kind: "iron",
    cookieMode: true,
    payload: sized(10_000, 0),
    mw: () => session({ secret: SECRET, ...BIG }),
    ...ours,
  },
  {
    name: "ours: cookie 10 KB, compressed, 2 chunks",
    group: "ours",
    kind: "iron",
    cookieMode: true,
    payload: sized(10_000, 0.5),
    mw: () => session({ secret: SECRET, ...BIG }),
    ...ours,
  },
  {
    name: "ours: cookie 10 KB, 4 chunks",
    group: "ours",
    kind: "iron",
    cookieMode: true,
    payload: sized(10_000, 0.5),
    mw: () => session({ secret: SECRET, cookieChunks: 4 }),
    ...ours,
  },
  {
    name: "ours: Map",
    group: "ours",
    kind: "map",
    mw: () => session({ store: new Map() }),
    ...ours,
  },
  {
    name: "ours: MemoryStore",
    group: "ours",
    kind: "map",
    mw: () => session({ store: new MemoryStore({ sweepInterval: 0 }) }),
    ...ours,
  },
  {
    name: "ours: MemoryStore + otel",
    group: "ours",
    kind: "map",
    mw: () =>
      session(
        withTelemetry(
          { store: new MemoryStore({ sweepInterval: 0 }) },
          telemetry,
        ),
      ),
    ...ours,
  },
  {
    name: "ours: MemoryStore + otel, no SDK",
    group: "ours",
    kind: "map",
    mw: () =>
      session(withTelemetry({ store: new MemoryStore({ sweepInterval: 0 }) })),
    ...ours,
  },
  {
    name: "ours: DenoKvStore",
    group: "ours",
    kind: "kv",
    mw: () => session({ store: new DenoKvStore(kv) }),
    ...ours,
  },
  ...(redis
    ? [{
      name: "ours: RedisStore",
      group: "ours" as const,
      kind: "redis" as const,
      mw: () => session({ store: new RedisStore(redis) }),
      ...ours,
    }]
    : []),
  ...(pgPool
    ? [{
      name: "ours: SqlStore (PostgreSQL)",
      group: "ours" as const,
      kind: "postgres" as const,
      mw: () => session({ store: new SqlStore(pgPool, { sweepInterval: 0 }) }),
      ...ours,
    }]
    : []),
  {
    name: "ours: SqlStore (SQLite)",
    group: "ours",
    kind: "sqlite",
    mw: () => session({ store: new SqlStore(sqliteDb, { sweepInterval: 0 }) }),
    ...ours,
  },
  {
    name: "hono-session 1.2.0 cookie",
    group: "peer",
    kind: "iron",
    cookieMode: true,
    mw: () => peerHonoSession({ secret: SECRET }) as MiddlewareHandler,
    ...ours,
  },
  {
    name: "hono-session 1.2.0 Map",
    group: "peer",
    kind: "map",
    mw: () => peerHonoSession({ store: new Map() }) as MiddlewareHandler,
    ...ours,
  },
  {
    name: "hono-sessions 0.8.1 cookie",
    group: "peer",
    kind: "iron",
    cookieMode: true,
    mw: () =>
      sessionMiddleware({
        store: new CookieStore(),
        encryptionKey: SECRET,
        expireAfterSeconds: 86400,
        cookieOptions: { path: "/", httpOnly: true, sameSite: "Lax" },
      }) as unknown as MiddlewareHandler,
    read: (c) => c.get("session").get("userId"),
    write: (c, k, v) => c.get("session").set(k, v),
  },
  {
    name: "hono-sessions 0.8.1 memory",
    group: "peer",
    kind: "map",
    mw: () =>
      sessionMiddleware({
        store: new PeerMemoryStore(),
        encryptionKey: SECRET,
        expireAfterSeconds: 86400,
        cookieOptions: { path: "/", httpOnly: true, sameSite: "Lax" },
      }) as unknown as MiddlewareHandler,
    read: (c) => c.get("session").get("userId"),
    write: (c, k, v) => c.get("session").set(k, v),
  },
  {
    name: "@hono/session 0.2.1 (JWE)",
    group: "peer",
    kind: "iron",
    cookieMode: true,
    async: true,
    mw: () =>
      useSession({
        secret: "a1".repeat(32),
        duration: { absolute: 86400 },
      }) as unknown as MiddlewareHandler,
    read: async (c) =>
      ((await c.var.session.get()) as Record<string, unknown> | null)?.userId,
    write: async (c, k, v) =>
      await c.var.session.update((prev: Record<string, unknown> | null) => ({
        ...prev,
        [k]: v,
      })),
  },
  {
    name: "iron-session 8.0.4",
    group: "peer",
    kind: "iron",
    cookieMode: true,
    async: true,
    mw: () => ironSessionMiddleware(),
    read: (c) => c.get("iron").userId,
    write: async (c, k, v) => {
      const s = c.get("iron");
      s[k] = v;
      await s.save();
    },
  },
];

// The same three handlers for everyone: synchronous unless the contender's
// API is asynchronous.
function appFor(x: Contender): Hono {
  const app = new Hono();
  if (x.mw) app.use(x.mw());
  let n = 0;
  const payload = Object.entries(x.payload ?? {});
  if (x.async) {
    app.get("/new", async (c) => {
      await x.write(c, "userId", "u1");
      for (const [k, v] of payload) await x.write(c, k, v);
      return c.text("ok");
    });
    app.get("/read", async (c) => c.text(String(await x.read(c))));
    app.get("/write", async (c) => {
      await x.read(c);
      await x.write(c, "n", String(++n));
      return c.text("ok");
    });
  } else {
    app.get("/new", (c) => {
      x.write(c, "userId", "u1");
      for (const [k, v] of payload) x.write(c, k, v);
      return c.text("ok");
    });
    app.get("/read", (c) => c.text(String(x.read(c))));
    app.get("/write", (c) => {
      x.read(c);
      x.write(c, "n", String(++n));
      return c.text("ok");
    });
  }
  return app;
}

// What a browser sends back: the last value set for each name, less the
// cookies expired.
function cookieOf(res: Response): string {
  const jar = new Map<string, string>();
  for (const c of res.headers.getSetCookie()) {
    const pair = c.split(";")[0]!;
    const name = pair.slice(0, pair.indexOf("="));
    if (/;\s*max-age=0(;|$)/i.test(c)) jar.delete(name);
    else jar.set(name, pair);
  }
  return [...jar.values()].join("; ");
}

const BASE = "http://localhost";

async function request(
  app: Hono,
  path: string,
  cookie = "",
): Promise<Response> {
  return await app.fetch(
    new Request(BASE + path, cookie ? { headers: { cookie } } : undefined),
  );
}

interface Runner {
  x: Contender;
  app: Hono;
  cookie: string;
  fresh: string[];
}

const runners: Runner[] = [];
for (const x of contenders) {
  if (x.group !== "bare" && !ONLY.test(x.name)) continue;
  const app = appFor(x);
  const res = await request(app, "/new");
  const cookie = cookieOf(res);
  if (x.mw && !cookie) throw new Error(`${x.name}: no cookie`);
  const check = await (await request(app, "/read", cookie)).text();
  if (check !== "u1") throw new Error(`${x.name}: read back ${check}`);
  if (x.payload) {
    const pairs = cookie.split("; ").filter((p) => !p.startsWith("sx="));
    console.log(
      `${x.name}: ${
        JSON.stringify(x.payload).length
      } bytes of values in ${pairs.length} cookie(s) of ${
        pairs.reduce((n, p) => n + p.length, 0)
      } bytes`,
    );
  }
  runners.push({ x, app, cookie, fresh: [] });
}

// Cookies never seen before, for "first read" in cookie mode: issued by
// another instance of the same middleware, same secret, so no cache of the
// reading instance has met them.
for (const r of runners) {
  if (!r.x.cookieMode) continue;
  const issuer = appFor(r.x);
  for (let i = 0; i < ROUNDS * PER_ROUND + PER_ROUND; i++) {
    r.fresh.push(cookieOf(await request(issuer, "/new")));
  }
}

type Scenario = "new" | "read" | "first read" | "write";
const scenarios: Scenario[] = ["new", "read", "first read", "write"];

function applies(r: Runner, s: Scenario): boolean {
  return s !== "first read" || r.x.cookieMode === true || !r.x.mw;
}

async function once(r: Runner, s: Scenario): Promise<void> {
  const res = s === "new"
    ? await request(r.app, "/new")
    : s === "read"
    ? await request(r.app, "/read", r.cookie)
    : s === "first read"
    ? await request(r.app, "/read", r.fresh.pop() ?? r.cookie)
    : await request(r.app, "/write", r.cookie);
  if (res.status !== 200) throw new Error(`${r.x.name} ${s}: ${res.status}`);
  await res.text();
}

const samples = new Map<string, number[]>();
function shuffle<T>(xs: T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

// Warm up every path.
for (const r of runners) {
  for (const s of scenarios) {
    if (!applies(r, s)) continue;
    for (let i = 0; i < 50; i++) await once(r, s === "first read" ? "read" : s);
  }
}

for (let round = 0; round < ROUNDS; round++) {
  for (const s of scenarios) {
    for (const r of shuffle(runners)) {
      if (!applies(r, s)) continue;
      const t0 = performance.now();
      for (let i = 0; i < PER_ROUND; i++) await once(r, s);
      const us = ((performance.now() - t0) * 1000) / PER_ROUND;
      const key = `${r.x.name}|${s}`;
      samples.set(key, [...(samples.get(key) ?? []), us]);
    }
  }
}
kv.close();
if (redis) {
  await redis.close();
  await redisServer!.stop();
}
sqliteDb.close();
if (pgPool) {
  await pgPool.end();
  await pgServer!.stop();
}
await otelMeters.shutdown();
await otelTracers.shutdown();

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const lo = Math.floor(at), hi = Math.ceil(at);
  return s[lo]! + (s[hi]! - s[lo]!) * (at - lo);
}
const median = (xs: number[]) => quantile(xs, 0.5);

interface Cell {
  us: number;
  min: number;
  max: number;
  xBare: number;
  xFloor?: number;
}
const results: Record<string, Partial<Record<Scenario, Cell>>> = {};
const floorOf = (kind: Kind) =>
  contenders.find((x) => x.group === "floor" && x.kind === kind)?.name;
for (const r of runners) {
  const row: Partial<Record<Scenario, Cell>> = {};
  for (const s of scenarios) {
    const xs = samples.get(`${r.x.name}|${s}`);
    if (!xs) continue;
    const bare = median(samples.get(`bare Hono|${s}`)!);
    const f = r.x.kind && r.x.group !== "floor" ? floorOf(r.x.kind) : undefined;
    const floorSamples = f ? samples.get(`${f}|${s}`) : undefined;
    const us = median(xs);
    row[s] = {
      us,
      min: Math.min(...xs),
      max: Math.max(...xs),
      xBare: us / bare,
      ...(floorSamples ? { xFloor: us / median(floorSamples) } : {}),
    };
  }
  results[r.x.name] = row;
}

const machine =
  `Deno ${Deno.version.deno}, V8 ${Deno.version.v8}, ${navigator.hardwareConcurrency} cores, ${Deno.build.os}/${Deno.build.arch}`;
console.log(
  `${machine}; ${ROUNDS} shuffled rounds of ${PER_ROUND} requests per cell; lean request (app.fetch, GET, .text()); ${
    new Date().toISOString().slice(0, 10)
  }`,
);
console.log(
  "Cells: median µs per request (min–max over rounds) · x bare Hono · x the floor of its kind.",
);
console.log("");
console.log(`| contender | ${scenarios.join(" | ")} |`);
console.log(`|---|${scenarios.map(() => "---:").join("|")}|`);
for (const r of runners) {
  const cells = scenarios.map((s) => {
    const c = results[r.x.name]![s];
    if (!c) return "–";
    return `${c.us.toFixed(1)} (${c.min.toFixed(1)}–${c.max.toFixed(1)}) · ${
      c.xBare.toFixed(1)
    }x · ${c.xFloor === undefined ? "–" : `${c.xFloor.toFixed(2)}x`}`;
  });
  console.log(`| ${r.x.name} | ${cells.join(" | ")} |`);
}

// The targets of issue 13, as medians of this run.
const cell = (name: string, s: Scenario) => results[name]?.[s];
const targets: [string, number | undefined, number][] = [
  ["cookie new <= 1.15x iron floor", cell("ours: cookie", "new")?.xFloor, 1.15],
  [
    "cookie write <= 1.15x iron floor",
    cell("ours: cookie", "write")?.xFloor,
    1.15,
  ],
  ["cookie read <= 2.5x bare", cell("ours: cookie", "read")?.xBare, 2.5],
  ["Map new <= 1.5x Map floor", cell("ours: Map", "new")?.xFloor, 1.5],
  [
    "MemoryStore new <= 1.5x Map floor",
    cell("ours: MemoryStore", "new")?.xFloor,
    1.5,
  ],
  ["Map read <= 2x bare", cell("ours: Map", "read")?.xBare, 2],
  ["MemoryStore read <= 2x bare", cell("ours: MemoryStore", "read")?.xBare, 2],
  ["Map write <= 3x Map floor", cell("ours: Map", "write")?.xFloor, 3],
  [
    "MemoryStore write <= 3x Map floor",
    cell("ours: MemoryStore", "write")?.xFloor,
    3,
  ],
  ...(["new", "read", "write"] as const).map((s): [
    string,
    number | undefined,
    number,
  ] => [
    `DenoKvStore ${s} <= 1.15x KV floor`,
    cell("ours: DenoKvStore", s)?.xFloor,
    1.15,
  ]),
];
console.log("");
console.log("Targets (issue 13):");
for (const [what, value, limit] of targets) {
  console.log(
    `- ${what}: ${value === undefined ? "n/a" : value.toFixed(2)} ${
      value !== undefined && value <= limit ? "met" : "MISSED"
    }`,
  );
}
// Issue 16: SqlStore next to the raw queries it needs (no target set).
console.log("");
console.log("SqlStore against its floor (issue 16):");
for (const engine of ["PostgreSQL", "SQLite"]) {
  const ratios = (["new", "read", "write"] as const).map((s) =>
    `${s} ${
      cell(`ours: SqlStore (${engine})`, s)?.xFloor?.toFixed(2) ?? "n/a"
    }x`
  );
  console.log(`- ${engine}: ${ratios.join(", ")}`);
}
// Issue 25: what telemetry adds, as multiples of the same row without it.
console.log("");
console.log(
  "With @x/hono-session/otel, against the same store without it (issue 25):",
);
for (
  const [row, base] of [
    ["ours: cookie + otel", "ours: cookie"],
    ["ours: MemoryStore + otel", "ours: MemoryStore"],
    ["ours: MemoryStore + otel, no SDK", "ours: MemoryStore"],
  ]
) {
  const ratios = scenarios.flatMap((s) => {
    const a = cell(row!, s), b = cell(base!, s);
    return a && b
      ? [`${s} ${(a.us / b.us).toFixed(2)}x (+${(a.us - b.us).toFixed(1)} µs)`]
      : [];
  });
  if (ratios.length) console.log(`- ${row}: ${ratios.join(", ")}`);
}
// Faster than every peer of the same kind, in every scenario.
for (const r of runners.filter((r) => r.x.group === "ours" && !r.x.payload)) {
  for (const p of runners.filter((p) => p.x.group === "peer")) {
    if (p.x.kind !== (r.x.kind === "iron" ? "iron" : "map")) continue;
    if (r.x.kind !== "iron" && r.x.kind !== "map") continue;
    for (const s of scenarios) {
      const a = cell(r.x.name, s), b = cell(p.x.name, s);
      if (a && b && a.us >= b.us) {
        console.log(
          `- SLOWER: ${r.x.name} ${s} ${a.us.toFixed(1)} µs vs ${p.x.name} ${
            b.us.toFixed(1)
          } µs`,
        );
      }
    }
  }
}

// Only a full run writes the results and the chart.
if (Deno.env.get("BENCH_ONLY") !== undefined) Deno.exit(0);
const out = new URL("./results/", import.meta.url);
await Deno.mkdir(out, { recursive: true });
await Deno.writeTextFile(
  new URL("requests.json", out),
  JSON.stringify(
    {
      machine,
      date: new Date().toISOString(),
      rounds: ROUNDS,
      perRound: PER_ROUND,
      groups: Object.fromEntries(contenders.map((x) => [x.name, x.group])),
      results,
    },
    null,
    2,
  ) + "\n",
);
await Deno.writeTextFile(
  new URL("requests.svg", out),
  barChart({
    title: "µs per request, lower is better (log scale)",
    subtitle: `${machine}, medians of ${ROUNDS} rounds`,
    scenarios,
    rows: runners.map((r) => ({
      name: r.x.name,
      group: r.x.group,
      values: scenarios.map((s) => results[r.x.name]![s]?.us),
    })),
  }),
);
console.log("");
console.log("wrote bench/results/requests.json and bench/results/requests.svg");
