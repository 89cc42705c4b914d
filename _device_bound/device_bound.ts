// Device-bound sessions for one middleware, built once when session() is
// called with `deviceBound`: the mode that requests load and save through,
// and the one place the middleware asks, before anything else, whether a
// request is for the registration or refresh endpoint.
import type { Context } from "hono";
import type { SessionStore } from "../session_store.ts";
import type { ResolvedOptions } from "../_core/options.ts";
import type { StoreMode } from "../_store_mode/mode.ts";
import type { DeviceBoundSettings } from "./options.ts";
import { DeviceSessions } from "./sessions.ts";
import { DeviceBoundMode } from "./mode.ts";
import { SKIPPED_HEADER, skippedEntries } from "./headers.ts";
import { type Endpoint, report } from "./answer.ts";
import { register } from "./registration.ts";
import { refresh } from "./refresh.ts";

/** Device binding for one session() middleware. */
export class DeviceBound {
  /** Store mode with device binding: what requests load and save through. */
  readonly mode: DeviceBoundMode;
  readonly #endpoint: Endpoint;

  constructor(
    options: ResolvedOptions,
    settings: DeviceBoundSettings,
    store: SessionStore,
    inner: StoreMode,
  ) {
    const sessions = new DeviceSessions(store, inner.suffix);
    this.mode = new DeviceBoundMode(inner, sessions, settings, options);
    this.#endpoint = { options, settings, store, inner, sessions };
  }

  /**
   * The response to a registration or refresh, which the middleware
   * answers itself; undefined for any other request. Reports a browser's
   * note that it skipped a refresh.
   */
  async answer(c: Context): Promise<Response | undefined> {
    const e = this.#endpoint;
    if (e.options.onEvent !== undefined) {
      const skipped = c.req.raw.headers.get(SKIPPED_HEADER);
      if (skipped !== null) {
        for (const { reason } of skippedEntries(skipped)) {
          report(e, { type: "device-refresh-skipped", reason }, c);
        }
      }
    }
    if (c.req.method !== "POST") return undefined;
    const path = c.req.path;
    if (path === e.settings.registrationPath) return await register(e, c);
    if (path === e.settings.refreshPath) return await refresh(e, c);
    return undefined;
  }
}
