// The metrics of @x/hono-session/otel, in one table: names in the
// `hono_session.` namespace, units and descriptions in OpenTelemetry's
// semantic-convention style, made once per meter provider.
import type {
  Counter,
  Histogram,
  Meter,
  MeterProvider,
} from "@opentelemetry/api";

/** The instrumentation scope: this package. */
export const SCOPE = "@x/hono-session";
/** This package's version (a test holds it to deno.json's). */
export const SCOPE_VERSION = "0.1.0";

/** The attribute keys. None of them ever holds an id, a user or a value. */
export const ATTRIBUTE = {
  /** `cookie` or `store`: where the middleware keeps sessions. */
  mode: "hono_session.mode",
  /** `lifetime`, `idle` or `absolute`. */
  expiryReason: "hono_session.expiry.reason",
  /** Why a cookie was refused: an `invalid-cookie` reason, or `unknown-id`. */
  refusalReason: "hono_session.refusal.reason",
  /** `merged` or `rejected` (409). */
  conflictOutcome: "hono_session.conflict.outcome",
  /** `migrateFrom`: the library a legacy session came from (`hono-session@1`). */
  legacyFrom: "hono_session.legacy.from",
  /** `loaded` (a request came with one) or `moved` (saved in our format). */
  legacyStep: "hono_session.legacy.step",
  /**
   * `deviceBound`: a step of the protocol (`offered`, `registered`,
   * `challenged`, `refreshed`, `ended`), or which request a refused proof
   * came with (`registration`, `refresh`).
   */
  deviceStep: "hono_session.device.step",
  /** `deviceBound`: why a proof or cookie was refused, or a refresh skipped. */
  deviceReason: "hono_session.device.reason",
  /** Which older secret of the list opened a cookie: 1 for the second. */
  secretIndex: "hono_session.secret.index",
  /** `memory`, `deno_kv`, `redis`, `sql`, `unstorage`, `map`, `custom`, or the app's name. */
  storeKind: "hono_session.store.kind",
  /** `get`, `set`, `delete`, `replace` or `list_user`. */
  storeOperation: "hono_session.store.operation",
  /** A store call threw a SessionConflictError (a checked write refused). */
  storeConflict: "hono_session.store.conflict",
  /** The class of a store's error (its `name`), as semantic conventions say. */
  errorType: "error.type",
} as const;

/** Every metric, as the instruments are created. */
export const METRICS = {
  created: {
    name: "hono_session.sessions.created",
    unit: "{session}",
    description:
      "Sessions created: a new session saved for the first time and its cookie issued.",
  },
  regenerated: {
    name: "hono_session.sessions.regenerated",
    unit: "{session}",
    description:
      "Sessions moved to a new id by regenerate() (at sign-in), and saved.",
  },
  signedOut: {
    name: "hono_session.sessions.signed_out",
    unit: "{session}",
    description:
      "Sessions ended by their own request (c.session = null): deleted from the store, cookies expired.",
  },
  revoked: {
    name: "hono_session.sessions.revoked",
    unit: "{session}",
    description:
      "Sessions ended from outside their request by userSessions().revoke() or revokeAll().",
  },
  expired: {
    name: "hono_session.sessions.expired",
    unit: "{session}",
    description:
      "Requests that came with a session past a deadline (maxAge, idleTimeout, absoluteTimeout), which was then ended.",
  },
  refused: {
    name: "hono_session.cookies.refused",
    unit: "{cookie}",
    description:
      "Session cookies refused (no session for that request): malformed, duplicated, oversized, tampered or foreign seals, records that are no session, ids the store does not know.",
  },
  oldSecret: {
    name: "hono_session.cookies.old_secret",
    unit: "{cookie}",
    description:
      "Session cookies accepted that were sealed with an older secret of the list; re-sealed with the newest at their next write.",
  },
  legacy: {
    name: "hono_session.legacy_sessions",
    unit: "{session}",
    description:
      "With migrateFrom: requests that came with another library's session (loaded), and such sessions saved in this package's format (moved).",
  },
  deviceBound: {
    name: "hono_session.device_bound",
    unit: "{event}",
    description:
      "Device-bound sessions (deviceBound): registration offered, keys registered, refreshes challenged and answered, refreshes of ended sessions told to stop.",
  },
  deviceProofRefused: {
    name: "hono_session.device_proofs.refused",
    unit: "{proof}",
    description:
      "Device-bound sessions: registration or refresh proofs refused with a 4xx (malformed, wrong algorithm or key, bad signature, replayed challenge, no session).",
  },
  deviceCookieRefused: {
    name: "hono_session.device_cookies.refused",
    unit: "{cookie}",
    description:
      "Device-bound sessions: cookies taken as missing because their key has not proved itself within the lifetime (a copied cookie) or the browser skipped the refresh.",
  },
  deviceRefreshSkipped: {
    name: "hono_session.device_refreshes.skipped",
    unit: "{refresh}",
    description:
      "Device-bound sessions: requests saying the browser skipped a refresh (Secure-Session-Skipped), by the browser's reason.",
  },
  conflicts: {
    name: "hono_session.conflicts",
    unit: "{conflict}",
    description:
      "Saves that met a concurrent change to the same session: merged and retried, or rejected with 409.",
  },
  storeErrors: {
    name: "hono_session.store.errors",
    unit: "{error}",
    description:
      "Store calls that threw or rejected (conflicts excepted); each fails its request.",
  },
  storeDuration: {
    name: "hono_session.store.operation.duration",
    unit: "s",
    description: "Duration of session store calls.",
    buckets: [
      0.0001,
      0.00025,
      0.0005,
      0.001,
      0.0025,
      0.005,
      0.01,
      0.025,
      0.05,
      0.1,
      0.25,
      0.5,
      1,
      2.5,
      5,
      10,
    ],
  },
  cookieSize: {
    name: "hono_session.cookie.size",
    unit: "By",
    description:
      "Size of the session cookie written in cookie mode, name and value, summed over its chunks (browsers keep at most 4096 bytes per cookie).",
    buckets: [
      256,
      512,
      1024,
      2048,
      3072,
      3584,
      4096,
      6144,
      8192,
      12288,
      16384,
      24576,
      32768,
      40960,
    ],
  },
} as const;

/** The instruments, made from {@linkcode METRICS}. */
export interface Instruments {
  created: Counter;
  regenerated: Counter;
  signedOut: Counter;
  revoked: Counter;
  expired: Counter;
  refused: Counter;
  oldSecret: Counter;
  legacy: Counter;
  deviceBound: Counter;
  deviceProofRefused: Counter;
  deviceCookieRefused: Counter;
  deviceRefreshSkipped: Counter;
  conflicts: Counter;
  storeErrors: Counter;
  storeDuration: Histogram;
  cookieSize: Histogram;
}

function makeInstruments(meter: Meter): Instruments {
  const counter = (m: { name: string; unit: string; description: string }) =>
    meter.createCounter(m.name, { unit: m.unit, description: m.description });
  const histogram = (
    m: {
      name: string;
      unit: string;
      description: string;
      buckets: readonly number[];
    },
  ) =>
    meter.createHistogram(m.name, {
      unit: m.unit,
      description: m.description,
      advice: { explicitBucketBoundaries: [...m.buckets] },
    });
  return {
    created: counter(METRICS.created),
    regenerated: counter(METRICS.regenerated),
    signedOut: counter(METRICS.signedOut),
    revoked: counter(METRICS.revoked),
    expired: counter(METRICS.expired),
    refused: counter(METRICS.refused),
    oldSecret: counter(METRICS.oldSecret),
    legacy: counter(METRICS.legacy),
    deviceBound: counter(METRICS.deviceBound),
    deviceProofRefused: counter(METRICS.deviceProofRefused),
    deviceCookieRefused: counter(METRICS.deviceCookieRefused),
    deviceRefreshSkipped: counter(METRICS.deviceRefreshSkipped),
    conflicts: counter(METRICS.conflicts),
    storeErrors: counter(METRICS.storeErrors),
    storeDuration: histogram(METRICS.storeDuration),
    cookieSize: histogram(METRICS.cookieSize),
  };
}

// One set of instruments per meter provider, however many middlewares and
// listings report to it.
const made = new WeakMap<MeterProvider, Instruments>();

/** The instruments of `provider`, made on first use. */
export function instrumentsOf(provider: MeterProvider): Instruments {
  let instruments = made.get(provider);
  if (instruments === undefined) {
    instruments = makeInstruments(provider.getMeter(SCOPE, SCOPE_VERSION));
    made.set(provider, instruments);
  }
  return instruments;
}
