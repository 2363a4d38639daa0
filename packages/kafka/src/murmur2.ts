// Kafka's murmur2 (the Java client's Utils.murmur2, which picks a keyed record's partition) in 32-bit
// integer arithmetic. @platformatic/kafka's own runs on BigInt and cost about 1.3 µs per record, 3 % of
// the ingester's CPU on the S3 path; this one gives the same hash (a test holds them equal) for a
// fraction of that: every step is a multiplication or xor, whose low 32 bits depend only on the low
// 32 bits of their operands, so nothing is lost by working in 32 bits throughout.

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const whole = length - (length % 4);
  for (let i = 0; i < whole; i += 4) {
    let k =
      (data[i] as number) |
      ((data[i + 1] as number) << 8) |
      ((data[i + 2] as number) << 16) |
      ((data[i + 3] as number) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length % 4;
  if (rest > 0) {
    if (rest === 3) h ^= (data[whole + 2] as number) << 16;
    if (rest >= 2) h ^= (data[whole + 1] as number) << 8;
    h ^= data[whole] as number;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * Kafka's Java client's default partitioning of a keyed record: murmur2 made positive by masking
 * (`& 0x7fffffff`, as kafkajs did too); the producer takes it modulo the topic's partition count.
 * An unkeyed record goes to partition 0, as with the library's compatibilityPartitioner.
 */
export function keyPartition(_message: unknown, key: Buffer | undefined): number {
  return Buffer.isBuffer(key) ? murmur2(key) & 0x7fffffff : 0;
}
