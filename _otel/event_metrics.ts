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
  // The attribute set of `pairs` (key, value, key, value, ...), with the
  // mode when `withMode`: made once each, then reused.
  const attributes = (
    withMode: boolean,
    ...pairs: (string | number)[]
  ): Attributes => {
    const id = `${withMode}\u0000${pairs.join("\u0000")}`;
    let set = sets.get(id);
    if (set === undefined) {
      const made: Record<string, string | number> = withMode
        ? { ...byMode } as Record<string, string>
        : {};
      for (let i = 0; i < pairs.length; i += 2) {
        made[pairs[i] as string] = pairs[i + 1]!;
      }
      set = Object.freeze(made);
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
          attributes(true, ATTRIBUTE.expiryReason, event.reason),
        );
        break;
      case "invalid-cookie":
        m.refused.add(
          1,
          attributes(true, ATTRIBUTE.refusalReason, event.reason),
        );
        break;
      case "unknown-id":
        m.refused.add(
          1,
          attributes(true, ATTRIBUTE.refusalReason, "unknown-id"),
        );
        break;
      case "rotated-secret":
        m.oldSecret.add(
          1,
          attributes(false, ATTRIBUTE.secretIndex, event.keyIndex),
        );
        break;
      case "legacy-session":
        m.legacy.add(
          1,
          attributes(
            true,
            ATTRIBUTE.legacyFrom,
            event.from,
            ATTRIBUTE.legacyStep,
            event.step,
          ),
        );
        break;
      case "conflict":
        m.conflicts.add(
          1,
          attributes(false, ATTRIBUTE.conflictOutcome, event.outcome),
        );
        break;
      case "device-bound":
        m.deviceBound.add(
          1,
          attributes(false, ATTRIBUTE.deviceStep, event.step),
        );
        break;
      case "device-proof-refused":
        m.deviceProofRefused.add(
          1,
          attributes(
            false,
            ATTRIBUTE.deviceStep,
            event.step,
            ATTRIBUTE.deviceReason,
            event.reason,
          ),
        );
        break;
      case "device-cookie-refused":
        m.deviceCookieRefused.add(
          1,
          attributes(false, ATTRIBUTE.deviceReason, event.reason),
        );
        break;
      case "device-refresh-skipped":
        m.deviceRefreshSkipped.add(
          1,
          attributes(false, ATTRIBUTE.deviceReason, event.reason),
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
