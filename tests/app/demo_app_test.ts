// The demo app, driven like a browser: sign in through the form, follow the
// redirect, see the notice once, count visits, sign out.
import assert from "node:assert/strict";
import { demoApp, settingsFromEnv } from "../../examples/demo.ts";
import { Jar } from "../_helpers.ts";
import { startDemo } from "../../support/server_process.ts";

const ORIGIN = "http://localhost";

function form(name: string): RequestInit {
  return {
    method: "POST",
    body: new URLSearchParams({ name }),
    headers: {
      origin: ORIGIN,
      "content-type": "application/x-www-form-urlencoded",
    },
  };
}

for (const mode of ["kv", "memory", "cookie"]) {
  Deno.test(`demo app works end to end [${mode} sessions]`, async () => {
    const env = new Map([["SESSION_MODE", mode], [
      "SESSION_KV_PATH",
      ":memory:",
    ]]);
    const settings = await settingsFromEnv(env);
    assert.equal(settings.mode, mode);
    using _ = { [Symbol.dispose]: settings.close };
    const jar = new Jar(demoApp(settings.options));
    let [status, page] = await jar.text(`${ORIGIN}/`);
    assert.equal(status, 200);
    assert.match(page, /<form method="post" action="\/login">/);
    assert.equal(
      jar.last.length,
      0,
      "an anonymous page view starts no session",
    );

    const login = await jar.fetch(`${ORIGIN}/login`, form("<Ada>"));
    assert.equal(login.status, 303);
    assert.equal(login.headers.get("location"), "/");
    [, page] = await jar.text(`${ORIGIN}/`);
    assert.match(
      page,
      /Signed in as <strong id="user">&lt;Ada&gt;<\/strong>/,
      "escaped",
    );
    assert.match(page, /Welcome, &lt;Ada&gt;!/);
    assert.match(page, /<span id="visits">1<\/span>/);
    [, page] = await jar.text(`${ORIGIN}/`);
    assert.doesNotMatch(page, /Welcome/, "the notice shows once");
    assert.match(page, /<span id="visits">2<\/span>/, "the count goes on");
    assert.deepEqual(await jar.text(`${ORIGIN}/me`), [
      200,
      '{"userId":"<Ada>"}',
    ]);

    const forged = await jar.fetch(`${ORIGIN}/logout`, {
      method: "POST",
      headers: {
        origin: "http://evil.example",
        "content-type": "application/x-www-form-urlencoded",
      },
    });
    assert.equal(forged.status, 403, "csrf() refuses a cross-site form post");

    const logout = await jar.fetch(`${ORIGIN}/logout`, form(""));
    assert.equal(logout.headers.get("location"), "/?signed-out");
    assert.deepEqual(jar.last.map((c) => [c.name, c.maxAge]), [["sid", 0], [
      "sx",
      0,
    ]]);
    assert.equal(jar.cookies.size, 0, "both cookies cleared");
    [, page] = await jar.text(`${ORIGIN}/?signed-out`);
    assert.match(page, /You are signed out\./);
    assert.equal(jar.last.length, 0, "and no new session starts");
    assert.deepEqual(await jar.text(`${ORIGIN}/me`), [
      401,
      '{"error":"Unauthorised"}',
    ]);
  });
}

Deno.test("demo refuses an unknown SESSION_MODE", async () => {
  await assert.rejects(
    () => settingsFromEnv(new Map([["SESSION_MODE", "redis"]])),
    /SESSION_MODE must be "kv", "memory" or "cookie"/,
  );
});

Deno.test("the demo keeps sessions in .data/demo.kv by default: they survive a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hono-session-demo-" });
  try {
    let demo = await startDemo(dir);
    const jar = new Jar(
      {
        request: (path: string, init: RequestInit) =>
          fetch(demo.url + path, init),
      } as never,
    );
    try {
      const login = await jar.fetch("/login", {
        ...form("Grace"),
        redirect: "manual",
        headers: {
          origin: demo.url,
          "content-type": "application/x-www-form-urlencoded",
        },
      });
      assert.equal(login.status, 303);
      assert.deepEqual(await jar.text("/me"), [200, '{"userId":"Grace"}']);
    } finally {
      await demo.stop();
    }
    assert.ok((await Deno.stat(`${dir}/.data/demo.kv`)).isFile);
    demo = await startDemo(dir);
    try {
      assert.deepEqual(
        await jar.text("/me"),
        [200, '{"userId":"Grace"}'],
        "still signed in",
      );
    } finally {
      await demo.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
