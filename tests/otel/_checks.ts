// What every telemetry test checks of what was exported: only the
// attributes this package documents, with values from their fixed
// vocabularies, and none of the secrets the test planted anywhere.
import assert from "node:assert/strict";
import { exportedText, type TestSdk } from "./_sdk.ts";

// Each attribute key, with the values it may take (undefined: checked
// separately).
const ALLOWED: Record<string, readonly unknown[] | undefined> = {
  "hono_session.mode": ["cookie", "store"],
  "hono_session.expiry.reason": ["lifetime", "idle", "absolute"],
  "hono_session.refusal.reason": [
    "malformed",
    "duplicate",
    "oversized",
    "bad-seal",
    "bad-record",
    "unknown-id",
  ],
  "hono_session.conflict.outcome": ["merged", "rejected"],
  "hono_session.legacy.from": ["hono-session@1"],
  "hono_session.legacy.step": ["loaded", "moved"],
  "hono_session.secret.index": [1, 2, 3],
  "hono_session.device.step": [
    "offered",
    "registered",
    "challenged",
    "refreshed",
    "ended",
    "registration",
    "refresh",
  ],
  "hono_session.device.reason": [
    "malformed",
    "algorithm",
    "key",
    "signature",
    "challenge",
    "authorization",
    "session",
    "unproven",
    "skipped",
    "unreachable",
    "server_error",
    "quota_exceeded",
    "other",
  ],
  "hono_session.store.kind": [
    "memory",
    "map",
    "custom",
    "deno_kv",
    "redis",
    "sql",
    "unstorage",
  ],
  "hono_session.store.operation": [
    "get",
    "set",
    "delete",
    "replace",
    "list_user",
  ],
  "hono_session.store.conflict": [true],
  "error.type": undefined,
  // On a span's exception event: the error's type, never its message.
  "exception.type": undefined,
};

/**
 * Fails unless every exported attribute is one of ours, with an allowed
 * value (an error type: a plain identifier), and no secret appears
 * anywhere in what was exported.
 */
export async function assertNothingSecret(
  sdk: TestSdk,
  secrets: readonly string[],
): Promise<void> {
  const seen: Record<string, unknown>[] = [];
  for (const metric of (await sdk.metrics()).values()) {
    if (!metric.name.startsWith("hono_session.")) continue;
    for (const point of metric.points) seen.push(point.attributes);
  }
  for (const span of sdk.spans()) {
    if (!span.name.startsWith("hono_session.")) continue;
    seen.push(span.attributes);
    for (const event of span.events) seen.push(event.attributes);
  }
  for (const attributes of seen) {
    for (const [key, value] of Object.entries(attributes)) {
      assert.ok(Object.hasOwn(ALLOWED, key), `unexpected attribute ${key}`);
      const allowed = ALLOWED[key];
      if (allowed) {
        assert.ok(allowed.includes(value), `${key} = ${String(value)}`);
      } else {
        assert.match(String(value), /^[A-Za-z_$][\w$.]*$/, key);
      }
    }
  }
  const text = await exportedText(sdk);
  for (const secret of secrets) {
    assert.ok(secret.length >= 8, `a secret worth searching for: ${secret}`);
    assert.ok(!text.includes(secret), `exported telemetry contains ${secret}`);
  }
}
