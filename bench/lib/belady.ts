/**
 * Belady's optimal replacement (MIN), the ceiling for every online policy:
 * knowing the whole trace, on a miss with a full cache it drops the entry
 * whose next request lies farthest in the future. A requested key that is
 * never requested again, or later than everything cached, is not stored at
 * all (the optimum for a cache that may decline an entry, as TinyLFU does).
 *
 * Cost: O(n log n) for n requests.
 * 1. One backward pass fills `nextUse[i]`, the position of the next request
 *    for the key requested at i. A key's "never again" is encoded as n + i,
 *    unique per request and beyond every real position, so every pending
 *    next-use value identifies one request and therefore one key.
 * 2. A binary max-heap of next-use positions orders the cached keys. A hit
 *    pushes the key's new next use and leaves the old heap item behind; stale
 *    items are recognised (the key's current next use differs) and dropped
 *    when they reach the top. The heap holds at most one item per request.
 */

/** Hit ratio of Belady's MIN over `trace` with room for `capacity` unit-size entries. */
export function beladyHitRatio(trace: Int32Array, capacity: number): number {
  const n = trace.length;
  if (n === 0) return 0;
  // Dense ids, so per-key state fits in typed arrays.
  const idOf = new Map<number, number>();
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const key = trace[i]!;
    let id = idOf.get(key);
    if (id === undefined) {
      id = idOf.size;
      idOf.set(key, id);
    }
    ids[i] = id;
  }
  const keyCount = idOf.size;

  const nextUse = new Float64Array(n);
  const seenAt = new Float64Array(keyCount).fill(-1);
  for (let i = n - 1; i >= 0; i--) {
    const id = ids[i]!;
    const at = seenAt[id]!;
    nextUse[i] = at < 0 ? n + i : at;
    seenAt[id] = i;
  }
  const idAtUse = (use: number): number => ids[use >= n ? use - n : use]!;

  // Current next use of each cached key; -1 when not cached.
  const pending = new Float64Array(keyCount).fill(-1);
  const heap = new Float64Array(n + 1);
  let heapSize = 0;
  const push = (value: number): void => {
    let i = heapSize++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]! >= value) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = value;
  };
  const pop = (): void => {
    const last = heap[--heapSize]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= heapSize) break;
      if (child + 1 < heapSize && heap[child + 1]! > heap[child]!) child++;
      if (heap[child]! <= last) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  };
  /** Drops stale items from the top; then the top is the farthest cached next use. */
  const cleanTop = (): void => {
    while (heapSize > 0 && pending[idAtUse(heap[0]!)] !== heap[0]) pop();
  };

  let cached = 0;
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    const next = nextUse[i]!;
    if (pending[id]! >= 0) {
      hits++;
      pending[id] = next;
      push(next);
      continue;
    }
    if (next >= n) continue; // never requested again: not worth a slot
    if (cached < capacity) {
      cached++;
    } else {
      cleanTop();
      const farthest = heap[0]!;
      if (farthest <= next) continue; // everything cached is needed sooner
      pending[idAtUse(farthest)] = -1;
      pop();
    }
    pending[id] = next;
    push(next);
  }
  return hits / n;
}
