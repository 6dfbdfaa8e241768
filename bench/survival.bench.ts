/**
 * The survival matrix: a caching service inside a real memory cgroup, for
 * every cell of limit x payload x miss rate x heap sizing, with three caches:
 * a plain Map (must be OOM-killed, or the cell proves nothing), a hand-tuned
 * fixed budget of half the limit, and MemoryManager over
 * createNodeMemoryMonitor() with every default (run NEXUS_SURVIVAL_RUNS
 * times, 5 by default). Each run lasts at least 30 s (see cellDurationS),
 * so the whole matrix takes hours one cell at a time; NEXUS_SURVIVAL_JOBS
 * runs that many cells at once. NEXUS_SURVIVAL_CELLS selects cells as
 * `limit:payload:rate:heap` patterns, `*` for any, comma-separated
 * (e.g. `256:buffer:*:default`). NEXUS_SURVIVAL_DIST runs the children
 * against a copy of dist/ (see child.mjs).
 *
 * Skips, saying why, where no memory cgroup can be created.
 */
import { probeMemoryCgroups } from '../src/cli/container/memory-cgroup.js';
import { loadavg } from 'node:os';
import { machineLine, median, table, writeSection } from './lib/results.js';
import { describeCell, runSurvivalCell, type SurvivalCell, type SurvivalHeap, type SurvivalPayload, type SurvivalRun } from './survival/cell.js';

const LIMITS_MIB = [192, 256, 384];
const PAYLOADS: SurvivalPayload[] = ['buffer', 'heap', 'mixed'];
const RATES_MBPS = [10, 30, 60, 100];
const HEAPS: SurvivalHeap[] = ['default', 'above'];

const probe = probeMemoryCgroups();
if (!probe.available) {
  console.log(`survival: skipped, no memory cgroup can be created here: ${probe.reason}`);
  process.exit(0);
}

const runs = Number(process.env['NEXUS_SURVIVAL_RUNS'] ?? 5);
if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`NEXUS_SURVIVAL_RUNS must be a positive integer, got ${process.env['NEXUS_SURVIVAL_RUNS']}`);
const patterns = (process.env['NEXUS_SURVIVAL_CELLS'] ?? '*:*:*:*').split(',').map((p) => p.trim().split(':'));

function selected(cell: SurvivalCell): boolean {
  const fields = [String(cell.limitMiB), cell.payload, String(cell.rateMBps), cell.heap];
  return patterns.some((p) => fields.every((f, i) => p[i] === undefined || p[i] === '*' || p[i] === f));
}

const cells: SurvivalCell[] = [];
for (const limitMiB of LIMITS_MIB)
  for (const payload of PAYLOADS)
    for (const rateMBps of RATES_MBPS)
      for (const heap of HEAPS) {
        const cell = { limitMiB, payload, rateMBps, heap };
        if (selected(cell)) cells.push(cell);
      }

const fate = (run: SurvivalRun) => (run.lived ? 'lived' : run.outcome.oomKilled ? 'OOM-killed' : `died (${run.outcome.signal ?? run.outcome.code})`);
const ratio = (run: SurvivalRun) => run.result?.warmHitRatio ?? 0;
/** Coefficient of variation of the cache's bytes after the warm-up. */
function variation(run: SurvivalRun): number {
  const seen = run.result?.cacheBytesSeen ?? [];
  if (seen.length < 2) return NaN;
  const mean = seen.reduce((a, b) => a + b, 0) / seen.length;
  const sd = Math.sqrt(seen.reduce((a, b) => a + (b - mean) ** 2, 0) / seen.length);
  return mean === 0 ? NaN : sd / mean;
}

/** One cell: the Map, the fixed budget, then the monitored runs, one after another. */
async function runCell(cell: SurvivalCell): Promise<{ row: (string | number)[]; ok: boolean }> {
  const name = describeCell(cell);
  const map = await runSurvivalCell(cell, 'map', 1);
  const fixed = await runSurvivalCell(cell, 'fixed', 1);
  const monitored: SurvivalRun[] = [];
  for (let i = 0; i < runs; i++) {
    const run = await runSurvivalCell(cell, 'monitor', 1 + i);
    monitored.push(run);
    const levels = JSON.stringify(run.result?.levels ?? {});
    let line = `  ${name}, monitor run ${i + 1}: ${fate(run)}, hit ratio ${ratio(run).toFixed(3)}, levels ${levels}, peak ${((run.outcome.peakBytes ?? 0) / 2 ** 20).toFixed(0)} MiB, forced collections ${run.result?.forcedCollections ?? '-'} (${(run.result?.forcedCollectionMs ?? 0).toFixed(0)} ms)`;
    if (!run.lived || ratio(run) < 0.5 * ratio(fixed)) line += `\n    last samples:\n      ${(run.result?.recent ?? []).join('\n      ')}${run.stderr === '' ? '' : `\n    stderr: ${run.stderr.slice(-400)}`}`;
    console.log(line);
  }
  const lived = monitored.filter((r) => r.lived).length;
  const fixedRatio = ratio(fixed);
  const worst = Math.min(...monitored.map(ratio));
  const relative = fixedRatio > 0 ? worst / fixedRatio : NaN;
  const ok = !map.lived && fixed.lived && lived === runs && relative >= 0.9;
  // The highest working set any monitored run reached, as a share of the limit (the kernel's peak, where it keeps one).
  const peaks = monitored.map((r) => r.outcome.peakBytes).filter((b): b is number => b !== undefined);
  const peak = peaks.length === 0 ? '-' : `${((100 * Math.max(...peaks)) / (cell.limitMiB * 2 ** 20)).toFixed(0)}%`;
  // Forced full collections (collectUnderPressure): the median run's count, and the share of its time they took.
  const lasted = monitored.filter((r) => r.result !== undefined).map((r) => r.result!);
  const forced = lasted.length === 0 ? '-' : `${median(lasted.map((r) => r.forcedCollections))}, ${median(lasted.map((r) => (100 * r.forcedCollectionMs) / (1000 * r.elapsedS))).toFixed(2)}%`;
  const row = [
    `${cell.limitMiB} MiB`,
    cell.payload,
    `${cell.rateMBps} MB/s`,
    cell.heap === 'default' ? 'default' : `${cell.limitMiB * 2} MB cap`,
    fate(map),
    `${fate(fixed)}, ${fixedRatio.toFixed(3)}`,
    `${lived}/${runs}`,
    median(monitored.map(ratio)).toFixed(3),
    relative.toFixed(2),
    median(monitored.map(variation)).toFixed(2),
    peak,
    forced,
    ok ? 'yes' : 'no',
  ];
  console.log(`${name}: ${row.join(' | ')}`);
  return { row, ok };
}

// Cells run NEXUS_SURVIVAL_JOBS at a time (1 by default). Misses are paced, so
// a child needs a fraction of a core; several cells fit on a small machine,
// but a busy one delays the collector, and with it every cache alike.
const jobs = Number(process.env['NEXUS_SURVIVAL_JOBS'] ?? 1);
if (!Number.isInteger(jobs) || jobs < 1) throw new RangeError(`NEXUS_SURVIVAL_JOBS must be a positive integer, got ${process.env['NEXUS_SURVIVAL_JOBS']}`);
const outcomes: { row: (string | number)[]; ok: boolean }[] = new Array(cells.length);
let next = 0;
const startedAt = performance.now();
const loadAtStart = loadavg()[0]!;
const cgroupVersion = probe.version;

/** Writes the section for the cells done so far, in matrix order. */
function record(): void {
  const done = outcomes.filter((o) => o !== undefined);
  const rows = done.map((o) => o.row);
  const green = done.filter((o) => o.ok).length;
  const elapsedMin = (performance.now() - startedAt) / 60_000;
  const progress = done.length === cells.length ? '' : ` So far ${done.length} of the ${cells.length} cells selected have run; the run was stopped or is still going.`;
  writeSection(
    'survival',
    `## Survival in a real memory cgroup

${machineLine(`NEXUS_SURVIVAL_RUNS=${runs}${jobs === 1 ? '' : ` NEXUS_SURVIVAL_JOBS=${jobs}`}${process.env['NEXUS_SURVIVAL_CELLS'] === undefined ? '' : ` NEXUS_SURVIVAL_CELLS='${process.env['NEXUS_SURVIVAL_CELLS']}'`} npm run bench -- survival`)}

Each run caches 64 KiB payloads (Zipf 0.9 over 40,000 keys) with misses paced at the cell's rate,
inside a cgroup v${cgroupVersion} memory cgroup of the cell's limit; the kernel's \`oom_kill\` counter says who was killed.
Hit ratios are after the warm-up (the first third of the run). "vs fixed" is the worst monitored run's hit ratio
over the fixed budget's. "CV" is the median coefficient of variation of the monitored cache's bytes, once a second after the warm-up.
"Peak" is the highest working set of the monitored runs (the kernel's record) over the limit. "Forced collections" are the
full collections the monitor ran (\`collectUnderPressure\`) in the median run, and the median share of the run's time they took.
Load average at the start: ${loadAtStart.toFixed(2)} on this machine's cores.
A cell passes when the Map is killed, the fixed budget lives, every monitored run lives and "vs fixed" is at least 0.90.

${table(['limit', 'payload', 'misses', 'heap', 'Map', 'fixed (half the limit), hit ratio', 'monitor lived', 'monitor hit ratio (median)', 'vs fixed (worst)', 'CV', 'peak', 'forced collections', 'pass'], rows)}

${green} of ${done.length} cells pass (${elapsedMin.toFixed(0)} min, ${jobs} cell${jobs === 1 ? '' : 's'} at a time).${progress}
`,
  );
}

await Promise.all(
  Array.from({ length: Math.min(jobs, cells.length) }, async () => {
    while (next < cells.length) {
      const index = next++;
      outcomes[index] = await runCell(cells[index]!);
      record(); // after every cell: a run stopped early still leaves what it measured
    }
  }),
);
