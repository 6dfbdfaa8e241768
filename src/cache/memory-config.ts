import { describeValue } from '../checks.js';
import type { MemoryPressureHandler } from '../pressure/monitor.js';
import type { MemoryTelemetry } from '../telemetry/memory-telemetry.js';
import { EVICTION_STRATEGIES, isEvictionStrategy, type EvictionStrategy } from './policies/registry.js';
import type { SizeEstimator } from './size-estimator.js';

export interface MemoryConfig<V = unknown> {
  /**
   * Hard budget in bytes for the sum of the entries' sizes. Default
   * `undefined`: no budget, the cache is bounded by pressure only (the
   * pressure handler, `handlePressure`, a cleaner).
   */
  maxCacheBytes?: number | undefined;
  /** Fraction of `maxCacheBytes` at which each `set` sheds one batch. In (0, 1], default 0.7. */
  moderateThreshold?: number | undefined;
  /** Fraction of `maxCacheBytes` at which a `set` sheds down below `moderateThreshold`. In (0, 1], above `moderateThreshold`, default 0.9. */
  criticalThreshold?: number | undefined;
  /** Entries per shedding batch. A positive integer, default 10. */
  evictionBatchSize?: number | undefined;
  /** Eviction order. Default `'lru'`. */
  strategy?: EvictionStrategy | undefined;
  /**
   * Bytes of a value, called once per `set` that does not pass `size`
   * (never on `get`). Default `defaultSizeEstimator`.
   */
  sizeEstimator?: SizeEstimator<V> | undefined;
  /** Outside pressure to shed on, e.g. a Node or browser memory monitor. */
  pressureHandler?: MemoryPressureHandler | undefined;
  telemetry?: MemoryTelemetry | undefined;
  /**
   * Keep evicted values weakly reachable (a soft tier): until the garbage
   * collector reclaims an evicted value, a `get` of its key revives it (a
   * hit, counted in `metrics.softHits`, stored again with the size it had).
   * The tier never keeps a value alive and counts for nothing in the budget;
   * `emergency` pressure, `delete`, `clear` and a new `set` of the key drop
   * a held value. Only objects and functions can be held (`WeakRef` cannot
   * point at a primitive). Default `false`.
   */
  softEviction?: boolean | undefined;
}

/** Options of `MemoryManager.set`. */
export interface SetOptions {
  /**
   * Bytes to account for the value, instead of calling the size estimator.
   * A non-negative number up to `Number.MAX_SAFE_INTEGER`; fractions are
   * rounded up to whole bytes. A `RangeError` if it would bring
   * `currentUsage` past `Number.MAX_SAFE_INTEGER` (the sum would round).
   */
  size?: number | undefined;
  /**
   * `true` pins the key first, as `pin(key)` does. `false` or omitted leaves
   * the key's pin as it is (only `unpin` and `clear` remove pins).
   */
  pin?: boolean | undefined;
}

/** The configuration with defaults applied, after validation. */
export interface ResolvedMemoryConfig<V> {
  maxCacheBytes: number | undefined;
  moderateThreshold: number;
  criticalThreshold: number;
  evictionBatchSize: number;
  strategy: EvictionStrategy;
  sizeEstimator: SizeEstimator<V> | undefined;
  pressureHandler: MemoryPressureHandler | undefined;
  telemetry: MemoryTelemetry | undefined;
  softEviction: boolean;
}

export const DEFAULT_MODERATE_THRESHOLD = 0.7;
export const DEFAULT_CRITICAL_THRESHOLD = 0.9;
export const DEFAULT_EVICTION_BATCH_SIZE = 10;

function threshold(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) {
    throw new RangeError(`${field} must be a fraction in (0, 1], got ${describeValue(value)}`);
  }
  return value;
}

/** Checks every field and applies the defaults; a `RangeError` or `TypeError` names the field and the value. */
export function resolveMemoryConfig<V>(config: MemoryConfig<V> | undefined): ResolvedMemoryConfig<V> {
  if (config === undefined) config = {};
  else if (typeof config !== 'object' || config === null) {
    throw new TypeError(`config must be an object, got ${describeValue(config)}`);
  }
  const { maxCacheBytes, evictionBatchSize, strategy, sizeEstimator, pressureHandler, telemetry } = config;
  if (maxCacheBytes !== undefined && (typeof maxCacheBytes !== 'number' || !(maxCacheBytes > 0) || maxCacheBytes === Infinity)) {
    throw new RangeError(`maxCacheBytes must be a positive finite number of bytes (or undefined for no budget), got ${describeValue(maxCacheBytes)}`);
  }
  const moderateThreshold = threshold('moderateThreshold', config.moderateThreshold, DEFAULT_MODERATE_THRESHOLD);
  const criticalThreshold = threshold('criticalThreshold', config.criticalThreshold, DEFAULT_CRITICAL_THRESHOLD);
  if (moderateThreshold >= criticalThreshold) {
    throw new RangeError(
      `moderateThreshold (${moderateThreshold}) must be below criticalThreshold (${criticalThreshold})`,
    );
  }
  if (evictionBatchSize !== undefined && (typeof evictionBatchSize !== 'number' || !Number.isSafeInteger(evictionBatchSize) || evictionBatchSize < 1)) {
    throw new RangeError(`evictionBatchSize must be a positive integer, got ${describeValue(evictionBatchSize)}`);
  }
  if (strategy !== undefined && !isEvictionStrategy(strategy)) {
    throw new RangeError(`strategy must be one of ${EVICTION_STRATEGIES.join(', ')}, got ${describeValue(strategy)}`);
  }
  if (sizeEstimator !== undefined && typeof sizeEstimator !== 'function') {
    throw new TypeError(`sizeEstimator must be a function (value) => bytes, got ${describeValue(sizeEstimator)}`);
  }
  if (pressureHandler !== undefined) {
    const pressure = (pressureHandler as Partial<MemoryPressureHandler> | null)?.pressure;
    if (typeof pressure !== 'object' || pressure === null || typeof pressure.subscribe !== 'function') {
      throw new TypeError(`pressureHandler must have a pressure stream with subscribe(), got ${describeValue(pressureHandler)}`);
    }
  }
  if (telemetry !== undefined && (typeof telemetry !== 'object' || telemetry === null || typeof telemetry.recordCacheSize !== 'function')) {
    throw new TypeError(`telemetry must implement MemoryTelemetry (recordCacheSize, recordEviction, recordPressureChange), got ${describeValue(telemetry)}`);
  }
  const softEviction = config.softEviction;
  if (softEviction !== undefined && typeof softEviction !== 'boolean') {
    throw new TypeError(`softEviction must be a boolean, got ${describeValue(softEviction)}`);
  }
  if (softEviction === true && (typeof WeakRef !== 'function' || typeof FinalizationRegistry !== 'function')) {
    throw new TypeError('softEviction needs WeakRef and FinalizationRegistry, which this platform lacks');
  }
  return {
    maxCacheBytes,
    moderateThreshold,
    criticalThreshold,
    evictionBatchSize: evictionBatchSize ?? DEFAULT_EVICTION_BATCH_SIZE,
    strategy: strategy ?? 'lru',
    sizeEstimator,
    pressureHandler,
    telemetry,
    softEviction: softEviction === true,
  };
}

/**
 * The smallest whole number of bytes b with b / max >= fraction (Infinity
 * without a budget): where usage reaches a threshold, computed once so the
 * hot path compares integers instead of dividing.
 */
export function thresholdBytes(max: number, fraction: number): number {
  if (max === Infinity) return Infinity;
  let bytes = Math.ceil(max * fraction);
  while (bytes > 0 && (bytes - 1) / max >= fraction) bytes--;
  while (bytes / max < fraction) bytes++;
  return bytes;
}
