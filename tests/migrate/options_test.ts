// migrateFrom is checked when session() is called: one known value, and in
// cookie mode only beside the secret that library sealed with.
import assert from "node:assert/strict";
import { session } from "../../mod.ts";
import { MemoryStore } from "../../stores/memory.ts";
import { V1_SECRET } from "./_v1.ts";

Deno.test("migrateFrom: session() refuses values it does not know", () => {
  for (
    const value of [
      "hono-session@2",
      "hono-session",
      "hono-session@1.2.0",
      "HONO-SESSION@1",
      "",
      1,
      true,
      {},
      ["hono-session@1"],
    ]
  ) {
    assert.throws(
      () => session({ secret: V1_SECRET, migrateFrom: value as never }),
      (error: Error) =>
        error instanceof TypeError &&
        error.message.includes('migrateFrom must be "hono-session@1"'),
      JSON.stringify(value),
    );
  }
  assert.throws(
    () => session({ secret: V1_SECRET, migrateFrom: null as never }),
    /migrateFrom is null/,
  );
  assert.throws(
    () =>
      session({ secret: V1_SECRET, migratefrom: "hono-session@1" } as never),
    /unknown option "migratefrom"; did you mean "migrateFrom"\?/,
  );
});

Deno.test("migrateFrom: cookie mode needs the secret 1.x sealed with", () => {
  assert.throws(
    () => session({ migrateFrom: "hono-session@1" }),
    (error: Error) =>
      error instanceof TypeError &&
      /no secret is given .*give the same secret as before/.test(error.message),
  );
  // With a secret (or a list), a custom encoder, or a store: accepted.
  session({ secret: V1_SECRET, migrateFrom: "hono-session@1" });
  session({ secret: [V1_SECRET], migrateFrom: "hono-session@1" });
  session({ store: new Map(), migrateFrom: "hono-session@1" });
  session({ store: new MemoryStore(), migrateFrom: "hono-session@1" });
  session({ migrateFrom: undefined });
  session({
    secret: V1_SECRET,
    encoder: { encode: () => "x", decode: () => null },
    migrateFrom: "hono-session@1",
  });
  assert.throws(() =>
    // @ts-expect-error: only the libraries it reads type-check
    session({ secret: V1_SECRET, migrateFrom: "express-session" })
  );
});
