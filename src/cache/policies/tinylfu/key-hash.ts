/**
 * 32-bit hashes of cache keys of any type, for the frequency sketch.
 *
 * The sketch only needs a well-spread number per key; a collision merely
 * adds noise to one frequency estimate, it never affects correctness.
 *
 * - strings: FNV-1a over the UTF-16 code units, then a murmur3 finalizer
 *   (FNV's low bits are weak on their own). O(length), like the `Map` lookup
 *   that accompanies it.
 * - numbers: small integers directly; other numbers through their IEEE-754
 *   bits. `0` and `-0` hash alike, as do all NaNs, matching `Map`'s
 *   SameValueZero.
 * - objects, functions and unregistered symbols: an id assigned on first
 *   sight and kept in a `WeakMap`, so hashing a key never keeps it alive.
 * - everything else (bigint, registered symbols, booleans, null, undefined):
 *   a hash of a string form.
 *
 * Every hasher mixes a per-instance random seed into each hash, so an
 * attacker who can choose keys cannot precompute a set of keys that
 * collide in the sketch of every cache (hash flooding would let them make
 * any key look popular and push out the real working set).
 */

/**
 * A murmur3 fmix32 finalizer: every input bit affects every output bit.
 * Hashes are signed int32 values: the engine keeps those unboxed (small
 * integers), where an unsigned value of 2^31 or more would be a heap number.
 */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** FNV-1a over UTF-16 code units, starting from `seed`. */
export function stringHash(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) | 0;
  for (let i = 0; i < s.length; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  return mix32(h ^ s.length);
}

const floatView = new Float64Array(1);
const wordView = new Uint32Array(floatView.buffer);

export function numberHash(n: number, seed: number): number {
  if ((n | 0) === n) return mix32(n ^ seed); // covers -0 as well
  if (n !== n) return mix32(seed ^ 0x7ff80000);
  floatView[0] = n;
  return mix32((wordView[0] as number) ^ Math.imul((wordView[1] as number) ^ seed, 0x9e3779b1));
}

/** A random 32-bit seed (a signed int32) from the platform's CSPRNG when there is one. */
export function randomSeed(): number {
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Int32Array) => Int32Array } }).crypto;
  if (c?.getRandomValues) return c.getRandomValues(new Int32Array(1))[0] as number;
  return (Math.random() * 0x100000000) | 0;
}

export type KeyHasher = (key: unknown) => number;

/**
 * Returns a hasher whose results are seeded with `seed` (a fresh random one
 * by default). Ids of object keys live in a `WeakMap` owned by the hasher,
 * so they disappear with the keys.
 */
export function createKeyHasher(seed: number = randomSeed()): KeyHasher {
  // Typed for objects: the ES2022 typings do not know that engines since
  // ES2023 also hold unregistered symbols weakly (the call site guards it).
  const ids = new WeakMap<object, number>();
  let nextId = 1;
  const idOf = (key: object): number => {
    let id = ids.get(key);
    if (id === undefined) {
      id = nextId;
      nextId = (nextId + 1) | 0;
      ids.set(key, id);
    }
    return id;
  };
  return (key: unknown): number => {
    switch (typeof key) {
      case 'string':
        return stringHash(key, seed);
      case 'number':
        return numberHash(key, seed);
      case 'object':
        if (key === null) return mix32(seed ^ 0x6e756c6c);
        return mix32(idOf(key) ^ Math.imul(seed, 0x27d4eb2f));
      case 'function':
        return mix32(idOf(key) ^ Math.imul(seed, 0x27d4eb2f));
      case 'symbol':
        // Registered symbols (Symbol.for) cannot be weakly held; their
        // registry key identifies them anyway.
        // Older engines cannot hold any symbol weakly: there the description
        // stands in (a collision only blurs one frequency estimate).
        if (Symbol.keyFor(key) !== undefined) return stringHash(`sym:${Symbol.keyFor(key)}`, seed);
        try {
          return mix32(idOf(key as unknown as object) ^ Math.imul(seed, 0x27d4eb2f));
        } catch {
          return stringHash(`sym(${key.description ?? ''})`, seed);
        }
      case 'bigint':
        return stringHash(`big:${key.toString(36)}`, seed);
      default:
        return stringHash(`${typeof key}:${String(key)}`, seed);
    }
  };
}
