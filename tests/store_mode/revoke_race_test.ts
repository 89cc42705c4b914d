// "Sign out everywhere" under real overlapping requests, on every store
// that lists a user's sessions: revokeAll() racing three devices that sign
// in again on top of their sessions (regenerate({ user }): a new id and a
// new handle), and revoke(handle) racing a plain regenerate() of that
// session (a new id, the same handle). Each round is a fresh user; after
// it, no device may hold a live session, the listing must be empty, no
// request may fail with a 5xx, and the count must say what ended.
//
// Bounded: 60 and 40 rounds per store. Each store's tally is printed, so
// the same command gives the figures before and after a change (issue 21:
// a listing read the index, then the records, and missed a session that
// regenerate() moved between the two reads).
import assert from "node:assert/strict";
import { Hono } from "hono";
import {
  session,
  SessionConflictError,
  type SessionStore,
  userSessions,
} from "../../mod.ts";
import { DenoKvStore } from "../../stores/deno_kv.ts";
import { Jar } from "../_helpers.ts";
import { type Subject, subjects } from "./_races.ts";

const ALL_ROUNDS = 60;
const ONE_ROUNDS = 40;

function app(store: SessionStore) {
  const app = new Hono()
    .use(session<{ userId?: string }>({ store }))
    .get("/read", (c) => c.text(c.session.userId ?? "-"))
    .post("/signin", (c) => {
      const user = c.req.query("user")!;
      c.session.regenerate({ user });
      c.session.userId = user;
      return c.text("ok");
    })
    // Signs the session's user in again, on top of the session: only a
    // signed-in session can (no new session comes out of it).
    .post("/resignin", (c) => {
      const user = c.session.userId;
      if (user === undefined) return c.text("signed out", 401);
      c.session.regenerate({ user });
      return c.text("ok");
    })
    .post("/regenerate", (c) => {
      if (c.session.userId === undefined) return c.text("signed out", 401);
      c.session.regenerate();
      return c.text("ok");
    });
  app.onError((err, c) =>
    err instanceof SessionConflictError
      ? c.text(err.message, 409)
      : c.text(`${err.name}: ${err.message}`, 500)
  );
  return app;
}

// A pause of a few microtasks, and in some rounds a turn of the event loop
// too, different in each round (a seeded sequence: the same in every run),
// so that across the rounds the revocation meets the requests at every
// step of their way through the store.
function pauses(seed: number): (n: number) => Promise<void> {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return async (n: number) => {
    const micro = Math.floor(next() * n);
    for (let i = 0; i < micro; i++) await Promise.resolve();
    if (next() < 0.5) await new Promise((resolve) => setTimeout(resolve, 0));
  };
}

async function signIn(server: ReturnType<typeof app>, user: string) {
  const jar = new Jar(server);
  const res = await jar.fetch(`/signin?user=${user}`, { method: "POST" });
  assert.equal(res.status, 200, await res.text());
  return jar;
}

const racing = [
  ...subjects,
  ["DenoKvStore (file)", async () => {
    const dir = await Deno.makeTempDir({ prefix: "hono-session-kv-" });
    const kv = await Deno.openKv(`${dir}/sessions.kv`);
    const store = new DenoKvStore(kv);
    return {
      store,
      elsewhere: store,
      count: () => Promise.resolve(0),
      close: async () => {
        kv.close();
        await Deno.remove(dir, { recursive: true });
      },
    };
  }, true],
] as [string, () => Promise<Subject>, boolean][];

for (const [name, make, available] of racing) {
  Deno.test({
    name:
      `${name}: revokeAll() racing three re-sign-ins, and revoke() racing a regenerate(), leave no session alive`,
    ignore: !available,
    async fn() {
      const subject = await make();
      try {
        const { store } = subject;
        const server = app(store);
        // Revoked from another instance of the app, as an admin would.
        const sessions = userSessions(subject.elsewhere);
        const tag = crypto.randomUUID().slice(0, 8);
        const pause = pauses(21);
        const tally = {
          all: {
            alive: 0,
            miscounted: 0,
            counts: new Set<number>(),
            statuses: new Set<number>(),
          },
          one: { alive: 0, false: 0, statuses: new Set<number>() },
        };
        for (let round = 0; round < ALL_ROUNDS; round++) {
          const user = `all-${tag}-${round}`;
          const devices = await Promise.all(
            [0, 1, 2].map(() => signIn(server, user)),
          );
          const answers = devices.map((d) =>
            d.fetch("/resignin", { method: "POST" })
          );
          await pause(20);
          const ended = await sessions.revokeAll(user);
          for (const res of await Promise.all(answers)) {
            tally.all.statuses.add(res.status);
            await res.body?.cancel();
          }
          const reads = await Promise.all(devices.map((d) => d.text("/read")));
          const listed = await sessions.list(user);
          if (reads.some(([, text]) => text !== "-") || listed.length > 0) {
            tally.all.alive++;
          }
          if (ended !== 3) tally.all.miscounted++;
          tally.all.counts.add(ended);
        }
        for (let round = 0; round < ONE_ROUNDS; round++) {
          const user = `one-${tag}-${round}`;
          const device = await signIn(server, user);
          const [listed] = await sessions.list(user);
          const answer = device.fetch("/regenerate", { method: "POST" });
          await pause(20);
          const revoked = await sessions.revoke(user, listed!.handle);
          const res = await answer;
          tally.one.statuses.add(res.status);
          await res.body?.cancel();
          if ((await device.text("/read"))[1] !== "-") tally.one.alive++;
          if (!revoked) tally.one.false++;
        }
        console.log(
          `${name}: revokeAll vs 3 re-sign-ins: ${tally.all.alive}/${ALL_ROUNDS} rounds left a session alive, ${tally.all.miscounted} miscounted (counts ${
            [...tally.all.counts].sort()
          }; answers ${
            [...tally.all.statuses].sort()
          }); revoke vs regenerate: ${tally.one.alive}/${ONE_ROUNDS} alive, ${tally.one.false} returned false (answers ${
            [...tally.one.statuses].sort()
          })`,
        );
        assert.equal(tally.all.alive, 0, "revokeAll left sessions alive");
        assert.equal(tally.one.alive, 0, "revoke left sessions alive");
        assert.equal(tally.one.false, 0, "revoke said there was none");
        assert.equal(tally.all.miscounted, 0, "revokeAll miscounted");
        for (const status of [...tally.all.statuses, ...tally.one.statuses]) {
          assert.ok([200, 401, 409].includes(status), `answered ${status}`);
        }
      } finally {
        await subject.close();
      }
    },
  });
}
