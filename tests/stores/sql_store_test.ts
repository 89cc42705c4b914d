// SqlStore on real engines: the conformance suite on SQLite (node:sqlite)
// and on a real PostgreSQL server with node-postgres and postgres.js; the
// schema and createTable(); options and client shapes; bound parameters
// only; versions; expiry on read; the bounded sweep and its timer; user
// listing; size limits; PostgreSQL killed and restarted mid-run; two Deno
// processes sharing one PostgreSQL.
import assert from "node:assert/strict";
// @ts-types="@types/pg"
import pg from "pg";
import { SessionConflictError, type SessionRecord } from "../../mod.ts";
import { type SqlClient, type SqlRow, SqlStore } from "../../stores/sql.ts";
import { storeConformance } from "../../testing.ts";
import { CASES } from "../../_testing/cases.ts";
import { basicApp, Jar, storeKey, within } from "../_helpers.ts";
import {
  postgresAvailable,
  postgresMissing,
  postgresRequired,
  PostgresServer,
} from "../../support/postgres_server.ts";
import {
  type ServerProcess,
  startServer,
} from "../../support/server_process.ts";
import {
  type Connection,
  nodePostgres,
  type PgDriver,
  pgDrivers,
  sqlite,
} from "./_sql_engines.ts";

const checked = {
  checksConflicts: true,
  checksExpiry: true,
  deviceBound: true,
};
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
let ids = 0;
const randomId = (): string => `id-${++ids}-${crypto.randomUUID()}`;

const record = (
  data: Record<string, unknown>,
  ttl = 60_000,
  user?: string,
): SessionRecord => ({
  data,
  expires: Date.now() + ttl,
  ...(user === undefined ? {} : { user }),
});

// ---------------------------------------------------------------------------
// SQLite through node:sqlite: always available.

storeConformance("SqlStore (node:sqlite, in memory)", async () => {
  const { client, close } = sqlite();
  const store = new SqlStore(client, { sweepInterval: 0 });
  await store.createTable();
  return { store, close };
}, checked);

storeConformance(
  "SqlStore (node:sqlite, a file, table app_sessions)",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "hono-session-sqlite-" });
    const { client, close } = sqlite(`${dir}/sessions.db`);
    const store = new SqlStore(client, { table: "app_sessions" });
    await store.createTable();
    return {
      store,
      close: async () => {
        store.close();
        await close();
        await Deno.remove(dir, { recursive: true });
      },
    };
  },
  checked,
);

// The same checks on every engine: SQLite here, PostgreSQL below.
interface Engine {
  name: string;
  /** A connection to an empty database with the table created. */
  open(): Promise<Connection & { store: SqlStore }>;
}

function storeTests(engine: Engine): [string, () => Promise<void>][] {
  const tests: [string, () => Promise<void>][] = [];
  const test = (
    title: string,
    fn: (c: Connection & { store: SqlStore }) => Promise<void>,
  ) =>
    tests.push([`SqlStore (${engine.name}): ${title}`, async () => {
      const conn = await engine.open();
      try {
        await fn(conn);
      } finally {
        conn.store.close();
        await conn.close();
      }
    }]);
  const p = (n: number) => engine.name.includes("sqlite") ? `?${n}` : `$${n}`;

  test("a row per session: hashed id, JSON, expires, version, user_id", async ({ store, raw }) => {
    const app = basicApp({ store, maxAge: 600 });
    const jar = new Jar(app);
    await jar.fetch("/login", { method: "POST" });
    const key = storeKey(jar.get("sid")!);
    const rows = await raw(
      `SELECT id, data, expires, version, user_id FROM sessions`,
    );
    assert.equal(rows.length, 1);
    const row = rows[0]!;
    assert.equal(row.id, key, "the id's hash, never the cookie");
    assert.notEqual(row.id, jar.get("sid"));
    const saved = JSON.parse(String(row.data));
    assert.deepEqual(saved.data, { userId: "ada" });
    assert.equal(Number(row.expires), saved.expires);
    assert.ok(Math.abs(Number(row.expires) - Date.now() - 600_000) < 5_000);
    assert.equal(row.user_id, null, "no user tied");
    // Every write changes the version.
    const versions = new Set([String(row.version)]);
    for (let i = 0; i < 3; i++) {
      await jar.fetch("/count", { method: "POST" });
      versions.add(
        String((await raw(`SELECT version FROM sessions`))[0]!.version),
      );
    }
    assert.equal(versions.size, 4);
  });

  test("ids and values are bound, never spliced into SQL", async ({ store, raw }) => {
    const evil = [
      "'; DROP TABLE sessions; --",
      '"); DELETE FROM sessions; --',
      "$1 ?1 ? :id @id \\' \\\\",
      "x' OR '1'='1",
    ];
    const c = {};
    for (const [i, id] of evil.entries()) {
      await store.set(id, record({ v: id, i }, 60_000, `${id}-user`), c);
    }
    for (const [i, id] of evil.entries()) {
      assert.deepEqual((await store.get(id))?.data, { v: id, i });
    }
    assert.deepEqual(
      (await store.listUser(`${evil[0]}-user`)).map((s) => s.id),
      [evil[0]],
    );
    await store.replace(evil[0]!, `${evil[1]}'`, record({ moved: 1 }), c);
    await store.delete(evil[2]!);
    const ids = (await raw(`SELECT id FROM sessions ORDER BY id`)).map((r) =>
      r.id
    );
    assert.deepEqual(ids, [`${evil[1]}`, `${evil[1]}'`, evil[3]].sort());
  });

  test("a statement text never depends on ids, values or users", async ({ raw, dialect }) => {
    const seen = new Set<string>();
    // The engine behind a SqlClient that records each statement.
    const recording: SqlClient = {
      dialect,
      query: (sql, params) => {
        seen.add(sql);
        return raw(sql, params);
      },
    };
    const store = new SqlStore(recording, { sweepInterval: 0 });
    const marker = "MARKER-7f3a";
    for (let round = 0; round < 2; round++) {
      const id = `${marker}-${round}`;
      const c = {};
      await store.get(id, c);
      await store.set(id, record({ m: marker }, 60_000, marker), c);
      await store.set(id, record({ m: marker }, 60_000, marker), c);
      await store.set(`${id}-blind`, record({ m: marker }), {});
      await store.replace(id, `${id}-new`, record({ m: marker }), c);
      await store.replace(`${id}-new`, `${id}-2`, record({ m: marker }), {});
      await store.listUser(marker);
      await store.delete(`${id}-2`);
      await store.sweep();
    }
    for (const sql of seen) {
      assert.ok(!sql.includes(marker), `data in SQL: ${sql}`);
      assert.ok(!sql.includes("7f3a"));
    }
    // get, upsert, insert-if-absent, checked update, version, replace,
    // listUser, delete, sweep: nine statements for any number of sessions.
    assert.equal(seen.size, 9, [...seen].join("\n"));
  });

  test("an expired row is never returned, though still in the table", async ({ store, raw }) => {
    const c = {};
    await store.set("old", record({ a: 1 }, -1_000, "u1"), c);
    await store.set("soon", record({ a: 2 }, 200, "u1"), c);
    assert.equal(await store.get("old"), undefined);
    assert.equal((await store.get("soon"))?.data.a, 2);
    assert.deepEqual((await store.listUser("u1")).map((s) => s.id), ["soon"]);
    await delay(250);
    assert.equal(await store.get("soon"), undefined);
    assert.deepEqual(await store.listUser("u1"), []);
    assert.equal((await raw(`SELECT id FROM sessions`)).length, 2);
  });

  test("a row's expires column wins over its JSON, and bad JSON is no session", async ({ store, raw }) => {
    await store.set("x", record({ a: 1 }));
    await raw(`UPDATE sessions SET expires = ${p(1)}`, [Date.now() - 1]);
    assert.equal(await store.get("x"), undefined, "expired by the column");
    await raw(`UPDATE sessions SET expires = ${p(1)}, data = ${p(2)}`, [
      Date.now() + 60_000,
      "not json",
    ]);
    assert.equal(await store.get("x"), undefined, "not JSON");
    await raw(`UPDATE sessions SET data = ${p(1)}`, [
      JSON.stringify({ data: {}, expires: Date.now() - 1 }),
    ]);
    assert.equal(await store.get("x"), undefined, "expired by the JSON");
  });

  test("a write after the row was deleted and written again is refused (versions never repeat)", async ({ store }) => {
    await store.set("id", record({ v: 1 }));
    const slow = {};
    await store.get("id", slow);
    await store.delete("id");
    await store.set("id", record({ v: 2 }));
    await assert.rejects(
      store.set("id", record({ v: 3 }), slow),
      SessionConflictError,
    );
    assert.equal((await store.get("id"))?.data.v, 2);
  });

  test("a request that found no session inserts only if there is still none, over an expired row too", async ({ store }) => {
    const c = {};
    await store.set("gone", record({ v: "old" }, -1_000));
    assert.equal(await store.get("gone", c), undefined);
    await store.set("gone", record({ v: "new" }), c);
    assert.equal((await store.get("gone"))?.data.v, "new");
    const d = {};
    assert.equal(await store.get("fresh", d), undefined);
    await store.set("fresh", record({ v: "theirs" }));
    await assert.rejects(
      store.set("fresh", record({ v: "ours" }), d),
      SessionConflictError,
    );
  });

  test("user_id follows record.user on set and replace; listUser lists only that user's live sessions", async ({ store, raw }) => {
    const c = {};
    await store.set("a1", record({ n: 1 }, 60_000, "alice"), c);
    await store.set("a2", record({ n: 2 }, 60_000, "alice"), c);
    await store.set("a3", record({ n: 3 }, -1, "alice"), c);
    await store.set("b1", record({ n: 4 }, 60_000, "bob"), c);
    await store.set("anon", record({ n: 5 }), c);
    const ids = async (user: string) =>
      (await store.listUser(user)).map((s) => s.id).sort();
    assert.deepEqual(await ids("alice"), ["a1", "a2"]);
    assert.deepEqual(await ids("bob"), ["b1"]);
    assert.deepEqual(await ids("nobody"), []);
    const listed = await store.listUser("bob");
    assert.deepEqual(listed[0]!.record, await store.get("b1"));
    // replace moves the user with the row; a later set may change it.
    await store.replace("a1", "a1-new", record({ n: 1 }, 60_000, "alice"), c);
    assert.deepEqual(await ids("alice"), ["a1-new", "a2"]);
    await store.set("a2", record({ n: 2 }, 60_000, "bob"), c);
    assert.deepEqual(await ids("bob"), ["a2", "b1"]);
    await store.set("a2", record({ n: 2 }), c);
    assert.deepEqual(await ids("bob"), ["b1"]);
    const users = await raw(
      `SELECT id, user_id FROM sessions ORDER BY id`,
    );
    assert.deepEqual(
      users.map((r) => [r.id, r.user_id]),
      [["a1-new", "alice"], ["a2", null], ["a3", "alice"], ["anon", null], [
        "b1",
        "bob",
      ]],
    );
    // Revoking: delete a listed id.
    await store.delete(listed[0]!.id);
    assert.deepEqual(await ids("bob"), []);
    await assert.rejects(
      () => store.listUser(42 as never),
      /user must be a string/,
    );
    await assert.rejects(
      () => store.set("x", { ...record({}), user: 7 as never }),
      /record.user must be a string/,
    );
  });

  test("sweep() deletes expired rows, at most its limit at a time", async ({ store, raw }) => {
    for (let i = 0; i < 25; i++) {
      await store.set(`dead${i}`, record({ i }, -1_000 - i));
    }
    for (let i = 0; i < 5; i++) await store.set(`live${i}`, record({ i }));
    assert.equal(await store.sweep(10), 10);
    assert.equal(await store.sweep(10), 10);
    assert.equal(await store.sweep(), 5);
    assert.equal(await store.sweep(), 0);
    const left = (await raw(`SELECT id FROM sessions ORDER BY id`)).map((r) =>
      r.id
    );
    assert.deepEqual(left, ["live0", "live1", "live2", "live3", "live4"]);
    await assert.rejects(() => store.sweep(0), RangeError);
    await assert.rejects(() => store.sweep(1.5), RangeError);
  });

  test("the sweep timer deletes expired rows; close() stops it", async ({ client, raw }) => {
    const store = new SqlStore(client, { sweepInterval: 0.05, sweepLimit: 2 });
    try {
      for (let i = 0; i < 5; i++) await store.set(`d${i}`, record({}, 30));
      await store.set("live", record({}));
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline) {
        if ((await raw(`SELECT id FROM sessions`)).length === 1) break;
        await delay(20);
      }
      assert.deepEqual(
        (await raw(`SELECT id FROM sessions`)).map((r) => r.id),
        ["live"],
      );
      store.close();
      await store.set("d9", record({}, -1));
      store.close(); // the write started the timer again
      await delay(150);
      assert.equal((await raw(`SELECT id FROM sessions`)).length, 2);
    } finally {
      store.close();
    }
  });

  test("a session over maxBytes fails the save with a RangeError; nothing is written, the old row stays", async ({ client, raw }) => {
    const store = new SqlStore(client, { maxBytes: 2_000, sweepInterval: 0 });
    const app = basicApp({ store }).post("/big", (c) => {
      c.session.list = c.req.query("euro")
        ? "€".repeat(700) // 2,100 bytes, 700 characters
        : "x".repeat(2_100);
      if (c.req.query("regen")) c.session.regenerate();
      return c.text("ok");
    });
    for (const path of ["/big", "/big?euro=1"]) {
      const res = await app.request(path, { method: "POST" });
      assert.equal(res.status, 500);
      assert.match(
        await res.text(),
        /^RangeError: SqlStore: the session is 21\d\d bytes of JSON, over the limit of 2000 bytes \(maxBytes\); keep less in the session/,
      );
      assert.equal(res.headers.get("set-cookie"), null);
    }
    assert.equal((await raw(`SELECT id FROM sessions`)).length, 0);
    // Signed in, then too big on a write and on a regenerate.
    const jar = new Jar(app);
    await jar.fetch("/login", { method: "POST" });
    const before = await raw(`SELECT id, data, version FROM sessions`);
    for (const path of ["/big", "/big?regen=1"]) {
      const res = await jar.fetch(path, { method: "POST" });
      assert.equal(res.status, 500);
      assert.deepEqual(
        await raw(`SELECT id, data, version FROM sessions`),
        before,
        path,
      );
    }
    assert.deepEqual(await jar.text("/read"), [200, "ada"]);
    // Just under: fine ("€" counts 3 bytes).
    const json = JSON.stringify(record({ s: "" }));
    await store.set("near", {
      ...record({ s: "€".repeat(Math.floor((2_000 - json.length) / 3)) }),
    });
    // Ids and user ids over 2 KiB (their indexes' limit) are refused.
    await assert.rejects(
      () => store.set("i".repeat(2_049), record({})),
      /the session id is over 2048 bytes/,
    );
    await assert.rejects(
      () => store.set("i", record({}, 60_000, "é".repeat(1_025))),
      /user id is over 2048 bytes/,
    );
  });

  test("listUser returns only the exact user, though a driver stores a lone surrogate as U+FFFD", async ({ store }) => {
    await store.set("a", record({ n: 1 }, 60_000, "mallory\uD800"));
    await store.set("b", record({ n: 2 }, 60_000, "mallory\uFFFD"));
    assert.deepEqual(
      (await store.listUser("mallory\uFFFD")).map((e) => e.id),
      ["b"],
    );
    assert.deepEqual(await store.listUser("mallory\uDFFF"), []);
  });

  test("a table that was never created is an error that says how to create it", async ({ client, dialect }) => {
    const store = new SqlStore(client, { table: "never_created" });
    try {
      const app = basicApp({ store });
      const res = await app.request("/login", { method: "POST" });
      assert.equal(res.status, 500);
      assert.match(
        await res.text(),
        new RegExp(
          `the table "never_created" does not exist; create it once with await store.createTable\\(\\), or run the statements of SqlStore.schema\\("${dialect}", "never_created"\\)`,
        ),
      );
    } finally {
      store.close();
    }
  });

  test("createTable() is idempotent; the schema is what SqlStore.schema() says", async ({ store, raw, dialect }) => {
    await store.createTable();
    await store.createTable();
    const indexes = dialect === "sqlite"
      ? await raw(
        `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sessions' AND sql IS NOT NULL ORDER BY name`,
      )
      : await raw(
        `SELECT indexname AS name FROM pg_indexes WHERE tablename = 'sessions' AND indexname <> 'sessions_pkey' ORDER BY indexname`,
      );
    assert.deepEqual(indexes.map((r) => r.name), [
      "sessions_expires_idx",
      "sessions_user_id_idx",
    ]);
    assert.equal(store.dialect, dialect);
  });

  test("listUser and the sweep use their indexes", async ({ raw, dialect }) => {
    const sqliteEngine = dialect === "sqlite";
    const plan = async (sql: string, params: (string | number)[]) =>
      sqliteEngine
        ? (await raw(`EXPLAIN QUERY PLAN ${sql}`, params)).map((r) => r.detail)
          .join("\n")
        : (await raw(
          `SELECT set_config('enable_seqscan', 'off', false) AS x`,
        ),
          (await raw(`EXPLAIN ${sql}`, params)).map((r) => r["QUERY PLAN"])
            .join("\n"));
    const user = sqliteEngine
      ? `SELECT id, data FROM "sessions" WHERE user_id = ?1 AND expires > ?2`
      : `SELECT id, data FROM "sessions" WHERE user_id = $1 AND expires > $2`;
    assert.match(await plan(user, ["u", 1]), /sessions_user_id_idx/);
    const expired = sqliteEngine
      ? `SELECT id FROM "sessions" WHERE expires <= ?1 LIMIT ?2`
      : `SELECT id FROM "sessions" WHERE expires <= $1 LIMIT $2`;
    assert.match(await plan(expired, [1, 10]), /sessions_expires_idx/);
  });

  return tests;
}

for (
  const [name, fn] of storeTests({
    name: "node:sqlite",
    async open() {
      const conn = sqlite();
      const store = new SqlStore(conn.client, { sweepInterval: 0 });
      await store.createTable();
      return { ...conn, store };
    },
  })
) Deno.test(name.replace("node:sqlite", "SQLite, node:sqlite"), fn);

Deno.test("SqlStore: the table is created only when asked", async () => {
  const { db, client, close } = sqlite();
  try {
    const store = new SqlStore(client);
    const tables = () =>
      db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all();
    assert.deepEqual(tables(), []);
    await assert.rejects(
      () => store.get("x"),
      /the table "sessions" does not exist; create it once with await store.createTable\(\)/,
    );
    const app = basicApp({ store });
    const res = await app.request("/login", { method: "POST" });
    assert.equal(res.status, 500, "a missing table fails the request");
    assert.deepEqual(tables(), []);
    await store.createTable();
    assert.deepEqual(tables().map((t) => t.name), ["sessions"]);
    store.close();
  } finally {
    await close();
  }
});

Deno.test("SqlStore.schema: the SQL per dialect, as docs/stores.md shows it", async () => {
  const guide = await Deno.readTextFile(
    new URL("../../docs/stores.md", import.meta.url),
  );
  for (const dialect of ["postgres", "sqlite"] as const) {
    const sql = SqlStore.schema(dialect).join(";\n") + ";";
    assert.ok(
      guide.includes(sql),
      `docs/stores.md shows the ${dialect} schema:\n${sql}`,
    );
  }
  assert.match(
    SqlStore.schema("postgres", "app_sessions")[0]!,
    /^CREATE TABLE IF NOT EXISTS "app_sessions" \(\n {2}id TEXT COLLATE "C" PRIMARY KEY,/,
  );
  assert.throws(() => SqlStore.schema("mysql" as never), TypeError);
  assert.throws(() => SqlStore.schema("sqlite", "a b"), TypeError);
});

Deno.test("SqlStore refuses bad options and unknown clients at construction, saying what to change", () => {
  const { client, db } = sqlite();
  try {
    for (
      const table of [
        "",
        "sessions; DROP TABLE x",
        'a"b',
        "a.b",
        "1abc",
        "a-b",
        "s".repeat(49),
        "sessión",
        42,
      ]
    ) {
      assert.throws(
        () => new SqlStore(client, { table: table as never }),
        {
          name: "TypeError",
          message:
            /SqlStore: table must be a plain name \(letters, digits and _/,
        },
        String(table),
      );
    }
    for (const table of ["app_sessions", "_s1", "Sessions", "s".repeat(48)]) {
      new SqlStore(client, { table }).close();
    }
    const bad: [Record<string, unknown>, RegExp, string][] = [
      [
        { tabel: "x" },
        /unknown option "tabel"; the options are table,/,
        "TypeError",
      ],
      [
        { sweepInterval: -1 },
        /sweepInterval must be a number of seconds, 0 \(off\) or more; got -1/,
        "RangeError",
      ],
      [{ sweepInterval: Infinity }, /sweepInterval/, "RangeError"],
      [{ sweepInterval: "60" }, /sweepInterval/, "RangeError"],
      [
        { sweepLimit: 0 },
        /sweepLimit must be a whole number of rows, at least 1; got 0/,
        "RangeError",
      ],
      [{ sweepLimit: 2.5 }, /sweepLimit/, "RangeError"],
      [
        { maxBytes: 0 },
        /maxBytes must be a whole number of bytes/,
        "RangeError",
      ],
      [{ onSweepError: "log" }, /onSweepError must be a function/, "TypeError"],
    ];
    for (const [options, message, name] of bad) {
      assert.throws(() => new SqlStore(client, options as never), {
        name,
        message,
      });
    }
    assert.throws(() => new SqlStore(client, "x" as never), TypeError);
    for (const other of [null, undefined, {}, { query() {} }, 42, () => {}]) {
      assert.throws(() => new SqlStore(other as never), {
        name: "TypeError",
        message: /SqlStore: pass a node-postgres Pool, a postgres.js client/,
      });
    }
    assert.throws(
      () => new SqlStore({ dialect: "mysql", query: () => [] } as never),
      /client.dialect must be "postgres" or "sqlite"; got "mysql"/,
    );
    // Undefined options take their defaults (exactOptionalPropertyTypes).
    new SqlStore(client, {
      table: undefined,
      sweepInterval: undefined,
      sweepLimit: undefined,
      maxBytes: undefined,
      onSweepError: undefined,
    }).close();
  } finally {
    db.close();
  }
});

Deno.test('SqlStore refuses a node-postgres pool with no "error" listener', () => {
  const pool = new pg.Pool({ connectionString: "postgres://127.0.0.1:1/x" });
  assert.throws(() => new SqlStore(pool), {
    name: "TypeError",
    message: /node-postgres client has no "error" listener/,
  });
  pool.on("error", () => {});
  assert.equal(new SqlStore(pool).dialect, "postgres");
});

Deno.test("SqlStore: a { dialect, query } client works, synchronous or not", async () => {
  const { db, close } = sqlite();
  try {
    for (const sync of [true, false]) {
      const client: SqlClient = {
        dialect: "sqlite",
        query: (sql, params) => {
          const rows = db.prepare(sql).all(...params) as SqlRow[];
          return sync ? rows : Promise.resolve(rows);
        },
      };
      const store = new SqlStore(client, { table: `t${sync}` });
      await store.createTable();
      const c = {};
      await store.set("a", record({ ok: sync }), c);
      await store.replace("a", "b", record({ ok: sync }), c);
      assert.deepEqual((await store.get("b"))?.data, { ok: sync });
      store.close();
    }
  } finally {
    await close();
  }
});

Deno.test("SqlStore.listUser reads only that user's rows (one query on the user index), not every session", async () => {
  const { db, close } = sqlite();
  try {
    const read: SqlRow[][] = [];
    const client: SqlClient = {
      dialect: "sqlite",
      query: (sql, params) => {
        const rows = db.prepare(sql).all(...params) as SqlRow[];
        if (sql.startsWith("SELECT id, data")) read.push(rows);
        return rows;
      },
    };
    const store = new SqlStore(client, { sweepInterval: 0 });
    await store.createTable();
    for (const user of ["alice", "bob", "bob", "carol"]) {
      await store.set(randomId(), record({}, 60_000, user));
    }
    assert.equal((await store.listUser("bob")).length, 2);
    assert.deepEqual(read.map((rows) => rows.length), [2]);
    store.close();
  } finally {
    await close();
  }
});

Deno.test("SqlStore: the sweep timer never keeps a process alive, and its failures are reported, not thrown", async () => {
  const url = new URL("../../stores/sql.ts", import.meta.url).href;
  const code = `
    import { DatabaseSync } from "node:sqlite";
    const { SqlStore } = await import(${JSON.stringify(url)});
    const store = new SqlStore(new DatabaseSync(":memory:"), { sweepInterval: 3600 });
    await store.createTable();
    await store.set("a", { data: {}, expires: Date.now() + 60000 });
    console.log("written");
  `;
  const started = Date.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "written");
  assert.ok(Date.now() - started < 30_000);

  const errors: unknown[] = [];
  const { client, db } = sqlite();
  const store = new SqlStore(client, {
    sweepInterval: 0.02,
    onSweepError: (error) => errors.push(error),
  });
  try {
    await store.createTable();
    await store.set("a", record({}));
    db.exec(`DROP TABLE sessions`);
    const deadline = Date.now() + 5_000;
    while (errors.length === 0 && Date.now() < deadline) await delay(10);
    assert.match(String(errors[0]), /the table "sessions" does not exist/);
    assert.match(String((errors[0] as Error).cause), /no such table/);
  } finally {
    store.close();
    db.close();
  }
});

// ---------------------------------------------------------------------------
// PostgreSQL: a real server, started here.

/** Runs `fn` with a fresh server, stopped after. */
async function withServer(
  fn: (server: PostgresServer) => Promise<void>,
): Promise<void> {
  const server = await PostgresServer.start();
  try {
    await fn(server);
  } finally {
    await server.stop();
  }
}

/** A connection through `driver` with the table created. */
async function connect(
  driver: PgDriver,
  server: PostgresServer,
  options: ConstructorParameters<typeof SqlStore>[1] = { sweepInterval: 0 },
): Promise<Connection & { store: SqlStore }> {
  const conn = driver.connect(server.url);
  const store = new SqlStore(conn.client, options);
  await store.createTable();
  return { ...conn, store };
}

if (!postgresAvailable && postgresRequired) {
  Deno.test("SqlStore on PostgreSQL: PostgreSQL is required under CI=true", () => {
    throw new Error(`CI=true and ${postgresMissing}`);
  });
} else if (!postgresAvailable) {
  // Said here, once: other files skip their PostgreSQL cases without a word.
  console.warn(`PostgreSQL tests skipped: ${postgresMissing}.`);
  Deno.test({
    name:
      "SqlStore on PostgreSQL (skipped: PostgreSQL not installed; apt-get install -y postgresql)",
    ignore: true,
    fn() {},
  });
} else {
  // The conformance suite, each driver on a server of its own; every case
  // on a new connection pool over the same table.
  for (const driver of pgDrivers) {
    Deno.test(`SqlStore (PostgreSQL, ${driver.name}) conforms`, async (t) => {
      await withServer(async (server) => {
        const setup = await connect(driver, server);
        await setup.close();
        const cases: [string, () => Promise<void>][] = [];
        storeConformance(`SqlStore (PostgreSQL, ${driver.name})`, () => {
          const conn = driver.connect(server.url);
          const store = new SqlStore(conn.client);
          return {
            store,
            close: async () => {
              store.close();
              await conn.close();
            },
          };
        }, {
          ...checked,
          test: (name, fn) => void cases.push([name, fn]),
        });
        assert.equal(cases.length, CASES.length, "every case applies");
        for (const [name, fn] of cases) await t.step(name, fn);
      });
    });
  }

  // The engine checks, on one server, on a fresh table each.
  for (const driver of pgDrivers) {
    Deno.test(`SqlStore (PostgreSQL, ${driver.name}): the store checks`, async (t) => {
      await withServer(async (server) => {
        const tests = storeTests({
          name: `PostgreSQL, ${driver.name}`,
          async open() {
            const conn = await connect(driver, server);
            await conn.raw(`TRUNCATE sessions`);
            return conn;
          },
        });
        for (const [name, fn] of tests) await t.step(name, fn);
      });
    });
  }

  Deno.test("SqlStore (PostgreSQL): a new id taken by a concurrent transaction fails replace() with a conflict; nothing changes", async () => {
    await withServer(async (server) => {
      const { store, raw, close } = await connect(nodePostgres, server);
      const other = new pg.Client({ connectionString: server.url });
      try {
        await other.connect();
        await store.set("old", record({ v: "old" }));
        const c = {};
        await store.get("old", c);
        // Another transaction inserts the new id and holds it: the check
        // in replace() cannot see it, the unique index waits for it.
        await other.query("BEGIN");
        await other.query(
          `INSERT INTO sessions (id, data, expires, version) VALUES ('new', '{}', $1, 1)`,
          [Date.now() + 60_000],
        );
        // The refusal is awaited at once: under load it may come before the
        // COMMIT below is acknowledged.
        const refused = assert.rejects(
          store.replace("old", "new", record({ v: "moved" }), c),
          SessionConflictError,
        );
        await delay(200);
        await other.query("COMMIT");
        await refused;
        assert.deepEqual(
          (await raw(`SELECT id, data FROM sessions ORDER BY id`)).map((r) =>
            r.id === "old" ? [r.id, JSON.parse(r.data as string).data] : [
              r.id,
              r.data,
            ]
          ),
          [["new", "{}"], ["old", { v: "old" }]],
        );
      } finally {
        await other.end();
        await close();
      }
    });
  });

  for (const driver of pgDrivers) {
    Deno.test(`SqlStore (PostgreSQL, ${driver.name}): PostgreSQL killed mid-run: requests fail with 500, nothing half-written, the process lives on, the same cookie works once it is back`, async () => {
      await withServer(async (server) => {
        const { store, raw, close } = await connect(driver, server);
        try {
          const app = basicApp({ store }).post("/regen", (c) => {
            c.session.regenerate();
            c.session.userId = "regenerated";
            return c.text("ok");
          });
          const jar = new Jar(app);
          await jar.fetch("/login?user=ada", { method: "POST" });
          assert.deepEqual(await jar.text("/count", { method: "POST" }), [
            200,
            "1",
          ]);
          const before = jar.get("sid")!;
          await server.kill();
          for (const wait of [0, 300]) {
            await delay(wait);
            for (
              const [path, method] of [
                ["/read", "GET"],
                ["/count", "POST"],
                ["/regen", "POST"],
                ["/logout", "POST"],
                ["/login", "POST"],
              ]
            ) {
              const what =
                `${path} while PostgreSQL is down (after ${wait} ms)`;
              const res = await within(
                5_000,
                jar.fetch(path, { method }),
                what,
              );
              await res.body?.cancel();
              assert.equal(res.status, 500, what);
              assert.equal(
                res.headers.get("set-cookie"),
                null,
                `${what}: the cookie is left alone`,
              );
            }
          }
          assert.equal(jar.get("sid"), before);
          await server.resume();
          const deadline = Date.now() + 15_000;
          let text = "";
          while (text !== "ada" && Date.now() < deadline) {
            const res = await within(5_000, jar.fetch("/read"), "/read after");
            text = await res.text();
            if (text !== "ada") await delay(100);
          }
          assert.equal(text, "ada", "signed in again once PostgreSQL is back");
          assert.equal(jar.get("sid"), before, "with the same cookie");
          assert.deepEqual(
            await jar.text("/count", { method: "POST" }),
            [200, "2"],
            "the counter from before the crash is intact",
          );
          assert.deepEqual(
            (await raw(`SELECT id FROM sessions`)).map((r) => r.id),
            [storeKey(before)],
            "no orphan from the failed regenerate or login",
          );
        } finally {
          await close();
        }
      });
    });
  }

  Deno.test("SqlStore: two Deno processes share sessions through one PostgreSQL (node-postgres and postgres.js)", async () => {
    await withServer(async (server) => {
      await (await connect(nodePostgres, server)).close();
      const script =
        new URL("../fixtures/sql_server.ts", import.meta.url).pathname;
      // One after the other: a failure to start stops the other.
      const a = await startServer(["--allow-all", script, server.url, "pg"]);
      let b: ServerProcess | undefined;
      try {
        b = await startServer(["--allow-all", script, server.url, "postgres"]);
        const browser = (base: string) =>
          new Jar(
            {
              request: (path: string, init: RequestInit) =>
                fetch(base + path, init),
            } as never,
          );
        const viaA = browser(a.url);
        await viaA.fetch("/login?user=ada", { method: "POST" });
        const viaB = browser(b.url);
        viaB.cookies.set("sid", viaA.get("sid")!);
        assert.deepEqual(await viaB.text("/read"), [200, "ada"]);
        assert.deepEqual(await viaB.text("/count", { method: "POST" }), [
          200,
          "1",
        ]);
        assert.deepEqual(await viaA.text("/count", { method: "POST" }), [
          200,
          "2",
        ]);
        await viaB.fetch("/logout", { method: "POST" });
        assert.deepEqual(await viaA.text("/read"), [200, "-"]);
        await viaA.fetch("/login?user=lin", { method: "POST" });
        const old = viaA.get("sid")!;
        await viaA.fetch("/regen", { method: "POST" });
        assert.notEqual(viaA.get("sid"), old);
        const stale = browser(b.url);
        stale.cookies.set("sid", old);
        assert.deepEqual(await stale.text("/read"), [200, "-"]);
        viaB.cookies.set("sid", viaA.get("sid")!);
        assert.deepEqual(await viaB.text("/read"), [200, "lin"]);
      } finally {
        await Promise.all([a.stop(), b?.stop()]);
      }
    });
  });
}
