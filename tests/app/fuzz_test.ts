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
  ["MemoryStore", () => ({ store: new MemoryStore({ sweepInterval: 0 }) })],
  ["Map", () => ({ store: new Map() })],
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
