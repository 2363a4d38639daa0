// Redis Cluster's key slots: CRC16 (XMODEM) of the key, or of its hash tag, modulo 16384. Keys that
// one script, transaction or multi-key command touches must share a slot, which is what a hash tag
// (`{stream}:lease:1`, `{stream}:checkpoints`) guarantees.

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ byte) & 0xff] as number);
  return crc;
}

/** The part of the key that decides its slot: the first non-empty `{…}`, else the whole key. */
export function hashTagOf<K extends string | Buffer>(key: K): K {
  const open = key.indexOf("{");
  if (open < 0) return key;
  const close = key.indexOf("}", open + 1);
  if (close < 0 || close === open + 1) return key;
  return key.slice(open + 1, close) as K;
}

export function keySlot(key: string | Buffer): number {
  const tag = hashTagOf(key);
  return crc16(typeof tag === "string" ? Buffer.from(tag, "utf8") : tag) % 16384;
}

/** `{tag}`: put it in every key that must live in one slot with the others. */
export function hashTag(tag: string): string {
  if (/[{}]/.test(tag)) throw new Error(`a hash tag cannot contain braces: "${tag}"`);
  return `{${tag}}`;
}
