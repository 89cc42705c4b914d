// Every interleaving of the store calls of concurrent requests on one
// device-bound session, run through the real middleware: the same refresh
// proof twice (a browser's retry, or a replay racing the browser), a
// refresh racing a regenerate() or a sign-out of a tab, or the browser
// asking for a challenge, and the same proof twice racing a sign-out or a
// regenerate(). The scheduler of tests/store_mode/_scheduler.ts parks each
// store call until it picks it, and a depth-first search runs every
// ordering once, but for orderings that only swap calls that commute (two
// reads, or calls on different keys): of those it runs one. Two requests
// have tens of such orderings; three have tens of thousands (minutes per
// store), so `deno task test` runs a seeded random sample of those, and
// INTERLEAVINGS=all runs them all. After each ordering:
//
//  1. A challenge is answered once: at most one refresh is granted (a 200
//     with the session config), and one is, unless a sign-out answered 2xx.
//  2. A refresh, or a request for a challenge, is told the session is over
//     (`{"continue": false}`, which makes the browser drop the session)
//     only after a sign-out answered 2xx: a move under way is never taken
//     for the end of the session.
//  3. No 5xx; a refresh that is not granted gets a 403 (or the session is
//     over); a request for a challenge gets a 403 with one; a regenerate()
//     that is not done gets a 409.
//  4. Without a sign-out, the session lives on as one live entry, and the
//     key holder's next refresh finds it by its identifier (a new
//     challenge, a new proof, a new cookie that reads the user). After a
//     sign-out answered 2xx, no live entry is left and a refresh is told
//     the session is over.
//  5. The cookie from before the race reads the session afterwards (the
//     refresh forwarded it: it was live) unless a sign-out or a
//     regenerate() answered 200; then it reads nothing. A regenerate()
//     that answered 200 moved the session: the tab's new cookie reads it.
//
// Stores: every kind of tests/store_mode/_store_kinds.ts that checks its
// writes (a Map has no `replace`, which device-bound sessions need).
import assert from "node:assert/strict";
import type { Context } from "hono";
import type { SessionRecord, SessionStore } from "../../mod.ts";
import { testApp } from "../../_testing/app.ts";
import { Jar } from "../../_testing/jar.ts";
import {
  type BrowserKey,
  DbscBrowser,
  makeKey,
  signProof,
} from "../../_testing/dbsc_browser.ts";
import { withFakeTime } from "../_helpers.ts";
import {
  explore,
  type Options,
  sample,
  Scheduler,
} from "../store_mode/_scheduler.ts";
import { kindName, STORE_KINDS } from "../store_mode/_store_kinds.ts";

type Op = "refresh" | "challenge" | "regenerate" | "signout";

const NAMES = "ABC";
const USER = "dbsc-interleaving";
const REFRESH = "/__dbsc/sid/refresh";

/** One app for every ordering, on a wrapper whose real store changes. */
class Bench {
  real: SessionStore;
  scheduler: Scheduler = new Scheduler();
  /** Every key written (`set`, or the new key of `replace`). */
  written: Set<string> = new Set();
  readonly app: ReturnType<typeof testApp>["app"];

  constructor(real: SessionStore) {
    this.real = real;
    this.app = testApp({ store: gated(this), deviceBound: { lifetime: 60 } })
      .app;
  }

  reset(real: SessionStore): void {
    this.real = real;
    this.scheduler = new Scheduler();
    this.written = new Set();
  }
}

// What a key is, for the labels: the search replays orderings by label, so
// labels name no random id.
function kindOf(key: string): string {
  return key.includes(":dbsc")
    ? "pointer"
    : key.endsWith(":moved")
    ? "forward"
    : "session";
}

// The real store behind a wrapper that parks every call of a scheduled
// request (told by its x-request header) until the scheduler releases it.
// Each call says which keys it touches, so the search runs one of the
// orderings that differ only by swapping calls that commute: a write of a
// session's record touches the user's index too.
function gated(bench: Bench): SessionStore {
  const who = (c: Context | undefined): number | undefined => {
    const header = c?.req.header("x-request");
    return header === undefined ? undefined : Number(header);
  };
  const gate = <T>(
    c: Context | undefined,
    method: string,
    keys: readonly string[],
    call: () => T | Promise<T>,
  ) => {
    const request = who(c);
    const label = `${NAMES[request ?? 0]}.${method} ${kindOf(keys[0]!)}`;
    const writes = method !== "get";
    const touched = writes && keys.some((key) => kindOf(key) === "session")
      ? [...keys, "user index"]
      : keys;
    return bench.scheduler.gate(request, label, call, {
      keys: touched,
      writes,
    });
  };
  return {
    get: (key, c) => gate(c, "get", [key], () => bench.real.get(key, c)),
    set: (key, record, c) =>
      gate(c, "set", [key], () => {
        bench.written.add(key);
        return bench.real.set(key, record, c);
      }),
    delete: (key, c) =>
      gate(c, "delete", [key], () => bench.real.delete(key, c)),
    replace: (from, to, record, c) =>
      gate(c, "replace", [from, to], () => {
        bench.written.add(to);
        return bench.real.replace!(from, to, record, c);
      }),
  };
}

function live(record: unknown): record is SessionRecord {
  return typeof record === "object" && record !== null &&
    (record as SessionRecord).expires > Date.now();
}

/** Runs one ordering of `ops` on a fresh store; returns what went wrong. */
async function runOrdering(
  bench: Bench,
  fresh: () => SessionStore,
  key: BrowserKey,
  ops: readonly Op[],
  pick: (labels: readonly string[], options?: Options) => number,
): Promise<string[]> {
  const problems: string[] = [];
  await withFakeTime(async (clock) => {
    bench.reset(fresh());
    const { app } = bench;
    // Signed in and registered; a challenge signed, and a tab holding the
    // session's cookies.
    const browser = new DbscBrowser(app, key);
    const signin = await browser.fetch(`/signin?user=${USER}`, {
      method: "POST",
    });
    assert.equal(signin.status, 200);
    assert.ok(browser.config, "registered");
    const id = browser.config.session_identifier;
    const proof = await signProof(key, await browser.challenge());
    const tab = new Jar(app);
    for (const [k, v] of browser.jar.cookies) tab.cookies.set(k, v);
    // The cookies as they were before the race, replayed after it.
    const old = new Jar(app);
    for (const [k, v] of browser.jar.cookies) old.cookies.set(k, v);

    const responses = await bench.scheduler.run(
      ops.map((op, i) => () => {
        const headers: Record<string, string> = { "x-request": String(i) };
        if (op === "refresh" || op === "challenge") {
          headers["sec-secure-session-id"] = `"${id}"`;
          if (op === "refresh") {
            headers["secure-session-response"] = `"${proof}"`;
          }
          return new Jar(app).fetch(REFRESH, { method: "POST", headers });
        }
        const path = op === "regenerate" ? "/regenerate" : "/logout";
        return tab.fetch(path, { method: "POST", headers });
      }),
      (labels, options) => {
        clock.tick(1);
        return pick(labels, options);
      },
    );

    // Whether a sign-out answered 2xx (it ended the session, if it found
    // it; what the store holds tells, below).
    const signedOut = responses.some((res, i) =>
      ops[i] === "signout" && !(res instanceof Error) && res.status === 200
    );
    let granted = 0;
    for (const [i, res] of responses.entries()) {
      const who = `${NAMES[i]} (${ops[i]})`;
      if (res instanceof Error) {
        problems.push(`${who} threw ${res.name}: ${res.message}`);
        continue;
      }
      const body = await res.text();
      if (ops[i] === "regenerate" || ops[i] === "signout") {
        if (res.status !== 200 && res.status !== 409) {
          problems.push(`${who} answered ${res.status}: ${body}`);
        }
        continue;
      }
      if (
        ops[i] === "challenge" && res.status === 403 &&
        res.headers.has("secure-session-challenge")
      ) continue;
      if (
        ops[i] === "refresh" && res.status === 200 &&
        body.includes("session_identifier")
      ) granted++;
      else if (res.status === 200 && body.includes('"continue":false')) {
        if (!signedOut) {
          problems.push(
            `${who} was told the session is over, with no sign-out`,
          );
        }
      } else if (ops[i] === "challenge" || res.status !== 403) {
        problems.push(`${who} answered ${res.status}: ${body}`);
      }
    }
    if (granted > 1) problems.push(`one proof granted ${granted} refreshes`);
    // The cookie from before the race: forwarded by the refresh (it was
    // live), unless a sign-out or a regenerate() that answered 200 ended
    // it. A regenerate() that answered 200 moved the session: the tab's
    // new cookie reads it (forwarded, if a refresh moved it on since).
    const regenerated = responses.some((res, i) =>
      ops[i] === "regenerate" && !(res instanceof Error) && res.status === 200
    );
    const replayed = await (await old.fetch("/read")).text();
    const expected = signedOut || regenerated ? "-" : USER;
    if (replayed !== expected) {
      problems.push(`the cookie from before reads ${replayed}`);
    }
    if (regenerated) {
      const now = await (await tab.fetch("/read")).text();
      if (now !== USER) problems.push(`the regenerated cookie reads ${now}`);
    }
    if (signedOut) {
      // A sign-out that answered 2xx has ended the session, wherever a
      // refresh or a regenerate() moved it.
      for (const key of bench.written) {
        const got = await bench.real.get(key, undefined as never);
        if (live(got) && !key.endsWith(":moved")) {
          problems.push(`signed out, yet a live ${kindOf(key)} entry`);
        }
      }
      const res = await browser.refresh();
      if (!(res.status === 200 && (await res.json()).continue === false)) {
        problems.push(`after the sign-out a refresh answered ${res.status}`);
      }
      return;
    }
    if (granted === 0 && ops.includes("refresh")) {
      problems.push("the proof of a live challenge was granted no refresh");
    }
    let sessions = 0;
    for (const key of bench.written) {
      const got = await bench.real.get(key, undefined as never);
      if (live(got) && got.data.userId === USER) sessions++;
    }
    if (sessions !== 1) problems.push(`${sessions} live sessions`);
    // The key holder refreshes on: the identifier finds the session.
    browser.jar.cookies.delete("sid");
    const again = await browser.refresh();
    if (again.status !== 200 || browser.config === undefined) {
      problems.push(`the next refresh answered ${again.status}`);
    } else if ((await (await browser.fetch("/read")).text()) !== USER) {
      problems.push("the next refresh's cookie does not read the session");
    }
  });
  return problems;
}

// Every ordering of two requests: tens of them per pair.
const PAIRS: Op[][] = [
  ["refresh", "refresh"],
  ["refresh", "regenerate"],
  ["refresh", "signout"],
  ["refresh", "challenge"],
];

// Three requests: SAMPLE seeded random orderings, or with INTERLEAVINGS=all
// every one.
const TRIPLES: Op[][] = [
  ["refresh", "refresh", "signout"],
  ["refresh", "refresh", "regenerate"],
];
const ALL = Deno.env.get("INTERLEAVINGS") === "all";
const SAMPLE = 100;
const SEED = 22;

for (const kind of STORE_KINDS.filter((k) => k.checksWrites)) {
  Deno.test({
    name: `device-bound interleavings on ${kindName(kind)}`,
    ignore: kind.ignore,
    async fn(t) {
      const opened = await kind.open();
      const key = await makeKey("ES256");
      try {
        for (const ops of [...PAIRS, ...TRIPLES]) {
          const every = ALL || ops.length === 2;
          const name = ops.map((op, i) => `${NAMES[i]}=${op}`).join(" ");
          await t.step(name, async () => {
            const bench = new Bench(opened.fresh());
            const run = (pick: Parameters<typeof runOrdering>[4]) =>
              runOrdering(bench, opened.fresh, key, ops, pick);
            let failed = 0;
            const examples: string[] = [];
            const visit = (problems: string[], ordering: readonly string[]) => {
              if (problems.length === 0) return;
              failed++;
              if (examples.length < 3) {
                examples.push(
                  `${ordering.join(", ")}\n      ${problems.join("; ")}`,
                );
              }
            };
            let orderings: number;
            if (every) {
              const result = await explore(run, visit);
              assert.ok(result.complete);
              orderings = result.orderings;
              console.log(
                `${kind.name} ${name}: ${orderings} orderings (${result.skipped} more runs cut short as equivalent), ${failed} failed`,
              );
            } else {
              orderings = await sample(run, visit, SAMPLE, SEED);
              console.log(
                `${kind.name} ${name}: ${orderings} random orderings (seed ${SEED}), ${failed} failed`,
              );
            }
            assert.ok(
              failed === 0,
              `${failed}/${orderings} orderings failed, e.g.\n    ${
                examples.join("\n    ")
              }`,
            );
          });
        }
      } finally {
        await opened.close();
      }
    },
  });
}
