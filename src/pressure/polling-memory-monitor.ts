/**
 * PollingMemoryMonitor: samples a memory provider on a timer and publishes
 * states and pressure levels.
 *
 * Design:
 * - One timer at most: a chain of `clock.setTimeout` calls, re-armed after
 *   each sample, so the interval can follow the level (adaptive polling) and
 *   `startMonitoring()` twice still leaves one timer. Timers come from the
 *   injected `Clock`, which unrefs them: polling never keeps a process alive.
 * - A synchronous provider is sampled synchronously: `startMonitoring()`
 *   returns with the first state already published. An asynchronous one is
 *   awaited; while it is in flight a due tick is skipped, never stacked.
 * - An asynchronous sample that outlives `sampleTimeoutMs` is abandoned: the
 *   timeout is published on `errors`, the poll resolves with the last good
 *   state, and the next poll samples again. Without it one provider promise
 *   that never settles would be the in-flight sample forever and the monitor
 *   would never sample again. An abandoned sample that settles later is
 *   ignored, so it cannot overwrite a newer state. The timeout timer keeps
 *   the process alive only for a `poll()` a caller awaits; for a timer poll
 *   it is a background timer like the polling itself.
 * - A provider that throws, rejects or returns a bad sample publishes an
 *   `Error` on `errors`; the last good state stays current and polling goes on.
 * - Levels use the thresholds' hysteresis against the previous level, unless
 *   the sample states its own level (a provider combining several signals).
 * - Cost per sample: one provider call, one state object, O(subscribers)
 *   synchronous deliveries. Telemetry (optional) hears every published error
 *   and every level change, never every sample.
 */
import { describeValue, isThenable, requireDurationMs } from '../checks.js';
import { clockOption, type Clock, type TimerHandle } from '../clock.js';
import { Subject, ValueSubject, type Observable } from '../observable.js';
import { isMemoryPressureLevel, PRESSURE_LEVELS, type MemoryPressureLevel } from '../pressure-levels.js';
import { usageOf, type MemorySample, type MemoryState } from './memory-state.js';
import type { MemoryMonitor } from './monitor.js';
import { MemoryThresholds } from './thresholds.js';
import { safeRecord, type MemoryTelemetry } from '../telemetry/memory-telemetry.js';

export type MemoryProvider = () => MemorySample | Promise<MemorySample>;

export interface PollingMemoryMonitorOptions {
  memoryProvider: MemoryProvider;
  /** Default `MemoryThresholds.default`. */
  thresholds?: MemoryThresholds;
  /** Default 5000. */
  pollingIntervalMs?: number;
  /**
   * Poll faster as pressure rises: the interval to use while at a level.
   * Levels not listed use `pollingIntervalMs`.
   */
  pollingIntervalMsByLevel?: Partial<Record<MemoryPressureLevel, number>>;
  /**
   * How long an asynchronous sample may take before it is abandoned and
   * reported on `errors`. Default: twice `pollingIntervalMs`, at least
   * 1000 and at most 10000.
   */
  sampleTimeoutMs?: number;
  /** Time source for timers and timestamps. Default: the library's default clock. */
  clock?: Clock;
  /** `recordError` for every error published on `errors`; `recordPressureChange(from, to)` on each level change. */
  telemetry?: MemoryTelemetry;
}

const DEFAULT_POLLING_INTERVAL_MS = 5000;
const MIN_DEFAULT_SAMPLE_TIMEOUT_MS = 1000;
const MAX_DEFAULT_SAMPLE_TIMEOUT_MS = 10_000;

/** An asynchronous sample in flight. */
interface InFlightSample {
  readonly promise: Promise<MemoryState>;
  readonly resolve: (state: MemoryState) => void;
  /** `clock.now()` at which it is abandoned. */
  readonly deadline: number;
  timer: TimerHandle;
  keepAlive: boolean;
}

function toError(error: unknown, context: string): Error {
  if (error instanceof Error) {
    return new Error(`${context}: ${error.message}`, { cause: error });
  }
  return new Error(`${context}: ${String(error)}`, { cause: error });
}

export class PollingMemoryMonitor implements MemoryMonitor {
  readonly #provider: MemoryProvider;
  readonly #thresholds: MemoryThresholds;
  readonly #intervalMs: number;
  readonly #intervalByLevel: Partial<Record<MemoryPressureLevel, number>>;
  readonly #clock: Clock;
  readonly #states: ValueSubject<MemoryState>;
  readonly #pressure: ValueSubject<MemoryPressureLevel>;
  readonly #errors = new Subject<Error>();
  readonly #telemetry: MemoryTelemetry | undefined;
  readonly #sampleTimeoutMs: number;
  #timer: TimerHandle | undefined;
  #running = false;
  #inFlight: InFlightSample | undefined;
  /** True while the polling timer's callback calls `poll()`: that poll is background work. */
  #timerPoll = false;

  constructor(options: PollingMemoryMonitorOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`options must be an object with a memoryProvider, got ${describeValue(options)}`);
    }
    if (typeof options.memoryProvider !== 'function') {
      throw new TypeError(`memoryProvider must be a function, got ${describeValue(options.memoryProvider)}`);
    }
    if (options.thresholds !== undefined && !(options.thresholds instanceof MemoryThresholds)) {
      throw new TypeError('thresholds must be a MemoryThresholds instance');
    }
    this.#provider = options.memoryProvider;
    this.#thresholds = options.thresholds ?? MemoryThresholds.default;
    this.#intervalMs = options.pollingIntervalMs === undefined ? DEFAULT_POLLING_INTERVAL_MS : requireDurationMs('pollingIntervalMs', options.pollingIntervalMs);
    const byLevel: Partial<Record<MemoryPressureLevel, number>> = {};
    for (const [level, ms] of Object.entries(options.pollingIntervalMsByLevel ?? {})) {
      if (!isMemoryPressureLevel(level)) {
        throw new RangeError(`pollingIntervalMsByLevel keys must be one of ${PRESSURE_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
      }
      byLevel[level] = requireDurationMs(`pollingIntervalMsByLevel.${level}`, ms);
    }
    this.#intervalByLevel = byLevel;
    this.#sampleTimeoutMs =
      options.sampleTimeoutMs === undefined
        ? Math.min(MAX_DEFAULT_SAMPLE_TIMEOUT_MS, Math.max(MIN_DEFAULT_SAMPLE_TIMEOUT_MS, 2 * this.#intervalMs))
        : requireDurationMs('sampleTimeoutMs', options.sampleTimeoutMs);
    this.#clock = clockOption(options.clock);
    if (options.telemetry !== undefined && (typeof options.telemetry !== 'object' || options.telemetry === null)) {
      throw new TypeError(`telemetry must be a MemoryTelemetry object, got ${describeValue(options.telemetry)}`);
    }
    this.#telemetry = options.telemetry;
    const initial: MemoryState = { usedBytes: 0, availableBytes: 0, usage: 0, level: 'normal', source: 'none', at: this.#clock.now() };
    this.#states = new ValueSubject(initial);
    this.#pressure = new ValueSubject<MemoryPressureLevel>('normal');
  }

  get states(): Observable<MemoryState> {
    return this.#states;
  }

  get pressure(): Observable<MemoryPressureLevel> {
    return this.#pressure;
  }

  /** Provider failures and refused samples. The monitor keeps its last good state. */
  get errors(): Observable<Error> {
    return this.#errors;
  }

  get thresholds(): MemoryThresholds {
    return this.#thresholds;
  }

  /** True between `startMonitoring()` and `stopMonitoring()`. */
  get isMonitoring(): boolean {
    return this.#running;
  }

  currentMemoryState(): MemoryState {
    return this.#states.value;
  }

  currentPressure(): MemoryPressureLevel {
    return this.#pressure.value;
  }

  /** How long an asynchronous sample may take before it is abandoned. */
  get sampleTimeoutMs(): number {
    return this.#sampleTimeoutMs;
  }

  /** The interval that applies at the current level. */
  currentPollingIntervalMs(): number {
    return this.#intervalByLevel[this.#pressure.value] ?? this.#intervalMs;
  }

  startMonitoring(): void {
    if (this.#running) return;
    this.#running = true;
    this.#tick();
  }

  stopMonitoring(): void {
    this.#running = false;
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /**
   * Samples now, publishes, and resolves with the state. A failed sample
   * publishes on `errors` and resolves with the last good state; so does an
   * asynchronous one that outlives `sampleTimeoutMs`. While a sample is in
   * flight, `poll()` joins it.
   */
  poll(): Promise<MemoryState> {
    // A caller awaits this poll: its timeout must keep the process alive.
    const keepAlive = !this.#timerPoll;
    const current = this.#inFlight;
    if (current !== undefined) {
      if (keepAlive && !current.keepAlive) this.#armSampleTimeout(current, true);
      return current.promise;
    }
    let raw: MemorySample | Promise<MemorySample>;
    try {
      raw = this.#provider();
    } catch (error) {
      this.#publishError(toError(error, 'memoryProvider threw'));
      return Promise.resolve(this.#states.value);
    }
    if (!isThenable(raw)) return Promise.resolve(this.#accept(raw));
    let resolve!: (state: MemoryState) => void;
    const promise = new Promise<MemoryState>((r) => {
      resolve = r;
    });
    const sample: InFlightSample = { promise, resolve, deadline: this.#clock.now() + this.#sampleTimeoutMs, timer: undefined, keepAlive };
    this.#inFlight = sample;
    this.#armSampleTimeout(sample, keepAlive);
    Promise.resolve(raw).then(
      (value) => {
        if (this.#finish(sample)) resolve(this.#accept(value));
      },
      (error: unknown) => {
        if (!this.#finish(sample)) return;
        this.#publishError(toError(error, 'memoryProvider rejected'));
        resolve(this.#states.value);
      },
    );
    return promise;
  }

  /** (Re)arms `sample`'s timeout for what is left until its deadline. */
  #armSampleTimeout(sample: InFlightSample, keepAlive: boolean): void {
    if (sample.timer !== undefined) this.#clock.clearTimeout(sample.timer);
    sample.keepAlive = keepAlive;
    const left = Math.max(0, sample.deadline - this.#clock.now());
    sample.timer = this.#clock.setTimeout(() => this.#abandon(sample), left, { keepAlive });
  }

  /** Ends `sample` as the one in flight; false when it already ended (timed out). */
  #finish(sample: InFlightSample): boolean {
    if (this.#inFlight !== sample) return false;
    this.#inFlight = undefined;
    this.#clock.clearTimeout(sample.timer);
    return true;
  }

  #abandon(sample: InFlightSample): void {
    if (this.#inFlight !== sample) return;
    this.#inFlight = undefined;
    this.#publishError(new Error(`memoryProvider did not settle within sampleTimeoutMs (${this.#sampleTimeoutMs} ms); the sample was abandoned`));
    sample.resolve(this.#states.value);
  }

  #tick(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    let polled: Promise<MemoryState>;
    this.#timerPoll = true;
    try {
      polled = this.poll();
    } finally {
      this.#timerPoll = false;
    }
    void polled.then(() => this.#arm());
    // With a synchronous provider the state is already published; arm now
    // so exactly one timer exists right after startMonitoring() returns.
    if (this.#inFlight === undefined) this.#arm();
  }

  #arm(): void {
    if (!this.#running || this.#timer !== undefined) return;
    this.#timer = this.#clock.setTimeout(() => this.#tick(), this.currentPollingIntervalMs());
  }

  #publishError(error: Error): void {
    safeRecord(this.#telemetry?.recordError, this.#telemetry, error);
    this.#errors.next(error);
  }

  #accept(raw: unknown): MemoryState {
    // Fields are copied once, so a getter cannot pass validation with one
    // value and be published with another, nor throw past this point.
    let sample: MemorySample | undefined;
    let problem: string | undefined;
    try {
      sample = snapshotSample(raw);
      problem = describeBadSample(sample ?? raw);
    } catch (error) {
      problem = `reading it threw: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (problem !== undefined || sample === undefined) {
      this.#publishError(new RangeError(`memoryProvider returned a bad sample: ${problem ?? 'unreadable'}`));
      return this.#states.value;
    }
    const usage = usageOf(sample.usedBytes, sample.availableBytes);
    const previous = this.#pressure.value;
    const level = sample.level ?? this.#thresholds.levelFor(usage, previous);
    const state: MemoryState = {
      usedBytes: sample.usedBytes,
      availableBytes: sample.availableBytes,
      usage,
      level,
      source: sample.source ?? 'custom',
      at: this.#clock.now(),
    };
    this.#states.next(state);
    if (level !== previous) {
      safeRecord(this.#telemetry?.recordPressureChange, this.#telemetry, previous, level);
      this.#pressure.next(level);
    }
    return state;
  }
}

function snapshotSample(raw: unknown): MemorySample | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { usedBytes, availableBytes, source, level } = raw as MemorySample;
  const sample: MemorySample = { usedBytes, availableBytes };
  if (source !== undefined) sample.source = source;
  if (level !== undefined) sample.level = level;
  return sample;
}

function describeBadSample(sample: unknown): string | undefined {
  if (typeof sample !== 'object' || sample === null) return `expected an object, got ${describeValue(sample)}`;
  const s = sample as Partial<MemorySample>;
  for (const field of ['usedBytes', 'availableBytes'] as const) {
    const value = s[field];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      return `${field} must be a non-negative finite number, got ${describeValue(value)}`;
    }
  }
  if (s.source !== undefined && typeof s.source !== 'string') return `source must be a string, got ${describeValue(s.source)}`;
  if (s.level !== undefined && !isMemoryPressureLevel(s.level)) {
    return `level must be one of ${PRESSURE_LEVELS.join(', ')}, got ${JSON.stringify(s.level)}`;
  }
  return undefined;
}
