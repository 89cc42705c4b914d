// The SQL engines and drivers the SqlStore tests run on: SQLite through
// node:sqlite (always here), and PostgreSQL (a real server started by the
// test, see support/postgres_server.ts) through node-postgres and
// postgres.js. Each connection also runs raw SQL past the store, so tests
// can look at the table.
import { DatabaseSync } from "node:sqlite";
// @ts-types="@types/pg"
import pg from "pg";
import postgres from "postgres";
import type { SqlRow, SqlStoreClient } from "../../stores/sql.ts";

/** A connection to a database, for a store and for looking past it. */
export interface Connection {
  /** What SqlStore takes. */
  client: SqlStoreClient;
  dialect: "postgres" | "sqlite";
  /** Runs raw SQL (`$1` parameters in PostgreSQL, `?1` in SQLite). */
  raw(sql: string, params?: (string | number | null)[]): Promise<SqlRow[]>;
  close(): Promise<void>;
}

/** A driver for PostgreSQL. */
export interface PgDriver {
  name: string;
  connect(url: string): Connection;
}

/** node-postgres: a Pool with an "error" listener, as docs/stores.md says. */
export const nodePostgres: PgDriver = {
  name: "node-postgres",
  connect(url) {
    const pool = new pg.Pool({
      connectionString: url,
      max: 4,
      connectionTimeoutMillis: 5_000,
    });
    pool.on("error", () => {}); // dropped idle connections, in the kill test
    return {
      client: pool,
      dialect: "postgres",
      raw: async (sql, params = []) => (await pool.query(sql, params)).rows,
      close: () => pool.end(),
    };
  },
};

/**
 * postgres.js, as docs/stores.md sets it up: a short, fixed reconnect delay
 * (by default it grows to 20 s, and queries wait for it).
 */
export const postgresJs: PgDriver = {
  name: "postgres.js",
  connect(url) {
    const sql = postgres(url, {
      max: 4,
      backoff: () => 0.05,
      onnotice: () => {},
    });
    return {
      client: sql,
      dialect: "postgres",
      raw: async (text, params = []) =>
        [...await sql.unsafe(text, params)] as SqlRow[],
      close: () => sql.end({ timeout: 1 }),
    };
  },
};

export const pgDrivers: PgDriver[] = [nodePostgres, postgresJs];

/** SQLite through node:sqlite, in memory unless given a file. */
export function sqlite(path = ":memory:"): Connection & { db: DatabaseSync } {
  const db = new DatabaseSync(path);
  return {
    db,
    client: db,
    dialect: "sqlite",
    raw: (sql, params = []) =>
      Promise.resolve(db.prepare(sql).all(...params) as SqlRow[]),
    close: () => Promise.resolve(db.close()),
  };
}
