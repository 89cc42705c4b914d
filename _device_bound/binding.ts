// A device-bound session's bookkeeping, kept in its record (`binding`)
// beside the values and never among them: the challenges it was given,
// and once registered its identifier, its public key and how long its
// cookie is accepted since the last proof. Also the small entry that finds
// a session by its identifier, since a refresh comes without the cookie,
// and the one that forwards, for a few seconds, the cookie a refresh
// replaced while it was still live.
import type { SessionRecord } from "../session_store.ts";
import { SessionConflictError } from "../session_conflict_error.ts";
import { randomToken } from "../_lib/random.ts";
import { storeKey } from "../_store_mode/ids.ts";
import type { Algorithm, PublicJwk } from "./proof.ts";

/** A challenge given to the browser, answered at most once. */
export interface Challenge {
  value: string;
  /** Until when it may be answered, in ms since the epoch. */
  expires: number;
  /** Registration: the value the proof must echo (`authorization`). */
  authorization?: string;
}

/** What a session record keeps under `binding`. */
export interface Binding {
  /** The session's identifier, as the browser knows it: random, once registered. */
  id?: string;
  alg?: Algorithm;
  key?: PublicJwk;
  /** When the key last proved itself, in ms since the epoch. */
  proven?: number;
  /** Until when the session cookie is accepted without a new proof. */
  until?: number;
  /** Challenges not yet answered (at most {@linkcode MAX_CHALLENGES}). */
  challenges?: Challenge[];
  /**
   * The keys the latest refreshes moved the session from, the latest last
   * (at most {@linkcode MAX_FROM}). The entry that forwards a key's cookie
   * leads here only while this names the key.
   */
  from?: string[];
}

/** A registered binding: every field a refresh needs. */
export type Bound =
  & Required<Omit<Binding, "challenges" | "from">>
  & Pick<Binding, "challenges" | "from">;

/** The most challenges a session holds at once: older ones are dropped. */
export const MAX_CHALLENGES = 4;

/** The most keys a session's `from` names: older ones are dropped. */
export const MAX_FROM = 4;

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

function isChallenge(value: unknown): value is Challenge {
  if (value === null || typeof value !== "object") return false;
  const { value: v, expires, authorization } = value as Record<
    string,
    unknown
  >;
  return typeof v === "string" && Number.isFinite(expires) &&
    (authorization === undefined || typeof authorization === "string");
}

function isKey(value: unknown): value is PublicJwk {
  if (value === null || typeof value !== "object") return false;
  const k = value as Record<string, unknown>;
  return (k.kty === "EC" && k.crv === "P-256" && typeof k.x === "string" &&
    typeof k.y === "string") ||
    (k.kty === "RSA" && typeof k.n === "string" && typeof k.e === "string");
}

/**
 * The binding in a record's `binding`, or null when it is not one (a
 * record a store or a tool damaged: such a session is refused, never
 * treated as unbound). Undefined when there is none.
 */
export function readBinding(value: unknown): Binding | null | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return null;
  }
  const b = value as Record<string, unknown>;
  const ok = (b.id === undefined || (typeof b.id === "string" &&
    TOKEN.test(b.id))) &&
    (b.alg === undefined || b.alg === "ES256" || b.alg === "RS256") &&
    (b.key === undefined || isKey(b.key)) &&
    (b.proven === undefined || Number.isFinite(b.proven)) &&
    (b.until === undefined || Number.isFinite(b.until)) &&
    (b.from === undefined ||
      (Array.isArray(b.from) && b.from.every((k) => typeof k === "string"))) &&
    (b.challenges === undefined ||
      (Array.isArray(b.challenges) && b.challenges.every(isChallenge)));
  return ok ? value as Binding : null;
}

/** Whether a binding is registered: the session is device-bound. */
export function isBound(binding: Binding | null | undefined): binding is Bound {
  return binding != null && binding.id !== undefined &&
    binding.key !== undefined && binding.alg !== undefined &&
    binding.proven !== undefined && binding.until !== undefined;
}

/** A new challenge, answerable for `ms`; with an authorization value for a registration. */
export function newChallenge(
  ms: number,
  registration: boolean,
  now: number = Date.now(),
): Challenge {
  const challenge: Challenge = { value: randomToken(), expires: now + ms };
  if (registration) challenge.authorization = randomToken();
  return challenge;
}

/** `list` with `challenge` added, expired ones and the oldest past the bound dropped. */
export function withChallenge(
  list: readonly Challenge[] | undefined,
  challenge: Challenge,
  now: number = Date.now(),
): Challenge[] {
  const live = (list ?? []).filter((c) => c.expires > now);
  live.push(challenge);
  return live.slice(-MAX_CHALLENGES);
}

/** The live challenge `value` names in `list`, if there is one. */
export function findChallenge(
  list: readonly Challenge[] | undefined,
  value: string,
  now: number = Date.now(),
): Challenge | undefined {
  return list?.find((c) => c.value === value && c.expires > now);
}

/** The latest the session can last: its limit, or its deadline without one. */
export function limitOf(
  record: Pick<SessionRecord, "expires" | "limit">,
): number {
  return Math.max(record.expires, record.limit ?? 0);
}

// The entry that finds a session by its identifier. A refresh comes with
// the identifier but usually without the cookie (it expired), so the
// store keeps, under a key of the identifier's hash, where the session is:
// `session`. A move (a refresh, a regenerate()) points the entry at its
// new key before it moves the session there, with the key it moves it
// from first in `previous`; if the move fails the entry stays so (it still
// names every key it named before, among them the one that won). Two
// moves from one key may be under way at once (the same proof twice):
// the second to point keeps the first one's new key in `previous` too, as
// that move may still win. So the session is always under a key the entry
// names, and a key before the moves that start from it. The ":dbsc" cannot
// end a session's key (those end with the id's hash or with "." and a
// cookie name), so no cookie can name this entry.

/** Where an identifier's session is kept. */
export interface Pointer {
  /** The key the session is kept under, once the latest move is done. */
  session: string;
  /**
   * While moves may be under way: the key they move the session from,
   * then the new keys of the other moves from it.
   */
  previous: readonly string[];
}

/** The most keys an entry names in `previous` (moves under way at once). */
export const MAX_PREVIOUS = 8;

/** The key of the entry that finds the session with identifier `id`. */
export function pointerKey(id: string, suffix: string): string {
  return `${storeKey(id)}:dbsc${suffix}`;
}

/**
 * The entry for a move of the session, found under `from` by way of
 * `pointer`, to `to`. Found where the entry says it is, the keys before
 * are done with; found under a key before, the moves from there that the
 * entry names may still win, so their keys stay.
 *
 * @throws {SessionConflictError} With {@linkcode MAX_PREVIOUS} keys there.
 */
export function movedPointer(
  pointer: Pointer,
  from: string,
  to: string,
): Pointer {
  if (from === pointer.session) return { session: to, previous: [from] };
  const others = [pointer.session, ...pointer.previous].filter((key) =>
    key !== from
  );
  if (others.length >= MAX_PREVIOUS) {
    throw new SessionConflictError(
      "too many moves of the device-bound session at once; try again",
    );
  }
  return { session: to, previous: [from, ...others] };
}

/**
 * Whether the entry names `key`: as where the session is, or as a key
 * before (a move from it under way, or one that lost to another move).
 */
export function namesKey(pointer: Pointer, key: string): boolean {
  return pointer.session === key || pointer.previous.includes(key);
}

/** Whether two entries name the same keys. */
export function samePointer(a: Pointer, b: Pointer): boolean {
  return a.session === b.session && a.previous.length === b.previous.length &&
    a.previous.every((key, i) => key === b.previous[i]);
}

/** The entry to store: a record with no values, expiring with the session. */
export function pointerRecord(
  id: string,
  pointer: Pointer,
  expires: number,
): SessionRecord {
  const binding: Record<string, unknown> = { id, session: pointer.session };
  if (pointer.previous.length > 0) binding.previous = pointer.previous;
  return { data: {}, expires, binding };
}

/** The pointer in an entry the store returned for `id`, if it is one. */
export function readPointer(value: unknown, id: string): Pointer | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const { expires, binding } = value as Record<string, unknown>;
  if (!(typeof expires === "number" && expires > Date.now())) return undefined;
  if (binding === null || typeof binding !== "object") return undefined;
  const b = binding as Record<string, unknown>;
  if (b.id !== id || typeof b.session !== "string") return undefined;
  const previous = Array.isArray(b.previous)
    ? b.previous.filter((key): key is string => typeof key === "string")
    : [];
  return { session: b.session, previous };
}

// A refresh the browser makes before its cookie expires (Chromium starts
// two minutes early) moves the session while that cookie is still in use:
// requests the browser sent with it before it had the new one reach the
// server after the move. So the refresh leaves, under a key of the old
// id's that no cookie can name, an entry that forwards that id to the
// session for a few seconds, never past the old cookie's own deadline.
// The entry is written before the move, so no request finds the old key
// empty and nothing forwarded; the move itself adds the old key to the
// session's binding (`from`), and the entry leads only to a session that
// names it there: one written for a move that then failed (another
// request moved the session first, a regenerate() say) leads nowhere, and
// regenerate() empties the list, ending the cookies it replaces.

/** How long at most the id a refresh moved a live session from still finds it. */
export const FORWARD_MS = 10_000;

/** The key of the entry that forwards the cookie of session key `key`. */
export function forwardKey(key: string): string {
  return `${key}:moved`;
}

/** The forwarding entry: no values, the identifier, until `expires`. */
export function forwardRecord(id: string, expires: number): SessionRecord {
  return { data: {}, expires, binding: { id, forward: true } };
}

/** `from` with `key` added last, the oldest past {@linkcode MAX_FROM} dropped. */
export function withFrom(
  from: readonly string[] | undefined,
  key: string,
): string[] {
  return [...(from ?? []), key].slice(-MAX_FROM);
}

/** The identifier a live forwarding entry names, if `value` is one. */
export function readForward(
  value: unknown,
  now: number = Date.now(),
): string | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const { expires, binding } = value as Record<string, unknown>;
  if (!(typeof expires === "number" && expires > now)) return undefined;
  if (binding === null || typeof binding !== "object") return undefined;
  const { id, forward } = binding as Record<string, unknown>;
  return forward === true && typeof id === "string" && TOKEN.test(id)
    ? id
    : undefined;
}
