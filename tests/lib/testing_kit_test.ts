// The conformance kit itself (@x/hono-session/testing): it fails stores that
// break the contract, exactly in the cases that check what they break (run
// in a subprocess on the deliberately broken stores of _broken_stores.ts),
// and its options behave as documented.
import assert from "node:assert/strict";
import type { SessionRecord, SessionStore } from "../../mod.ts";
import { MemoryStore } from "../../stores/memory.ts";
import { storeConformance } from "../../testing.ts";
import { CASES, type Group } from "../../_testing/cases.ts";

// The stores of _broken_stores.ts, by the name it registers them under.
const BROKEN = {
  expired: "returns expired entries",
  unchecked: "ignores conflicts",
  plainError: "throws a plain Error on conflict",
  takenId: "replace overwrites a taken id",
  lossy: "drops created, limit and flash",
  caseFolding: "folds the case of ids",
  valuesOnly: "versions only the values",
  good: "MemoryStore (correct)",
  everyonesSessions: "lists every session as the user's",
  expiredListed: "lists expired sessions of a user",
  deleteNeedsContext: "cannot delete outside a request",
  twoStepListing: "lists ids, then records, a turn apart",
} as const;

const titles = (...groups: Group[]): string[] =>
  CASES.filter((c) => groups.includes(c.group)).map((c) => c.title);

// The device-bound cases that need checked writes: a store that does not
// refuse a stale write answers the same proof twice, binds a session to
// two keys, lets a registration bring back a session signed out, or lets
// both refreshes of one proof move the session (so the other is told it
// is over, or the identifier leads to the loser's copy).
const ONCE =
  "device-bound: the same refresh proof sent twice at once is answered once";
const TWO_KEYS =
  "device-bound: two keys answering one registration challenge at once: one binds, the other is refused and leaves nothing";
const REVIVED =
  "device-bound: a registration held while another request signs out does not bring the session back";
const AT_THE_MOVE =
  "device-bound: the same refresh proof twice, both requests at the move before either moves: one refreshes, the other is refused, and the identifier still finds the session";
const MOVED_TWICE =
  "device-bound: a regenerate() and a refresh moving the session at once: whichever wins, the identifier still finds the session";
const LOOKED_UP =
  "device-bound: the same refresh proof twice, one request looking the session up while the other moves it: one refreshes, the other is refused, never told the session is over";
const POINTED_TOO =
  "device-bound: the same refresh proof twice, the second pointing the identifier at its own key while the first moves the session: meanwhile the old cookie still reads the session, and a sign-out through it ends the session";
const CHECKED_BOUND = [
  ONCE,
  TWO_KEYS,
  REVIVED,
  AT_THE_MOVE,
  MOVED_TWICE,
  LOOKED_UP,
  POINTED_TOO,
];

interface Outcome {
  code: number;
  output: string;
  /** Per store name: its failed and passed case titles. */
  results: Map<string, { failed: Set<string>; passed: Set<string> }>;
}

let ran: Promise<Outcome> | undefined;
// One `deno test` of _broken_stores.ts, shared by the tests below.
function runBroken(): Promise<Outcome> {
  return ran ??= (async () => {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "test",
        "--allow-all",
        "--no-check",
        new URL("./_broken_stores.ts", import.meta.url).pathname,
      ],
      cwd: new URL("../../", import.meta.url),
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const output = new TextDecoder().decode(stdout) +
      new TextDecoder().decode(stderr);
    const results: Outcome["results"] = new Map();
    for (const name of Object.values(BROKEN)) {
      results.set(name, { failed: new Set(), passed: new Set() });
    }
    for (const line of output.split("\n")) {
      const m = line.match(/^(.+?) conforms: (.+) \.\.\. (ok|FAILED)/);
      const entry = m && results.get(m[1]!);
      if (!entry) continue;
      (m[3] === "ok" ? entry.passed : entry.failed).add(m[2]!);
    }
    return { code, output, results };
  })();
}

async function failedCases(name: string): Promise<string[]> {
  const { results, output } = await runBroken();
  const entry = results.get(name)!;
  assert.ok(
    entry.failed.size + entry.passed.size > 0,
    `no result for "${name}":\n${output}`,
  );
  return [...entry.failed].sort();
}

Deno.test("kit: the run on broken stores fails", async () => {
  const { code, output } = await runBroken();
  assert.notEqual(code, 0, output);
  assert.match(output, /FAILED \| \d+ passed \| \d+ failed/);
});

Deno.test("kit: a correct store passes every case", async () => {
  assert.deepEqual(await failedCases(BROKEN.good), []);
  const { results } = await runBroken();
  assert.equal(results.get(BROKEN.good)!.passed.size, CASES.length);
});

Deno.test("kit: a store claiming checksExpiry that returns expired entries fails that case only", async () => {
  assert.deepEqual(await failedCases(BROKEN.expired), titles("expiry"));
});

Deno.test("kit: a store claiming checksConflicts whose set and replace check nothing fails every checked case", async () => {
  const moves = "replace moves a session to a new id in one step";
  assert.deepEqual(
    await failedCases(BROKEN.unchecked),
    // Its moves both win, so the identifier finds one of two sessions.
    [
      ...titles("conflicts", "replace").filter((t) => t !== moves),
      ...CHECKED_BOUND.filter((t) => t !== MOVED_TWICE),
    ].sort(),
  );
  const { results } = await runBroken();
  assert.ok(results.get(BROKEN.unchecked)!.passed.has(moves));
});

Deno.test("kit: a conflict thrown as a plain Error is no SessionConflictError", async () => {
  const failed = await failedCases(BROKEN.plainError);
  assert.ok(failed.length >= titles("conflicts").length, failed.join("\n"));
  for (const title of failed) {
    assert.ok(
      [...titles("conflicts", "replace"), ...CHECKED_BOUND].includes(title),
      title,
    );
  }
  const { output } = await runBroken();
  assert.match(output, /expected a SessionConflictError .*got Error: conflict/);
});

Deno.test("kit: a replace that overwrites a taken id fails that case only", async () => {
  assert.deepEqual(await failedCases(BROKEN.takenId), [
    "replace refuses when the new id is taken; nothing changes",
  ]);
});

Deno.test("kit: a store that drops record fields fails the direct round trip", async () => {
  assert.deepEqual(await failedCases(BROKEN.lossy), [
    "get returns every field set saved",
  ]);
});

Deno.test("kit: a store whose version ignores the deadline fails the renew case, and the device-bound ones that change no value", async () => {
  // A registration changes no value either (two keys both bind), nor does
  // a change of an identifier's entry (the losing move's pointer stays).
  assert.deepEqual(
    await failedCases(BROKEN.valuesOnly),
    [
      ONCE,
      "set refuses a write based on a stale read: another request changed only the deadline",
      TWO_KEYS,
      AT_THE_MOVE,
    ].sort(),
  );
});

Deno.test("kit: a store that folds the case of ids fails the ids case", async () => {
  assert.deepEqual(await failedCases(BROKEN.caseFolding), [
    "ids that differ slightly are kept apart",
  ]);
});

Deno.test("kit: a store that lists other users' sessions, and loses those regenerate() moved, fails those cases", async () => {
  assert.deepEqual(await failedCases(BROKEN.everyonesSessions), [
    "users: a session that regenerate() moves while a listing reads the store is never missed: revokeAll and revoke end it",
    "users: a session that regenerate() moves while revokeAll or revoke runs is caught at its new id",
    "users: a user's sessions are listed with their metadata, never an id or its hash",
    "users: regenerate moves a session in the listing; sign-out and expiry take it out",
  ]);
});

Deno.test("kit: a store that lists sessions past their deadline fails the expiry case", async () => {
  assert.deepEqual(await failedCases(BROKEN.expiredListed), [
    "users: regenerate moves a session in the listing; sign-out and expiry take it out",
  ]);
});

Deno.test("kit: a store whose listing reads ids and records a turn apart fails the moving-session case only", async () => {
  assert.deepEqual(await failedCases(BROKEN.twoStepListing), [
    "users: a session that regenerate() moves while a listing reads the store is never missed: revokeAll and revoke end it",
  ]);
});

Deno.test("kit: a store whose delete needs a request's context fails every revoke case", async () => {
  assert.deepEqual(
    await failedCases(BROKEN.deleteNeedsContext),
    [
      ...titles("users", "users-race").filter((t) =>
        /revok/.test(t) && !/listed/.test(t)
      ),
      "device-bound: sign-out ends refreshes, and so does revocation (with listUser)",
    ].sort(),
  );
});

// In process, through the `test` option: what gets registered, and how a
// case runs.
interface Registered {
  name: string;
  fn: () => Promise<void>;
}
function collect(
  make: Parameters<typeof storeConformance>[1],
  options: Parameters<typeof storeConformance>[2] = {},
): Registered[] {
  const cases: Registered[] = [];
  storeConformance("S", make, {
    ...options,
    test: (name, fn) => cases.push({ name, fn }),
  });
  return cases;
}

Deno.test("kit: only the cases a store claims are registered", () => {
  const map = () => ({ store: new Map<string, SessionRecord>() });
  const basic = collect(map, {
    checksConflicts: false,
    listsUsers: false,
    deviceBound: false,
  });
  assert.deepEqual(
    basic.map((c) => c.name),
    titles("basic").map((t) => `S conforms: ${t}`),
  );
  assert.deepEqual(
    collect(map, { checksConflicts: false, deviceBound: false }).map((c) =>
      c.name
    ),
    titles("basic", "users").map((t) => `S conforms: ${t}`),
    "without listsUsers: decided when each case runs",
  );
  assert.deepEqual(
    collect(map, { checksConflicts: false, listsUsers: false }).map((c) =>
      c.name
    ),
    titles("basic", "device-bound").map((t) => `S conforms: ${t}`),
    "without deviceBound: decided when each case runs",
  );
  assert.equal(
    collect(map).length,
    titles(
      "basic",
      "conflicts",
      "replace",
      "users",
      "users-race",
      "device-bound",
    ).length,
    "without checksConflicts: decided when each case runs",
  );
  assert.equal(
    collect(map, { checksConflicts: true, checksExpiry: true }).length,
    CASES.length,
  );
});

Deno.test("kit: each case makes a fresh store and closes it, even when the case fails", async () => {
  let made = 0;
  let closed = 0;
  const cases = collect(() => {
    made++;
    const store = new Map<string, SessionRecord>();
    // Breaks the direct round trip: get returns a copy without `flash`.
    const broken: SessionStore = {
      get: (id) => {
        const r = store.get(id);
        return r && { data: r.data, expires: r.expires };
      },
      set: (id, r) => void store.set(id, r),
      delete: (id) => void store.delete(id),
    };
    return { store: broken, close: () => void closed++ };
  }, { checksConflicts: false });
  const roundTrip = cases.find((c) =>
    c.name.endsWith("every field set saved")
  )!;
  await assert.rejects(roundTrip.fn());
  const sessions = cases.find((c) =>
    c.name.endsWith("through the middleware")
  )!;
  await sessions.fn();
  assert.deepEqual([made, closed], [2, 2]);
});

Deno.test("kit: one store shared by every case passes too (each case uses ids of its own)", async () => {
  const shared = new MemoryStore({ sweepInterval: 0 });
  const cases = collect(() => ({ store: shared }), {
    checksConflicts: true,
    checksExpiry: true,
  });
  assert.equal(cases.length, CASES.length);
  for (const c of cases) await c.fn();
});

Deno.test("kit: without checksConflicts, a store with no replace() skips the checked cases when they run", async () => {
  let sets = 0;
  const cases = collect(() => {
    const store = new Map<string, SessionRecord>();
    return {
      store: {
        get: (id: string) => store.get(id),
        set: (id: string, r: SessionRecord) => void (sets++, store.set(id, r)),
        delete: (id: string) => void store.delete(id),
      },
    };
  });
  for (const c of cases) {
    if (
      titles("conflicts", "replace", "device-bound").some((t) =>
        c.name.endsWith(t)
      )
    ) {
      await c.fn();
    }
  }
  assert.equal(sets, 0, "no checked or device-bound case touched the store");
});

Deno.test("kit: a store claiming deviceBound without replace() fails those cases, saying so", async () => {
  const cases = collect(
    () => ({ store: new Map<string, SessionRecord>() }),
    { checksConflicts: false, deviceBound: true },
  );
  const bound = cases.filter((c) =>
    titles("device-bound").some((t) => c.name.endsWith(t))
  );
  assert.equal(bound.length, titles("device-bound").length);
  await assert.rejects(bound[0]!.fn(), /claims deviceBound but has no replace/);
});

Deno.test("kit: a case that hangs fails after the timeout", async () => {
  const [first] = collect(() => ({
    store: {
      get: () => new Promise<undefined>(() => {}),
      set: () => new Promise<void>(() => {}),
      delete: () => {},
    },
  }), { checksConflicts: false, timeout: 200 });
  await assert.rejects(first!.fn(), /did not finish within 200 ms/);
});

Deno.test("kit: refuses wrong arguments", () => {
  const make = () => ({ store: new MemoryStore({ sweepInterval: 0 }) });
  assert.throws(() => storeConformance("", make), TypeError);
  assert.throws(
    () => storeConformance("S", undefined as never),
    TypeError,
  );
  assert.throws(() => storeConformance("S", make, { timeout: 0 }), RangeError);
  assert.throws(
    () => storeConformance("S", make, { timeout: Infinity }),
    RangeError,
  );
  assert.throws(
    () => storeConformance("S", make, { test: "Deno.test" as never }),
    TypeError,
  );
});
