// Device-bound sessions in the store: finding one by its identifier (a
// refresh comes with the identifier, usually without the cookie), pointing
// the identifier at the key a session is about to move to, forwarding the
// cookie a refresh replaced while it was still live, and forgetting the
// pointer when the session ends. Every read passes the request's
// context, so a write after it is checked against what it read.
import type { Context } from "hono";
import type { SessionRecord, SessionStore } from "../session_store.ts";
import { isRecord } from "../_core/record.ts";
import { SessionConflictError } from "../session_conflict_error.ts";
import {
  type Bound,
  forwardKey,
  forwardRecord,
  isBound,
  type Pointer,
  pointerKey,
  pointerRecord,
  readBinding,
  readForward,
  readPointer,
  samePointer,
} from "./binding.ts";

/** How many times `find` follows an entry that names other keys. */
const FIND_ROUNDS = 3;

/** A registered session, found by its identifier. */
export interface Found {
  /** The key it is kept under. */
  key: string;
  /** Its record, as this request read it. */
  record: SessionRecord;
  binding: Bound;
  /** The identifier's entry, as this request read it. */
  pointer: Pointer;
}

/** The store's device-bound sessions, for one middleware. */
export class DeviceSessions {
  readonly #store: SessionStore;
  /** What ends this middleware's keys (see StoreMode.suffix). */
  readonly #suffix: string;

  constructor(store: SessionStore, suffix: string) {
    this.#store = store;
    this.#suffix = suffix;
  }

  /** Where the session with identifier `id` is kept, if the store says. */
  async pointer(id: string, c: Context): Promise<Pointer | undefined> {
    const got = await this.#store.get(pointerKey(id, this.#suffix), c);
    return readPointer(got, id);
  }

  /**
   * The registered session with identifier `id`: `unknown` when no entry
   * names it (never registered here, or long gone), `ended` when the entry
   * is there but the session is not (signed out, revoked, expired).
   *
   * A move points the entry at its new key, with the key it leaves first
   * among the keys before, then moves the session in one step; so the keys
   * are read in that order: when the key a move leaves is found empty
   * because the move was done, the key it went to holds the session when
   * it is read next. All found empty, the session is over, or it moved
   * again since the entry was read: the entry is read again, and while it
   * names other keys they are tried.
   *
   * @throws {SessionConflictError} When the session kept moving.
   */
  async find(id: string, c: Context): Promise<Found | "unknown" | "ended"> {
    let pointer = await this.pointer(id, c);
    if (pointer === undefined) return "unknown";
    for (let round = 1;; round++) {
      for (const key of [...pointer.previous, pointer.session]) {
        const got = await this.#store.get(key, c);
        if (!isRecord(got)) continue;
        const binding = readBinding(got.binding);
        if (isBound(binding) && binding.id === id) {
          return { key, record: got, binding, pointer };
        }
      }
      const again = await this.pointer(id, c);
      if (again === undefined || samePointer(again, pointer)) return "ended";
      if (round === FIND_ROUNDS) {
        throw new SessionConflictError(
          "the device-bound session kept moving while it was looked up; try again",
        );
      }
      pointer = again;
    }
  }

  /**
   * Points identifier `id` at `pointer`, until `expires`. Checked against
   * what this request read of it (a SessionConflictError when another
   * request pointed it elsewhere meanwhile).
   */
  async point(
    id: string,
    pointer: Pointer,
    expires: number,
    c: Context,
  ): Promise<void> {
    await this.#store.set(
      pointerKey(id, this.#suffix),
      pointerRecord(id, pointer, expires),
      c,
    );
  }

  /**
   * Forwards the cookie of session key `key` (a session a refresh just
   * moved away from it) to identifier `id`'s session, until `expires`.
   */
  async forward(
    key: string,
    id: string,
    expires: number,
    c: Context,
  ): Promise<void> {
    await this.#store.set(forwardKey(key), forwardRecord(id, expires), c);
  }

  /** The identifier the cookie of session key `key` is forwarded to, if any. */
  async forwarded(key: string, c: Context): Promise<string | undefined> {
    return readForward(await this.#store.get(forwardKey(key), c));
  }

  /** Removes identifier `id`'s entry: its session has ended. */
  async forget(id: string, c: Context): Promise<void> {
    await this.#store.delete(pointerKey(id, this.#suffix), c);
  }

  /**
   * Ends the session with identifier `id`, which this request signed out
   * at `key`, wherever else the entry says it went: a refresh (or a
   * `regenerate()`) may have moved it to a new id while this request ran,
   * and the browser would keep that one. Then removes the entry. A move
   * still under way finds its old key gone and gives up.
   */
  async end(id: string, key: string, c: Context): Promise<void> {
    const pointer = await this.pointer(id, c);
    if (pointer !== undefined) {
      for (const other of [pointer.session, ...pointer.previous]) {
        // Keys of random ids, written only for this identifier's session.
        if (other !== key) await this.#store.delete(other, c);
      }
    }
    await this.forget(id, c);
  }
}
