// A browser that speaks Device Bound Session Credentials, for the
// conformance kit and the tests: a cookie jar that drops cookies at their
// Max-Age, a key made with Web Crypto (ES256 or RS256), and the protocol
// as Chromium runs it. After a response that offers registration it
// registers; before a request, when the bound cookie is missing, it
// refreshes (a first POST gets a 403 and a challenge, a second carries the
// signed proof). Its proofs are built by hand, so tests can also forge,
// replay and break them.
import { toBase64url } from "../_lib/encoding.ts";
import { type Fetcher, Jar } from "./jar.ts";

/** The signature algorithms a browser may pick. */
export type DbscAlgorithm = "ES256" | "RS256";

/** A registration offer, as read from Secure-Session-Registration. */
export interface Offer {
  algorithms: string[];
  path: string;
  challenge: string;
  authorization: string | undefined;
}

/** The session config a registration or refresh answered. */
export interface SessionConfig {
  session_identifier: string;
  refresh_url: string;
  scope: Record<string, unknown>;
  credentials: { type: string; name: string; attributes: string }[];
  continue?: boolean;
}

const encoder = new TextEncoder();

function b64(text: string): string {
  return toBase64url(encoder.encode(text));
}

/** Reads the first offer of a Secure-Session-Registration header. */
export function readOffer(header: string | null): Offer | undefined {
  if (header === null) return undefined;
  const m = /^\(([^)]*)\)((?:;[a-z_]+="[^"]*")*)/.exec(header.trim());
  if (m === null) return undefined;
  const params = new Map<string, string>();
  for (const [, k, v] of m[2]!.matchAll(/;([a-z_]+)="([^"]*)"/g)) {
    params.set(k!, v!);
  }
  const path = params.get("path");
  const challenge = params.get("challenge");
  if (path === undefined || challenge === undefined) return undefined;
  return {
    algorithms: m[1]!.split(" ").filter((a) => a !== ""),
    path,
    challenge,
    authorization: params.get("authorization"),
  };
}

/** Reads a Secure-Session-Challenge header: the challenge and the session it is for. */
export function readChallenge(
  header: string | null,
): { challenge: string; id: string } | undefined {
  const m = header === null
    ? null
    : /^"([^"]*)";id="([^"]*)"/.exec(header.trim());
  return m ? { challenge: m[1]!, id: m[2]! } : undefined;
}

/** A key pair of the browser's, and the public half as a JWK. */
export interface BrowserKey {
  alg: DbscAlgorithm;
  privateKey: CryptoKey;
  jwk: JsonWebKey;
}

/** Makes a new key for `alg`, as a browser does for each session. */
export async function makeKey(alg: DbscAlgorithm): Promise<BrowserKey> {
  const pair = alg === "ES256"
    ? await crypto.subtle.generateKey(
      { name: "ECDSA", namedCurve: "P-256" },
      true,
      ["sign", "verify"],
    )
    : await crypto.subtle.generateKey(
      {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: "SHA-256",
      },
      true,
      ["sign", "verify"],
    );
  const full = await crypto.subtle.exportKey("jwk", pair.publicKey);
  const jwk: JsonWebKey = alg === "ES256"
    ? { kty: "EC", crv: "P-256", x: full.x!, y: full.y! }
    : { kty: "RSA", n: full.n!, e: full.e! };
  return { alg, privateKey: pair.privateKey, jwk };
}

/** What a hand-made proof carries; each part can be overridden. */
export interface ProofParts {
  /** The JWT header; default `{ alg, typ: "dbsc+jwt" }` plus `jwk` when asked. */
  header?: Record<string, unknown>;
  /** The JWT payload; default `{ jti }` plus `authorization` when given. */
  payload?: Record<string, unknown>;
  /** Put the public key in the header (registration). */
  withKey?: boolean;
}

/**
 * A DBSC proof for challenge `jti`, signed with `key` (a JWS: ECDSA r || s,
 * or RSASSA-PKCS1-v1_5).
 */
export async function signProof(
  key: BrowserKey,
  jti: string,
  authorization?: string,
  parts: ProofParts = {},
): Promise<string> {
  const header = parts.header ?? {
    alg: key.alg,
    typ: "dbsc+jwt",
    ...(parts.withKey ? { jwk: key.jwk } : {}),
  };
  const payload = parts.payload ??
    (authorization === undefined ? { jti } : { jti, authorization });
  const signed = `${b64(JSON.stringify(header))}.${
    b64(JSON.stringify(payload))
  }`;
  const params = key.alg === "ES256"
    ? { name: "ECDSA", hash: "SHA-256" }
    : { name: "RSASSA-PKCS1-v1_5" };
  const signature = new Uint8Array(
    await crypto.subtle.sign(params, key.privateKey, encoder.encode(signed)),
  );
  return `${signed}.${toBase64url(signature)}`;
}

/**
 * A POST to a refresh path (default: the one for cookie `sid`) with a
 * session identifier and, maybe, a proof, sent through `jar`: what a
 * browser sends, or someone replaying what a browser sent.
 */
export function refreshPost(
  jar: Jar,
  id: string,
  proof?: string,
  path = "/__dbsc/sid/refresh",
  extra: Record<string, string> = {},
): Promise<Response> {
  const headers: Record<string, string> = {
    ...extra,
    "sec-secure-session-id": `"${id}"`,
  };
  if (proof !== undefined) headers["secure-session-response"] = `"${proof}"`;
  return jar.fetch(path, { method: "POST", headers });
}

/** One step of the protocol, as the browser saw it. */
export interface DbscStep {
  step: "registration" | "challenge" | "refresh" | "ended";
  status: number;
}

/** A DBSC-capable browser driving an app. */
export class DbscBrowser {
  /** Its cookies, dropped at their Max-Age. */
  readonly jar: Jar;
  readonly key: BrowserKey;
  /** Every protocol request it made, in order. */
  readonly steps: DbscStep[] = [];
  /** The registered session's config, once registered. */
  config: SessionConfig | undefined;
  /** Headers every protocol request carries (an `Origin`, as Chromium sends). */
  readonly #headers: Record<string, string>;

  /**
   * @param options.headers Headers for the registration and refresh
   *   requests, such as the `Origin` a browser sends with them.
   */
  constructor(
    app: Fetcher,
    key: BrowserKey,
    options?: { headers?: Record<string, string> },
  ) {
    this.key = key;
    this.jar = new Jar(app, { maxAge: true });
    this.#headers = options?.headers ?? {};
  }

  /** A browser with a new key for `alg`. */
  static async create(
    app: Fetcher,
    alg: DbscAlgorithm = "ES256",
    options?: { headers?: Record<string, string> },
  ): Promise<DbscBrowser> {
    return new DbscBrowser(app, await makeKey(alg), options);
  }

  /** The bound cookie's name, once registered. */
  get cookieName(): string | undefined {
    return this.config?.credentials[0]?.name;
  }

  /**
   * Sends a request as the browser would: refreshing first when the bound
   * cookie is missing, registering after a response that offers it.
   */
  async fetch(path: string, init?: RequestInit): Promise<Response> {
    const name = this.cookieName;
    if (name !== undefined && this.jar.get(name) === undefined) {
      await this.refresh();
    }
    const res = await this.jar.fetch(path, init);
    const offer = readOffer(res.headers.get("secure-session-registration"));
    if (offer !== undefined && offer.algorithms.includes(this.key.alg)) {
      await this.register(offer);
    }
    return res;
  }

  /** Registers for `offer`: a proof with the public key in it. */
  async register(offer: Offer): Promise<Response> {
    const proof = await signProof(
      this.key,
      offer.challenge,
      offer.authorization,
      { withKey: true },
    );
    const headers: Record<string, string> = {
      ...this.#headers,
      "secure-session-response": `"${proof}"`,
    };
    if (offer.authorization !== undefined) {
      headers.authorization = offer.authorization;
    }
    const res = await this.jar.fetch(offer.path, { method: "POST", headers });
    this.steps.push({ step: "registration", status: res.status });
    if (res.status === 200) this.config = await res.clone().json();
    return res;
  }

  /**
   * Asks the refresh path for a challenge, as a browser's first refresh
   * request does, and returns it (throws unless the answer is a 403 with a
   * challenge for this session).
   */
  async challenge(): Promise<string> {
    const id = this.config?.session_identifier;
    if (id === undefined) throw new Error("no registered session");
    const res = await refreshPost(
      this.jar,
      id,
      undefined,
      this.config!.refresh_url,
    );
    const challenge = readChallenge(
      res.headers.get("secure-session-challenge"),
    );
    if (res.status !== 403 || challenge === undefined || challenge.id !== id) {
      throw new Error(
        `expected a 403 with a challenge for this session; got ${res.status}`,
      );
    }
    return challenge.challenge;
  }

  /**
   * Refreshes the registered session: a POST without a proof, and on its
   * 403 a second one with the challenge signed. Returns the last response.
   */
  async refresh(): Promise<Response> {
    const config = this.config;
    if (config === undefined) throw new Error("no registered session");
    const headers = {
      ...this.#headers,
      "sec-secure-session-id": `"${config.session_identifier}"`,
    };
    let res = await this.jar.fetch(config.refresh_url, {
      method: "POST",
      headers,
    });
    const challenge = readChallenge(
      res.headers.get("secure-session-challenge"),
    );
    if (res.status === 403 && challenge !== undefined) {
      this.steps.push({ step: "challenge", status: 403 });
      const proof = await signProof(this.key, challenge.challenge);
      res = await this.jar.fetch(config.refresh_url, {
        method: "POST",
        headers: { ...headers, "secure-session-response": `"${proof}"` },
      });
    }
    const body = res.status === 200 ? await res.clone().json() : undefined;
    if (body?.continue === false) {
      this.steps.push({ step: "ended", status: res.status });
      this.config = undefined;
    } else {
      this.steps.push({ step: "refresh", status: res.status });
      if (body !== undefined) this.config = body;
      // Any other 4xx ends the session in the browser.
      if (res.status >= 400 && res.status < 500) this.config = undefined;
    }
    return res;
  }
}
