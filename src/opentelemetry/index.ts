/**
 * nexus-store/opentelemetry: the `MemoryTelemetry` hooks as OpenTelemetry
 * metrics. The only module that imports `@opentelemetry/api` (an optional
 * peer dependency).
 *
 * Instruments (names and units follow the OpenTelemetry semantic conventions:
 * dotted lowercase namespaces, snake_case inside a component, UCUM units,
 * counters of discrete things pluralized, counts named `*.count`):
 *
 * | instrument                      | kind             | unit        | attributes |
 * | ------------------------------- | ---------------- | ----------- | ---------- |
 * | `nexus_store.cache.size`        | observable gauge | `By`        | |
 * | `nexus_store.cache.entry.count` | observable gauge | `{entry}`   | |
 * | `nexus_store.pressure.level`    | observable gauge | `1`         | (rank: 0 normal, 1 moderate, 2 critical, 3 emergency) |
 * | `nexus_store.pressure.changes`  | counter          | `{change}`  | `nexus_store.pressure.level`, `nexus_store.pressure.previous_level` |
 * | `nexus_store.cache.evictions`   | counter          | `{eviction}`| `nexus_store.eviction.reason`, `nexus_store.pressure.level` |
 * | `nexus_store.cache.evicted`     | counter          | `By`        | `nexus_store.eviction.reason` |
 * | `nexus_store.cleanup.duration`  | histogram        | `s`         | `nexus_store.cleaner.name`, `nexus_store.cleanup.success` |
 * | `nexus_store.cleanup.freed`     | counter          | `By`        | `nexus_store.cleaner.name` |
 * | `nexus_store.errors`            | counter          | `{error}`   | `error.type` (the error's name, e.g. `RangeError`) |
 *
 * Every measurement also carries the `attributes` given at creation (for
 * example `{ 'nexus_store.cache.name': 'images' }`), so one meter can serve
 * several caches, each with its own telemetry object.
 *
 * Why a `nexus_store.` namespace rather than `cache.*`: the conventions ask
 * application and library authors not to invent names inside namespaces that
 * OpenTelemetry may define later, and a generic `cache.size` would mean
 * different things for different caches. The prefix is the package name with
 * the separator the conventions use inside a component.
 *
 * Why observable gauges for size, entries and level: the hooks are called on
 * the cache's hot path, so they only store the latest value (two field
 * writes); the SDK reads it at collection time through one batch callback.
 * Synchronous `Gauge` would also work, but only exists from API 1.9, and the
 * peer range starts at 1.4.
 *
 * Cost: recordCacheSize and recordPressureChange are O(1) field writes plus,
 * for a change, one counter add; recordEviction is two counter adds (the SDK
 * hashes the attribute set); recordCleanup is O(results).
 */
import type { Attributes, AttributeValue, BatchObservableResult, Counter, Histogram, Meter, ObservableGauge } from '@opentelemetry/api';
import type { MemoryTelemetry } from '../telemetry/memory-telemetry.js';
import type { CleanupResultLike, EvictionEventLike } from '../telemetry/events.js';
import type { MemoryPressureLevel } from '../pressure-levels.js';

export interface OpenTelemetryTelemetryOptions {
  /** Where instruments are created, e.g. `metrics.getMeter('my-service')` from `@opentelemetry/api`. */
  meter: Meter;
  /** Added to every measurement; use it to tell several caches apart. Default none. */
  attributes?: Attributes;
}

/** The telemetry hooks, plus `dispose()` to stop reporting the gauges (instruments stay registered on the meter). */
export interface OpenTelemetryTelemetry extends MemoryTelemetry {
  recordCleanup(results: CleanupResultLike[]): void;
  recordError(error: Error): void;
  dispose(): void;
}

/** The instrument names, exported so dashboards and tests do not spell them twice. */
export const INSTRUMENT_NAMES = Object.freeze({
  cacheSize: 'nexus_store.cache.size',
  cacheEntryCount: 'nexus_store.cache.entry.count',
  pressureLevel: 'nexus_store.pressure.level',
  pressureChanges: 'nexus_store.pressure.changes',
  evictions: 'nexus_store.cache.evictions',
  evictedBytes: 'nexus_store.cache.evicted',
  cleanupDuration: 'nexus_store.cleanup.duration',
  cleanupFreed: 'nexus_store.cleanup.freed',
  errors: 'nexus_store.errors',
} as const);

/** The attribute keys this module sets. */
export const ATTRIBUTE_NAMES = Object.freeze({
  evictionReason: 'nexus_store.eviction.reason',
  pressureLevel: 'nexus_store.pressure.level',
  previousPressureLevel: 'nexus_store.pressure.previous_level',
  cleanerName: 'nexus_store.cleaner.name',
  cleanupSuccess: 'nexus_store.cleanup.success',
  errorType: 'error.type',
} as const);

/** The value `nexus_store.pressure.level` reports for each level. */
export const PRESSURE_LEVEL_RANK: Readonly<Record<MemoryPressureLevel, number>> = Object.freeze({
  normal: 0,
  moderate: 1,
  critical: 2,
  emergency: 3,
});

// The duration buckets the HTTP conventions recommend, in seconds: cleaners
// range from microseconds (dropping a Map) to the 5 s default timeout.
const DURATION_BUCKETS_S = [0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

const METER_METHODS = ['createCounter', 'createHistogram', 'createObservableGauge', 'addBatchObservableCallback', 'removeBatchObservableCallback'] as const;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object without ${METER_METHODS.filter((m) => typeof (value as Record<string, unknown>)[m] !== 'function').join(', ')}`;
  return `${typeof value} ${String(value)}`;
}

function validateAttributes(attributes: unknown): Attributes {
  if (attributes === undefined) return {};
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    throw new TypeError(`attributes must be an object of attribute values, got ${String(attributes)}`);
  }
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (!isAttributeValue(value)) {
      throw new TypeError(`attributes.${key} must be a string, number, boolean or an array of one of them, got ${String(value)}`);
    }
    out[key] = value;
  }
  return Object.freeze(out);
}

function isAttributeValue(value: unknown): value is AttributeValue {
  const t = typeof value;
  if (t === 'string' || t === 'number' || t === 'boolean') return true;
  return Array.isArray(value) && value.every((v) => v === null || v === undefined || ['string', 'number', 'boolean'].includes(typeof v));
}

function nonNegative(value: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/**
 * Creates the telemetry hooks on `meter`. Pass the result as the `telemetry`
 * option of a `MemoryManager` (or a store's `memory` config), a
 * `ResourceCleanupCoordinator` or a monitor.
 *
 * Throws a `TypeError` when `meter` does not look like an OpenTelemetry
 * `Meter` or an attribute value is not an attribute value.
 */
export function createOpenTelemetryTelemetry(options: OpenTelemetryTelemetryOptions): OpenTelemetryTelemetry {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options must be an object with a meter, got ${String(options)}`);
  }
  const meter: unknown = options.meter;
  if (typeof meter !== 'object' || meter === null || METER_METHODS.some((m) => typeof (meter as Record<string, unknown>)[m] !== 'function')) {
    throw new TypeError(`meter must be an OpenTelemetry Meter (from metrics.getMeter() or a MeterProvider), got ${describe(meter)}`);
  }
  return new OpenTelemetryAdapter(meter as Meter, validateAttributes(options.attributes));
}

class OpenTelemetryAdapter implements OpenTelemetryTelemetry {
  readonly #meter: Meter;
  readonly #attributes: Attributes;
  readonly #sizeGauge: ObservableGauge;
  readonly #entriesGauge: ObservableGauge;
  readonly #levelGauge: ObservableGauge;
  readonly #pressureChanges: Counter;
  readonly #evictions: Counter;
  readonly #evictedBytes: Counter;
  readonly #cleanupDuration: Histogram;
  readonly #cleanupFreed: Counter;
  readonly #errors: Counter;
  readonly #observe = (result: BatchObservableResult): void => this.#report(result);
  // The latest values, read at collection time; undefined until first reported.
  #bytes: number | undefined;
  #entries: number | undefined;
  #level: MemoryPressureLevel | undefined;
  #disposed = false;

  constructor(meter: Meter, attributes: Attributes) {
    this.#meter = meter;
    this.#attributes = attributes;
    this.#sizeGauge = meter.createObservableGauge(INSTRUMENT_NAMES.cacheSize, {
      description: 'Bytes held by the cache, as its size estimator accounts them (pinned entries included).',
      unit: 'By',
    });
    this.#entriesGauge = meter.createObservableGauge(INSTRUMENT_NAMES.cacheEntryCount, {
      description: 'Entries held by the cache.',
      unit: '{entry}',
    });
    this.#levelGauge = meter.createObservableGauge(INSTRUMENT_NAMES.pressureLevel, {
      description: 'Memory pressure level as a rank: 0 normal, 1 moderate, 2 critical, 3 emergency.',
      unit: '1',
    });
    this.#pressureChanges = meter.createCounter(INSTRUMENT_NAMES.pressureChanges, {
      description: 'Pressure level changes; nexus_store.pressure.level is the new level.',
      unit: '{change}',
    });
    this.#evictions = meter.createCounter(INSTRUMENT_NAMES.evictions, {
      description: 'Entries evicted from the cache (deletes excluded), by reason: capacity, pressure or manual.',
      unit: '{eviction}',
    });
    this.#evictedBytes = meter.createCounter(INSTRUMENT_NAMES.evictedBytes, {
      description: 'Bytes evicted from the cache, by reason.',
      unit: 'By',
    });
    this.#cleanupDuration = meter.createHistogram(INSTRUMENT_NAMES.cleanupDuration, {
      description: 'Time each resource cleaner took, by cleaner and success.',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    });
    this.#cleanupFreed = meter.createCounter(INSTRUMENT_NAMES.cleanupFreed, {
      description: 'Bytes the resource cleaners reported freeing.',
      unit: 'By',
    });
    this.#errors = meter.createCounter(INSTRUMENT_NAMES.errors, {
      description: 'Errors reported by nexus-store components (size estimator failures, monitor provider failures, ...), by error.type.',
      unit: '{error}',
    });
    meter.addBatchObservableCallback(this.#observe, [this.#sizeGauge, this.#entriesGauge, this.#levelGauge]);
  }

  #with(extra: Attributes): Attributes {
    return { ...this.#attributes, ...extra };
  }

  #report(result: BatchObservableResult): void {
    if (this.#bytes !== undefined) result.observe(this.#sizeGauge, this.#bytes, this.#attributes);
    if (this.#entries !== undefined) result.observe(this.#entriesGauge, this.#entries, this.#attributes);
    if (this.#level !== undefined) result.observe(this.#levelGauge, PRESSURE_LEVEL_RANK[this.#level], this.#attributes);
  }

  recordCacheSize(bytes: number, entries: number): void {
    this.#bytes = nonNegative(bytes);
    this.#entries = nonNegative(entries);
  }

  recordEviction(event: EvictionEventLike): void {
    this.#evictions.add(1, this.#with({ [ATTRIBUTE_NAMES.evictionReason]: event.reason, [ATTRIBUTE_NAMES.pressureLevel]: event.level }));
    this.#evictedBytes.add(nonNegative(event.bytes), this.#with({ [ATTRIBUTE_NAMES.evictionReason]: event.reason }));
  }

  recordPressureChange(from: MemoryPressureLevel, to: MemoryPressureLevel): void {
    if (!Object.hasOwn(PRESSURE_LEVEL_RANK, to)) return;
    this.#level = to;
    this.#pressureChanges.add(1, this.#with({ [ATTRIBUTE_NAMES.pressureLevel]: to, [ATTRIBUTE_NAMES.previousPressureLevel]: from }));
  }

  recordCleanup(results: CleanupResultLike[]): void {
    for (const result of results) {
      const cleaner = { [ATTRIBUTE_NAMES.cleanerName]: result.cleanerName };
      this.#cleanupDuration.record(nonNegative(result.durationMs) / 1000, this.#with({ ...cleaner, [ATTRIBUTE_NAMES.cleanupSuccess]: result.success === true }));
      const freed = nonNegative(result.bytesFreed);
      if (freed > 0) this.#cleanupFreed.add(freed, this.#with(cleaner));
    }
  }

  recordError(error: Error): void {
    const type = error instanceof Error && typeof error.name === 'string' && error.name !== '' ? error.name : '_OTHER';
    this.#errors.add(1, this.#with({ [ATTRIBUTE_NAMES.errorType]: type }));
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#meter.removeBatchObservableCallback(this.#observe, [this.#sizeGauge, this.#entriesGauge, this.#levelGauge]);
  }
}
