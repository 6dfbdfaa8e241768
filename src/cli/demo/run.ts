/**
 * The demo's workload process (the child the launcher starts under a capped
 * heap): builds the service, serves the Zipf request stream for the given
 * duration, prints a progress line every second and the report at the end.
 *
 * Requests are served in small batches with a yield to the event loop after
 * each, so the monitor's timer and the cleanup coordinator run between
 * batches as they would between a real server's requests; a rate cap keeps
 * the allocation rate comparable across machines.
 */
import { getHeapStatistics } from 'node:v8';
import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import { PRESSURE_LEVELS, type MemoryPressureLevel } from '../../index.js';
import { createNodeMemoryMonitor, type NodeMemoryMonitor, type NodeMemoryMonitorOptions } from '../../node/index.js';
import { formatCount, formatMB, formatPercent } from '../format.js';
import { ContainerUsage } from './container-usage.js';
import { measureConvergence, type Convergence } from './convergence.js';
import { formatReport } from './report.js';
import { BaselineService, ManagedService, type ComponentName, type DemoService } from './service.js';
import type { DemoListener, DemoSample } from './timeline.js';
import { Workload } from './workload.js';

export interface DemoRunOptions {
  durationS: number;
  heapMb: number;
  seed: number;
  baseline: boolean;
  /** Requests per second the workload aims at. */
  ratePerS: number;
  /** Thumbnails in Buffers, off the V8 heap: the demo in a container (--memory-limit-mb). Default false. */
  offHeapThumbnails?: boolean;
  write: (text: string) => void;
  listener?: DemoListener;
  /**
   * For bench/demo-sweep.bench.ts: fixed per-component maxCacheBytes, with no
   * monitor wired to the caches and no cleaners (the monitor still samples the
   * heap for the report). Undefined: the demo as users run it.
   */
  fixedBudgetsBytes?: Readonly<Record<ComponentName, number>>;
  /** For bench/demo-sweep.bench.ts: the monitor's options instead of the library's defaults. */
  monitorOptions?: NodeMemoryMonitorOptions;
}

const BATCH = 50;
const SAMPLE_EVERY_MS = 250;
const PROGRESS_EVERY_MS = 1000;

/**
 * The monitor that drives the service: every Node signal, with the library's
 * defaults, as a user gets it. (Polling faster than the defaults made the
 * caches oscillate: timer polls between two full collections read the
 * evicted entries as still on the heap, saw `critical`, and halved every
 * cache again; bench/RESULTS.md, demo-sweep, compares the two.)
 */
function createMonitor(options: NodeMemoryMonitorOptions = {}): NodeMemoryMonitor {
  return createNodeMemoryMonitor(options);
}

/** The heap signal as of the monitor's last poll: V8's old generation against the line where V8 gives up. */
function heapOf(monitor: NodeMemoryMonitor): { usedBytes: number; limitBytes: number } {
  const heap = monitor.lastReading?.signals.find((s) => s.signal === 'heap');
  if (heap !== undefined && heap.available) return { usedBytes: heap.usedBytes, limitBytes: heap.budgetBytes };
  const stats = getHeapStatistics();
  return { usedBytes: stats.used_heap_size, limitBytes: stats.heap_size_limit };
}

/** The container signal as of the monitor's last poll, when it measures a cgroup's working set. */
function containerSignalOf(monitor: NodeMemoryMonitor): { usedBytes: number; budgetBytes: number } | undefined {
  const container = monitor.lastReading?.signals.find((s) => s.signal === 'container');
  return container !== undefined && container.available && container.source === 'cgroup' ? container : undefined;
}

export interface DemoRunResult {
  readonly report: string;
  readonly samples: readonly DemoSample[];
  readonly convergence: Convergence;
  /** Hits over lookups over the whole run. */
  readonly hitRatio: number;
}

export async function runDemo(options: DemoRunOptions): Promise<DemoRunResult> {
  const { write, listener } = options;
  const monitor = createMonitor(options.monitorOptions);
  // Said once, before the run: a heap cap above the container's limit (see HeapCapWarning).
  const warnings = monitor.warnings.subscribe((warning) => write(`warning: ${warning.message}\n`));
  monitor.startMonitoring();
  const container = ContainerUsage.detect();
  const service: DemoService = options.baseline
    ? await BaselineService.create(options.seed, options.offHeapThumbnails ?? false)
    : await ManagedService.create({
        seed: options.seed,
        offHeapThumbnails: options.offHeapThumbnails ?? false,
        heapLimitBytes: heapOf(monitor).limitBytes,
        monitor,
        now: () => Date.now(),
        ...(options.fixedBudgetsBytes === undefined ? {} : { fixedBudgetsBytes: options.fixedBudgetsBytes }),
      });
  const workload = new Workload(options.seed);
  // The clock starts once the service is built: the catalogue load is not part of the run.
  const startedAt = performance.now();
  const startedAtWallMs = Date.now();
  const elapsedS = () => (performance.now() - startedAt) / 1000;
  const samples: DemoSample[] = [];
  const levelTimeS: Record<MemoryPressureLevel, number> = { normal: 0, moderate: 0, critical: 0, emergency: 0 };
  let peakHeapBytes = 0;
  let peakWorkingSetBytes = 0;
  let peakSignal: { usedBytes: number; budgetBytes: number } | undefined;
  let peakLevel: MemoryPressureLevel = 'normal';
  let requests = 0;
  let loggedCleanups = 0;

  const componentsTotals = () => {
    let hits = 0;
    let evictions = 0;
    const cacheBytes = {} as Record<ComponentName, number>;
    for (const c of service.components()) {
      hits += c.hits;
      evictions += c.evictions.capacity + c.evictions.pressure + c.evictions.manual;
      cacheBytes[c.name] = c.bytes;
    }
    return { hits, evictions, cacheBytes };
  };

  // Levels are tracked from the monitor's changes, not from the samples: a
  // critical spike shorter than the sampling interval still shows.
  const rank = (level: MemoryPressureLevel) => PRESSURE_LEVELS.indexOf(level);
  let currentLevel = monitor.currentPressure();
  let levelSinceS = 0;
  let levelSinceSample = currentLevel;
  const levels = monitor.pressure.subscribe((level) => {
    const t = elapsedS();
    levelTimeS[currentLevel] += t - levelSinceS;
    levelSinceS = t;
    currentLevel = level;
    if (rank(level) > rank(peakLevel)) peakLevel = level;
    if (rank(level) > rank(levelSinceSample)) levelSinceSample = level;
  });
  const takeSample = (): DemoSample => {
    const t = elapsedS();
    const state = monitor.currentMemoryState();
    const heap = heapOf(monitor);
    const heapUsedBytes = heap.usedBytes;
    peakHeapBytes = Math.max(peakHeapBytes, heapUsedBytes);
    // The highest level since the previous sample.
    const level = rank(levelSinceSample) > rank(state.level) ? levelSinceSample : state.level;
    levelSinceSample = state.level;
    const totals = componentsTotals();
    const workingSet = container?.workingSetBytes();
    if (workingSet !== undefined) peakWorkingSetBytes = Math.max(peakWorkingSetBytes, workingSet);
    const signal = containerSignalOf(monitor);
    if (signal !== undefined && (peakSignal === undefined || signal.usedBytes / signal.budgetBytes > peakSignal.usedBytes / peakSignal.budgetBytes)) {
      peakSignal = { usedBytes: signal.usedBytes, budgetBytes: signal.budgetBytes };
    }
    const sample: DemoSample = {
      t,
      heapUsedBytes,
      heapLimitBytes: heap.limitBytes,
      level,
      source: state.source,
      cacheBytes: totals.cacheBytes,
      evictions: totals.evictions,
      requests,
      hits: totals.hits,
      ...(container === undefined || workingSet === undefined ? {} : { containerWorkingSetBytes: workingSet, containerLimitBytes: container.limitBytes }),
    };
    samples.push(sample);
    listener?.sample?.(sample);
    for (const entry of service.cleanupLog.slice(loggedCleanups)) listener?.cleanup?.({ ...entry, t: Math.max(0, (entry.at - startedAtWallMs) / 1000) });
    loggedCleanups = service.cleanupLog.length;
    return sample;
  };

  // Each line shows the level now, next to the heap now, and the highest level
  // since the previous line (a spike between lines still shows).
  let printedSamples = 0;
  const progress = (sample: DemoSample) => {
    const hitRatio = sample.requests > 0 ? sample.hits / sample.requests : 0;
    const peak = samples.slice(printedSamples).reduce<MemoryPressureLevel>((p, s) => (rank(s.level) > rank(p) ? s.level : p), currentLevel);
    printedSamples = samples.length;
    const containerPart =
      sample.containerWorkingSetBytes === undefined || sample.containerLimitBytes === undefined
        ? ''
        : `container ${formatMB(sample.containerWorkingSetBytes).padStart(8)} / ${formatMB(sample.containerLimitBytes)}  `;
    write(
      `${sample.t.toFixed(1).padStart(5)}s  requests ${formatCount(sample.requests).padStart(9)}  hit ${formatPercent(hitRatio).padStart(6)}  ` +
        `heap ${formatMB(sample.heapUsedBytes).padStart(8)} / ${formatMB(sample.heapLimitBytes)}  ${containerPart}level ${currentLevel.padEnd(9)} ${`(highest since last line ${peak})`.padEnd(35)}  ` +
        `evictions ${formatCount(sample.evictions).padStart(7)}  cleanups ${service.cleanupLog.length}\n`,
    );
  };

  listener?.start?.({
    mode: service.kind,
    seed: options.seed,
    durationS: options.durationS,
    heapMb: options.heapMb,
    heapLimitBytes: heapOf(monitor).limitBytes,
    ...(container === undefined ? {} : { containerLimitBytes: container.limitBytes }),
    components: service.components().map((c) => ({ name: c.name, priority: c.priority, budgetBytes: c.budgetBytes })),
  });
  write(
    `nexus-store demo (${service.kind === 'managed' ? 'nexus-store caches' : 'baseline: plain Map caches'}), seed ${options.seed}, ` +
      `${options.durationS} s, heap capped at ${options.heapMb} MB (V8 gives up near ${formatMB(heapOf(monitor).limitBytes)} of old generation)` +
      `${container === undefined ? '' : `, in a memory cgroup limited to ${formatMB(container.limitBytes)}`}\n`,
  );

  const sampler = setInterval(takeSample, SAMPLE_EVERY_MS);
  const printer = setInterval(() => progress(samples.at(-1) ?? takeSample()), PROGRESS_EVERY_MS);
  try {
    const msPerRequest = 1000 / options.ratePerS;
    while (elapsedS() < options.durationS) {
      for (let i = 0; i < BATCH; i++) {
        const pending = service.handle(workload.next());
        if (pending !== undefined) await pending;
        requests++;
      }
      const aheadMs = requests * msPerRequest - (performance.now() - startedAt);
      if (aheadMs > 1) await sleep(Math.min(aheadMs, 100));
      else await yieldToEventLoop();
    }
  } finally {
    clearInterval(sampler);
    clearInterval(printer);
    monitor.close();
    levels.unsubscribe();
    warnings.unsubscribe();
  }
  const last = takeSample();
  levelTimeS[currentLevel] += last.t - levelSinceS;
  progress(last);
  const convergence = measureConvergence(samples, last.t);
  const report = formatReport({
    mode: service.kind,
    seed: options.seed,
    durationS: last.t,
    heapMb: options.heapMb,
    requests,
    components: service.components(),
    cleanupLog: service.cleanupLog,
    peakHeapBytes,
    heapLimitBytes: last.heapLimitBytes,
    levelTimeS,
    peakLevel,
    convergence,
    ...(container === undefined
      ? {}
      : { container: { limitBytes: container.limitBytes, peakWorkingSetBytes, ...(peakSignal === undefined ? {} : { peakSignal }) } }),
  });
  write(`\n${report}\n`);
  listener?.end?.({ t: last.t, report });
  await service.dispose();
  return { report, samples, convergence, hitRatio: last.requests > 0 ? last.hits / last.requests : NaN };
}
