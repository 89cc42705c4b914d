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
// every ordering of the store calls is run exactly once. When the calls
// say which keys they touch, it skips orderings that only swap calls that
// commute (sleep sets, Godefroid 1996): two calls of different requests
// on different keys, or two reads, leave the store and both requests as
// they would in the other order, so of the orderings that differ only by
// such swaps one is run; every other is equivalent to it.

/** Which keys a store call reads or writes. */
export interface Touch {
  keys: readonly string[];
  /** Whether it writes any of them (set, replace, delete). */
  writes: boolean;
}

/** A store call waiting for the scheduler. */
interface Parked {
  request: number;
  label: string;
  touch: Touch | undefined;
  release(): void;
}

/**
 * What the scheduler tells `pick` beside the labels: each option's request,
 * and whether two options' calls depend on each other (their order may
 * matter). Calls that did not say what they touch depend on every call.
 */
export interface Options {
  requests: readonly number[];
  dependent(i: number, j: number): boolean;
}

/** Whether calls touching `a` and `b` may not commute. */
function dependent(a: Touch | undefined, b: Touch | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  if (!a.writes && !b.writes) return false;
  return a.keys.some((key) => b.keys.includes(key));
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
   * `touch` says which keys it touches, if the wrapper knows.
   */
  async gate<T>(
    request: number | undefined,
    label: string,
    call: () => T | Promise<T>,
    touch?: Touch,
  ): Promise<Awaited<T>> {
    if (!this.#armed || request === undefined) return await call();
    if (this.#parked.some((p) => p.request === request)) {
      throw new Error(
        `request ${request} made a second store call (${label}) while one was parked: the scheduler needs each request's store calls to be sequential`,
      );
    }
    await new Promise<void>((release) => {
      this.#parked.push({ request, label, touch, release });
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
    pick: (labels: readonly string[], options: Options) => number,
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
        const choice = pick(options.map((p) => p.label), {
          requests: options.map((p) => p.request),
          dependent: (i, j) => dependent(options[i]!.touch, options[j]!.touch),
        });
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
  /** The options that need not be taken here (asleep), by index. */
  asleep: readonly boolean[];
}

/** What {@linkcode explore} found. */
export interface Exploration {
  /** Orderings run and visited. */
  orderings: number;
  /**
   * Runs cut short as equivalent to an ordering visited (every option
   * was asleep at some step): run to their end, not visited.
   */
  skipped: number;
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
 * Given {@linkcode Options} (the scheduler gives them), it keeps a sleep
 * set: after the search has taken an option at a step, that request's
 * call sleeps in the steps of the orderings tried after it there, until a
 * call dependent on it runs; a sleeping call is not taken, and a run that
 * reaches a step where every call sleeps is equivalent to one visited.
 *
 * Throws when a replayed prefix offers other options than it did before:
 * the scenario is not deterministic, and the search would be meaningless.
 */
export async function explore<R>(
  runOnce: (
    pick: (labels: readonly string[], options?: Options) => number,
  ) => Promise<R>,
  visit: (result: R, ordering: readonly string[]) => void | Promise<void>,
  limit = Infinity,
): Promise<Exploration> {
  let prefix: number[] = [];
  let previous: Step[] = [];
  let orderings = 0;
  let skipped = 0;
  for (;;) {
    const trace: Step[] = [];
    // The requests whose calls sleep in the current state.
    let sleeping = new Set<number>();
    // The step from which every option slept, if one did.
    let redundant: number | undefined;
    const result = await runOnce((labels, options) => {
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
      const asleep = labels.map((_, i) =>
        redundant !== undefined ||
        (options !== undefined && sleeping.has(options.requests[i]!))
      );
      let choice: number;
      if (at < prefix.length) choice = prefix[at];
      else {
        choice = asleep.indexOf(false);
        if (choice === -1) {
          // Every call sleeps: what follows was run in an ordering before.
          redundant ??= at;
          choice = 0;
        }
      }
      if (options !== undefined && redundant === undefined) {
        // Asleep after this step: what slept here, and what the search
        // took here before this choice, unless this call depends on it.
        const next = new Set<number>();
        for (let i = 0; i < labels.length; i++) {
          if (i === choice || (!asleep[i] && i > choice)) continue;
          if (!options.dependent(i, choice)) next.add(options.requests[i]!);
        }
        sleeping = next;
      }
      trace.push({
        choice,
        width: labels.length,
        label: labels[choice],
        asleep,
      });
      return choice;
    });
    if (trace.length < prefix.length) {
      throw new Error(
        `not deterministic: the run ended after ${trace.length} steps, before the forced prefix of ${prefix.length}`,
      );
    }
    if (redundant === undefined) {
      orderings++;
      await visit(result, trace.map((step) => step.label));
    } else skipped++;
    // The deepest step with an option left that is not asleep there.
    let at = trace.length - 1;
    let next = -1;
    for (; at >= 0; at--) {
      const step = trace[at];
      next = step.asleep.findIndex((a, i) => i > step.choice && !a);
      if (next !== -1) break;
    }
    if (at < 0) return { orderings, skipped, complete: true };
    if (orderings >= limit) return { orderings, skipped, complete: false };
    prefix = [...trace.slice(0, at).map((step) => step.choice), next];
    previous = trace;
  }
}

/**
 * Runs `runs` orderings picked at random, each option equally likely at
 * each step, from a generator seeded with `seed` (the same seed runs the
 * same orderings). For scenarios with too many orderings to run them all:
 * a bounded sample. Returns how many orderings ran (the same ordering may
 * come up twice).
 */
export async function sample<R>(
  runOnce: (pick: (labels: readonly string[]) => number) => Promise<R>,
  visit: (result: R, ordering: readonly string[]) => void | Promise<void>,
  runs: number,
  seed: number,
): Promise<number> {
  // mulberry32: small, fast, and good enough to pick orderings.
  let state = seed >>> 0;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let run = 0; run < runs; run++) {
    const ordering: string[] = [];
    const result = await runOnce((labels) => {
      const choice = Math.floor(random() * labels.length);
      ordering.push(labels[choice]!);
      return choice;
    });
    await visit(result, ordering);
  }
  return runs;
}
