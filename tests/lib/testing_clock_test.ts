// The conformance kit's wait for a deadline (_testing/clock.ts) on a
// runtime whose timers fire early by Date.now()'s measure, as workerd's
// did in the runtime matrix: a timer alone falls short of the deadline;
// waitPast() does not return before Date.now() is past it.
import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { sleep, waitPast } from "../../_testing/clock.ts";

Deno.test("the kit waits past a deadline by Date.now(), though each timer fires up to 60 ms early by that clock", async () => {
  const clock = FakeTimers.install({ now: 1_000_000, toFake: ["Date"] });
  const real = globalThis.setTimeout;
  // As on workerd (miniflare 3.20250718): a timer is scheduled from a
  // clock that stood still while code ran, here for up to 60 ms.
  globalThis.setTimeout = ((fn: () => void, ms = 0) => {
    clock.tick(Math.max(1, ms - 60));
    return real(fn, 0);
  }) as typeof setTimeout;
  try {
    const deadline = Date.now() + 1_000;
    await sleep(1_050);
    assert.ok(Date.now() < deadline, "a timer alone falls short");
    await waitPast(deadline);
    assert.ok(Date.now() >= deadline + 100, "100 ms past, by Date.now()");
    const soon = Date.now() + 250;
    await waitPast(soon, 20);
    assert.ok(Date.now() >= soon + 20);
  } finally {
    globalThis.setTimeout = real;
    clock.uninstall();
  }
});
