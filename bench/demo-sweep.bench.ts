/**
 * The heap-capped demo against fixed budgets: the demo's workload (`npm
 * start` with its defaults: 128 MB heap cap, 25 s, 4,000 requests/s, seed 1)
 * run with the demo's own wiring (every cache driven by the Node memory
 * monitor, cleaners registered with a coordinator), then with fixed
 * per-component maxCacheBytes over a grid and no monitor at all. A fixed
 * cell counts only if it lives (no heap OOM); the best of those is what a
 * hand-tuned service could reach, and the monitored runs' hit ratio is
 * given as a ratio to it, both from this one run of the bench.
 *
 * Also gives each component's coefficient of variation of cached bytes
 * after the warm-up (once a second, from the first third of the run on):
 * whether the monitored caches converge instead of flushing and refilling.
 *
 * Each run is its own child process (bench/demo-sweep/child.mjs) under the
 * heap cap. NEXUS_DEMO_SWEEP_RUNS sets how many monitored runs (3), and
 * NEXUS_DEMO_SWEEP_DURATION_S the seconds of each run (25, the demo's).
 * The whole bench takes about 10 minutes.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Convergence } from '../src/cli/demo/convergence.js';
import { DEMO_DEFAULTS } from '../src/cli/demo/options.js';
import { machineLine, median, table, writeSection } from './lib/results.js';

const CHILD = fileURLToPath(new URL('./demo-sweep/child.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

const RUNS = positiveInteger('NEXUS_DEMO_SWEEP_RUNS', 3);
const DURATION_S = positiveInteger('NEXUS_DEMO_SWEEP_DURATION_S', DEMO_DEFAULTS.durationS);
/** The monitor's polling before this bench: faster than the defaults (see the table). */
const FAST_POLLING = { pollingIntervalMs: 200, pollingIntervalMsByLevel: { moderate: 100, critical: 50, emergency: 50 } };
const FAST_RUNS = 2;
/** The monitor's default heap thresholds as fractions of V8's old-generation maximum (0.8 x 0.85 and 0.8 x 0.95). */
const CRITICAL_LINE = 0.8 * 0.85;
const EMERGENCY_LINE = 0.8 * 0.95;
/** The grid, in MiB: thumbnails and playback segments; video metadata gets enough for the whole catalogue. */
const IMAGE_MIB = [45, 60, 75, 90];
const BUFFER_MIB = [35, 50, 65, 80];
const VIDEO_MIB = 8;

interface Budgets {
  readonly images: number;
  readonly videos: number;
  readonly buffers: number;
}

interface ChildResult {
  readonly hitRatio: number;
  readonly requests: number;
  readonly elapsedS: number;
  readonly peakHeapBytes: number;
  readonly convergence: Convergence;
  /** The demo's closing report. */
  readonly report: string;
}

interface Run {
  readonly lived: boolean;
  readonly result: ChildResult | undefined;
  readonly death: string;
}

function run(budgetsMiB: Budgets | undefined, seed: number, monitorOptions?: object): Promise<Run> {
  const options = {
    durationS: DURATION_S,
    heapMb: DEMO_DEFAULTS.heapMb,
    seed,
    ratePerS: DEMO_DEFAULTS.ratePerS,
    ...(budgetsMiB === undefined ? {} : { budgetsMiB }),
    ...(monitorOptions === undefined ? {} : { monitorOptions }),
  };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [`--max-old-space-size=${DEMO_DEFAULTS.heapMb}`, CHILD, JSON.stringify(options)],
      { cwd: ROOT, timeout: (DURATION_S + 60) * 1000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NODE_OPTIONS: '' } },
      (error, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith('result '));
        const result = line === undefined ? undefined : (JSON.parse(line.slice('result '.length)) as ChildResult);
        const lived = error === null && result !== undefined;
        const death = lived
          ? ''
          : /heap out of memory|Reached heap limit/.test(stderr)
            ? 'heap OOM'
            : `failed (${(error as (Error & { signal?: string; code?: unknown }) | null)?.signal ?? (error as { code?: unknown } | null)?.code}): ${stderr.slice(-300)}`;
        resolve({ lived, result, death });
      },
    );
  });
}

const MAX_OLD_BYTES = DEMO_DEFAULTS.heapMb * 2 ** 20;
const mib = (bytes: number | undefined) => `${((bytes ?? NaN) / 2 ** 20).toFixed(0)} MiB`;
const pct = (x: number | null | undefined) => (typeof x === 'number' && Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '-');
const cvOf = (r: ChildResult, name: string) => r.convergence.components.find((c) => c.name === name)?.cv ?? NaN;
const meanMiBOf = (r: ChildResult, name: string) => (r.convergence.components.find((c) => c.name === name)?.meanBytes ?? NaN) / 2 ** 20;
const COMPONENTS = ['image-cache', 'video-metadata', 'playback-buffers'] as const;

// The monitored runs: the demo as users get it, then with the faster polling it had before.
const monitored: ChildResult[] = [];
const monitoredRows: (string | number)[][] = [];
for (let i = 0; i < RUNS + FAST_RUNS; i++) {
  const fast = i >= RUNS;
  const label = fast ? `${i - RUNS + 1}, polling 200/100/50 ms` : `${i + 1}`;
  const r = await run(undefined, DEMO_DEFAULTS.seed, fast ? FAST_POLLING : undefined);
  if (!r.lived || r.result === undefined) {
    console.log(`monitored run ${label}: ${r.death}`);
    monitoredRows.push([label, r.death, '-', '-', '-', '-', '-']);
    continue;
  }
  const res = r.result;
  if (!fast) monitored.push(res);
  const cvs = COMPONENTS.map((c) => `${meanMiBOf(res, c).toFixed(1)} MiB, CV ${pct(cvOf(res, c))}`);
  console.log(`monitored run ${label}: hit ratio ${pct(res.hitRatio)} (after warm-up ${pct(res.convergence.hitRatio)}); ${cvs.join('; ')}`);
  monitoredRows.push([label, `lived, ${res.requests.toLocaleString('en-US')} requests`, pct(res.hitRatio), pct(res.convergence.hitRatio), ...cvs]);
}

// The fixed grid.
interface Cell {
  readonly budgets: Budgets;
  readonly run: Run;
}
const cells: Cell[] = [];
for (const images of IMAGE_MIB) {
  for (const buffers of BUFFER_MIB) {
    const budgets = { images, videos: VIDEO_MIB, buffers };
    const r = await run(budgets, DEMO_DEFAULTS.seed);
    cells.push({ budgets, run: r });
    console.log(
      `fixed ${images}/${VIDEO_MIB}/${buffers} MiB: ${r.lived ? `hit ratio ${pct(r.result?.hitRatio)} (after warm-up ${pct(r.result?.convergence.hitRatio)}), peak heap ${mib(r.result?.peakHeapBytes)}` : r.death}`,
    );
  }
}
const lived = cells.filter((c) => c.run.lived && c.run.result !== undefined);
const bestOf = (candidates: readonly Cell[]) =>
  candidates.reduce<Cell | undefined>((b, c) => (b === undefined || c.run.result!.hitRatio > b.run.result!.hitRatio ? c : b), undefined);
const best = bestOf(lived);
const bestRatio = best?.run.result?.hitRatio ?? NaN;
// For scale: the best fixed cell whose heap never read past the monitor's emergency line.
const bestUnder = bestOf(lived.filter((c) => c.run.result!.peakHeapBytes < EMERGENCY_LINE * MAX_OLD_BYTES));
const describe = (c: Cell | undefined) =>
  c === undefined
    ? 'none'
    : `${c.budgets.images} / ${c.budgets.videos} / ${c.budgets.buffers} MiB (thumbnails / video metadata / segments), hit ratio ${pct(c.run.result?.hitRatio)}, peak heap ${mib(c.run.result?.peakHeapBytes)}`;
const monitoredMedian = monitored.length === 0 ? NaN : median(monitored.map((r) => r.hitRatio));
const monitoredWorst = monitored.length === 0 ? NaN : Math.min(...monitored.map((r) => r.hitRatio));
const worstCv = (name: string) => (monitored.length === 0 ? NaN : Math.max(...monitored.map((r) => cvOf(r, name))));
const summary =
  `Best fixed budgets that lived: ${describe(best)}. ` +
  `Monitored runs with the defaults (${monitored.length} of ${RUNS} lived): hit ratio median ${pct(monitoredMedian)}, worst ${pct(monitoredWorst)}, ` +
  `**${(monitoredWorst / bestRatio).toFixed(2)}x** the best fixed budgets (worst run; median ${(monitoredMedian / bestRatio).toFixed(2)}x); worst CV after warm-up: ` +
  COMPONENTS.map((c) => `${c} ${pct(worstCv(c))}`).join(', ') +
  `. Best fixed cell whose heap stayed under the monitor's emergency line (${mib(EMERGENCY_LINE * MAX_OLD_BYTES)} of old generation): ${describe(bestUnder)}` +
  `${bestUnder === undefined ? '' : `; the monitored runs' worst is ${(monitoredWorst / (bestUnder.run.result?.hitRatio ?? NaN)).toFixed(2)}x that`}.`;
console.log(summary);

const grid = IMAGE_MIB.map((images) => [
  `${images} MiB`,
  ...BUFFER_MIB.map((buffers) => {
    const cell = cells.find((c) => c.budgets.images === images && c.budgets.buffers === buffers);
    if (cell === undefined) return '-';
    return cell.run.lived ? `${pct(cell.run.result?.hitRatio)} (heap ${mib(cell.run.result?.peakHeapBytes)})` : cell.run.death;
  }),
]);

writeSection(
  'demo-sweep',
  `## The heap-capped demo against fixed budgets

${machineLine(`npm run bench -- demo-sweep${RUNS === 3 ? '' : ` (NEXUS_DEMO_SWEEP_RUNS=${RUNS})`}${DURATION_S === DEMO_DEFAULTS.durationS ? '' : ` (NEXUS_DEMO_SWEEP_DURATION_S=${DURATION_S})`}`)}

The demo's workload at its defaults (\`npm start\`: ${DEMO_DEFAULTS.heapMb} MB heap cap, ${DURATION_S} s, ${DEMO_DEFAULTS.ratePerS.toLocaleString('en-US')} requests/s, seed ${DEMO_DEFAULTS.seed}),
each run its own process. "Monitored" is the demo as shipped: each cache driven by the Node memory monitor, cleaners
registered with a coordinator, the monitor at its defaults; the last ${FAST_RUNS} rows poll as the demo did before
(every 200 ms, 100 ms at moderate, 50 ms above). "Fixed" gives each cache a fixed maxCacheBytes and no monitor. Hit ratios are over the
whole run; "after warm-up" from the first third on. CV is the coefficient of variation of the component's cached bytes,
once a second after the warm-up (mean cached bytes before it). The monitor's default heap thresholds read the old generation
against 0.8 of its ${DEMO_DEFAULTS.heapMb} MB maximum: critical at ${mib(CRITICAL_LINE * MAX_OLD_BYTES)}, emergency at ${mib(EMERGENCY_LINE * MAX_OLD_BYTES)}.

${table(['monitored run', 'outcome', 'hit ratio', 'after warm-up', 'thumbnails', 'video metadata', 'segments'], monitoredRows)}

Fixed budgets, hit ratio over the run and the heap's peak (video metadata ${VIDEO_MIB} MiB, enough for the whole catalogue; rows thumbnails, columns segments):

${table(['thumbnails \\ segments', ...BUFFER_MIB.map((b) => `${b} MiB`)], grid)}

${summary}

The report of monitored run 1 (what \`npm start\` prints at the end):

\`\`\`
${monitored[0]?.report ?? '(no monitored run lived)'}
\`\`\`
`,
);
