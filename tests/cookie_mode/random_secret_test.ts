// Without a secret, each process seals with its own random key. Said once
// per process on the console where it matters (the environment says
// production, or a cookie sealed by another process's random key arrives),
// and never in tests or local development. Each scene runs in a process of
// its own (tests/fixtures/random_secret_app.ts), since the warning is
// printed once per process; `deno serve --parallel` is run for real
// (tests/fixtures/serve_app.ts, cookie mode).
import assert from "node:assert/strict";
import {
  type Globals,
  productionSign,
} from "../../_cookie_mode/random_secret.ts";
import {
  fetchOnce,
  sendUntil,
  startServe,
} from "../../support/server_process.ts";

const root = new URL("../../", import.meta.url);
const fixture = new URL("../fixtures/random_secret_app.ts", import.meta.url)
  .pathname;
const serveApp = new URL("../fixtures/serve_app.ts", import.meta.url).pathname;
const WARNING = /@x\/hono-session: session\(\) was given no secret/;

async function scene(
  name: string,
  { env = {}, allowEnv = true }: {
    env?: Record<string, string>;
    allowEnv?: boolean;
  } = {},
): Promise<{ warnings: string[]; output: string }> {
  const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-check",
      "--allow-read",
      ...(allowEnv ? ["--allow-env"] : []),
      fixture,
      name,
    ],
    cwd: root,
    // No variable of the test runner's leaks in (CI=true, NODE_ENV, ...).
    clearEnv: true,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const output = new TextDecoder().decode(stdout) +
    new TextDecoder().decode(stderr);
  assert.ok(success, output);
  assert.match(output, /^done$/m);
  return {
    warnings: output.split("\n").filter((line) => WARNING.test(line)),
    output,
  };
}

Deno.test("random secret: nothing is said in development (no sign of production, sessions from this process only)", async () => {
  const { warnings } = await scene("requests");
  assert.deepEqual(warnings, []);
});

Deno.test("random secret: NODE_ENV=production is said once, however many middlewares and requests", async () => {
  const { warnings } = await scene("requests", {
    env: { NODE_ENV: "production" },
  });
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.match(warnings[0]!, /NODE_ENV is production/);
  assert.match(warnings[0]!, /openssl rand -base64 32/);
});

Deno.test("random secret: Deno Deploy (DENO_DEPLOYMENT_ID) is said once", async () => {
  const { warnings } = await scene("requests", {
    env: { DENO_DEPLOYMENT_ID: "abc123" },
  });
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.match(warnings[0]!, /Deno Deploy/);
});

Deno.test("random secret: without --allow-env the environment is not read: no prompt, no error, nothing said", async () => {
  const { warnings } = await scene("requests", {
    env: { NODE_ENV: "production" },
    allowEnv: false,
  });
  assert.deepEqual(warnings, []);
});

Deno.test("random secret: a cookie of another process's random key, once this one sealed its own, is said once", async () => {
  const { warnings } = await scene("workers");
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.match(warnings[0]!, /another process, worker or isolate/);
});

Deno.test("random secret: a cookie from before a restart (nothing sealed yet) is not said", async () => {
  const { warnings } = await scene("restart");
  assert.deepEqual(warnings, []);
});

Deno.test("random secret: productionSign reads Node's and Bun's process.env", () => {
  const url = "http://localhost/";
  assert.match(
    productionSign(url, { process: { env: { NODE_ENV: "production" } } })!,
    /NODE_ENV/,
  );
  assert.equal(
    productionSign(url, { process: { env: { NODE_ENV: "development" } } }),
    undefined,
  );
  assert.match(
    productionSign(url, { process: { env: { DENO_DEPLOYMENT_ID: "x" } } })!,
    /Deno Deploy/,
  );
  assert.equal(productionSign(url, {}), undefined);
  assert.equal(productionSign(url, { process: {} }), undefined);
});

Deno.test("random secret: productionSign reads Deno's variables only with the permission granted, and never throws", () => {
  const url = "http://localhost/";
  const asked: string[] = [];
  const deno = (state: string): Globals => ({
    Deno: {
      env: {
        get(name) {
          asked.push(name);
          if (state !== "granted") throw new Error("would prompt");
          return name === "NODE_ENV" ? "production" : undefined;
        },
      },
      permissions: { querySync: () => ({ state }) },
    },
    // Deno has a process global too: it is not read.
    process: { env: { NODE_ENV: "production" } },
  });
  assert.match(productionSign(url, deno("granted"))!, /NODE_ENV/);
  assert.deepEqual(asked, ["NODE_ENV"]);
  asked.length = 0;
  assert.equal(productionSign(url, deno("prompt")), undefined);
  assert.equal(productionSign(url, deno("denied")), undefined);
  assert.deepEqual(asked, []);
  // A Deno without querySync (Deploy's runtime, say) reads directly; a
  // throwing read counts as unset.
  assert.match(
    productionSign(url, {
      Deno: { env: { get: (n) => n === "DENO_DEPLOYMENT_ID" ? "d" : "" } },
    })!,
    /Deno Deploy/,
  );
  assert.equal(
    productionSign(url, {
      Deno: {
        env: {
          get() {
            throw new Error("NotCapable");
          },
        },
      },
    }),
    undefined,
  );
});

Deno.test("random secret: a Workers deployment is told from wrangler dev by the request's host", () => {
  const workers: Globals = { navigator: { userAgent: "Cloudflare-Workers" } };
  assert.match(
    productionSign("https://app.example.com/login", workers)!,
    /Cloudflare Workers/,
  );
  for (
    const url of [
      "http://localhost:8787/",
      "http://127.0.0.1:8787/",
      "http://[::1]:8787/",
      "http://app.localhost/",
    ]
  ) {
    assert.equal(productionSign(url, workers), undefined, url);
  }
  assert.equal(
    productionSign("https://app.example.com/", {
      navigator: { userAgent: "Deno/2.9.6" },
    }),
    undefined,
  );
});

Deno.test("random secret: under deno serve --parallel, a worker that is sent another worker's cookie says so", async () => {
  // Cookie mode without a secret: each worker draws its own random key.
  // The fixture may read SESSION_SETUP alone, so no variable of this
  // process's environment looks like production to it.
  const server = await startServe(serveApp, {
    workers: 2,
    flags: ["--no-check", "--allow-read", "--allow-env=SESSION_SETUP"],
    env: { SESSION_SETUP: "cookie" },
  });
  try {
    // Each request on a connection of its own, so either worker may take
    // it; every one writes the session, so each worker seals cookies. Sooner
    // or later a worker that has sealed is sent the other's cookie: later
    // when the kernel gives one worker many connections in a row.
    let cookie = "";
    await sendUntil(
      "a worker was sent the other's cookie and said so",
      () => WARNING.test(server.stderr),
      async () => {
        const res = await fetchOnce(`${server.url}/count`, {
          method: "POST",
          headers: cookie ? { cookie } : {},
        });
        const sid = res.headers.getSetCookie().find((line) =>
          line.startsWith("sid=")
        );
        if (sid) cookie = sid.slice(0, sid.indexOf(";"));
        await new Promise((r) => setTimeout(r, 10));
      },
      { detail: () => `what the workers printed:\n${server.stderr}` },
    );
    const output = server.stderr;
    const warnings = output.split("\n").filter((line) => WARNING.test(line));
    assert.ok(warnings.length >= 1, output);
    // Once per worker at most: each worker is a process of its own to us.
    assert.ok(warnings.length <= 2, output);
    assert.match(warnings[0]!, /another process, worker or isolate/);
  } finally {
    await server.stop();
  }
});
