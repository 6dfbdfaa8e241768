/**
 * createBrowserMemoryMonitor: a PollingMemoryMonitor over every memory signal
 * this page has, reporting the most pressing one.
 *
 * Signals, in order of preference (ties in usage go to the earlier one):
 *
 * 1. `measureUserAgentSpecificMemory`: the whole page (JS, DOM, workers), in
 *    cross-origin isolated Chromium pages. Complete but lagging: measured in
 *    the background at most every `measureIntervalMs`, each measurement
 *    taking up to ~20 s.
 * 2. `performance.memory`: the renderer's JS heap against the heap budget
 *    (see performance-memory-provider.ts), in Chromium. Instant, JS only.
 * 3. `budget`: what the app says it holds (`measure`) against `budgetBytes`,
 *    anywhere; the only signal in Firefox and Safari.
 *
 * With `source: 'auto'` (the default) every available signal is read on each
 * poll and the one with the highest usage becomes the state, its name in
 * `state.source`: the fresh heap figure catches fast growth, the lagging
 * complete figure catches what the heap figure does not see. A quantized
 * `performance.memory` (frozen for 20 minutes) is left out when another
 * signal exists. A signal that
 * fails is reported on `errors` while the others still produce the sample.
 * Only a lone `measureUserAgentSpecificMemory` makes the provider
 * asynchronous: its first sample waits for the first measurement.
 *
 * With no signal at all (no Chromium API, no `measure`) creation fails with a
 * TypeError naming `budgetBytes` and `measure`: a monitor that stays `normal`
 * forever would look like safety and be none.
 */
import { describeValue, requireDurationMs } from '../checks.js';
import { clockOption, type Clock } from '../clock.js';
import { Subject, type Observable } from '../observable.js';
import type { MemoryPressureLevel } from '../pressure-levels.js';
import { usageOf, type MemorySample } from '../pressure/memory-state.js';
import { PollingMemoryMonitor, type PollingMemoryMonitorOptions } from '../pressure/polling-memory-monitor.js';
import { MemoryThresholds, type MemoryThresholdsInit } from '../pressure/thresholds.js';
import { safeRecord, type MemoryTelemetry } from '../telemetry/memory-telemetry.js';
import { budgetProvider } from './budget-provider.js';
import {
  BROWSER_MEMORY_SOURCES,
  isBrowserMemorySourceName,
  isQuantizedByteCount,
  readPerformanceMemory,
  userAgentSpecificMemoryUnavailableReason,
  validateEnvironment,
  type BrowserMemoryEnvironment,
  type BrowserMemorySourceName,
} from './environment.js';
import { DEFAULT_HEAP_LIMIT_FRACTION, performanceMemoryProvider } from './performance-memory-provider.js';
import {
  DEFAULT_MEASURE_INTERVAL_MS,
  uaSpecificMemoryProvider,
  userAgentSpecificMemoryBudget,
  userAgentSpecificMemorySample,
  UserAgentSpecificMemorySampler,
} from './ua-specific-memory-provider.js';
import {
  rejectUnknownOptions,
  requireFraction,
  requireFunction,
  requireOptionsObject,
  requirePositiveBytes,
} from './validation.js';

export interface BrowserMemoryMonitorOptions {
  /**
   * Which signals to use: `'auto'` (default) for every available one, or a
   * name or list of names to insist on (a `TypeError` says why one is missing).
   */
  source?: 'auto' | BrowserMemorySourceName | readonly BrowserMemorySourceName[];
  /**
   * How many bytes this page may use. Required by the `budget` signal (with
   * `measure`) and by `measureUserAgentSpecificMemory` where there is no
   * `performance.memory`; for `performance.memory` it lowers the heap budget
   * when smaller. Default none.
   */
  budgetBytes?: number;
  /** The bytes the app holds now, e.g. `() => cache.metrics.currentUsage`; enables the `budget` signal. Default none. */
  measure?: () => number;
  /** Share of `jsHeapSizeLimit` treated as the heap budget, in (0, 1]. Default 0.75. */
  heapLimitFraction?: number;
  /** Minimum time between two `measureUserAgentSpecificMemory` calls. Default 10000. */
  measureIntervalMs?: number;
  /** Default `MemoryThresholds.default`. A plain `{ moderate, critical, ... }` is accepted too. */
  thresholds?: MemoryThresholds | MemoryThresholdsInit;
  /** Default 5000. */
  pollingIntervalMs?: number;
  /** Interval while at a level, e.g. `{ critical: 1000 }`. */
  pollingIntervalMsByLevel?: Partial<Record<MemoryPressureLevel, number>>;
  /**
   * How long a sample may wait before it is abandoned (and reported on
   * `errors`); see `PollingMemoryMonitor`. A lone
   * `measureUserAgentSpecificMemory` waits for its first measurement, which
   * Chromium may delay until a collection (up to 20 s): raise it to keep
   * that wait quiet.
   */
  sampleTimeoutMs?: number;
  /** Time source for polling and the measurement rate limit. Default: the library's default clock. */
  clock?: Clock;
  /** Where to find `performance` and `crossOriginIsolated`. Default `globalThis`. */
  environment?: BrowserMemoryEnvironment;
  /** `recordError` for every error on `errors` (signal failures included); `recordPressureChange` on each level change. */
  telemetry?: MemoryTelemetry;
}

const OPTION_NAMES = [
  'source',
  'budgetBytes',
  'measure',
  'heapLimitFraction',
  'measureIntervalMs',
  'thresholds',
  'pollingIntervalMs',
  'pollingIntervalMsByLevel',
  'sampleTimeoutMs',
  'clock',
  'environment',
  'telemetry',
] as const;

interface Plan {
  readonly sources: readonly BrowserMemorySourceName[];
  readonly polling: PollingMemoryMonitorOptions;
  /** Failures of single signals that did not stop a sample. */
  readonly sourceErrors: Subject<Error>;
}

/**
 * A `PollingMemoryMonitor` that knows which browser signals it reads
 * (`sources`) and also reports, on `errors`, the failures of signals that
 * did not stop a sample. Create it with `createBrowserMemoryMonitor`.
 */
export class BrowserMemoryMonitor extends PollingMemoryMonitor {
  /** The signals this monitor reads, in order of preference. */
  readonly sources: readonly BrowserMemorySourceName[];
  readonly #errors: Subject<Error>;

  constructor(options?: BrowserMemoryMonitorOptions) {
    const plan = planMonitor(options);
    super(plan.polling);
    this.sources = plan.sources;
    const errors = new Subject<Error>();
    this.#errors = errors;
    // The base class reports its own errors to telemetry; signal failures are ours to report.
    const telemetry = plan.polling.telemetry;
    super.errors.subscribe((error) => errors.next(error));
    plan.sourceErrors.subscribe((error) => {
      safeRecord(telemetry?.recordError, telemetry, error);
      errors.next(error);
    });
  }

  /** Failed or refused samples, and failures of individual signals. */
  override get errors(): Observable<Error> {
    return this.#errors;
  }
}

/** See the design notes at the top of this file. */
export function createBrowserMemoryMonitor(options?: BrowserMemoryMonitorOptions): BrowserMemoryMonitor {
  return new BrowserMemoryMonitor(options);
}

function requestedSources(value: unknown): readonly BrowserMemorySourceName[] | 'auto' {
  if (value === undefined || value === 'auto') return 'auto';
  const list: readonly unknown[] = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [value];
  const expected = `'auto', ${BROWSER_MEMORY_SOURCES.map((name) => `'${name}'`).join(', ')} or a list of them`;
  if (list.length === 0) throw new RangeError(`source must be ${expected}, got []`);
  for (const name of list) {
    if (!isBrowserMemorySourceName(name)) throw new RangeError(`source must be ${expected}, got ${describeValue(value)}`);
  }
  const names = list as readonly BrowserMemorySourceName[];
  // Keep the order of preference whatever order the caller listed them in.
  return BROWSER_MEMORY_SOURCES.filter((name) => names.includes(name));
}

function planMonitor(options: BrowserMemoryMonitorOptions | undefined): Plan {
  const opts = requireOptionsObject('createBrowserMemoryMonitor', options) as BrowserMemoryMonitorOptions;
  rejectUnknownOptions('createBrowserMemoryMonitor', opts, OPTION_NAMES);
  const requested = requestedSources(opts.source);
  const budgetBytes = opts.budgetBytes === undefined ? undefined : requirePositiveBytes('budgetBytes', opts.budgetBytes);
  const measure = opts.measure === undefined ? undefined : requireFunction<() => number>('measure', opts.measure);
  const heapLimitFraction = opts.heapLimitFraction === undefined ? DEFAULT_HEAP_LIMIT_FRACTION : requireFraction('heapLimitFraction', opts.heapLimitFraction);
  const measureIntervalMs = opts.measureIntervalMs === undefined ? DEFAULT_MEASURE_INTERVAL_MS : requireDurationMs('measureIntervalMs', opts.measureIntervalMs);
  const environment = validateEnvironment(opts.environment);
  const clock = clockOption(opts.clock);
  if (measure !== undefined && budgetBytes === undefined) {
    throw new TypeError('createBrowserMemoryMonitor: measure needs budgetBytes, the bytes the app may hold');
  }

  const unavailable: Record<BrowserMemorySourceName, string | undefined> = {
    measureUserAgentSpecificMemory:
      userAgentSpecificMemoryUnavailableReason(environment) ??
      (budgetBytes === undefined && readPerformanceMemory(environment) === undefined
        ? 'it needs budgetBytes in a browser without performance.memory'
        : undefined),
    'performance.memory':
      readPerformanceMemory(environment) === undefined ? 'this browser does not expose performance.memory (only Chromium-based browsers do)' : undefined,
    budget: measure === undefined ? 'it needs the measure option (the bytes the app holds) and budgetBytes' : undefined,
  };

  let sources: readonly BrowserMemorySourceName[];
  if (requested === 'auto') {
    sources = BROWSER_MEMORY_SOURCES.filter((name) => unavailable[name] === undefined);
    // A quantized heap figure is frozen for 20 minutes: next to a live signal
    // it would hold the level where it was (and keep caches shedding, or
    // miss a rise) long after the fact, so it only serves when it is all there is.
    const heap = readPerformanceMemory(environment);
    if (sources.length > 1 && heap !== undefined && isQuantizedByteCount(heap.jsHeapSizeLimit)) {
      sources = sources.filter((name) => name !== 'performance.memory');
    }
    if (sources.length === 0) {
      throw new TypeError(
        'createBrowserMemoryMonitor: this browser exposes no memory signal (performance.memory: ' +
          `${unavailable['performance.memory']}; measureUserAgentSpecificMemory: ${unavailable.measureUserAgentSpecificMemory}). ` +
          'Pass budgetBytes and measure, the bytes your app holds, to monitor against a configured budget',
      );
    }
  } else {
    for (const name of requested) {
      const reason = unavailable[name];
      if (reason !== undefined) throw new TypeError(`createBrowserMemoryMonitor: source '${name}' is unavailable: ${reason}`);
    }
    sources = requested;
  }

  const sourceErrors = new Subject<Error>();
  let memoryProvider: PollingMemoryMonitorOptions['memoryProvider'];
  if (sources.length === 1 && sources[0] === 'measureUserAgentSpecificMemory') {
    memoryProvider = uaSpecificMemoryProvider({
      heapLimitFraction,
      measureIntervalMs,
      clock,
      environment,
      ...(budgetBytes === undefined ? {} : { budgetBytes }),
    });
  } else {
    memoryProvider = mostPressingProvider(sources, {
      environment,
      clock,
      heapLimitFraction,
      measureIntervalMs,
      budgetBytes,
      measure,
      onSourceError: (error) => sourceErrors.next(error),
    });
  }

  const polling: PollingMemoryMonitorOptions = { memoryProvider, clock };
  if (opts.thresholds !== undefined) {
    polling.thresholds = opts.thresholds instanceof MemoryThresholds ? opts.thresholds : new MemoryThresholds(opts.thresholds);
  }
  if (opts.pollingIntervalMs !== undefined) polling.pollingIntervalMs = opts.pollingIntervalMs;
  if (opts.pollingIntervalMsByLevel !== undefined) polling.pollingIntervalMsByLevel = opts.pollingIntervalMsByLevel;
  if (opts.sampleTimeoutMs !== undefined) polling.sampleTimeoutMs = opts.sampleTimeoutMs;
  if (opts.telemetry !== undefined) polling.telemetry = opts.telemetry;
  return { sources, polling, sourceErrors };
}

type SyncProvider = () => MemorySample;

/**
 * Reads every source synchronously (the measureUserAgentSpecificMemory one
 * from its last result, refreshing it in the background) and returns the
 * sample with the highest usage. A source that throws is reported through
 * `onSourceError`; only when none produced a sample does the poll fail.
 */
function mostPressingProvider(
  sources: readonly BrowserMemorySourceName[],
  o: {
    environment: BrowserMemoryEnvironment;
    clock: Clock;
    heapLimitFraction: number;
    measureIntervalMs: number;
    budgetBytes: number | undefined;
    measure: (() => number) | undefined;
    onSourceError: (error: Error) => void;
  },
): SyncProvider {
  const readers: Array<{ name: BrowserMemorySourceName; read: () => MemorySample | undefined }> = [];
  for (const name of sources) {
    if (name === 'performance.memory') {
      const read = performanceMemoryProvider({
        heapLimitFraction: o.heapLimitFraction,
        environment: o.environment,
        ...(o.budgetBytes === undefined ? {} : { budgetBytes: o.budgetBytes }),
      });
      readers.push({ name, read });
    } else if (name === 'budget') {
      // planMonitor only selects 'budget' with both options present.
      readers.push({ name, read: budgetProvider({ budgetBytes: o.budgetBytes as number, measure: o.measure as () => number }) });
    } else {
      const budget = userAgentSpecificMemoryBudget(o.environment, o.heapLimitFraction, o.budgetBytes);
      const sampler = new UserAgentSpecificMemorySampler({
        environment: o.environment,
        clock: o.clock,
        measureIntervalMs: o.measureIntervalMs,
        onError: o.onSourceError,
      });
      readers.push({
        name,
        read: () => {
          void sampler.refresh();
          const latest = sampler.latest;
          return latest === undefined ? undefined : userAgentSpecificMemorySample(latest.bytes, budget());
        },
      });
    }
  }

  return () => {
    let best: MemorySample | undefined;
    let bestUsage = -1;
    const failures: Error[] = [];
    for (const reader of readers) {
      let sample: MemorySample | undefined;
      try {
        sample = reader.read();
      } catch (error) {
        failures.push(new Error(`${reader.name} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
        continue;
      }
      if (sample === undefined) continue;
      const usage = usageOf(sample.usedBytes, sample.availableBytes);
      if (usage > bestUsage) {
        best = sample;
        bestUsage = usage;
      }
    }
    if (best === undefined) {
      // Nothing to publish: the poll fails and the monitor reports this one error.
      if (failures.length === 1) throw failures[0];
      if (failures.length > 1) throw new Error(failures.map((failure) => failure.message).join('; '), { cause: failures });
      throw new Error('no memory signal produced a reading yet (measureUserAgentSpecificMemory is still measuring)');
    }
    for (const failure of failures) o.onSourceError(failure);
    return best;
  };
}
