/**
 * The soft tier: evicted values the garbage collector has not reclaimed yet.
 *
 * A cache bounded by memory pressure can do what a cache bounded by entry
 * count cannot: an evicted value is not necessarily gone. Until the
 * collector runs, it still sits in the heap, and if nothing else refers to
 * it, keeping a `WeakRef` to it costs nothing but the small record below.
 * A later `get` of its key can revive it: a hit instead of a refetch.
 *
 * Rules
 * - Only objects and functions can be held (`WeakRef` cannot point at a
 *   primitive); an evicted primitive value is simply gone.
 * - The tier never keeps a value alive: it holds values only through
 *   `WeakRef`. A `FinalizationRegistry` drops the record once the value is
 *   collected (bookkeeping only: a record whose value is gone is never
 *   served, whether or not its callback ran yet).
 * - It holds keys without keeping them alive either: records for object
 *   (and function) keys live in a `WeakMap`, so an object key that is
 *   otherwise unreachable disappears with its record; primitive keys live
 *   in a `Map` until their record is dropped.
 * - Records are small and hold neither the value nor an object key
 *   strongly, so nothing in the tier forms a cycle that could keep a value
 *   reachable.
 *
 * Cost: `hold`, `take` and `drop` are O(1); `clear` is O(records).
 */

interface SoftRecord {
  readonly ref: WeakRef<object>;
  readonly bytes: number;
  /** The key, for primitive keys only (object keys must not be held strongly). */
  readonly key: unknown;
}

/**
 * Objects and functions, not primitives: what a `WeakRef` can hold (so a
 * value can enter the tier) and what a `WeakMap` can key (so an object key's
 * record is not held strongly).
 */
function isObjectLike(value: unknown): value is object {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

/** A revived value and the bytes it was accounted for when it was evicted. */
export interface SoftValue<V> {
  value: V;
  bytes: number;
}

export class SoftTier<K, V> {
  #byPrimitive = new Map<unknown, SoftRecord>();
  #byObject = new WeakMap<object, SoftRecord>();
  /** Records whose value may still be alive. */
  readonly #live = new Set<SoftRecord>();
  readonly #registry: FinalizationRegistry<SoftRecord>;

  constructor() {
    this.#registry = new FinalizationRegistry((record: SoftRecord) => this.#collected(record));
  }

  /** Records held (values possibly collected already but not yet reported). */
  get size(): number {
    return this.#live.size;
  }

  /**
   * Keeps a weak hold on an evicted `value` under `key`, replacing any
   * record for the key. A primitive value is not held (returns false).
   */
  hold(key: K, value: V, bytes: number): boolean {
    this.drop(key);
    if (!isObjectLike(value)) return false;
    const objectKey = isObjectLike(key);
    const record: SoftRecord = { ref: new WeakRef(value), bytes, key: objectKey ? undefined : key };
    if (objectKey) this.#byObject.set(key, record);
    else this.#byPrimitive.set(key, record);
    this.#live.add(record);
    this.#registry.register(value, record, record);
    return true;
  }

  /**
   * Removes the record for `key` and returns its value if the collector has
   * not reclaimed it; otherwise `undefined`.
   */
  take(key: K): SoftValue<V> | undefined {
    const record = this.#detach(key);
    if (record === undefined) return undefined;
    const value = record.ref.deref();
    return value === undefined ? undefined : { value: value as V, bytes: record.bytes };
  }

  /** Forgets the record for `key`, if any: its value can no longer come back. */
  drop(key: K): void {
    this.#detach(key);
  }

  /** Forgets every record. */
  clear(): void {
    for (const record of this.#live) this.#registry.unregister(record);
    this.#live.clear();
    this.#byPrimitive = new Map();
    this.#byObject = new WeakMap();
  }

  #detach(key: K): SoftRecord | undefined {
    let record: SoftRecord | undefined;
    if (isObjectLike(key)) {
      record = this.#byObject.get(key);
      if (record === undefined) return undefined;
      this.#byObject.delete(key);
    } else {
      if (this.#byPrimitive.size === 0) return undefined;
      record = this.#byPrimitive.get(key);
      if (record === undefined) return undefined;
      this.#byPrimitive.delete(key);
    }
    if (!this.#live.delete(record)) return undefined; // collected, or from before a clear
    this.#registry.unregister(record);
    return record;
  }

  #collected(record: SoftRecord): void {
    if (!this.#live.delete(record)) return;
    // An object key's record goes with the key (WeakMap) or at its next lookup.
    if (this.#byPrimitive.get(record.key) === record) this.#byPrimitive.delete(record.key);
  }
}
