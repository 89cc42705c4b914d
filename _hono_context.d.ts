// Teaches Hono's Context about `c.session`. Kept in a declaration file that
// mod.ts and global.ts pull in with a `reference types` directive, since JSR
// refuses `declare module` inside the module graph it publishes. The full
// npm: specifier names the same hono a Deno app gets from `npm:hono@^4.x`,
// whatever its import map calls it.
import type { Session, SessionMember, SessionValues } from "./session.ts";

/**
 * The values an app declared on the global `Session` interface, each as
 * JSON keeps it: one JSON would not keep (a `Date`, say) reads as the
 * reason, so writing it fails to type-check. An interface augmentation
 * cannot be refused where it is written; its first write is.
 */
type GlobalValues = SessionValues<Omit<Session, SessionMember>>;

/**
 * The type of `c.session` for a context whose environment is `E`: the
 * session type the middleware put in the chain (or the global `Session`),
 * narrowed by a `Session` variable that a refining middleware declares
 * (checked as JSON like the rest).
 */
type SessionFor<E> = 0 extends (1 & E) ? Session & GlobalValues
  : E extends { Variables: infer V } ?
      & (V extends { session: infer S } ? S : Session)
      & (V extends { Session: infer R } ? SessionValues<R> : unknown)
      & GlobalValues
  : Session & GlobalValues;

declare module "npm:hono@^4" {
  interface Context<E> {
    /**
     * The current session. Assign an object to replace its values, or
     * `null` to end it (log out); after `null`, reading it gives a new,
     * empty session that is saved only if something is written to it.
     */
    get session(): SessionFor<E>;
    set session(value: object | null);
  }
  interface ContextVariableMap {
    /** The session; `c.set("session", null)` ends it. */
    session: Session | null;
  }
}
