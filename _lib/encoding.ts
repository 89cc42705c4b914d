// The one place bytes become text and back: base64url (no padding), hex,
// and the UTF-8 length of a text.

type Bytes = Uint8Array<ArrayBuffer>;

const ALPHABET =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Uint8Array.prototype.toBase64 / Uint8Array.fromBase64, where the
// runtime has them (Deno, recent V8); a portable fallback elsewhere.
interface Base64Native {
  toBase64?(o: { alphabet: "base64url"; omitPadding: true }): string;
}
interface Base64NativeStatic {
  fromBase64?(s: string, o: { alphabet: "base64url" }): Bytes;
}
const nativeFrom = (Uint8Array as unknown as Base64NativeStatic).fromBase64;

/** Base64url without padding. */
export function toBase64url(bytes: Uint8Array): string {
  const native = (bytes as unknown as Base64Native).toBase64;
  if (native) {
    return native.call(bytes, { alphabet: "base64url", omitPadding: true });
  }
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET.charAt(n >> 18) + ALPHABET.charAt((n >> 12) & 63) +
      ALPHABET.charAt((n >> 6) & 63) + ALPHABET.charAt(n & 63);
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0);
    out += ALPHABET.charAt(n >> 18) + ALPHABET.charAt((n >> 12) & 63);
    if (rest === 2) out += ALPHABET.charAt((n >> 6) & 63);
  }
  return out;
}

/** Each base64url character's value, by character code. */
const SEXTET = new Uint8Array(128);
for (let i = 0; i < 64; i++) SEXTET[ALPHABET.charCodeAt(i)] = i;
/** The unused bits of the last character, by the text's length mod 4. */
const UNUSED = [0, 0, 0b1111, 0b11];

/**
 * Decodes base64url without padding, accepting only the canonical
 * spelling: when the byte count is not a multiple of 3 the last character
 * carries bits no byte uses, which decoders ignore, so the same bytes have
 * several spellings; only the one with those bits zero is taken. Throws on
 * anything else.
 */
export function fromBase64url(text: string): Bytes {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || (text.length & 3) === 1) {
    throw new TypeError("not base64url");
  }
  if (SEXTET[text.charCodeAt(text.length - 1)]! & UNUSED[text.length & 3]!) {
    throw new TypeError("not canonical base64url");
  }
  if (nativeFrom) return nativeFrom(text, { alphabet: "base64url" });
  const out = new Uint8Array((text.length * 3) >> 2);
  let bits = 0;
  let buffer = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    buffer = (buffer << 6) | SEXTET[text.charCodeAt(i)]!;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (buffer >> bits) & 0xff;
    }
  }
  return out;
}

/** Lower-case hex. */
export function hex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    out += bytes[i]!.toString(16).padStart(2, "0");
  }
  return out;
}

/** How many bytes `text` takes in UTF-8, counted without encoding it. */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) bytes += 1;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2; // a pair: 4 bytes for 2 units
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}
