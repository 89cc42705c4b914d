// DBSC proofs, parsed and verified: ES256 and RS256 signed by hand with
// Web Crypto; everything that is not a proof of the key is refused with
// its reason (never an exception the request would turn into a 500).
import assert from "node:assert/strict";
import {
  parseProof,
  type Proof,
  ProofRefused,
  publicJwk,
  verifyProof,
} from "../../_device_bound/proof.ts";
import { makeKey, signProof } from "../../_testing/dbsc_browser.ts";
import { fromBase64url, toBase64url } from "../../_lib/encoding.ts";

const es = await makeKey("ES256");
const es2 = await makeKey("ES256");
const rs = await makeKey("RS256");

const b64 = (value: unknown) =>
  toBase64url(new TextEncoder().encode(JSON.stringify(value)));

async function refusal(
  fn: () => unknown,
): Promise<string | undefined> {
  try {
    await fn();
    return undefined;
  } catch (error) {
    if (error instanceof ProofRefused) return error.reason;
    throw error;
  }
}

async function check(text: string, jwk: unknown): Promise<Proof> {
  const proof = parseProof(text);
  await verifyProof(proof, publicJwk(jwk, proof.alg));
  return proof;
}

Deno.test("proof: an ES256 proof verifies with the key in it, as an sf-string or bare", async () => {
  const text = await signProof(es, "c1", "auth-1", { withKey: true });
  for (const header of [text, `"${text}"`, ` "${text}";x=1 `]) {
    const proof = parseProof(header);
    assert.equal(proof.alg, "ES256");
    assert.equal(proof.jti, "c1");
    assert.equal(proof.authorization, "auth-1");
    const jwk = publicJwk(proof.jwk, "ES256");
    assert.deepEqual(jwk, {
      kty: "EC",
      crv: "P-256",
      x: es.jwk.x,
      y: es.jwk.y,
    });
    await verifyProof(proof, jwk);
  }
});

Deno.test("proof: an RS256 proof verifies; its signature is as long as the modulus", async () => {
  const text = await signProof(rs, "c2", undefined, { withKey: true });
  const proof = await check(text, rs.jwk);
  assert.equal(proof.alg, "RS256");
  assert.equal(proof.signature.length, 256);
});

Deno.test("proof: signed by another key, or changed after signing: signature", async () => {
  const other = await signProof(es2, "c1");
  assert.equal(await refusal(() => check(other, es.jwk)), "signature");
  const good = await signProof(es, "c1");
  const [h, , s] = good.split(".");
  const changed = `${h}.${b64({ jti: "c2" })}.${s}`;
  assert.equal(await refusal(() => check(changed, es.jwk)), "signature");
  // A DER-encoded ECDSA signature (not JWS r || s) is refused, not parsed.
  const der = `${h}.${good.split(".")[1]}.${
    toBase64url(new Uint8Array(72).fill(1))
  }`;
  assert.equal(await refusal(() => check(der, es.jwk)), "signature");
});

Deno.test("proof: alg none, HS256, or an RS256 proof against an ES256 key: algorithm", async () => {
  const none = `${b64({ alg: "none", typ: "dbsc+jwt" })}.${
    b64({ jti: "c1" })
  }.AA`;
  assert.equal(await refusal(() => parseProof(none)), "algorithm");
  const noneUpper = `${b64({ alg: "NONE", typ: "dbsc+jwt" })}.${
    b64({ jti: "c1" })
  }.AA`;
  assert.equal(await refusal(() => parseProof(noneUpper)), "algorithm");
  // "alg none" with an empty signature is not even a compact JWS.
  const empty = `${b64({ alg: "none", typ: "dbsc+jwt" })}.${
    b64({ jti: "c1" })
  }.`;
  assert.equal(await refusal(() => parseProof(empty)), "malformed");
  const hs = `${b64({ alg: "HS256", typ: "dbsc+jwt" })}.${
    b64({ jti: "c1" })
  }.AA`;
  assert.equal(await refusal(() => parseProof(hs)), "algorithm");
  const rsProof = parseProof(await signProof(rs, "c1"));
  assert.equal(
    await refusal(() => verifyProof(rsProof, publicJwk(es.jwk, "ES256"))),
    "algorithm",
  );
});

Deno.test("proof: not a DBSC JWT: malformed", async () => {
  const good = await signProof(es, "c1");
  const [, p, s] = good.split(".");
  const cases: [string, string][] = [
    ["empty", ""],
    ["two parts", `${p}.${s}`],
    ["four parts", `${good}.x`],
    ["not base64url", `!!.${p}.${s}`],
    ["not JSON", `${toBase64url(new Uint8Array([1, 2, 3]))}.${p}.${s}`],
    ["a JSON array", `${b64([1])}.${p}.${s}`],
    ["no typ", `${b64({ alg: "ES256" })}.${p}.${s}`],
    ["another typ", `${b64({ alg: "ES256", typ: "JWT" })}.${p}.${s}`],
    [
      "crit",
      `${b64({ alg: "ES256", typ: "dbsc+jwt", crit: ["x"] })}.${p}.${s}`,
    ],
    ["no jti", `${b64({ alg: "ES256", typ: "dbsc+jwt" })}.${b64({})}.${s}`],
    [
      "a number jti",
      `${b64({ alg: "ES256", typ: "dbsc+jwt" })}.${b64({ jti: 1 })}.${s}`,
    ],
    [
      "an object authorization",
      `${b64({ alg: "ES256", typ: "dbsc+jwt" })}.${
        b64({ jti: "c", authorization: {} })
      }.${s}`,
    ],
    ["an unclosed string", `"${good}`],
    ["too long", `${good}${"A".repeat(9000)}`],
    // The same bytes with the last character's spare bits set: a second
    // spelling of the signature, refused.
    ["non-canonical base64url", good.slice(0, -1) + "B"],
  ];
  for (const [what, text] of cases) {
    assert.equal(await refusal(() => parseProof(text)), "malformed", what);
  }
});

Deno.test("proof: keys that are not usable public keys: key", async () => {
  const cases: [string, unknown, "ES256" | "RS256"][] = [
    ["no jwk", undefined, "ES256"],
    ["a string", "key", "ES256"],
    ["a private key", { ...es.jwk, d: es.jwk.x }, "ES256"],
    ["another curve", { ...es.jwk, crv: "P-384" }, "ES256"],
    ["an RSA key for ES256", rs.jwk, "ES256"],
    ["short coordinates", { ...es.jwk, x: "AAAA" }, "ES256"],
    ["an EC key for RS256", es.jwk, "RS256"],
    ["RSA 1024", {
      kty: "RSA",
      n: toBase64url(new Uint8Array(128).fill(255)),
      e: "AQAB",
    }, "RS256"],
    ["no exponent", { kty: "RSA", n: rs.jwk.n }, "RS256"],
  ];
  for (const [what, jwk, alg] of cases) {
    assert.equal(await refusal(() => publicJwk(jwk, alg)), "key", what);
  }
  // A point that is not on the curve (not every Web Crypto checks).
  const off = {
    kty: "EC",
    crv: "P-256",
    x: toBase64url(new Uint8Array(32).fill(1)),
    y: toBase64url(new Uint8Array(32).fill(2)),
  };
  assert.equal(await refusal(() => publicJwk(off, "ES256")), "key");
  // Coordinates past the field prime.
  const big = { ...off, x: toBase64url(new Uint8Array(32).fill(255)) };
  assert.equal(await refusal(() => publicJwk(big, "ES256")), "key");
});

Deno.test("proof: an RSA key is as big as its modulus without leading zeros, its exponent odd and at least 3", async () => {
  // A 1024-bit key whose modulus is written with 160 zero octets in front:
  // 2304 bits as written, and Web Crypto takes it and verifies its proofs.
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 1024,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  );
  const { n, e } = await crypto.subtle.exportKey("jwk", pair.publicKey);
  const modulus = fromBase64url(n!);
  const padded = new Uint8Array(160 + modulus.length);
  padded.set(modulus, 160);
  const small = { kty: "RSA" as const, n: toBase64url(padded), e: e! };
  const proof = parseProof(
    await signProof(
      { alg: "RS256", privateKey: pair.privateKey, jwk: small },
      "c",
    ),
  );
  assert.equal(await refusal(() => verifyProof(proof, small)), undefined);
  assert.equal(await refusal(() => publicJwk(small, "RS256")), "key");
  // A zero octet before a 2048-bit modulus is refused too (RFC 7518: the
  // fewest octets), and the modulus itself is taken.
  const zero = new Uint8Array(1 + fromBase64url(rs.jwk.n!).length);
  zero.set(fromBase64url(rs.jwk.n!), 1);
  assert.equal(
    await refusal(() =>
      publicJwk({ ...rs.jwk, n: toBase64url(zero) }, "RS256")
    ),
    "key",
  );
  assert.equal(await refusal(() => publicJwk(rs.jwk, "RS256")), undefined);
  // e = 1 makes the signature the padded hash itself, which anyone can
  // write (Node's Web Crypto verifies it); even exponents are no RSA key.
  for (const exponent of ["AQ", "Ag", "AAEAAQ", "AQAA", ""]) {
    assert.equal(
      await refusal(() => publicJwk({ ...rs.jwk, e: exponent }, "RS256")),
      "key",
      exponent,
    );
  }
  assert.equal(
    await refusal(() => publicJwk({ ...rs.jwk, e: "Aw" }, "RS256")),
    undefined,
    "e = 3",
  );
});
