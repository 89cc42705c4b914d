// Memory of MemoryStore while a million distinct sessions come and go.
// Time is simulated: one new session a millisecond, each living 60 s, so
// about 60,000 are alive at any moment. Run with `deno task bench:memory`.
import FakeTimers from "@sinonjs/fake-timers";
import { MemoryStore } from "../stores/memory.ts";
import type { SessionRecord, SessionStore } from "../mod.ts";

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
