// One local database file under real contention, as apps use more than
// one core: the workers of `deno serve --parallel`, and two `deno serve`
// processes, on one Deno KV file (DenoKvStore) or one SQLite file (SqlStore
// through node:sqlite with a busy timeout, as the README says to open it, in
// SQLite's default journal mode and in WAL mode).
// 30 clients at once sign in with regenerate({ user }), then count 40 times
// each, every request on a connection of its own (so a client's requests
// land on any worker or process). Before DenoKvStore waited out the KV
// file's lock, a third to a half of these requests answered 500 "database
// is locked". Then each client sends two increments at once: a real
// conflict, which must stay a 409 (or merge), never a 5xx.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SqlStore } from "../../stores/sql.ts";
import {
  fetchOnce,
  sendUntil,
  type ServeProcess,
  startServe,
} from "../../support/server_process.ts";

const CLIENTS = 30;
const INCREMENTS = 40;
/** Workers of `deno serve --parallel`, and processes. */
const WORKERS = 2;
const SCRIPT = new URL("../fixtures/serve_app.ts", import.meta.url).pathname;

interface Outcome {
  /** Sign-in and increment requests sent, and those answered 5xx. */
  sent: number;
  failed: number;
  /** The 5xx answers' bodies, counted. */
  errors: Map<string, number>;
  /** Answers per worker (x-worker). */
  workers: Map<string, number>;
  /**
   * Per client: increments sent one after the other (INCREMENTS, or more
   * until every worker had answered), their answers when 200, increments
   * acknowledged (200) in all, and the counter read at the end.
   */
  clients: {
    increments: number;
    values: number[];
    acknowledged: number;
    final: number;
  }[];
  /** The two increments sent at once: their statuses. */
  pairs: number[][];
}

// Each client counts INCREMENTS times, and on until each of the WORKERS
// (x-worker values) has answered someone: nothing keeps the kernel from
// giving one worker of `deno serve --parallel` every connection.
async function load(servers: ServeProcess[]): Promise<Outcome> {
  const outcome: Outcome = {
    sent: 0,
    failed: 0,
    errors: new Map(),
    workers: new Map(),
    clients: [],
    pairs: [],
  };
  const count = <K>(map: Map<K, number>, key: K) =>
    map.set(key, (map.get(key) ?? 0) + 1);
  const pick = () => servers[Math.floor(Math.random() * servers.length)]!;

  async function client(i: number): Promise<void> {
    let cookie = "";
    const send = async (method: string, path: string, counted = true) => {
      const res = await fetchOnce(pick().url + path, {
        method,
        headers: { cookie },
      });
      const set = res.headers.getSetCookie();
      if (set.length > 0) cookie = set.map((c) => c.split(";")[0]).join("; ");
      count(outcome.workers, res.headers.get("x-worker") ?? "none");
      if (counted) outcome.sent++;
      if (res.status >= 500) {
        if (counted) outcome.failed++;
        count(outcome.errors, `${res.status} ${res.body}`);
      }
      return res;
    };
    const login = await send("POST", `/login?user=user${i}`);
    assert.ok(
      login.status === 200 || login.status >= 500,
      `sign-in: ${login.status} ${login.body}`,
    );
    const values: number[] = [];
    const increment = async () => {
      const res = await send("POST", "/count");
      if (res.status === 200) values.push(Number(res.body));
    };
    for (let k = 0; k < INCREMENTS; k++) await increment();
    const more = await sendUntil(
      `each of ${WORKERS} workers answered`,
      () => outcome.workers.size >= WORKERS,
      increment,
      { detail: () => JSON.stringify([...outcome.workers]) },
    );
    // Two increments at once on one session: both read n, both write n + 1.
    const pair = await Promise.all([
      send("POST", "/count", false),
      send("POST", "/count", false),
    ]);
    outcome.pairs.push(pair.map((res) => res.status));
    const final = await send("GET", "/count", false);
    assert.equal(final.status, 200, final.body);
    outcome.clients.push({
      increments: INCREMENTS + more,
      values,
      acknowledged: values.length +
        pair.filter((res) => res.status === 200).length,
      final: Number(final.body),
    });
  }

  await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
  return outcome;
}

function check(outcome: Outcome, what: string): void {
  const summary =
    `${what}: ${outcome.failed} of ${outcome.sent} requests answered 5xx`;
  console.log(
    `${summary}; answers per worker ${
      [...outcome.workers.values()].join(" / ")
    }; two increments at once: ${
      outcome.pairs.flat().filter((s) => s === 409).length
    } of ${outcome.pairs.length * 2} answered 409`,
  );
  assert.equal(
    outcome.failed,
    0,
    `${summary}: ${JSON.stringify([...outcome.errors])}`,
  );
  assert.equal(outcome.errors.size, 0, JSON.stringify([...outcome.errors]));
  assert.equal(
    outcome.sent,
    outcome.clients.reduce((sum, c) => sum + 1 + c.increments, 0),
  );
  assert.equal(
    outcome.workers.size,
    WORKERS,
    `every worker answered: ${JSON.stringify([...outcome.workers])}`,
  );
  for (const [n, c] of outcome.clients.entries()) {
    // Nothing acknowledged was lost, nothing counted twice: each client's
    // increments (one after the other) answered 1, 2, 3, ...; the two sent
    // at once answered 200 or 409, and the counter holds what was
    // acknowledged.
    assert.deepEqual(
      c.values,
      Array.from({ length: c.increments }, (_, k) => k + 1),
      `client ${n}`,
    );
    assert.equal(c.final, c.acknowledged, `client ${n}`);
  }
  for (const pair of outcome.pairs) {
    assert.ok(pair.every((s) => s === 200 || s === 409), String(pair));
    assert.ok(
      pair.includes(200),
      `one of two increments gets through: ${pair}`,
    );
  }
}

/** How each store opens its file, as SESSION_SETUP and its variables. */
const files = [
  {
    name: "DenoKvStore",
    env: (dir: string) => ({
      SESSION_SETUP: "kv",
      KV_PATH: `${dir}/sessions.kv`,
    }),
    create: async (dir: string) => {
      (await Deno.openKv(`${dir}/sessions.kv`)).close();
    },
  },
  {
    name: "SqlStore (SQLite)",
    env: (dir: string) => ({
      SESSION_SETUP: "sqlite",
      SQLITE_PATH: `${dir}/sessions.db`,
    }),
    create: async (dir: string) => {
      const db = new DatabaseSync(`${dir}/sessions.db`);
      await new SqlStore(db).createTable();
      db.close();
    },
  },
  {
    // Write-ahead logging, as the README advises for a shared file (the
    // file keeps the mode; the servers open it as it is).
    name: "SqlStore (SQLite, WAL)",
    env: (dir: string) => ({
      SESSION_SETUP: "sqlite",
      SQLITE_PATH: `${dir}/sessions.db`,
    }),
    create: async (dir: string) => {
      const db = new DatabaseSync(`${dir}/sessions.db`);
      db.exec("PRAGMA journal_mode = WAL");
      await new SqlStore(db).createTable();
      db.close();
    },
  },
];

for (const file of files) {
  Deno.test(`${file.name} under deno serve --parallel: no 5xx from lock contention, nothing acknowledged lost`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "hono-session-parallel-" });
    await file.create(dir);
    const server = await startServe(SCRIPT, {
      workers: WORKERS,
      env: file.env(dir),
    });
    try {
      check(
        await load([server]),
        `${file.name}, deno serve --parallel (2 workers)`,
      );
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  });

  Deno.test(`${file.name} in two deno serve processes on one file: no 5xx from lock contention, nothing acknowledged lost`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "hono-session-two-" });
    await file.create(dir);
    const a = await startServe(SCRIPT, { env: file.env(dir) });
    const b = await startServe(SCRIPT, { env: file.env(dir) });
    try {
      check(
        await load([a, b]),
        `${file.name}, two deno serve processes`,
      );
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await Deno.remove(dir, { recursive: true });
    }
  });
}
