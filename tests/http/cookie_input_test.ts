// Rule 8: whatever arrives in the Cookie header, a bad session cookie means
// "no session", never an error.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { defaults, seal } from "iron-webcrypto";
import { session } from "../../mod.ts";
import { basicApp, eachMode, Jar, SECRET, storeKey } from "../_helpers.ts";
import { Keyring } from "../../_cookie_mode/keyring.ts";
import { randomToken } from "../../_store_mode/ids.ts";

function flip(value: string, at: number): string {
  const c = value[at] === "A" ? "B" : "A";
  return value.slice(0, at) + c + value.slice(at + 1);
}

eachMode(
  "malformed, truncated, tampered, oversized, duplicated or odd cookies mean no session",
  async (mode) => {
    const app = basicApp(mode.options());
    const jar = new Jar(app);
    await jar.fetch("/login", { method: "POST" });
    const good = encodeURIComponent(jar.get("sid")!);
    // Another app: a foreign secret in cookie mode, another store in store mode.
    const other = new Jar(
      basicApp(
        mode.store ? { store: new Map() } : { secret: SECRET.toUpperCase() },
      ),
    );
    await other.fetch("/login?user=eve", { method: "POST" });
    const headers = [
      "sid=",
      "sid",
      "=sid=",
      ";;;",
      `sid=${good.slice(0, -5)}`,
      `sid=${good.slice(0, 12)}`,
      `sid=${good}x`,
      `sid=x${good}`,
      `sid=${flip(good, Math.floor(good.length / 2))}`,
      `sid=${flip(good, good.length - 3)}`,
      `sid=${"a".repeat(5000)}`,
      `sid=${good}${"A".repeat(4096)}`,
      "sid=%E2%82%AC%F0%9F%8D%AA",
      "sid=%E0%A4%A",
      "sid=\u00e9\u00ff",
      `sid=${good}; sid=${good}`,
      `sid=garbage; sid=${good}`,
      `sid=${good}; other=1; sid=${good.slice(0, 20)}`,
      `sid=${good.replaceAll("*", "**")}${mode.store ? "*" : ""}`,
      `sid=${other.header().split(";")[0].slice(4)}`,
      "sid=Fe26.2*1*2*3*4*5*6*7",
      "sid=Fe26.2**salt*iv*data**salt*mac",
      `sid=${"A".repeat(43)}`,
      `sid=${"A".repeat(42)}!`,
      `sid=${good.toLowerCase()}`,
      `sid=${"; ".repeat(2000)}`,
      `${"x=1; ".repeat(500)}sid=${good.slice(1)}`,
    ];
    for (const cookie of headers) {
      const read = await app.request("/read", { headers: { cookie } });
      assert.equal(read.status, 200, cookie.slice(0, 80));
      assert.equal(await read.text(), "-", cookie.slice(0, 80));
      assert.equal(
        read.headers.get("set-cookie"),
        null,
        "a bad cookie alone changes nothing",
      );
      const login = await app.request("/login?user=bob", {
        method: "POST",
        headers: { cookie },
      });
      assert.equal(login.status, 200, cookie.slice(0, 80));
      const sid = login.headers.getSetCookie()[0];
      assert.ok(sid.startsWith("sid="), "a fresh session is issued");
      assert.ok(!sid.startsWith(`sid=${good};`));
    }
    // Surrounding whitespace and other cookies around a good one are fine.
    for (
      const cookie of [
        ` sid=${good} `,
        `a=1;sid=${good};b=2`,
        `a=1; sid=${good}; xsid=3; sidx=4`,
      ]
    ) {
      const read = await app.request("/read", { headers: { cookie } });
      assert.equal(await read.text(), "ada", cookie.slice(0, 80));
    }
    // The other app's own cookie still works there.
    assert.deepEqual(await other.text("/read"), [200, "eve"]);
  },
);

Deno.test("cookie mode: genuine seals that do not hold a valid session record mean no session", async () => {
  const app = basicApp({ secret: SECRET });
  const now = Date.now();
  // The key this middleware derives from SECRET for its cookie "sid".
  const key = await new Keyring([SECRET], "cookie:sid").newest();
  const password = { id: key.id, secret: key.password };
  const payloads: unknown[] = [
    "hello",
    42,
    null,
    [],
    { data: [], expires: now + 60_000 },
    { data: { userId: "x" } },
    { data: { userId: "x" }, expires: "soon" },
    { data: { userId: "x" }, expires: now - 1 },
    { data: { userId: "x" }, expires: now + 60_000, flash: "userId" },
    { data: { userId: "x" }, expires: now + 60_000, flash: [1] },
  ];
  for (const payload of payloads) {
    const sealed = await seal(payload, password, defaults);
    const res = await app.request("/read", {
      headers: { cookie: `sid=${sealed}` },
    });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "-", JSON.stringify(payload));
  }
  // The same format with a valid record is accepted: iron's own seal opens.
  const sealed = await seal(
    { data: { userId: "iron" }, expires: now + 60_000 },
    password,
    defaults,
  );
  const res = await app.request("/read", {
    headers: { cookie: `sid=${sealed}` },
  });
  assert.equal(await res.text(), "iron");
});

Deno.test("store mode: records the store returns in a wrong shape mean no session", async () => {
  const id = "B".repeat(43);
  for (
    const record of ["text", 1, [], {}, {
      data: "x",
      expires: Date.now() + 1000,
    }, { data: {} }]
  ) {
    const store = new Map<string, unknown>([[id, record]]);
    const app = basicApp({ store: store as Map<string, never> });
    const res = await app.request("/read", {
      headers: { cookie: `sid=${id}` },
    });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "-");
  }
});

Deno.test("store mode: a cookie that is not one of our ids never reaches the store", async () => {
  const asked: string[] = [];
  const store = {
    get: (id: string) => (asked.push(id), undefined),
    set: () => {},
    delete: () => {},
  };
  const app = new Hono().use(session({ store })).get(
    "/",
    (c) => c.text(String(c.session.isNew)),
  );
  for (
    const value of [
      "short",
      "A".repeat(44),
      "A".repeat(42) + "+",
      "../../etc/passwd",
      "A".repeat(42) + "%20",
    ]
  ) {
    await app.request("/", { headers: { cookie: `sid=${value}` } });
  }
  assert.deepEqual(asked, []);
  await app.request("/", { headers: { cookie: `sid=${"C".repeat(43)}` } });
  // The store sees the id's SHA-256, never the cookie's value.
  assert.deepEqual(asked, [await storeKey("C".repeat(43))]);
  assert.notEqual(asked[0], "C".repeat(43));
});

const B64URL =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// The other spellings of a base64url field that decode to the same bytes:
// its last character with the unused low bits set differently.
function respellings(field: string): string[] {
  const unused = [0, 0, 4, 2][field.length % 4];
  const at = B64URL.indexOf(field.at(-1)!);
  const base = at & ~((1 << unused) - 1);
  const out: string[] = [];
  for (let i = base; i < base + (1 << unused); i++) {
    if (i !== at) out.push(field.slice(0, -1) + B64URL[i]);
  }
  return out;
}

Deno.test("cookie mode: only the canonical spelling of each base64url field of a seal opens", async () => {
  const app = basicApp({ secret: SECRET });
  const jar = new Jar(app);
  await jar.fetch("/login", { method: "POST" });
  const good = jar.get("sid")!;
  // The genuine cookie works (and is now in the verified cache).
  assert.deepEqual(await jar.text("/read"), [200, "ada"]);
  const parts = good.split("*");
  assert.equal(parts[7].length, 43, "a 32-byte MAC: 2 unused bits");
  const variants: [string, string][] = [];
  // 3: the IV, 4: the encrypted data, 7: the MAC.
  for (const field of [3, 4, 7]) {
    for (const spelling of respellings(parts[field])) {
      const copy = [...parts];
      copy[field] = spelling;
      variants.push([`field ${field}: ${spelling.slice(-3)}`, copy.join("*")]);
    }
  }
  assert.equal(
    variants.filter(([what]) => what.startsWith("field 7")).length,
    3,
    "three other spellings of the MAC",
  );
  for (const [what, value] of variants) {
    const res = await app.request("/read", {
      headers: { cookie: `sid=${encodeURIComponent(value)}` },
    });
    assert.equal(res.status, 200, what);
    assert.equal(await res.text(), "-", what);
    assert.equal(res.headers.get("set-cookie"), null, what);
  }
  assert.deepEqual(await jar.text("/read"), [200, "ada"]);
});

Deno.test("store mode: an id's last character carries no spare bits, so each spelling is its own id", async () => {
  // Each of the 43 characters is 6 random bits, the last one too.
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) seen.add(randomToken().at(-1)!);
  assert.equal(seen.size, 64);
  const app = basicApp({ store: new Map() });
  const jar = new Jar(app);
  await jar.fetch("/login", { method: "POST" });
  const id = jar.get("sid")!;
  assert.deepEqual(await jar.text("/read"), [200, "ada"]);
  const at = B64URL.indexOf(id.at(-1)!);
  for (let i = at & ~3; i < (at & ~3) + 4; i++) {
    if (i === at) continue;
    const res = await app.request("/read", {
      headers: { cookie: `sid=${id.slice(0, -1)}${B64URL[i]}` },
    });
    assert.deepEqual([res.status, await res.text()], [200, "-"]);
  }
});
