// Idle (sliding) and absolute timeouts, enforced on the server in both modes.
import assert from "node:assert/strict";
import type { SessionEvent } from "../../mod.ts";
import { basicApp, eachMode, Jar, withFakeTime } from "../_helpers.ts";

eachMode(
  "idle timeout: activity pushes the deadline back, written at most once per touchFraction",
  async (mode) => {
    await withFakeTime(async (clock) => {
      const events: SessionEvent[] = [];
      const jar = new Jar(basicApp(mode.options({
        idleTimeout: 100,
        touchFraction: 0.1,
        onEvent: (e) => void events.push(e),
      })));
      await jar.fetch("/login", { method: "POST" });
      assert.equal(
        jar.last[0].maxAge,
        100,
        "the cookie lives as long as the idle window",
      );

      clock.tick(5_000);
      assert.deepEqual(await jar.text("/read"), [200, "ada"]);
      assert.equal(
        jar.last.length,
        0,
        "5 s of the 10 s step: no write for a read",
      );

      clock.tick(45_000); // t = 50 s
      assert.deepEqual(await jar.text("/read"), [200, "ada"]);
      assert.deepEqual(
        jar.last.map((c) => c.maxAge),
        [100, 100],
        "pushed back: written once",
      );
      if (mode.store) {
        const record = await mode.record(jar.get("sid")!);
        assert.equal(record?.expires, clock.now() + 100_000);
      }
      clock.tick(99_999); // t = 149.999 s: one ms before the written deadline
      assert.deepEqual(await jar.text("/read"), [200, "ada"]);
      clock.tick(100_000); // idle for the whole window
      assert.deepEqual(await jar.text("/read"), [200, "-"]);
      assert.deepEqual(events.at(-1), { type: "expired", reason: "idle" });
    });
  },
);

eachMode("idle timeout never extends past maxAge", async (mode) => {
  await withFakeTime(async (clock) => {
    const jar = new Jar(
      basicApp(mode.options({ idleTimeout: 100, maxAge: 250 })),
    );
    await jar.fetch("/login", { method: "POST" });
    for (let t = 0; t < 240; t += 60) {
      clock.tick(60_000);
      assert.deepEqual(await jar.text("/read"), [200, "ada"], `t=${t + 60}`);
    }
    assert.ok(
      jar.last.every((c) => c.maxAge! <= 10),
      "the cookie stops at the maxAge deadline",
    );
    clock.tick(10_000); // t = 250 s
    assert.deepEqual(await jar.text("/read"), [200, "-"]);
  });
});

eachMode(
  "absolute timeout: counted from creation, renew() and activity cannot pass it",
  async (mode) => {
    await withFakeTime(async (clock) => {
      const events: SessionEvent[] = [];
      const app = basicApp(mode.options({
        absoluteTimeout: 300,
        maxAge: 1000,
        idleTimeout: 200,
        onEvent: (e) => void events.push(e),
      })).post("/renew", (c) => {
        c.session.renew(5000);
        return c.text("ok");
      });
      const jar = new Jar(app);
      await jar.fetch("/login", { method: "POST" });
      assert.equal(jar.last[0].maxAge, 200);
      clock.tick(150_000);
      await jar.fetch("/renew", { method: "POST" });
      assert.equal(
        jar.last[0].maxAge,
        150,
        "renew(5000) stops at the absolute deadline",
      );
      clock.tick(149_000);
      assert.deepEqual(await jar.text("/count", { method: "POST" }), [
        200,
        "1",
      ]);
      clock.tick(1_000); // t = 300 s
      assert.deepEqual(await jar.text("/read"), [200, "-"]);
      assert.deepEqual(events.at(-1), {
        type: "expired",
        reason: "absolute",
      });
    });
  },
);

eachMode(
  "absolute timeout: regenerate() restarts its clock; lowering the option ends older sessions",
  async (mode) => {
    await withFakeTime(async (clock) => {
      const options = mode.options({ maxAge: 3600 });
      const app = basicApp(options).post("/regen", (c) => {
        c.session.regenerate();
        return c.text("ok");
      });
      const ada = new Jar(app);
      const bob = new Jar(app);
      await ada.fetch("/login?user=ada", { method: "POST" });
      await bob.fetch("/login?user=bob", { method: "POST" });
      clock.tick(120_000);
      await ada.fetch("/regen", { method: "POST" }); // ada's session restarts now
      // The operator adds a 100 s absolute timeout.
      const strict = basicApp({ ...options, absoluteTimeout: 100 });
      const read = async (jar: Jar) =>
        await (await strict.request("/read", {
          headers: { cookie: jar.header() },
        })).text();
      assert.equal(await read(bob), "-", "created 120 s ago: over");
      assert.equal(await read(ada), "ada", "regenerated just now: alive");
    });
  },
);

Deno.test("timeouts are checked when the middleware is created", () => {
  assert.throws(
    () => basicApp({ idleTimeout: 0 }),
    /idleTimeout must be a number of seconds above 0/,
  );
  assert.throws(
    () => basicApp({ absoluteTimeout: 400 * 86400 + 1 }),
    /absoluteTimeout must be a number of seconds/,
  );
  for (const touchFraction of [0, -0.5, 0.51, 1, 1.5, NaN]) {
    assert.throws(
      () => basicApp({ idleTimeout: 100, touchFraction }),
      /touchFraction must be a number above 0 and at most 0\.5; got /,
    );
  }
});
