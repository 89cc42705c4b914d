// The telemetry reaches a real exporter: tests/fixtures/otel_app.ts runs
// under Deno's built-in OpenTelemetry (OTEL_DENO=true), which sends OTLP
// over HTTP to a receiver this test starts on loopback. With the JSON
// encoding every metric, unit, attribute and span is checked, store spans
// as children of Deno's own HTTP server spans; with the default protobuf
// encoding, the names are found in the bytes. Nothing secret the app saw
// reaches the collector. `OTEL_PRINT=1` prints the metrics one run
// exported.
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url);

interface Received {
  path: string;
  type: string;
  body: Uint8Array;
}

/** Runs the app once under OTEL_DENO, and returns what the receiver got. */
async function exportOnce(
  protocol: "http/json" | "http/protobuf",
): Promise<{ received: Received[]; secrets: string[] }> {
  const received: Received[] = [];
  const receiver = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    async (req) => {
      received.push({
        path: new URL(req.url).pathname,
        type: req.headers.get("content-type") ?? "",
        body: new Uint8Array(await req.arrayBuffer()),
      });
      // An empty success answer, in the encoding of the request.
      return protocol === "http/json"
        ? Response.json({})
        : new Response(new Uint8Array(), {
          headers: { "content-type": "application/x-protobuf" },
        });
    },
  );
  try {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net=127.0.0.1",
        "--config",
        new URL("deno.json", root).pathname,
        new URL("tests/fixtures/otel_app.ts", root).pathname,
      ],
      cwd: root,
      env: {
        OTEL_DENO: "true",
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.addr.port}`,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_SERVICE_NAME: "hono-session-otel-test",
        NO_COLOR: "1",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(stdout);
    assert.equal(code, 0, out + new TextDecoder().decode(stderr));
    const { secrets } = JSON.parse(out.trim().split("\n").at(-1)!) as {
      secrets: string[];
    };
    return { received, secrets };
  } finally {
    await receiver.shutdown();
  }
}

// OTLP/JSON, the parts this test reads.
type Value = {
  stringValue?: string;
  intValue?: string;
  boolValue?: boolean;
  doubleValue?: number;
};
type KeyValue = { key: string; value: Value };
interface Point {
  attributes: KeyValue[];
  asDouble?: number;
  asInt?: string;
  count?: string;
  sum?: number;
}
interface OtlpMetric {
  name: string;
  unit: string;
  description: string;
  sum?: { dataPoints: Point[] };
  histogram?: { dataPoints: Point[] };
}
interface OtlpSpan {
  name: string;
  kind: number;
  spanId: string;
  parentSpanId: string;
  attributes: KeyValue[];
  status?: { code?: number; message?: string };
}

function json<T>(received: Received[], path: string): T[] {
  const bodies = received.filter((r) => r.path === path);
  assert.ok(bodies.length > 0, `the collector received ${path}`);
  for (const r of bodies) assert.match(r.type, /^application\/json/);
  return bodies.map((r) => JSON.parse(new TextDecoder().decode(r.body)) as T);
}

const flat = (attributes: KeyValue[]): Record<string, unknown> =>
  Object.fromEntries(
    attributes.map(({ key, value }) => [
      key,
      value.stringValue ?? value.boolValue ?? value.doubleValue ??
        (value.intValue === undefined ? undefined : Number(value.intValue)),
    ]),
  );

Deno.test("otel: under OTEL_DENO, the metrics and the store spans reach an OTLP receiver (JSON)", async () => {
  const { received, secrets } = await exportOnce("http/json");
  // Metrics: ours, under the package's scope.
  const metrics: OtlpMetric[] = [];
  for (
    const body of json<{
      resourceMetrics: {
        scopeMetrics: { scope: { name: string }; metrics: OtlpMetric[] }[];
      }[];
    }>(received, "/v1/metrics")
  ) {
    for (const rm of body.resourceMetrics) {
      for (const sm of rm.scopeMetrics) {
        if (sm.scope.name === "@x/hono-session") metrics.push(...sm.metrics);
      }
    }
  }
  const byName = new Map(metrics.map((m) => [m.name, m]));
  const sum = (name: string, where: Record<string, unknown> = {}) =>
    (byName.get(name)?.sum?.dataPoints ?? byName.get(name)?.histogram
      ?.dataPoints ??
      [])
      .filter((p) => {
        const a = flat(p.attributes);
        return Object.entries(where).every(([k, v]) => a[k] === v);
      })
      .reduce(
        (n, p) => n + (p.asDouble ?? Number(p.asInt ?? p.count ?? 0)),
        0,
      );
  const store = { "hono_session.mode": "store" };
  const cookie = { "hono_session.mode": "cookie" };
  assert.equal(sum("hono_session.sessions.created", store), 4);
  assert.equal(sum("hono_session.sessions.created", cookie), 4);
  assert.equal(sum("hono_session.sessions.regenerated", store), 1);
  assert.equal(sum("hono_session.sessions.signed_out", store), 1);
  assert.equal(sum("hono_session.sessions.signed_out", cookie), 1);
  assert.equal(sum("hono_session.sessions.revoked"), 2);
  assert.equal(
    sum("hono_session.cookies.refused", {
      ...store,
      "hono_session.refusal.reason": "unknown-id",
    }),
    1,
  );
  assert.equal(
    sum("hono_session.cookies.refused", {
      ...store,
      "hono_session.refusal.reason": "malformed",
    }),
    1,
  );
  assert.equal(
    sum("hono_session.cookies.refused", {
      ...cookie,
      "hono_session.refusal.reason": "bad-seal",
    }),
    1,
  );
  assert.equal(
    sum("hono_session.store.errors", {
      "hono_session.store.kind": "custom",
      "hono_session.store.operation": "get",
      "error.type": "Error",
    }),
    1,
  );
  for (const reason of ["lifetime", "idle", "absolute"]) {
    assert.equal(
      sum("hono_session.sessions.expired", {
        ...cookie,
        "hono_session.expiry.reason": reason,
      }),
      1,
      reason,
    );
  }
  assert.equal(sum("hono_session.cookie.size"), 4);
  assert.ok(
    sum("hono_session.store.operation.duration", {
      "hono_session.store.kind": "memory",
    }) >= 10,
  );
  for (
    const [name, unit] of [
      ["hono_session.sessions.created", "{session}"],
      ["hono_session.cookies.refused", "{cookie}"],
      ["hono_session.store.errors", "{error}"],
      ["hono_session.store.operation.duration", "s"],
      ["hono_session.cookie.size", "By"],
    ]
  ) {
    assert.equal(byName.get(name!)?.unit, unit, name);
    assert.ok(byName.get(name!)!.description.length > 20, name);
  }

  // Spans: each store call a child of the server span of its request.
  const spans: { scope: string; span: OtlpSpan }[] = [];
  for (
    const body of json<{
      resourceSpans: {
        scopeSpans: { scope: { name: string }; spans: OtlpSpan[] }[];
      }[];
    }>(received, "/v1/traces")
  ) {
    for (const rs of body.resourceSpans) {
      for (const ss of rs.scopeSpans) {
        for (const span of ss.spans) spans.push({ scope: ss.scope.name, span });
      }
    }
  }
  const byId = new Map(spans.map((s) => [s.span.spanId, s]));
  const ours = spans.filter((s) => s.scope === "@x/hono-session");
  assert.deepEqual(
    [...new Set(ours.map((s) => s.span.name))].sort(),
    [
      "hono_session.store.delete",
      "hono_session.store.get",
      "hono_session.store.list_user",
      "hono_session.store.replace",
      "hono_session.store.set",
    ],
  );
  let inRequests = 0;
  for (const { span } of ours) {
    const attributes = flat(span.attributes);
    assert.equal(
      span.name,
      `hono_session.store.${attributes["hono_session.store.operation"]}`,
    );
    const parent = byId.get(span.parentSpanId);
    assert.ok(parent, `${span.name} has its parent in the export`);
    assert.equal(parent.scope, "deno", "Deno's HTTP instrumentation");
    assert.equal(parent.span.kind, 2, "a server span");
    inRequests++;
  }
  assert.ok(inRequests >= 15, `store spans inside requests: ${inRequests}`);
  const failed = ours.filter((s) => s.span.status?.code === 2);
  assert.equal(failed.length, 1);
  assert.equal(flat(failed[0]!.span.attributes)["error.type"], "Error");

  // Nothing the app saw (ids, their hashes, handles, the user, values,
  // seals, the error's message) in the metrics or the spans.
  const exported = received
    .filter((r) => r.path !== "/v1/logs")
    .map((r) => new TextDecoder().decode(r.body))
    .join("\n");
  for (const secret of secrets) {
    assert.ok(!exported.includes(secret), `exported: ${secret.slice(0, 30)}`);
  }

  if (Deno.env.get("OTEL_PRINT")) {
    console.log("\nmetrics exported by one run of tests/fixtures/otel_app.ts:");
    for (const m of [...metrics].sort((a, b) => a.name.localeCompare(b.name))) {
      for (const p of m.sum?.dataPoints ?? m.histogram?.dataPoints ?? []) {
        const labels = Object.entries(flat(p.attributes))
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => `${k}=${v}`).join(",");
        const total = Number(p.sum);
        const value = m.histogram
          ? `count=${p.count} sum=${
            m.unit === "s" ? total.toPrecision(3) : total
          }`
          : String(p.asDouble ?? p.asInt);
        console.log(`${m.name} (${m.unit}) {${labels}} ${value}`);
      }
    }
    const counts = new Map<string, number>();
    for (const { span } of ours) {
      counts.set(span.name, (counts.get(span.name) ?? 0) + 1);
    }
    console.log(
      `spans: ${[...counts].sort().map(([n, c]) => `${n} x${c}`).join(", ")}`,
    );
  }
});

Deno.test("otel: under OTEL_DENO with the default protobuf encoding, metric and span names arrive", async () => {
  const { received } = await exportOnce("http/protobuf");
  const text = (path: string) =>
    received.filter((r) => r.path === path).map((r) => {
      assert.equal(r.type, "application/x-protobuf");
      return new TextDecoder().decode(r.body);
    }).join("\n");
  const metrics = text("/v1/metrics");
  for (
    const name of [
      "hono_session.sessions.created",
      "hono_session.sessions.regenerated",
      "hono_session.sessions.signed_out",
      "hono_session.sessions.revoked",
      "hono_session.sessions.expired",
      "hono_session.cookies.refused",
      "hono_session.store.errors",
      "hono_session.store.operation.duration",
      "hono_session.cookie.size",
    ]
  ) assert.ok(metrics.includes(name), name);
  const traces = text("/v1/traces");
  for (const name of ["get", "set", "replace", "delete", "list_user"]) {
    assert.ok(traces.includes(`hono_session.store.${name}`), name);
  }
});
