// An npm user's telemetry setup, type-checked by tsc under the strictest
// options (strict, exactOptionalPropertyTypes, noUncheckedIndexedAccess):
// the SDK's providers fit the options, withTelemetry() returns what
// session() and userSessions() take, and mistakes do not compile.
import { Hono } from "hono";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { TracerProvider } from "@opentelemetry/sdk-trace";
import { session, type SessionStore, userSessions } from "@x/hono-session";
import { MemoryStore } from "@x/hono-session/stores/memory";
import {
  instrumentStore,
  type TelemetryOptions,
  withTelemetry,
} from "@x/hono-session/otel";

const telemetry: TelemetryOptions = {
  meterProvider: new MeterProvider(),
  tracerProvider: new TracerProvider(),
  storeKind: process.env.STORE_KIND,
};
const options = withTelemetry({
  store: new MemoryStore(),
  maxAge: 3600,
  onEvent: (event, c) => {
    const type: string = event.type;
    console.log(type, c.req.path);
  },
}, telemetry);
const store: SessionStore = options.store;
// @ts-expect-error the wrapper is a SessionStore, not a MemoryStore
options.store.close();
export const app = new Hono().use(session<{ userId?: string }>(options));
export const cookieApp = new Hono().use(session(withTelemetry({})));
export const sessions = userSessions(store, withTelemetry());
export const logged = userSessions(
  instrumentStore(new MemoryStore(), telemetry),
  withTelemetry({ onEvent: (event) => console.log(event.type) }),
);
// @ts-expect-error storeKind is a string
withTelemetry({}, { storeKind: 42 });
