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

/**
 * Runs the demo as `deno task demo` does, in `cwd` (its .data/ lives
 * there), on `port` ("0": any free one).
 */
export function startDemo(cwd: string, port = "0"): Promise<ServerProcess> {
  return startServer([
    "--config",
    new URL("../deno.json", import.meta.url).pathname,
    "--allow-net",
    "--allow-env",
    "--allow-read=.data",
    "--allow-write=.data",
    new URL("../examples/demo.ts", import.meta.url).pathname,
  ], { cwd, env: { PORT: port } });
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
