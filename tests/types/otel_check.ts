// Type checks for @x/hono-session/otel: withTelemetry() takes the options
// of session() written inline (contextually typed, unknown keys refused),
// returns what session() and userSessions() take, and types its store as
// a plain SessionStore. Checked plain and under the strictest options.
import { Hono } from "hono";
import {
  session,
  type SessionEvent,
  type SessionStore,
  userSessions,
} from "@x/hono-session";
import { MemoryStore } from "@x/hono-session/stores/memory";
import {
  instrumentStore,
  type MeterProviderLike,
  type TelemetryOptions,
  withTelemetry,
} from "@x/hono-session/otel";
import { metrics, trace } from "@opentelemetry/api";

const secret: string | undefined = Deno.env.get("SESSION_SECRET");
// Inline, as README.md shows it: cookie mode, then store mode.
export const cookieApp = new Hono().use(
  session<{ userId?: string }>(withTelemetry({
    ...(secret ? { secret } : {}),
    maxAge: 3600,
    onEvent: (event, c) => {
      const type: SessionEvent["type"] = event.type;
      console.log(type, c.req.path);
    },
  })),
);
const options = withTelemetry({ store: new MemoryStore(), idleTimeout: 900 });
export const storeApp = new Hono().use(session(options));
const store: SessionStore = options.store;
// @ts-expect-error the wrapper is a SessionStore, not a MemoryStore
options.store.close();
export const listing = userSessions(store, withTelemetry());
export const logging = userSessions(
  instrumentStore(new MemoryStore()),
  withTelemetry({ onEvent: (event) => console.log(event.type) }),
);
const providers: TelemetryOptions = {
  meterProvider: metrics.getMeterProvider(),
  tracerProvider: trace.getTracerProvider(),
  storeKind: undefined,
};
export const meter: MeterProviderLike | undefined = providers.meterProvider;
// @ts-expect-error an unknown option of session()
withTelemetry({ secrets: "x" });
// @ts-expect-error storeKind is a string
withTelemetry({}, { storeKind: 42 });
