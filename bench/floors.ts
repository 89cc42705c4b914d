// Hand-written floors: the least work a session middleware of each kind
// must do per request, with none of our guarantees. Each row of ours is
// compared with the floor of its kind. Shared by the in-process and the
// HTTP benchmarks.
import type { MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";

/** What a floor keeps of one session. */
type Values = Record<string, unknown>;

/** The variable the floors' sessions live in (`c.get("floor")`). */
export interface FloorSession {
  values: Values;
  changed: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function b64(bytes: Uint8Array): string {
  return (bytes as unknown as {
    toBase64(o: { alphabet: "base64url"; omitPadding: true }): string;
  }).toBase64({ alphabet: "base64url", omitPadding: true });
}

function unb64(text: string): Uint8Array<ArrayBuffer> {
  return (Uint8Array as unknown as {
    fromBase64(
      s: string,
      o: { alphabet: "base64url" },
    ): Uint8Array<ArrayBuffer>;
  }).fromBase64(text, { alphabet: "base64url" });
}

function setCookie(c: Parameters<MiddlewareHandler>[0], value: string): void {
  c.header(
    "Set-Cookie",
    `sid=${value}; Max-Age=86400; Path=/; HttpOnly; Secure; SameSite=Lax`,
    { append: true },
  );
}

function session(
  c: Parameters<MiddlewareHandler>[0],
  values: Values,
): FloorSession {
  const s: FloorSession = { values, changed: false };
  c.set("floor" as never, s as never);
  return s;
}

/**
 * Iron floor: AES-256-CBC encrypt then HMAC-SHA-256 sign the JSON with keys
 * imported once; one Set-Cookie. A known cookie is read from a Map (the
 * least a cache of verified cookies costs); an unknown one is verified and
 * decrypted.
 */
export async function ironFloor(): Promise<() => MiddlewareHandler> {
  const raw = crypto.getRandomValues(new Uint8Array(32));
  const aes = await crypto.subtle.importKey("raw", raw, "AES-CBC", false, [
    "encrypt",
    "decrypt",
  ]);
  const hmac = await crypto.subtle.importKey(
    "raw",
    crypto.getRandomValues(new Uint8Array(32)),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
  return () => {
    const known = new Map<string, Values>();
    return async (c, next) => {
      const cookie = getCookie(c, "sid");
      let values: Values = {};
      if (cookie) {
        const hit = known.get(cookie);
        if (hit) values = hit;
        else {
          const [iv, data, mac] = cookie.split(".");
          if (
            iv && data && mac &&
            await crypto.subtle.verify(
              "HMAC",
              hmac,
              unb64(mac),
              encoder.encode(`${iv}.${data}`),
            )
          ) {
            values = JSON.parse(decoder.decode(
              await crypto.subtle.decrypt(
                { name: "AES-CBC", iv: unb64(iv) },
                aes,
                unb64(data),
              ),
            ));
          }
        }
      }
      const s = session(c, values);
      await next();
      if (!s.changed) return;
      const iv = crypto.getRandomValues(new Uint8Array(16));
      const data = new Uint8Array(
        await crypto.subtle.encrypt(
          { name: "AES-CBC", iv },
          aes,
          encoder.encode(JSON.stringify(s.values)),
        ),
      );
      const head = `${b64(iv)}.${b64(data)}`;
      const mac = new Uint8Array(
        await crypto.subtle.sign("HMAC", hmac, encoder.encode(head)),
      );
      const value = `${head}.${b64(mac)}`;
      known.set(value, s.values);
      setCookie(c, value);
    };
  };
}

/** Map floor: `randomUUID`, `Map.set`, one Set-Cookie; a read is one `Map.get`. */
export function mapFloor(): MiddlewareHandler {
  const map = new Map<string, Values>();
  return async (c, next) => {
    const id = getCookie(c, "sid");
    const found = id === undefined ? undefined : map.get(id);
    const s = session(c, found ?? {});
    await next();
    if (!s.changed) return;
    const key = found ? id! : crypto.randomUUID();
    map.set(key, s.values);
    if (!found) setCookie(c, key);
  };
}

/** The part of Deno KV the KV floor uses. */
interface Kv {
  get(key: string[]): Promise<{ value: unknown; versionstamp: string | null }>;
  set(key: string[], value: unknown, o: { expireIn: number }): Promise<unknown>;
  atomic(): {
    check(
      c: { key: string[]; versionstamp: string | null },
    ): ReturnType<Kv["atomic"]>;
    set(
      key: string[],
      value: unknown,
      o: { expireIn: number },
    ): ReturnType<Kv["atomic"]>;
    commit(): Promise<{ ok: boolean }>;
  };
}

/**
 * Deno KV floor: new = one `set` with `expireIn`; read = one `get`; write =
 * `get` plus a checked atomic `set`. One Set-Cookie for a new session.
 */
export function kvFloor(kv: Kv): MiddlewareHandler {
  return async (c, next) => {
    const id = getCookie(c, "sid");
    const entry = id === undefined ? undefined : await kv.get(["floor", id]);
    const s = session(c, (entry?.value as Values | null) ?? {});
    await next();
    if (!s.changed) return;
    if (id && entry?.versionstamp) {
      const ok = await kv.atomic()
        .check({ key: ["floor", id], versionstamp: entry.versionstamp })
        .set(["floor", id], s.values, { expireIn: 86_400_000 })
        .commit();
      if (!ok.ok) throw new Error("conflict");
      return;
    }
    const key = crypto.randomUUID();
    await kv.set(["floor", key], s.values, { expireIn: 86_400_000 });
    setCookie(c, key);
  };
}

/** The part of a node-redis client the Redis floor uses. */
interface Redis {
  sendCommand(args: string[]): Promise<unknown>;
}

const CAS =
  'if redis.call("GET", KEYS[1]) ~= ARGV[1] then return 0 end redis.call("SET", KEYS[1], ARGV[2], "PX", ARGV[3]) return 1';

/**
 * Redis floor: new = one `SET ... PX`; read = one `GET`; write = `GET` plus
 * one compare-and-set script. One Set-Cookie for a new session.
 */
export function redisFloor(redis: Redis): MiddlewareHandler {
  return async (c, next) => {
    const id = getCookie(c, "sid");
    const text = id === undefined
      ? null
      : await redis.sendCommand(["GET", `floor:${id}`]) as string | null;
    const s = session(c, text ? JSON.parse(text) : {});
    await next();
    if (!s.changed) return;
    const json = JSON.stringify(s.values);
    if (id && text) {
      const ok = await redis.sendCommand([
        "EVAL",
        CAS,
        "1",
        `floor:${id}`,
        text,
        json,
        "86400000",
      ]);
      if (Number(ok) !== 1) throw new Error("conflict");
      return;
    }
    const key = crypto.randomUUID();
    await redis.sendCommand(["SET", `floor:${key}`, json, "PX", "86400000"]);
    setCookie(c, key);
  };
}

/** A floor's session, for the shared handlers. */
export function floorSession(c: { get(key: never): unknown }): FloorSession {
  return c.get("floor" as never) as FloorSession;
}

/**
 * Runs one SQL statement with bound parameters (a node-postgres pool's
 * `query`, or a prepared node:sqlite statement's `all`).
 */
export type SqlQuery = (
  sql: string,
  params: (string | number)[],
) => Promise<Record<string, unknown>[]> | Record<string, unknown>[];

/**
 * SQL floor: new = one `INSERT`; read = one `SELECT` by id (live rows
 * only); write = that `SELECT` plus an `UPDATE` checked against the version
 * read. One Set-Cookie for a new session. The raw queries SqlStore needs,
 * with none of its checks, on a table `floor_sessions` made like SqlStore's
 * (`SqlStore.schema(dialect, "floor_sessions")`: the same columns and
 * indexes).
 */
export function sqlFloor(
  query: SqlQuery,
  dialect: "postgres" | "sqlite",
): MiddlewareHandler {
  const p = (n: number) => dialect === "postgres" ? `$${n}` : `?${n}`;
  const select = `SELECT data, version FROM floor_sessions WHERE id = ${
    p(1)
  } AND expires > ${p(2)}`;
  const insert =
    `INSERT INTO floor_sessions (id, data, expires, version) VALUES (${p(1)}, ${
      p(2)
    }, ${p(3)}, 1)`;
  const update = `UPDATE floor_sessions SET data = ${p(2)}, expires = ${
    p(3)
  }, version = version + 1 WHERE id = ${p(1)} AND version = ${
    p(4)
  } RETURNING version`;
  return async (c, next) => {
    const id = getCookie(c, "sid");
    const row = id === undefined
      ? undefined
      : (await query(select, [id, Date.now()]))[0];
    const s = session(c, row ? JSON.parse(String(row.data)) : {});
    await next();
    if (!s.changed) return;
    const json = JSON.stringify(s.values);
    const expires = Date.now() + 86_400_000;
    if (id && row) {
      const rows = await query(update, [
        id,
        json,
        expires,
        Number(row.version),
      ]);
      if (rows.length !== 1) throw new Error("conflict");
      return;
    }
    const key = crypto.randomUUID();
    await query(insert, [key, json, expires]);
    setCookie(c, key);
  };
}
