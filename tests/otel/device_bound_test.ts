// withTelemetry() with device-bound sessions (deviceBound): the protocol's
// steps and refused proofs become counters, driven by the test browser
// that speaks DBSC; the session identifier, like ids and keys, is never
// exported.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { session } from "../../mod.ts";
import { MemoryStore } from "../../stores/memory.ts";
import { withTelemetry } from "../../otel.ts";
import { DbscBrowser, readOffer } from "../../_testing/dbsc_browser.ts";
import { Jar } from "../_helpers.ts";
import { TestSdk, total } from "./_sdk.ts";
import { assertNothingSecret } from "./_checks.ts";

Deno.test("otel: device-bound sessions: offered, registered, challenged, refreshed, and a refused proof, counted", async () => {
  const sdk = new TestSdk();
  try {
    const store = new MemoryStore({ sweepInterval: 0 });
    const app = new Hono()
      .use(
        session<{ userId?: string }>(
          withTelemetry({ store, deviceBound: { lifetime: 60 } }, sdk),
        ),
      )
      .post("/login", (c) => {
        c.session.regenerate({ user: "dbsc-user-7a1e" });
        c.session.userId = "dbsc-user-7a1e";
        return c.text("ok");
      })
      .get("/me", (c) => c.text(c.session.userId ?? "-"));
    const browser = await DbscBrowser.create(app);
    const login = await browser.jar.fetch("/login", { method: "POST" });
    const offer = readOffer(login.headers.get("secure-session-registration"))!;
    const registered = await browser.register(offer);
    assert.equal(registered.status, 200);
    const { session_identifier } = await registered.json();
    const first = browser.jar.get("sid")!;
    assert.equal((await browser.refresh()).status, 200);
    assert.equal(await (await browser.fetch("/me")).text(), "dbsc-user-7a1e");
    // Another sign-in whose "browser" answers with no proof at all.
    const other = new Jar(app);
    const second = await other.fetch("/login", { method: "POST" });
    const path = readOffer(second.headers.get("secure-session-registration"))!
      .path;
    const refused = await other.fetch(path, {
      method: "POST",
      headers: { "secure-session-response": "not.a.proof" },
    });
    assert.ok(refused.status >= 400 && refused.status < 500);

    const m = await sdk.metrics();
    const step = (s: string) =>
      total(m, "hono_session.device_bound", { "hono_session.device.step": s });
    assert.equal(step("offered"), 2);
    assert.equal(step("registered"), 1);
    assert.equal(step("challenged"), 1);
    assert.equal(step("refreshed"), 1);
    assert.equal(
      total(m, "hono_session.device_proofs.refused", {
        "hono_session.device.step": "registration",
        "hono_session.device.reason": "malformed",
      }),
      1,
    );
    assert.equal(m.get("hono_session.device_bound")?.unit, "{event}");
    await assertNothingSecret(sdk, [
      "dbsc-user-7a1e",
      session_identifier,
      first,
      browser.jar.get("sid")!,
      other.get("sid")!,
    ]);
  } finally {
    await sdk.shutdown();
  }
});
