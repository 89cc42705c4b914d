// Headless Chromium for the browser tests (e2e/): where it is, the flags
// it runs with, and what to say when it is missing. Debian's `chromium`,
// driven by playwright-core; for device-bound sessions (DBSC), Debian's
// Chromium 150, which `deno task e2e:setup` extracts into .cache/.

/** Flags for headless Chromium in a container, without a sandbox or GPU. */
export const CHROMIUM_FLAGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Flags that turn on Device Bound Session Credentials in Chromium on Linux,
 * with software keys (no TPM): what Chromium 150 needs. (Chromium 156
 * accepts them, receives the registration header, and never registers.)
 */
export const DBSC_FLAGS: readonly string[] = [
  "--enable-features=DeviceBoundSessions:RequireOriginTrialTokens/false/RefreshQuota/false,PersistDeviceBoundSessions,EnableBoundSessionCredentialsSoftwareKeysForManualTesting",
];

/** Whether `path` is a file that can be run. */
async function isProgram(path: string): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** CHROMIUM_PATH, else the first `chromium` on the PATH (Debian: /usr/bin). */
export async function findChromium(): Promise<string | undefined> {
  const explicit = Deno.env.get("CHROMIUM_PATH");
  const candidates = explicit ? [explicit] : (Deno.env.get("PATH") ?? "")
    .split(":")
    .filter((dir) => dir !== "")
    .map((dir) => `${dir}/chromium`);
  for (const path of candidates) {
    if (await isProgram(path)) return path;
  }
  return undefined;
}

/** What a browser test says when Chromium is missing. */
export function missingChromium(): string {
  return `no Chromium (${
    Deno.env.get("CHROMIUM_PATH") ?? "chromium on the PATH"
  }): install it (apt-get install -y chromium) or set CHROMIUM_PATH`;
}

/** What `chromium --version` says (its first line), or "Chromium" if it cannot. */
export async function chromiumVersion(path: string): Promise<string> {
  try {
    const { stdout } = await new Deno.Command(path, {
      args: ["--version"],
      stdout: "piped",
      stderr: "null",
    }).output();
    return new TextDecoder().decode(stdout).split("\n")[0]!.trim() ||
      "Chromium";
  } catch {
    return "Chromium";
  }
}

/**
 * The Debian package version of the Chromium the DBSC browser test runs:
 * 150, still in bookworm's main archive, which registers and refreshes
 * with {@linkcode DBSC_FLAGS}.
 */
export const DBSC_CHROMIUM_DEBIAN = "150.0.7871.100-1~deb12u1";

/** What its `--version` starts with. */
export const DBSC_CHROMIUM_VERSION = "Chromium 150.0.7871.100";

/**
 * Where `deno task e2e:setup` puts it: the package's `usr/lib/chromium`,
 * in the checkout's .cache folder (ignored by git).
 */
export const DBSC_CHROMIUM_DIR: string =
  new URL("../.cache/chromium-150/", import.meta.url).pathname;

/** The program in {@linkcode DBSC_CHROMIUM_DIR}. */
export const DBSC_CHROMIUM_CACHED = `${DBSC_CHROMIUM_DIR}chromium`;

/**
 * The Chromium for the DBSC browser test: CHROMIUM_DBSC_PATH, else the
 * copy `deno task e2e:setup` extracted into .cache/chromium-150; undefined
 * when neither is there. (Never the Chromium on the PATH: Debian's 156
 * does not start DBSC sessions.)
 */
export async function findDbscChromium(): Promise<string | undefined> {
  const path = Deno.env.get("CHROMIUM_DBSC_PATH") ?? DBSC_CHROMIUM_CACHED;
  return await isProgram(path) ? path : undefined;
}

/** What the DBSC browser test says when that Chromium is missing. */
export function missingDbscChromium(): string {
  const explicit = Deno.env.get("CHROMIUM_DBSC_PATH");
  return explicit !== undefined
    ? `no Chromium at CHROMIUM_DBSC_PATH (${explicit})`
    : `no DBSC-capable Chromium in .cache/chromium-150: \`deno task e2e:setup\` extracts Debian's chromium ${DBSC_CHROMIUM_DEBIAN} there (apt-get download + dpkg -x; it needs apt and the Chromium 156 package's libraries: apt-get install -y chromium), or set CHROMIUM_DBSC_PATH to a Chromium that starts DBSC sessions with the flags`;
}
