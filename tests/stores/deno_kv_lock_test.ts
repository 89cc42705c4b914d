// DenoKvStore and a locked KV file: a write that finds the file's write
// lock held ("database is locked") is tried again until lockTimeout, then
// fails with an error that names the lock; conflicts and other failures
// are not retried. First with a database whose writes fail on command, then
// with a real KV file whose lock another process holds.
import assert from "node:assert/strict";
import {
  DenoKvStore,
  type KvAtomic,
  type KvDatabase,
  type KvKeyPart,
} from "../../stores/deno_kv.ts";
import { SessionConflictError } from "../../mod.ts";
import { basicApp, Jar } from "../_helpers.ts";

/**
 * A real in-memory Deno KV whose writes (set, delete, atomic commit) fail
 * on command: the next ones with the errors queued in `failures` (`lock(n)`
 * queues n answers of a locked SQLite file), or every one while
 * `alwaysLocked`. Counts the attempts to write.
 */
class LockingKv implements KvDatabase {
  failures: Error[] = [];
  alwaysLocked = false;
  attempts = 0;
  constructor(readonly kv: Deno.Kv) {}

  lock(n: number): void {
    for (let i = 0; i < n; i++) {
      this.failures.push(new TypeError("database is locked"));
    }
  }
  #attempt(): void {
    this.attempts++;
    const failure = this.failures.shift();
    if (failure) throw failure;
    if (this.alwaysLocked) throw new TypeError("database is locked");
  }
  get(key: readonly KvKeyPart[]) {
    return this.kv.get(key as Deno.KvKey);
  }
  async set(
    key: readonly KvKeyPart[],
    value: unknown,
    options?: { expireIn?: number },
  ) {
    await Promise.resolve();
    this.#attempt();
    return this.kv.set(key as Deno.KvKey, value, options);
  }
  async delete(key: readonly KvKeyPart[]) {
    await Promise.resolve();
    this.#attempt();
    return this.kv.delete(key as Deno.KvKey);
  }
  atomic(): KvAtomic {
    const real = this.kv.atomic();
    const op: KvAtomic = {
      check: (...checks) => (real.check(...checks as Deno.AtomicCheck[]), op),
      set: (key, value, options) => (real.set(
        key as Deno.KvKey,
        value,
        options,
      ),
        op),
      delete: (key) => (real.delete(key as Deno.KvKey), op),
      commit: async () => {
        await Promise.resolve();
        this.#attempt();
        return real.commit();
      },
    };
    return op;
  }
  list(selector: { prefix: readonly KvKeyPart[] }) {
    return this.kv.list({ prefix: selector.prefix as Deno.KvKey });
  }
}

const record = (n: number) => ({
  data: { n },
  expires: Date.now() + 60_000,
  user: "ada",
  handle: "h1",
});

async function withKv(fn: (kv: Deno.Kv) => Promise<void>): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  try {
    await fn(kv);
  } finally {
    kv.close();
  }
}

Deno.test("DenoKvStore: a write locked out a few times is tried again and saved once", async () => {
  await withKv(async (kv) => {
    const db = new LockingKv(kv);
    const store = new DenoKvStore(db);
    const c = {};
    db.lock(3);
    await store.set("s1", record(1), c); // an atomic write (index entry too)
    assert.equal(db.attempts, 4);
    assert.deepEqual((await store.get("s1"))?.data, { n: 1 });
    // Checked against what the request read, locked twice, then saved.
    await store.get("s1", c);
    db.lock(2);
    db.attempts = 0;
    await store.set("s1", record(2), c);
    assert.equal(db.attempts, 3);
    assert.deepEqual((await store.get("s1"))?.data, { n: 2 });
    // A plain set (no user, nothing read) and a delete.
    db.lock(2);
    db.attempts = 0;
    await store.set("s2", { data: { n: 3 }, expires: Date.now() + 60_000 });
    assert.equal(db.attempts, 3);
    db.lock(2);
    db.attempts = 0;
    await store.delete("s2");
    assert.equal(db.attempts, 3);
    assert.equal(await store.get("s2"), undefined);
    // regenerate()'s move.
    db.lock(2);
    db.attempts = 0;
    await store.replace("s1", "s3", record(4), c);
    assert.equal(db.attempts, 3);
    assert.equal(await store.get("s1"), undefined);
    assert.deepEqual((await store.get("s3"))?.data, { n: 4 });
  });
});

Deno.test("DenoKvStore: a conflict found after a lock is a conflict, not retried", async () => {
  await withKv(async (kv) => {
    const db = new LockingKv(kv);
    const store = new DenoKvStore(db);
    await store.set("s1", record(1));
    const c = {};
    await store.get("s1", c);
    await store.set("s1", record(2)); // another request writes meanwhile
    db.lock(1);
    db.attempts = 0;
    await assert.rejects(
      () => store.set("s1", record(3), c),
      SessionConflictError,
    );
    assert.equal(db.attempts, 2, "locked once, then the check failed");
    assert.deepEqual((await store.get("s1"))?.data, { n: 2 });
  });
});

Deno.test("DenoKvStore: a failure other than the lock is not retried", async () => {
  await withKv(async (kv) => {
    const db = new LockingKv(kv);
    const store = new DenoKvStore(db);
    db.failures.push(new TypeError("disk I/O error"));
    await assert.rejects(() => store.set("s1", record(1)), /disk I\/O error/);
    assert.equal(db.attempts, 1);
    // A lock, then another failure: that failure, with no more attempts.
    db.lock(1);
    db.failures.push(new Error("database disk image is malformed"));
    db.attempts = 0;
    await assert.rejects(() => store.set("s1", record(1)), /malformed/);
    assert.equal(db.attempts, 2);
    assert.equal(await store.get("s1"), undefined, "nothing saved");
  });
});

Deno.test("DenoKvStore: a database that stays locked fails loudly after lockTimeout, naming the lock", async () => {
  await withKv(async (kv) => {
    const db = new LockingKv(kv);
    db.alwaysLocked = true;
    for (const timeout of [0, 150]) {
      const store = new DenoKvStore(db, { lockTimeout: timeout });
      db.attempts = 0;
      const start = performance.now();
      const error = await store.set("s1", record(1)).then(
        () => assert.fail("saved while locked"),
        (error: Error) => error,
      );
      const took = performance.now() - start;
      assert.match(
        error.message,
        new RegExp(
          `^DenoKvStore: the database stayed locked for \\d+ ms \\(\\d+ attempts?, lockTimeout ${timeout} ms\\): another process or worker held its write lock all that time, and this operation did not happen`,
        ),
      );
      assert.match(error.message, /raise lockTimeout/);
      assert.ok(error.cause instanceof TypeError);
      assert.equal((error.cause as Error).message, "database is locked");
      if (timeout === 0) assert.equal(db.attempts, 1);
      else {
        assert.ok(db.attempts > 2, `attempts: ${db.attempts}`);
        // Waited about the bound (giving up when the next pause would
        // take it past), and not much longer (a loaded machine's timers
        // fire late).
        assert.ok(took >= timeout - 60, `took ${took} ms`);
        assert.ok(took <= timeout + 2_000, `took ${took} ms`);
      }
    }
    db.alwaysLocked = false;
    assert.equal(
      await new DenoKvStore(db).get("s1"),
      undefined,
      "nothing saved",
    );
  });
});

Deno.test("DenoKvStore refuses a lockTimeout that is not a number of milliseconds", () => {
  const db = { get() {}, set() {}, delete() {}, atomic() {} } as never;
  for (const lockTimeout of [-1, NaN, Infinity, "5000", true]) {
    assert.throws(
      () => new DenoKvStore(db, { lockTimeout: lockTimeout as never }),
      (error: Error) =>
        error instanceof RangeError &&
        /^DenoKvStore: lockTimeout must be a number of milliseconds, 0 or more; got /
          .test(error.message),
      String(lockTimeout),
    );
  }
});

/**
 * Another process holding a KV file's write lock: a SQLite connection in
 * a write transaction (BEGIN IMMEDIATE), until `release()`.
 */
async function holdLock(path: string): Promise<{ release(): Promise<void> }> {
  const code = `
    import { DatabaseSync } from "node:sqlite";
    const db = new DatabaseSync(${JSON.stringify(path)});
    db.exec("BEGIN IMMEDIATE");
    console.log("locked");
    for await (const _ of Deno.stdin.readable);
    db.exec("ROLLBACK");
    db.close();
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { value } = await reader.read();
  assert.equal(value?.trim(), "locked");
  return {
    async release() {
      await child.stdin.close();
      await reader.cancel();
      assert.ok((await child.status).success);
    },
  };
}

Deno.test("DenoKvStore on a KV file another process keeps locked: 500 naming the lock after lockTimeout, reads still served, nothing half-written", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hono-session-kv-lock-" });
  const kv = await Deno.openKv(`${dir}/sessions.kv`);
  try {
    const app = basicApp({
      store: new DenoKvStore(kv, { lockTimeout: 300 }),
    });
    const jar = new Jar(app);
    await jar.fetch("/login", { method: "POST" });
    assert.deepEqual(await jar.text("/count", { method: "POST" }), [200, "1"]);
    const cookie = jar.header();

    const lock = await holdLock(`${dir}/sessions.kv`);
    try {
      const start = performance.now();
      const res = await jar.fetch("/count", { method: "POST" });
      const took = performance.now() - start;
      const body = await res.text();
      assert.equal(res.status, 500, body);
      assert.match(
        body,
        /^Error: DenoKvStore: the database stayed locked for \d+ ms \(\d+ attempts, lockTimeout 300 ms\): another process or worker held its write lock/,
      );
      assert.ok(took >= 200, `gave up after ${took} ms`);
      assert.equal(res.headers.get("set-cookie"), null, "cookie left alone");
      assert.equal(jar.header(), cookie);
      // Readers are not blocked by a writer.
      assert.deepEqual(await jar.text("/read"), [200, "ada"]);
    } finally {
      await lock.release();
    }
    // The failed increment left nothing behind; the next one counts on.
    assert.deepEqual(await jar.text("/count", { method: "POST" }), [200, "2"]);
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DenoKvStore on a KV file locked for a moment: the write waits it out and is saved once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hono-session-kv-lock-" });
  const kv = await Deno.openKv(`${dir}/sessions.kv`);
  try {
    const jar = new Jar(basicApp({ store: new DenoKvStore(kv) }));
    await jar.fetch("/login", { method: "POST" });
    assert.deepEqual(await jar.text("/count", { method: "POST" }), [200, "1"]);
    const lock = await holdLock(`${dir}/sessions.kv`);
    const start = performance.now();
    const pending = jar.text("/count", { method: "POST" });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await lock.release();
    assert.deepEqual(await pending, [200, "2"]);
    assert.ok(performance.now() - start >= 300, "it waited for the lock");
    assert.deepEqual(await jar.text("/count", { method: "POST" }), [200, "3"]);
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});
