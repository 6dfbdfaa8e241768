/**
 * The configured budget: for browsers that expose no memory figure at all
 * (Firefox, Safari), the application says what it holds and how much it may
 * hold. `measure` is typically what the app's own caches account for, e.g.
 * `() => memoryManager.metrics.currentUsage`, so pressure here means "the app
 * is near the budget it chose", not "the browser is near its limit".
 *
 * Cost: one call to `measure` per sample.
 */
import type { MemorySample } from '../pressure/memory-state.js';
import { rejectUnknownOptions, requireFunction, requireMeasuredBytes, requireOptionsObject, requirePositiveBytes } from './validation.js';

export interface BudgetProviderOptions {
  /** How many bytes the app may hold. Required. */
  budgetBytes: number;
  /** Returns the bytes the app holds now. Required. */
  measure: () => number;
  /** `state.source` of the samples. Default `'budget'`. */
  source?: string;
}

const OPTION_NAMES = ['budgetBytes', 'measure', 'source'] as const;

/**
 * A memory provider comparing `measure()` with `budgetBytes`. A `measure`
 * that throws or returns a negative, NaN or infinite figure makes the sample
 * fail (the monitor reports it on `errors` and keeps its last state).
 */
export function budgetProvider(options: BudgetProviderOptions): () => MemorySample {
  if (options === undefined) {
    throw new TypeError('budgetProvider: options { budgetBytes, measure } are required');
  }
  const opts = requireOptionsObject('budgetProvider', options) as Partial<BudgetProviderOptions>;
  rejectUnknownOptions('budgetProvider', opts, OPTION_NAMES);
  const budgetBytes = requirePositiveBytes('budgetBytes', opts.budgetBytes);
  const measure = requireFunction<() => number>('measure', opts.measure);
  if (opts.source !== undefined && (typeof opts.source !== 'string' || opts.source === '')) {
    throw new TypeError(`source must be a non-empty string, got ${String(opts.source)}`);
  }
  const source = opts.source ?? 'budget';
  return () => {
    const usedBytes = requireMeasuredBytes('measure()', measure());
    return { usedBytes, availableBytes: Math.max(0, budgetBytes - usedBytes), source };
  };
}
