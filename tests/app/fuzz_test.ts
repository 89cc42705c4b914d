// Property-based fuzzing with fast-check: mutated, truncated, duplicated and
// re-encoded cookies and Cookie headers never cause a 5xx, never throw out
// of the middleware, and never yield another user's session. Bounded: a
// fixed number of runs per property, with a fixed seed so failures replay.
import assert from "node:assert/strict";
import fc from "fast-check";
import { Hono } from "hono";
import { parse } from "hono/utils/cookie";
import { session, type SessionOptions } from "../../mod.ts";
import { MemoryStore } from "../../stores/memory.ts";
import { SECRET } from "../_helpers.ts";

const RUNS = 150;
const SEED = 20261128;

function fuzzApp(options: SessionOptions) {
  const app = new Hono()
    .use(session<{ user?: string }>(options))
    .post("/login/:user", (c) => {
      c.session.user = c.req.param("user");
      return c.text("ok");
    })
    .get("/", (c) => c.text(c.session.user ?? "-"))
    .post("/touch", (c) => {
      c.session.user = c.session.user ?? "anon";
      return c.text(c.session.user);
    });
  // No custom onError: an error thrown by the middleware would surface as
  // Hono's default 500, which the properties below forbid.
  return app;
}

async function login(app: Hono<any>, user: string): Promise<string> {
  const res = await app.request(`/login/${user}`, { method: "POST" });
  return parse(res.headers.getSetCookie()[0])["sid"];
}

/** Ways to damage a cookie value. */
function mutations(value: string, other: string): fc.Arbitrary<string> {
  const at = fc.nat({ max: value.length });
  const anyChar = fc.oneof(
    fc.string({ minLength: 1, maxLength: 1 }),
    fc.constantFrom(
      "*",
      "%",
      ";",
      "=",
      '"',
      " ",
      "\\",
      "\u0000",
      "é",
      "€",
      "🙂",
    ),
  );
  return fc.oneof(
    at.map((i) => value.slice(0, i)), // truncated
    at.map((i) => value.slice(i)), // front cut
    fc.tuple(at, anyChar).map(([i, ch]) =>
      value.slice(0, i) + ch + value.slice(i + 1)
    ), // replaced
    fc.tuple(at, anyChar).map(([i, ch]) =>
      value.slice(0, i) + ch + value.slice(i)
    ), // inserted
    at.map((i) => value.slice(0, i) + value.slice(i + 1)), // deleted
    fc.constant(value + value), // doubled
    fc.constant(encodeURIComponent(encodeURIComponent(value))), // double-encoded
    fc.constant(btoa(value)), // re-encoded
    fc.constant(value.toUpperCase()),
    fc.constant(value.split("").reverse().join("")),
    // Splice a part of another user's cookie into this one.
    fc.tuple(at, fc.nat({ max: other.length })).map(([i, j]) =>
      value.slice(0, i) + other.slice(j)
    ),
    fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }).map((picks) => {
      const a = value.split("*");
      const b = other.split("*");
      return a.map((
        part,
        k,
      ) => (picks[k % 8] && b[k] !== undefined ? b[k] : part)).join("*");
    }),
    fc.string({ maxLength: 200 }),
    fc.string({ unit: "binary", maxLength: 100 }),
  );
}

/** Whole Cookie headers built around the session cookie. */
function headers(value: string, other: string): fc.Arbitrary<string> {
  const pair = fc.oneof(
    mutations(value, other).map((v) => `sid=${v}`),
    fc.constant(`sid=${value}`),
    fc.constant(`sid=${other}`),
    fc.constantFrom("sx=1", "sid", "=", ";", "sid=", "sid= ", 'sid=""', "a=b"),
    fc.string({ maxLength: 40 }),
  );
  return fc.tuple(
    fc.array(pair, { minLength: 1, maxLength: 5 }),
    fc.constantFrom("; ", ";", " ; ", ";;"),
  ).map(([pairs, sep]) => pairs.join(sep));
}

function isByteString(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 255) return false;
  return !/[\r\n\0]/.test(s);
}

// Who a Cookie header may legitimately be: the owner of the exact value
// Hono parses for "sid", and only when the header has one "sid" pair.
function owner(header: string, users: Map<string, string>): string | undefined {
  return users.get(parse(header, "sid")["sid"] ?? "");
}

const modes: [string, () => SessionOptions][] = [
  ["cookie", () => ({ secret: SECRET })],
  [
    "cookie, compressed and chunked",
    () => ({ secret: SECRET, compression: "deflate-raw", cookieChunks: 4 }),
  ],
  ["MemoryStore", () => ({ store: new MemoryStore({ sweepInterval: 0 }) })],
  ["Map", () => ({ store: new Map() })],
  // Reading hono-session 1.x's sessions too changes none of it.
  [
    "cookie, migrateFrom",
    () => ({ secret: SECRET, migrateFrom: "hono-session@1" }),
  ],
  [
    "MemoryStore, migrateFrom",
    () => ({
      store: new MemoryStore({ sweepInterval: 0 }),
      migrateFrom: "hono-session@1",
    }),
  ],
];

for (const [name, options] of modes) {
  Deno.test(`fuzz [${name}]: damaged cookie values are no session, never a 5xx, never someone else`, async () => {
    const app = fuzzApp(options());
    const alice = await login(app, "alice");
    const bob = await login(app, "bob");
    await fc.assert(
      fc.asyncProperty(mutations(alice, bob), async (value) => {
        const cookie = `sid=${value}`;
        if (!isByteString(cookie)) return; // fetch cannot send it at all
        for (const method of ["GET", "POST"]) {
          const res = await app.request(method === "GET" ? "/" : "/touch", {
            method,
            headers: { cookie },
          });
          assert.ok(
            res.status < 500,
            `${res.status} for ${JSON.stringify(cookie).slice(0, 120)}`,
          );
          const body = await res.text();
          const who = owner(cookie, new Map([[alice, "alice"], [bob, "bob"]]));
          if (body === "alice" || body === "bob") {
            assert.equal(body, who, cookie.slice(0, 120));
          } else assert.ok(body === "-" || body === "anon", body);
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  Deno.test(`fuzz [${name}]: arbitrary Cookie headers are never a 5xx and never someone else`, async () => {
    const app = fuzzApp(options());
    const alice = await login(app, "alice");
    const bob = await login(app, "bob");
    const users = new Map([[alice, "alice"], [bob, "bob"]]);
    await fc.assert(
      fc.asyncProperty(headers(alice, bob), async (cookie) => {
        if (!isByteString(cookie)) return;
        const res = await app.request("/", { headers: { cookie } });
        assert.ok(
          res.status < 500,
          `${res.status} for ${JSON.stringify(cookie).slice(0, 120)}`,
        );
        const body = await res.text();
        if (body !== "-") {
          assert.equal(body, owner(cookie, users), cookie.slice(0, 120));
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
}

// Chunked sessions: Cookie headers assembled from the chunks of two users'
// sessions, damaged, shuffled, repeated, left out, mixed with plain ones.
Deno.test("fuzz [cookie, chunked]: Cookie headers built from chunks are never a 5xx and never someone else", async () => {
  const app = fuzzApp({ secret: SECRET, cookieChunks: 4 });
  app.post("/big/:user", (c) => {
    c.session.user = c.req.param("user");
    // About 9 KB of session: three chunks.
    (c.session as unknown as Record<string, unknown>).pad = btoa(
      String.fromCharCode(...crypto.getRandomValues(new Uint8Array(6000))),
    );
    return c.text("ok");
  });
  const chunksOf = async (user: string) => {
    const res = await app.request(`/big/${user}`, { method: "POST" });
    const chunks: string[] = [];
    for (const line of res.headers.getSetCookie()) {
      const m = /^sid\.(\d)=([^;]+);/.exec(line);
      if (m) chunks[Number(m[1])] = m[2]!;
    }
    assert.equal(chunks.length, 3);
    return chunks;
  };
  const alice = await chunksOf("alice");
  const bob = await chunksOf("bob");
  const users = new Map([[alice.join(""), "alice"], [bob.join(""), "bob"]]);
  const value = fc.oneof(
    fc.constantFrom(...alice, ...bob),
    fc.constantFrom(...alice, ...bob).chain((v) => mutations(v, alice[0]!)),
    fc.constantFrom("", "x", "%", '"'),
  );
  const pair = fc.oneof(
    fc.tuple(fc.nat({ max: 5 }), value).map(([i, v]) => `sid.${i}=${v}`),
    value.map((v) => `sid=${v}`),
    fc.constantFrom("sid.01=x", "sid.=x", "sid.x=1", "sx=1", "sid.9999=1"),
  );
  const whole = (chunks: string[]) => chunks.map((v, i) => `sid.${i}=${v}`);
  const header = fc.oneof(
    fc.array(pair, { minLength: 1, maxLength: 8 }),
    // A whole session in any order, perhaps with more pairs around it.
    fc.tuple(
      fc.constantFrom(alice, bob).chain((chunks) =>
        fc.shuffledSubarray(whole(chunks), { minLength: 3, maxLength: 3 })
      ),
      fc.array(pair, { maxLength: 2 }),
    ).map(([pairs, more]) => [...pairs, ...more]),
    // A whole session, shuffled, with a chunk perhaps dropped or doubled.
    fc.tuple(
      fc.constantFrom(alice, bob),
      fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 5 }),
    ).map(([chunks, picks]) =>
      picks.map((i) => `sid.${i}=${chunks[i] ?? chunks[0]}`)
    ),
  ).map((pairs) => pairs.join("; "));
  // Who a header may be: the user whose session its chunks join into,
  // when they are sid.0 to sid.n-1 (n >= 2), each once, and no plain sid.
  const owner = (cookie: string): string | undefined => {
    const chunks: string[] = [];
    for (const part of cookie.split(";")) {
      const eq = part.indexOf("=");
      const name = part.slice(0, eq).trim();
      if (name === "sid") return undefined;
      const m = /^sid\.(\d+)$/.exec(name);
      if (!m) continue;
      if (m[1] !== String(Number(m[1])) || Number(m[1]) >= 4) return undefined;
      if (chunks[Number(m[1])] !== undefined) return undefined;
      chunks[Number(m[1])] = part.slice(eq + 1).trim();
    }
    if (chunks.length < 2 || chunks.includes(undefined as never)) {
      return undefined;
    }
    return users.get(chunks.join(""));
  };
  let opened = 0;
  await fc.assert(
    fc.asyncProperty(header, async (cookie) => {
      if (!isByteString(cookie)) return;
      const res = await app.request("/", { headers: { cookie } });
      assert.ok(res.status < 500, `${res.status} for ${cookie.slice(0, 120)}`);
      const body = await res.text();
      if (body !== "-") {
        assert.equal(body, owner(cookie), cookie.slice(0, 120));
        opened++;
      }
    }),
    { numRuns: RUNS, seed: SEED },
  );
  assert.ok(opened > 10, `only ${opened} headers were a session`);
});
