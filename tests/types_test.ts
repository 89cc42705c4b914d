// The typing contract: each file under tests/types is type-checked on its
// own (the global augmentation must not leak into the others). Every
// `@ts-expect-error` line in them must meet a real error, or the check fails.
import assert from "node:assert/strict";
import { writeStrictConfig } from "../support/strict_config.ts";

const root = new URL("../", import.meta.url);

async function check(
  path: string,
  config?: string,
): Promise<{ ok: boolean; output: string }> {
  const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--quiet", ...(config ? ["--config", config] : []), path],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    ok: success,
    output: decoder.decode(stdout) + decoder.decode(stderr),
  };
}

for (
  const name of [
    "chain_check.ts",
    "global_check.ts",
    "refine_check.ts",
    "store_check.ts",
    "seed_typing_check.ts",
  ]
) {
  Deno.test(`types: tests/types/${name} type-checks`, async () => {
    const { ok, output } = await check(`tests/types/${name}`);
    assert.ok(ok, output);
  });
}

Deno.test("types: an app type-checks under strict, exactOptionalPropertyTypes and noUncheckedIndexedAccess", async () => {
  const config = await writeStrictConfig();
  try {
    const { ok, output } = await check(
      "tests/types/strict_app_check.ts",
      config,
    );
    assert.ok(ok, output);
  } finally {
    await Deno.remove(config.slice(0, config.lastIndexOf("/")), {
      recursive: true,
    });
  }
});

Deno.test("types: a file where an expected error does not happen fails the check", async () => {
  const file = new URL(
    "./types/_unused_expect_error_check.ts",
    import.meta.url,
  );
  await Deno.writeTextFile(
    file,
    [
      'import { Hono } from "hono";',
      'import { session } from "@x/hono-session";',
      'new Hono().use(session<{ userId?: string }>()).get("/", (c) => {',
      "  // @ts-expect-error this line is fine, so the directive is unused",
      "  const id: string | undefined = c.session.userId;",
      "  return c.text(String(id));",
      "});",
      "",
    ].join("\n"),
  );
  try {
    const { ok, output } = await check(
      "tests/types/_unused_expect_error_check.ts",
    );
    assert.equal(ok, false);
    assert.match(output, /TS2578|Unused '@ts-expect-error'/);
  } finally {
    await Deno.remove(file);
  }
});
