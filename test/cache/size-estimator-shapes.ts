/**
 * The value shapes the size estimators are judged on, and a way to measure
 * what a shape really retains. Shared by test/cache/size-estimator-*.test.ts
 * and bench/estimator.bench.ts so the test and the published figures agree.
 *
 * Each factory builds a fresh copy whose strings and numbers differ from one
 * copy to the next, as cached records do (identical strings would be shared
 * by V8 and make the retained size look smaller than any real cache sees).
 * Copies come out of JSON.parse, the usual way data reaches a cache.
 */

export interface Shape {
  readonly name: string;
  readonly make: (i: number) => unknown;
}

const pad = (i: number, width: number): string => String(i).padStart(width, '0');

/** A small flat record: six fields, a few short strings, one double. */
export const smallFlat: Shape = {
  name: 'small flat object',
  make: (i) =>
    JSON.parse(
      `{"id":${100000 + i},"name":"User ${pad(i, 6)}","email":"user${pad(i, 6)}@example.com",` +
        `"active":${i % 2 === 0},"score":${(i % 1000) + 0.5},"role":"member-${pad(i % 997, 3)}"}`,
    ),
};

/** An order with a customer, an address, line items and metadata: about 2 KB of JSON. */
export const nested2k: Shape = {
  name: 'nested ~2 KB object',
  make: (i) => {
    const items = [];
    for (let k = 0; k < 11; k++) {
      items.push(
        `{"sku":"SKU-${pad(i, 6)}-${k}","title":"Item ${k} of order ${pad(i, 6)}, standard edition","quantity":${k + 1},` +
          `"unitPrice":${(k * 3.1 + (i % 100)).toFixed(2)},"discounted":${k % 3 === 0}}`,
      );
    }
    return JSON.parse(
      `{"orderId":"ORD-${pad(i, 8)}","createdAt":"2024-03-${pad((i % 28) + 1, 2)}T10:${pad(i % 60, 2)}:00.000Z",` +
        `"customer":{"id":${i},"name":"Customer ${pad(i, 6)}","email":"customer${pad(i, 6)}@example.com",` +
        `"address":{"street":"${i % 500} Long Street","city":"City ${pad(i % 1000, 4)}","zip":"${pad(i % 100000, 5)}","country":"Country ${i % 50}"}},` +
        `"items":[${items.join(',')}],` +
        `"totals":{"subtotal":${(i % 1000) + 0.25},"tax":${(i % 100) + 0.75},"shipping":${(i % 10) + 0.5},"currency":"EUR-${i % 7}"},` +
        `"tags":["tag-${i % 13}-a","tag-${i % 17}-b","tag-${i % 19}-c"],` +
        `"notes":"Please deliver order ${pad(i, 6)} to the back door after six in the evening. ` +
        `Call ahead if nobody answers; the parcel may be left with the neighbour at number ${i % 500}."}`,
    );
  },
};

/** 1000 doubles, as a series of measurements. */
export const numbers1000: Shape = {
  name: 'array of 1000 numbers',
  make: (i) => {
    const parts = new Array<string>(1000);
    for (let k = 0; k < 1000; k++) parts[k] = (((k * 7919 + i * 104729) % 100000) / 100 + 0.01).toFixed(2);
    return JSON.parse(`[${parts.join(',')}]`);
  },
};

export const SHAPES: readonly Shape[] = [smallFlat, nested2k, numbers1000];

type Gc = () => void;

function gcOrThrow(): Gc {
  const gc = (globalThis as { gc?: Gc }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc: the retained size is measured from heap deltas');
  return gc;
}

let holder: unknown[] | null = null;

/**
 * Bytes one copy of `shape` retains: the growth of the V8 heap (plus
 * ArrayBuffer memory) after `copies` copies are kept alive and the garbage
 * of building them is collected, divided by `copies`.
 */
export function measureRetainedBytes(shape: Shape, copies: number): number {
  const gc = gcOrThrow();
  // The holder is global so that V8 cannot decide it is dead before the
  // second measurement; its own slots exist before the first.
  holder = new Array<unknown>(copies).fill(0);
  gc();
  gc();
  const before = process.memoryUsage();
  for (let i = 0; i < copies; i++) holder[i] = shape.make(i);
  gc();
  gc();
  const after = process.memoryUsage();
  const kept = holder.length;
  holder = null;
  return (after.heapUsed - before.heapUsed + after.external - before.external) / kept;
}
