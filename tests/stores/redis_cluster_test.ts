// RedisStore on a real Redis Cluster (three masters on loopback, started
// once for this file): the conformance suite with node-redis createCluster()
// and ioredis Cluster as they come, and with a hash-tagged prefix; sessions
// spread over the masters; the user index in the user's slot; a
// regenerate() that fails at any of its steps leaves the old session whole;
// the clients the store refuses, and the error a single-server client gets
// from a cluster node. The race tests (tests/store_mode/) run on the
// cluster too, through _races.ts.
import assert from "node:assert/strict";
import { createClient, createCluster } from "redis";
import { Cluster } from "ioredis";
import { type SessionRecord, userSessions } from "../../mod.ts";
import { RedisStore } from "../../stores/redis.ts";
import { storeConformance } from "../../testing.ts";
import { CASES } from "../../_testing/cases.ts";
import { basicApp, Jar, storeKey, usersApp } from "../_helpers.ts";
import {
  RedisCluster,
  redisClusterAvailable,
  redisClusterMissing,
  redisClusterRequired,
} from "../../support/redis_cluster.ts";
import { type ClusterClient, clusterClients } from "./_redis_clusters.ts";

let runs = 0;

/**
 * The same client, with a lever: `hold(match)` makes the next command that
 * `match`es wait (unsent) until `release()`; `reached` settles when it
 * arrives.
 */
function holding(client: ClusterClient["client"]) {
  let hook:
    | { match(args: string[]): boolean; arrive(): void; wait: Promise<void> }
    | undefined;
  const proxy = new Proxy(client, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      if (property !== "call" && property !== "sendCommand") {
        return value.bind(target);
      }
      return async (...params: unknown[]) => {
        // ioredis: call(command, ...args); node-redis cluster:
        // sendCommand(firstKey, isReadonly, args).
        const args = property === "call"
          ? params as string[]
          : params[2] as string[];
        const at = hook;
        if (at?.match(args)) {
          hook = undefined;
          at.arrive();
          await at.wait;
        }
        return await value.apply(target, params);
      };
    },
  });
  return {
    client: proxy,
    hold(match: (args: string[]) => boolean) {
      let release!: () => void;
      let arrive!: () => void;
      const reached = new Promise<void>((r) => arrive = r);
      const wait = new Promise<void>((r) => release = r);
      hook = { match, arrive, wait };
      return { reached, release };
    },
  };
}
/** A key prefix no other test on the shared cluster uses. */
const aPrefix = (): string => `t${++runs}-${crypto.randomUUID().slice(0, 6)}:`;

const record = (
  data: Record<string, unknown>,
  user?: string,
): SessionRecord => ({
  data,
  expires: Date.now() + 60_000,
  ...(user === undefined ? {} : { user }),
});

/** Runs `fn` with a client of the shared cluster, closed after. */
async function withClient(
  connect: (cluster: RedisCluster) => Promise<ClusterClient>,
  fn: (client: ClusterClient, cluster: RedisCluster) => Promise<void>,
): Promise<void> {
  const cluster = await RedisCluster.shared();
  const client = await connect(cluster);
  try {
    await fn(client, cluster);
  } finally {
    await client.close();
  }
}

if (!redisClusterAvailable && redisClusterRequired) {
  Deno.test("RedisStore on Redis Cluster: redis-server is required under CI=true", () => {
    throw new Error(`CI=true and ${redisClusterMissing}`);
  });
} else if (!redisClusterAvailable) {
  Deno.test({
    name:
      "RedisStore on Redis Cluster (skipped: redis-server not installed; apt-get install -y redis-server)",
    ignore: true,
    fn() {},
  });
} else {
  for (const [name, connect] of clusterClients) {
    for (const tagged of [false, true]) {
      const what = tagged
        ? `RedisStore on Redis Cluster (${name}, prefix with a hash tag)`
        : `RedisStore on Redis Cluster (${name})`;
      Deno.test(`${what} conforms`, async (t) => {
        await withClient(connect, async ({ client }) => {
          const cases: [string, () => Promise<void>][] = [];
          storeConformance(what, () => ({
            store: new RedisStore(client, {
              prefix: tagged ? `{${aPrefix()}}` : aPrefix(),
            }),
          }), {
            checksConflicts: true,
            checksExpiry: true,
            test: (name, fn) => void cases.push([name, fn]),
          });
          assert.equal(cases.length, CASES.length, "every case applies");
          for (const [name, fn] of cases) await t.step(name, fn);
        });
      });
    }

    Deno.test(`RedisStore on Redis Cluster (${name}): sessions spread over the masters; a prefix with a hash tag puts them all on one`, async () => {
      await withClient(connect, async ({ client }, cluster) => {
        for (const tagged of [false, true]) {
          const prefix = tagged ? `{${aPrefix()}}` : aPrefix();
          const app = usersApp(new RedisStore(client, { prefix }));
          // 240 sessions: 120 anonymous, 120 tied to 12 users.
          await Promise.all(
            Array.from({ length: 240 }, async (_, i) => {
              const jar = new Jar(app);
              const path = i % 2 ? `/signin?user=u${i % 12}` : "/regenerate";
              const res = await jar.fetch(path, { method: "POST" });
              assert.equal(res.status, 200, await res.text());
            }),
          );
          const perNode = (await cluster.keys(`${prefix}*`)).map((keys) =>
            keys.filter((k) => !k.startsWith(`${prefix}user:`)).length
          );
          assert.equal(perNode.reduce((a, b) => a + b), 240, `${perNode}`);
          if (tagged) {
            assert.deepEqual(
              [...perNode].sort((a, b) => a - b),
              [0, 0, 240],
              "one slot",
            );
          } else {
            // Each master serves a third of the slots: 80 each on average;
            // a master with fewer than 40 would be far off.
            for (const n of perNode) {
              assert.ok(n >= 40, `keys per node ${perNode}`);
            }
          }
        }
      });
    });

    Deno.test(`RedisStore on Redis Cluster (${name}): a user's index sits in the user's slot, scored by the latest deadline, and follows sign-ins, regenerate() and sign-out`, async () => {
      await withClient(connect, async ({ client, send }) => {
        const prefix = aPrefix();
        const store = new RedisStore(client, { prefix });
        const app = usersApp(store, 600);
        const members = `${prefix}user:{u-1}`;
        const moves = `${prefix}user:{u-1}:moves`;
        const index = async (key: string) =>
          (await send(key, ["ZRANGE", key, "0", "-1"]) as string[]).sort();
        const a = new Jar(app);
        const b = new Jar(app);
        await a.fetch("/signin?user=u-1", { method: "POST" });
        await b.fetch("/signin?user=u-1", { method: "POST" });
        const key = (jar: Jar) => storeKey(jar.get("sid")!);
        assert.deepEqual(await index(members), [key(a), key(b)].sort());
        assert.deepEqual(await index(moves), [], "no move left in progress");
        // Scored by the session's deadline; the set expires with the last.
        const score = Number(await send(members, ["ZSCORE", members, key(a)]));
        const saved = await store.get(key(a));
        assert.equal(score, saved!.expires);
        const pttl = Number(await send(members, ["PTTL", members]));
        assert.ok(
          pttl > 0 && Math.abs(Date.now() + pttl - score) < 1_000,
          `PTTL ${pttl}`,
        );
        // A renew that pushes the deadline back scores the member again
        // (else the index would drop it while the session lives on); one
        // that brings it closer leaves the higher score.
        const scoreOf = async (jar: Jar) =>
          Number(await send(members, ["ZSCORE", members, key(jar)]));
        await a.fetch("/renew?maxAge=3600", { method: "POST" });
        const later = (await store.get(key(a)))!.expires;
        assert.ok(later > score + 2_000_000, "renewed for an hour");
        assert.equal(await scoreOf(a), later);
        await a.fetch("/renew?maxAge=60", { method: "POST" });
        assert.equal(await scoreOf(a), later, "never lowered");
        // A regenerate() moves the member; a sign-in as someone else moves
        // it to the other user's index; a sign-out takes it out.
        await a.fetch("/regenerate", { method: "POST" });
        assert.deepEqual(await index(members), [key(a), key(b)].sort());
        await b.fetch("/signin?user=u-2", { method: "POST" });
        assert.deepEqual(await index(members), [key(a)]);
        assert.deepEqual(await index(`${prefix}user:{u-2}`), [key(b)]);
        await a.fetch("/logout", { method: "POST" });
        assert.equal(Number(await send(members, ["EXISTS", members])), 0);
        // Another client (another instance of the app) revokes.
        assert.equal(await userSessions(store).revokeAll("u-2"), 1);
        assert.deepEqual(await b.text("/read"), [200, "-"]);
        assert.equal(
          Number(
            await send(`${prefix}user:{u-2}`, [
              "EXISTS",
              `${prefix}user:{u-2}`,
            ]),
          ),
          0,
        );
      });
    });

    Deno.test(`RedisStore on Redis Cluster (${name}): any user id keeps the user's index in one slot: braces, percent signs, other scripts, 512 characters`, async () => {
      await withClient(connect, async ({ client }, cluster) => {
        const prefix = aPrefix();
        const store = new RedisStore(client, { prefix });
        const app = usersApp(store);
        const sessions = userSessions(store);
        // A `}` first would leave an empty hash tag ("{}"), which Redis
        // reads as none (and the clients' slot function as another tag).
        const users = [
          "}",
          "}x",
          "a}b",
          "{a}",
          "{",
          "{}",
          "%7D",
          "%",
          "日本語 ü 👍",
          "x".repeat(512),
        ];
        for (const user of users) {
          const what = JSON.stringify(user.slice(0, 12));
          const q = encodeURIComponent(user);
          const [a, b] = [new Jar(app), new Jar(app)];
          for (const jar of [a, b]) {
            const res = await jar.fetch(`/signin?user=${q}`, {
              method: "POST",
            });
            assert.equal(res.status, 200, `${what}: ${await res.text()}`);
          }
          // Moved within the user (a pair in the moves, then settled).
          const res = await b.fetch(`/signin?user=${q}`, { method: "POST" });
          assert.equal(res.status, 200, `${what}: ${await res.text()}`);
          assert.equal((await sessions.list(user)).length, 2, what);
        }
        // Each user's index is its own (no two users share a key), and no
        // move is left unsettled.
        const indexes = (await cluster.keys(`${prefix}user:*`)).flat();
        assert.equal(indexes.length, users.length, indexes.join(" "));
        for (const user of users) {
          const what = JSON.stringify(user.slice(0, 12));
          assert.equal(await sessions.revokeAll(user), 2, what);
          assert.deepEqual(await sessions.list(user), [], what);
        }
        assert.deepEqual((await cluster.keys(`${prefix}*`)).flat(), []);
      });
    });

    Deno.test(`RedisStore on Redis Cluster (${name}): the commands each request sends, one slot or spread, as docs/stores.md counts them`, async () => {
      await withClient(connect, async ({ client }) => {
        for (const tagged of [true, false]) {
          let sent = 0;
          const counting = new Proxy(client, {
            get(target, property) {
              const value = Reflect.get(target, property, target);
              if (typeof value !== "function") return value;
              if (property !== "call" && property !== "sendCommand") {
                return value.bind(target);
              }
              return (...args: unknown[]) => {
                sent++;
                return value.apply(target, args);
              };
            },
          });
          const store = new RedisStore(counting as never, {
            prefix: tagged ? `{${aPrefix()}}` : aPrefix(),
          });
          const app = usersApp(store, 600);
          // Each request but a first sign-in loads its session: one GET.
          const count = async (jar: Jar, path: string, method = "POST") => {
            const loads = jar.get("sid") === undefined ? 0 : 1;
            sent = 0;
            const res = await jar.fetch(path, { method });
            assert.ok(res.status < 300, `${path}: ${await res.text()}`);
            return sent - loads;
          };
          const [tied, anonymous] = [new Jar(app), new Jar(app)];
          // One slot / spread: a sign-in 1 / 3.
          assert.equal(await count(tied, "/signin?user=u-5"), tagged ? 1 : 3);
          assert.equal(await count(tied, "/read", "GET"), 0, "a read");
          // A write pushing the deadline back 1 / 2, one that does not 1 / 1.
          assert.equal(await count(tied, "/renew?maxAge=7200"), tagged ? 1 : 2);
          assert.equal(await count(tied, "/renew?maxAge=60"), 1);
          // regenerate(): tied 1 / 4; anonymous 1 / 2.
          assert.equal(await count(tied, "/regenerate"), tagged ? 1 : 4);
          await anonymous.fetch("/regenerate", { method: "POST" });
          assert.equal(await count(anonymous, "/regenerate"), tagged ? 1 : 2);
          // A listing 1 / 1 + one read for each session (sent at once).
          const other = new Jar(app);
          await other.fetch("/signin?user=u-5", { method: "POST" });
          sent = 0;
          assert.equal((await store.listUser("u-5")).length, 2);
          assert.equal(sent, tagged ? 1 : 3, "a listing");
          // A sign-out: anonymous 1 / 1; tied 1 / 2.
          assert.equal(await count(anonymous, "/logout"), 1);
          assert.equal(await count(tied, "/logout"), tagged ? 1 : 2);
        }
      });
    });

    Deno.test(`RedisStore on Redis Cluster (${name}): a regenerate() that fails at any of its steps leaves the old session whole and no new id behind`, async () => {
      await withClient(connect, async ({ client }) => {
        // The commands of a move: the new record, (tied: the new id in the
        // index,) the old record deleted, (tied: the index settled).
        for (const [user, commands] of [[undefined, 2], ["u-9", 4]] as const) {
          for (let failAt = 1; failAt <= commands; failAt++) {
            const prefix = aPrefix();
            const store = new RedisStore(client, { prefix });
            await store.set("old", record({ v: 1 }, user));
            // The same client, once armed failing its nth command (never
            // sent: as if the connection dropped).
            let sent = -Infinity;
            const failing = new Proxy(client, {
              get(target, property) {
                const value = Reflect.get(target, property, target);
                if (typeof value !== "function") return value;
                if (property !== "call" && property !== "sendCommand") {
                  return value.bind(target);
                }
                return (...args: unknown[]) =>
                  ++sent === failAt
                    ? Promise.reject(new Error("connection lost"))
                    : value.apply(target, args);
              },
            });
            const flaky = new RedisStore(failing as never, { prefix });
            const c = {};
            await flaky.get("old", c);
            sent = 0;
            const what = `${user ? "tied" : "anonymous"}, command ${failAt}`;
            const outcome = await flaky
              .replace("old", "new", record({ v: 2 }, user), c)
              .then(() => "moved", (error: Error) => error.message);
            const [old, fresh] = [
              await store.get("old"),
              await store.get("new"),
            ];
            if (user !== undefined && failAt === commands) {
              // The last command only settles the index: the move is done.
              assert.equal(outcome, "moved", what);
              assert.equal(old, undefined, what);
              assert.deepEqual(fresh?.data, { v: 2 }, what);
            } else {
              assert.equal(outcome, "connection lost", what);
              assert.deepEqual(old?.data, { v: 1 }, `${what}: the old session`);
              assert.equal(fresh, undefined, `${what}: the new id`);
            }
            if (user !== undefined) {
              // Listed once either way, under the id that lives.
              assert.deepEqual(
                (await store.listUser(user)).map((e) => e.id),
                [failAt === commands ? "new" : "old"],
                what,
              );
            }
          }
        }
      });
    });

    Deno.test(`RedisStore on Redis Cluster (${name}): a process that dies at any step of a regenerate() leaves the old session whole or the move done, and revokeAll still ends every session of the user`, async () => {
      await withClient(connect, async ({ client, send }) => {
        // From the old session's user (none, the same, another) to "u": the
        // commands of the move (the last one only tidies the index), and how
        // the old session ends after the process died.
        const moves = [
          [undefined, 3, "kept"],
          ["u", 4, "signed out"],
          ["u", 4, "expired"],
          ["v", 4, "kept"],
        ] as const;
        for (const [from, commands, end] of moves) {
          for (let dieAt = 1; dieAt <= commands; dieAt++) {
            const what = `from ${
              from ?? "anonymous"
            }, dead at command ${dieAt}, old session ${end}`;
            const prefix = aPrefix();
            const store = new RedisStore(client, { prefix });
            const tied = (data: Record<string, unknown>, user?: string) => ({
              ...record(data, user),
              ...(user === undefined ? {} : { handle: "h" }),
            });
            await store.set("old", tied({ v: 1 }, from));
            // The dying process: its nth command and every one after it are
            // never sent, nothing after them runs.
            let sent = -Infinity;
            const dying = new Proxy(client, {
              get(target, property) {
                const value = Reflect.get(target, property, target);
                if (typeof value !== "function") return value;
                if (property !== "call" && property !== "sendCommand") {
                  return value.bind(target);
                }
                return (...args: unknown[]) =>
                  ++sent >= dieAt
                    ? new Promise(() => {})
                    : value.apply(target, args);
              },
            });
            const process = new RedisStore(dying as never, { prefix });
            const c = {};
            await process.get("old", c);
            sent = 0;
            // The move stops at its nth command; one that settles before it
            // sent that many took another path than the one counted above.
            let settled = false;
            const move = process.replace("old", "new", tied({ v: 2 }, "u"), c)
              .then(() => "done", (e) => `failed: ${e}`)
              .finally(() => settled = true);
            while (sent < dieAt && !settled) {
              await new Promise((r) => setTimeout(r, 1));
            }
            if (sent < dieAt) {
              assert.fail(
                `${what}: the move sent ${sent} command(s), then ${await move}`,
              );
            }
            const done = dieAt > 3; // the old record went at command 3
            assert.deepEqual(
              (await store.get("old"))?.data,
              done ? undefined : { v: 1 },
              `${what}: the old session`,
            );
            // The record under the new id: written at command 1, served only
            // through a cookie, which only a finished move hands out.
            // Indexed from command 2 on, a listing cannot tell it from a
            // session that moved: listed at once where the old session was
            // no session of "u"; where it was, once the old session expired
            // (a sign-out takes the move out with it), until it is revoked
            // or its deadline passes.
            const listed = async () =>
              (await store.listUser("u")).map((e) => e.id);
            assert.deepEqual(
              await listed(),
              from === "u" && !done ? ["old"] : dieAt >= 3 ? ["new"] : [],
              `${what}: listed`,
            );
            if (end === "signed out") await store.delete("old");
            if (end === "expired") {
              await send(`${prefix}old`, ["DEL", `${prefix}old`]);
            }
            const leftover = dieAt >= 3 && (end !== "signed out" || done);
            assert.deepEqual(
              await listed(),
              leftover ? ["new"] : [],
              `${what}: listed after`,
            );
            assert.equal(
              await userSessions(store).revokeAll("u"),
              leftover ? 1 : 0,
              `${what}: revoked`,
            );
            assert.deepEqual(await listed(), [], what);
            // Written but not indexed, or its move taken out by the
            // sign-out, it is no one's session: it waits for its deadline.
            assert.equal(
              (await store.get("new"))?.data.v,
              dieAt === 2 || (dieAt === 3 && end === "signed out")
                ? 2
                : undefined,
              what,
            );
            if (from !== "u" && !done) {
              assert.deepEqual((await store.get("old"))?.data, { v: 1 }, what);
            }
          }
        }
      });
    });

    Deno.test(`RedisStore on Redis Cluster (${name}): revokeAll racing a sign-in on top, held before it deletes the old record, counts the one session once; the sign-in gets 409`, async () => {
      await withClient(connect, async ({ client }) => {
        const prefix = aPrefix();
        const held = holding(client);
        const app = usersApp(new RedisStore(held.client as never, { prefix }));
        const sessions = userSessions(new RedisStore(client, { prefix }));
        const a = new Jar(app);
        await a.fetch("/signin?user=u-4", { method: "POST" });
        const oldKey = `${prefix}${storeKey(a.get("sid")!)}`;
        // The move has written its new record (a new handle) and paired it
        // with the old id; the old record's checked delete waits.
        const deleting = held.hold((args) =>
          args[0] === "EVAL" && args[3] === oldKey
        );
        const moving = a.fetch("/signin?user=u-4", { method: "POST" });
        await deleting.reached;
        // It ends the old session, which dooms the move: the new record is
        // no session, and is neither listed nor counted.
        assert.equal(await sessions.revokeAll("u-4"), 1);
        deleting.release();
        const res = await moving;
        assert.equal(res.status, 409, await res.text());
        assert.deepEqual(await a.text("/read"), [200, "-"]);
        assert.deepEqual(await sessions.list("u-4"), []);
      });
    });

    Deno.test(`RedisStore on Redis Cluster (${name}): a listing is never fooled by a move between its steps: read again when a record went, a move in progress listed once`, async () => {
      await withClient(connect, async ({ client }) => {
        const prefix = aPrefix();
        const mover = new RedisStore(client, { prefix });
        const user = "u-3";
        // The index read, then the move, then the records: the record the
        // index named is gone, the new id indexed after the index was read.
        {
          const held = holding(client);
          const lister = new RedisStore(held.client as never, { prefix });
          await mover.set("x1", record({ v: 1 }, user));
          const c = {};
          await mover.get("x1", c);
          const get = held.hold((args) => args[0] === "GET");
          const listing = lister.listUser(user);
          await get.reached;
          await mover.replace("x1", "y1", record({ v: 2 }, user), c);
          get.release();
          assert.deepEqual((await listing).map((e) => e.id), ["y1"]);
        }
        // The move halfway (the new record written and paired with the old
        // one, the old one not deleted yet): listed once, as the old id.
        {
          const held = holding(client);
          const slow = new RedisStore(held.client as never, { prefix });
          await slow.set("x2", record({ v: 1 }, user));
          const c = {};
          await slow.get("x2", c);
          const deleting = held.hold((args) =>
            args[0] === "EVAL" && args[3] === `${prefix}x2`
          );
          const moving = slow.replace("x2", "y2", record({ v: 2 }, user), c);
          await deleting.reached;
          const halfway = await mover.listUser(user);
          assert.deepEqual(halfway.map((e) => e.id).sort(), ["x2", "y1"]);
          assert.equal((await userSessions(mover).list(user)).length, 2);
          deleting.release();
          await moving;
          const after = await mover.listUser(user);
          assert.deepEqual(after.map((e) => e.id).sort(), ["y1", "y2"]);
        }
      });
    });
  }

  Deno.test("RedisStore on Redis Cluster: an ioredis Cluster with a keyPrefix lists and revokes a user's sessions, the store's prefix tagged or not", async () => {
    const cluster = await RedisCluster.shared();
    for (const keyPrefix of [aPrefix(), `{${aPrefix()}}`]) {
      for (const prefix of ["sess:", `{${aPrefix()}}`]) {
        const what = `keyPrefix ${keyPrefix}, prefix ${prefix}`;
        const client = new Cluster(
          cluster.nodes.map(({ host, port }) => ({ host, port })),
          { keyPrefix, redisOptions: { maxRetriesPerRequest: 0 } },
        );
        client.on("error", () => {});
        await new Promise((resolve) => client.once("ready", resolve));
        try {
          const store = new RedisStore(client, { prefix });
          const app = usersApp(store);
          const [a, b] = [new Jar(app), new Jar(app)];
          await a.fetch("/signin?user=u-1", { method: "POST" });
          await b.fetch("/signin?user=u-1", { method: "POST" });
          await b.fetch("/regenerate", { method: "POST" });
          const keys = (await cluster.keys(`${keyPrefix}${prefix}*`)).flat();
          assert.ok(
            keys.includes(`${keyPrefix}${prefix}${storeKey(a.get("sid")!)}`),
            what,
          );
          const sessions = userSessions(store);
          assert.equal((await sessions.list("u-1")).length, 2, what);
          assert.equal(await sessions.revokeAll("u-1"), 2, what);
          assert.deepEqual(await a.text("/read"), [200, "-"], what);
          assert.deepEqual(await b.text("/read"), [200, "-"], what);
          assert.deepEqual(
            (await cluster.keys(`${keyPrefix}${prefix}*`)).flat(),
            [],
            what,
          );
        } finally {
          client.disconnect();
        }
      }
    }
  });

  Deno.test('RedisStore on Redis Cluster: takes both cluster clients with their default options (ioredis scaleReads defaults to "master") and shards', async () => {
    const cluster = await RedisCluster.shared();
    const io = new Cluster(
      cluster.nodes.map(({ host, port }) => ({ host, port })),
    );
    assert.equal(io.options.scaleReads, "master");
    await new Promise((resolve) => io.once("ready", resolve));
    // node-redis needs only the "error" listener it is refused without.
    const nr = createCluster({
      rootNodes: cluster.nodes.map(({ url }) => ({ url })),
    });
    nr.on("error", () => {});
    await nr.connect();
    try {
      for (const client of [io, nr]) {
        const prefix = aPrefix();
        const store = new RedisStore(client, { prefix });
        const app = usersApp(store);
        const jars = Array.from({ length: 30 }, () => new Jar(app));
        for (const jar of jars) {
          const res = await jar.fetch("/signin?user=u-6", { method: "POST" });
          assert.equal(res.status, 200, await res.text());
        }
        const perNode = (await cluster.keys(`${prefix}*`)).map((keys) =>
          keys.filter((k) => !k.startsWith(`${prefix}user:`)).length
        );
        assert.ok(perNode.every((n) => n > 0), `keys per node ${perNode}`);
        assert.equal(await userSessions(store).revokeAll("u-6"), 30);
        assert.deepEqual(await jars[0]!.text("/read"), [200, "-"]);
      }
    } finally {
      io.disconnect();
      await nr.close();
    }
  });

  Deno.test("RedisStore: refuses, when created, the cluster clients it cannot use, saying what it expects", () => {
    // An ioredis Cluster reading from replicas.
    const replicas = new Cluster([{ host: "127.0.0.1", port: 1 }], {
      lazyConnect: true,
      scaleReads: "slave",
    });
    assert.throws(() => new RedisStore(replicas), {
      name: "TypeError",
      message:
        /reads from replicas \(scaleReads: "slave"\).*scaleReads: "master"/,
    });
    // A node-redis cluster with no "error" listener.
    const bare = createCluster({ rootNodes: [{ url: "redis://127.0.0.1:1" }] });
    assert.throws(() => new RedisStore(bare), {
      name: "TypeError",
      message: /no "error" listener/,
    });
    bare.on("error", () => {});
    assert.ok(new RedisStore(bare));
    // A prefix with an empty hash tag: Redis hashes such keys whole, the
    // clients route them by what follows; a user's two index keys would
    // land in two slots.
    for (const prefix of ["{}sess:", "a{}{b}:"]) {
      assert.throws(() => new RedisStore(bare, { prefix }), {
        name: "TypeError",
        message: /holds an empty hash tag \("\{\}"\).*leave braces out/,
      });
    }
    assert.ok(new RedisStore(bare, { prefix: "a{b:" }), "an unclosed brace");
    // A node-redis Sentinel client (shape only: none runs here).
    assert.throws(
      () =>
        new RedisStore({
          sendCommand: () => Promise.resolve(null),
          getSentinelNode: () => undefined,
          on() {},
          listenerCount: () => 1,
        } as never),
      { name: "TypeError", message: /Sentinel clients.*not supported/ },
    );
    for (const wrong of [null, 42, {}, { call: 1 }, { send_command() {} }]) {
      assert.throws(() => new RedisStore(wrong as never), {
        name: "TypeError",
        message:
          /pass a connected ioredis client \(new Redis\(\) or new Cluster\(\).*createCluster\(\)/,
      });
    }
  });

  Deno.test("RedisStore: a single-server client pointed at a cluster node gets an error that says to use a cluster client", async () => {
    const cluster = await RedisCluster.shared();
    const client = createClient({ url: cluster.nodes[0]!.url });
    client.on("error", () => {});
    await client.connect();
    try {
      const store = new RedisStore(client);
      // A third of the keys live on this node; the others answer MOVED.
      const errors: string[] = [];
      for (let i = 0; i < 30; i++) {
        await store.get(`id-${i}`).catch((e: Error) => errors.push(e.message));
      }
      assert.ok(errors.length > 0 && errors.length < 30, `${errors.length}`);
      assert.match(
        errors[0]!,
        /Redis answered "MOVED \d+ .*": this server is a node of a Redis Cluster; give the store a cluster client/,
      );
      // The app sees a 500 with that message.
      const app = basicApp({ store });
      const statuses = new Set<number>();
      for (let i = 0; i < 10; i++) {
        statuses.add((await app.request("/login", { method: "POST" })).status);
      }
      assert.ok(statuses.has(500), [...statuses].join());
    } finally {
      await client.close();
    }
  });
}
