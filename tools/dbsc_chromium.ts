// Gets the Chromium the device-bound browser test runs
// (e2e/device_bound_browser_test.ts): Debian's chromium 150, the last one
// that starts DBSC sessions on Linux with the flags (156 receives the
// registration header and never registers). Bookworm's main archive still
// has it, beside the 156 that bookworm-security installs; this fetches the
// two packages with `apt-get download` (apt checks them against the signed
// archive), unpacks them with `dpkg -x`, and keeps their usr/lib/chromium in
// .cache/chromium-150/ (ignored by git). The program runs beside the
// installed Chromium, on the libraries that package brought
// (`apt-get install -y chromium` first).
//
// `deno task e2e:setup`. With CHROMIUM_DBSC_PATH set, only checks that
// program. Ends with one line saying what the test will run; exits non-zero
// when there is none.
import {
  DBSC_CHROMIUM_CACHED,
  DBSC_CHROMIUM_DEBIAN,
  DBSC_CHROMIUM_DIR,
  DBSC_CHROMIUM_VERSION,
} from "../support/chromium.ts";

const PACKAGES = ["chromium", "chromium-common"];

async function run(
  cmd: string,
  args: string[],
  cwd?: string,
): Promise<{ ok: boolean; out: string }> {
  try {
    const { success, stdout, stderr } = await new Deno.Command(cmd, {
      args,
      cwd,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    return {
      ok: success,
      out: (decoder.decode(stdout) + decoder.decode(stderr)).trim(),
    };
  } catch (error) {
    return { ok: false, out: `${cmd}: ${(error as Error).message}` };
  }
}

/** The first line `path --version` prints, or undefined if it does not run. */
async function version(path: string): Promise<string | undefined> {
  const { ok, out } = await run(path, ["--version"]);
  return ok ? out.split("\n")[0]!.trim() : undefined;
}

function fail(message: string): never {
  console.error(`e2e:setup: ${message}`);
  Deno.exit(1);
}

const explicit = Deno.env.get("CHROMIUM_DBSC_PATH");
if (explicit !== undefined) {
  const v = await version(explicit);
  if (v === undefined) fail(`CHROMIUM_DBSC_PATH (${explicit}) does not run`);
  console.log(`e2e:setup: the DBSC browser test runs ${v} (${explicit})`);
  Deno.exit(0);
}

const have = await version(DBSC_CHROMIUM_CACHED);
if (have?.startsWith(DBSC_CHROMIUM_VERSION)) {
  console.log(
    `e2e:setup: the DBSC browser test runs ${have} (${DBSC_CHROMIUM_CACHED}), already there`,
  );
  Deno.exit(0);
}

for (const tool of ["apt-get", "dpkg"]) {
  if (!(await run(tool, ["--version"])).ok) {
    fail(
      `${tool} is missing: Debian's chromium ${DBSC_CHROMIUM_DEBIAN} can only be fetched with apt; set CHROMIUM_DBSC_PATH to a Chromium that starts DBSC sessions instead`,
    );
  }
}

const work = await Deno.makeTempDir({ prefix: "hono-session-chromium-" });
try {
  const wanted = PACKAGES.map((p) => `${p}=${DBSC_CHROMIUM_DEBIAN}`);
  console.log(`e2e:setup: apt-get download ${wanted.join(" ")}`);
  let got = await run("apt-get", ["download", ...wanted], work);
  if (!got.ok && Deno.uid?.() === 0) {
    // A fresh container has no package lists yet.
    console.log("e2e:setup: apt-get update");
    await run("apt-get", ["update"]);
    got = await run("apt-get", ["download", ...wanted], work);
  }
  if (!got.ok) {
    fail(
      `apt-get download failed (is ${DBSC_CHROMIUM_DEBIAN} still in the archive? \`apt-cache policy chromium\` lists the versions apt knows):\n${got.out}`,
    );
  }
  const debs = [...Deno.readDirSync(work)]
    .map((e) => e.name)
    .filter((n) => n.endsWith(".deb"));
  if (debs.length !== PACKAGES.length) {
    fail(`expected ${PACKAGES.length} packages, got ${debs.join(", ")}`);
  }
  const root = `${work}/root`;
  for (const deb of debs) {
    const x = await run("dpkg", ["-x", `${work}/${deb}`, root]);
    if (!x.ok) fail(`dpkg -x ${deb} failed:\n${x.out}`);
  }
  // Only the program and what it loads beside it; the rest of the
  // packages (the /usr/bin wrapper, docs, icons) is not needed.
  await Deno.remove(DBSC_CHROMIUM_DIR, { recursive: true }).catch(() => {});
  await Deno.mkdir(new URL("../.cache/", import.meta.url), {
    recursive: true,
  });
  await Deno.rename(`${root}/usr/lib/chromium`, DBSC_CHROMIUM_DIR);
} finally {
  await Deno.remove(work, { recursive: true }).catch(() => {});
}

const now = await version(DBSC_CHROMIUM_CACHED);
if (!now?.startsWith(DBSC_CHROMIUM_VERSION)) {
  fail(
    `${DBSC_CHROMIUM_CACHED} does not run (${
      now ?? "no version"
    }): are the Chromium package's libraries installed? (apt-get install -y chromium)`,
  );
}
console.log(
  `e2e:setup: the DBSC browser test runs ${now} (${DBSC_CHROMIUM_CACHED})`,
);
