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
 */
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { getDefaultClock, type Clock } from '../clock.js';
import type { MemoryPressureLevel } from '../pressure/levels.js';
import { PollingMemoryMonitor } from '../pressure/polling-memory-monitor.js';
import { NodeMemorySignals, type NodeMemorySignalsOptions, type NodeMemorySignalsReading } from './node-memory-signals.js';

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
}

export const DEFAULT_MIN_GC_POLL_INTERVAL_MS = 10;

function isMajorGc(entry: PerformanceEntry): boolean {
  const detail = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail;
  return detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR;
}

/** A PollingMemoryMonitor whose samples come from the Node signals; `signals` gives the per-signal breakdown. */
export class NodeMemoryMonitor extends PollingMemoryMonitor {
  readonly signals: NodeMemorySignals;
  readonly #pollOnGc: boolean;
  readonly #minGcPollIntervalMs: number;
  readonly #clock: Clock;
  #gcObserver: PerformanceObserver | undefined;
  #lastGcPollAt = -Infinity;

  constructor(options: NodeMemoryMonitorOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError(`options must be an object, got ${String(options)}`);
    const signals = new NodeMemorySignals(options);
    super({
      memoryProvider: () => signals.sample(),
      pollingIntervalMs: options.pollingIntervalMs ?? DEFAULT_NODE_POLLING_INTERVAL_MS,
      pollingIntervalMsByLevel: { ...DEFAULT_NODE_POLLING_INTERVAL_MS_BY_LEVEL, ...options.pollingIntervalMsByLevel },
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    });
    this.signals = signals;
    this.#clock = options.clock ?? getDefaultClock();
    if (options.pollOnGc !== undefined && typeof options.pollOnGc !== 'boolean') {
      throw new TypeError(`pollOnGc must be a boolean, got ${String(options.pollOnGc)}`);
    }
    this.#pollOnGc = options.pollOnGc ?? true;
    const minGc = options.minGcPollIntervalMs ?? DEFAULT_MIN_GC_POLL_INTERVAL_MS;
    if (typeof minGc !== 'number' || !Number.isFinite(minGc) || minGc < 0) {
      throw new RangeError(`minGcPollIntervalMs must be a non-negative finite number of milliseconds, got ${String(minGc)}`);
    }
    this.#minGcPollIntervalMs = minGc;
  }

  override startMonitoring(): void {
    super.startMonitoring();
    if (!this.#pollOnGc || this.#gcObserver !== undefined) return;
    const observer = new PerformanceObserver((list) => {
      if (!list.getEntries().some(isMajorGc)) return;
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
    this.#gcObserver?.disconnect();
    this.#gcObserver = undefined;
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
