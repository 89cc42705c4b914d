// Node: @x/hono-session/otel from the npm build, with the app's own
// OpenTelemetry SDK (global providers, AsyncLocalStorage context), the
// request spans of @hono/otel, and a Prometheus exporter scraped over
// loopback, as an operator's Prometheus would. Checks the metric names
// Prometheus sees (the ones docs/observability.md's queries use), that store
// spans are children of the request's span, and that no secret is exported.
// Prints PASS/FAIL lines.
import { createServer } from "node:http";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { httpInstrumentationMiddleware } from "@hono/otel";
import { context, metrics, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { session, userSessions } from "@x/hono-session";
import { MemoryStore } from "@x/hono-session/stores/memory";
import { withTelemetry } from "@x/hono-session/otel";

const hono = process.argv[2] ? ` hono ${process.argv[2]}` : "";
let failed = 0;
function check(label, ok, detail = "") {
  if (!ok) failed++;
  console.log(
    `${ok ? "PASS" : "FAIL"} otel on node ${process.version}${hono}: ${label}${
      ok ? "" : `\n${detail}`
    }`,
  );
}

// The SDK, registered before the app handles a request, as the Node SDK
// does it.
const prometheus = new PrometheusExporter({ preventServerStart: true });
const spans = new InMemorySpanExporter();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [prometheus] }));
trace.setGlobalTracerProvider(
  new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter: spans })],
  }),
);

const USER = "node-otel-user-41c2";
const VALUE = "node-otel-value-9e07";
const SECRET = "node-otel-secret-node-otel-secret-node-otel";
const store = new MemoryStore({ sweepInterval: 0 });
const options = withTelemetry({ store });
const sessions = userSessions(options.store, withTelemetry());
const routes = (app) =>
  app
    .post("/login", (c) => {
      c.session.regenerate(c.req.path.startsWith("/s") ? { user: USER } : {});
      c.session.userId = USER;
      c.session.note = VALUE;
      return c.text("ok");
    })
    .get("/read", (c) => c.text(String(c.session.userId ?? "-")))
    .post("/logout", (c) => {
      c.session = null;
      return c.text("bye");
    });
const app = new Hono().use(httpInstrumentationMiddleware());
app.route(
  "/s",
  routes(new Hono().use(session(options))).post(
    "/everywhere",
    async (c) =>
      c.json({
        handles: (await sessions.list(USER)).map((s) => s.handle),
        ended: await sessions.revokeAll(USER),
      }),
  ),
);
app.route(
  "/c",
  routes(
    new Hono().use(
      session(withTelemetry({
        secret: SECRET,
        cookieName: "c",
        existsCookieName: "cx",
      })),
    ),
  ),
);

const server = await new Promise((resolve) => {
  const s = serve(
    { fetch: app.fetch, port: 0, hostname: "127.0.0.1" },
    () => resolve(s),
  );
});
const base = `http://127.0.0.1:${server.address().port}`;
async function send(path, cookie = "", method = "POST") {
  const res = await fetch(base + path, {
    method,
    headers: cookie ? { cookie } : {},
  });
  const body = await res.text();
  const set = res.headers.getSetCookie()[0];
  return { body, cookie: set ? set.slice(0, set.indexOf(";")) : "" };
}

const secrets = [USER, VALUE, SECRET];
try {
  const first = (await send("/s/login")).cookie;
  await send("/s/read", first, "GET");
  const second = (await send("/s/login", first)).cookie;
  await send("/s/logout", second);
  await send("/s/read", second, "GET");
  for (const pair of [first, second]) secrets.push(pair.split("=")[1]);
  await send("/s/login");
  const everywhere = JSON.parse((await send("/s/everywhere")).body);
  secrets.push(...everywhere.handles);
  const sealed = (await send("/c/login")).cookie;
  await send("/c/read", sealed.slice(0, -4) + "AAAA", "GET");
  secrets.push(sealed.split("=")[1]);
  check("a user's sessions revoked", everywhere.ended === 1);

  // Scrape, as Prometheus would.
  const scrape = createServer((req, res) =>
    prometheus.getMetricsRequestHandler(req, res)
  );
  await new Promise((r) => scrape.listen(0, "127.0.0.1", r));
  const text = await (await fetch(
    `http://127.0.0.1:${scrape.address().port}/metrics`,
  )).text();
  await new Promise((r) => scrape.close(r));
  const has = (pattern) => pattern.test(text);
  const series = [
    /^hono_session_sessions_created_total\{[^}]*hono_session_mode="store"[^}]*\} 2$/m,
    /^hono_session_sessions_created_total\{[^}]*hono_session_mode="cookie"[^}]*\} 1$/m,
    /^hono_session_sessions_regenerated_total\{[^}]*\} 1$/m,
    /^hono_session_sessions_signed_out_total\{[^}]*\} 1$/m,
    /^hono_session_sessions_revoked_total\{[^}]*\} 1$/m,
    /^hono_session_cookies_refused_total\{[^}]*hono_session_refusal_reason="unknown-id"[^}]*\} 1$/m,
    /^hono_session_cookies_refused_total\{[^}]*hono_session_refusal_reason="bad-seal"[^}]*\} 1$/m,
    /^hono_session_store_operation_duration_bucket\{[^}]*hono_session_store_kind="memory"[^}]*hono_session_store_operation="get"[^}]*le="0\.001"[^}]*\} \d+$/m,
    /^hono_session_cookie_size_bucket\{[^}]*le="4096"[^}]*\} 1$/m,
  ];
  const missing = series.filter((p) => !has(p));
  check(
    "Prometheus scrapes every series under the names docs/observability.md's queries use",
    missing.length === 0,
    `missing ${missing.join("\n")}\n${
      text.split("\n").filter((l) => l.startsWith("hono_session")).join("\n")
    }`,
  );
  const leaked = secrets.filter((s) => text.includes(s));
  check(
    "no id, hash, handle, user or value in the scrape",
    leaked.length === 0,
    leaked.join(", "),
  );

  // Spans: each store call inside the request span @hono/otel opened.
  const finished = spans.getFinishedSpans();
  const byId = new Map(finished.map((s) => [s.spanContext().spanId, s]));
  const ours = finished.filter((s) => s.name.startsWith("hono_session.store."));
  const orphans = ours.filter((s) => {
    const parent = byId.get(s.parentSpanContext?.spanId);
    return !parent || parent.name.startsWith("hono_session.");
  });
  check(
    "each store call is a span, a child of the request's span",
    ours.length >= 8 && orphans.length === 0,
    `${ours.length} store spans, ${orphans.length} without a request parent`,
  );
  const spanText = JSON.stringify(
    ours.map((s) => [s.name, s.attributes, s.events]),
  );
  const leakedInSpans = secrets.filter((s) => spanText.includes(s));
  check(
    "no secret in the store spans",
    leakedInSpans.length === 0,
    leakedInSpans.join(", "),
  );
} catch (error) {
  check("the scenario ran", false, String(error?.stack ?? error));
} finally {
  await new Promise((r) => server.close(r));
  await prometheus.shutdown();
}
process.exit(failed ? 1 : 0);
