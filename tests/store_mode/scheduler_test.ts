// The search of _scheduler.ts, on requests that touch a plain Map through
// the scheduler: every ordering without touches, one per class of
// equivalent orderings with them, and the same outcomes either way.
import assert from "node:assert/strict";
import { explore, type Options, Scheduler, type Touch } from "./_scheduler.ts";

type Pick = (labels: readonly string[], options?: Options) => number;

/** A request: its steps, each a call on the map through the scheduler. */
type Request = (
  call: <T>(label: string, touch: Touch, fn: () => T) => Promise<T>,
  map: Map<string, number>,
) => Promise<void>;

/** Explores `requests`, with what each call touches or without; returns the outcomes. */
async function search(requests: Request[], touches: boolean) {
  const outcomes = new Set<string>();
  const result = await explore(
    async (pick: Pick) => {
      const scheduler = new Scheduler();
      const map = new Map<string, number>();
      await scheduler.run(
        requests.map((request, i) => () =>
          request(
            (label, touch, fn) =>
              scheduler.gate(
                i,
                `${i}.${label}`,
                fn,
                touches ? touch : undefined,
              ),
            map,
          )
        ),
        (labels, options) => pick(labels, options),
      );
      return JSON.stringify([...map].sort());
    },
    (outcome) => void outcomes.add(outcome),
  );
  assert.ok(result.complete);
  return { ...result, outcomes };
}

// Reads of key `key`, `n` of them.
const reads = (key: string, n: number): Request => async (call, map) => {
  for (let i = 0; i < n; i++) {
    await call(
      `get ${key}`,
      { keys: [key], writes: false },
      () => map.get(key),
    );
  }
};

// Reads `key`, then writes what it read plus one (a lost update when two
// run at once), then marks itself done under `mark`.
const increment = (key: string, mark: string): Request => async (call, map) => {
  const seen = await call(
    `get ${key}`,
    { keys: [key], writes: false },
    () => map.get(key) ?? 0,
  );
  await call(`set ${key}`, { keys: [key], writes: true }, () => {
    map.set(key, seen + 1);
  });
  await call(`set ${mark}`, { keys: [mark], writes: true }, () => {
    map.set(mark, 1);
  });
};

Deno.test("the search: without touches every ordering, with them one per class of equivalent ones", async () => {
  // Reads commute, on any key: C(6, 3) orderings, all equivalent.
  for (const keys of [["x", "y"], ["x", "x"]]) {
    const requests = keys.map((key) => reads(key, 3));
    assert.equal((await search(requests, false)).orderings, 20);
    const reduced = await search(requests, true);
    assert.equal(reduced.orderings, 1);
  }
});

Deno.test("the search with touches reaches every outcome the full search reaches", async () => {
  const requests = [
    increment("x", "a"),
    increment("x", "b"),
    increment("y", "c"),
  ];
  const full = await search(requests, false);
  const reduced = await search(requests, true);
  // The lost update is among them: x ends at 1 or at 2.
  const xs = new Set([...full.outcomes].map((o) => JSON.parse(o)[3][1]));
  assert.deepEqual([...xs].sort(), [1, 2]);
  assert.deepEqual([...reduced.outcomes].sort(), [...full.outcomes].sort());
  assert.ok(
    reduced.orderings < full.orderings / 10,
    `${reduced.orderings} of ${full.orderings} orderings`,
  );
  console.log(
    `3 requests: ${full.orderings} orderings in full, ${reduced.orderings} (+${reduced.skipped} cut short) with touches`,
  );
});
