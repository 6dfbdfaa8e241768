/**
 * `performance.measureUserAgentSpecificMemory()`: the whole page's memory
 * (JS and DOM of every same-origin realm in the renderer, workers included),
 * only in cross-origin isolated pages of Chromium-based browsers.
 *
 * It is slow by design: Chromium measures during the next garbage collection
 * and forces one only after a timeout of about 20 seconds (launching with
 * `--enable-blink-features=ForceEagerMeasureMemory` makes it immediate, for
 * tests). So the sampler below keeps the last result and answers from it:
 *
 * - at most one measurement in flight, never stacked;
 * - a new one starts only when `measureIntervalMs` have passed since the
 *   previous one started (time from the injected clock);
 * - before the first result there is nothing to answer with, so the first
 *   sample waits for it (and a failed first measurement is retried at once).
 *
 * The figure is compared with `budgetBytes`, or by default with the heap
 * budget derived from `performance.memory` (Chromium exposes both). It covers
 * more than the JS heap, so against the heap budget it errs on the side of
 * pressure.
 */
import { clockOption, type Clock } from '../clock.js';
import type { MemorySample } from '../pressure/memory-state.js';
import {
  readPerformanceMemory,
  userAgentSpecificMemoryUnavailableReason,
  validateEnvironment,
  type BrowserMemoryEnvironment,
} from './environment.js';
import { DEFAULT_HEAP_LIMIT_FRACTION, heapBudgetBytes } from './performance-memory-provider.js';
import { requireDurationMs } from '../checks.js';
import { rejectUnknownOptions, requireFraction, requireMeasuredBytes, requireOptionsObject, requirePositiveBytes } from './validation.js';

/** Minimum time between the starts of two measurements. */
export const DEFAULT_MEASURE_INTERVAL_MS = 10_000;

export interface UserAgentSpecificMemoryProviderOptions {
  /** The page's budget. Default: `heapLimitFraction × performance.memory.jsHeapSizeLimit`; required where `performance.memory` is missing. */
  budgetBytes?: number;
  /** Share of `jsHeapSizeLimit` used as the default budget, in (0, 1]. Default 0.75. */
  heapLimitFraction?: number;
  /** Minimum time between the starts of two measurements. Default 10000. */
  measureIntervalMs?: number;
  /** Time source for the rate limit. Default: the library's default clock. */
  clock?: Clock;
  /** Where to find `performance` and `crossOriginIsolated`. Default `globalThis`. */
  environment?: BrowserMemoryEnvironment;
}

const OPTION_NAMES = ['budgetBytes', 'heapLimitFraction', 'measureIntervalMs', 'clock', 'environment'] as const;

export interface UserAgentSpecificMemoryMeasurement {
  readonly bytes: number;
  /** Clock time at which the measurement resolved. */
  readonly measuredAt: number;
}

function toError(error: unknown): Error {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new Error(`measureUserAgentSpecificMemory failed: ${message}`, { cause: error });
}

/** Rate-limited, single-flight access to `measureUserAgentSpecificMemory`, keeping the last result. */
export class UserAgentSpecificMemorySampler {
  readonly #environment: BrowserMemoryEnvironment;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #onError: ((error: Error) => void) | undefined;
  #latest: UserAgentSpecificMemoryMeasurement | undefined;
  #pending: Promise<void> | undefined;
  #startedAt = -Infinity;
  #failure: Error | undefined;
  #measurements = 0;

  constructor(options: { environment: BrowserMemoryEnvironment; clock: Clock; measureIntervalMs: number; onError?: (error: Error) => void }) {
    this.#environment = options.environment;
    this.#clock = options.clock;
    this.#intervalMs = options.measureIntervalMs;
    this.#onError = options.onError;
  }

  /** The last successful measurement, if any. */
  get latest(): UserAgentSpecificMemoryMeasurement | undefined {
    return this.#latest;
  }

  /** Measurements started so far. */
  get measurementsStarted(): number {
    return this.#measurements;
  }

  /**
   * Starts a measurement unless one is in flight or the last one started
   * less than `measureIntervalMs` ago (the interval is waived while there is
   * no result yet). Returns the measurement in flight, if any; it never rejects.
   */
  refresh(): Promise<void> | undefined {
    if (this.#pending !== undefined) return this.#pending;
    const now = this.#clock.now();
    if (this.#latest !== undefined && now - this.#startedAt < this.#intervalMs) return undefined;
    this.#startedAt = now;
    this.#measurements++;
    let measured: Promise<unknown>;
    try {
      const performance = this.#environment.performance;
      const measure = performance?.measureUserAgentSpecificMemory;
      if (typeof measure !== 'function') throw new TypeError('performance.measureUserAgentSpecificMemory is no longer available');
      measured = Promise.resolve(measure.call(performance));
    } catch (error) {
      measured = Promise.reject(error);
    }
    const pending = measured.then(
      (result) => {
        const bytes = requireMeasuredBytes('measureUserAgentSpecificMemory().bytes', (result as { bytes?: unknown } | null)?.bytes);
        this.#latest = { bytes, measuredAt: this.#clock.now() };
        this.#failure = undefined;
      },
    ).catch((error: unknown) => {
      const failure = toError(error);
      this.#failure = failure;
      this.#onError?.(failure);
    }).finally(() => {
      if (this.#pending === pending) this.#pending = undefined;
    });
    this.#pending = pending;
    return pending;
  }

  /** The failure of the last measurement, once: later calls return undefined until another one fails. */
  takeFailure(): Error | undefined {
    const failure = this.#failure;
    this.#failure = undefined;
    return failure;
  }
}

/** Resolves the budget for `measureUserAgentSpecificMemory` figures, or explains why there is none. */
export function userAgentSpecificMemoryBudget(environment: BrowserMemoryEnvironment, heapLimitFraction: number, budgetBytes: number | undefined): () => number {
  if (budgetBytes !== undefined) return () => budgetBytes;
  if (readPerformanceMemory(environment) === undefined) {
    throw new TypeError('measureUserAgentSpecificMemory needs budgetBytes in a browser without performance.memory (nothing else tells how much the page may use)');
  }
  return () => {
    const memory = readPerformanceMemory(environment);
    if (memory === undefined) throw new TypeError('performance.memory is no longer available to derive the budget; pass budgetBytes');
    return heapBudgetBytes(memory, heapLimitFraction);
  };
}

export function userAgentSpecificMemorySample(bytes: number, budgetBytes: number): MemorySample {
  return { usedBytes: bytes, availableBytes: Math.max(0, budgetBytes - bytes), source: 'measureUserAgentSpecificMemory' };
}

/**
 * A memory provider over `performance.measureUserAgentSpecificMemory()`.
 * Answers from the last measurement and refreshes it in the background
 * (see the rate limit above); the first call waits for the first
 * measurement. A measurement that failed is thrown by the next call. A
 * `TypeError` at creation when the page is not cross-origin isolated, the
 * browser lacks the API, or no budget can be found.
 */
export function uaSpecificMemoryProvider(options?: UserAgentSpecificMemoryProviderOptions): () => MemorySample | Promise<MemorySample> {
  const opts = requireOptionsObject('uaSpecificMemoryProvider', options) as UserAgentSpecificMemoryProviderOptions;
  rejectUnknownOptions('uaSpecificMemoryProvider', opts, OPTION_NAMES);
  const budgetBytes = opts.budgetBytes === undefined ? undefined : requirePositiveBytes('budgetBytes', opts.budgetBytes);
  const fraction = opts.heapLimitFraction === undefined ? DEFAULT_HEAP_LIMIT_FRACTION : requireFraction('heapLimitFraction', opts.heapLimitFraction);
  const intervalMs = opts.measureIntervalMs === undefined ? DEFAULT_MEASURE_INTERVAL_MS : requireDurationMs('measureIntervalMs', opts.measureIntervalMs);
  const environment = validateEnvironment(opts.environment);
  const unavailable = userAgentSpecificMemoryUnavailableReason(environment);
  if (unavailable !== undefined) throw new TypeError(`uaSpecificMemoryProvider: ${unavailable}`);
  const budget = userAgentSpecificMemoryBudget(environment, fraction, budgetBytes);
  const sampler = new UserAgentSpecificMemorySampler({ environment, clock: clockOption(opts.clock), measureIntervalMs: intervalMs });

  const answer = (): MemorySample => {
    const failure = sampler.takeFailure();
    if (failure !== undefined) throw failure;
    const latest = sampler.latest;
    if (latest === undefined) throw new Error('measureUserAgentSpecificMemory gave no result');
    return userAgentSpecificMemorySample(latest.bytes, budget());
  };
  return () => {
    const failure = sampler.takeFailure();
    if (failure !== undefined) throw failure;
    const pending = sampler.refresh();
    if (sampler.latest !== undefined) return userAgentSpecificMemorySample(sampler.latest.bytes, budget());
    return (pending ?? Promise.resolve()).then(answer);
  };
}
