// Starts a Deno script as a server in its own process, for tests and
// benchmarks that need real HTTP: waits for the first line it prints (its
// address or port), and stops it on request.

/** A running server process. */
export interface ServerProcess {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Runs `deno run <args>` and resolves once it has printed a line holding
 * its port (a bare number, or a URL).
 */
export async function startServer(
  args: string[],
  options: { cwd?: string | URL; env?: Record<string, string> } = {},
): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...args],
    cwd: options.cwd ?? new URL("../", import.meta.url),
    env: options.env,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`server exited before listening: ${out}`);
    out += value;
  }
  const port = out.match(/(\d+)\s*$/m)?.[1] ?? out.match(/:(\d+)/)?.[1];
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      child.kill("SIGTERM");
      await reader.cancel();
      await child.status;
    },
  };
}

/** The demo's own configuration (examples/demo.json), with its tasks. */
export const DEMO_CONFIG: string =
  new URL("../examples/demo.json", import.meta.url).pathname;

/** A task of examples/demo.json, read so that tests run what it runs. */
export interface DemoTask {
  /** The words of its command, as written. */
  words: string[];
  /** Its permission flags (`--allow-...`). */
  permissions: string[];
  /** The script it runs, as an absolute path. */
  script: string;
}

/** Reads the task `name` of examples/demo.json. */
export async function demoTask(name: string): Promise<DemoTask> {
  const config = JSON.parse(await Deno.readTextFile(DEMO_CONFIG));
  const task = config.tasks[name];
  const words: string[] = (task.command ?? task).trim().split(/\s+/);
  return {
    words,
    permissions: words.filter((word) => word.startsWith("--allow-")),
    script: new URL(words.at(-1)!, `file://${DEMO_CONFIG}`).pathname,
  };
}

/**
 * Runs the demo as `deno task -c examples/demo.json demo` does (its
 * configuration, its permissions), in `cwd` (its .data/ lives there), on
 * `port` ("0": any free one).
 */
export async function startDemo(
  cwd: string,
  port = "0",
): Promise<ServerProcess> {
  const task = await demoTask("demo");
  return startServer(
    ["--config", DEMO_CONFIG, ...task.permissions, task.script],
    { cwd, env: { PORT: port } },
  );
}

/** Serves `fetch` on a free loopback port and prints the port (fixtures). */
export function serveAndPrintPort(
  fetch: (request: Request) => Response | Promise<Response>,
): void {
  Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => console.log(port),
  }, fetch);
}

/** A `deno serve` process: its address, and what its workers print. */
export interface ServeProcess extends ServerProcess {
  /** Everything the process printed to stderr so far (workers' errors). */
  readonly stderr: string;
}

/**
 * Runs `deno serve <flags> <script>` on a free loopback port, with
 * `--parallel` and `workers` worker isolates (`DENO_JOBS`) when `workers` is
 * given, and resolves once the server listens and, with workers, once every
 * worker has answered a request: `deno serve` announces the port before its
 * later workers have loaded the module. The script must answer every
 * request with an `x-worker` header unique to its worker.
 */
export async function startServe(
  script: string,
  options: {
    /** A configuration file (default: the repository's deno.json). */
    config?: string;
    flags?: string[];
    workers?: number;
    env?: Record<string, string>;
    cwd?: string | URL;
  } = {},
): Promise<ServeProcess> {
  const parallel = options.workers === undefined ? [] : ["--parallel"];
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "serve",
      ...parallel,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--config",
      options.config ?? new URL("../deno.json", import.meta.url).pathname,
      ...(options.flags ?? ["--allow-all"]),
      script,
    ],
    cwd: options.cwd ?? new URL("../", import.meta.url),
    env: {
      NO_COLOR: "1",
      ...options.env,
      ...(options.workers === undefined
        ? {}
        : { DENO_JOBS: String(options.workers) }),
    },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let stderr = "";
  let port: string | undefined;
  while (port === undefined) {
    const { value, done } = await reader.read();
    if (done) {
      await child.status;
      throw new Error(`deno serve exited before listening:\n${stderr}`);
    }
    stderr += value;
    port = stderr.match(/Listening on http:\/\/[^\s]*?:(\d+)\//)?.[1];
  }
  // Keep reading, so that a chatty worker never blocks on a full pipe.
  const drained = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      stderr += value;
    }
  })();
  const server: ServeProcess = {
    url: `http://127.0.0.1:${port}`,
    get stderr() {
      return stderr;
    },
    // SIGTERM: `deno serve` finishes what it is doing, and ends once
    // nothing keeps its event loop alive; past 5 s, SIGKILL.
    async stop() {
      const signal = (name: Deno.Signal) => {
        try {
          child.kill(name);
        } catch {
          // already gone
        }
      };
      signal("SIGTERM");
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        child.status,
        new Promise((resolve) => {
          timer = setTimeout(resolve, 5_000);
        }),
      ]);
      clearTimeout(timer);
      signal("SIGKILL");
      await child.status;
      await drained.catch(() => {});
    },
  };
  if (options.workers !== undefined) {
    try {
      await allWorkersUp(server, options.workers);
    } catch (error) {
      await server.stop();
      throw error;
    }
  }
  return server;
}

// Sends requests on fresh connections until `workers` different x-worker
// headers have come back.
async function allWorkersUp(
  server: ServeProcess,
  workers: number,
): Promise<void> {
  const seen = new Set<string>();
  await sendUntil(
    `deno serve: all ${workers} workers answer`,
    () => seen.size === workers,
    async () => {
      const res = await fetchOnce(server.url + "/");
      const worker = res.headers.get("x-worker");
      if (worker === null) {
        throw new Error(
          `deno serve: the server sends no x-worker header (status ${res.status})`,
        );
      }
      seen.add(worker);
      if (seen.size < workers) await new Promise((r) => setTimeout(r, 20));
    },
    {
      requests: Infinity,
      detail: () =>
        `${seen.size} of ${workers} answered; what deno serve printed:\n${server.stderr}`,
    },
  );
}

/**
 * Calls `send` (which sends a request on a connection of its own) again
 * and again until `done()` holds; returns how many times it called it.
 * Throws, saying `what` did not happen, after `requests` calls or `ms`
 * milliseconds. Under `deno serve --parallel` the kernel gives each new
 * connection to one of the workers (on Linux, SO_REUSEPORT picks by a hash
 * of the connection's addresses and ports), so nothing keeps a dozen in a
 * row from going to the same worker: a test that needs answers from every
 * worker sends until it has them, never a fixed number of requests.
 */
export async function sendUntil(
  what: string,
  done: () => boolean,
  send: () => Promise<unknown>,
  { requests = 300, ms = 30_000, detail }: {
    requests?: number;
    ms?: number;
    /** More to say when the bound is reached. */
    detail?: () => string;
  } = {},
): Promise<number> {
  const start = Date.now();
  let sent = 0;
  while (!done()) {
    if (sent >= requests || Date.now() - start >= ms) {
      const seconds = ((Date.now() - start) / 1000).toFixed(1);
      throw new Error(
        `${what}: not yet after ${sent} request(s) in ${seconds} s${
          detail ? `; ${detail()}` : ""
        }`,
      );
    }
    await send();
    sent++;
  }
  return sent;
}

/** A response, with its body read. */
export interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

/**
 * `fetch` on a connection of its own, closed once the body is read: under
 * `deno serve --parallel` each connection goes to one of the workers, so
 * requests sent this way land on any of them. Redirects are not followed.
 */
export async function fetchOnce(
  url: string,
  init: RequestInit = {},
): Promise<Answer> {
  const client = Deno.createHttpClient({});
  try {
    const res = await fetch(url, { ...init, client, redirect: "manual" });
    return { status: res.status, headers: res.headers, body: await res.text() };
  } finally {
    client.close();
  }
}
