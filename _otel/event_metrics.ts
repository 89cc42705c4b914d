// Session events as metrics: each event the middleware (or userSessions())
// reports adds to its counter, with attributes drawn only from the event's
// fixed vocabulary and the middleware's mode. Events carry no id, user or
// value, so neither can the metrics.
import type { Attributes } from "@opentelemetry/api";
import type { SessionEvent } from "../session_event.ts";
import { ATTRIBUTE } from "./instruments.ts";
import type { Telemetry } from "./telemetry.ts";

/** Where the middleware keeps its sessions. */
export type Mode = "cookie" | "store";

/**
 * Returns the function that turns the events of one middleware (in `mode`)
 * into metrics. Attribute sets are made once each and reused.
 */
export function eventMetrics(
  telemetry: Telemetry,
  mode: Mode,
): (event: SessionEvent) => void {
  const byMode: Attributes = Object.freeze({ [ATTRIBUTE.mode]: mode });
  const sets = new Map<string, Attributes>();
  // The attributes `byMode` (when `withMode`) plus `key` = `value`.
  const attributes = (
    key: string,
    value: string | number,
    withMode: boolean,
  ): Attributes => {
    const id = `${withMode}\u0000${key}\u0000${value}`;
    let set = sets.get(id);
    if (set === undefined) {
      set = Object.freeze(
        withMode ? { ...byMode, [key]: value } : { [key]: value },
      );
      sets.set(id, set);
    }
    return set;
  };
  // The two attributes of a legacy session, each pair made once.
  const legacyAttributes = (from: string, step: string): Attributes => {
    const id = `legacy\u0000${from}\u0000${step}`;
    let set = sets.get(id);
    if (set === undefined) {
      set = Object.freeze({
        ...byMode,
        [ATTRIBUTE.legacyFrom]: from,
        [ATTRIBUTE.legacyStep]: step,
      });
      sets.set(id, set);
    }
    return set;
  };
  return function recordEvent(event: SessionEvent): void {
    const m = telemetry.instruments;
    switch (event.type) {
      case "created":
        m.created.add(1, byMode);
        break;
      case "regenerated":
        m.regenerated.add(1, byMode);
        break;
      case "signed-out":
        m.signedOut.add(1, byMode);
        break;
      case "revoked":
        m.revoked.add(1);
        break;
      case "expired":
        m.expired.add(
          1,
          attributes(ATTRIBUTE.expiryReason, event.reason, true),
        );
        break;
      case "invalid-cookie":
        m.refused.add(
          1,
          attributes(ATTRIBUTE.refusalReason, event.reason, true),
        );
        break;
      case "unknown-id":
        m.refused.add(
          1,
          attributes(ATTRIBUTE.refusalReason, "unknown-id", true),
        );
        break;
      case "rotated-secret":
        m.oldSecret.add(
          1,
          attributes(ATTRIBUTE.secretIndex, event.keyIndex, false),
        );
        break;
      case "legacy-session":
        m.legacy.add(1, legacyAttributes(event.from, event.step));
        break;
      case "conflict":
        m.conflicts.add(
          1,
          attributes(ATTRIBUTE.conflictOutcome, event.outcome, false),
        );
        break;
      case "cookie-written":
        // A store-mode cookie is an id of fixed length: nothing to watch.
        if (mode === "cookie") m.cookieSize.record(event.bytes);
        break;
        // Events added later are not metrics until they are listed here.
    }
  };
}
