/**
 * OpenTelemetry for the session middleware: metrics of sessions created,
 * regenerated, signed out, revoked and expired, of refused cookies,
 * conflicts and store errors, of store latency and cookie size; and a span
 * for each store call, a child of the request's span.
 *
 * It depends only on `@opentelemetry/api`, so it records nothing until the
 * app runs an OpenTelemetry SDK: Deno's built-in one (`OTEL_DENO=true`), or
 * the Node SDK registered before the app starts. No attribute ever holds a
 * session id, its hash, a handle, a user id or a session value. An app that
 * does not call {@linkcode withTelemetry} pays nothing for this module.
 *
 * @example Turn it on
 * ```ts
 * import { Hono } from "hono";
 * import { session } from "@x/hono-session";
 * import { MemoryStore } from "@x/hono-session/stores/memory";
 * import { withTelemetry } from "@x/hono-session/otel";
 *
 * const app = new Hono().use(
 *   session(withTelemetry({
 *     store: new MemoryStore(),
 *     // The app's own listener still gets every event.
 *     onEvent: (event) => console.log("session event", event),
 *   })),
 * );
 * ```
 *
 * @module
 */
import type { MeterProvider, TracerProvider } from "@opentelemetry/api";
import type { Context } from "hono";
import type { SessionEvent } from "./session_event.ts";
import type { SessionOptions } from "./session_options.ts";
import type { SessionStore } from "./session_store.ts";
import { Telemetry } from "./_otel/telemetry.ts";
import { eventMetrics } from "./_otel/event_metrics.ts";
import { isTraced, storeKindOf, tracedStore } from "./_otel/traced_store.ts";

/**
 * An OpenTelemetry meter provider: the SDK's `MeterProvider`, or
 * `metrics.getMeterProvider()` from `@opentelemetry/api`. Typed by its
 * shape, so that any copy of the API fits.
 *
 * @example
 * ```ts
 * import type { MeterProviderLike } from "@x/hono-session/otel";
 * import { metrics } from "@opentelemetry/api";
 *
 * const provider: MeterProviderLike = metrics.getMeterProvider();
 * ```
 */
export interface MeterProviderLike {
  /** Returns the meter of an instrumentation scope. */
  getMeter(name: string, version?: string): unknown;
}

/**
 * An OpenTelemetry tracer provider: the SDK's, or
 * `trace.getTracerProvider()` from `@opentelemetry/api`. Typed by its
 * shape, so that any copy of the API fits.
 *
 * @example
 * ```ts
 * import type { TracerProviderLike } from "@x/hono-session/otel";
 * import { trace } from "@opentelemetry/api";
 *
 * const provider: TracerProviderLike = trace.getTracerProvider();
 * ```
 */
export interface TracerProviderLike {
  /** Returns the tracer of an instrumentation scope. */
  getTracer(name: string, version?: string): unknown;
}

/**
 * Where telemetry goes, and how the store is named in it. Every one is
 * optional.
 *
 * @example Report to providers of the app's own
 * ```ts
 * import type { TelemetryOptions } from "@x/hono-session/otel";
 * import { metrics, trace } from "@opentelemetry/api";
 *
 * const telemetry: TelemetryOptions = {
 *   meterProvider: metrics.getMeterProvider(),
 *   tracerProvider: trace.getTracerProvider(),
 *   storeKind: "redis_sessions",
 * };
 * ```
 */
export interface TelemetryOptions {
  /**
   * The meter provider the metrics go to. Default: the global one,
   * looked up at the first event (so the SDK must be registered before the
   * first request, as OpenTelemetry asks of every instrumentation).
   */
  meterProvider?: MeterProviderLike | undefined;
  /** The tracer provider the store spans go to. Default: the global one. */
  tracerProvider?: TracerProviderLike | undefined;
  /**
   * The `hono_session.store.kind` attribute of store metrics and spans.
   * Default: `memory`, `deno_kv`, `redis`, `sql` or `unstorage` for this
   * package's stores, `map` for a `Map`, `custom` for any other. Keep it
   * to a few fixed names: it is a metric attribute.
   */
  storeKind?: string | undefined;
}

/**
 * The options {@linkcode withTelemetry} returns: the same, with the store
 * (typed as a plain {@linkcode SessionStore}: it is a wrapper) and
 * `onEvent` replaced.
 *
 * @example
 * ```ts
 * import type { SessionStore } from "@x/hono-session";
 * import type { Instrumented } from "@x/hono-session/otel";
 *
 * type Options = Instrumented<{ store: Map<string, never>; maxAge: number }>;
 * const check: SessionStore = ({} as Options).store;
 * ```
 */
export type Instrumented<O> = O extends { store: SessionStore }
  ? Omit<O, "store"> & { store: SessionStore }
  : O;

// Marks a listener made here: instrumenting it again would count twice.
const COUNTING = Symbol("@x/hono-session/otel counting listener");

const TELEMETRY_KEYS = new Set([
  "meterProvider",
  "tracerProvider",
  "storeKind",
]);

// The telemetry options, checked like session()'s: a mistake throws now.
function checkTelemetry(given: unknown, fn: string): TelemetryOptions {
  if (given === undefined) return {};
  if (given === null || typeof given !== "object") {
    throw new TypeError(
      `${fn}: the telemetry options must be an object, such as { meterProvider, tracerProvider, storeKind }`,
    );
  }
  for (const key of Object.keys(given)) {
    if (!TELEMETRY_KEYS.has(key)) {
      throw new TypeError(
        `${fn}: unknown telemetry option "${key}"; it takes ${
          [...TELEMETRY_KEYS].join(", ")
        }`,
      );
    }
  }
  const options = given as TelemetryOptions;
  if (
    options.meterProvider !== undefined &&
    typeof options.meterProvider?.getMeter !== "function"
  ) {
    throw new TypeError(`${fn}: meterProvider must have getMeter()`);
  }
  if (
    options.tracerProvider !== undefined &&
    typeof options.tracerProvider?.getTracer !== "function"
  ) {
    throw new TypeError(`${fn}: tracerProvider must have getTracer()`);
  }
  if (
    options.storeKind !== undefined &&
    (typeof options.storeKind !== "string" ||
      !/^[a-z][a-z0-9_.]{0,63}$/.test(options.storeKind))
  ) {
    throw new TypeError(
      `${fn}: storeKind must be a short lowercase name (letters, digits, "_" and "."), such as "redis" or "sessions_pg"`,
    );
  }
  return options;
}

function checkStore(store: unknown, fn: string): SessionStore {
  const s = store as Record<string, unknown> | null;
  if (
    s === null || typeof s !== "object" ||
    !["get", "set", "delete"].every((m) => typeof s[m] === "function")
  ) {
    throw new TypeError(
      `${fn}: the store must have get, set and delete methods (a Map works)`,
    );
  }
  if (isTraced(store as SessionStore)) {
    throw new TypeError(
      `${fn}: this store is instrumented already; pass the store itself, or use the instrumented one as it is (each call would be counted twice)`,
    );
  }
  return store as SessionStore;
}

/**
 * Turns telemetry on for a `session()` middleware: give it the options you
 * would give `session()`, and give `session()` what it returns. The store
 * (in store mode) is wrapped so that each call is a span and a latency
 * measurement, and `onEvent` counts every event before calling yours. The
 * other options pass through unchanged.
 *
 * The same call on the options of `userSessions()` counts revocations:
 * `userSessions(store, withTelemetry())`.
 *
 * @param options The options of `session()` (or of `userSessions()`).
 * @param telemetry Where telemetry goes; by default the global providers.
 * @returns A copy of `options` with the store wrapped and `onEvent`
 *   replaced.
 * @throws {TypeError} When a telemetry option is wrong, the store lacks
 *   `get`, `set` or `delete`, or the options were instrumented already.
 *
 * @example Deno: run the app with `OTEL_DENO=true`
 * ```ts
 * import { Hono } from "hono";
 * import { session, userSessions } from "@x/hono-session";
 * import { MemoryStore } from "@x/hono-session/stores/memory";
 * import { withTelemetry } from "@x/hono-session/otel";
 *
 * const options = withTelemetry({ store: new MemoryStore() });
 * const app = new Hono().use(session(options));
 * // Revocations count too; the listing's store calls are traced.
 * const sessions = userSessions(options.store, withTelemetry());
 * ```
 */
export function withTelemetry<O extends SessionOptions>(
  options: O,
  telemetry?: TelemetryOptions,
): Instrumented<O>;
/**
 * Without options: just the listener that counts events, as options for
 * `userSessions()` (its revocations) or for a cookie-mode `session()`.
 *
 * @param options Left out (or `undefined`).
 * @param telemetry Where telemetry goes; by default the global providers.
 * @returns `{ onEvent }`.
 * @throws {TypeError} When a telemetry option is wrong.
 *
 * @example
 * ```ts
 * import { userSessions } from "@x/hono-session";
 * import { MemoryStore } from "@x/hono-session/stores/memory";
 * import { withTelemetry } from "@x/hono-session/otel";
 *
 * const sessions = userSessions(new MemoryStore(), withTelemetry());
 * ```
 */
export function withTelemetry(
  options?: undefined,
  telemetry?: TelemetryOptions,
): { onEvent: (event: SessionEvent) => void };
export function withTelemetry(
  options?: SessionOptions,
  telemetry?: TelemetryOptions,
): SessionOptions {
  const fn = "withTelemetry()";
  if (
    options !== undefined && (options === null || typeof options !== "object")
  ) {
    throw new TypeError(`${fn}: options must be an object`);
  }
  const config = checkTelemetry(telemetry, fn);
  const own = options?.onEvent;
  if (typeof own === "function" && Object.hasOwn(own, COUNTING)) {
    throw new TypeError(
      `${fn}: these options are instrumented already (each event would be counted twice); pass the options themselves`,
    );
  }
  const sink = new Telemetry(
    config.meterProvider as MeterProvider | undefined,
    config.tracerProvider as TracerProvider | undefined,
  );
  const store = options?.store === undefined
    ? undefined
    : checkStore(options.store, fn);
  const record = eventMetrics(sink, store === undefined ? "cookie" : "store");
  const onEvent = typeof own === "function"
    ? (event: SessionEvent, c: Context): void => {
      record(event);
      own(event, c);
    }
    : (event: SessionEvent): void => record(event);
  Object.defineProperty(onEvent, COUNTING, { value: true });
  const result: Record<string, unknown> = { ...options, onEvent };
  if (store !== undefined) {
    result.store = tracedStore(
      store,
      sink,
      config.storeKind ?? storeKindOf(store),
    );
  }
  return result;
}

/**
 * A store whose every call is a span (a child of the active span, with the
 * store kind and operation, errors recorded) and a latency measurement;
 * failures are counted. {@linkcode withTelemetry} does this to the store it
 * is given; call it yourself for a store you use elsewhere, such as the
 * one `userSessions()` lists and revokes through.
 *
 * @param store Any session store (a `Map` works).
 * @param telemetry Where telemetry goes; by default the global providers.
 * @returns A store that calls `store`, with `replace` and `listUser` only
 *   if `store` has them.
 * @throws {TypeError} When the store lacks `get`, `set` or `delete`, is
 *   instrumented already, or a telemetry option is wrong.
 *
 * @example
 * ```ts
 * import { userSessions } from "@x/hono-session";
 * import { MemoryStore } from "@x/hono-session/stores/memory";
 * import { instrumentStore, withTelemetry } from "@x/hono-session/otel";
 *
 * const store = new MemoryStore();
 * const sessions = userSessions(instrumentStore(store), withTelemetry());
 * ```
 */
export function instrumentStore(
  store: SessionStore,
  telemetry?: TelemetryOptions,
): SessionStore {
  const fn = "instrumentStore()";
  const config = checkTelemetry(telemetry, fn);
  const checked = checkStore(store, fn);
  return tracedStore(
    checked,
    new Telemetry(
      config.meterProvider as MeterProvider | undefined,
      config.tracerProvider as TracerProvider | undefined,
    ),
    config.storeKind ?? storeKindOf(checked),
  );
}
