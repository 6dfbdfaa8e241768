/** The demo's closing report: one row per component, then the run's totals. */
import { PRESSURE_LEVELS, type MemoryPressureLevel } from '../../index.js';
import { formatBytes, formatCount, formatMB, formatPercent, formatTable } from '../format.js';
import type { Convergence } from './convergence.js';
import type { CleanupLogEntry, ComponentStats } from './service.js';

export interface ReportInput {
  mode: 'managed' | 'baseline';
  seed: number;
  durationS: number;
  heapMb: number;
  requests: number;
  components: readonly ComponentStats[];
  cleanupLog: readonly CleanupLogEntry[];
  peakHeapBytes: number;
  heapLimitBytes: number;
  levelTimeS: Readonly<Record<MemoryPressureLevel, number>>;
  peakLevel: MemoryPressureLevel;
  /** Each component's cached bytes after the warm-up, and the hit ratio there (see measureConvergence). */
  convergence?: Convergence;
  /** In a memory cgroup with a limit: the working set's peak against the limit, and the monitor's container signal at its fullest. */
  container?: {
    readonly limitBytes: number;
    readonly peakWorkingSetBytes: number;
    readonly peakSignal?: { readonly usedBytes: number; readonly budgetBytes: number };
  };
}

function containerLine(c: NonNullable<ReportInput['container']>): string {
  const signal =
    c.peakSignal === undefined
      ? ''
      : `; the monitor's container signal peaked at ${formatMB(c.peakSignal.usedBytes)} of ${formatMB(c.peakSignal.budgetBytes)} ` +
        `(${formatPercent(c.peakSignal.usedBytes / c.peakSignal.budgetBytes, 0)}: without idle allocator pages, against the limit less a reserve for uncollected garbage)`;
  return `container     working set peak ${formatMB(c.peakWorkingSetBytes)} of the ${formatMB(c.limitBytes)} limit (${formatPercent(c.peakWorkingSetBytes / c.limitBytes, 0)})${signal}`;
}

function convergenceLine(c: Convergence): string {
  return (
    `after warm-up hit ratio ${formatPercent(c.hitRatio)} from ${c.warmupS.toFixed(1)} s on; "mean cached" and "CV" (coefficient of variation) ` +
    `are over the cached bytes once a second from then (${c.samples} samples)`
  );
}

/** The share of the hits that revived an evicted value (soft tier), when any did. */
function softHitsNote(components: readonly ComponentStats[], hits: number): string {
  const soft = components.reduce((sum, c) => sum + c.softHits, 0);
  return soft === 0 ? '' : ` (${formatCount(soft)} of the hits, ${formatPercent(soft / hits)}, revived evicted values not yet collected)`;
}

export function formatReport(input: ReportInput): string {
  const freedBy = new Map<string, { bytes: number; runs: number; failures: number }>();
  for (const entry of input.cleanupLog) {
    for (const r of entry.results) {
      const f = freedBy.get(r.cleanerName) ?? { bytes: 0, runs: 0, failures: 0 };
      f.bytes += r.bytesFreed;
      f.runs += 1;
      if (!r.success) f.failures += 1;
      freedBy.set(r.cleanerName, f);
    }
  }
  const rows = input.components.map((c) => {
    const lookups = c.hits + c.misses;
    const evictions = c.evictions.capacity + c.evictions.pressure + c.evictions.manual;
    const cleaned = freedBy.get(c.name);
    const settled = input.convergence?.components.find((s) => s.name === c.name);
    return [
      c.name,
      c.priority,
      formatCount(c.entries),
      formatMB(c.bytes),
      settled === undefined || !Number.isFinite(settled.meanBytes) ? '-' : formatMB(settled.meanBytes),
      settled === undefined ? '-' : formatPercent(settled.cv),
      c.budgetBytes === undefined ? 'none' : formatMB(c.budgetBytes),
      formatCount(lookups),
      formatPercent(lookups > 0 ? c.hits / lookups : 0),
      formatCount(evictions),
      formatCount(c.evictions.capacity),
      formatCount(c.evictions.pressure),
      formatCount(c.evictions.manual),
      cleaned === undefined ? '0' : `${cleaned.runs} (${formatMB(cleaned.bytes)})`,
      formatCount(c.pinned),
    ];
  });
  const table = formatTable(
    ['component', 'priority', 'entries', 'cached', 'mean cached', 'CV', 'budget', 'requests', 'hit ratio', 'evictions', 'capacity', 'pressure', 'manual', 'cleanups (freed)', 'pinned'],
    rows,
    ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
  const hits = input.components.reduce((sum, c) => sum + c.hits, 0);
  const lookups = input.components.reduce((sum, c) => sum + c.hits + c.misses, 0);
  const evictions = input.components.reduce((sum, c) => sum + c.evictions.capacity + c.evictions.pressure + c.evictions.manual, 0);
  const evictedBytes = input.components.reduce((sum, c) => sum + c.evictedBytes, 0);
  const totalLevelS = PRESSURE_LEVELS.reduce((sum, l) => sum + input.levelTimeS[l], 0) || 1;
  const runsByLevel = new Map<MemoryPressureLevel, number>();
  for (const entry of input.cleanupLog) runsByLevel.set(entry.level, (runsByLevel.get(entry.level) ?? 0) + 1);
  const freedTotal = [...freedBy.values()].reduce((sum, f) => sum + f.bytes, 0);
  const lines = [
    `nexus-store demo report: ${input.mode === 'managed' ? 'nexus-store caches' : 'baseline (plain Map caches)'}, seed ${input.seed}, heap capped at ${input.heapMb} MB`,
    '',
    table,
    '',
    `requests      ${formatCount(input.requests)} in ${input.durationS.toFixed(1)} s (${formatCount(input.requests / Math.max(input.durationS, 1e-9))}/s), hit ratio ${formatPercent(lookups > 0 ? hits / lookups : 0)}${softHitsNote(input.components, hits)}`,
    ...(input.convergence === undefined ? [] : [convergenceLine(input.convergence)]),
    `heap          peak ${formatMB(input.peakHeapBytes)} of ${formatMB(input.heapLimitBytes)} usable (${formatPercent(input.peakHeapBytes / input.heapLimitBytes, 0)})`,
    ...(input.container === undefined ? [] : [containerLine(input.container)]),
    `levels        ${PRESSURE_LEVELS.map((l) => `${l} ${formatPercent(input.levelTimeS[l] / totalLevelS)}`).join(', ')} of the time; highest ${input.peakLevel}`,
    `evictions     ${formatCount(evictions)} entries, ${formatBytes(evictedBytes)} (capacity: over budget; pressure: budget watermarks and monitor levels; manual: cleaners)`,
    `cleanup runs  ${input.cleanupLog.length}${input.cleanupLog.length > 0 ? ` (${[...runsByLevel].map(([l, n]) => `${n} at ${l}`).join(', ')}), ${formatMB(freedTotal)} freed` : ''}`,
    `outcome       survived ${input.durationS.toFixed(1)} s`,
  ];
  return lines.join('\n');
}
