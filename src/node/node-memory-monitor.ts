/**
 * createNodeMemoryMonitor: a PollingMemoryMonitor over the combined Node
 * signals, polling faster as the level rises.
 *
 * Default intervals: 500 ms at normal, 250 ms at moderate, 100 ms at
 * critical, 50 ms at emergency. A poll at the default cadence costs a few
 * microseconds (see node-memory-signals.ts and bench/RESULTS.md), so even
 * 20 polls a second stay far below 0.1% of a core, while a heap filling at
 * a few hundred MB/s (a burst of big responses) still crosses at most a few
 * percent of a 64 MB budget between two polls once pressure has begun.
 *
 * Polling alone cannot keep up with a process that allocates faster than
 * it polls (100 MB/s fills a 64 MB heap between two 500 ms polls). So,
 * while monitoring, the monitor also polls right after each full garbage
 * collection (a PerformanceObserver on 'gc' entries of the major kind):
 * the old generation's size is freshest then, and near the heap limit V8
 * collects more and more often, so sampling speeds up exactly when it must.
 * Those extra polls are spaced at least `minGcPollIntervalMs` apart.
 *
 * Polling ahead of growth: memory that grows fast can cross two levels
 * between two polls at the level's interval (a cache filling at 60 MB/s
 * adds 30 MB in 500 ms). So each poll also estimates, from each signal's
 * growth since the previous poll, when the next threshold will be reached,
 * and the next poll comes at a third of that time if it is sooner than the
 * level's interval (never sooner than `minPollIntervalMs`, 10 ms by
 * default). A process whose memory is flat keeps the plain cadence.
 *
 * Holding the heap between collections: what a cache drops stays in the old
 * generation (or, for a `Buffer`, in external memory) until V8's next full
 * collection. A timer poll in between reads
 * the same heap and sheds again, and again: at 100 ms polls a cache can be
 * halved several times for one reclaim. So while the heap or the cgroup is
 * the most pressing signal above `normal`, timer polls are skipped until a
 * full collection has run since the last sample (the GC-triggered poll then
 * samples) or `pollingIntervalMs` has passed (so the other signals are still
 * read at the normal cadence). Growth cannot outrun this: the old generation
 * only grows to V8's next-collection limit before a full collection runs,
 * and each one polls. Explicit `poll()` calls always sample.
 *
 * Collecting what caches dropped: under a container limit, what a cache
 * drops stays in the working set until V8's next full collection, and V8
 * runs that one only once external memory has grown 64 MiB past what the
 * last one left (and later still while it marks incrementally): at 192 MiB
 * and 30 MB/s of 64 KiB Buffer misses, the samples that went to `critical`
 * and `emergency` found 66-80 MB of garbage beside a cache of 71-93 MB.
 * That garbage, more than the container signal's credit covers, carried
 * the level from `moderate` to `critical` and `emergency`, whose cuts (to
 * half, to a quarter) the cache then took seconds to regrow. So after a
 * sample at which the container signal is the most pressing above
 * `normal`, and caches have reported dropping at least a quarter of the
 * collector reserve in this collection cycle and the last (what the
 * container signal takes as not yet freed), the monitor runs V8's full
 * collection (`collectUnderPressure`), in a timer of its own right after
 * the poll (so a poll stays a matter of microseconds). The next sample
 * sees the cache and not its garbage. A forced collection stops the
 * process for its whole length (5-38 ms on average over a survival run,
 * the longest where 100-200 MB of objects live on the heap), so they are
 * spaced at least 250 ms and 50 times the last one's length apart: at
 * most 2% of the time. bench/RESULTS.md's survival matrix reports their
 * number and share of time.
 *
 * Heap cap against container limit: when V8's heap limit is above the
 * container's memory limit, the heap signal can never fire before the
 * kernel's OOM killer does, which is a configuration mistake rather than
 * a failed sample. So it is not published on `errors` (whose subscribers
 * treat entries as failed polls) but once, at the first poll, on
 * `warnings`, as a `HeapCapWarning` naming the `--max-old-space-size`
 * that fits; `heapCapWarning` keeps it for late readers.
 */
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { requireDurationMs } from '../checks.js';
import { clockOption, type Clock, type TimerHandle } from '../clock.js';
import type { MemoryPressureLevel } from '../pressure-levels.js';
import type { MemoryState } from '../pressure/memory-state.js';
import { PollingMemoryMonitor } from '../pressure/polling-memory-monitor.js';
import { Subject, type Observable } from '../observable.js';
import type { MemoryTelemetry } from '../telemetry/memory-telemetry.js';
import type { HeapCapWarning } from './heap-cap.js';
import { NodeMemorySignals, type NodeMemorySignalsOptions, type NodeMemorySignalsReading } from './node-memory-signals.js';
import { nodeRuntime, type NodeRuntime } from './runtime.js';

export const DEFAULT_NODE_POLLING_INTERVAL_MS = 500;
export const DEFAULT_NODE_POLLING_INTERVAL_MS_BY_LEVEL: Readonly<Partial<Record<MemoryPressureLevel, number>>> = Object.freeze({
  moderate: 250,
  critical: 100,
  emergency: 50,
});

export interface NodeMemoryMonitorOptions extends NodeMemorySignalsOptions {
  /** Interval at `normal` (and at levels missing from pollingIntervalMsByLevel). Default 500. */
  pollingIntervalMs?: number;
  /** Intervals per level; merged over the defaults { moderate: 250, critical: 100, emergency: 50 }. */
  pollingIntervalMsByLevel?: Partial<Record<MemoryPressureLevel, number>>;
  /** Also poll after each full garbage collection while monitoring. Default true. */
  pollOnGc?: boolean;
  /** Least time between two GC-triggered polls. Default 10. */
  minGcPollIntervalMs?: number;
  /** Least time between two polls brought forward by fast growth (see the design note). Default 10. */
  minPollIntervalMs?: number;
  /**
   * While the heap or the cgroup is the most pressing signal above `normal`, skip
   * timer polls until V8 has run another full collection (or
   * `pollingIntervalMs` has passed): see the design note. Default true;
   * needs `pollOnGc`.
   */
  holdHeapUntilGc?: boolean;
  /**
   * Run V8's full collection when the container is the most pressing
   * signal above `normal` and caches' dropped bytes wait for one: see the
   * design note. Default true.
   */
  collectUnderPressure?: boolean;
  /** `recordError` for every error on `errors`; `recordPressureChange(from, to)` on each level change. */
  telemetry?: MemoryTelemetry;
}

export const DEFAULT_MIN_GC_POLL_INTERVAL_MS = 10;
export const DEFAULT_MIN_POLL_INTERVAL_MS = 10;
/**
 * The cgroup signal is held four times longer than the heap: a cut cache's
 * Buffers are freed only by the full collection V8 runs once external
 * memory has grown by 64 MiB, more than 500 ms of allocation at 100 MB/s.
 * Until then, a sample shows the garbage of the last cut as growth, and the
 * cache would cut again for it. The collector reserve covers the wait.
 */
const CGROUP_HOLD_FACTOR = 4;
/** A collection is forced once caches' drops of this collection cycle and the last reach this share of the collector reserve. */
const COLLECT_FROM_SHARE_OF_RESERVE = 0.25;
/** Forced collections come at least this far apart... */
const MIN_COLLECT_INTERVAL_MS = 250;
/** ...and at least this many times the last one's length apart (so at most 1/50 of the time). */
const COLLECT_INTERVAL_PER_COST = 50;
/** The next poll comes at this share of the time until the next threshold. */
const LOOKAHEAD_SHARE = 1 / 3;

function isMajorGc(entry: PerformanceEntry): boolean {
  const detail = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail;
  return detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR;
}

/** A PollingMemoryMonitor whose samples come from the Node signals; `signals` gives the per-signal breakdown. */
export class NodeMemoryMonitor extends PollingMemoryMonitor {
  readonly signals: NodeMemorySignals;
  readonly #pollOnGc: boolean;
  readonly #minGcPollIntervalMs: number;
  readonly #minPollIntervalMs: number;
  readonly #clock: Clock;
  readonly #holdHeapUntilGc: boolean;
  readonly #maxHoldMs: number;
  /** Set while the base class's timer callback runs, so `poll()` knows a timer called it. */
  readonly #tick: { running: boolean };
  #gcObserver: PerformanceObserver | undefined;
  #lastGcPollAt = -Infinity;
  #majorGcs = 0;
  #majorGcsAtLastSample = -1;
  #lastSampleAt = -Infinity;
  readonly #collectUnderPressure: boolean;
  readonly #runtime: NodeRuntime;
  #lastCollectAt = -Infinity;
  #lastCollectMs = 0;
  #collectTimer: TimerHandle | undefined;
  readonly #collections = { count: 0, totalMs: 0 };
  readonly #warnings: Subject<HeapCapWarning>;
  readonly #warned: { warning: HeapCapWarning | undefined };

  constructor(options: NodeMemoryMonitorOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError(`options must be an object, got ${String(options)}`);
    const signals = new NodeMemorySignals(options);
    const clock = clockOption(options.clock);
    const tick = { running: false };
    const warnings = new Subject<HeapCapWarning>();
    const warned: { checked: boolean; warning: HeapCapWarning | undefined } = { checked: false, warning: undefined };
    // Checked once, at the first sample: the heap limit is fixed for the isolate's life.
    const sample = () => {
      if (!warned.checked) {
        warned.checked = true;
        warned.warning = signals.heapCapWarning;
        if (warned.warning !== undefined) warnings.next(warned.warning);
      }
      return signals.sample();
    };
    const tickClock: Clock = {
      now: () => clock.now(),
      setTimeout: (callback, delayMs, timerOptions) =>
        clock.setTimeout(
          () => {
            tick.running = true;
            try {
              callback();
            } finally {
              tick.running = false;
            }
          },
          delayMs,
          timerOptions,
        ),
      clearTimeout: (handle) => clock.clearTimeout(handle),
    };
    const pollingIntervalMs = options.pollingIntervalMs ?? DEFAULT_NODE_POLLING_INTERVAL_MS;
    super({
      memoryProvider: sample,
      pollingIntervalMs,
      pollingIntervalMsByLevel: { ...DEFAULT_NODE_POLLING_INTERVAL_MS_BY_LEVEL, ...options.pollingIntervalMsByLevel },
      clock: tickClock,
      ...(options.telemetry === undefined ? {} : { telemetry: options.telemetry }),
    });
    this.signals = signals;
    this.#warnings = warnings;
    this.#warned = warned;
    this.#clock = clock;
    this.#tick = tick;
    this.#maxHoldMs = pollingIntervalMs;
    if (options.holdHeapUntilGc !== undefined && typeof options.holdHeapUntilGc !== 'boolean') {
      throw new TypeError(`holdHeapUntilGc must be a boolean, got ${String(options.holdHeapUntilGc)}`);
    }
    this.#holdHeapUntilGc = options.holdHeapUntilGc ?? true;
    if (options.pollOnGc !== undefined && typeof options.pollOnGc !== 'boolean') {
      throw new TypeError(`pollOnGc must be a boolean, got ${String(options.pollOnGc)}`);
    }
    this.#pollOnGc = options.pollOnGc ?? true;
    if (options.collectUnderPressure !== undefined && typeof options.collectUnderPressure !== 'boolean') {
      throw new TypeError(`collectUnderPressure must be a boolean, got ${String(options.collectUnderPressure)}`);
    }
    this.#collectUnderPressure = options.collectUnderPressure ?? true;
    this.#runtime = options.runtime ?? nodeRuntime;
    this.#minGcPollIntervalMs = requireDurationMs('minGcPollIntervalMs', options.minGcPollIntervalMs ?? DEFAULT_MIN_GC_POLL_INTERVAL_MS, { allowZero: true });
    this.#minPollIntervalMs = requireDurationMs('minPollIntervalMs', options.minPollIntervalMs ?? DEFAULT_MIN_POLL_INTERVAL_MS, { allowZero: true });
  }

  /** The level's interval, or sooner when a signal grows toward its next threshold (see the design note). */
  override currentPollingIntervalMs(): number {
    const intervalMs = super.currentPollingIntervalMs();
    const aheadMs = this.signals.msToNextLevel * LOOKAHEAD_SHARE;
    return aheadMs < intervalMs ? Math.max(this.#minPollIntervalMs, aheadMs) : intervalMs;
  }

  override startMonitoring(): void {
    super.startMonitoring();
    if (!this.#pollOnGc || this.#gcObserver !== undefined) return;
    const observer = new PerformanceObserver((list) => {
      const majors = list.getEntries().filter(isMajorGc).length;
      if (majors === 0) return;
      this.#majorGcs += majors;
      this.signals.noteMajorCollection();
      const now = this.#clock.now();
      if (now - this.#lastGcPollAt < this.#minGcPollIntervalMs) return;
      this.#lastGcPollAt = now;
      void this.poll();
    });
    observer.observe({ entryTypes: ['gc'] });
    this.#gcObserver = observer;
  }

  override stopMonitoring(): void {
    super.stopMonitoring();
    if (this.#collectTimer !== undefined) this.#clock.clearTimeout(this.#collectTimer);
    this.#collectTimer = undefined;
    this.#gcObserver?.disconnect();
    this.#gcObserver = undefined;
  }

  /**
   * Samples now, publishes, and resolves with the state, as for any
   * PollingMemoryMonitor; only a timer poll may be skipped while the heap is
   * held (see `holdHeapUntilGc`), resolving with the current state.
   */
  override poll(): Promise<MemoryState> {
    if (this.#tick.running && this.#holdsHeap()) return Promise.resolve(this.currentMemoryState());
    this.#majorGcsAtLastSample = this.#majorGcs;
    this.#lastSampleAt = this.#clock.now();
    // The Node signals sample synchronously: the state is published, and caches have shed, on return.
    const polled = super.poll();
    if (this.#collectUnderPressure) this.#collectIfDue();
    return polled;
  }

  /** Forced full collections so far (see `collectUnderPressure`): how many, and the milliseconds they took. */
  get collections(): { readonly count: number; readonly totalMs: number } {
    return { count: this.#collections.count, totalMs: this.#collections.totalMs };
  }

  /** After a sample: when a collection is due (see the design note), runs one in a timer of its own, so the poll stays cheap. */
  #collectIfDue(): void {
    if (this.#collectTimer !== undefined || this.#runtime.collectGarbage === undefined) return;
    const state = this.currentMemoryState();
    if (state.source !== 'cgroup' || state.level === 'normal') return;
    const { releasedBytes, reserveBytes } = this.signals.uncollected;
    if (!(reserveBytes > 0) || releasedBytes < COLLECT_FROM_SHARE_OF_RESERVE * reserveBytes) return;
    if (this.#clock.now() - this.#lastCollectAt < Math.max(MIN_COLLECT_INTERVAL_MS, COLLECT_INTERVAL_PER_COST * this.#lastCollectMs)) return;
    // Background work: nothing awaits it, so it does not hold the process open.
    this.#collectTimer = this.#clock.setTimeout(
      () => {
        this.#collectTimer = undefined;
        this.#collect();
      },
      0,
      { keepAlive: false },
    );
  }

  #collect(): void {
    const startedAt = this.#clock.now();
    this.#lastCollectAt = startedAt;
    if (this.#runtime.collectGarbage?.() !== true) return;
    this.#lastCollectMs = Math.max(0, this.#clock.now() - startedAt);
    this.#collections.count++;
    this.#collections.totalMs += this.#lastCollectMs;
  }

  #holdsHeap(): boolean {
    if (!this.#holdHeapUntilGc || this.#gcObserver === undefined) return false;
    const state = this.currentMemoryState();
    return (
      (state.source === 'heap' || state.source === 'cgroup') &&
      state.level !== 'normal' &&
      this.#majorGcs === this.#majorGcsAtLastSample &&
      this.#clock.now() - this.#lastSampleAt < (state.source === 'cgroup' ? CGROUP_HOLD_FACTOR * this.#maxHoldMs : this.#maxHoldMs)
    );
  }

  /**
   * Configuration warnings, each published once: today a `HeapCapWarning`
   * at the first poll when V8's heap limit is above the container's limit
   * (see the design note). Subscribe before `startMonitoring()` or the
   * first `poll()`, or read `heapCapWarning`.
   */
  get warnings(): Observable<HeapCapWarning> {
    return this.#warnings;
  }

  /** The heap-cap warning published on `warnings`, once the first poll has run; undefined when the heap fits. */
  get heapCapWarning(): HeapCapWarning | undefined {
    return this.#warned.warning;
  }

  /**
   * A cache (a `MemoryManager` given this monitor) reports the bytes it has
   * just dropped. Under a container limit they still count in the working
   * set until V8 collects them; the container signal leaves them out, up to
   * its collector reserve (see ContainerSignal).
   */
  noteReleased(bytes: number): void {
    if (typeof bytes !== 'number' || !(bytes >= 0) || bytes === Infinity) {
      throw new RangeError(`noteReleased: bytes must be a finite non-negative number, got ${String(bytes)}`);
    }
    this.signals.noteReleased(bytes);
  }

  /** Every signal as of the last poll (undefined before the first). */
  get lastReading(): NodeMemorySignalsReading | undefined {
    return this.signals.lastReading;
  }

  /** Stops polling and closes the kept-open files. */
  close(): void {
    this.stopMonitoring();
    this.signals.close();
  }
}

/** A monitor over the V8 heap, the container or machine limit, the machine's memory and PSI; the most pressing wins. */
export function createNodeMemoryMonitor(options: NodeMemoryMonitorOptions = {}): NodeMemoryMonitor {
  return new NodeMemoryMonitor(options);
}
