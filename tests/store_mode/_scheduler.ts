// A deterministic scheduler for store calls of concurrent requests, and a
// stateless depth-first search over its choices.
//
// Every store call a request makes is parked until the scheduler releases
// it. Released, the call runs on the real store to completion, and the
// request goes on until it parks at its next store call or finishes. The
// scheduler knows the system is quiet when no request is running (each is
// parked or finished): a count, not a timer. Then it asks `pick` which
// parked call goes next.
//
// `explore` runs a scenario again and again from scratch, forcing a prefix
// of choices, recording how many choices each step had, and backtracking:
// every ordering of the store calls is run exactly once.

/** A store call waiting for the scheduler. */
interface Parked {
  request: number;
  label: string;
  release(): void;
}

/**
 * Runs requests so that their store calls happen one at a time, in the
 * order `pick` chooses.
 */
export class Scheduler {
  #armed = false;
  #running = 0;
  #parked: Parked[] = [];
  #quiet: (() => void) | undefined;

  /**
   * What the store wrapper calls for each store call: parks the call of
   * request `request` (undefined: a call outside the run, such as a setup
   * request, which passes straight through) until released, then runs it.
   */
  async gate<T>(
    request: number | undefined,
    label: string,
    call: () => T | Promise<T>,
  ): Promise<Awaited<T>> {
    if (!this.#armed || request === undefined) return await call();
    if (this.#parked.some((p) => p.request === request)) {
      throw new Error(
        `request ${request} made a second store call (${label}) while one was parked: the scheduler needs each request's store calls to be sequential`,
      );
    }
    await new Promise<void>((release) => {
      this.#parked.push({ request, label, release });
      this.#leave();
    });
    // Released: counted as running again (by #release) until it parks at
    // its next call or finishes.
    return await call();
  }

  /**
   * Starts the requests, then releases one parked store call at a time,
   * the one `pick` chooses among those parked (given by label, ordered by
   * request number), each time the system is quiet, until every request
   * has finished. Returns each request's response, or what it threw.
   */
  async run<R>(
    requests: readonly (() => R | Promise<R>)[],
    pick: (labels: readonly string[]) => number,
  ): Promise<(R | Error)[]> {
    if (this.#armed) throw new Error("the scheduler is already running");
    this.#armed = true;
    const results: (R | Error)[] = new Array(requests.length);
    try {
      const done = requests.map((start, i) => {
        this.#running++;
        return Promise.resolve()
          .then(start)
          .then(
            (value) => void (results[i] = value),
            (error) =>
              void (results[i] = error instanceof Error
                ? error
                : new Error(String(error))),
          )
          .finally(() => this.#leave());
      });
      for (;;) {
        await this.#settled();
        if (this.#parked.length === 0) break;
        const options = [...this.#parked].sort((a, b) => a.request - b.request);
        const choice = pick(options.map((p) => p.label));
        const chosen = options[choice];
        if (chosen === undefined) throw new Error(`no choice ${choice}`);
        this.#parked = this.#parked.filter((p) => p !== chosen);
        this.#running++;
        chosen.release();
      }
      await Promise.all(done);
    } finally {
      this.#armed = false;
    }
    return results;
  }

  // A request stopped running: it parked or finished.
  #leave(): void {
    this.#running--;
    if (this.#running === 0 && this.#quiet) {
      const quiet = this.#quiet;
      this.#quiet = undefined;
      quiet();
    }
  }

  // Resolves once no request is running.
  #settled(): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => this.#quiet = resolve);
  }
}

/** One step of an ordering: which option was taken among how many. */
interface Step {
  choice: number;
  width: number;
  label: string;
}

/** What {@linkcode explore} found. */
export interface Exploration {
  /** Orderings run. */
  orderings: number;
  /** Whether every ordering was run (false: stopped at the limit). */
  complete: boolean;
}

/**
 * Stateless depth-first search over the choices of a scheduled run: runs
 * `runOnce` from scratch with a forced prefix of choices (the first option
 * beyond it), records the number of options at each step, and backtracks
 * to the deepest step with an option left, until none is left or `limit`
 * orderings have run. `visit` gets each run's result and its ordering (the
 * labels of the calls released, in order).
 *
 * Throws when a replayed prefix offers other options than it did before:
 * the scenario is not deterministic, and the search would be meaningless.
 */
export async function explore<R>(
  runOnce: (pick: (labels: readonly string[]) => number) => Promise<R>,
  visit: (result: R, ordering: readonly string[]) => void | Promise<void>,
  limit = Infinity,
): Promise<Exploration> {
  let prefix: number[] = [];
  let previous: Step[] = [];
  let orderings = 0;
  for (;;) {
    const trace: Step[] = [];
    const result = await runOnce((labels) => {
      const at = trace.length;
      if (labels.length === 0) throw new Error("nothing to pick from");
      if (at < prefix.length) {
        const before = previous[at];
        if (
          before.width !== labels.length ||
          before.label !== labels[before.choice]
        ) {
          throw new Error(
            `not deterministic: step ${at} offered [${labels}] this time, ${before.width} options with ${before.label} as option ${before.choice} before`,
          );
        }
      }
      const choice = at < prefix.length ? prefix[at] : 0;
      trace.push({ choice, width: labels.length, label: labels[choice] });
      return choice;
    });
    if (trace.length < prefix.length) {
      throw new Error(
        `not deterministic: the run ended after ${trace.length} steps, before the forced prefix of ${prefix.length}`,
      );
    }
    orderings++;
    await visit(result, trace.map((step) => step.label));
    let at = trace.length - 1;
    while (at >= 0 && trace[at].choice + 1 >= trace[at].width) at--;
    if (at < 0) return { orderings, complete: true };
    if (orderings >= limit) return { orderings, complete: false };
    prefix = [
      ...trace.slice(0, at).map((step) => step.choice),
      trace[at].choice + 1,
    ];
    previous = trace;
  }
}
