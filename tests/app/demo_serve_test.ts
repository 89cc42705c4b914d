// The demo under `deno serve --parallel` (`deno task demo:parallel`), with
// two workers: browsers sign in, count visits, list their sessions and
// sign out, every request on a connection of its own, so that each lands on
// either worker, and more until both workers have answered (nothing keeps the
// kernel from giving one worker a dozen in a row); the session follows
// wherever it lands. The settings that would keep sessions per worker are
// refused before anything listens.
import assert from "node:assert/strict";
import {
  DEMO_CONFIG,
  demoTask,
  fetchOnce,
  sendUntil,
  type ServeProcess,
  startServe,
} from "../../support/server_process.ts";

// `deno task demo:parallel` of examples/demo.json: its script and its
// permission flags, so that the test follows the task.
const task = await demoTask("demo:parallel");
assert.deepEqual(task.words.slice(0, 2), ["deno", "serve"]);
assert.ok(task.words.includes("--parallel"));
assert.equal(
  task.script,
  new URL("../../examples/demo_serve.ts", import.meta.url).pathname,
);

/** A browser whose every request opens a new connection. */
class Browser {
  readonly jar = new Map<string, string>();
  readonly workers = new Set<string>();
  constructor(readonly server: ServeProcess) {}

  get cookie(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  async send(path: string, init: RequestInit = {}) {
    const headers = new Headers(init.headers);
    if (this.jar.size > 0) headers.set("cookie", this.cookie);
    const res = await fetchOnce(this.server.url + path, { ...init, headers });
    this.workers.add(res.headers.get("x-worker")!);
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(";")[0]!;
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      if (/max-age=0/i.test(line)) this.jar.delete(name);
      else this.jar.set(name, pair.slice(eq + 1));
    }
    return res;
  }

  /**
   * Reads `/me` until both workers have answered this browser, each
   * answer `expected`.
   */
  async meOnBothWorkers(expected: string): Promise<void> {
    await sendUntil(
      "both workers answered this browser",
      () => this.workers.size === 2,
      async () => {
        assert.equal((await this.send("/me")).body, expected);
      },
    );
  }

  post(path: string, fields: Record<string, string>) {
    return this.send(path, {
      method: "POST",
      body: new URLSearchParams(fields),
      headers: {
        origin: this.server.url,
        "content-type": "application/x-www-form-urlencoded",
      },
    });
  }
}

async function withDemo(
  env: Record<string, string>,
  fn: (server: ServeProcess) => Promise<void>,
): Promise<void> {
  const cwd = await Deno.makeTempDir({ prefix: "hono-session-demo-serve-" });
  try {
    const server = await startServe(task.script, {
      config: DEMO_CONFIG,
      workers: 2,
      flags: task.permissions,
      env,
      cwd,
    });
    try {
      await fn(server);
    } finally {
      await server.stop();
    }
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
}

Deno.test("demo under deno serve --parallel (Deno KV file): every worker knows every session", async () => {
  await withDemo({}, async (server) => {
    const names = ["Ada", "Grace", "Lin", "Ken"];
    const browsers = names.map(() => new Browser(server));
    await Promise.all(browsers.map(async (browser, i) => {
      const login = await browser.post("/login", { name: names[i]! });
      assert.equal(login.status, 303, login.body);
      for (let visit = 1; visit <= 6; visit++) {
        const page = await browser.send("/");
        assert.equal(page.status, 200);
        assert.match(page.body, new RegExp(`<strong id="user">${names[i]}<`));
        assert.match(page.body, new RegExp(`<span id="visits">${visit}<`));
        const me = await browser.send("/me");
        assert.equal(me.body, JSON.stringify({ userId: names[i] }));
      }
      const list = await browser.send("/sessions");
      assert.match(list.body, /<span id="count">1<\/span> places/);
      await browser.meOnBothWorkers(JSON.stringify({ userId: names[i] }));
    }));
    // Signed out through one worker: signed out on all.
    const ada = browsers[0]!;
    const copy = ada.cookie;
    assert.equal((await ada.post("/logout", {})).status, 303);
    const refused = new Set<string>();
    const signedOut = async () => {
      const me = await fetchOnce(server.url + "/me", {
        headers: { cookie: copy },
      });
      assert.equal(me.status, 401, "the old cookie opens nothing anywhere");
      refused.add(me.headers.get("x-worker")!);
    };
    for (let k = 0; k < 6; k++) await signedOut();
    await sendUntil(
      "both workers refused the old cookie",
      () => refused.size === 2,
      signedOut,
    );
  });
});

Deno.test("demo under deno serve --parallel (cookie mode with SESSION_SECRET): every worker opens every session", async () => {
  await withDemo({
    SESSION_MODE: "cookie",
    SESSION_SECRET: "a-demo-secret-that-is-long-enough-for-iron!",
  }, async (server) => {
    const browser = new Browser(server);
    assert.equal((await browser.post("/login", { name: "Ada" })).status, 303);
    for (let k = 0; k < 12; k++) {
      const me = await browser.send("/me");
      assert.equal(me.body, '{"userId":"Ada"}');
    }
    await browser.meOnBothWorkers('{"userId":"Ada"}');
  });
});

for (
  const [env, message] of [
    [
      { SESSION_MODE: "memory" },
      /^demo: SESSION_MODE=memory keeps sessions in each worker's own MemoryStore/,
    ],
    [
      { SESSION_MODE: "cookie" },
      /^demo: SESSION_MODE=cookie without SESSION_SECRET seals sessions with a random key per worker/,
    ],
    [
      { SESSION_KV_PATH: ":memory:" },
      /^demo: SESSION_KV_PATH=:memory: opens one in-memory database per worker/,
    ],
  ] as const
) {
  Deno.test(`demo under deno serve refuses ${JSON.stringify(env)}: sessions would live per worker`, async () => {
    const cwd = await Deno.makeTempDir({ prefix: "hono-session-demo-serve-" });
    try {
      const { code, stderr } = await new Deno.Command(Deno.execPath(), {
        args: [
          "serve",
          "--port",
          "0",
          "--config",
          DEMO_CONFIG,
          ...task.permissions,
          task.script,
        ],
        cwd,
        env: { ...env, NO_COLOR: "1" },
        stdout: "null",
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(stderr);
      assert.equal(code, 1, err);
      assert.match(err, message);
      assert.match(
        err,
        /or run one process: deno task --config examples\/demo\.json demo$/m,
      );
      // Said once, by the first worker that loaded the module.
      assert.equal(err.match(/^demo: /gm)?.length, 1, err);
      assert.doesNotMatch(err, /Uncaught|Listening/, "a message, no server");
    } finally {
      await Deno.remove(cwd, { recursive: true });
    }
  });
}
