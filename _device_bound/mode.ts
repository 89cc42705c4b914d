// Store mode with device binding: a layer around StoreMode, chosen once
// when the option is on (apps without it never run this code). On load, a
// device-bound session's cookie is refused once its key has not proved
// itself for longer than the lifetime, when the browser was closed since
// (a browser-session cookie), or when the browser says it skipped the
// refresh; a cookie the store knows no session for may be one a
// refresh just replaced, forwarded for a few seconds to the session (it
// reads and writes it, gets no cookie, and cannot regenerate() it). On
// save, a regenerate() of a session not yet bound offers registration (a
// fresh challenge in the response), a bound session that moves to a new id
// takes its identifier along, and its cookie keeps the short lifetime. On
// end, the identifier's entry goes too, and the session wherever a refresh
// racing the sign-out moved it.
import type { Context } from "hono";
import type { SessionEvent } from "../session_event.ts";
import type { ResolvedOptions } from "../_core/options.ts";
import type { Loaded, Mode, Saved } from "../_core/mode.ts";
import type { Outgoing } from "../_core/state.ts";
import type { StoreHandle, StoreMode } from "../_store_mode/mode.ts";
import { readCookie } from "../_http/cookies.ts";
import { randomToken } from "../_lib/random.ts";
import { SessionConflictError } from "../session_conflict_error.ts";
import {
  type Binding,
  isBound,
  limitOf,
  movedPointer,
  namesKey,
  newChallenge,
  readBinding,
} from "./binding.ts";
import type { DeviceBoundSettings } from "./options.ts";
import type { DeviceSessions } from "./sessions.ts";
import {
  REGISTRATION_HEADER,
  registrationOffer,
  SKIPPED_HEADER,
  skippedEntries,
} from "./headers.ts";

/** Store mode for device-bound sessions. */
export class DeviceBoundMode implements Mode<StoreHandle> {
  readonly #inner: StoreMode;
  readonly #sessions: DeviceSessions;
  readonly #settings: DeviceBoundSettings;
  readonly #options: ResolvedOptions;
  /** Sessions this middleware opened through a forwarded cookie. */
  readonly #forwarded = new WeakSet<Loaded<StoreHandle>>();

  constructor(
    inner: StoreMode,
    sessions: DeviceSessions,
    settings: DeviceBoundSettings,
    options: ResolvedOptions,
  ) {
    this.#inner = inner;
    this.#sessions = sessions;
    this.#settings = settings;
    this.#options = options;
  }

  #report(event: SessionEvent, c: Context): void {
    this.#options.onEvent?.(event, c);
  }

  async load(
    value: string,
    c: Context,
  ): Promise<Loaded<StoreHandle> | undefined> {
    const loaded = await this.#inner.loadKnown(value, c);
    if (loaded === null) return await this.#forward(value, c);
    const raw = loaded?.meta.binding;
    if (raw === undefined) return loaded;
    const binding = readBinding(raw);
    if (binding === null) {
      this.#report({ type: "invalid-cookie", reason: "bad-record" }, c);
      return undefined;
    }
    // Not registered (yet): an ordinary session.
    if (!isBound(binding)) return loaded;
    if (!(binding.until > Date.now())) {
      this.#report({ type: "device-cookie-refused", reason: "unproven" }, c);
      return undefined;
    }
    return this.#closed(loaded!.meta, c) || this.#skipped(binding.id, c)
      ? undefined
      : loaded;
  }

  // Whether the browser was closed since the session's browser-session
  // cookie was set: the bound cookie carries a Max-Age (its expiry makes
  // the browser refresh), so it outlives a restart; the exists cookie
  // does not.
  #closed(meta: { persistent?: boolean | undefined }, c: Context): boolean {
    if (
      (meta.persistent ?? this.#options.persistent) === false &&
      readCookie(c, this.#options.cookies.existsWireName) === undefined
    ) {
      this.#report({ type: "device-cookie-refused", reason: "closed" }, c);
      return true;
    }
    return false;
  }

  // Whether the browser says it skipped the refresh of session `id` (or
  // of a session it does not name): its bound cookie is then missing.
  #skipped(id: string, c: Context): boolean {
    const skipped = c.req.raw.headers.get(SKIPPED_HEADER);
    if (
      skipped !== null &&
      skippedEntries(skipped).some((s) =>
        s.identifier === undefined || s.identifier === id
      )
    ) {
      this.#report({ type: "device-cookie-refused", reason: "skipped" }, c);
      return true;
    }
    return false;
  }

  // A well-formed id the store has no session under: one a refresh moved
  // while its cookie was live, within the few seconds it is forwarded,
  // opens the session where it is now. Anything else is an unknown id.
  async #forward(
    token: string,
    c: Context,
  ): Promise<Loaded<StoreHandle> | undefined> {
    const key = this.#inner.keyFor(token);
    const id = await this.#sessions.forwarded(key, c);
    const found = id === undefined
      ? undefined
      : await this.#sessions.find(id, c);
    // Only to a session a refresh moved from this key (not after a move
    // that failed, nor after a regenerate()).
    if (
      found === undefined || typeof found === "string" ||
      !found.binding.from?.includes(key)
    ) {
      this.#report({ type: "unknown-id" }, c);
      return undefined;
    }
    if (
      this.#closed(found.record, c) || this.#skipped(found.binding.id, c)
    ) return undefined;
    const loaded = this.#inner.open(token, found.key, found.record, c);
    if (loaded === undefined) return undefined;
    this.#forwarded.add(loaded);
    this.#report({ type: "device-bound", step: "forwarded" }, c);
    return loaded;
  }

  async save(
    out: Outgoing,
    from: Loaded<StoreHandle> | undefined,
    c: Context,
  ): Promise<Saved> {
    const binding = from && readBinding(from.meta.binding);
    if (out.regenerated && !isBound(binding)) {
      return await this.#offer(out, from, c);
    }
    if (!isBound(binding) || from === undefined) {
      return await this.#inner.save(out, from, c);
    }
    const forwarded = this.#forwarded.has(from);
    if (forwarded && out.regenerated) {
      // A new id would outlive the forwarded cookie's deadline.
      throw new SessionConflictError(
        "the session moved to a new id (a device-bound refresh) while this request was on its way; send it again",
      );
    }
    let next: string | undefined;
    if (out.regenerated) {
      // The session moves to a new id: point its identifier there first
      // (and at the old key, until the move is done), so a refresh finds
      // it whichever way the move ends. A cookie an early refresh left
      // forwarded ends with the ones regenerate() replaces.
      if (binding.from !== undefined) {
        const { from: _, ...rest } = binding;
        out.meta.binding = rest;
      }
      next = randomToken();
      const key = from.handle.key;
      const pointer = await this.#sessions.pointer(binding.id, c);
      // The entry names this key: as where the session is, or as a key
      // before (a move from here under way, or one that never finished).
      // If another move from here is done first, this save finds the
      // session gone and answers 409.
      if (pointer !== undefined && namesKey(pointer, key)) {
        await this.#sessions.point(
          binding.id,
          movedPointer(pointer, key, this.#inner.keyFor(next)),
          limitOf(out.meta),
          c,
        );
      }
    } else if (limitOf(out.meta) > limitOf(from.meta)) {
      await this.#extend(binding.id, from.handle.key, limitOf(out.meta), c);
    }
    // If another move wins (a refresh), the entry still names where that
    // one went: every key it named before this one pointed it.
    const saved = await this.#inner.save(out, from, c, next);
    // The browser has, or is about to get, the cookie of the refresh.
    if (forwarded) return { ...saved, keepCookie: true };
    const after = readBinding(saved.record.binding);
    return isBound(after) ? { ...saved, cookieUntil: after.until } : saved;
  }

  // A regenerate() of a session not bound yet (a sign-in): a fresh
  // challenge goes into the record and into the response, offering the
  // browser to register a key for this session.
  async #offer(
    out: Outgoing,
    from: Loaded<StoreHandle> | undefined,
    c: Context,
  ): Promise<Saved> {
    const settings = this.#settings;
    const challenge = newChallenge(settings.challengeMs, true);
    const binding: Binding = { challenges: [challenge] };
    out.meta.binding = binding;
    const saved = await this.#inner.save(out, from, c);
    // Appended: another device-bound middleware's offer may be there.
    c.header(
      REGISTRATION_HEADER,
      registrationOffer(
        settings.algorithms,
        settings.registrationPath,
        challenge.value,
        challenge.authorization!,
      ),
      { append: true },
    );
    this.#report({ type: "device-bound", step: "offered" }, c);
    return saved;
  }

  // renew() carried the session past the date its identifier's entry
  // expires: carry the entry along. A refresh racing this one rewrites the
  // entry itself, so a conflict here needs nothing more.
  async #extend(
    id: string,
    key: string,
    expires: number,
    c: Context,
  ): Promise<void> {
    // The entry may name this key as one before the session's latest
    // move: a move that lost left the entry naming its own key (never
    // written) as where the session is. It must outlive the session still.
    const pointer = await this.#sessions.pointer(id, c);
    if (pointer === undefined || !namesKey(pointer, key)) return;
    try {
      await this.#sessions.point(id, pointer, expires, c);
    } catch (error) {
      if (!(error instanceof SessionConflictError)) throw error;
    }
  }

  async end(loaded: Loaded<StoreHandle>, c: Context): Promise<void> {
    await this.#inner.end(loaded, c);
    const binding = readBinding(loaded.meta.binding);
    if (isBound(binding)) {
      await this.#sessions.end(binding.id, loaded.handle.key, c);
    }
  }

  keyOf(loaded: Loaded<StoreHandle>): string {
    return this.#inner.keyOf(loaded);
  }
}
