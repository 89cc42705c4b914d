/**
 * A session store on a SQL database: PostgreSQL, SQLite or Cloudflare D1,
 * through the client the app already has.
 *
 * @example node-postgres (`npm:pg`)
 * ```ts
 * import { Hono } from "hono";
 * import pg from "pg";
 * import { session } from "@x/hono-session";
 * import { SqlStore } from "@x/hono-session/stores/sql";
 *
 * const pool = new pg.Pool({ connectionString: "postgres://app@127.0.0.1/app" });
 * pool.on("error", (err) => console.error("postgres:", err.message));
 * const store = new SqlStore(pool);
 * const app = new Hono().use(session({ store }));
 * ```
 *
 * @example SQLite through `node:sqlite`, creating the table at start-up
 * ```ts
 * import { DatabaseSync } from "node:sqlite";
 * import { SqlStore } from "@x/hono-session/stores/sql";
 *
 * const store = new SqlStore(new DatabaseSync(":memory:"));
 * await store.createTable();
 * ```
 *
 * @module
 */
import type {
  SessionRecord,
  SessionStore,
  UserSessionEntry,
} from "../session_store.ts";
import { SessionConflictError } from "../session_conflict_error.ts";
import { ReadVersions } from "../_lib/read_versions.ts";
import { decodeRecord, encodeRecord } from "../_lib/record_codec.ts";
import { unrefTimer } from "../_lib/timer.ts";
import { lacksErrorListener } from "../_lib/error_listener.ts";
import { utf8Length } from "../_lib/encoding.ts";

/**
 * A value bound to a statement's parameter.
 *
 * @example
 * ```ts
 * import type { SqlValue } from "@x/hono-session/stores/sql";
 *
 * const params: SqlValue[] = ["id", '{"data":{}}', Date.now(), null];
 * ```
 */
export type SqlValue = string | number | null;

/**
 * One row a statement returned, by column name.
 *
 * @example
 * ```ts
 * import type { SqlRow } from "@x/hono-session/stores/sql";
 *
 * const row: SqlRow = { data: "{}", version: "42" };
 * ```
 */
export type SqlRow = Record<string, unknown>;

/**
 * The SQL a database speaks: PostgreSQL, or SQLite (Cloudflare D1 too).
 *
 * @example
 * ```ts
 * import { type SqlDialect, SqlStore } from "@x/hono-session/stores/sql";
 *
 * const dialect: SqlDialect = "sqlite";
 * SqlStore.schema(dialect);
 * ```
 */
export type SqlDialect = "postgres" | "sqlite";

/**
 * The one thing {@linkcode SqlStore} needs from a database: run one
 * statement with bound parameters and give back the rows it returned.
 * Wrap any driver the store does not recognise in it.
 *
 * Parameters are numbered: `$1`, `$2`, ... in PostgreSQL, `?1`, `?2`, ...
 * in SQLite; the same number may appear twice. Every statement the store
 * sends is one statement, so `query` needs no transaction of its own.
 *
 * @example A client for a driver with `execute(sql, params)`
 * ```ts
 * import { type SqlClient, SqlStore } from "@x/hono-session/stores/sql";
 *
 * declare const db: {
 *   execute(sql: string, params: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
 * };
 * const client: SqlClient = {
 *   dialect: "postgres",
 *   query: async (sql, params) => (await db.execute(sql, params)).rows,
 * };
 * const store = new SqlStore(client);
 * ```
 */
export interface SqlClient {
  /** Which SQL to send. */
  readonly dialect: SqlDialect;
  /**
   * Runs `sql` with `params` bound in order and returns the rows it
   * returned (`RETURNING` rows for writes), keyed by column name. Integer
   * columns may come back as numbers, strings or bigints.
   */
  query(
    sql: string,
    params: SqlValue[],
  ): SqlRow[] | Promise<SqlRow[]>;
}

/**
 * A node-postgres (`npm:pg`) `Pool` or `Client`, or anything with its
 * `query(text, values)` and `connect()`. It needs an `"error"` listener:
 * node-postgres emits `"error"` when an idle connection drops, and with
 * nobody listening Node ends the process.
 *
 * @example
 * ```ts
 * import pg from "pg";
 * import type { NodePostgresLike } from "@x/hono-session/stores/sql";
 *
 * const pool: NodePostgresLike = new pg.Pool({ connectionString: "postgres://127.0.0.1/app" });
 * ```
 */
export interface NodePostgresLike {
  /** Runs one statement with bound values. */
  query(text: string, values: any[]): Promise<{ rows: any[] }>;
  /** Connects (a `Client`) or checks a connection out (a `Pool`). */
  connect(): unknown;
}

/**
 * A postgres.js (`npm:postgres`) client, as `postgres(url)` returns it: the
 * store calls its `unsafe(query, parameters)` with bound parameters only.
 *
 * @example
 * ```ts
 * import postgres from "postgres";
 * import type { PostgresJsLike } from "@x/hono-session/stores/sql";
 *
 * const sql: PostgresJsLike = postgres("postgres://127.0.0.1/app");
 * ```
 */
export interface PostgresJsLike {
  /** Runs one statement with bound parameters. */
  unsafe(query: string, parameters?: any[]): PromiseLike<readonly any[]>;
  /** Runs a transaction (not used; it tells postgres.js apart). */
  begin: unknown;
}

/**
 * A prepared statement of Cloudflare D1.
 *
 * @example
 * ```ts
 * import type { D1DatabaseLike, D1StatementLike } from "@x/hono-session/stores/sql";
 *
 * declare const db: D1DatabaseLike;
 * const statement: D1StatementLike = db.prepare("SELECT 1 AS one").bind();
 * ```
 */
export interface D1StatementLike {
  /** Binds the parameters, returning a new statement. */
  bind(...values: any[]): D1StatementLike;
  /** Runs the statement and returns its rows. */
  all(): Promise<{ results: any[] }>;
}

/**
 * A Cloudflare D1 database binding (`env.DB`): `prepare().bind()`.
 *
 * @example
 * ```ts
 * import { type D1DatabaseLike, SqlStore } from "@x/hono-session/stores/sql";
 *
 * function storeFor(env: { DB: D1DatabaseLike }): SqlStore {
 *   return new SqlStore(env.DB);
 * }
 * ```
 */
export interface D1DatabaseLike {
  /** Prepares one statement. */
  prepare(query: string): D1StatementLike;
  /** Runs statements in one transaction (not used; it tells D1 apart). */
  batch(statements: any[]): Promise<unknown>;
}

/**
 * A synchronous SQLite database: `node:sqlite`'s `DatabaseSync`,
 * `bun:sqlite`'s `Database`, better-sqlite3's `Database`. The store
 * prepares each of its few statements once and calls `all(...params)`.
 *
 * @example
 * ```ts
 * import { DatabaseSync } from "node:sqlite";
 * import type { SqliteDatabaseLike } from "@x/hono-session/stores/sql";
 *
 * const db: SqliteDatabaseLike = new DatabaseSync(":memory:");
 * ```
 */
export interface SqliteDatabaseLike {
  /** Prepares one statement. */
  prepare(sql: string): { all(...params: any[]): unknown[] };
}

/**
 * Every client {@linkcode SqlStore} takes.
 *
 * @example
 * ```ts
 * import { DatabaseSync } from "node:sqlite";
 * import type { SqlStoreClient } from "@x/hono-session/stores/sql";
 *
 * const client: SqlStoreClient = new DatabaseSync(":memory:");
 * ```
 */
export type SqlStoreClient =
  | SqlClient
  | NodePostgresLike
  | PostgresJsLike
  | D1DatabaseLike
  | SqliteDatabaseLike;

/**
 * Options for {@linkcode SqlStore}.
 *
 * @example
 * ```ts
 * import type { SqlStoreOptions } from "@x/hono-session/stores/sql";
 *
 * const options: SqlStoreOptions = {
 *   table: "app_sessions",
 *   sweepInterval: 600,
 *   sweepLimit: 500,
 *   maxBytes: 64 * 1024,
 * };
 * ```
 */
export interface SqlStoreOptions {
  /**
   * The table sessions are kept in: letters, digits and `_`, starting with
   * a letter or `_`, at most 48 characters. The store always quotes it, so
   * in PostgreSQL its case matters. Default: `"sessions"`.
   */
  table?: string | undefined;
  /**
   * Seconds between sweeps that delete expired sessions nobody read again
   * (each sweep deletes at most `sweepLimit` rows). The timer starts with
   * the first write and never keeps a process alive. `0` turns it off:
   * expired sessions are still never returned, and {@linkcode SqlStore.sweep}
   * can be called from a scheduled job. Default: 300, or 0 on Cloudflare D1
   * (a Worker has no timers between requests: use a Cron Trigger).
   */
  sweepInterval?: number | undefined;
  /** The most rows one sweep deletes. Default: 1000. */
  sweepLimit?: number | undefined;
  /**
   * The largest session, in bytes of its JSON, the store writes; a larger
   * one fails the save with a `RangeError` and nothing is written. Default:
   * the engine's limit (PostgreSQL 1 GB a value, SQLite 1,000,000,000
   * bytes, D1 2,000,000 bytes a row, less room for the rest of the row).
   */
  maxBytes?: number | undefined;
  /**
   * Called when a sweep on the timer fails (the database is down, say).
   * Default: logs the error with `console.error`.
   */
  onSweepError?: ((error: unknown) => void) | undefined;
}

const OPTION_KEYS = new Set([
  "table",
  "sweepInterval",
  "sweepLimit",
  "maxBytes",
  "onSweepError",
]);

/** PostgreSQL's limit on one text value (1 GB). */
const POSTGRES_MAX = 1_073_741_823;
/** SQLite's default limit on a string or blob (SQLITE_MAX_LENGTH). */
const SQLITE_MAX = 1_000_000_000;
/** Cloudflare D1's limit on a row. */
const D1_ROW_MAX = 2_000_000;
/**
 * The most bytes an id or a user id may take: they are indexed, and a
 * PostgreSQL B-tree entry must fit in a third of a page (2,704 bytes).
 */
const KEY_MAX = 2_048;
/** D1's default limit on the session JSON: a row, less id, user and the rest. */
const D1_MAX = D1_ROW_MAX - 2 * KEY_MAX - 64;

/** The parameters of a row: id, data, expires, version, user. */
type Row = [string, string, number, number, string | null];

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

// The statements of one table, in one dialect.
interface Statements {
  get: string;
  version: string;
  upsert: string;
  insert: string;
  update: string;
  replace: string;
  delete: string;
  sweep: string;
  listUser: string;
}

/**
 * The SQL that creates the table and its indexes, one statement per entry.
 * PostgreSQL compares ids byte by byte (`COLLATE "C"`), as SQLite does.
 */
function schemaOf(dialect: SqlDialect, table: string): string[] {
  const t = `"${table}"`;
  const id = dialect === "postgres" ? `TEXT COLLATE "C"` : "TEXT";
  const int = dialect === "postgres" ? "BIGINT" : "INTEGER";
  return [
    `CREATE TABLE IF NOT EXISTS ${t} (\n` +
    `  id ${id} PRIMARY KEY,\n` +
    `  data TEXT NOT NULL,\n` +
    `  expires ${int} NOT NULL,\n` +
    `  version ${int} NOT NULL,\n` +
    `  user_id TEXT\n` +
    `)`,
    `CREATE INDEX IF NOT EXISTS "${table}_expires_idx" ON ${t} (expires)`,
    `CREATE INDEX IF NOT EXISTS "${table}_user_id_idx" ON ${t} (user_id) WHERE user_id IS NOT NULL`,
  ];
}

function statementsOf(dialect: SqlDialect, table: string): Statements {
  const t = `"${table}"`;
  const columns = "(id, data, expires, version, user_id)";
  const overwrite =
    "data = excluded.data, expires = excluded.expires, version = excluded.version, user_id = excluded.user_id";
  const statements: Statements = {
    // $1 id, $2 now
    get: `SELECT data, version FROM ${t} WHERE id = $1 AND expires > $2`,
    version: `SELECT version FROM ${t} WHERE id = $1 AND expires > $2`,
    // $1 id, $2 data, $3 expires, $4 version, $5 user
    upsert: `INSERT INTO ${t} ${columns} VALUES ($1, $2, $3, $4, $5) ` +
      `ON CONFLICT (id) DO UPDATE SET ${overwrite}`,
    // ... $6 now: writes only over nothing or an expired row.
    insert: `INSERT INTO ${t} ${columns} VALUES ($1, $2, $3, $4, $5) ` +
      `ON CONFLICT (id) DO UPDATE SET ${overwrite} WHERE ${t}.expires <= $6 ` +
      `RETURNING version`,
    // ... $6 the version read.
    update:
      `UPDATE ${t} SET data = $2, expires = $3, version = $4, user_id = $5 ` +
      `WHERE id = $1 AND version = $6 RETURNING version`,
    // $1 old id, $2 new id, $3 data, $4 expires, $5 version, $6 user,
    // $7 the version read: the row moves to its new id in one statement.
    replace:
      `UPDATE ${t} SET id = $2, data = $3, expires = $4, version = $5, user_id = $6 ` +
      `WHERE id = $1 AND version = $7 ` +
      `AND NOT EXISTS (SELECT 1 FROM ${t} AS taken WHERE taken.id = $2) ` +
      `RETURNING version`,
    // $1 id, $2 now: whether a live row went.
    delete: `DELETE FROM ${t} WHERE id = $1 RETURNING expires > $2 AS live`,
    // $1 now, $2 limit. PostgreSQL skips rows another sweep has locked.
    sweep: `DELETE FROM ${t} WHERE id IN (SELECT id FROM ${t} ` +
      `WHERE expires <= $1 LIMIT $2${
        dialect === "postgres" ? " FOR UPDATE SKIP LOCKED" : ""
      }) AND expires <= $1 RETURNING 1 AS gone`,
    // $1 user, $2 now
    listUser: `SELECT id, data FROM ${t} WHERE user_id = $1 AND expires > $2`,
  };
  if (dialect === "sqlite") {
    for (const name of Object.keys(statements) as (keyof Statements)[]) {
      statements[name] = statements[name].replace(/\$(\d)/g, "?$1");
    }
  }
  return statements;
}

// The client's statement runner, by the client's shape.
function adapt(
  client: SqlStoreClient,
): { dialect: SqlDialect; d1: boolean; query: SqlClient["query"] } {
  const c = client as unknown as Record<string, unknown> | null | undefined;
  if (
    typeof c === "function" &&
    typeof (c as { unsafe?: unknown }).unsafe === "function"
  ) {
    // postgres.js: `sql.unsafe(text, params)` resolves to an array of rows.
    const pg = client as PostgresJsLike;
    return {
      dialect: "postgres",
      d1: false,
      query: async (sql, params) => await pg.unsafe(sql, params) as SqlRow[],
    };
  }
  if (c === null || typeof c !== "object") throw unknownClient();
  if (typeof c.query === "function" && typeof c.dialect === "string") {
    const { dialect } = client as SqlClient;
    if (dialect !== "postgres" && dialect !== "sqlite") {
      throw new TypeError(
        `SqlStore: client.dialect must be "postgres" or "sqlite"; got ${
          JSON.stringify(dialect)
        }`,
      );
    }
    const query = (client as SqlClient).query.bind(client);
    return { dialect, d1: false, query };
  }
  if (typeof c.prepare === "function" && typeof c.batch === "function") {
    // Cloudflare D1: prepare once per statement, bind per call.
    const db = client as D1DatabaseLike;
    const prepared = new Map<string, D1StatementLike>();
    return {
      dialect: "sqlite",
      d1: true,
      query: async (sql, params) => {
        let statement = prepared.get(sql);
        if (statement === undefined) {
          prepared.set(sql, statement = db.prepare(sql));
        }
        return (await statement.bind(...params).all()).results as SqlRow[];
      },
    };
  }
  if (typeof c.prepare === "function") {
    // node:sqlite, bun:sqlite, better-sqlite3: synchronous statements.
    const db = client as SqliteDatabaseLike;
    const prepared = new Map<string, ReturnType<typeof db.prepare>>();
    return {
      dialect: "sqlite",
      d1: false,
      query: (sql, params) => {
        let statement = prepared.get(sql);
        if (statement === undefined) {
          prepared.set(sql, statement = db.prepare(sql));
        }
        return statement.all(...params) as SqlRow[];
      },
    };
  }
  if (typeof c.query === "function" && typeof c.connect === "function") {
    // node-postgres: refuse a client whose dropped connection would end
    // the process.
    if (lacksErrorListener(c)) {
      throw new TypeError(
        'SqlStore: this node-postgres client has no "error" listener, so a dropped idle connection would crash the process; add pool.on("error", (err) => console.error(err)) before creating the store',
      );
    }
    const pg = client as NodePostgresLike;
    return {
      dialect: "postgres",
      d1: false,
      query: async (sql, params) => (await pg.query(sql, params)).rows,
    };
  }
  throw unknownClient();
}

function unknownClient(): TypeError {
  return new TypeError(
    "SqlStore: pass a node-postgres Pool, a postgres.js client, a node:sqlite or bun:sqlite database, a Cloudflare D1 binding, or a { dialect, query } object (see SqlClient)",
  );
}

/** Whether `error` is the engine refusing a second row with one id. */
function isUniqueViolation(error: unknown): boolean {
  if (error === null || typeof error !== "object") return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === "23505" ||
    (typeof message === "string" && message.includes("UNIQUE constraint"));
}

// PostgreSQL's undefined_table, or SQLite's (and D1's) "no such table".
function isMissingTable(error: unknown): boolean {
  if (error === null || typeof error !== "object") return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === "42P01" ||
    (typeof message === "string" && message.includes("no such table"));
}

function fitsIn(text: string, max: number): boolean {
  return text.length * 3 <= max || utf8Length(text) <= max;
}

/**
 * A new row version: a random whole number from 1 to 2^53 - 1 (exact as a
 * JavaScript number, as text and as a 64-bit integer). Random rather than
 * counted, so a row deleted and written again never repeats a version a
 * request may still hold. It is no secret (no client ever sees or sends
 * one), so Math.random's 53 bits do.
 */
function newVersion(): number {
  return Math.floor(Math.random() * 0x1f_ffff_ffff_ffff) + 1;
}

/**
 * Keeps sessions in one table of a PostgreSQL, SQLite or Cloudflare D1
 * database, through the client the app already has; this module imports
 * no driver. Pass a node-postgres `Pool`, a postgres.js client, a
 * `node:sqlite` `DatabaseSync`, a `bun:sqlite` `Database`, a D1 binding,
 * or any database wrapped in a {@linkcode SqlClient}.
 *
 * Each session is one row: the id the middleware gives (the SHA-256 of the
 * cookie's id, never the cookie itself) as primary key, the session's JSON,
 * its deadline (`expires`, milliseconds since the epoch, indexed), a
 * `version` that changes on every write, and the `user_id` the app tied
 * the session to, if any (indexed, for {@linkcode SqlStore.listUser}).
 * The store never creates the table unless asked: run
 * {@linkcode SqlStore.createTable} once, or the SQL of
 * {@linkcode SqlStore.schema} in a migration.
 *
 * Guarantees, as DenoKvStore and RedisStore give them: a write is checked
 * against the version the same request read, in the statement that writes
 * (a sign-out, `regenerate()` or another write in between makes `set`
 * throw a `SessionConflictError`; the middleware then merges or answers
 * 409); `regenerate()` moves the row to its new id in one checked statement
 * ({@linkcode SqlStore.replace}), never over a row that is there; an
 * expired row is never returned (the deadline is checked on every read) and
 * is deleted by a bounded sweep. Ids and values are bound as parameters:
 * no SQL is ever made from them. A session larger than the engine takes
 * fails its save with a `RangeError` before anything is sent.
 *
 * @example postgres.js (`npm:postgres`)
 * ```ts
 * import postgres from "postgres";
 * import { SqlStore } from "@x/hono-session/stores/sql";
 *
 * const sql = postgres("postgres://app@127.0.0.1/app");
 * const store = new SqlStore(sql, { table: "app_sessions" });
 * ```
 *
 * @example `bun:sqlite` (on Bun)
 * ```ts ignore
 * import { Database } from "bun:sqlite";
 * import { SqlStore } from "@x/hono-session/stores/sql";
 *
 * const store = new SqlStore(new Database("sessions.db"));
 * ```
 *
 * @example Cloudflare D1 (in a Worker; sweep from a Cron Trigger)
 * ```ts
 * import { Hono, type MiddlewareHandler } from "hono";
 * import { session } from "@x/hono-session";
 * import { type D1DatabaseLike, SqlStore } from "@x/hono-session/stores/sql";
 *
 * type Env = { DB: D1DatabaseLike };
 * const app = new Hono<{ Bindings: Env }>();
 * // The binding exists from the first request on: make the middleware then.
 * let sessions: MiddlewareHandler | undefined;
 * app.use((c, next) => {
 *   sessions ??= session({ store: new SqlStore(c.env.DB) });
 *   return sessions(c, next);
 * });
 * const worker = {
 *   fetch: app.fetch,
 *   // A Cron Trigger: the sweep's timer is off on D1.
 *   scheduled: async (_event: unknown, env: Env) => {
 *     await new SqlStore(env.DB).sweep();
 *   },
 * };
 * ```
 */
export class SqlStore implements SessionStore {
  readonly #query: SqlClient["query"];
  readonly #sql: Statements;
  readonly #dialect: SqlDialect;
  readonly #table: string;
  readonly #maxBytes: number;
  readonly #sweepMs: number;
  readonly #sweepLimit: number;
  readonly #onSweepError: (error: unknown) => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #sweeping = false;
  // What each request read, for the checks in set() and replace().
  readonly #read: ReadVersions<number | null> = new ReadVersions();

  /**
   * Wraps a connected client; the store never connects, closes or creates
   * anything by itself.
   *
   * @param client See {@linkcode SqlStoreClient}.
   * @param options See {@linkcode SqlStoreOptions}; every option has a
   *   default, so this may be left out.
   * @throws {TypeError} When the client is of no shape the store knows, a
   *   node-postgres client has no `"error"` listener, an option is unknown
   *   or of the wrong type, or `table` is not a plain identifier.
   * @throws {RangeError} When a number option is out of range.
   */
  constructor(client: SqlStoreClient, options?: SqlStoreOptions) {
    const { dialect, d1, query } = adapt(client);
    if (
      options !== undefined && (options === null || typeof options !== "object")
    ) {
      throw new TypeError("SqlStore: options must be an object");
    }
    for (const key of Object.keys(options ?? {})) {
      if (!OPTION_KEYS.has(key)) {
        throw new TypeError(
          `SqlStore: unknown option ${JSON.stringify(key)}; the options are ${
            [...OPTION_KEYS].join(", ")
          }`,
        );
      }
    }
    const {
      table = "sessions",
      sweepInterval = d1 ? 0 : 300,
      sweepLimit = 1000,
      maxBytes = d1
        ? D1_MAX
        : dialect === "postgres"
        ? POSTGRES_MAX
        : SQLITE_MAX,
      onSweepError = (error: unknown) =>
        console.error("SqlStore: the sweep of expired sessions failed:", error),
    } = options ?? {};
    if (typeof table !== "string" || !TABLE_NAME.test(table)) {
      throw new TypeError(
        `SqlStore: table must be a plain name (letters, digits and _, starting with a letter or _, at most 48 characters); got ${
          JSON.stringify(table)
        }`,
      );
    }
    if (
      typeof sweepInterval !== "number" || !(sweepInterval >= 0) ||
      !Number.isFinite(sweepInterval)
    ) {
      throw new RangeError(
        `SqlStore: sweepInterval must be a number of seconds, 0 (off) or more; got ${sweepInterval}`,
      );
    }
    if (!Number.isInteger(sweepLimit) || sweepLimit < 1) {
      throw new RangeError(
        `SqlStore: sweepLimit must be a whole number of rows, at least 1; got ${sweepLimit}`,
      );
    }
    if (!Number.isInteger(maxBytes) || maxBytes < 1) {
      throw new RangeError(
        `SqlStore: maxBytes must be a whole number of bytes, at least 1; got ${maxBytes}`,
      );
    }
    if (typeof onSweepError !== "function") {
      throw new TypeError("SqlStore: onSweepError must be a function");
    }
    // A missing table says what to do about it.
    this.#query = async (sql, params) => {
      try {
        return await query(sql, params);
      } catch (error) {
        if (!isMissingTable(error)) throw error;
        throw new Error(
          `SqlStore: the table "${table}" does not exist; create it once with await store.createTable(), or run the statements of SqlStore.schema("${dialect}", "${table}") in a migration`,
          { cause: error },
        );
      }
    };
    this.#dialect = dialect;
    this.#table = table;
    this.#sql = statementsOf(dialect, table);
    this.#maxBytes = maxBytes;
    this.#sweepMs = sweepInterval * 1000;
    this.#sweepLimit = sweepLimit;
    this.#onSweepError = onSweepError;
  }

  /**
   * The SQL that creates the store's table and indexes in `dialect`, one
   * statement per entry (each `IF NOT EXISTS`): for a migration, or to
   * read. {@linkcode SqlStore.createTable} runs the same.
   *
   * @example
   * ```ts
   * import { SqlStore } from "@x/hono-session/stores/sql";
   *
   * console.log(SqlStore.schema("postgres", "sessions").join(";\n") + ";");
   * ```
   */
  static schema(dialect: SqlDialect, table: string = "sessions"): string[] {
    if (dialect !== "postgres" && dialect !== "sqlite") {
      throw new TypeError(
        `SqlStore.schema: dialect must be "postgres" or "sqlite"; got ${
          JSON.stringify(dialect)
        }`,
      );
    }
    if (typeof table !== "string" || !TABLE_NAME.test(table)) {
      throw new TypeError(
        `SqlStore.schema: table must be a plain name (letters, digits and _, starting with a letter or _, at most 48 characters); got ${
          JSON.stringify(table)
        }`,
      );
    }
    return schemaOf(dialect, table);
  }

  /** The dialect the store speaks, told from the client. */
  get dialect(): SqlDialect {
    return this.#dialect;
  }

  /**
   * Creates the table and its indexes if they are not there
   * ({@linkcode SqlStore.schema}). Only ever runs when called.
   */
  async createTable(): Promise<void> {
    for (const statement of schemaOf(this.#dialect, this.#table)) {
      await this.#query(statement, []);
    }
  }

  /**
   * Returns the session saved under `id`, unless absent or expired. With a
   * request's context, remembers the row's version for `set`'s check.
   */
  async get(id: string, c?: object): Promise<SessionRecord | undefined> {
    const now = Date.now();
    const rows = await this.#query(this.#sql.get, [id, now]);
    const row = rows[0];
    if (row === undefined) {
      this.#read.remember(c, id, null);
      return undefined;
    }
    this.#read.remember(c, id, Number(row.version));
    return decodeRecord(row.data, now);
  }

  /**
   * Saves `record` under `id`. After a `get` in the same request, only if
   * the row is still the one that `get` saw (or, if it saw none, there is
   * still no live row).
   *
   * @throws {RangeError} When the session is over the size limit.
   * @throws {SessionConflictError} When the row changed, went away or
   *   appeared since this request's `get`; nothing is written.
   */
  async set(id: string, record: SessionRecord, c?: object): Promise<void> {
    const row = this.#row(id, record);
    const seen = this.#read.get(c, id);
    if (seen === undefined) {
      await this.#query(this.#sql.upsert, row);
    } else {
      const params: SqlValue[] = row;
      params.push(seen ?? Date.now());
      const rows = await this.#query(
        seen === null ? this.#sql.insert : this.#sql.update,
        params,
      );
      if (rows.length === 0) throw new SessionConflictError();
    }
    this.#read.remember(c, id, row[3]);
    this.#startSweeping();
  }

  /**
   * Moves a session to a new id (for `regenerate()`) in one statement: the
   * row under `oldId` takes `newId` and `record`, only if it is still the
   * one this request read and no row holds `newId`.
   *
   * @throws {RangeError} When the session is over the size limit.
   * @throws {SessionConflictError} When `oldId` changed or went away since
   *   the same request's `get`, or `newId` is taken; nothing is changed.
   */
  async replace(
    oldId: string,
    newId: string,
    record: SessionRecord,
    c?: object,
  ): Promise<void> {
    const [, data, expires, version, user] = this.#row(newId, record);
    let seen = this.#read.get(c, oldId);
    if (seen === undefined) {
      const rows = await this.#query(this.#sql.version, [oldId, Date.now()]);
      seen = rows[0] === undefined ? null : Number(rows[0].version);
    }
    if (seen === null) throw new SessionConflictError();
    let rows: SqlRow[];
    try {
      rows = await this.#query(this.#sql.replace, [
        oldId,
        newId,
        data,
        expires,
        version,
        user,
        seen,
      ]);
    } catch (error) {
      // Another request took newId between the check and the move: the
      // statement failed as a whole.
      if (isUniqueViolation(error)) throw new SessionConflictError();
      throw error;
    }
    if (rows.length === 0) throw new SessionConflictError();
    this.#read.remember(c, oldId, null);
    this.#read.remember(c, newId, version);
    this.#startSweeping();
  }

  /**
   * Removes the session saved under `id`.
   *
   * @returns Whether a live session was removed.
   */
  async delete(id: string): Promise<boolean> {
    const rows = await this.#query(this.#sql.delete, [id, Date.now()]);
    return rows.some((row) => row.live === true || Number(row.live) === 1);
  }

  /**
   * The live sessions of `user` (those saved with `record.user === user`),
   * with the ids they are saved under, in no particular order: one query on
   * the `user_id` index. Delete an id to end that session.
   */
  async listUser(
    user: string,
  ): Promise<UserSessionEntry[]> {
    if (typeof user !== "string") {
      throw new TypeError("SqlStore.listUser: user must be a string");
    }
    const now = Date.now();
    const rows = await this.#query(this.#sql.listUser, [user, now]);
    const sessions: UserSessionEntry[] = [];
    for (const row of rows) {
      const record = decodeRecord(row.data, now);
      // Exactly this user: a driver may have stored a malformed user id
      // as another's (a lone surrogate becomes U+FFFD).
      if (record?.user === user) {
        sessions.push({ id: String(row.id), record });
      }
    }
    return sessions;
  }

  /**
   * Deletes expired sessions, at most `limit` of them (default: the
   * `sweepLimit` option) in one statement, and returns how many. For a
   * scheduled job: call it again while it returns `limit`.
   *
   * @example From a cron job, with the timer off
   * ```ts
   * import { DatabaseSync } from "node:sqlite";
   * import { SqlStore } from "@x/hono-session/stores/sql";
   *
   * const store = new SqlStore(new DatabaseSync(":memory:"), { sweepInterval: 0 });
   * await store.createTable();
   * while (await store.sweep(500) === 500) { }
   * ```
   */
  async sweep(limit: number = this.#sweepLimit): Promise<number> {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(
        `SqlStore.sweep: limit must be a whole number of rows, at least 1; got ${limit}`,
      );
    }
    return (await this.#query(this.#sql.sweep, [Date.now(), limit])).length;
  }

  /**
   * Stops the sweep's timer. The store keeps working (the next write
   * starts the timer again); the client stays open.
   */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Same as {@linkcode SqlStore.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  // The parameters of a row for `record` under `id`: id, data, expires,
  // version, user; checked against the size limits.
  #row(id: string, record: SessionRecord): Row {
    if (!fitsIn(id, KEY_MAX)) {
      throw new RangeError(
        `SqlStore: the session id is over ${KEY_MAX} bytes, more than the id column's index takes; use a shorter cookie name`,
      );
    }
    const user = record.user ?? null;
    if (user !== null && typeof user !== "string") {
      throw new TypeError("SqlStore: record.user must be a string");
    }
    if (user !== null && !fitsIn(user, KEY_MAX)) {
      throw new RangeError(
        `SqlStore: the session's user id is over ${KEY_MAX} bytes, more than the user_id column's index takes`,
      );
    }
    if (!Number.isFinite(record.expires)) {
      throw new TypeError("SqlStore: record.expires must be a finite number");
    }
    const json = encodeRecord(record);
    if (!fitsIn(json, this.#maxBytes)) {
      throw new RangeError(
        `SqlStore: the session is ${
          utf8Length(json)
        } bytes of JSON, over the limit of ${this.#maxBytes} bytes (maxBytes); keep less in the session`,
      );
    }
    return [id, json, Math.ceil(record.expires), newVersion(), user];
  }

  #startSweeping(): void {
    if (this.#timer !== undefined || this.#sweepMs === 0) return;
    const timer = setInterval(() => {
      if (this.#sweeping) return;
      this.#sweeping = true;
      this.sweep().catch(this.#onSweepError).finally(() =>
        this.#sweeping = false
      );
    }, this.#sweepMs);
    this.#timer = timer;
    unrefTimer(timer); // the sweep never keeps the process alive
  }
}
