// Headless Chromium for the browser tests (e2e/): where it is, the flags
// it runs with, and what to say when it is missing. Debian's `chromium`,
// driven by playwright-core.

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
 * with software keys (no TPM): what issue 22 gives, and what Chromium 150
 * needed on the machine the design notes were written on.
 */
export const DBSC_FLAGS: readonly string[] = [
  "--enable-features=DeviceBoundSessions:RequireOriginTrialTokens/false/RefreshQuota/false,PersistDeviceBoundSessions,EnableBoundSessionCredentialsSoftwareKeysForManualTesting",
];

/** CHROMIUM_PATH, else the first `chromium` on the PATH (Debian: /usr/bin). */
export async function findChromium(): Promise<string | undefined> {
  const explicit = Deno.env.get("CHROMIUM_PATH");
  const candidates = explicit ? [explicit] : (Deno.env.get("PATH") ?? "")
    .split(":")
    .filter((dir) => dir !== "")
    .map((dir) => `${dir}/chromium`);
  for (const path of candidates) {
    try {
      const info = await Deno.stat(path);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return path;
    } catch {
      // not there
    }
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
