/**
 * The demo for `deno serve`, on every core:
 * `deno task --config examples/demo.json demo:parallel`, then open
 * http://localhost:8000. The task runs, in examples/,
 *
 * ```sh
 * deno serve --config demo.json --parallel --host 127.0.0.1 --port 8000 \
 *   --allow-env --allow-read=.data --allow-write=.data demo_serve.ts
 * ```
 *
 * (`deno serve` may listen on its address without `--allow-net`.)
 * `--parallel` starts one worker per core (`DENO_JOBS` sets how many), and
 * each worker loads this module afresh: whatever lives in a module's
 * memory exists once per worker, and the kernel hands each connection to
 * any of them. So every worker must find every session: sessions live in
 * the Deno KV file `.data/demo.kv` (`SESSION_KV_PATH` under `.data/`), or
 * with `SESSION_MODE=cookie` in the cookie, sealed with `SESSION_SECRET`
 * (32+ characters), which every worker shares. The settings that would keep
 * sessions per worker (`SESSION_MODE=memory`, cookie mode without a
 * secret, an in-memory KV) are refused here, saying why. Every answer names
 * the worker that gave it in an `x-worker` header: `curl -i` shows requests
 * moving between workers while the session stays.
 *
 * The app itself, its routes and the other settings are those of
 * `examples/demo.ts` (the `demo` task, one process).
 *
 * @module
 */
import { Hono } from "hono";
import { demoApp, type DemoSettings, settingsFromEnv } from "./demo.ts";

/**
 * Refuses the demo settings that would keep a session in one worker only,
 * with a message saying what to set instead.
 *
 * @throws {Error} For `SESSION_MODE=memory`, cookie mode without
 *   `SESSION_SECRET`, or `SESSION_KV_PATH=:memory:`.
 */
function refusePerWorkerSettings(
  env: { get(name: string): string | undefined },
): void {
  const mode = env.get("SESSION_MODE") ?? "kv";
  const oneProcess =
    "or run one process: deno task --config examples/demo.json demo";
  if (mode === "memory") {
    throw new Error(
      `SESSION_MODE=memory keeps sessions in each worker's own MemoryStore: under deno serve --parallel a user signed in on one worker is a stranger to the others. Leave SESSION_MODE unset (the Deno KV file), use SESSION_MODE=cookie with SESSION_SECRET, ${oneProcess}`,
    );
  }
  if (mode === "cookie" && env.get("SESSION_SECRET") === undefined) {
    throw new Error(
      `SESSION_MODE=cookie without SESSION_SECRET seals sessions with a random key per worker: under deno serve --parallel the other workers cannot open them. Set SESSION_SECRET (32+ characters, the same for every worker), leave SESSION_MODE unset (the Deno KV file), ${oneProcess}`,
    );
  }
  if (mode === "kv" && env.get("SESSION_KV_PATH") === ":memory:") {
    throw new Error(
      `SESSION_KV_PATH=:memory: opens one in-memory database per worker: under deno serve --parallel the workers would not share sessions. Leave SESSION_KV_PATH unset (the file .data/demo.kv), use SESSION_MODE=cookie with SESSION_SECRET, ${oneProcess}`,
    );
  }
}

let settings: DemoSettings;
try {
  refusePerWorkerSettings(Deno.env);
  settings = await settingsFromEnv(Deno.env);
} catch (error) {
  console.error(`demo: ${error instanceof Error ? error.message : error}`);
  Deno.exit(1);
}

const worker = crypto.randomUUID().slice(0, 8);
const app = new Hono()
  .use(async (c, next) => {
    await next();
    c.header("x-worker", worker);
  })
  .route("/", demoApp(settings.options));

export default { fetch: app.fetch };
