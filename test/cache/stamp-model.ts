// A model of the use stamps of a policy that keeps the cache's recency
// itself (`lastUse`): a test drives the policy, reports each use and each
// departure from the order here, and the model checks that the stamps sort
// the entries in the order of their last uses. It counts the renumberings
// it sees (a stamp below the one given before it).
import assert from 'node:assert/strict';
import { STAMP_LIMIT } from '../../src/cache/policies/policy.js';

/** Stamps stay below this (2^31 - 1): reaching it renumbers them. */
export { STAMP_LIMIT };

export class StampModel {
  renumbered = 0;
  readonly #policy: { lastUse(slot: number): number };
  /** Slots in the order, with the tick of their last use. */
  readonly #lastUse = new Map<number, number>();
  #tick = 0;
  #lastStamp = 0;

  constructor(policy: { lastUse(slot: number): number }) {
    this.#policy = policy;
  }

  /** `slot` was just used: added, touched or readded. */
  used(slot: number): void {
    this.#lastUse.set(slot, this.#tick++);
    const stamp = this.#policy.lastUse(slot);
    assert.ok(stamp > 0 && stamp <= STAMP_LIMIT, `stamp ${stamp}`);
    if (stamp < this.#lastStamp) this.renumbered++;
    this.#lastStamp = stamp;
  }

  /** `slot` left the order (evicted, deleted, pinned): its stamp must read 0. */
  left(slot: number, where: string): void {
    this.#lastUse.delete(slot);
    assert.equal(this.#policy.lastUse(slot), 0, `${where}: removed`);
  }

  /** Sorting `slots` (in the order or not) by stamp gives the slots in the order, least recently used first. */
  assertRecency(slots: Iterable<number>, where: string): void {
    const policy = this.#policy;
    const byStamp = [...slots].filter((s) => policy.lastUse(s) !== 0).sort((a, b) => policy.lastUse(a) - policy.lastUse(b));
    const byModel = [...this.#lastUse].sort((a, b) => a[1] - b[1]).map(([s]) => s);
    assert.deepEqual(byStamp, byModel, `${where}: recency`);
  }
}

/** A small seeded generator of numbers in [0, 1), for the model tests' random runs. */
export function lcg(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/** Takes every victim the policy offers, removing each: the eviction order. */
export function drainVictims(policy: { victim(): number; remove(slot: number): void }): number[] {
  const drained: number[] = [];
  for (let victim = policy.victim(); victim !== 0; victim = policy.victim()) {
    drained.push(victim);
    policy.remove(victim);
  }
  return drained;
}

/** The model tests' two runs over seeds 1 to 60: from low stamps, and from stamps about to be renumbered. */
export function runSeeds(run: (seed: number, slots: number, steps: number, firstStamp: number) => number): { renumbered: number } {
  for (let seed = 1; seed <= 60; seed++) run(seed, 1 + (seed % 40), 400, 0);
  let renumbered = 0;
  for (let seed = 1; seed <= 60; seed++) renumbered += run(seed, 1 + (seed % 40), 400, STAMP_LIMIT - 1 - (seed % 200));
  return { renumbered };
}
