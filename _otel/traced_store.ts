// A store wrapped for telemetry, in the tower-sessions way of adding to a
// store: another store around it. Each call becomes a span, a child of the
// request's active span, and a latency measurement; a call that throws or
// rejects is recorded on its span and counted. The wrapper keeps the
// store's shape: a synchronous answer stays synchronous (the middleware
// does not await it), and `replace` and `listUser` exist only when the
// store has them (the middleware and userSessions() look for them).
import {
  type Attributes,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import type { SessionStore } from "../session_store.ts";
import { SessionConflictError } from "../session_conflict_error.ts";
import { ATTRIBUTE } from "./instruments.ts";
import type { Telemetry } from "./telemetry.ts";

/** The store calls, by their name in telemetry. */
const OPERATIONS = {
  get: "get",
  set: "set",
  delete: "delete",
  replace: "replace",
  listUser: "list_user",
} as const;
type Method = keyof typeof OPERATIONS;

// Marks a traced store, so that it is not wrapped twice (every call would
// be counted twice).
const TRACED = Symbol("@x/hono-session/otel traced store");

/** Whether `store` is a store this module wrapped. */
export function isTraced(store: SessionStore): boolean {
  return Object.hasOwn(store, TRACED);
}

// The stores of this package by class name; any other store is "custom"
// unless the app names its kind.
const KINDS: Record<string, string> = {
  MemoryStore: "memory",
  DenoKvStore: "deno_kv",
  RedisStore: "redis",
  SqlStore: "sql",
  UnstorageStore: "unstorage",
};

/** The kind of store `store` is, for the `hono_session.store.kind` attribute. */
export function storeKindOf(store: SessionStore): string {
  if (store instanceof Map) return "map";
  const name = (store as { constructor?: { name?: unknown } }).constructor
    ?.name;
  return typeof name === "string" && Object.hasOwn(KINDS, name)
    ? KINDS[name]!
    : "custom";
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

// A name fit for `error.type`: the error's class name, or `_OTHER` (the
// semantic conventions' fallback) when there is none, when it is not a
// plain identifier, or when it repeats one of the call's arguments (a
// store key, a user id): those never leave the process.
function errorTypeOf(error: unknown, args: readonly unknown[]): string {
  const name = (error as { name?: unknown } | null)?.name;
  if (typeof name !== "string" || !/^[A-Za-z_$][\w$.]{0,63}$/.test(name)) {
    return "_OTHER";
  }
  for (const arg of args) {
    if (typeof arg === "string" && arg.length > 0 && name.includes(arg)) {
      return "_OTHER";
    }
  }
  return name;
}

/** Times and traces the calls of one store. */
class StoreProbe {
  readonly #store: SessionStore;
  readonly #telemetry: Telemetry;
  /** Span names and attributes, per method, made once. */
  readonly #spans: Record<Method, string>;
  readonly #attributes: Record<Method, Attributes>;

  constructor(store: SessionStore, telemetry: Telemetry, kind: string) {
    this.#store = store;
    this.#telemetry = telemetry;
    const spans = {} as Record<Method, string>;
    const attributes = {} as Record<Method, Attributes>;
    for (const method of Object.keys(OPERATIONS) as Method[]) {
      spans[method] = `hono_session.store.${OPERATIONS[method]}`;
      attributes[method] = Object.freeze({
        [ATTRIBUTE.storeKind]: kind,
        [ATTRIBUTE.storeOperation]: OPERATIONS[method],
      });
    }
    this.#spans = spans;
    this.#attributes = attributes;
  }

  /** Calls the store's `method` with `args`, as a span and a measurement. */
  call(method: Method, args: unknown[]): unknown {
    const store = this.#store;
    const fn = store[method] as (...args: unknown[]) => unknown;
    const span = this.#telemetry.tracer.startSpan(this.#spans[method], {
      kind: SpanKind.INTERNAL,
      attributes: this.#attributes[method],
    });
    const start = performance.now();
    let result: unknown;
    try {
      // Inside the span, so that a driver's own spans (pg, ioredis
      // instrumentations) become its children.
      result = span.isRecording()
        ? context.with(
          trace.setSpan(context.active(), span),
          () => fn.apply(store, args),
        )
        : fn.apply(store, args);
    } catch (error) {
      this.#finish(method, args, span, start, true, error);
      throw error;
    }
    if (!isThenable(result)) {
      this.#finish(method, args, span, start, false, undefined);
      return result;
    }
    return result.then(
      (value) => {
        this.#finish(method, args, span, start, false, undefined);
        return value;
      },
      (error: unknown) => {
        this.#finish(method, args, span, start, true, error);
        throw error;
      },
    );
  }

  #finish(
    method: Method,
    args: readonly unknown[],
    span: Span,
    start: number,
    failed: boolean,
    error: unknown,
  ): void {
    const seconds = (performance.now() - start) / 1000;
    let attributes = this.#attributes[method];
    const instruments = this.#telemetry.instruments;
    if (failed && error instanceof SessionConflictError) {
      // A checked write refused: the store did its job; the middleware
      // merges and retries, or answers 409 (the conflicts counter).
      span.setAttribute(ATTRIBUTE.storeConflict, true);
    } else if (failed) {
      const type = errorTypeOf(error, args);
      attributes = { ...attributes, [ATTRIBUTE.errorType]: type };
      // The type only: a message may quote what the store was given (a
      // key, a user, a value). The error itself reaches the app's onError.
      span.setAttribute(ATTRIBUTE.errorType, type);
      span.recordException({ name: type });
      span.setStatus({ code: SpanStatusCode.ERROR, message: type });
      instruments.storeErrors.add(1, attributes);
    }
    instruments.storeDuration.record(seconds, attributes);
    span.end();
  }
}

/**
 * `store` wrapped: the same store, each call of which is a span (child of
 * the active span) and a latency measurement, and each failure counted.
 */
export function tracedStore(
  store: SessionStore,
  telemetry: Telemetry,
  kind: string,
): SessionStore {
  const probe = new StoreProbe(store, telemetry, kind);
  const traced: SessionStore & { [TRACED]?: true } = {
    get: (...args) =>
      probe.call("get", args) as ReturnType<SessionStore["get"]>,
    set: (...args) => probe.call("set", args),
    delete: (...args) => probe.call("delete", args),
  };
  if (typeof store.replace === "function") {
    traced.replace = (...args) => probe.call("replace", args);
  }
  if (typeof store.listUser === "function") {
    traced.listUser = (...args) =>
      probe.call("listUser", args) as ReturnType<
        NonNullable<SessionStore["listUser"]>
      >;
  }
  Object.defineProperty(traced, TRACED, { value: true });
  return traced;
}
