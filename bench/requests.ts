// Per-request cost of session middleware, in one process: the same Hono
// app and handlers for every contender, interleaved rounds, medians, and
// the ratio to bare Hono measured in the same run. `deno task bench`.
import { Hono, type MiddlewareHandler } from "hono";
import { session } from "../mod.ts";
import { MemoryStore } from "../stores/memory.ts";
import { DenoKvStore } from "../stores/deno_kv.ts";
import { RedisStore } from "../stores/redis.ts";
import { createClient } from "redis";
import { redisAvailable, RedisServer } from "../support/redis_server.ts";
import peerHonoSession from "peer-hono-session";
import {
  CookieStore,
  MemoryStore as PeerMemoryStore,
  sessionMiddleware,
} from "peer-hono-sessions";
import { useSession } from "peer-hono-official-session";
import { getIronSession } from "peer-iron-session";

const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 9);
const PER_ROUND = Number(Deno.env.get("BENCH_N") ?? 200);
const SECRET = "bench-secret-bench-secret-bench-secret-42";

type Ctx = any;
interface Contender {
  name: string;
  cookieMode: boolean;
  /** Makes the middleware; called twice for cookie mode (see first read). */
  mw?: () => MiddlewareHandler;
  read(c: Ctx): Promise<unknown> | unknown;
  write(c: Ctx, key: string, value: string): Promise<void> | void;
}

const kv = await Deno.openKv(":memory:");
// A real redis-server on loopback, when installed.
const redisServer = redisAvailable
  ? await RedisServer.start({ durable: false })
  : undefined;
const redis = redisServer
  ? await createClient({ url: redisServer.url, disableOfflineQueue: true })
    .on("error", (err) => console.error(`redis: ${err.message}`))
    .connect()
  : undefined;

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
  { name: "bare Hono", cookieMode: false, read: () => "u1", write: () => {} },
  {
    name: "@x/hono-session cookie",
    cookieMode: true,
    mw: () => session({ secret: SECRET }),
    read: (c) => c.session.userId,
    write: (c, k, v) => void (c.session[k] = v),
  },
  {
    name: "@x/hono-session Map",
    cookieMode: false,
    mw: () => session({ store: new Map() }),
    read: (c) => c.session.userId,
    write: (c, k, v) => void (c.session[k] = v),
  },
  {
    name: "@x/hono-session MemoryStore",
    cookieMode: false,
    mw: () => session({ store: new MemoryStore({ sweepInterval: 0 }) }),
    read: (c) => c.session.userId,
    write: (c, k, v) => void (c.session[k] = v),
  },
  {
    name: "@x/hono-session DenoKvStore",
    cookieMode: false,
    mw: () => session({ store: new DenoKvStore(kv) }),
    read: (c) => c.session.userId,
    write: (c, k, v) => void (c.session[k] = v),
  },
  ...(redis
    ? [{
      name: "@x/hono-session RedisStore",
      cookieMode: false,
      mw: () => session({ store: new RedisStore(redis) }),
      read: (c: Ctx) => c.session.userId,
      write: (c: Ctx, k: string, v: string) => void (c.session[k] = v),
    }]
    : []),
  {
    name: "hono-session 1.2.0 cookie",
    cookieMode: true,
    mw: () => peerHonoSession({ secret: SECRET }) as MiddlewareHandler,
    read: (c) => c.session.userId,
    write: (c, k, v) => void (c.session[k] = v),
  },
  {
    name: "hono-session 1.2.0 Map",
    cookieMode: false,
    mw: () => peerHonoSession({ store: new Map() }) as MiddlewareHandler,
    read: (c) => c.session.userId,
    write: (c, k, v) => void (c.session[k] = v),
  },
  {
    name: "hono-sessions 0.8.1 cookie",
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
    cookieMode: false,
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
    name: "@hono/session 0.2.1",
    cookieMode: true,
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
    cookieMode: true,
    mw: () => ironSessionMiddleware(),
    read: (c) => c.get("iron").userId,
    write: async (c, k, v) => {
      const s = c.get("iron");
      s[k] = v;
      await s.save();
    },
  },
];

function appFor(contender: Contender): Hono {
  const app = new Hono();
  if (contender.mw) app.use(contender.mw());
  // The same three handlers for everyone.
  app.post("/new", async (c) => {
    await contender.write(c, "userId", "u1");
    return c.text("ok");
  });
  app.get("/read", async (c) => c.text(String(await contender.read(c))));
  app.post("/write", async (c) => {
    await contender.read(c);
    await contender.write(c, "n", String(Math.random()));
    return c.text("ok");
  });
  return app;
}

// What a browser sends back: the last value set for each name.
function cookieOf(res: Response): string {
  const jar = new Map<string, string>();
  for (const c of res.headers.getSetCookie()) {
    const pair = c.split(";")[0];
    jar.set(pair.slice(0, pair.indexOf("=")), pair);
  }
  return [...jar.values()].join("; ");
}

interface Runner {
  contender: Contender;
  app: Hono;
  cookie: string;
  fresh: string[];
}

const runners: Runner[] = [];
for (const contender of contenders) {
  const app = appFor(contender);
  const res = await app.request("/new", { method: "POST" });
  const cookie = cookieOf(res);
  if (contender.mw && !cookie) throw new Error(`${contender.name}: no cookie`);
  // Check each contender really reads its session back.
  const check = await (await app.request("/read", { headers: { cookie } }))
    .text();
  if (check !== "u1") throw new Error(`${contender.name}: read back ${check}`);
  runners.push({ contender, app, cookie, fresh: [] });
}

// Cookies never seen before, for "first read" in cookie mode: issued by
// another instance of the same middleware, same secret (another process,
// say), so no per-instance cache has met them.
for (const r of runners) {
  if (!r.contender.cookieMode) continue;
  const issuer = appFor(r.contender);
  for (let i = 0; i < ROUNDS * PER_ROUND + PER_ROUND; i++) {
    r.fresh.push(cookieOf(await issuer.request("/new", { method: "POST" })));
  }
}

type Scenario = "new" | "read" | "first read" | "write";
const scenarios: Scenario[] = ["new", "read", "first read", "write"];

async function once(r: Runner, s: Scenario): Promise<void> {
  let res: Response;
  switch (s) {
    case "new":
      res = await r.app.request("/new", { method: "POST" });
      break;
    case "read":
      res = await r.app.request("/read", { headers: { cookie: r.cookie } });
      break;
    case "first read":
      res = await r.app.request("/read", {
        headers: { cookie: r.fresh.pop() ?? r.cookie },
      });
      break;
    case "write":
      res = await r.app.request("/write", {
        method: "POST",
        headers: { cookie: r.cookie },
      });
      break;
  }
  if (res.status !== 200) {
    throw new Error(`${r.contender.name} ${s}: ${res.status}`);
  }
  await res.arrayBuffer();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? s[(s.length - 1) / 2]
    : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const samples = new Map<string, number[]>();
function shuffle<T>(xs: T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

// Warm up every path.
for (const r of runners) {
  for (const s of scenarios) {
    for (let i = 0; i < 50; i++) {
      if (s === "first read" && !r.contender.cookieMode) continue;
      await once(r, s === "first read" ? "read" : s);
    }
  }
}

for (let round = 0; round < ROUNDS; round++) {
  for (const s of scenarios) {
    for (const r of shuffle(runners)) {
      if (s === "first read" && !r.contender.cookieMode && r.contender.mw) {
        continue;
      }
      const scenario = s === "first read" && !r.contender.cookieMode
        ? "read"
        : s;
      const t0 = performance.now();
      for (let i = 0; i < PER_ROUND; i++) await once(r, scenario);
      const us = ((performance.now() - t0) * 1000) / PER_ROUND;
      const key = `${r.contender.name}|${s}`;
      samples.set(key, [...(samples.get(key) ?? []), us]);
    }
  }
}

// Raw Deno KV costs, for the DenoKvStore rows.
const raw = {
  get: [] as number[],
  set: [] as number[],
  atomic: [] as number[],
};
for (let round = 0; round < ROUNDS; round++) {
  const key = ["raw", round];
  await kv.set(key, "x".repeat(100));
  let t0 = performance.now();
  for (let i = 0; i < PER_ROUND; i++) await kv.get(key);
  raw.get.push(((performance.now() - t0) * 1000) / PER_ROUND);
  t0 = performance.now();
  for (let i = 0; i < PER_ROUND; i++) {
    await kv.set(key, "x".repeat(100), { expireIn: 60_000 });
  }
  raw.set.push(((performance.now() - t0) * 1000) / PER_ROUND);
  t0 = performance.now();
  for (let i = 0; i < PER_ROUND; i++) {
    const { versionstamp } = await kv.get(key);
    await kv.atomic().check({ key, versionstamp }).set(key, "y".repeat(100), {
      expireIn: 60_000,
    }).commit();
  }
  raw.atomic.push(((performance.now() - t0) * 1000) / PER_ROUND);
}
kv.close();

// Raw Redis costs, for the RedisStore row: GET, SET ... PX, and GET plus
// the compare-and-set the store runs on a write.
const rawRedis = {
  get: [] as number[],
  set: [] as number[],
  cas: [] as number[],
};
if (redis) {
  const script =
    'local c = redis.call("GET", KEYS[1]) if c ~= ARGV[1] then return 0 end redis.call("SET", KEYS[1], ARGV[2], "PX", ARGV[3]) return 1';
  for (let round = 0; round < ROUNDS; round++) {
    const key = `raw:${round}`;
    const value = "x".repeat(100);
    await redis.set(key, value);
    let t0 = performance.now();
    for (let i = 0; i < PER_ROUND; i++) await redis.get(key);
    rawRedis.get.push(((performance.now() - t0) * 1000) / PER_ROUND);
    t0 = performance.now();
    for (let i = 0; i < PER_ROUND; i++) {
      await redis.sendCommand(["SET", key, value, "PX", "60000"]);
    }
    rawRedis.set.push(((performance.now() - t0) * 1000) / PER_ROUND);
    t0 = performance.now();
    for (let i = 0; i < PER_ROUND; i++) {
      const current = await redis.get(key);
      await redis.sendCommand([
        "EVAL",
        script,
        "1",
        key,
        current ?? "",
        value,
        "60000",
      ]);
    }
    rawRedis.cas.push(((performance.now() - t0) * 1000) / PER_ROUND);
  }
  await redis.close();
  await redisServer!.stop();
}

const bare = Object.fromEntries(
  scenarios.map((s) => [s, median(samples.get(`bare Hono|${s}`)!)]),
);
const kvGet = median(raw.get),
  kvSet = median(raw.set),
  kvGetAtomic = median(raw.atomic);
const kvNeeds: Record<Scenario, number> = {
  new: kvSet,
  read: kvGet,
  "first read": kvGet,
  write: kvGetAtomic,
};
const redisNeeds: Record<Scenario, number> | undefined = redis
  ? {
    new: median(rawRedis.set),
    read: median(rawRedis.get),
    "first read": median(rawRedis.get),
    write: median(rawRedis.cas),
  }
  : undefined;

console.log(
  `Deno ${Deno.version.deno}, V8 ${Deno.version.v8}, ${navigator.hardwareConcurrency} cores, ${Deno.build.os}/${Deno.build.arch}; ${ROUNDS} interleaved rounds of ${PER_ROUND} requests per cell, medians in µs per request (ratio to bare Hono in the same run)`,
);
console.log(
  `raw Deno KV (:memory:): get ${kvGet.toFixed(1)} µs, set ${
    kvSet.toFixed(1)
  } µs, get + atomic checked set ${kvGetAtomic.toFixed(1)} µs`,
);
console.log(
  redisNeeds
    ? `raw Redis 7 (loopback, node-redis): GET ${
      redisNeeds.read.toFixed(1)
    } µs, SET PX ${redisNeeds.new.toFixed(1)} µs, GET + compare-and-set ${
      redisNeeds.write.toFixed(1)
    } µs`
    : "raw Redis: skipped (redis-server not installed)",
);
console.log("");
console.log(`| contender | ${scenarios.join(" | ")} |`);
console.log(`|---|${scenarios.map(() => "---:").join("|")}|`);
for (const r of runners) {
  const cells = scenarios.map((s) => {
    const xs = samples.get(`${r.contender.name}|${s}`);
    if (!xs) return "–";
    const us = median(xs);
    const ratio = us / bare[s];
    let cell = `${us.toFixed(1)} (${ratio.toFixed(1)}x)`;
    if (r.contender.name.includes("DenoKvStore")) {
      cell += ` [vs bare+KV ${(us / (bare[s] + kvNeeds[s])).toFixed(2)}x]`;
    }
    if (r.contender.name.includes("RedisStore") && redisNeeds) {
      cell += ` [vs bare+Redis ${
        (us / (bare[s] + redisNeeds[s])).toFixed(2)
      }x]`;
    }
    return cell;
  });
  console.log(`| ${r.contender.name} | ${cells.join(" | ")} |`);
}
