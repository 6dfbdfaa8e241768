/**
 * Where `MemoryManager` keeps its entries: numbered slots, each a key, a
 * value and a size in bytes.
 *
 * Design
 * - Keys and values sit in two plain arrays indexed by slot, sizes in a
 *   `Uint32Array` (whole bytes; the rare size of 4 GiB or more lives in a
 *   side `Map`, the typed array holding a marker). No object is allocated
 *   per entry: the garbage collector sees a handful of large arrays, which
 *   is what makes this layout both the fastest and the smallest in
 *   JavaScript (mnemonist and lru-cache do the same).
 * - Slot 0 is never an entry, so every per-slot array (here, in the
 *   recency list, in a policy) may use index 0 as a sentinel, and 0 can
 *   mean "no slot".
 * - Freed slots are chained through `sizes` (a free slot has no size) and
 *   reused first; slots from `high` on were never used. When every slot is
 *   taken the typed array doubles, and `onGrow` tells the owner, whose own
 *   per-slot arrays must follow; `clear` shrinks back to the initial size.
 *
 * Cost: `allocate`, `release`, reads and writes are O(1); a growth copies
 * the sizes once per doubling (amortized O(1)).
 */
import { growUint32 } from './policies/policy.js';

/** Slots (index 0 included) of a new or cleared store. */
export const INITIAL_SLOT_CAPACITY = 64;

/** Sizes at or above this are kept in `#bigSizes`; the typed array holds this marker (a `const enum`, written into the code: in a bundle a `const` becomes a variable, read at every use; docs/design/tinylfu.md). */
const enum Size {
  BIG = 0xffffffff,
}

export class SlotStore<K, V> {
  /** The key in each used slot. */
  keys: (K | undefined)[] = [undefined];
  /** The value in each used slot. */
  values: (V | undefined)[] = [undefined];
  #sizes = new Uint32Array(INITIAL_SLOT_CAPACITY);
  #bigSizes: Map<number, number> | undefined;
  #capacity = INITIAL_SLOT_CAPACITY;
  #high = 1;
  /** The first free slot, 0 when none is free. */
  #freeHead = 0;
  readonly #onGrow: (capacity: number) => void;

  /** `onGrow(capacity)` runs when the slots double: the owner's per-slot arrays must hold `capacity` from then on. */
  constructor(onGrow: (capacity: number) => void) {
    this.#onGrow = onGrow;
  }

  /** Slots the per-slot arrays hold (index 0 included). */
  get capacity(): number {
    return this.#capacity;
  }

  /** Every slot below this has been used (and is used or free now); 1 for an empty store. */
  get high(): number {
    return this.#high;
  }

  /** A slot for a new entry: a freed one first, else the next never used (growing the arrays when full). */
  allocate(): number {
    const free = this.#freeHead;
    if (free !== 0) {
      this.#freeHead = this.#sizes[free]!;
      return free;
    }
    const slot = this.#high;
    if (slot === this.#capacity) this.#grow();
    this.#high = slot + 1;
    return slot;
  }

  // Apart from `allocate`, which V8 then inlines whole into the cache's `set`.
  #grow(): void {
    const capacity = this.#capacity * 2;
    this.#sizes = growUint32(this.#sizes, capacity);
    this.#capacity = capacity;
    this.#onGrow(capacity);
  }

  /** Stores an entry in a slot just allocated. */
  fill(slot: number, key: K, value: V, bytes: number): void {
    this.keys[slot] = key;
    this.values[slot] = value;
    if (bytes < Size.BIG) this.#sizes[slot] = bytes;
    else this.setSize(slot, bytes);
  }

  /** Frees a used slot: forgets its key and value (so they can be collected) and chains it for reuse. */
  release(slot: number): void {
    this.keys[slot] = undefined;
    this.values[slot] = undefined;
    const sizes = this.#sizes;
    if (sizes[slot] === Size.BIG) this.#bigSizes!.delete(slot);
    sizes[slot] = this.#freeHead;
    this.#freeHead = slot;
  }

  /** The bytes accounted for the entry in a used slot. */
  sizeOf(slot: number): number {
    const size = this.#sizes[slot]!;
    return size === Size.BIG ? this.#bigSizes!.get(slot)! : size;
  }

  setSize(slot: number, bytes: number): void {
    if (bytes < Size.BIG) {
      if (this.#sizes[slot] === Size.BIG) this.#bigSizes!.delete(slot);
      this.#sizes[slot] = bytes;
    } else {
      (this.#bigSizes ??= new Map()).set(slot, bytes);
      this.#sizes[slot] = Size.BIG;
    }
  }

  /** Frees every slot and shrinks back to `INITIAL_SLOT_CAPACITY` (the owner resets its own arrays). */
  clear(): void {
    this.keys = [undefined];
    this.values = [undefined];
    this.#sizes = new Uint32Array(INITIAL_SLOT_CAPACITY);
    this.#bigSizes = undefined;
    this.#capacity = INITIAL_SLOT_CAPACITY;
    this.#high = 1;
    this.#freeHead = 0;
  }
}
