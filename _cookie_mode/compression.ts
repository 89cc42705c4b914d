// Cookie mode: compressing a session before it is sealed, and expanding it
// again after the seal is opened, with a bound on how far it may expand.
// Only the standard CompressionStream and DecompressionStream (Deno,
// Node 18+, Bun, Workers). A compressed payload starts with a mark byte
// naming its format; a plain one is JSON and starts with `{`, so the first
// byte of what a seal holds says which it is.

type Bytes = Uint8Array<ArrayBuffer>;

/** The formats a session may be compressed with. */
export type CompressionFormat = "deflate-raw" | "gzip";

/**
 * The most bytes a compressed session may expand to (64 KiB). Expanding
 * stops as soon as it passes this, so a small cookie cannot become a large
 * allocation, even one sealed by someone who has the secret.
 */
export const EXPANDED_LIMIT = 64 * 1024;

// The mark byte of each format. Neither is `{` (0x7b), the first byte of
// every plain session, nor any other byte JSON text can start with.
const MARK: Record<CompressionFormat, number> = { "deflate-raw": 1, gzip: 2 };
const FORMAT_OF_MARK: readonly (CompressionFormat | undefined)[] = [
  undefined,
  "deflate-raw",
  "gzip",
];

// The compressed bytes are handed to the decompressor this many at a
// time. DEFLATE turns one byte into at most about 1032, and some runtimes
// (Deno) expand a whole written chunk in one step: writing small slices
// bounds what one step can produce (about 1 MiB) before the running total
// is checked against the limit.
const SLICE = 1024;

/** Whether a sealed payload is a compressed one (it starts with a mark). */
export function isCompressed(payload: Uint8Array): boolean {
  return FORMAT_OF_MARK[payload[0] ?? 0] !== undefined;
}

/**
 * The mark byte, then `plain` compressed with `format`; undefined when
 * that would not be shorter than `plain` (compressing stops there).
 */
export async function compress(
  plain: Bytes,
  format: CompressionFormat,
): Promise<Bytes | undefined> {
  const out = await pump(
    new CompressionStream(format),
    plain,
    plain.length, // our own bytes, bounded: written in one piece
    plain.length - 2, // with the mark, at most plain.length - 1 bytes
    MARK[format],
  );
  if (out === "broken") {
    // Compressing bytes in memory has nothing that can break.
    throw new TypeError(`${format} compression failed`);
  }
  return out === "too-large" ? undefined : out;
}

/**
 * Expands a payload made by {@linkcode compress}: its bytes, "too-large"
 * when it would expand past `limit` bytes (expanding stops there), or
 * "broken" when it is not a compressed payload.
 */
export async function expand(
  payload: Bytes,
  limit: number = EXPANDED_LIMIT,
): Promise<Bytes | "too-large" | "broken"> {
  const format = FORMAT_OF_MARK[payload[0] ?? 0];
  if (format === undefined) return "broken";
  return await pump(
    new DecompressionStream(format),
    payload.subarray(1),
    SLICE,
    limit,
  );
}

// Writes `input` through a compression or decompression stream, `slice`
// bytes at a time, while reading what comes out; stops reading, and
// cancels the stream, once the output passes `limit` bytes. `mark`, if
// given, is the result's first byte.
async function pump(
  stream: CompressionStream | DecompressionStream,
  input: Bytes,
  slice: number,
  limit: number,
  mark?: number,
): Promise<Bytes | "too-large" | "broken"> {
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  // The writer waits whenever the reader has not taken the last output
  // (the stream's backpressure), so input is only fed as it is read.
  const feeding = (async () => {
    for (let at = 0; at < input.length; at += slice) {
      await writer.write(input.subarray(at, at + slice));
    }
    await writer.close();
  })();
  // A failure while feeding also fails the reader, which reports it.
  feeding.catch(() => {});
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        return "too-large";
      }
      parts.push(value);
    }
  } catch {
    return "broken";
  }
  const at0 = mark === undefined ? 0 : 1;
  const out = new Uint8Array(at0 + size);
  if (mark !== undefined) out[0] = mark;
  let at = at0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
