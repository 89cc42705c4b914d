// The integration scenarios, over real HTTP, for any runtime: login, read,
// flash, regenerate, logout, tampered cookie, a hono-session 1.2.0 cookie
// read and moved (cookie mode, migrateFrom); with compression and
// cookieChunks ("chunked"), a 10 KB session in chunk cookies that grows and
// shrinks. Plain JavaScript and fetch.

function cookiesOf(res) {
  return res.headers.getSetCookie().map((line) => {
    const [pair, ...attrs] = line.split(";");
    const eq = pair.indexOf("=");
    return {
      name: pair.slice(0, eq).trim(),
      value: pair.slice(eq + 1).trim(),
      attrs: attrs.map((a) => a.trim().toLowerCase()),
    };
  });
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/**
 * Runs every scenario against `base` (e.g. http://127.0.0.1:1234/cookie)
 * and returns [{ name, ok, error }].
 */
export async function runScenarios(base, mode) {
  const jar = new Map();
  const header = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  async function send(path, method = "GET", cookie = header()) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: cookie ? { cookie } : {},
      redirect: "manual",
    });
    const set = cookiesOf(res);
    for (const c of set) {
      if (c.attrs.includes("max-age=0")) jar.delete(c.name);
      else jar.set(c.name, c.value);
    }
    const text = await res.text();
    return { res, set, body: text.startsWith("{") ? JSON.parse(text) : text };
  }
  const results = [];
  async function scenario(name, fn) {
    try {
      await fn();
      results.push({ name, ok: true });
    } catch (error) {
      results.push({ name, ok: false, error: String(error?.stack ?? error) });
    }
  }

  await scenario("no cookie, nothing written", async () => {
    const { res, set, body } = await send("/");
    check(res.status === 200, `status ${res.status}`);
    check(body.user === null, `user ${body.user}`);
    check(set.length === 0, "no Set-Cookie for a read");
  });
  let firstSid;
  await scenario("login sets both cookies and redirects", async () => {
    const { res, set } = await send("/login", "POST");
    check(res.status === 303, `status ${res.status}`);
    const sid = set.find((c) => c.name === "sid");
    const sx = set.find((c) => c.name === "sx");
    check(sid && sx, "both cookies set");
    check(
      sid.attrs.includes("httponly") && sid.attrs.includes("secure"),
      "sid HttpOnly; Secure",
    );
    check(
      !sx.attrs.includes("httponly") && sx.value === "1",
      "sx readable, =1",
    );
    firstSid = sid.value;
  });
  await scenario("read after login, flash exactly once", async () => {
    const first = await send("/");
    check(first.body.user === "ada", `user ${first.body.user}`);
    check(first.body.notice === "welcome", `notice ${first.body.notice}`);
    const second = await send("/");
    check(second.body.user === "ada", "still signed in");
    check(second.body.notice === null, `notice again: ${second.body.notice}`);
  });
  await scenario("tampered cookie is no session, never an error", async () => {
    const sid = jar.get("sid");
    const flipped = sid.slice(0, 20) + (sid[20] === "A" ? "B" : "A") +
      sid.slice(21);
    for (
      const cookie of [
        `sid=${flipped}`,
        `sid=${sid.slice(0, -4)}`,
        "sid=garbage",
        `sid=${sid}; sid=${sid}`,
      ]
    ) {
      const { res, body } = await send("/", "GET", cookie);
      check(res.status === 200, `status ${res.status}`);
      check(body.user === null, `tampered cookie read as ${body.user}`);
    }
  });
  await scenario(
    "regenerate issues a new id; store modes kill the old one",
    async () => {
      const before = jar.get("sid");
      const { set } = await send("/regen", "POST");
      const after = set.find((c) => c.name === "sid")?.value;
      check(after && after !== before, "a new cookie value");
      check((await send("/")).body.user === "ada", "data kept");
      if (mode === "map" || mode === "memory") {
        const old = await send("/", "GET", `sid=${before}`);
        check(old.body.user === null, "old id finds nothing");
        check(
          (await send("/", "GET", `sid=${firstSid}`)).body.user === null,
          "login id finds nothing",
        );
      }
    },
  );
  if (mode === "chunked") {
    await scenario(
      "a 10 KB session travels in chunk cookies, reads back, shrinks, grows",
      async () => {
        const live = (set) =>
          set.filter((c) => !c.attrs.includes("max-age=0")).map((c) => c.name);
        const gone = (set) =>
          set.filter((c) => c.attrs.includes("max-age=0")).map((c) => c.name);
        const big = await send("/big", "POST");
        check(big.res.status === 200, `status ${big.res.status}`);
        check(
          live(big.set).join() === "sid.0,sid.1,sx",
          `set ${live(big.set)}`,
        );
        check(gone(big.set).includes("sid"), "the plain cookie expired");
        check(
          big.set.every((c) => c.name.length + c.value.length <= 4096),
          "every cookie within 4096 bytes",
        );
        check(!jar.has("sid") && jar.has("sid.1"), "the jar holds chunks");
        const read = await send("/");
        check(read.body.user === "ada", `user ${read.body.user}`);
        check(
          read.body.big?.length === big.body.length &&
            read.body.big?.sum === big.body.sum,
          `big came back as ${JSON.stringify(read.body.big)}`,
        );
        // A tampered chunk is no session, never an error.
        const sid1 = jar.get("sid.1");
        const flipped = sid1.slice(0, 50) + (sid1[50] === "A" ? "B" : "A") +
          sid1.slice(51);
        const tampered = await send(
          "/",
          "GET",
          header().replace(`sid.1=${sid1}`, `sid.1=${flipped}`),
        );
        check(tampered.res.status === 200, `status ${tampered.res.status}`);
        check(tampered.body.user === null, "a tampered chunk opens nothing");
        // Shrinks back to the plain cookie, then grows again.
        const small = await send("/big?small", "POST");
        check(live(small.set).join() === "sid,sx", `set ${live(small.set)}`);
        check(
          ["sid.0", "sid.1", "sid.2"].every((n) => gone(small.set).includes(n)),
          `expired ${gone(small.set)}`,
        );
        check((await send("/")).body.big?.length === 5, "small came back");
        await send("/big", "POST");
        check(jar.has("sid.0") && !jar.has("sid"), "chunks again");
      },
    );
  }
  await scenario(
    "logout expires both cookies and ends the session",
    async () => {
      const before = jar.get("sid") ?? jar.get("sid.0");
      const { set } = await send("/logout", "POST");
      const expected = mode === "chunked"
        ? ["sid", "sid.0", "sid.1", "sid.2", "sx"]
        : ["sid", "sx"];
      check(
        set.map((c) => c.name).sort().join() === expected.join() &&
          set.every((c) => c.attrs.includes("max-age=0")),
        `expired ${set.map((c) => c.name)}`,
      );
      check(jar.size === 0, "the jar is empty");
      check((await send("/")).body.user === null, "signed out");
      if (mode === "map" || mode === "memory") {
        check(
          (await send("/", "GET", `sid=${before}`)).body.user === null,
          "entry deleted",
        );
      }
    },
  );
  if (mode === "cookie") {
    await scenario(
      "a hono-session 1.2.0 cookie is served, then moved to our seal",
      async () => {
        jar.clear();
        jar.set("sid", V1_COOKIE);
        const first = await send("/");
        check(first.res.status === 200, `status ${first.res.status}`);
        check(first.body.user === "ada", `user ${first.body.user}`);
        check(first.body.notice === "from 1.x", `notice ${first.body.notice}`);
        // Dropping the flashed value was a write: the session moved.
        const sid = first.set.find((c) => c.name === "sid");
        check(sid && !sid.value.startsWith("Fe26.2**"), "a seal of ours");
        const second = await send("/");
        check(second.body.user === "ada", "still signed in");
        check(second.body.notice === null, "the flash was shown once");
        const tampered = V1_COOKIE.slice(0, 100) +
          (V1_COOKIE[100] === "A" ? "B" : "A") + V1_COOKIE.slice(101);
        const refused = await send("/", "GET", `sid=${tampered}`);
        check(refused.res.status === 200, `status ${refused.res.status}`);
        check(refused.body.user === null, "a tampered 1.x seal opens nothing");
      },
    );
  }
  return results;
}

// A cookie issued by hono-session 1.2.0 (npm) with the app's secret, the
// values { userId: "ada" } and a flashed notice, _expires in 2100: made by
// running 1.2.0 under Deno (maxAge up to 2100, cookieOptions.maxAge 60).
const V1_COOKIE =
  "Fe26.2**a91c042a31ebd489a11e752cfa1833b5966de8b316b2c4118cd00b2be949b11b*nUGmoCNuYOoS50KB4NYGiw*oEwGIZlGh2AN4WN-vcVTCDzWv31D11X6tSmPdKJ78-Y2DOB2V14gt4RwbOPhHRNFgCM2zgw_JII1IpEPspIPEOGJE3mvrdbD_PIGjen9cIaFH8UYlLgkj-vHafj3fHNE**55c7b49d8678655c38668b8148924cd59ddf7ebfe4f74ba04335ac8a1a96b1ee*scjrdBgLXfdopg-H6x79_RwH2soRUrJcm8opXD0SGvc";

/** Prints results as PASS/FAIL lines and returns the number of failures. */
export function report(runtime, mode, results) {
  let failed = 0;
  for (const r of results) {
    console.log(`${r.ok ? "PASS" : "FAIL"} ${runtime} ${mode}: ${r.name}`);
    if (!r.ok) {
      failed++;
      console.log(r.error);
    }
  }
  return failed;
}
