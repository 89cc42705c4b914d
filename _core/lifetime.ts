// When a session ends: its deadlines, how requests move them, and the
// check that a loaded session is still alive. Every deadline is enforced
// here, on the server, to the millisecond.
import type { SessionRecord } from "../session_store.ts";
import type { ResolvedOptions } from "./options.ts";

/** A session's bookkeeping, saved beside its values. */
export type SessionMeta = Omit<SessionRecord, "data">;

/** The lifetime settings the deadlines follow. */
type Settings = Pick<
  ResolvedOptions,
  "maxAge" | "idleMs" | "touchMs" | "absoluteMs"
>;

/**
 * Why a session can no longer be used at `now`, or undefined while it is
 * alive.
 */
export function expiredReason(
  meta: SessionMeta,
  settings: Settings,
  now: number,
): "lifetime" | "idle" | "absolute" | undefined {
  if (
    settings.absoluteMs !== Infinity &&
    (meta.created === undefined || meta.created + settings.absoluteMs <= now)
  ) return "absolute";
  if (meta.expires > now) return undefined;
  return meta.limit !== undefined && meta.expires < meta.limit
    ? "idle"
    : "lifetime";
}

/** The deadlines of one session during one request. */
export class Lifetime {
  readonly #settings: Settings;
  /** When the session was created or regenerated, in ms since the epoch. */
  #created: number;
  /** When it ends unless used again. */
  #expires: number;
  /** The latest `expires` may move to: the maxAge or absolute deadline. */
  #limit: number;

  /** A loaded session's deadlines, or a new session's when `meta` is absent. */
  constructor(settings: Settings, meta?: SessionMeta) {
    this.#settings = settings;
    if (meta) {
      this.#created = meta.created ?? Date.now();
      this.#expires = meta.expires;
      this.#limit = meta.limit ?? meta.expires;
    } else {
      this.#created = Date.now();
      this.#expires = this.#limit = 0;
      this.restart(settings.maxAge);
    }
  }

  /** When the session ends unless used again. */
  get expires(): number {
    return this.#expires;
  }

  /**
   * Sets the deadlines for a lifetime of `maxAge` seconds from now, within
   * the absolute timeout. With `fromNow`, the absolute timeout counts from
   * now too (a regenerated session is a new one).
   */
  restart(maxAge: number, fromNow = false): void {
    const now = Date.now();
    if (fromNow) this.#created = now;
    const settings = this.#settings;
    this.#limit = Math.min(
      now + maxAge * 1000,
      this.#created + settings.absoluteMs,
    );
    this.#expires = Math.min(this.#limit, now + settings.idleMs);
  }

  /**
   * With an idle timeout, pushes the deadline back for this request's
   * activity. Returns whether that alone is worth a write: only once the
   * configured fraction of the idle window has passed since the last one.
   */
  touch(): boolean {
    const settings = this.#settings;
    if (settings.idleMs === Infinity) return false;
    const next = Math.min(this.#limit, Date.now() + settings.idleMs);
    if (next <= this.#expires) return false;
    const worth = next - this.#expires >= settings.touchMs;
    this.#expires = next;
    return worth;
  }

  /** The bookkeeping to save, with the flash keys to keep. */
  meta(flash: readonly string[]): SessionMeta {
    const meta: SessionMeta = {
      expires: this.#expires,
      created: this.#created,
    };
    if (this.#limit !== this.#expires) meta.limit = this.#limit;
    if (flash.length > 0) meta.flash = [...flash];
    return meta;
  }
}
