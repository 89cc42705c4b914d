// One application, two middlewares: the same routes behind hono-session
// 1.2.0 (npm) and behind this package give the same answers to the same
// requests, and a browser that starts on 1.2.0 and switches to this
// package (with migrateFrom, same secret or same store) after any number
// of requests gets exactly the answers 1.2.0 would have given it: values,
// flash values, deadlines (a renewed one too) carry over, and the move to
// our format extends nothing. Time is simulated.
import assert from "node:assert/strict";
import type { SessionOptions } from "../../mod.ts";
import { withFakeTime } from "../_helpers.ts";
import {
  Browser,
  ourApp,
  sharedStores,
  V1_SECRET,
  v1App,
  type V1Options,
} from "./_v1.ts";

const HOUR = 3_600_000;

// Requests, and "TICK ms" for time passing. Comments: what 1.2.0 answers.
const STEPS = [
  "GET /state", // a new session, not saved
  "POST /login?user=ada", // flashes a welcome
  "GET /state", // the welcome, this once
  "GET /state",
  "POST /count",
  "POST /cart?item=tea",
  "POST /flash?text=saved",
  `TICK ${HOUR}`,
  "POST /reflash", // keeps "saved" for one more request
  "GET /state",
  "GET /state",
  "POST /count",
  "POST /renew?seconds=7200", // two hours from now
  `TICK ${HOUR}`,
  "POST /cart?item=milk", // a write: the deadline stays
  `TICK ${HOUR - 1000}`,
  "GET /me", // a second left
  `TICK 2000`,
  "GET /me", // past the renewed deadline
  "GET /state",
  "POST /login?user=bob",
  "POST /count",
  `TICK ${24 * HOUR - 1000}`,
  "GET /me", // a second left of the default day
  `TICK 2000`,
  "GET /me",
  "POST /login?user=cy",
  "GET /me",
  "POST /logout",
  "GET /me",
];

/**
 * Runs the steps, the first `switchAt` of them against `before` and the
 * rest against `after`, and returns every answer.
 */
async function run(
  before: ReturnType<typeof v1App>,
  after: ReturnType<typeof ourApp>,
  switchAt: number,
): Promise<string[]> {
  const answers: string[] = [];
  await withFakeTime(async (clock) => {
    const browser = new Browser(before);
    for (const [i, step] of STEPS.entries()) {
      if (i === switchAt) browser.app = after;
      if (step.startsWith("TICK ")) {
        clock.tick(Number(step.slice(5)));
        continue;
      }
      answers.push(`${step} → ${await browser.step(step)}`);
    }
  });
  return answers;
}

interface Setup {
  name: string;
  make(): { v1: V1Options; ours: SessionOptions; close(): void };
}

const setups: Setup[] = [
  {
    name: "cookie mode",
    make: () => ({
      v1: { secret: V1_SECRET },
      ours: { secret: V1_SECRET },
      close() {},
    }),
  },
  ...sharedStores.map((shared): Setup => ({
    name: `store mode, ${shared.name}`,
    make() {
      const { store, close } = shared.make();
      return { v1: { store }, ours: { store }, close };
    },
  })),
];

for (const setup of setups) {
  Deno.test(`same answers [${setup.name}]: the routes behind 1.2.0 and behind this package`, async () => {
    const a = setup.make();
    const b = setup.make();
    try {
      const expected = await run(v1App(a.v1), v1App(a.v1), 0);
      // Sanity: the script exercises what it claims to.
      assert.ok(expected.includes(
        'GET /state → 200 {"userId":"ada","n":null,"cart":null,"notice":"welcome ada","isNew":false}',
      ));
      assert.ok(expected.includes("GET /me → 401 Unauthorised"));
      assert.deepEqual(await run(ourApp(b.ours), ourApp(b.ours), 0), expected);
    } finally {
      a.close();
      b.close();
    }
  });

  Deno.test(`same answers [${setup.name}]: a browser that switches from 1.2.0 after any request, with migrateFrom`, async () => {
    const base = setup.make();
    const expected = await run(v1App(base.v1), v1App(base.v1), 0);
    base.close();
    for (let switchAt = 1; switchAt < STEPS.length; switchAt++) {
      const shared = setup.make();
      try {
        const answers = await run(
          v1App(shared.v1),
          ourApp({ ...shared.ours, migrateFrom: "hono-session@1" }),
          switchAt,
        );
        assert.deepEqual(answers, expected, `switched before step ${switchAt}`);
      } finally {
        shared.close();
      }
    }
  });

  Deno.test(`same answers [${setup.name}]: without migrateFrom, a 1.2.0 session is no session`, async () => {
    const shared = setup.make();
    try {
      const answers = await run(v1App(shared.v1), ourApp(shared.ours), 2);
      // Signed in on 1.2.0, then nobody: the welcome and the user are gone.
      assert.equal(
        answers[2],
        'GET /state → 200 {"userId":null,"n":null,"cart":null,"notice":null,"isNew":true}',
      );
    } finally {
      shared.close();
    }
  });
}
