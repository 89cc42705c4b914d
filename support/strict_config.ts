// A Deno config with the strictest compiler options users turn on
// (`strict`, `exactOptionalPropertyTypes`, `noUncheckedIndexedAccess`) and
// the project's import map, for type-checking the sources and a consumer
// app under them.

const root = new URL("../", import.meta.url);

/** The compiler options the strict checks use. */
export const STRICT_OPTIONS = {
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
} as const;

/**
 * Writes the strict config into a temporary folder and returns its path.
 * Local entries of the import map are made absolute, so the config works
 * from anywhere.
 */
export async function writeStrictConfig(): Promise<string> {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", root)),
  ) as { imports: Record<string, string>; unstable?: string[] };
  const imports: Record<string, string> = {};
  for (const [name, target] of Object.entries(config.imports)) {
    imports[name] = target.startsWith("./")
      ? new URL(target, root).href
      : target;
  }
  const dir = await Deno.makeTempDir({ prefix: "hono-session-strict-" });
  const path = `${dir}/deno.json`;
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      imports,
      unstable: config.unstable,
      compilerOptions: STRICT_OPTIONS,
    }),
  );
  return path;
}
