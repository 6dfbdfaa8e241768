/**
 * `performance.memory` (Chromium): the JS heap of this renderer against the
 * point where V8 gives up.
 *
 * The budget: `jsHeapSizeLimit` is V8's heap limit, young-generation reserve
 * included, and V8 does not run until it is full. It aborts with
 * "ineffective mark-compacts near heap limit" once several collections in a
 * row leave at least 80% of the old generation live. 75% of
 * `jsHeapSizeLimit` stays under that point whenever the young-generation
 * reserve is under 6% of the limit (desktop Chromium: 96 MiB of 4192 MiB),
 * so the default thresholds fire before the tab dies.
 *
 * Cost: one property read per sample (Chromium caches the figure for 50 ms).
 * Precision: exact while the renderer is locked to one site (desktop
 * Chromium's default) or with `--enable-precise-memory-info`; otherwise
 * Chromium rounds it to coarse buckets and refreshes it every 20 minutes
 * (`detectBrowserMemorySupport()` tells which).
 */
import type { MemorySample } from '../pressure/memory-state.js';
import { readPerformanceMemory, validateEnvironment, type BrowserMemoryEnvironment, type PerformanceMemoryInfo } from './environment.js';
import { rejectUnknownOptions, requireFraction, requireMeasuredBytes, requireOptionsObject, requirePositiveBytes } from './validation.js';

/** The share of `jsHeapSizeLimit` treated as the heap's budget. */
export const DEFAULT_HEAP_LIMIT_FRACTION = 0.75;

export interface PerformanceMemoryProviderOptions {
  /** Share of `jsHeapSizeLimit` treated as the budget, in (0, 1]. Default 0.75. */
  heapLimitFraction?: number;
  /** A smaller budget of your own: the heap budget is the lesser of this and the heap-derived one. Default none. */
  budgetBytes?: number;
  /** Where to find `performance`. Default `globalThis`. */
  environment?: BrowserMemoryEnvironment;
}

const OPTION_NAMES = ['heapLimitFraction', 'budgetBytes', 'environment'] as const;

/** The bytes the JS heap may use before pressure reaches 100%: the lesser of `budgetBytes` and `heapLimitFraction × jsHeapSizeLimit`. */
export function heapBudgetBytes(memory: PerformanceMemoryInfo, heapLimitFraction = DEFAULT_HEAP_LIMIT_FRACTION, budgetBytes?: number): number {
  const limit = memory.jsHeapSizeLimit;
  if (typeof limit !== 'number' || !Number.isFinite(limit) || limit <= 0) {
    throw new TypeError(`performance.memory.jsHeapSizeLimit must be a positive finite number of bytes, got ${String(limit)}`);
  }
  const heapBudget = heapLimitFraction * limit;
  return budgetBytes === undefined ? heapBudget : Math.min(budgetBytes, heapBudget);
}

/**
 * A memory provider over `performance.memory`: `usedBytes` is
 * `usedJSHeapSize`, `availableBytes` what is left of the heap budget (0 once
 * over it), `source` `'performance.memory'`. A `TypeError` at creation when
 * the browser has no `performance.memory`.
 */
export function performanceMemoryProvider(options?: PerformanceMemoryProviderOptions): () => MemorySample {
  const opts = requireOptionsObject('performanceMemoryProvider', options) as PerformanceMemoryProviderOptions;
  rejectUnknownOptions('performanceMemoryProvider', opts, OPTION_NAMES);
  const fraction = opts.heapLimitFraction === undefined ? DEFAULT_HEAP_LIMIT_FRACTION : requireFraction('heapLimitFraction', opts.heapLimitFraction);
  const budgetBytes = opts.budgetBytes === undefined ? undefined : requirePositiveBytes('budgetBytes', opts.budgetBytes);
  const environment = validateEnvironment(opts.environment);
  if (readPerformanceMemory(environment) === undefined) {
    throw new TypeError('performanceMemoryProvider: this browser does not expose performance.memory (only Chromium-based browsers do); use budgetProvider instead');
  }
  return () => {
    const memory = readPerformanceMemory(environment);
    if (memory === undefined) throw new TypeError('performance.memory is no longer available');
    const usedBytes = requireMeasuredBytes('performance.memory.usedJSHeapSize', memory.usedJSHeapSize);
    const budget = heapBudgetBytes(memory, fraction, budgetBytes);
    return { usedBytes, availableBytes: Math.max(0, budget - usedBytes), source: 'performance.memory' };
  };
}
