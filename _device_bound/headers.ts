// The DBSC headers (RFC 9651 structured fields), written and read: the
// registration offer and the challenge we send, the session identifier and
// the skip notice browsers send. Only what these headers use: strings of
// printable ASCII, tokens, parameters.
import type { Algorithm } from "./proof.ts";

/** Request header: the session a refresh is for. */
export const SESSION_ID_HEADER = "sec-secure-session-id";
/** Request header: a proof. */
export const RESPONSE_HEADER = "secure-session-response";
/** Request header: the browser did not refresh, so the cookie is missing. */
export const SKIPPED_HEADER = "secure-session-skipped";
/** Response header: an offer to register. */
export const REGISTRATION_HEADER = "Secure-Session-Registration";
/** Response header: a challenge to sign. */
export const CHALLENGE_HEADER = "Secure-Session-Challenge";

/** Whether `value` can be written as an sf-string as it is (no escapes). */
export function isPlainString(value: string): boolean {
  return /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/.test(value);
}

/**
 * `Secure-Session-Registration: (ES256 RS256);path="...";challenge="...";
 * authorization="..."`. Every value is ours and already plain.
 */
export function registrationOffer(
  algorithms: readonly Algorithm[],
  path: string,
  challenge: string,
  authorization: string,
): string {
  return `(${
    algorithms.join(" ")
  });path="${path}";challenge="${challenge}";authorization="${authorization}"`;
}

/** `Secure-Session-Challenge: "<challenge>";id="<identifier>"`. */
export function challengeHeader(challenge: string, identifier: string): string {
  return `"${challenge}";id="${identifier}"`;
}

/**
 * The string in an sf-string header (`"abc"`, parameters ignored), or a
 * bare token as some browsers send it; undefined for anything else.
 */
export function stringItem(header: string | null): string | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  const quoted = /^"([\x20\x21\x23-\x5b\x5d-\x7e]*)"(?:;.*)?$/.exec(text);
  if (quoted) return quoted[1];
  return /^[A-Za-z0-9_.~+/=-]+$/.test(text) ? text : undefined;
}

/** One entry of Secure-Session-Skipped: why, and for which session. */
export interface Skipped {
  reason: "unreachable" | "server_error" | "quota_exceeded" | "other";
  /** The session identifier it names, if it names one. */
  identifier: string | undefined;
}

const REASONS = new Set(["unreachable", "server_error", "quota_exceeded"]);
const ITEM =
  /^\s*([A-Za-z*][A-Za-z0-9_\-.:%*/]*)((?:\s*;\s*[a-z*][a-z0-9_\-.*]*(?:=(?:"(?:[^"\\]|\\.)*"|[^;,\s]*))?)*)\s*(?:,|$)/;
const PARAM = /;\s*([a-z*][a-z0-9_\-.*]*)(?:=("(?:[^"\\]|\\.)*"|[^;,\s]*))?/g;

/**
 * The entries of a Secure-Session-Skipped header (at most eight are read).
 * A header that cannot be parsed counts as one entry naming no session.
 */
export function skippedEntries(header: string): Skipped[] {
  const entries: Skipped[] = [];
  let rest = header;
  while (rest.trim() !== "" && entries.length < 8) {
    const match = ITEM.exec(rest);
    if (match === null) {
      return [{ reason: "other", identifier: undefined }];
    }
    const token = match[1]!;
    let identifier: string | undefined;
    for (const [, key, value] of (match[2] ?? "").matchAll(PARAM)) {
      if (key === "session_identifier" && value?.startsWith('"')) {
        identifier = value.slice(1, -1).replace(/\\(.)/g, "$1");
      }
    }
    entries.push({
      reason: REASONS.has(token) ? token as Skipped["reason"] : "other",
      identifier,
    });
    rest = rest.slice(match[0].length);
  }
  return entries;
}
