/**
 * The sketch increments that `tinylfu`'s requests defer, and the estimates
 * kept per node (see docs/design/tinylfu.md, "Cheap requests").
 *
 * - A request's increment (a hit's, or a new entry's) goes into a buffer of
 *   64 hashes (`record`), applied in one batch (`applyPending`) by the
 *   policy's next insertion once it is full, so the batch's memory reads
 *   overlap. A hit that finds it full is not counted (see
 *   docs/design/tinylfu.md, "Cheap requests": a call on the hit path costs
 *   more than what it drops); an insertion applies a full buffer before it
 *   records its own, which is never dropped. A 1024-bit filter of the
 *   buffered hashes (one bit per hash, from its top 10 bits) tells a duel
 *   whether one of its duelists may be in the buffer (`mayBeBuffered`):
 *   only then is it applied first.
 * - Tags: per node, the key's hash (bits 4 to 31; the sketch and the filter
 *   use only those) and, in bits 0 to 3, its kept estimate: the sketch's
 *   estimate for the key as of its last applied increment, halved with the
 *   sketch since (`ageEstimates`). Applying an increment writes the
 *   estimate it gave into the node's tag, unless the node changed hands
 *   meanwhile (its hash bits differ).
 *
 * The tags array is the policy's, shared: the policy writes a new entry's
 * hash and reads the estimates for its duels, and sets `tags` again
 * whenever it reallocates the array. `record` is on the request path:
 * small, so the engine inlines it.
 */
import type { FrequencySketch } from './frequency-sketch.js';

// `const enum`s, whose values the compiler writes into the code: in a bundle
// a module's `const` becomes a variable, read with a type check at every use.
/** Requests buffered before their sketch increments are applied together. */
const enum Pending {
  REQUESTS = 64,
}
/** A tag's hash bits and its kept estimate (0 to 15, as the sketch's counters): as the policy's `Tag`. */
const enum Tag {
  HASH_BITS = ~15,
  ESTIMATE_BITS = 15,
}

export class DeferredIncrements {
  readonly #sketch: FrequencySketch;
  /** The policy's tags, per node (see the top comment): set by the policy whenever it allocates them. */
  tags: Int32Array = new Int32Array(0);
  /** The sketch's halvings that the kept estimates reflect. */
  #agedTo: number;
  // Hashes of recent requests whose increments are still to be applied,
  // and their nodes (to keep the estimates the increments give).
  readonly #pending = new Int32Array(Pending.REQUESTS);
  readonly #pendingNodes = new Int32Array(Pending.REQUESTS);
  #pendingCount = 0;
  /** One bit per 1024 for the buffered hashes (`hash >>> 22`): a hash whose bit is clear has nothing buffered. */
  readonly #filter = new Int32Array(32);

  constructor(sketch: FrequencySketch) {
    this.#sketch = sketch;
    this.#agedTo = sketch.halvings;
  }

  /**
   * Forgets everything buffered; the estimates (in new tags) are taken as
   * of the sketch's current halvings (after its reset).
   */
  clear(): void {
    this.#pendingCount = 0;
    this.#filter.fill(0);
    this.#agedTo = this.#sketch.halvings;
  }

  /** Requests buffered. */
  get pendingCount(): number {
    return this.#pendingCount;
  }

  /** Whether the buffer is full (hits are then dropped until it is applied). */
  get full(): boolean {
    return this.#pendingCount === Pending.REQUESTS;
  }

  /** Buffers a request's sketch increment; dropped while the buffer is full (the policy applies it at its next insertion, before recording the new entry's). */
  record(hash: number, node: number): void {
    const pending = this.#pendingCount;
    // Full: dropped (the policy applies a full buffer at its next insertion).
    if (pending === Pending.REQUESTS) return;
    this.#pending[pending] = hash;
    this.#pendingNodes[pending] = node;
    const filter = this.#filter;
    filter[hash >>> 27] = filter[hash >>> 27]! | (1 << (hash >>> 22));
    this.#pendingCount = pending + 1;
  }

  /** Whether the filter's bit for this hash (set by `record`) is set: false means nothing buffered for it. */
  mayBeBuffered(hash: number): boolean {
    return ((this.#filter[hash >>> 27]! >>> (hash >>> 22)) & 1) !== 0;
  }

  /** Applies the buffered increments. */
  applyPending(): void {
    const count = this.#pendingCount;
    if (count === 0) return;
    this.#pendingCount = 0;
    // The engine's fill, not a loop of 32 stores: 14 instructions fewer per evicting set, 8 per hit.
    this.#filter.fill(0);
    // Each hash comes back with its key's estimate in its low bits (the
    // tag to keep), as of the sketch's halvings after the batch.
    const pending = this.#pending;
    this.#sketch.incrementAll(pending, count);
    if (this.#sketch.halvings !== this.#agedTo) this.ageEstimates();
    const nodes = this.#pendingNodes;
    const tags = this.tags;
    for (let i = 0; i < count; i++) {
      // Unless the node changed hands since (its entry removed, another
      // added there).
      const node = nodes[i]!;
      const tag = pending[i]!;
      if (((tags[node]! ^ tag) & Tag.HASH_BITS) === 0) tags[node] = tag;
    }
  }

  /**
   * Halves every kept estimate once per halving of the sketch since they
   * were last aged (a growth or a reset of the sketch counts as four, which
   * takes any estimate to 0), so each stays what the sketch's own estimate
   * would be. O(slots), run with the halving, which is O(table): once per
   * sample period of requests. Nothing to do when the sketch has not
   * halved since.
   */
  ageEstimates(): void {
    const halvings = this.#sketch.halvings;
    if (halvings === this.#agedTo) return;
    const shift = Math.min(4, halvings - this.#agedTo);
    this.#agedTo = halvings;
    const tags = this.tags;
    for (let node = 0; node < tags.length; node++) {
      const tag = tags[node]!;
      if ((tag & Tag.ESTIMATE_BITS) !== 0) tags[node] = (tag & Tag.HASH_BITS) | ((tag & Tag.ESTIMATE_BITS) >>> shift);
    }
  }
}
