/**
 * Stand-ins for what a browser exposes, for the Node unit tests of the
 * browser sources. The real thing runs in Chromium in chromium.test.ts.
 */
import type { BrowserMemoryEnvironment, PerformanceMemoryInfo, UserAgentSpecificMemoryResult } from '../../src/browser/index.js';

export const MIB = 1024 * 1024;
/** Desktop Chromium's heap limit: 4 GiB old generation + 96 MiB young generation. */
export const CHROMIUM_HEAP_LIMIT = 4_395_630_592;

/** A mutable `performance.memory`. */
export class FakeHeap implements PerformanceMemoryInfo {
  usedJSHeapSize: number;
  totalJSHeapSize: number;
  jsHeapSizeLimit: number;
  constructor(usedBytes: number, limitBytes = CHROMIUM_HEAP_LIMIT) {
    this.usedJSHeapSize = usedBytes;
    this.totalJSHeapSize = usedBytes;
    this.jsHeapSizeLimit = limitBytes;
  }
}

interface Deferred {
  resolve(result: UserAgentSpecificMemoryResult): void;
  reject(error: unknown): void;
}

/** `measureUserAgentSpecificMemory` whose measurements the test settles by hand. */
export class FakeUserAgentMemory {
  readonly #waiting: Deferred[] = [];
  calls = 0;
  /** `this` of each call: Chromium throws "Illegal invocation" unless it is the Performance object. */
  readonly receivers: unknown[] = [];

  measure(receiver: unknown): Promise<UserAgentSpecificMemoryResult> {
    this.calls++;
    this.receivers.push(receiver);
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  get pending(): number {
    return this.#waiting.length;
  }

  resolveNext(bytes: number): void {
    const next = this.#waiting.shift();
    if (next === undefined) throw new Error('no measurement is pending');
    next.resolve({ bytes, breakdown: [{ bytes, types: ['JavaScript'] }] });
  }

  /** Settles with an arbitrary value, for malformed results. */
  resolveNextRaw(result: unknown): void {
    const next = this.#waiting.shift();
    if (next === undefined) throw new Error('no measurement is pending');
    next.resolve(result as UserAgentSpecificMemoryResult);
  }

  rejectNext(error: unknown): void {
    const next = this.#waiting.shift();
    if (next === undefined) throw new Error('no measurement is pending');
    next.reject(error);
  }
}

export interface FakeBrowser {
  environment: BrowserMemoryEnvironment;
  heap: FakeHeap | undefined;
  uasm: FakeUserAgentMemory | undefined;
}

/** A Chromium-like environment: `performance.memory` unless `heap: undefined`, the UASM API when `isolated`. */
export function fakeBrowser(o: { heap?: FakeHeap | undefined; isolated?: boolean; uasm?: boolean } = {}): FakeBrowser {
  const heap = 'heap' in o ? o.heap : new FakeHeap(100 * MIB);
  const isolated = o.isolated ?? false;
  const uasm = (o.uasm ?? isolated) ? new FakeUserAgentMemory() : undefined;
  const performance: Record<string, unknown> = {};
  if (heap !== undefined) performance['memory'] = heap;
  if (uasm !== undefined) {
    performance['measureUserAgentSpecificMemory'] = function (this: unknown) {
      return uasm.measure(this);
    };
  }
  return { environment: { performance, crossOriginIsolated: isolated }, heap, uasm };
}

/** Lets settled promises run their continuations. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
