// Real PostgreSQL servers for the SqlStore tests and benchmarks: each a
// temporary cluster (initdb) on a free loopback port, its socket in its own
// temporary folder, stopped and removed by the test that started it. As
// root, initdb and postgres run as the `postgres` user (initdb refuses
// root). Debian keeps initdb and postgres off the PATH: they are found
// through `pg_config --bindir` (or POSTGRES_BINDIR). Outside CI a machine
// without PostgreSQL skips these tests (and says how to install it); under
// CI=true they fail instead (tests/stores/sql_store_test.ts registers a
// failing test).
//
// The clusters run with fsync=off: a killed server loses nothing (what was
// committed is in the kernel's page cache), only a crash of the machine
// could. Commits stay synchronous.

const decoder = new TextDecoder();

/** Runs a program; undefined when it cannot be run at all. */
async function output(
  cmd: string,
  args: string[],
): Promise<Deno.CommandOutput | undefined> {
  // A missing binary makes output() throw NotFound synchronously (Deno
  // 2.9.6): hence the try/catch around the whole call.
  try {
    return await new Deno.Command(cmd, {
      args,
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch {
    return undefined;
  }
}

/** The folder holding initdb and postgres, or undefined. */
async function findBindir(): Promise<string | undefined> {
  const given = Deno.env.get("POSTGRES_BINDIR");
  if (given) return given;
  const out = await output("pg_config", ["--bindir"]);
  return out?.success ? decoder.decode(out.stdout).trim() : undefined;
}

const bindir = await findBindir();

/** Whether PostgreSQL's initdb and postgres can be run here. */
export const postgresAvailable: boolean = bindir !== undefined &&
  (await output(`${bindir}/postgres`, ["--version"]))?.success === true &&
  (await output(`${bindir}/initdb`, ["--version"]))?.success === true;

/**
 * Whether a missing PostgreSQL is a failure (CI=true) rather than a reason
 * to skip the PostgreSQL tests.
 */
export const postgresRequired: boolean = Deno.env.get("CI") === "true";

/** Why the PostgreSQL tests cannot run, with how to install it. */
export const postgresMissing: string =
  "PostgreSQL not found or not runnable (no pg_config on the PATH, or its --bindir lacks initdb and postgres): install it with `apt-get install -y postgresql` (Debian/Ubuntu) or `brew install postgresql`, or set POSTGRES_BINDIR to the folder holding initdb and postgres";

// Root? (`id -u` rather than Deno.uid(), which needs --allow-sys.)
const isRoot = postgresAvailable &&
  decoder.decode((await output("id", ["-u"]))?.stdout ?? new Uint8Array())
      .trim() === "0";

// As root: the ids of the `postgres` user, and the prefix that runs a
// program as that user (setpriv execs, so the child is the program).
async function unprivileged(): Promise<
  { uid: number; gid: number; prefix: string[] }
> {
  const uid = await output("id", ["-u", "postgres"]);
  const gid = await output("id", ["-g", "postgres"]);
  if (!uid?.success || !gid?.success) {
    throw new Error(
      "running as root, and there is no `postgres` user to run initdb and postgres as (the Debian package creates one)",
    );
  }
  return {
    uid: Number(decoder.decode(uid.stdout)),
    gid: Number(decoder.decode(gid.stdout)),
    prefix: [
      "setpriv",
      "--reuid=postgres",
      "--regid=postgres",
      "--init-groups",
    ],
  };
}

// setsid makes the server lead its own process group, so a kill reaches
// its backends too, as a crash of the machine's PostgreSQL would.
const hasSetsid = postgresAvailable &&
  (await output("setsid", ["--version"]))?.success === true;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

// One initdb per process, copied for each server: initdb takes a second or
// more, a copy a tenth of that. Removed when the process ends.
let template: Promise<string> | undefined;

async function initdb(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "hono-session-pgtemplate-" });
  const user = isRoot ? await unprivileged() : undefined;
  if (user) await Deno.chown(dir, user.uid, user.gid);
  const args = [
    `${bindir}/initdb`,
    "-D",
    `${dir}/data`,
    "-A",
    "trust",
    "-U",
    "postgres",
    "-E",
    "UTF8",
    "--locale=C",
    "--no-sync",
    "--no-instructions",
  ];
  const [cmd, ...rest] = [...(user?.prefix ?? []), ...args];
  const out = await output(cmd!, rest);
  if (!out?.success) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw new Error(
      `initdb failed: ${out ? decoder.decode(out.stderr) : "cannot run"}`,
    );
  }
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* already gone */ }
  });
  return `${dir}/data`;
}

/** A running PostgreSQL server (a temporary cluster). */
export class PostgresServer {
  readonly port: number;
  /** The temporary folder: the cluster in data/, the socket beside it. */
  readonly dir: string;
  #child: Deno.ChildProcess | undefined;
  // Reads the server's log until it exits.
  #reading: Promise<void> = Promise.resolve();
  #user: { uid: number; gid: number; prefix: string[] } | undefined;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  /** A connection URL for the `postgres` superuser and database. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Creates a cluster on a free port and waits until it takes connections. */
  static async start(): Promise<PostgresServer> {
    if (!postgresAvailable) throw new Error(postgresMissing);
    template ??= initdb();
    const data = await template;
    const server = new PostgresServer(
      freePort(),
      await Deno.makeTempDir({ prefix: "hono-session-pg-" }),
    );
    server.#user = isRoot ? await unprivileged() : undefined;
    try {
      if (server.#user) {
        await Deno.chown(server.dir, server.#user.uid, server.#user.gid);
      }
      // cp -a keeps the owner and the 0700 mode postgres insists on.
      const copy = await output("cp", ["-a", data, `${server.dir}/data`]);
      if (!copy?.success) {
        throw new Error(
          `copying the cluster failed: ${
            copy ? decoder.decode(copy.stderr) : "cannot run cp"
          }`,
        );
      }
      await server.resume();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** Starts (again) on the same port and cluster; waits until it is ready. */
  async resume(): Promise<void> {
    const args = [
      `${bindir}/postgres`,
      "-D",
      `${this.dir}/data`,
      "-p",
      String(this.port),
      "-k",
      this.dir,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "fsync=off",
      "-c",
      "shared_buffers=32MB",
      "-c",
      "max_connections=60",
    ];
    const full = [
      ...(hasSetsid ? ["setsid"] : []),
      ...(this.#user?.prefix ?? []),
      ...args,
    ];
    this.#child = new Deno.Command(full[0]!, {
      args: full.slice(1),
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // Keep the last of its log, for an error message.
    let log = "";
    const reading = this.#reading = this.#child.stderr.pipeThrough(
      new TextDecoderStream(),
    )
      .pipeTo(
        new WritableStream({
          write(chunk) {
            log = (log + chunk).slice(-4000);
          },
        }),
      ).catch(() => {});
    const exited = this.#child.status.then(() => true);
    for (let i = 0; i < 400; i++) {
      const ready = await output(`${bindir}/pg_isready`, [
        "-q",
        "-h",
        "127.0.0.1",
        "-p",
        String(this.port),
        "-t",
        "1",
      ]);
      if (ready?.success) return;
      if (await Promise.race([exited, delay(25).then(() => false)])) {
        await reading;
        this.#child = undefined;
        throw new Error(
          `postgres exited instead of starting on port ${this.port}:\n${log}`,
        );
      }
    }
    throw new Error(`postgres did not start on port ${this.port}:\n${log}`);
  }

  /**
   * Kills the server and its backends at once (SIGKILL to its process
   * group), as a crash would.
   */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    try {
      Deno.kill(hasSetsid ? -child.pid : child.pid, "SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    await this.#reading;
  }

  /** Stops the server (a fast shutdown) and removes its cluster. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child) {
      this.#child = undefined;
      try {
        child.kill("SIGINT");
      } catch { /* already gone */ }
      const timer = setTimeout(() => {
        try {
          Deno.kill(hasSetsid ? -child.pid : child.pid, "SIGKILL");
        } catch { /* gone */ }
      }, 10_000);
      await child.status;
      clearTimeout(timer);
      await this.#reading;
    }
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
