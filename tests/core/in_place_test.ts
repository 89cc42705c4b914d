// Values changed in place: an object or array read from the session and
// edited (a property set, an item pushed or spliced, deep inside), then the
// handler returns without assigning anything. The most common way apps use
// sessions: the change is saved, in cookie mode and store mode; an edit in
// a request that fails is not, and leaks into no other request (not through
// the verified-cookie cache, not through the object a Map store keeps).
import assert from "node:assert/strict";
import { Hono } from "hono";
import { session, type SessionOptions } from "../../mod.ts";
import { eachMode, Jar } from "../_helpers.ts";

interface Values {
  cart?: string[];
  profile?: { name: string; address: { lines: string[] } };
  counts?: Record<string, number>;
}

function app(options: SessionOptions) {
  const app = new Hono()
    .use(session<Values>(options))
    .post("/start", (c) => {
      c.session.cart = ["apple"];
      c.session.profile = { name: "Ada", address: { lines: ["1 Main St"] } };
      c.session.counts = { views: 0 };
      return c.text("ok");
    })
    .get("/show", (c) => c.json({ ...c.session }))
    // Each edit reads a value and changes it in place; nothing is assigned.
    .post("/push", (c) => {
      c.session.cart!.push(c.req.query("item") ?? "pear");
      return c.text("ok");
    })
    .post("/splice", (c) => {
      c.session.cart!.splice(0, 1);
      return c.text("ok");
    })
    .post("/deep", (c) => {
      const profile = c.session.profile!;
      profile.name = "Ada L.";
      profile.address.lines.push("London");
      return c.text("ok");
    })
    .post("/count", (c) => {
      c.session.counts!.views! += 1;
      return c.text("ok");
    })
    // Through Object.values / Object.entries, not a property read.
    .post("/each", (c) => {
      for (const value of Object.values(c.session)) {
        if (Array.isArray(value)) value.push("via values");
      }
      for (const [key, value] of Object.entries(c.session)) {
        if (key === "counts") (value as Record<string, number>).views = 99;
      }
      return c.text("ok");
    })
    .post("/fail", (c) => {
      c.session.cart!.push("lost");
      c.session.profile!.address.lines.length = 0;
      throw new Error("the handler failed after editing in place");
    })
    .get("/changed", (c) => {
      c.session.cart!.push("x");
      return c.text(String(c.session.hasChanged));
    })
    .get("/look", (c) => c.text(String(c.session.cart!.length)));
  app.onError((err, c) => c.text(err.message, 500));
  return app;
}

async function show(jar: Jar): Promise<Values> {
  return await (await jar.fetch("/show")).json();
}

eachMode("in place: an array pushed to and spliced is saved", async (mode) => {
  const jar = new Jar(app(mode.options()));
  await jar.fetch("/start", { method: "POST" });
  await jar.fetch("/push?item=pear", { method: "POST" });
  assert.deepEqual((await show(jar)).cart, ["apple", "pear"]);
  await jar.fetch("/push?item=plum", { method: "POST" });
  await jar.fetch("/splice", { method: "POST" });
  assert.deepEqual((await show(jar)).cart, ["pear", "plum"]);
});

eachMode("in place: an object edited deep inside is saved", async (mode) => {
  const jar = new Jar(app(mode.options()));
  await jar.fetch("/start", { method: "POST" });
  await jar.fetch("/deep", { method: "POST" });
  await jar.fetch("/count", { method: "POST" });
  await jar.fetch("/count", { method: "POST" });
  const values = await show(jar);
  assert.deepEqual(values.profile, {
    name: "Ada L.",
    address: { lines: ["1 Main St", "London"] },
  });
  assert.deepEqual(values.counts, { views: 2 });
});

eachMode(
  "in place: values reached through Object.values and Object.entries are saved when edited",
  async (mode) => {
    const jar = new Jar(app(mode.options()));
    await jar.fetch("/start", { method: "POST" });
    await jar.fetch("/each", { method: "POST" });
    const values = await show(jar);
    assert.deepEqual(values.cart, ["apple", "via values"]);
    assert.deepEqual(values.counts, { views: 99 });
  },
);

eachMode(
  "in place: an object reached only through its property descriptor is saved when edited",
  async (mode) => {
    const a = new Hono()
      .use(session<Values>(mode.options()))
      .post("/start", (c) => {
        c.session.cart = ["apple"];
        return c.text("ok");
      })
      .post("/edit", (c) => {
        // As a deep-copy helper reads a property.
        const cart = Object.getOwnPropertyDescriptor(c.session, "cart")!;
        (cart.value as string[]).push("pear");
        return c.text("ok");
      })
      .get("/cart", (c) => c.json(c.session.cart));
    const jar = new Jar(a);
    await jar.fetch("/start", { method: "POST" });
    await jar.fetch("/edit", { method: "POST" });
    assert.deepEqual(await (await jar.fetch("/cart")).json(), [
      "apple",
      "pear",
    ]);
  },
);

eachMode(
  "in place: hasChanged sees an edit in place; reading an object without editing it saves nothing",
  async (mode) => {
    const jar = new Jar(app(mode.options()));
    await jar.fetch("/start", { method: "POST" });
    assert.deepEqual(await jar.text("/changed"), [200, "true"]);
    assert.deepEqual(await jar.text("/look"), [200, "2"]);
    assert.equal(jar.last.length, 0, "a read of an object sets no cookie");
  },
);

eachMode(
  "in place: an edit in a request that fails is not saved, and the next request with the same cookie sees the values as they were",
  async (mode) => {
    const jar = new Jar(app(mode.options()));
    await jar.fetch("/start", { method: "POST" });
    const before = await show(jar);
    const cookie = jar.header();
    const [status] = await jar.text("/fail", { method: "POST" });
    assert.equal(status, 500);
    assert.equal(jar.last.length, 0);
    // The same cookie again: in cookie mode the verified-cookie cache holds
    // the values; a Map store hands back the object it keeps.
    const again = new Jar(jar.app);
    const res = await again.fetch("/show", { headers: { cookie } });
    assert.deepEqual(await res.json(), before);
  },
);

eachMode(
  "in place: an edited session's old cookie still opens its old values (cookie mode: the cache is not the edited copy)",
  async (mode) => {
    const jar = new Jar(app(mode.options()));
    await jar.fetch("/start", { method: "POST" });
    const oldCookie = jar.header();
    await show(jar); // parsed once, now shared between requests
    await jar.fetch("/deep", { method: "POST" });
    const res = await new Jar(jar.app).fetch("/show", {
      headers: { cookie: oldCookie },
    });
    const values: Values = await res.json();
    if (mode.store) {
      // One id, one session: the edit is what the store holds.
      assert.deepEqual(values.profile?.address.lines, ["1 Main St", "London"]);
    } else {
      assert.deepEqual(values.profile, {
        name: "Ada",
        address: { lines: ["1 Main St"] },
      });
    }
  },
);
