// The refresh endpoint: the browser asks for a new session cookie by the
// session's identifier (its cookie has usually expired). Without a proof
// it gets a 403 with a fresh challenge; with a proof signed by the
// registered key over a live challenge, the session moves to a new id and
// the browser gets that cookie, for the bound lifetime, and the session
// config again. A refresh made while the old cookie was still live (a
// browser refreshing early) leaves that cookie forwarded to the session
// for a few seconds, for the requests already on their way with it. A
// refresh for a session that is over is told to stop.
import type { Context } from "hono";
import { SessionConflictError } from "../session_conflict_error.ts";
import type { SessionRecord } from "../session_store.ts";
import { expiredReason } from "../_core/lifetime.ts";
import { readCookie } from "../_http/cookies.ts";
import { randomToken } from "../_lib/random.ts";
import {
  type Bound,
  findChallenge,
  FORWARD_MS,
  limitOf,
  movedPointer,
  newChallenge,
  withChallenge,
  withFrom,
} from "./binding.ts";
import {
  CHALLENGE_HEADER,
  challengeHeader,
  RESPONSE_HEADER,
  SESSION_ID_HEADER,
  stringItem,
} from "./headers.ts";
import { parseProof, type Proof, ProofRefused, verifyProof } from "./proof.ts";
import { ended, type Endpoint, granted, refused, report } from "./answer.ts";
import type { Found } from "./sessions.ts";

/**
 * How many times a refresh tries when the session changes under it. Each
 * try that fails lost to a request that changed or moved the session, and
 * the first refresh to move it spends the challenge: a few requests racing
 * (the same proof twice and a regenerate(), say) settle well within this.
 */
const ATTEMPTS = 8;

const IDENTIFIER = /^[A-Za-z0-9_-]{43}$/;

/** Answers a refresh (a POST to the refresh path). */
export async function refresh(e: Endpoint, c: Context): Promise<Response> {
  const id = stringItem(c.req.raw.headers.get(SESSION_ID_HEADER));
  if (id === undefined || !IDENTIFIER.test(id)) {
    return refused(e, c, "refresh", "malformed", 400, "no session identifier");
  }
  const header = c.req.raw.headers.get(RESPONSE_HEADER);
  let proof: Proof | undefined;
  if (header !== null) {
    try {
      proof = parseProof(header);
    } catch (error) {
      if (!(error instanceof ProofRefused)) throw error;
      return refused(
        e,
        c,
        "refresh",
        error.reason,
        error.reason === "malformed" ? 400 : 403,
        error.message,
      );
    }
  }
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      const found = await e.sessions.find(id, c);
      if (found === "unknown" || found === "ended") return ended(e, c);
      if (expiredReason(found.record, e.options, Date.now())) {
        await e.store.delete(found.key, c);
        await e.sessions.forget(id, c);
        return ended(e, c);
      }
      // Browser-session cookies: the browser was closed since (its exists
      // cookie is gone), so the session is over for it, as without binding.
      if (
        (found.record.persistent ?? e.options.persistent) === false &&
        readCookie(c, e.options.cookies.existsWireName) === undefined
      ) return ended(e, c);
      return proof === undefined
        ? await challenge(e, c, found)
        : await answer(e, c, found, proof);
    } catch (error) {
      if (!(error instanceof SessionConflictError)) throw error;
      // Another request changed the session meanwhile: find it again.
    }
  }
  return c.text(
    "the session kept changing; try again",
    503,
    { "Cache-Control": "no-store", "Retry-After": "1" },
  );
}

// No proof yet: a 403 with a challenge to sign, kept in the record.
async function challenge(
  e: Endpoint,
  c: Context,
  found: Found,
): Promise<Response> {
  const fresh = newChallenge(e.settings.challengeMs, false);
  await e.store.set(found.key, {
    ...found.record,
    binding: {
      ...found.binding,
      challenges: withChallenge(found.binding.challenges, fresh),
    },
  }, c);
  report(e, { type: "device-bound", step: "challenged" }, c);
  return c.text("sign the challenge", 403, {
    "Cache-Control": "no-store",
    [CHALLENGE_HEADER]: challengeHeader(fresh.value, found.binding.id),
  });
}

// A proof: from the registered key, over a live challenge of this session.
async function answer(
  e: Endpoint,
  c: Context,
  found: Found,
  proof: Proof,
): Promise<Response> {
  const { binding } = found;
  try {
    await verifyProof(proof, binding.key);
  } catch (error) {
    if (!(error instanceof ProofRefused)) throw error;
    return refused(e, c, "refresh", error.reason, 403, error.message);
  }
  if (findChallenge(binding.challenges, proof.jti) === undefined) {
    // Genuine but stale, or replayed: refused, with a fresh challenge a
    // browser holding the key can sign (one that raced its own refresh).
    const fresh = newChallenge(e.settings.challengeMs, false);
    await e.store.set(found.key, {
      ...found.record,
      binding: {
        ...binding,
        challenges: withChallenge(binding.challenges, fresh),
      },
    }, c);
    return refused(
      e,
      c,
      "refresh",
      "challenge",
      403,
      "the proof does not answer a live challenge of this session",
      { [CHALLENGE_HEADER]: challengeHeader(fresh.value, binding.id) },
    );
  }
  // Proven: a new id, the challenges spent, the lifetime counted anew.
  const now = Date.now();
  const bound: Bound = {
    id: binding.id,
    alg: binding.alg,
    key: binding.key,
    proven: now,
    until: now + e.settings.lifetimeMs,
    from: withFrom(binding.from, found.key),
  };
  const record: SessionRecord = { ...found.record, binding: bound };
  if (record.user !== undefined) record.seen = now;
  const token = randomToken();
  const next = e.inner.keyFor(token);
  // The identifier points at the new key (and at the old one, until the
  // move is done) before the move, so a refresh finds the session however
  // this one ends. Both writes are checked against what this request read.
  await e.sessions.point(
    binding.id,
    movedPointer(found.pointer, found.key, next),
    limitOf(record),
    c,
  );
  // The old cookie was still live (the browser refreshed early): requests
  // it sent with that cookie before it had this answer still find the
  // session, for a few seconds, never past that cookie's own deadline.
  // Written before the move, so that no request finds the old key empty
  // and nothing forwarded (a sign-out then would end nothing). If the move
  // fails, the entry leads nowhere: it forwards only to a session whose
  // binding names the key it moved from, which only a move from it writes.
  if (binding.until > now) {
    await e.sessions.forward(
      found.key,
      binding.id,
      Math.min(binding.until, now + FORWARD_MS),
      c,
    );
  }
  // If the move fails (the session changed or moved meanwhile), the entry
  // still names every key the one this request found did, so it leads to
  // the session; the new key it names is never written, and a later move
  // drops it.
  await e.store.replace!(found.key, next, record, c);
  return granted(e, c, token, record, bound, "refreshed");
}
