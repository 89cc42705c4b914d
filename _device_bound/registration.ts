// The registration endpoint: the browser answers the challenge a
// regenerate() offered with a proof signed by a new key, whose public half
// it sends in the proof. A proof that verifies, answers a live challenge
// of the session its cookie names and echoes the challenge's
// authorization value binds the session: the key is kept in the session's
// record, a random identifier names it, and its cookie lasts the bound
// lifetime from now on. Anything else is a 4xx that changes nothing.
import type { Context } from "hono";
import { SessionConflictError } from "../session_conflict_error.ts";
import type { SessionRecord } from "../session_store.ts";
import { expiredReason } from "../_core/lifetime.ts";
import { isRecord } from "../_core/record.ts";
import { randomToken } from "../_lib/random.ts";
import {
  type Bound,
  findChallenge,
  isBound,
  limitOf,
  readBinding,
} from "./binding.ts";
import { RESPONSE_HEADER } from "./headers.ts";
import {
  parseProof,
  type Proof,
  ProofRefused,
  type PublicJwk,
  publicJwk,
  verifyProof,
} from "./proof.ts";
import { type Endpoint, granted, refused } from "./answer.ts";

/** How many times a registration retries when the session changes under it. */
const ATTEMPTS = 3;

/** Answers a registration (a POST to the registration path). */
export async function register(e: Endpoint, c: Context): Promise<Response> {
  const refuse = (
    reason: Parameters<typeof refused>[3],
    status: 400 | 403,
    message: string,
  ) => refused(e, c, "registration", reason, status, message);

  const { value } = e.options.cookies.read(c);
  const loaded = value === undefined ? undefined : await e.inner.load(value, c);
  const now = Date.now();
  if (
    loaded === undefined || loaded.migrated !== undefined ||
    expiredReason(loaded.meta, e.options, now)
  ) {
    return refuse("session", 403, "no session to register");
  }
  const pending = readBinding(loaded.meta.binding);
  if (pending === null || isBound(pending)) {
    return refuse("session", 403, "this session is already registered");
  }

  const header = c.req.raw.headers.get(RESPONSE_HEADER);
  if (header === null) return refuse("malformed", 400, "no proof");
  let proof: Proof;
  let jwk: PublicJwk;
  try {
    proof = parseProof(header);
    if (!e.settings.algorithms.includes(proof.alg)) {
      throw new ProofRefused("algorithm", `${proof.alg} was not offered`);
    }
    jwk = publicJwk(proof.jwk, proof.alg);
    await verifyProof(proof, jwk);
  } catch (error) {
    if (!(error instanceof ProofRefused)) throw error;
    return refuse(
      error.reason,
      error.reason === "malformed" ? 400 : 403,
      error.message,
    );
  }

  const id = randomToken();
  const key = loaded.handle.key;
  let record: SessionRecord = loaded.handle.record;
  let pointed = false;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    // The challenge must still be this session's, unanswered and live, in
    // the record this attempt writes over.
    const binding = readBinding(record.binding);
    const challenge = binding == null || isBound(binding)
      ? undefined
      : findChallenge(binding.challenges, proof.jti);
    if (challenge === undefined) {
      if (pointed) await e.sessions.forget(id, c);
      return refuse(
        "challenge",
        403,
        "the proof does not answer a live challenge of this session",
      );
    }
    if (proof.authorization !== challenge.authorization) {
      if (pointed) await e.sessions.forget(id, c);
      return refuse(
        "authorization",
        403,
        "the proof does not echo the registration's authorization",
      );
    }
    const time = Date.now();
    const bound: Bound = {
      id,
      alg: proof.alg,
      key: jwk,
      proven: time,
      until: time + e.settings.lifetimeMs,
    };
    const next: SessionRecord = { ...record, binding: bound };
    if (!pointed) {
      await e.sessions.point(
        id,
        { session: key, previous: [] },
        limitOf(next),
        c,
      );
      pointed = true;
    }
    try {
      await e.store.set(key, next, c);
      return granted(e, c, loaded.handle.token, next, bound, "registered");
    } catch (error) {
      if (!(error instanceof SessionConflictError)) throw error;
    }
    // Another request changed the session meanwhile: read it again.
    const again = await e.store.get(key, c);
    if (!isRecord(again) || expiredReason(again, e.options, Date.now())) {
      await e.sessions.forget(id, c);
      return refuse("session", 403, "the session ended while registering");
    }
    record = again;
  }
  await e.sessions.forget(id, c);
  throw new SessionConflictError(
    `the session kept changing while registering; gave up after ${ATTEMPTS} attempts`,
  );
}
