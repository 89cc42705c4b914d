// Waiting out a database file's write lock. SQLite (under a local Deno KV
// file) takes one writer at a time; a writer that finds the lock taken
// fails at once with "database is locked" (SQLITE_BUSY), and under
// `deno serve --parallel` or with several processes on one file that
// happens to a large share of writes. The operation is tried again after a
// short, growing, random pause, until a time bound; past it the caller gets
// an error naming the cause. Only failures that say the lock was busy are
// retried: anything else (a conflict answered as a result, a full disk, a
// closed database) goes to the caller at once.

// SQLITE_BUSY reads "database is locked"; SQLITE_LOCKED (a lock inside one
// process) "database table is locked"; some drivers name the code.
const LOCKED = /database (?:table )?is locked|database is busy|SQLITE_BUSY/i;

/** The first pause, in ms; each later one may be up to twice as long. */
const FIRST_PAUSE = 2;
/** The longest pause between two attempts, in ms. */
const LONGEST_PAUSE = 50;

/** Whether `error` says that the database's lock was held by another writer. */
export function isLockError(error: unknown): boolean {
  return error instanceof Error && LOCKED.test(error.message);
}

/**
 * Runs `attempt`, and runs it again while it fails because the lock is
 * held, pausing a random 0 to 2^n × 2 ms (at most 50 ms) before the n-th
 * retry, until `timeout` ms have passed since the first attempt. Only for
 * an operation that a lock failure leaves undone, or that is safe to run
 * twice (a read, a blind write or delete of a fixed value, a write checked
 * against a version).
 *
 * @param owner Who is waiting, for the error: `"DenoKvStore"`.
 * @throws {Error} When the lock is still held after `timeout` ms: the
 *   message names the cause and the time waited; `cause` is the last
 *   lock failure.
 */
export function retryWhileLocked<T>(
  attempt: () => Promise<T>,
  timeout: number,
  owner: string,
): Promise<T> {
  // The first attempt costs one promise reaction more than a bare call.
  return attempt().catch((error) =>
    isLockError(error)
      ? retry(attempt, timeout, owner, error)
      : Promise.reject(error)
  );
}

async function retry<T>(
  attempt: () => Promise<T>,
  timeout: number,
  owner: string,
  error: unknown,
): Promise<T> {
  const start = performance.now();
  let attempts = 1;
  for (;;) {
    const waited = performance.now() - start;
    const pause = Math.random() *
      Math.min(LONGEST_PAUSE, FIRST_PAUSE * 2 ** attempts);
    if (waited + pause > timeout) {
      throw new Error(
        `${owner}: the database stayed locked for ${
          Math.round(waited)
        } ms (${attempts} attempt${attempts === 1 ? "" : "s"}, ` +
          `lockTimeout ${timeout} ms): another process or worker held its write lock all that time, and this operation did not happen. ` +
          "A local database file takes one writer at a time: raise lockTimeout, find what holds the lock, " +
          "or keep sessions in a store made for many writers (Redis, PostgreSQL)",
        { cause: error },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
    attempts++;
    try {
      return await attempt();
    } catch (next) {
      if (!isLockError(next)) throw next;
      error = next;
    }
  }
}
