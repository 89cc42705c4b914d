// Iron seals (the Fe26.2 format of iron-webcrypto and @hapi/iron), made
// and opened with the derived keys kept between requests. iron-webcrypto
// derives two keys with PBKDF2 for every seal and every unseal; here a
// sealing salt, and the keys derived from it, serve a bounded number of
// seals (each still with a fresh random IV), and keys derived while opening
// a genuine seal are remembered by salt. The output is standard iron:
// iron-webcrypto's unseal opens it, and this opens iron-webcrypto's seals.

import { defaults, generateKey, macPrefix } from "iron-webcrypto";
import { Lru } from "../_lib/lru.ts";
import { fromBase64url, hex, toBase64url } from "../_lib/encoding.ts";

const PREFIX = macPrefix;
const SALT_BYTES = 32; // iron's default saltBits: 256
const IV_BYTES = 16;
/** Seals one salt may serve before a new one is drawn. */
const SEALS_PER_SALT = 10_000;
/** Milliseconds one salt may serve before a new one is drawn. */
const SALT_LIFETIME = 10 * 60 * 1000;
/** Keys remembered per password, per kind (encryption, integrity). */
const KEY_CACHE = 256;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

type Bytes = Uint8Array<ArrayBuffer>;

/** Characters of `bytes` bytes in base64url without padding. */
function base64urlLength(bytes: number): number {
  return Math.ceil((bytes * 4) / 3);
}

// iron-webcrypto's own key derivation (PBKDF2 as iron specifies it), run
// only when a salt is first met.
async function deriveKey(
  password: string,
  salt: string,
  kind: "encryption" | "integrity",
): Promise<CryptoKey> {
  const { key } = kind === "encryption"
    ? await generateKey(password, { ...defaults.encryption, salt })
    : await generateKey(password, { ...defaults.integrity, salt });
  return key;
}

interface SealingMaterial {
  encSalt: string;
  encKey: CryptoKey;
  macSalt: string;
  macKey: CryptoKey;
  uses: number;
  until: number;
}

/** Seals and opens iron strings for one password, with a key id. */
export class IronKey {
  readonly #id: string;
  readonly #password: string;
  #material: Promise<SealingMaterial> | undefined;
  readonly #encKeys = new Lru<string, CryptoKey>(KEY_CACHE);
  readonly #macKeys = new Lru<string, CryptoKey>(KEY_CACHE);

  /**
   * @param id The key id written into seals (`\w+`, or "" for none).
   * @param password The iron password, 32 characters or more.
   */
  constructor(id: string, password: string) {
    this.#id = id;
    this.#password = password;
  }

  /** How many derived keys are remembered (for tests: it stays bounded). */
  get cachedKeys(): number {
    return this.#encKeys.size + this.#macKeys.size;
  }

  async #newMaterial(): Promise<SealingMaterial> {
    const encSalt = hex(crypto.getRandomValues(new Uint8Array(SALT_BYTES)));
    const macSalt = hex(crypto.getRandomValues(new Uint8Array(SALT_BYTES)));
    const [encKey, macKey] = await Promise.all([
      deriveKey(this.#password, encSalt, "encryption"),
      deriveKey(this.#password, macSalt, "integrity"),
    ]);
    this.#encKeys.set(encSalt, encKey);
    this.#macKeys.set(macSalt, macKey);
    return {
      encSalt,
      encKey,
      macSalt,
      macKey,
      uses: 0,
      until: Date.now() + SALT_LIFETIME,
    };
  }

  async #sealingMaterial(): Promise<SealingMaterial> {
    let material = this.#material ? await this.#material : undefined;
    if (
      !material || material.uses >= SEALS_PER_SALT ||
      material.until <= Date.now()
    ) {
      this.#material = this.#newMaterial();
      material = await this.#material;
    }
    material.uses++;
    return material;
  }

  /**
   * Seals `payload` (JSON text, or its bytes) into an iron string with no
   * iron expiry.
   */
  async seal(payload: string | Uint8Array<ArrayBuffer>): Promise<string> {
    const m = await this.#sealingMaterial();
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const encrypted = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-CBC", iv },
        m.encKey,
        typeof payload === "string" ? encoder.encode(payload) : payload,
      ),
    );
    const base = `${PREFIX}*${this.#id}*${m.encSalt}*${toBase64url(iv)}*${
      toBase64url(encrypted)
    }*`;
    const mac = new Uint8Array(
      await crypto.subtle.sign("HMAC", m.macKey, encoder.encode(base)),
    );
    return `${base}*${m.macSalt}*${toBase64url(mac)}`;
  }

  /**
   * The length of the seal of a payload of `bytes` bytes: AES-CBC pads it
   * to the next whole block, and the rest of the seal has a fixed length.
   */
  sealedLength(bytes: number): number {
    const encrypted = (Math.floor(bytes / 16) + 1) * 16;
    // Fe26.2 * id * salt * iv * data * (expiry) * salt * mac
    return PREFIX.length + this.#id.length + 2 * 2 * SALT_BYTES +
      base64urlLength(IV_BYTES) + base64urlLength(encrypted) +
      base64urlLength(32) + 7;
  }

  /** Opens an iron string sealed with this password: its JSON text, see {@linkcode openBytes}. */
  async open(sealed: string): Promise<string | undefined> {
    const bytes = await this.openBytes(sealed);
    return bytes && decoder.decode(bytes);
  }

  /**
   * Opens an iron string sealed with this password and returns what it
   * holds, or undefined for anything that is not a genuine, unexpired seal.
   * Keys are only remembered for seals whose integrity check passed, so
   * forged cookies cannot fill the cache.
   */
  async openBytes(sealed: string): Promise<Bytes | undefined> {
    const parts = sealed.split("*");
    if (parts.length !== 8 || parts[0] !== PREFIX) return undefined;
    const [
      ,
      ,
      encSalt,
      ivText = "",
      dataText = "",
      expiration,
      macSalt,
      macText = "",
    ] = parts;
    if (!encSalt || !macSalt) return undefined;
    if (
      expiration &&
      (!/^[1-9]\d*$/.test(expiration) || Number(expiration) <= Date.now())
    ) {
      return undefined;
    }
    let iv: Bytes, data: Bytes, mac: Bytes;
    try {
      iv = fromBase64url(ivText);
      data = fromBase64url(dataText);
      mac = fromBase64url(macText);
    } catch {
      return undefined;
    }
    if (iv.length !== IV_BYTES || mac.length !== 32 || data.length === 0) {
      return undefined;
    }
    const base = sealed.slice(
      0,
      sealed.length - macSalt.length - macText.length - 2,
    );
    const cachedMac = this.#macKeys.get(macSalt);
    const macKey = cachedMac ??
      await deriveKey(this.#password, macSalt, "integrity");
    if (
      !await crypto.subtle.verify("HMAC", macKey, mac, encoder.encode(base))
    ) {
      return undefined;
    }
    if (!cachedMac) this.#macKeys.set(macSalt, macKey);
    let encKey = this.#encKeys.get(encSalt);
    if (!encKey) {
      encKey = await deriveKey(this.#password, encSalt, "encryption");
      this.#encKeys.set(encSalt, encKey);
    }
    try {
      return new Uint8Array(
        await crypto.subtle.decrypt({ name: "AES-CBC", iv }, encKey, data),
      );
    } catch {
      return undefined;
    }
  }
}
