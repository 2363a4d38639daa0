import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  IdentityTable,
  KEY_WORDS,
  keyHash,
  MAX_IDENTITY_TAG,
  packIdentity,
  packTaggedIdentity,
} from "../src/identity-table.ts";

/**
 * The Map-based set the table replaces: first value wins, the oldest forgotten past `max`. (The
 * order is kept in an array: a Map's first key after many deletions is slow to reach.)
 */
class ReferenceTable {
  readonly map = new Map<string, number>();
  readonly order: string[] = [];
  #head = 0;
  evicted = 0;
  readonly max: number;
  constructor(max: number) {
    this.max = max;
  }
  offer(key: string, value: number): number {
    const known = this.map.get(key);
    if (known !== undefined) return known;
    this.map.set(key, value);
    this.order.push(key);
    if (this.map.size > this.max) {
      this.map.delete(this.order[this.#head++] as string);
      this.evicted++;
    }
    return -1;
  }
}

function key(...words: number[]): Uint32Array {
  const k = new Uint32Array(KEY_WORDS);
  k.set(words.slice(0, KEY_WORDS));
  return k;
}

function packed(identity: string): Uint32Array {
  const k = new Uint32Array(KEY_WORDS);
  packIdentity(identity, k);
  return k;
}

/** A deterministic stream of uint32s (xorshift32), so failures reproduce. */
function random(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

const uuid = (next: () => number) => {
  const hex = [next(), next(), next(), next()].map((w) => w.toString(16).padStart(8, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

describe("IdentityTable", () => {
  test("insert, has, get: the first value stays", () => {
    const table = new IdentityTable(10);
    assert.equal(table.offer(key(1, 2, 3, 4, 5, 6), 7), -1);
    assert.equal(table.has(key(1, 2, 3, 4, 5, 6)), true);
    assert.equal(table.has(key(1, 2, 3, 4, 5, 7)), false);
    assert.equal(table.offer(key(1, 2, 3, 4, 5, 6), 9), 7);
    assert.equal(table.get(key(1, 2, 3, 4, 5, 6)), 7);
    assert.equal(table.get(key(0, 0, 0, 0, 0, 0)), -1);
    assert.equal(table.offer(key(0, 0, 0, 0, 0, 0), 0), -1, "an all-zero key is a key like any other");
    assert.equal(table.offer(key(0xffffffff, 0xffffffff, 0, 0, 0, 0xffffffff), 0x7fffffff), -1);
    assert.equal(table.get(key(0xffffffff, 0xffffffff, 0, 0, 0, 0xffffffff)), 0x7fffffff);
    assert.equal(table.size, 3);
    assert.equal(table.evicted, 0);
  });

  test("grows from a tiny ring to 100,000 keys and finds every one", () => {
    const table = new IdentityTable(1_000_000, 1);
    for (let i = 0; i < 100_000; i++) assert.equal(table.offer(key(i, i * 7, 0, 0, 0, i), i), -1);
    for (let i = 0; i < 100_000; i++) assert.equal(table.get(key(i, i * 7, 0, 0, 0, i)), i);
    assert.equal(table.has(key(100_000, 700_000, 0, 0, 0, 100_000)), false);
    assert.equal(table.size, 100_000);
    // The ring doubled to 131,072 entries; the index is the next power of two at least twice that.
    assert.equal(table.bytes, 131_072 * 7 * 4 + 262_144 * 4);
  });

  test("keys with the same home slot are all kept, found, and evicted without losing the others", () => {
    // An index of 8 slots (ring of 4): find keys whose hash lands on one home, and on the next.
    const next = random(1);
    const home = (k: Uint32Array) => keyHash(k, 0) & 7;
    const same: Uint32Array[] = [];
    let neighbour: Uint32Array | undefined;
    while (same.length < 3 || !neighbour) {
      const k = key(next(), next(), next(), next(), next(), next());
      if (home(k) === 7) same.push(k);
      else if (home(k) === 0 && !neighbour) neighbour = k;
    }
    const [a, b, c] = same as [Uint32Array, Uint32Array, Uint32Array];
    const table = new IdentityTable(4, 4);
    // a, b and c share slot 7 and wrap around to 0 and 1; the neighbour's home, 0, is taken, so it sits at 2.
    assert.equal(table.offer(a, 1), -1);
    assert.equal(table.offer(b, 2), -1);
    assert.equal(table.offer(c, 3), -1);
    assert.equal(table.offer(neighbour, 4), -1);
    for (const [k, v] of [
      [a, 1],
      [b, 2],
      [c, 3],
      [neighbour, 4],
    ] as const) {
      assert.equal(table.get(k), v);
    }
    // Full: the next key evicts a, the oldest; b, c and the neighbour must shift back and stay found.
    assert.equal(table.offer(key(1, 1, 1, 1, 1, 1), 5), -1);
    assert.equal(table.evicted, 1);
    assert.equal(table.has(a), false);
    assert.equal(table.get(b), 2);
    assert.equal(table.get(c), 3);
    assert.equal(table.get(neighbour), 4);
    assert.equal(table.offer(a, 6), -1, "a forgotten key is new again");
    assert.equal(table.has(b), false, "and that forgot b, the oldest");
    assert.equal(table.get(c), 3);
  });

  test("property: the same answers, size and evictions as a Map with the oldest forgotten", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 16 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 3 })), { maxLength: 300 }),
        (max, initial, offers) => {
          const table = new IdentityTable(max, initial);
          const reference = new ReferenceTable(max);
          for (const [id, value] of offers) {
            // Few distinct words: many keys share homes and clusters wrap around the small index.
            assert.equal(table.offer(key(id % 3, id, 0, 0, 0, id % 5), value), reference.offer(String(id), value));
            assert.equal(table.size, reference.map.size);
          }
          assert.equal(table.evicted, reference.evicted);
          for (let id = 0; id <= 40; id++) {
            assert.equal(table.get(key(id % 3, id, 0, 0, 0, id % 5)), reference.map.get(String(id)) ?? -1);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  test("300,000 identities, a third of them copies, past the cap: the same as a reference Map", () => {
    const next = random(42);
    const accounts = ["111122223333", "444455556666", "000000000007", "999999999999"];
    const distinct: string[] = [];
    for (let i = 0; i < 200_000; i++) {
      const account = accounts[next() % accounts.length] as string;
      const form = next() % 100;
      if (form < 90) distinct.push(`${account}:${uuid(next)}`);
      else if (form < 95) distinct.push(`${account}:${uuid(next)}:updated`);
      else if (form < 98) distinct.push(`${account}:${uuid(next).toUpperCase()}`);
      else distinct.push(`${account}:event-${i}`);
    }
    const max = 150_000;
    const table = new IdentityTable(max);
    const reference = new ReferenceTable(max);
    const k = new Uint32Array(KEY_WORDS);
    let copies = 0;
    for (let i = 0; i < 300_000; i++) {
      // Copies arrive a little after their original, as overlapping trails deliver them.
      const at = i < 200_000 ? i : Math.max(0, (i - 200_000) * 2 - (next() % 1_000));
      const identity = distinct[at] as string;
      packIdentity(identity, k);
      const value = at & 0xffff;
      const answer = table.offer(k, value);
      assert.equal(answer, reference.offer(identity, value), identity);
      if (answer !== -1) copies++;
    }
    assert.ok(copies > 10_000, `only ${copies} copies were offered`);
    assert.equal(table.size, max);
    assert.equal(table.evicted, reference.evicted);
    assert.ok(table.evicted > 0);
    for (const identity of distinct) assert.equal(table.has(packed(identity)), reference.map.has(identity));
  });
});

describe("packIdentity", () => {
  test("the usual form exactly, the rest by digest, never meeting", () => {
    const id = "111122223333:6f1d9c3e-0a1b-4c2d-8e3f-00112233abcd";
    assert.deepEqual([...packed(id)], [111122, 223333, 0x6f1d9c3e, 0x0a1b4c2d, 0x8e3f0011, 0x2233abcd]);
    const updated = packed(`${id}:updated`);
    assert.equal(updated[1], 223333 | (1 << 20));
    assert.deepEqual([...updated.subarray(2)], [...packed(id).subarray(2)]);
    for (const other of [
      id.toUpperCase(),
      `${id}x`,
      `${id}:updatex`,
      "11112222333:6f1d9c3e-0a1b-4c2d-8e3f-00112233abcd0",
      "11112222333a:6f1d9c3e-0a1b-4c2d-8e3f-00112233abcd",
      "111122223333:6f1d9c3e_0a1b-4c2d-8e3f-00112233abcd",
      "111122223333:6f1d9c3e-0a1b-4c2d-8e3f-00112233abcg",
      "not-a-uuid:x",
      "",
    ]) {
      const k = packed(other);
      assert.ok(((k[1] as number) & 0x80000000) !== 0, `${other} is digested`);
      assert.notDeepEqual([...k], [...packed(id)]);
    }
    assert.deepEqual([...packed("not-a-uuid:x")], [...packed("not-a-uuid:x")]);
  });

  test("property: packing is one to one", () => {
    const identity = fc.oneof(
      fc
        .tuple(fc.stringMatching(/^\d{12}$/), fc.uuid(), fc.boolean())
        .map(([a, u, up]) => `${a}:${u}${up ? ":updated" : ""}`),
      fc.tuple(fc.stringMatching(/^\d{12}$/), fc.uuid()).map(([a, u]) => `${a}:${u.toUpperCase()}`),
      fc.string({ maxLength: 60 }),
    );
    fc.assert(
      fc.property(identity, identity, (i1, i2) => {
        assert.equal([...packed(i1)].join() === [...packed(i2)].join(), i1 === i2);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe("packTaggedIdentity", () => {
  const tagged = (identity: string, tag: number) => {
    const k = new Uint32Array(KEY_WORDS);
    packTaggedIdentity(identity, tag, k);
    return [...k].join();
  };

  test("tag 0 is packIdentity's key; a tag outside the spare bits is refused", () => {
    for (const id of ["111122223333:6f1d9c3e-0a1b-4c2d-8e3f-00112233abcd", "not-a-uuid:x"]) {
      assert.equal(tagged(id, 0), [...packed(id)].join());
    }
    for (const bad of [-1, 0.5, MAX_IDENTITY_TAG, Number.NaN]) assert.throws(() => tagged("a:b", bad), RangeError);
  });

  test("property: (tag, identity) pairs pack one to one, the largest tags included", () => {
    const identity = fc.oneof(
      fc
        .tuple(fc.stringMatching(/^\d{12}$/), fc.uuid(), fc.boolean())
        .map(([a, u, up]) => `${a}:${u}${up ? ":updated" : ""}`),
      fc.string({ maxLength: 60 }),
    );
    const tag = fc.oneof(
      fc.integer({ min: 0, max: 2_000 }),
      fc.integer({ min: MAX_IDENTITY_TAG - 2_000, max: MAX_IDENTITY_TAG - 1 }),
    );
    fc.assert(
      fc.property(identity, tag, identity, tag, (i1, t1, i2, t2) => {
        assert.equal(tagged(i1, t1) === tagged(i2, t2), i1 === i2 && t1 === t2);
      }),
      { numRuns: 2_000 },
    );
    // The same identity under every tag of a range: no two alike.
    const id = "999999999999:00000000-0000-4000-8000-000000000000";
    const keys = new Set<string>();
    for (let t = 0; t < 4_096; t++) keys.add(tagged(id, t * 1_023));
    assert.equal(keys.size, 4_096);
  });
});
