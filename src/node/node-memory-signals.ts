/**
 * The four Node signals read together, each judged against its own
 * thresholds, the most pressing one standing for the process.
 *
 * Why per-signal thresholds: the signals do not mean the same thing at the
 * same fraction. A heap at 0.9 of V8's give-up line is about to crash; a
 * machine at 0.9 of its memory is merely busy; 30% of time stalled on memory
 * is already severe. The defaults below come from what established
 * systems act on.
 *
 * Why a cadence: the heap and the cgroup's usage move fast and cost 1-3 us,
 * so they are read on every poll. /proc/meminfo and memory.stat cost 10-20 us
 * (the kernel computes them on each read) and PSI averages only change every
 * 2 s, so those are re-read at most every `slowRefreshMs` (2 s by default;
 * the kubelet's eviction manager samples every 10 s). A poll at the default
 * cadence thus costs a few microseconds.
 *
 * Levels keep hysteresis per signal, so one signal hovering at a threshold
 * does not flap the combined level.
 */
import { requireDurationMs } from '../checks.js';
import { clockOption } from '../clock.js';
import { pressureRank, type MemoryPressureLevel } from '../pressure-levels.js';
import type { MemorySample } from '../pressure/memory-state.js';
import { MemoryThresholds } from '../pressure/thresholds.js';
import { ContainerSignal, type FileSignalOptions } from './container-signal.js';
import { checkHeapCap, type HeapCapWarning } from './heap-cap.js';
import { HeapSignal, type HeapSignalOptions } from './heap-signal.js';
import { PressureStallSignal } from './pressure-stall-signal.js';
import { nodeRuntime, type NodeRuntime } from './runtime.js';
import type { NodeSignal, NodeSignalName, NodeSignalReading } from './signal.js';
import { SystemSignal } from './system-signal.js';

/** The shortest span a growth rate is measured over (see #msToNext). */
const GROWTH_WINDOW_MS = 100;

/** Default thresholds per signal; every value is a fraction of that signal's own budget. */
export const DEFAULT_NODE_THRESHOLDS: Readonly<Record<NodeSignalName, MemoryThresholds>> = Object.freeze({
  // The budget is already V8's give-up line (0.8 of the old-generation maximum, where
  // Heap::CheckIneffectiveMarkCompact may abort), so 1.0 is "may crash at the next full GC".
  // 0.70 / 0.85 / 0.95 of it are 0.56 / 0.68 / 0.76 of the maximum: the cache starts shedding
  // while V8 still grows the heap freely, and emergency comes before the abort line, leaving
  // room for the garbage the measure includes and for the allocations made between two polls.
  heap: new MemoryThresholds({ moderate: 0.7, critical: 0.85, emergency: 0.95, hysteresis: 0.05 }),
  // Working set against the cgroup limit: the kernel OOM-kills at 1.0, with no warning. earlyoom's
  // defaults act when less than 10% is available (SIGTERM) and 5% (SIGKILL), so critical at 0.90
  // and emergency at 0.95; moderate at 0.80 gives the cache time to shed in batches first.
  container: new MemoryThresholds({ moderate: 0.8, critical: 0.9, emergency: 0.95, hysteresis: 0.05 }),
  // The machine: the same earlyoom lines (MemAvailable under 10% / 5%); the kubelet's hard eviction
  // (memory.available < 100Mi) sits further still, at the edge.
  system: new MemoryThresholds({ moderate: 0.8, critical: 0.9, emergency: 0.95, hysteresis: 0.05 }),
  // Share of the last 10 s with a task stalled on memory. Android's lmkd starts killing at 7% partial
  // stall (psi_partial_stall_ms = 70 per 1 s); moderate at 10% stays just above that so ordinary
  // reclaim does not fire it. systemd-oomd kills a cgroup at 60% pressure (DefaultMemoryPressureLimit);
  // `some` is never below `full`, so emergency at 0.60 fires before oomd would act.
  psi: new MemoryThresholds({ moderate: 0.1, critical: 0.3, emergency: 0.6, hysteresis: 0.05 }),
});

export const NODE_SIGNAL_NAMES: readonly NodeSignalName[] = Object.freeze(['heap', 'container', 'system', 'psi'] as const);

export const DEFAULT_SLOW_REFRESH_MS = 2000;

export interface NodeMemorySignalsOptions extends FileSignalOptions {
  /** Which signals to combine. Default all four. */
  signals?: readonly NodeSignalName[];
  /** Per-signal thresholds; unlisted signals use DEFAULT_NODE_THRESHOLDS. */
  thresholds?: Partial<Record<NodeSignalName, MemoryThresholds>>;
  /** Options of the heap signal (maxOldGenerationBytes, giveUpFraction). */
  heap?: Omit<HeapSignalOptions, 'runtime'>;
  /** Re-read /proc/meminfo, memory.stat and PSI at most this often. Default 2000; 0 reads everything every time. */
  slowRefreshMs?: number;
}

/** One signal's reading with its level. */
export interface NodeSignalLevelReading extends NodeSignalReading {
  /** The signal's level under its own thresholds, with hysteresis; 'normal' when unavailable. */
  readonly level: MemoryPressureLevel;
  readonly thresholds: MemoryThresholds;
}

export interface NodeMemorySignalsReading {
  /** Clock time of the reading. */
  readonly at: number;
  /** Every configured signal, in NODE_SIGNAL_NAMES order, available or not. */
  readonly signals: readonly NodeSignalLevelReading[];
  /** The most pressing available signal (highest level; ties: highest fraction). */
  readonly mostPressing: NodeSignalLevelReading;
}

function validateSignals(value: unknown): NodeSignalName[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new RangeError(`signals must be a non-empty array of ${NODE_SIGNAL_NAMES.join(', ')}, got ${JSON.stringify(value)}`);
  }
  for (const name of value) {
    if (!NODE_SIGNAL_NAMES.includes(name as NodeSignalName)) {
      throw new RangeError(`signals may only contain ${NODE_SIGNAL_NAMES.join(', ')}, got ${JSON.stringify(name)}`);
    }
  }
  return NODE_SIGNAL_NAMES.filter((n) => (value as unknown[]).includes(n));
}

export class NodeMemorySignals {
  readonly #signals: NodeSignal[] = [];
  readonly #thresholds: Record<NodeSignalName, MemoryThresholds>;
  readonly #levels = new Map<NodeSignalName, MemoryPressureLevel>();
  /** Each signal's used bytes and clock time at the reading its growth rate was last measured from, and that rate. */
  readonly #previous = new Map<NodeSignalName, { usedBytes: number; at: number; bytesPerMs: number }>();
  #msToNextLevel = Infinity;
  readonly #clock;
  readonly #runtime: NodeRuntime;
  #heap: HeapSignal | undefined;
  #container: ContainerSignal | undefined;
  #last: NodeMemorySignalsReading | undefined;

  constructor(options: NodeMemorySignalsOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError(`options must be an object, got ${String(options)}`);
    const names = options.signals === undefined ? [...NODE_SIGNAL_NAMES] : validateSignals(options.signals);
    const slowRefreshMs = options.slowRefreshMs === undefined ? DEFAULT_SLOW_REFRESH_MS : requireDurationMs('slowRefreshMs', options.slowRefreshMs, { allowZero: true });
    this.#thresholds = { ...DEFAULT_NODE_THRESHOLDS };
    for (const [name, t] of Object.entries(options.thresholds ?? {})) {
      if (!NODE_SIGNAL_NAMES.includes(name as NodeSignalName)) {
        throw new RangeError(`thresholds keys must be one of ${NODE_SIGNAL_NAMES.join(', ')}, got ${JSON.stringify(name)}`);
      }
      if (!(t instanceof MemoryThresholds)) throw new TypeError(`thresholds.${name} must be a MemoryThresholds instance`);
      this.#thresholds[name as NodeSignalName] = t;
    }
    this.#clock = clockOption(options.clock);
    this.#runtime = options.runtime ?? nodeRuntime;
    const file: FileSignalOptions = { clock: this.#clock };
    if (options.root !== undefined) file.root = options.root;
    if (options.fs !== undefined) file.fs = options.fs;
    if (options.runtime !== undefined) file.runtime = options.runtime;
    if (options.redetectIntervalMs !== undefined) file.redetectIntervalMs = options.redetectIntervalMs;
    for (const name of names) {
      switch (name) {
        case 'heap':
          this.#heap = new HeapSignal({ ...options.heap, ...(options.runtime === undefined ? {} : { runtime: options.runtime }) });
          this.#signals.push(this.#heap);
          break;
        case 'container':
          this.#container = new ContainerSignal({ ...file, statRefreshMs: slowRefreshMs });
          this.#signals.push(this.#container);
          break;
        case 'system':
          this.#signals.push(new SystemSignal({ ...file, minRefreshMs: slowRefreshMs }));
          break;
        case 'psi':
          this.#signals.push(new PressureStallSignal({ ...file, minRefreshMs: slowRefreshMs }));
          break;
      }
    }
  }

  /** The thresholds each signal is judged by. */
  get thresholds(): Readonly<Record<NodeSignalName, MemoryThresholds>> {
    return this.#thresholds;
  }

  /**
   * A warning when V8's heap limit (`heap_size_limit`) is above the
   * container's memory limit, with the `--max-old-space-size` that fits (see
   * heap-cap.ts); undefined when it fits, without a limit, or without both
   * the heap and the container signal. Checked on each call (the limit is
   * re-detected every `redetectIntervalMs`); not on the polling path.
   */
  get heapCapWarning(): HeapCapWarning | undefined {
    if (this.#heap === undefined || this.#container === undefined) return undefined;
    return checkHeapCap(this.#runtime.heapSizeLimitBytes(), this.#container.cgroup.limitBytes);
  }

  /** The last reading taken (by `read()` or `sample()`), if any. */
  get lastReading(): NodeMemorySignalsReading | undefined {
    return this.#last;
  }

  /**
   * At the growth seen between the last two readings, the least time until
   * some signal reaches its next level; Infinity when none is growing.
   */
  get msToNextLevel(): number {
    return this.#msToNextLevel;
  }

  /** Reads every signal now and updates each one's level. */
  read(): NodeMemorySignalsReading {
    const readings: NodeSignalLevelReading[] = [];
    let most: NodeSignalLevelReading | undefined;
    const now = this.#clock.now();
    let soonestMs = Infinity;
    if (this.#heap !== undefined && this.#container !== undefined) this.#heap.fitContainer(this.#container.cgroup.limitBytes);
    for (const signal of this.#signals) {
      const r = signal.read();
      const thresholds = this.#thresholds[signal.name];
      let level: MemoryPressureLevel = 'normal';
      if (r.available) {
        level = thresholds.levelFor(r.fraction, this.#levels.get(signal.name));
        this.#levels.set(signal.name, level);
        const etaMs = this.#msToNext(signal.name, r.usedBytes, r.budgetBytes, level, thresholds, now);
        if (etaMs < soonestMs) soonestMs = etaMs;
      } else {
        this.#levels.delete(signal.name);
        this.#previous.delete(signal.name);
      }
      // A literal, not a spread: spreading the reading costs microseconds per poll.
      const withLevel: NodeSignalLevelReading = {
        signal: r.signal,
        source: r.source,
        available: r.available,
        usedBytes: r.usedBytes,
        budgetBytes: r.budgetBytes,
        fraction: r.fraction,
        detail: r.detail,
        level,
        thresholds,
      };
      readings.push(withLevel);
      if (!r.available) continue;
      if (most === undefined) {
        most = withLevel;
        continue;
      }
      const byLevel = pressureRank(level) - pressureRank(most.level);
      if (byLevel > 0 || (byLevel === 0 && r.fraction > most.fraction)) most = withLevel;
    }
    // The heap signal is always available, so `most` is set unless only unavailable signals were asked for.
    const mostPressing = most ?? (readings[0] as NodeSignalLevelReading);
    this.#msToNextLevel = soonestMs;
    this.#last = { at: now, signals: readings, mostPressing };
    return this.#last;
  }

  /**
   * Time until `used` reaches the next level's threshold at the signal's
   * growth rate, measured between readings at least GROWTH_WINDOW_MS apart:
   * two readings a few ms apart (a collection's poll, then the timer's)
   * show no growth even at 100 MB/s (new objects reach the old generation
   * only when a scavenge promotes them), so a reading sooner than that
   * keeps the last rate. Seen with the rate taken from such a pair: read
   * as flat, and 62 MB of growth before the next poll.
   */
  #msToNext(name: NodeSignalName, used: number, budget: number, level: MemoryPressureLevel, t: MemoryThresholds, now: number): number {
    const previous = this.#previous.get(name);
    if (previous === undefined) {
      this.#previous.set(name, { usedBytes: used, at: now, bytesPerMs: 0 });
      return Infinity;
    }
    const elapsedMs = now - previous.at;
    if (elapsedMs >= GROWTH_WINDOW_MS || elapsedMs < 0) {
      previous.bytesPerMs = elapsedMs > 0 ? (used - previous.usedBytes) / elapsedMs : 0;
      previous.usedBytes = used;
      previous.at = now;
    }
    const bytesPerMs = previous.bytesPerMs;
    if (!(bytesPerMs > 0) || level === 'emergency') return Infinity;
    const next = level === 'normal' ? t.moderate : level === 'moderate' ? t.critical : t.emergency;
    return Math.max(0, next * budget - used) / bytesPerMs;
  }

  /** The most pressing signal as a sample, with its level: a `memoryProvider`. */
  sample(): MemorySample {
    const m = this.read().mostPressing;
    return { usedBytes: m.usedBytes, availableBytes: Math.max(0, m.budgetBytes - m.usedBytes), source: m.source, level: m.level };
  }

  /** Bytes a cache has just dropped: garbage until the next full collection (see ContainerSignal). */
  noteReleased(bytes: number): void {
    this.#container?.noteReleased(bytes);
  }

  /** A full collection has run: drops reported before it are being freed. */
  noteMajorCollection(): void {
    this.#container?.noteMajorCollection();
  }

  /**
   * What caches reported dropping in this collection cycle and the last,
   * and the container's collector reserve (0 each without the container
   * signal).
   */
  get uncollected(): { readonly releasedBytes: number; readonly reserveBytes: number } {
    const c = this.#container;
    if (c === undefined) return { releasedBytes: 0, reserveBytes: 0 };
    return { releasedBytes: c.uncollectedReleasedBytes, reserveBytes: c.cgroup.reserveBytes };
  }

  /** Closes every kept-open file. Reading again reopens them. */
  close(): void {
    for (const s of this.#signals) s.close();
  }
}

/** Every Node signal once, with its value, budget, fraction and level: what `nexus-store monitor` shows. */
export function readNodeMemorySignals(options: NodeMemorySignalsOptions = {}): NodeMemorySignalsReading {
  const signals = new NodeMemorySignals({ ...options, slowRefreshMs: 0 });
  try {
    return signals.read();
  } finally {
    signals.close();
  }
}
