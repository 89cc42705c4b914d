/**
 * A conformance kit for session stores: one call registers the cases a
 * store must pass to work with `session({ store })`, through a real Hono
 * app and by calling the store directly.
 *
 * It registers its cases with `node:test`, so the same test file runs under
 * `deno test`, `node --test` and `bun test`; it needs nothing but this
 * package and `hono`. Every store passes the basic cases (round trip,
 * update, sign-out, expiry, unknown ids, concurrent sessions, a large value,
 * ids kept apart, two middleware instances on one store). A store that
 * claims more is held to it: checked writes and `replace` with
 * `checksConflicts`, its own expiry check with `checksExpiry`, a user's
 * sessions with `listsUsers`, device-bound sessions with `deviceBound`.
 *
 * Each case calls your factory for a store and closes it after; the store
 * may be a fresh one or the same database every time, since each case uses
 * new random ids. Expiry is tested in real time: no case waits more than
 * about half a second.
 *
 * @example A Map store (save as `map_store_test.ts`, run `deno test`)
 * ```ts
 * import type { SessionRecord } from "@x/hono-session";
 * import { storeConformance } from "@x/hono-session/testing";
 *
 * storeConformance(
 *   "Map",
 *   () => ({ store: new Map<string, SessionRecord>() }),
 *   { checksConflicts: false },
 * );
 * ```
 *
 * @module
 */
import { test as nodeTest } from "node:test";
import type { SessionStore } from "./mod.ts";
import { CASES, type Group } from "./_testing/cases.ts";

/**
 * A store for one conformance case, and how to dispose of it.
 *
 * @example A store on a database opened for the case
 * ```ts
 * import type { StoreUnderTest } from "@x/hono-session/testing";
 * import { DenoKvStore } from "@x/hono-session/stores/deno-kv";
 *
 * async function make(): Promise<StoreUnderTest> {
 *   const kv = await Deno.openKv(":memory:");
 *   return { store: new DenoKvStore(kv), close: () => kv.close() };
 * }
 * ```
 */
export interface StoreUnderTest {
  /**
   * The store to check. It need not be empty, nor new for each case:
   * every case uses new random ids (and may leave its entries behind).
   */
  store: SessionStore;
  /**
   * Called once the case is over, passed or failed: close connections,
   * stop timers, remove files. May return a promise, which is awaited.
   */
  close?: (() => unknown) | undefined;
}

/**
 * What a store claims beyond the basic contract, and how to run the cases.
 *
 * @example A shared store that refuses stale writes and drops expired entries
 * ```ts
 * import type { StoreConformanceOptions } from "@x/hono-session/testing";
 *
 * const options: StoreConformanceOptions = {
 *   checksConflicts: true,
 *   checksExpiry: true,
 *   timeout: 10_000,
 * };
 * ```
 */
export interface StoreConformanceOptions {
  /**
   * The store refuses a write based on a stale read: its `set` throws a
   * `SessionConflictError` when the entry was changed, deleted or created
   * by another request since the same request's `get` (the context passed
   * to both identifies the request). With `true` the checked-write cases
   * run, and the `replace` cases too if the store has `replace`: it moves
   * a session atomically, refuses (changing nothing) when the old entry
   * changed or vanished or the new id is taken, and a sign-out racing a
   * `regenerate()` is never undone.
   *
   * Default: whether the store has a `replace` method, looked at when each
   * case runs (a case that then does not apply ends at once, and the runner
   * reports it as passed). `false` registers these cases as skipped.
   */
  checksConflicts?: boolean | undefined;
  /**
   * The store's own `get` never returns an entry past its `expires`, even
   * while the backend still holds it. The contract does not require it
   * (the middleware checks the deadline too), so it is only checked when
   * claimed. Default: `false`.
   */
  checksExpiry?: boolean | undefined;
  /**
   * The store lists a user's sessions (`listUser`), for `userSessions()`:
   * sessions tied with `regenerate({ user })` are listed with their
   * metadata and never an id or its hash, revoked one, all or all but the
   * current one (also from a second app on the store), moved by
   * `regenerate()`, gone after sign-out and expiry; with
   * `checksConflicts`, a request running while its session is revoked
   * cannot bring it back, and a session that `regenerate()` moves while a
   * listing reads the store is never missed (revokeAll and revoke end it,
   * and count it once).
   *
   * Default: whether the store has a `listUser` method, looked at when
   * each case runs. `false` registers these cases as skipped.
   */
  listsUsers?: boolean | undefined;
  /**
   * The store carries device-bound sessions (`session({ store,
   * deviceBound })`): a browser speaking DBSC registers and refreshes, the
   * session moves to a new id at each refresh, a copied cookie stops
   * working after the lifetime, the cookie an early refresh replaced
   * still finds the session until its deadline, forged and replayed proofs
   * change nothing, the same proof twice at once is answered once, one
   * challenge binds one key, a registration does not bring back a session
   * signed out meanwhile, two moves at once (the same proof twice, a
   * refresh and a `regenerate()`) leave the session refreshable, sign-out
   * (also while a refresh moves the session) and revocation end refreshes.
   * It takes `replace`, checked like `set`. Some of these cases wait a
   * second or two each.
   *
   * Default: whether the store has a `replace` method, looked at when each
   * case runs. `false` registers these cases as skipped.
   */
  deviceBound?: boolean | undefined;
  /**
   * The most one case may take, in milliseconds, making and closing the
   * store included; a case that takes longer fails. Default: `30_000`.
   */
  timeout?: number | undefined;
  /**
   * Registers one case with a test runner. Default: `test` from
   * `node:test`, which `deno test`, `node --test` and `bun test` all run.
   * Pass another runner's (`Deno.test`, vitest's `it`) to use it instead;
   * cases that do not apply are then not registered at all.
   */
  test?: ((name: string, fn: () => Promise<void>) => unknown) | undefined;
}

/**
 * Registers the conformance cases for the store `make` creates: one test
 * per case, named `"<name> conforms: <case>"`. `make` is called once per
 * case.
 *
 * @param name The store's name, at the start of every test's name.
 * @param make Creates the store for one case, and says how to close it.
 * @param options What the store claims beyond the basic contract; see
 *   {@linkcode StoreConformanceOptions}.
 * @throws {TypeError} When `name` is not a non-empty string, `make` or
 *   `options.test` is not a function.
 * @throws {RangeError} When `options.timeout` is not a positive number.
 *
 * @example A store module's test file, for `deno test` and `node --test`
 * ```ts
 * import { storeConformance } from "@x/hono-session/testing";
 * import { MemoryStore } from "@x/hono-session/stores/memory";
 *
 * storeConformance("MemoryStore", () => {
 *   const store = new MemoryStore();
 *   return { store, close: () => store.close() };
 * }, { checksConflicts: true, checksExpiry: true });
 * ```
 */
export function storeConformance(
  name: string,
  make: () => StoreUnderTest | Promise<StoreUnderTest>,
  options: StoreConformanceOptions = {},
): void {
  if (typeof name !== "string" || name === "") {
    throw new TypeError("storeConformance: name must be a non-empty string");
  }
  if (typeof make !== "function") {
    throw new TypeError(
      "storeConformance: make must be a function returning { store, close? }",
    );
  }
  const { checksConflicts, checksExpiry = false, timeout = 30_000 } = options;
  if (typeof timeout !== "number" || !(timeout > 0) || timeout === Infinity) {
    throw new RangeError(
      `storeConformance: timeout must be a positive number of milliseconds; got ${timeout}`,
    );
  }
  const register = options.test;
  if (register !== undefined && typeof register !== "function") {
    throw new TypeError(
      "storeConformance: test must be a function (name, fn) that registers a test",
    );
  }

  // Why a case does not apply, known before any store exists.
  const skipped = (group: Group): string | undefined => {
    if (group === "expiry" && !checksExpiry) {
      return "the store does not claim checksExpiry";
    }
    if (
      (group === "conflicts" || group === "replace") &&
      checksConflicts === false
    ) return "the store does not claim checksConflicts";
    if (
      (group === "users" || group === "users-race") &&
      options.listsUsers === false
    ) return "the store does not claim listsUsers";
    if (group === "users-race" && checksConflicts === false) {
      return "the store does not claim checksConflicts";
    }
    if (group === "device-bound" && options.deviceBound === false) {
      return "the store does not claim deviceBound";
    }
    return undefined;
  };
  // Why a case does not apply to this store, known once it exists.
  const notFor = (group: Group, store: SessionStore): string | undefined => {
    const hasReplace = typeof store.replace === "function";
    if (group === "conflicts" && !(checksConflicts ?? hasReplace)) {
      return "the store has no replace() and does not claim checksConflicts";
    }
    if (group === "replace" && !hasReplace) return "the store has no replace()";
    if (
      (group === "users" || group === "users-race") &&
      typeof store.listUser !== "function"
    ) {
      if (options.listsUsers) {
        throw new TypeError(
          "the store claims listsUsers but has no listUser() method",
        );
      }
      return "the store has no listUser()";
    }
    if (group === "users-race" && !(checksConflicts ?? hasReplace)) {
      return "the store has no replace() and does not claim checksConflicts";
    }
    if (group === "device-bound" && !hasReplace) {
      if (options.deviceBound) {
        throw new TypeError(
          "the store claims deviceBound but has no replace() method",
        );
      }
      return "the store has no replace()";
    }
    return undefined;
  };

  for (const { title, group, run } of CASES) {
    const testName = `${name} conforms: ${title}`;
    const body = async (t?: unknown): Promise<void> => {
      const reason = await within(timeout, testName, async () => {
        const made = await make();
        if (
          made === null || typeof made !== "object" ||
          made.store === null || typeof made.store !== "object"
        ) {
          throw new TypeError(
            `storeConformance("${name}"): make() must return { store, close? }`,
          );
        }
        try {
          const reason = notFor(group, made.store);
          if (reason === undefined) await run(made.store);
          return reason;
        } finally {
          await made.close?.();
        }
      });
      if (reason !== undefined) {
        (t as { skip?(message: string): void } | undefined)?.skip?.(reason);
      }
    };
    const skip = skipped(group);
    if (register !== undefined) {
      if (skip === undefined) register(testName, body);
    } else {
      // The runner's own limit is a backstop: ours fails the case first.
      nodeTest(testName, { skip, timeout: timeout + 5_000 }, body);
    }
  }
}

// Runs `fn`, failing if it takes more than `ms`.
async function within<T>(
  ms: number,
  what: string,
  fn: () => Promise<T>,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${what}: did not finish within ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
