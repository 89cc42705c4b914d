// Background timers (the stores' sweeps) that never keep a process alive.

interface Unrefable {
  unref?(): void;
}

/**
 * Lets the process end while `timer` is pending: Node and Bun give timers an
 * `unref()` method, Deno has `Deno.unrefTimer()`; elsewhere (Workers) there
 * is nothing to do.
 */
export function unrefTimer(timer: ReturnType<typeof setInterval>): void {
  if (typeof timer === "object" && timer !== null) {
    (timer as Unrefable).unref?.();
    return;
  }
  const deno = (globalThis as {
    Deno?: { unrefTimer?(id: number): void };
  }).Deno;
  deno?.unrefTimer?.(timer as unknown as number);
}
