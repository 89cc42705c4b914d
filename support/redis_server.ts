// Real redis-server processes for the Redis tests: each on a free loopback
// port, with an append-only file so data survives a kill, stopped by the
// test that started it. Outside CI a machine without redis-server skips the
// Redis tests (and says how to install it); under CI=true the Redis tests
// fail instead (tests/stores/redis_store_test.ts registers a failing test).

export const REDIS_SERVER = Deno.env.get("REDIS_SERVER") ?? "redis-server";

/** Whether redis-server can be run here. */
export const redisAvailable: boolean = await probe();

/**
 * Whether a missing redis-server is a failure (CI=true) rather than a
 * reason to skip the Redis tests.
 */
export const redisRequired: boolean = Deno.env.get("CI") === "true";

/** Why the Redis tests cannot run, with how to install redis-server. */
export const redisMissing: string =
  `redis-server not found or not runnable (${REDIS_SERVER}): install it with \`apt-get install -y redis-server\` (Debian/Ubuntu) or \`brew install redis\`, or set REDIS_SERVER to its path`;

// A missing binary makes `new Deno.Command(...).output()` throw NotFound
// synchronously (Deno 2.9.6), not return a rejected promise: hence the
// try/catch around the whole call.
async function probe(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(REDIS_SERVER, {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** A running redis-server. */
export class RedisServer {
  readonly port: number;
  readonly dir: string;
  readonly #durable: boolean;
  readonly #args: readonly string[];
  #child: Deno.ChildProcess | undefined;

  private constructor(
    port: number,
    dir: string,
    durable: boolean,
    args: readonly string[],
  ) {
    this.port = port;
    this.dir = dir;
    this.#durable = durable;
    this.#args = args;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /**
   * Starts a server on a free port (or `port`) and waits until it answers.
   * `durable` (the default) writes every change to an fsync'ed append-only
   * file, so data survives a kill; benchmarks turn it off. `args` go to
   * redis-server after the store's own (a cluster node's settings).
   */
  static async start(
    { durable = true, port, args = [] }: {
      durable?: boolean;
      port?: number;
      args?: readonly string[];
    } = {},
  ): Promise<RedisServer> {
    const dir = await Deno.makeTempDir({ prefix: "hono-session-redis-" });
    const server = new RedisServer(port ?? freePort(), dir, durable, args);
    try {
      await server.resume();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** Starts (again) on the same port and data directory. */
  async resume(): Promise<void> {
    this.#child = new Deno.Command(REDIS_SERVER, {
      args: [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--dir",
        this.dir,
        "--save",
        "",
        "--appendonly",
        this.#durable ? "yes" : "no",
        "--appendfsync",
        "always",
        "--protected-mode",
        "no",
        ...this.#args,
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    // A server that cannot start (its port was taken meanwhile) exits.
    let exited = false;
    void this.#child.status.then(() => exited = true);
    for (let i = 0; i < 200 && !exited; i++) {
      try {
        const conn = await Deno.connect({
          hostname: "127.0.0.1",
          port: this.port,
        });
        await conn.write(new TextEncoder().encode("PING\r\n"));
        const buf = new Uint8Array(16);
        const n = await conn.read(buf);
        conn.close();
        if (
          n && new TextDecoder().decode(buf.subarray(0, n)).startsWith("+PONG")
        ) return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(
      `redis-server did not start on port ${this.port}${
        exited ? " (it exited: was the port taken?)" : ""
      }`,
    );
  }

  /** Kills the server at once (SIGKILL), as a crash would. */
  async kill(): Promise<void> {
    try {
      this.#child?.kill("SIGKILL");
    } catch {
      // already exited
    }
    await this.#child?.status;
    this.#child = undefined;
  }

  /**
   * Stops the server without waiting (SIGTERM) and removes its data: for
   * an `unload` listener, which cannot wait.
   */
  stopNow(): void {
    try {
      this.#child?.kill("SIGTERM");
    } catch {
      // already exited
    }
    this.#child = undefined;
    try {
      Deno.removeSync(this.dir, { recursive: true });
    } catch {
      // already gone
    }
  }

  /** Stops the server and removes its data. */
  async stop(): Promise<void> {
    if (this.#child) {
      try {
        this.#child.kill("SIGTERM");
      } catch {
        // already exited
      }
      await this.#child.status;
      this.#child = undefined;
    }
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}
