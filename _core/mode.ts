// The one seam between the request's life and where sessions are kept.
// Cookie mode (_cookie_mode/) seals the session into the cookie; store
// mode (_store_mode/) keeps it in a store under a random id. The
// middleware picks one when session() is called; a request then loads
// through it before the handler and saves or ends through it after.
import type { Context } from "hono";
import type { Outgoing, Snapshot } from "./state.ts";
import type { MigrateFrom } from "./options.ts";

/** A session as a mode loaded it, with what the mode needs to save it again. */
export interface Loaded<H> extends Snapshot {
  handle: H;
  /**
   * With `migrateFrom`: the session was read from that library's format;
   * its first save moves it to ours.
   */
  migrated?: MigrateFrom;
}

/**
 * What a save produced: the session cookie's value, and the deadline and
 * cookie-lifetime choice saved (a merge may have changed both).
 */
export interface Saved {
  value: string;
  /** When the saved session ends unless used again, in ms since the epoch. */
  expires: number;
  /** The session's own choice of persistent cookies, if it made one. */
  persistent: boolean | undefined;
  /**
   * A device-bound session: until when the session cookie is accepted
   * (its `Max-Age` ends there; the exists cookie keeps the session's).
   */
  cookieUntil?: number | undefined;
  /**
   * Send no cookie: the browser keeps the one it has (a device-bound
   * request that came with a cookie a refresh had just replaced).
   */
  keepCookie?: boolean | undefined;
}

/** Where sessions are kept; `H` is what a mode remembers of a loaded one. */
export interface Mode<H> {
  /**
   * Opens the session a cookie value names, or returns undefined (after
   * reporting why) when it names none. Deadlines are not checked here.
   */
  load(value: string, c: Context): Promise<Loaded<H> | undefined>;
  /**
   * Saves a session and returns the session cookie's new value with the
   * deadline saved (a merge may have moved it). `from` is
   * the session this request loaded and carries on (absent for a new one):
   * the save is checked against it where the mode can.
   */
  save(out: Outgoing, from: Loaded<H> | undefined, c: Context): Promise<Saved>;
  /** Forgets a session this request loaded: signed out, or expired. */
  end(loaded: Loaded<H>, c: Context): Promise<void>;
  /** Store mode: the key the store keeps a loaded session under. */
  keyOf?(loaded: Loaded<H>): string;
}
