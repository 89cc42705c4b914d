// DBSC proofs: the JWT a browser signs with a device-bound session's key
// and sends in the Secure-Session-Response header. Parsed strictly (a
// compact JWS of canonical base64url, typ "dbsc+jwt", ES256 or RS256, a
// challenge in jti) and verified with Web Crypto. Anything else is refused
// with a reason, never an exception the request would turn into a 500.
import { fromBase64url } from "../_lib/encoding.ts";

/** The signature algorithms this package verifies. */
export type Algorithm = "ES256" | "RS256";

/** Every algorithm, in the order a registration offers them. */
export const ALGORITHMS: readonly Algorithm[] = ["ES256", "RS256"];

/** A public key as a JWK, stripped to the members that define it. */
export type PublicJwk =
  | { kty: "EC"; crv: "P-256"; x: string; y: string }
  | { kty: "RSA"; n: string; e: string };

/** Why a proof was refused. */
export type ProofRefusal =
  | "malformed"
  | "algorithm"
  | "key"
  | "signature";

/** A proof refused for `reason`. */
export class ProofRefused extends Error {
  readonly reason: ProofRefusal;
  constructor(reason: ProofRefusal, message: string) {
    super(message);
    this.name = "ProofRefused";
    this.reason = reason;
  }
}

/** A proof as parsed, before its signature is checked. */
export interface Proof {
  alg: Algorithm;
  /** The key in the JWT header (registration), if any; not yet checked. */
  jwk: unknown;
  /** The challenge the proof answers. */
  jti: string;
  /** The registration's authorization value, echoed. */
  authorization: string | undefined;
  /** The signed part: the header and payload as sent. */
  signed: Uint8Array<ArrayBuffer>;
  signature: Uint8Array<ArrayBuffer>;
}

/** The longest Secure-Session-Response value looked at (an RSA-4096 proof is about 2 KB). */
export const PROOF_LIMIT = 8192;

const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

function malformed(message: string): never {
  throw new ProofRefused("malformed", message);
}

// A base64url JSON object of the JWT.
function jsonPart(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(fromBase64url(text)));
  } catch {
    malformed(`the proof's ${what} is not base64url JSON`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    malformed(`the proof's ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * Parses a proof: the header's value (an sf-string, or the bare JWT some
 * browsers send). Throws {@linkcode ProofRefused} for anything that is not
 * a DBSC proof this package can verify.
 */
export function parseProof(header: string): Proof {
  let text = header.trim();
  if (text.length > PROOF_LIMIT) malformed("the proof is too long");
  if (text.startsWith('"')) {
    // An sf-string; a JWT needs no escapes, and parameters are ignored.
    const end = text.indexOf('"', 1);
    if (end === -1) malformed("the proof's string is not closed");
    text = text.slice(1, end);
  }
  if (!COMPACT.test(text)) malformed("the proof is not a compact JWT");
  const [h, p, s] = text.split(".") as [string, string, string];
  const head = jsonPart(h, "header");
  const payload = jsonPart(p, "payload");
  if (head.typ !== "dbsc+jwt") malformed('the proof\'s typ is not "dbsc+jwt"');
  const alg = head.alg;
  if (alg !== "ES256" && alg !== "RS256") {
    throw new ProofRefused(
      "algorithm",
      `the proof's alg ${JSON.stringify(alg)} is not ES256 or RS256`,
    );
  }
  if (head.crit !== undefined) malformed("the proof has critical extensions");
  const { jti, authorization } = payload;
  if (typeof jti !== "string" || jti === "" || jti.length > 256) {
    malformed("the proof has no jti (the challenge)");
  }
  if (authorization !== undefined && typeof authorization !== "string") {
    malformed("the proof's authorization is not a string");
  }
  let signature: Uint8Array<ArrayBuffer>;
  try {
    signature = fromBase64url(s);
  } catch {
    malformed("the proof's signature is not base64url");
  }
  return {
    alg,
    jwk: head.jwk,
    jti,
    authorization,
    signed: encoder.encode(`${h}.${p}`),
    signature,
  };
}

function bytesOf(value: unknown, what: string): Uint8Array<ArrayBuffer> {
  if (typeof value !== "string") {
    throw new ProofRefused("key", `the key has no ${what}`);
  }
  try {
    return fromBase64url(value);
  } catch {
    throw new ProofRefused("key", `the key's ${what} is not base64url`);
  }
}

// P-256 (NIST, SEC 2): the field prime and the curve's b (a = -3).
const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;

function bigint(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const byte of bytes) n = (n << 8n) | BigInt(byte);
  return n;
}

// Whether (x, y) is a point of P-256: y^2 = x^3 - 3x + b (mod p). Not
// every Web Crypto checks this when it imports a key.
function onCurve(xb: Uint8Array, yb: Uint8Array): boolean {
  const x = bigint(xb);
  const y = bigint(yb);
  if (x >= P || y >= P) return false;
  const right = ((x * x % P) * x - 3n * x + B) % P;
  return (y * y - right) % P === 0n;
}

/**
 * The public key a registration proof carries, checked for `alg` and
 * stripped to what defines it: a P-256 point for ES256, an RSA modulus of
 * 2048 to 8192 bits and an odd exponent of at least 3 for RS256, each in
 * the fewest octets. A private member (`d`) is refused. Throws
 * {@linkcode ProofRefused} with reason `key`.
 */
export function publicJwk(jwk: unknown, alg: Algorithm): PublicJwk {
  if (jwk === null || typeof jwk !== "object" || Array.isArray(jwk)) {
    throw new ProofRefused("key", "the proof carries no key (jwk)");
  }
  const k = jwk as Record<string, unknown>;
  if ("d" in k || "p" in k) {
    throw new ProofRefused("key", "the jwk holds a private key");
  }
  if (alg === "ES256") {
    if (k.kty !== "EC" || k.crv !== "P-256") {
      throw new ProofRefused("key", "an ES256 key must be an EC P-256 key");
    }
    const x = bytesOf(k.x, "x");
    const y = bytesOf(k.y, "y");
    if (x.length !== 32 || y.length !== 32) {
      throw new ProofRefused("key", "a P-256 point has 32-byte coordinates");
    }
    if (!onCurve(x, y)) {
      throw new ProofRefused("key", "the point is not on the P-256 curve");
    }
    return { kty: "EC", crv: "P-256", x: k.x as string, y: k.y as string };
  }
  if (k.kty !== "RSA") {
    throw new ProofRefused("key", "an RS256 key must be an RSA key");
  }
  // Both in the fewest octets (RFC 7518): zeros in front would make a
  // small modulus look big, and Web Crypto would take it.
  const n = bytesOf(k.n, "n");
  const e = bytesOf(k.e, "e");
  if (n[0] === 0 || e[0] === 0) {
    throw new ProofRefused("key", "the key's n or e has a leading zero octet");
  }
  const bits = n.length * 8 - Math.clz32(n[0] ?? 0) + 24;
  if (bits < 2048 || bits > 8192) {
    throw new ProofRefused(
      "key",
      `an RS256 key must have a modulus of 2048 to 8192 bits; this one has ${bits}`,
    );
  }
  // e = 1 makes the padded hash its own signature (Node's Web Crypto
  // verifies it); an even e is no RSA key.
  const last = e[e.length - 1] ?? 0;
  if (e.length > 4 || (e.length === 1 && last < 3) || last % 2 === 0) {
    throw new ProofRefused(
      "key",
      "an RS256 key's exponent must be odd, at least 3 and at most 4 octets",
    );
  }
  return { kty: "RSA", n: k.n as string, e: k.e as string };
}

// An RS256 signature is as long as the key's modulus.
function modulusBytes(jwk: PublicJwk): number {
  const n = fromBase64url((jwk as { n: string }).n);
  let zeros = 0;
  while (zeros < n.length && n[zeros] === 0) zeros++;
  return n.length - zeros;
}

const PARAMS: Record<
  Algorithm,
  {
    import: EcKeyImportParams | RsaHashedImportParams;
    verify: EcdsaParams | AlgorithmIdentifier;
  }
> = {
  ES256: {
    import: { name: "ECDSA", namedCurve: "P-256" },
    verify: { name: "ECDSA", hash: "SHA-256" },
  },
  RS256: {
    import: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    verify: { name: "RSASSA-PKCS1-v1_5" },
  },
};

/**
 * Whether `proof` is signed by `jwk` (a key {@linkcode publicJwk} kept).
 * Throws {@linkcode ProofRefused}: `algorithm` when the proof's alg is not
 * the key's, `key` when Web Crypto refuses the key (a point off the curve),
 * `signature` when the signature does not verify or has the wrong length
 * (ES256 signatures are the 64 bytes r || s of JWS).
 */
export async function verifyProof(
  proof: Proof,
  jwk: PublicJwk,
): Promise<void> {
  const expected: Algorithm = jwk.kty === "EC" ? "ES256" : "RS256";
  if (proof.alg !== expected) {
    throw new ProofRefused(
      "algorithm",
      `the proof is ${proof.alg} but the session's key is for ${expected}`,
    );
  }
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey(
      "jwk",
      jwk as JsonWebKey,
      PARAMS[expected].import,
      false,
      ["verify"],
    );
  } catch {
    throw new ProofRefused("key", "the key is not a usable public key");
  }
  const length = expected === "ES256" ? 64 : modulusBytes(jwk);
  let ok = false;
  if (proof.signature.length === length) {
    try {
      ok = await crypto.subtle.verify(
        PARAMS[expected].verify,
        key,
        proof.signature,
        proof.signed,
      );
    } catch {
      ok = false;
    }
  }
  if (!ok) {
    throw new ProofRefused(
      "signature",
      "the proof's signature does not verify",
    );
  }
}
