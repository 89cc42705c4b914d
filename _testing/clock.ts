// Waiting for the kit's cases that wait out a deadline. A timer measures
// time on its own clock, the deadline is checked on Date.now(): on workerd
// (as miniflare 3.20250718 ships it) a timer is scheduled from the event
// loop's clock as of its last poll, which stands still while JavaScript
// runs, so it fires early by Date.now()'s measure, by as long as the code
// before it ran (tens of ms on a busy machine); deployed Workers move
// Date.now() only between I/O events. So the wait reads Date.now() again
// after each timer, until it is past.

/** Resolves after `ms` milliseconds, by the timer's clock. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves once `Date.now()` reads `margin` ms past `deadline` (ms since
 * the epoch), the clock a store and the middleware check deadlines on.
 */
export async function waitPast(deadline: number, margin = 100): Promise<void> {
  for (let left = deadline + margin - Date.now(); left > 0;) {
    await sleep(left);
    left = deadline + margin - Date.now();
  }
}
