// The demo app, driven like a browser: sign in through the form, follow the
// redirect, see the notice once, count visits, sign out.
import assert from "node:assert/strict";
import { demoApp, settingsFromEnv } from "../../examples/demo.ts";
import { Jar, withFakeTime } from "../_helpers.ts";
import { DbscBrowser } from "../../_testing/dbsc_browser.ts";
import {
  DEMO_CONFIG,
  demoTask,
  startDemo,
  startServer,
} from "../../support/server_process.ts";

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

Deno.test("the demo task refuses a SESSION_KV_PATH outside .data/ and says how to run it instead", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hono-session-demo-" });
  try {
    const elsewhere = `${dir}/elsewhere/demo.kv`;
    const task = await demoTask("demo");
    assert.deepEqual(task.words.slice(0, 2), ["deno", "run"]);
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--config", DEMO_CONFIG, ...task.permissions, task.script],
      cwd: dir,
      env: { SESSION_KV_PATH: elsewhere, PORT: "0", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 1, err);
    assert.equal(new TextDecoder().decode(stdout), "", "it never listens");
    assert.match(err, /^demo: SESSION_KV_PATH is ".*elsewhere\/demo\.kv"/);
    assert.match(err, /Pick a path under \.data\//);
    assert.ok(
      err.trimEnd().endsWith(
        `deno run --config examples/demo.json --allow-net --allow-env --allow-read=${dir}/elsewhere/ --allow-write=${dir}/elsewhere/ examples/demo.ts`,
      ),
      err,
    );
    assert.equal(err.match(/^demo: /gm)?.length, 1, err);
    assert.doesNotMatch(err, /Uncaught|NotCapable/, "a message, not a crash");
    await assert.rejects(
      () => Deno.stat(`${dir}/elsewhere`),
      Deno.errors.NotFound,
      "nothing created",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the command the refusal prints runs the demo with SESSION_KV_PATH outside .data/", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hono-session-demo-" });
  const root = new URL("../../", import.meta.url).pathname;
  try {
    const path = `${dir}/elsewhere/demo.kv`;
    const refusal = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--config",
        DEMO_CONFIG,
        ...(await demoTask("demo")).permissions,
        new URL("../../examples/demo.ts", import.meta.url).pathname,
      ],
      env: { SESSION_KV_PATH: path, NO_COLOR: "1" },
      stderr: "piped",
    }).output();
    const words = new TextDecoder().decode(refusal.stderr).trimEnd()
      .split(": ").at(-1)!.split(" ");
    assert.deepEqual(words.slice(0, 2), ["deno", "run"]);
    // From the repository's root, as the message says.
    const demo = await startServer(words.slice(2), {
      cwd: root,
      env: { SESSION_KV_PATH: path, PORT: "0" },
    });
    try {
      const jar = new Jar(
        {
          request: (p: string, init: RequestInit) => fetch(demo.url + p, init),
        } as never,
      );
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
    assert.ok((await Deno.stat(path)).isFile);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the demo answers 403 to a form post without an Origin header (curl's default), and accepts it with one", async () => {
  const settings = await settingsFromEnv(new Map([["SESSION_MODE", "memory"]]));
  using _ = { [Symbol.dispose]: settings.close };
  const app = demoApp(settings.options);
  const post = (headers: Record<string, string>) =>
    app.request("http://localhost:8000/login", {
      method: "POST",
      body: new URLSearchParams({ name: "Ada" }),
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        ...headers,
      },
    });
  const bare = await post({});
  assert.equal(bare.status, 403, "no Origin: refused by csrf()");
  assert.equal(bare.headers.get("set-cookie"), null);
  assert.equal(
    (await post({ origin: "http://127.0.0.1:8000" })).status,
    403,
    "the origin must be the one the server is called by",
  );
  const ok = await post({ origin: "http://localhost:8000" });
  assert.equal(ok.status, 303, 'curl -H "Origin: http://localhost:8000"');
});

function signIn(name: string, remember: boolean): RequestInit {
  const body = new URLSearchParams({ name });
  if (remember) body.set("remember", "on");
  return {
    method: "POST",
    body,
    headers: {
      origin: ORIGIN,
      "content-type": "application/x-www-form-urlencoded",
      "user-agent": `browser-${remember ? "remembered" : "forgotten"}`,
    },
  };
}

const post: RequestInit = {
  method: "POST",
  headers: {
    origin: ORIGIN,
    "content-type": "application/x-www-form-urlencoded",
  },
};

for (const mode of ["kv", "memory", "cookie"]) {
  Deno.test(`demo: remember me, and your sessions with sign out other devices [${mode} sessions]`, async () => {
    const env = new Map([["SESSION_MODE", mode], [
      "SESSION_KV_PATH",
      ":memory:",
    ]]);
    const settings = await settingsFromEnv(env);
    using _ = { [Symbol.dispose]: settings.close };
    const app = demoApp(settings.options);
    const laptop = new Jar(app);
    const phone = new Jar(app);
    await laptop.fetch(`${ORIGIN}/login`, signIn("Ada", true));
    assert.deepEqual(
      laptop.last.map((c) => c.maxAge),
      [86_400, 86_400],
      "remembered: both cookies outlive the browser",
    );
    await phone.fetch(`${ORIGIN}/login`, signIn("Ada", false));
    assert.deepEqual(
      phone.last.map((c) => c.maxAge),
      [undefined, undefined],
      "not remembered: browser-session cookies",
    );
    let [, html] = await laptop.text(`${ORIGIN}/sessions`);
    if (mode === "cookie") {
      assert.match(html, /id="unavailable"/);
      return;
    }
    assert.match(html, /in <span id="count">2<\/span> places/);
    assert.match(html, /this device<\/strong><\/td>\s*<td>browser-remembered/);
    assert.match(html, /browser-forgotten/);
    assert.match(html, /remembered/);
    assert.match(html, /until the browser closes/);
    for (const jar of [laptop, phone]) {
      assert.ok(!html.includes(jar.get("sid")!), "no session id on the page");
    }
    await laptop.fetch(`${ORIGIN}/sessions/revoke-others`, post);
    [, html] = await laptop.text(`${ORIGIN}/sessions`);
    assert.match(html, /Signed out 1 other session\./);
    assert.match(html, /in <span id="count">1<\/span> places/);
    assert.equal((await phone.fetch(`${ORIGIN}/me`)).status, 401);
    assert.equal((await laptop.fetch(`${ORIGIN}/me`)).status, 200);
    // Revoking one by its handle, from the other device's page.
    await phone.fetch(`${ORIGIN}/login`, signIn("Ada", false));
    [, html] = await phone.text(`${ORIGIN}/sessions`);
    const handle = html.match(/name="handle" value="([^"]+)"/)![1]!;
    await phone.fetch(`${ORIGIN}/sessions/revoke`, {
      ...post,
      body: new URLSearchParams({ handle }),
    });
    assert.equal((await laptop.fetch(`${ORIGIN}/me`)).status, 401);
    [, html] = await phone.text(`${ORIGIN}/sessions`);
    assert.match(html, /That session is signed out\./);
  });
}

Deno.test("demo: a browser that speaks DBSC binds its session, the sessions page says so, and a copy of its cookie stops working", async () => {
  await withFakeTime(async (clock) => {
    const settings = await settingsFromEnv(
      new Map([["SESSION_MODE", "memory"]]),
    );
    using _ = { [Symbol.dispose]: settings.close };
    const app = demoApp(settings.options);
    // Chromium sends the page's Origin with its registration and refresh.
    const laptop = await DbscBrowser.create(app, "ES256", {
      headers: { origin: ORIGIN },
    });
    await laptop.fetch(`${ORIGIN}/login`, signIn("Ada", false));
    assert.ok(laptop.config, "the browser registered");
    const phone = new Jar(app);
    await phone.fetch(`${ORIGIN}/login`, signIn("Ada", true));
    const [, html] = await laptop.jar.text(`${ORIGIN}/sessions`);
    assert.match(html, /in <span id="count">2<\/span> places/);
    assert.equal(html.match(/bound to its device/g)?.length, 1);
    // Malware copies the laptop's cookies (a browser-session one's exists
    // cookie too: without it the session is over for any browser).
    const copy = new Jar(app);
    for (const name of ["sid", "sx"]) {
      copy.cookies.set(name, laptop.jar.get(name)!);
    }
    assert.deepEqual(await copy.text(`${ORIGIN}/me`), [
      200,
      '{"userId":"Ada"}',
    ]);
    clock.tick(601_000);
    assert.equal((await copy.fetch(`${ORIGIN}/me`)).status, 401);
    // The laptop refreshes; the phone, not bound, goes on as before.
    assert.equal((await laptop.fetch(`${ORIGIN}/me`)).status, 200);
    assert.ok(
      laptop.steps.some((s) => s.step === "refresh" && s.status === 200),
    );
    assert.equal((await phone.fetch(`${ORIGIN}/me`)).status, 200);
  });
});

Deno.test("demo: SESSION_DEVICE_BOUND=off turns device binding off; other values are refused", async () => {
  const off = await settingsFromEnv(
    new Map([["SESSION_MODE", "memory"], ["SESSION_DEVICE_BOUND", "off"]]),
  );
  using _ = { [Symbol.dispose]: off.close };
  assert.equal(off.options.deviceBound, undefined);
  const login = await demoApp(off.options).request(
    `${ORIGIN}/login`,
    signIn("Ada", false),
  );
  assert.equal(login.headers.get("secure-session-registration"), null);
  await assert.rejects(
    () =>
      settingsFromEnv(
        new Map([["SESSION_MODE", "memory"], ["SESSION_DEVICE_BOUND", "yes"]]),
      ),
    /SESSION_DEVICE_BOUND must be "on" or "off"/,
  );
});
