// Runs the test suite as a fresh machine would: `deno task test` with a
// PATH that lacks redis-server, PostgreSQL (pg_config, initdb, postgres,
// ...) and Chromium, even where they are installed, and without CI=true or
// the variables that point at them. The README promises that the suite
// then passes, reporting the Redis and PostgreSQL tests as ignored with the
// line that installs each; this checks it.
//
// Hiding a tool by hand is not always possible: `npx -y deno@2.9.6 task
// test` runs with the directory of its node first on the PATH, and on
// Debian that is /usr/bin, where redis-server and Chromium live too. So
// the PATH given to the suite is built here: a folder of links to every
// program on the current PATH but the hidden ones.
// `deno task test:fresh` (also `npx -y deno@2.9.6 task test:fresh`).

const root = new URL("../", import.meta.url);
const HIDDEN = /^(redis-.*|chromium.*|postgres.*|pg_.*|initdb|psql)$/;

const bare = await Deno.makeTempDir({ prefix: "hono-session-fresh-path-" });
let status: Deno.CommandStatus;
let output = "";
try {
  let hidden = 0;
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      continue; // not a folder
    }
    for (const { name } of entries) {
      if (HIDDEN.test(name)) {
        hidden++;
        continue;
      }
      try {
        // The first folder on the PATH wins, as in a shell.
        Deno.symlinkSync(`${dir}/${name}`, `${bare}/${name}`);
      } catch { /* already linked from an earlier folder */ }
    }
  }
  console.log(
    `test:fresh: the suite runs with a PATH of its own, ${hidden} program(s) hidden (redis-*, chromium*, postgres*, pg_*, initdb, psql)`,
  );
  const env = Deno.env.toObject();
  for (
    const name of ["CI", "REDIS_SERVER", "CHROMIUM_PATH", "POSTGRES_BINDIR"]
  ) delete env[name];
  env.PATH = bare;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "test"],
    cwd: root,
    clearEnv: true,
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Shown as it comes, and kept to be checked.
  const pump = async (
    stream: ReadableStream<Uint8Array>,
    to: typeof Deno.stdout,
  ) => {
    for await (const chunk of stream) {
      output += new TextDecoder().decode(chunk);
      await to.write(chunk);
    }
  };
  await Promise.all([
    pump(child.stdout, Deno.stdout),
    pump(child.stderr, Deno.stderr),
  ]);
  status = await child.status;
} finally {
  await Deno.remove(bare, { recursive: true });
}

// Without color codes, a --parallel run prefixes each line with its file.
// deno-lint-ignore no-control-regex
const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
const problems: string[] = [];
if (!status.success) problems.push("the suite failed");
for (
  const [what, line] of [
    [
      "Redis",
      /RedisStore \(skipped: redis-server not installed.*\.\.\. ignored/,
    ],
    [
      "Redis Cluster",
      /RedisStore on Redis Cluster \(skipped: redis-server not installed.*\.\.\. ignored/,
    ],
    [
      "PostgreSQL",
      /SqlStore on PostgreSQL \(skipped: PostgreSQL not installed.*\.\.\. ignored/,
    ],
  ] as const
) {
  if (!line.test(plain)) {
    problems.push(`the ${what} tests were not reported as ignored`);
  }
}
// Every ignored test that needs one of the servers says why in its name.
const unsaid = plain.split("\n").filter((line) =>
  /\.\.\. ignored/.test(line) && /redis|postgres|cluster/i.test(line) &&
  !/not installed/.test(line)
);
if (unsaid.length > 0) {
  problems.push(
    `${unsaid.length} ignored test(s) needing a server do not say why, such as ${
      unsaid[0]!.trim()
    }`,
  );
}
for (const hint of ["Redis tests skipped:", "PostgreSQL tests skipped:"]) {
  const times = plain.split(hint).length - 1;
  if (times !== 1) {
    problems.push(`"${hint}" was printed ${times} times, not once`);
  }
}
if (problems.length > 0) {
  console.error(`test:fresh: ${problems.join("; ")}`);
  Deno.exit(1);
}
console.log(
  "test:fresh: as on a fresh machine, the suite passes, the Redis and PostgreSQL tests reported as ignored, each saying why, with their install hint said once",
);
