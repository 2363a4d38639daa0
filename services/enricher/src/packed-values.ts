// Many record values as one buffer and where each ends: what crosses between the event loop and the
// batch thread, moved rather than copied (a buffer's memory changes hands; a list of them would be
// cloned one by one).

export interface PackedValues {
  bytes: Uint8Array;
  /** Where each value ends in `bytes`; -1 for a record without a value. */
  ends: Int32Array;
}

/** Packs the values (strings as UTF-8) into one buffer of its own, fit to move to another thread. */
export function packValues(values: readonly (string | Uint8Array | null)[]): PackedValues {
  let size = 0;
  for (const v of values) if (v !== null) size += typeof v === "string" ? Buffer.byteLength(v) : v.length;
  // Not from the pool: a pooled buffer's memory is shared and could not be moved.
  const bytes = Buffer.allocUnsafeSlow(size);
  const ends = new Int32Array(values.length);
  let at = 0;
  values.forEach((v, i) => {
    if (v === null) {
      ends[i] = -1;
      return;
    }
    if (typeof v === "string") at += bytes.write(v, at);
    else {
      bytes.set(v, at);
      at += v.length;
    }
    ends[i] = at;
  });
  return { bytes, ends };
}

/** The values again, as views of the one buffer (no copy). */
export function unpackValues({ bytes, ends }: PackedValues): (Buffer | null)[] {
  const all = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const out: (Buffer | null)[] = new Array(ends.length);
  let from = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i] as number;
    if (end < 0) out[i] = null;
    else {
      out[i] = all.subarray(from, end);
      from = end;
    }
  }
  return out;
}

/** The buffers to name in postMessage's transfer list so the packed values move. */
export function transferOf({ bytes, ends }: PackedValues): ArrayBuffer[] {
  return [bytes.buffer as ArrayBuffer, ends.buffer as ArrayBuffer];
}
