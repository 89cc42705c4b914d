// Memory of MemoryStore while a million distinct sessions come and go.
// Time is simulated: one new session a millisecond, each living 60 s, so
// about 60,000 are alive at any moment. Then, in cookie mode, what the
// verified-cookie cache keeps while a flood of distinct large cookies
// arrives. Run with `deno task bench:memory`.
import FakeTimers from "@sinonjs/fake-timers";
import { Hono } from "hono";
import { MemoryStore } from "../stores/memory.ts";
import { session, type SessionRecord, type SessionStore } from "../mod.ts";

const TOTAL = 1_000_000;
const LIFETIME_MS = 60_000;
const SAMPLE_EVERY = 50_000;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");

function heap(): number {
  gc!();
  gc!();
  return Deno.memoryUsage().heapUsed;
}

function id(i: number): string {
  // 43 characters, like the middleware's ids.
  return `session-${i.toString().padStart(12, "0")}`.padEnd(43, "x");
}

function record(i: number): SessionRecord {
  return {
    data: { userId: `user-${i}`, visits: i % 17 },
    expires: Date.now() + LIFETIME_MS,
  };
}

interface Result {
  name: string;
  peakLive: number;
  finalLive: number;
  peakHeapMiB: number;
  finalHeapMiB: number;
}

function run(
  name: string,
  make: () => SessionStore & { size: number; close?(): void },
): Result {
  const clock = FakeTimers.install({
    now: Date.UTC(2026, 0, 1),
    toFake: ["Date", "setInterval", "clearInterval"],
  });
  const base = heap();
  const store = make();
  let peakLive = 0;
  let peakHeap = 0;
  try {
    for (let i = 0; i < TOTAL; i++) {
      store.set(id(i), record(i), undefined as never);
      clock.tick(1);
      if (store.size > peakLive) peakLive = store.size;
      if ((i + 1) % SAMPLE_EVERY === 0) {
        peakHeap = Math.max(peakHeap, heap() - base);
      }
    }
    const finalHeap = heap() - base;
    return {
      name,
      peakLive,
      finalLive: store.size,
      peakHeapMiB: peakHeap / 2 ** 20,
      finalHeapMiB: finalHeap / 2 ** 20,
    };
  } finally {
    store.close?.();
    clock.uninstall();
  }
}

function bytesPerSession(): number {
  const n = 100_000;
  const base = heap();
  const store = new MemoryStore({ sweepInterval: 0 });
  for (let i = 0; i < n; i++) {
    store.set(id(i), {
      data: { userId: `user-${i}`, visits: i % 17 },
      expires: Date.now() + 3_600_000,
    });
  }
  const used = heap() - base;
  if (store.size !== n) throw new Error("lost entries");
  return used / n;
}

console.log(
  `MemoryStore memory, Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores`,
);
console.log(
  `bytes per live session (100,000 sessions, {userId, visits}, 43-char ids): ${
    bytesPerSession().toFixed(0)
  }`,
);
console.log(
  `${TOTAL.toLocaleString("en")} sessions, one a simulated ms, each alive ${
    LIFETIME_MS / 1000
  } s:`,
);
const results = [
  run(
    "MemoryStore (sweep every 10 s)",
    () => new MemoryStore({ sweepInterval: 10 }),
  ),
  run(
    "MemoryStore maxEntries 10,000",
    () => new MemoryStore({ maxEntries: 10_000, sweepInterval: 10 }),
  ),
  run("plain Map (no expiry)", () => {
    const map = new Map<string, SessionRecord>();
    return Object.assign(map, { close: undefined });
  }),
];
console.log(
  "| store | peak live | live at end | peak heap MiB | heap at end MiB |",
);
console.log("|---|---:|---:|---:|---:|");
for (const r of results) {
  console.log(
    `| ${r.name} | ${r.peakLive.toLocaleString("en")} | ${
      r.finalLive.toLocaleString("en")
    } | ${r.peakHeapMiB.toFixed(1)} | ${r.finalHeapMiB.toFixed(1)} |`,
  );
}

// Cookie mode: 25,000 anonymous sessions, each a genuine 2.8 KB cookie,
// each read once. The verified-cookie cache keeps what it can within its
// byte budget; the heap it holds afterwards is what the flood costs.
const FLOOD = 25_000;
async function cookieFlood(): Promise<{ heapMiB: number; seconds: number }> {
  const started = performance.now();
  const base = heap();
  const app = new Hono()
    .use(session<{ basket?: string }>({
      secret: "a-benchmark-secret-that-is-long-enough!!",
    }))
    .post("/cart", (c) => {
      c.session.basket = `${c.req.query("i")}:${"x".repeat(2_000)}`;
      return c.text("ok");
    })
    .get("/cart", (c) => c.text(String(c.session.basket?.length ?? 0)));
  let cookies: string[] = [];
  for (let i = 0; i < FLOOD; i++) {
    const res = await app.request(`/cart?i=${i}`, { method: "POST" });
    const sid = res.headers.getSetCookie().find((c) => c.startsWith("sid="))!;
    cookies.push(sid.slice(0, sid.indexOf(";")));
  }
  if (cookies[0].length < 2_700) throw new Error("cookies too small");
  for (const cookie of cookies) {
    const res = await app.request("/cart", { headers: { cookie } });
    if ((await res.text()) === "0") throw new Error("cookie not read");
  }
  cookies = [];
  const heapMiB = (heap() - base) / 2 ** 20;
  // Keep the app (and its caches) alive until measured.
  if (!app) throw new Error("unreachable");
  return { heapMiB, seconds: (performance.now() - started) / 1000 };
}

const flood = await cookieFlood();
console.log(
  `cookie mode, ${
    FLOOD.toLocaleString("en")
  } distinct 2.8 KB cookies each read once: heap kept ${
    flood.heapMiB.toFixed(1)
  } MiB (${flood.seconds.toFixed(1)} s)`,
);
