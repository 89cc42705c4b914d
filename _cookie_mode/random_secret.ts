// Without a `secret`, cookie mode seals with a key each process draws at
// random: each worker of `deno serve --parallel` and each Workers isolate
// draws its own. Fine for trying things out; in production it signs users
// out at every restart and whenever another instance answers. This says so,
// once per process, on the console, when it matters:
// - when the environment says production (NODE_ENV=production, Deno
//   Deploy's DENO_DEPLOYMENT_ID, a Cloudflare Workers deployment answering
//   on a public host), seen at the first session a middleware handles;
// - when a cookie sealed with another such random key arrives after this
//   process has sealed one of its own: another process, worker or isolate
//   is issuing sessions beside this one (a restart alone does not count:
//   the old cookies arrive before the new process has sealed anything).
// Tests and local development show none of these signs and stay quiet.
//
// Reading the environment works on every runtime and never throws or
// prompts: Deno's variables only when the permission is already granted,
// Node's and Bun's from `process.env`.

/** The globals the environment is read from (a parameter, for tests). */
export interface Globals {
  Deno?: {
    env?: { get(name: string): string | undefined };
    permissions?: {
      querySync?(descriptor: { name: "env"; variable: string }): {
        state: string;
      };
    };
  };
  process?: { env?: Record<string, string | undefined> };
  navigator?: { userAgent?: string };
}

let warned = false;

/**
 * Prints the warning, the first time only in this process: what a random
 * secret means, why it is said now, and what to do.
 */
export function warnRandomSecret(reason: string): void {
  if (warned) return;
  warned = true;
  console.warn(
    `@x/hono-session: session() was given no secret, so cookie-mode sessions are sealed with a key this process drew at random (${reason}). ` +
      "They end when the process restarts and do not open in other processes, deno serve --parallel workers or Worker isolates. " +
      "Set a secret of 32 characters or more (openssl rand -base64 32), read from the environment: session({ secret }).",
  );
}

// The variable's value, or undefined when it is unset or cannot be read
// without asking (Deno without the permission) or at all.
function readEnv(globals: Globals, name: string): string | undefined {
  try {
    const deno = globals.Deno;
    if (deno?.env) {
      const query = deno.permissions?.querySync;
      if (
        query &&
        query.call(deno.permissions, { name: "env", variable: name }).state !==
          "granted"
      ) return undefined;
      return deno.env.get(name);
    }
    return globals.process?.env?.[name];
  } catch {
    return undefined;
  }
}

function isLoopback(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  return host === "localhost" || host.endsWith(".localhost") ||
    host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Why the environment looks like production, or undefined when it does
 * not. `url` is a request's: a Workers deployment is told from `wrangler
 * dev` by its host.
 */
export function productionSign(
  url: string,
  globals: Globals = globalThis as Globals,
): string | undefined {
  if (readEnv(globals, "NODE_ENV") === "production") {
    return "NODE_ENV is production";
  }
  if (readEnv(globals, "DENO_DEPLOYMENT_ID")) {
    return "DENO_DEPLOYMENT_ID is set: this is Deno Deploy";
  }
  if (
    globals.navigator?.userAgent === "Cloudflare-Workers" && !isLoopback(url)
  ) return "this is a Cloudflare Workers deployment";
  return undefined;
}
