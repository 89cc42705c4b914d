// Every interleaving of the store calls of two (and, for some triples,
// three) concurrent requests on one session, run through the real
// middleware: sign-in, sign-out, regenerate, write, renew and flash. A
// scheduler (tests/_scheduler.ts) parks each store call until it picks it,
// and a stateless depth-first search runs every ordering once. After each
// ordering the store's real contents and the responses must keep the
// promises of issue 10:
//
//  1. A signed-out session is never readable again: if a sign-out answered
//     2xx and its delete removed an entry that existed then, no live entry
//     carries the session's lineage. (If a regenerate had already moved the
//     session, the delete removed nothing: the regenerate came first and its
//     new id may live on.)
//  2. Every live id was issued by a 2xx response (or is the setup's id).
//  3. A change answered with 2xx is never silently lost: with no sign-out
//     answered 2xx, the lineage lives on, with `n` = the writes that found
//     the session and answered 2xx.
//  4. One sign-in is at most one live session: at most one live entry per
//     lineage.
//  5. No 5xx; every non-2xx is a 409, and a 409 sets no session cookie
//     (no new id, no deletion: nothing was saved, the browser keeps its
//     cookies).
//
// Stores (_store_kinds.ts): MemoryStore, DenoKvStore (":memory:"),
// RedisStore (a real redis-server, and a real three-master Redis Cluster
// with each cluster client; ignored when none is installed), SqlStore on
// PostgreSQL (a real server, ignored when none is installed) and on SQLite
// (node:sqlite), and a plain Map. A Map cannot tell that an entry changed
// since a request read it (the last write wins, SECURITY.md says so), so
// under races it promises only 2 and 5: 1, 3 and 4 are not checked for it.
//
// Each ordering starts from a fresh store holding one signed-in session
// ({ user, lineage: "L1", n: 0 }, made by a setup request); the concurrent
// requests all carry its cookie. Run with today's middleware (regenerate()
// as set + delete, equal values merged as agreement) some orderings fail:
// that is the point.
import assert from "node:assert/strict";
import { Hono } from "hono";
import type { Context } from "hono";
import {
  session,
  SessionConflictError,
  type SessionRecord,
  type SessionStore,
} from "../../mod.ts";
import { MemoryStore } from "../../stores/memory.ts";
import { setCookies, storeKey } from "../_helpers.ts";
import FakeTimers from "@sinonjs/fake-timers";
import { explore, Scheduler } from "./_scheduler.ts";
import { kindName, STORE_KINDS, type StoreKind } from "./_store_kinds.ts";

const OPS = [
  "signin",
  "signout",
  "regenerate",
  "write",
  "renew",
  "flash",
] as const;
type Op = typeof OPS[number];

const LINEAGE = "L1";
const NAMES = "ABC";

interface Values {
  user?: string;
  lineage?: string;
  n?: number;
  msg?: string;
}

function makeApp(store: SessionStore): Hono {
  const app = new Hono()
    .use(session<Values>({ store }))
    .post("/setup", (c) => {
      c.session.user = "alice";
      c.session.lineage = LINEAGE;
      c.session.n = 0;
      return c.text("ok");
    })
    .post("/signin", (c) => {
      c.session.regenerate();
      c.session.user = "alice";
      return c.text("ok");
    })
    .post("/signout", (c) => {
      c.session = null;
      return c.text("ok");
    })
    .post("/regenerate", (c) => {
      c.session.regenerate();
      return c.text("ok");
    })
    .post("/write", (c) => {
      c.session.n = (c.session.n ?? 0) + 1;
      return c.text("ok");
    })
    .post("/renew", (c) => {
      c.session.renew();
      return c.text("ok");
    })
    .post("/flash", (c) => {
      c.session.flash("msg", "hi");
      return c.text("ok");
    });
  app.onError((err, c) =>
    err instanceof SessionConflictError
      ? c.text("conflict", 409)
      : c.text(`${err.name}: ${err.message}`, 500)
  );
  return app as unknown as Hono;
}

/** What the store wrapper saw during one ordering. */
interface Probe {
  /** Every key written (`set`, or the new id of `replace`). */
  written: Set<string>;
  /** Each request's deletes, and whether a live entry was there then. */
  deletes: { request: number; key: string; existed: boolean }[];
  /** Per request: whether its first `get` (its load) found the session. */
  loaded: Map<number, boolean>;
}

function live(record: unknown): record is SessionRecord {
  return typeof record === "object" && record !== null &&
    (record as SessionRecord).expires > Date.now();
}

/**
 * One app for all orderings of a scenario, on a store wrapper whose real
 * store, scheduler and probe are fresh for each ordering.
 */
class Bench {
  real: SessionStore;
  scheduler: Scheduler = new Scheduler();
  probe: Probe = { written: new Set(), deletes: [], loaded: new Map() };
  readonly app: Hono;

  constructor(real: SessionStore) {
    this.real = real;
    this.app = makeApp(gated(this));
  }

  /** Starts an ordering on `real`, a fresh, empty store. */
  reset(real: SessionStore): void {
    this.real = real;
    this.scheduler = new Scheduler();
    this.probe = { written: new Set(), deletes: [], loaded: new Map() };
  }
}

// The real store behind a wrapper that parks every call of a scheduled
// request (told by its x-request header) until the scheduler releases it.
// The wrapper has `replace` when the real store has it: every store of one
// bench is of one kind.
function gated(bench: Bench): SessionStore {
  const who = (c: Context | undefined): number | undefined => {
    const header = c?.req.header("x-request");
    return header === undefined ? undefined : Number(header);
  };
  const label = (c: Context | undefined, method: string): string => {
    const request = who(c);
    return request === undefined ? method : `${NAMES[request]}.${method}`;
  };
  const store: SessionStore = {
    get: (id, c) =>
      bench.scheduler.gate(who(c), label(c, "get"), async () => {
        const record = await bench.real.get(id, c);
        const request = who(c);
        if (request !== undefined && !bench.probe.loaded.has(request)) {
          bench.probe.loaded.set(
            request,
            live(record) && record.data.lineage === LINEAGE,
          );
        }
        return record;
      }),
    set: (id, record, c) =>
      bench.scheduler.gate(who(c), label(c, "set"), () => {
        bench.probe.written.add(id);
        return bench.real.set(id, record, c);
      }),
    delete: (id, c) =>
      bench.scheduler.gate(who(c), label(c, "delete"), async () => {
        // Calls run one at a time: what is there now is what the delete
        // removes.
        const existed = live(await bench.real.get(id, undefined as never));
        const request = who(c);
        if (request !== undefined) {
          bench.probe.deletes.push({ request, key: id, existed });
        }
        return await bench.real.delete(id, c);
      }),
  };
  if (typeof bench.real.replace === "function") {
    store.replace = (oldId, newId, record, c) =>
      bench.scheduler.gate(who(c), label(c, "replace"), () => {
        bench.probe.written.add(newId);
        return bench.real.replace!(oldId, newId, record, c);
      });
  }
  return store;
}

/** A broken promise, with what shows it. */
interface Violation {
  invariant: number;
  detail: string;
}

/** The invariants each kind of store promises under races. */
function invariantsOf(kind: StoreKind): ReadonlySet<number> {
  return kind.checksWrites ? new Set([1, 2, 3, 4, 5]) : new Set([2, 5]);
}

/**
 * Runs one ordering of `ops` (picked by `pick`) on a fresh store holding one
 * signed-in session, and returns the broken invariants among `check`.
 *
 * The clock is fake (Date only) and moves 1 ms per store call released, so
 * an ordering always sees the same times: a store that compares values
 * (RedisStore) would otherwise see a renew in the same millisecond as the
 * setup as no change at all, and the number of calls would depend on
 * timing.
 */
async function runOrdering(
  bench: Bench,
  fresh: () => SessionStore,
  ops: readonly Op[],
  check: ReadonlySet<number>,
  pick: (labels: readonly string[]) => number,
): Promise<Violation[]> {
  const clock = FakeTimers.install({
    now: Date.UTC(2026, 0, 1),
    toFake: ["Date"],
  });
  try {
    bench.reset(fresh());
    return await checkOrdering(bench, ops, check, (labels) => {
      clock.tick(1);
      return pick(labels);
    });
  } finally {
    clock.uninstall();
  }
}

async function checkOrdering(
  { app, real, scheduler, probe }: Bench,
  ops: readonly Op[],
  check: ReadonlySet<number>,
  pick: (labels: readonly string[]) => number,
): Promise<Violation[]> {
  const setup = await app.request("/setup", { method: "POST" });
  assert.equal(setup.status, 200, await setup.text());
  const token = setCookies(setup).find((s) => s.name === "sid")?.value;
  assert.ok(token, "the setup request issued a session cookie");
  const setupKey = storeKey(token);

  const responses = await scheduler.run(
    ops.map((op, i) => () =>
      app.request(`/${op}`, {
        method: "POST",
        headers: { cookie: `sid=${token}; sx=1`, "x-request": String(i) },
      })
    ),
    pick,
  );

  // The store's contents now, over every key written.
  const entries = new Map<string, SessionRecord>();
  for (const key of probe.written) {
    const record = await real.get(key, undefined as never);
    if (live(record)) entries.set(key, record);
  }
  const lineage = [...entries].filter(([, r]) => r.data.lineage === LINEAGE);

  const violations: Violation[] = [];
  const fail = (invariant: number, detail: string) => {
    if (check.has(invariant)) violations.push({ invariant, detail });
  };
  const issued = new Set([setupKey]);
  const ok: boolean[] = [];
  for (const [i, res] of responses.entries()) {
    const who = `${NAMES[i]} (${ops[i]})`;
    if (res instanceof Error) {
      ok.push(false);
      fail(5, `${who} threw ${res.name}: ${res.message}`);
      continue;
    }
    const body = await res.text();
    const success = res.status >= 200 && res.status < 300;
    ok.push(success);
    const cookies = setCookies(res);
    if (success) {
      for (const cookie of cookies) {
        if (cookie.name === "sid" && cookie.maxAge !== 0) {
          issued.add(storeKey(cookie.value));
        }
      }
    } else if (res.status !== 409) {
      fail(5, `${who} answered ${res.status}: ${body}`);
    } else if (cookies.some((s) => s.name === "sid" || s.name === "sx")) {
      // Nothing was saved: the browser's cookies stay as they were.
      fail(5, `${who} answered 409 and set ${cookies.map((s) => s.raw)}`);
    }
  }
  const signedOut = ops.some((op, i) =>
    op === "signout" && ok[i] &&
    probe.deletes.some((d) => d.request === i && d.existed)
  );
  if (signedOut && lineage.length > 0) {
    fail(1, `signed out, yet ${lineage.length} live entry of the lineage`);
  }
  for (const key of entries.keys()) {
    if (!issued.has(key)) fail(2, "a live id no 2xx response issued");
  }
  if (!ops.some((op, i) => op === "signout" && ok[i])) {
    // Writes that answered 2xx on this session: a write that came after a
    // regenerate had moved the session found no session under its cookie
    // and started a new one, outside the lineage (as a lone request would).
    const writes = ops.filter((op, i) =>
      op === "write" && ok[i] && probe.loaded.get(i)
    ).length;
    if (lineage.length === 0) {
      fail(3, `the session is gone (${writes} write(s) answered 2xx)`);
    }
    for (const [, record] of lineage) {
      if (record.data.n !== writes) {
        fail(3, `n = ${record.data.n} after ${writes} write(s) answered 2xx`);
      }
    }
  }
  if (lineage.length > 1) fail(4, `${lineage.length} live entries`);
  return violations;
}

const INVARIANTS: Record<number, string> = {
  1: "signed-out session readable again",
  2: "live id never issued by a 2xx response",
  3: "a 2xx change lost",
  4: "more than one live session per sign-in",
  5: "5xx, non-409 failure, or 409 with a session cookie",
};

/** Every ordering of `ops`, with the violations found. */
async function exploreScenario(
  fresh: () => SessionStore,
  ops: readonly Op[],
  check: ReadonlySet<number>,
  limit?: number,
) {
  const found = new Map<number, { count: number; examples: string[] }>();
  const paths: string[] = [];
  const bench = new Bench(fresh());
  const result = await explore(
    (pick) => runOrdering(bench, fresh, ops, check, pick),
    (violations, ordering) => {
      const text = ordering.join(" ");
      paths.push(text);
      for (const invariant of new Set(violations.map((v) => v.invariant))) {
        const entry = found.get(invariant) ?? { count: 0, examples: [] };
        entry.count++;
        if (entry.examples.length < 2) {
          const details = violations.filter((v) => v.invariant === invariant)
            .map((v) => v.detail);
          entry.examples.push(`${text}  [${details.join("; ")}]`);
        }
        found.set(invariant, entry);
      }
    },
    limit,
  );
  return { ...result, found, paths };
}

function scenarioName(ops: readonly Op[]): string {
  return ops.map((op, i) => `${NAMES[i]}=${op}`).join(" ");
}

// Every pair of operations (21), and seven of the 56 triples, those that mix
// the dangerous operations: all 56 would multiply the run time several times
// over (each triple has 90 to 700 orderings).
const PAIRS: Op[][] = OPS.flatMap((a, i) => OPS.slice(i).map((b) => [a, b]));
const TRIPLES: Op[][] = [
  ["write", "write", "write"],
  ["signout", "write", "write"],
  ["signin", "signout", "write"],
  ["signin", "regenerate", "write"],
  ["regenerate", "regenerate", "signout"],
  ["regenerate", "write", "flash"],
  ["signout", "renew", "flash"],
];
/** Safety bound per triple, in case a middleware makes many more calls. */
const TRIPLE_LIMIT = 2_000;

for (const kind of STORE_KINDS) {
  Deno.test({
    name: `interleavings on ${kindName(kind)}`,
    ignore: kind.ignore,
    async fn(t) {
      const opened = await kind.open();
      const totals = { pairs: 0, triples: 0, capped: 0 };
      const started = performance.now();
      try {
        for (const ops of [...PAIRS, ...TRIPLES]) {
          const triple = ops.length === 3;
          const name = scenarioName(ops);
          await t.step(name, async () => {
            const r = await exploreScenario(
              opened.fresh,
              ops,
              invariantsOf(kind),
              triple ? TRIPLE_LIMIT : undefined,
            );
            totals[triple ? "triples" : "pairs"] += r.orderings;
            if (!r.complete) totals.capped++;
            console.log(
              `${kind.name} ${name}: ${r.orderings} orderings${
                r.complete ? "" : ` (stopped at the limit of ${TRIPLE_LIMIT})`
              }`,
            );
            const report: string[] = [];
            const found = [...r.found].sort(([a], [b]) => a - b);
            for (const [invariant, { count, examples }] of found) {
              report.push(
                `invariant ${invariant} (${
                  INVARIANTS[invariant]
                }) broken in ${count}/${r.orderings} orderings, e.g.\n    ${
                  examples.join("\n    ")
                }`,
              );
            }
            if (report.length > 0) {
              console.log(`  ${report.join("\n  ")}`);
              assert.fail(`${kind.name} ${name}: ${report.join("\n")}`);
            }
          });
        }
      } finally {
        await opened.close();
      }
      console.log(
        `${kind.name}: ${PAIRS.length} pairs, ${totals.pairs} orderings; ${TRIPLES.length} triples, ${totals.triples} orderings${
          totals.capped ? ` (${totals.capped} stopped at the limit)` : ""
        }; ${Math.round(performance.now() - started)} ms`,
      );
    },
  });
}

function multinomial(counts: readonly number[]): number {
  let result = 1;
  let total = 0;
  for (const k of counts) {
    for (let i = 1; i <= k; i++) result = (result * ++total) / i;
  }
  return result;
}

// n sign-outs (get, then delete if the get found the session): the first
// delete comes after k of the gets (1 <= k <= n; which ones: C(n, k), in k!
// orders, the first delete by one of those k); after it, the other k - 1
// deletes and the n - k gets that find nothing come in any order: (n - 1)!.
function signOutOrderings(n: number): number {
  const factorial = (m: number): number => m <= 1 ? 1 : m * factorial(m - 1);
  let total = 0;
  for (let k = 1; k <= n; k++) {
    total += factorial(n) / factorial(n - k) * k * factorial(n - 1);
  }
  return total;
}

// The search runs every interleaving exactly once. For two requests the
// count is the multinomial coefficient of the calls each makes alone, as
// long as a request's extra calls (a conflict's reload and retry) only come
// once the other has finished: two writes (get, set) give C(4, 2) = 6
// whether the later set conflicts or not, since the earlier set is its
// request's last call; a sign-out whose get finds nothing skips its delete,
// its last call. Three sign-outs: see signOutOrderings, 66.
Deno.test("the search runs every interleaving exactly once (MemoryStore)", async () => {
  const fresh = () => new MemoryStore({ sweepInterval: 0 });
  const cases: [Op[], (solo: number[]) => number][] = [
    [["write", "write"], multinomial],
    [["signout", "signout"], multinomial],
    [["signout", "write"], multinomial],
    [["write", "renew"], multinomial],
    [["signout", "signout", "signout"], () => signOutOrderings(3)],
  ];
  for (const [ops, expect] of cases) {
    const solo: number[] = [];
    for (const op of ops) {
      let calls = 0;
      await runOrdering(
        new Bench(fresh()),
        fresh,
        [op],
        new Set(),
        () => (calls++, 0),
      );
      solo.push(calls);
    }
    const expected = expect(solo);
    const r = await exploreScenario(fresh, ops, new Set());
    console.log(
      `MemoryStore ${
        scenarioName(ops)
      }: ${r.orderings} orderings, expected ${expected} (calls alone: ${
        solo.join(" + ")
      })`,
    );
    assert.ok(r.complete);
    assert.equal(r.orderings, expected);
    assert.equal(new Set(r.paths).size, r.orderings, "no ordering twice");
  }
});
