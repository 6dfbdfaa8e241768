/**
 * The heap-capped demo against fixed budgets: the demo's workload (`npm
 * start` with its defaults: 128 MB heap cap, 25 s, 4,000 requests/s) run
 * with the demo's own wiring (every cache driven by the Node memory
 * monitor, cleaners registered with a coordinator), then with fixed
 * per-component maxCacheBytes over a grid and no monitor at all.
 *
 * A hand-tuner keeps a budget only if it survives, so a fixed cell counts
 * only if it lives on every seed: the grid runs with seed 1 (the demo's),
 * then the cells that lived there are tried, best first, on seeds 2 to
 * NEXUS_DEMO_SWEEP_SEEDS (5) until one lives on all of them. A cell that
 * lived once can die on another seed, or on the same seed in another run:
 * its heap's peak is within a few MiB of the cap, and when V8 runs its
 * collections depends on timing. The monitored service runs once per seed,
 * and is compared with that cell seed by seed: the ratio of the mean hit
 * ratios, and the worst seed's ratio.
 *
 * Also gives each component's coefficient of variation of cached bytes
 * after the warm-up (once a second, from the first third of the run on):
 * whether the monitored caches converge instead of flushing and refilling.
 *
 * Each run is its own child process (bench/demo-sweep/child.mjs) under the
 * heap cap. NEXUS_DEMO_SWEEP_DURATION_S sets the seconds of each run (25,
 * the demo's). The whole bench takes about 15 minutes.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Convergence } from '../src/cli/demo/convergence.js';
import { DEMO_DEFAULTS } from '../src/cli/demo/options.js';
import { machineLine, mean, median, table, writeSection } from './lib/results.js';

const CHILD = fileURLToPath(new URL('./demo-sweep/child.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

const SEEDS = positiveInteger('NEXUS_DEMO_SWEEP_SEEDS', 5);
const SEED_LIST = Array.from({ length: SEEDS }, (_, i) => DEMO_DEFAULTS.seed + i);
/** At most this many cells of the grid are tried on every seed. */
const MAX_CONFIRMED = 4;
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

// The monitored runs: the demo as users get it, once per seed, then with the faster polling it had before (seed 1).
const monitored = new Map<number, ChildResult>();
const monitoredRows: (string | number)[][] = [];
const runs = [...SEED_LIST.map((seed) => ({ seed, fast: false })), ...Array.from({ length: FAST_RUNS }, () => ({ seed: DEMO_DEFAULTS.seed, fast: true }))];
let fastRun = 0;
for (const { seed, fast } of runs) {
  const label = fast ? `${seed} (run ${++fastRun}), polling 200/100/50 ms` : `${seed}`;
  const r = await run(undefined, seed, fast ? FAST_POLLING : undefined);
  if (!r.lived || r.result === undefined) {
    console.log(`monitored, seed ${label}: ${r.death}`);
    monitoredRows.push([label, r.death, '-', '-', '-', '-', '-']);
    continue;
  }
  const res = r.result;
  if (!fast) monitored.set(seed, res);
  const cvs = COMPONENTS.map((c) => `${meanMiBOf(res, c).toFixed(1)} MiB, CV ${pct(cvOf(res, c))}`);
  console.log(`monitored, seed ${label}: hit ratio ${pct(res.hitRatio)} (after warm-up ${pct(res.convergence.hitRatio)}); ${cvs.join('; ')}`);
  monitoredRows.push([label, `lived, ${res.requests.toLocaleString('en-US')} requests`, pct(res.hitRatio), pct(res.convergence.hitRatio), ...cvs]);
}

// The fixed grid, on the demo's seed.
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
const byHitRatio = [...lived].sort((a, b) => b.run.result!.hitRatio - a.run.result!.hitRatio);
const best = byHitRatio[0];
const bestRatio = best?.run.result?.hitRatio ?? NaN;
// For scale: the best fixed cell whose heap never read past the monitor's emergency line.
const bestUnder = byHitRatio.find((c) => c.run.result!.peakHeapBytes < EMERGENCY_LINE * MAX_OLD_BYTES);
const label = (b: Budgets) => `${b.images} / ${b.videos} / ${b.buffers} MiB`;
const describe = (c: Cell | undefined) =>
  c === undefined
    ? 'none'
    : `${label(c.budgets)} (thumbnails / video metadata / segments), hit ratio ${pct(c.run.result?.hitRatio)}, peak heap ${mib(c.run.result?.peakHeapBytes)}`;

// The cells that lived on seed 1, best first, on every other seed, until one lives on all of them.
interface Confirmed {
  readonly budgets: Budgets;
  /** Hit ratio by seed; undefined from the first seed it died on. */
  readonly hitRatios: Map<number, number>;
  readonly peakHeapBytes: number;
  /** The seed it died on and how, or undefined if it lived on every seed. */
  readonly death: { readonly seed: number; readonly how: string } | undefined;
}
const confirmed: Confirmed[] = [];
for (const cell of byHitRatio.slice(0, MAX_CONFIRMED)) {
  const hitRatios = new Map<number, number>([[DEMO_DEFAULTS.seed, cell.run.result!.hitRatio]]);
  let peakHeapBytes = cell.run.result!.peakHeapBytes;
  let death: Confirmed['death'];
  for (const seed of SEED_LIST.slice(1)) {
    const r = await run(cell.budgets, seed);
    if (!r.lived || r.result === undefined) {
      death = { seed, how: r.death };
      break;
    }
    hitRatios.set(seed, r.result.hitRatio);
    peakHeapBytes = Math.max(peakHeapBytes, r.result.peakHeapBytes);
  }
  console.log(`fixed ${label(cell.budgets)} on every seed: ${death === undefined ? `lived, mean hit ratio ${pct(mean([...hitRatios.values()]))}` : `died (seed ${death.seed}: ${death.how})`}`);
  confirmed.push({ budgets: cell.budgets, hitRatios, peakHeapBytes, death });
  if (death === undefined) break;
}
const robust = confirmed.find((c) => c.death === undefined);

const monitoredRatios = [...monitored.values()].map((r) => r.hitRatio);
const monitoredMedian = monitoredRatios.length === 0 ? NaN : median(monitoredRatios);
const monitoredWorst = monitoredRatios.length === 0 ? NaN : Math.min(...monitoredRatios);
const monitoredMean = monitoredRatios.length === SEEDS ? mean(monitoredRatios) : NaN;
const robustMean = robust === undefined ? NaN : mean([...robust.hitRatios.values()]);
const worstSeedRatio =
  robust === undefined || monitored.size < SEEDS ? NaN : Math.min(...SEED_LIST.map((seed) => monitored.get(seed)!.hitRatio / robust.hitRatios.get(seed)!));
const worstCv = (name: string) => (monitored.size === 0 ? NaN : Math.max(...[...monitored.values()].map((r) => cvOf(r, name))));
const seed1 = monitored.get(DEMO_DEFAULTS.seed)?.hitRatio ?? NaN;
const summary =
  `Monitored service (${monitored.size} of ${SEEDS} seeds lived): hit ratio mean ${pct(monitoredMean)}, median ${pct(monitoredMedian)}, worst ${pct(monitoredWorst)}; ` +
  `worst CV after warm-up: ${COMPONENTS.map((c) => `${c} ${pct(worstCv(c))}`).join(', ')}. ` +
  `Best fixed budgets on seed ${DEMO_DEFAULTS.seed}: ${describe(best)}; the monitored run on that seed is ${(seed1 / bestRatio).toFixed(2)}x that. ` +
  `Best fixed budgets that lived on all ${SEEDS} seeds: ${
    robust === undefined
      ? `none of the ${confirmed.length} tried`
      : `${label(robust.budgets)}, hit ratio mean ${pct(robustMean)}, peak heap ${mib(robust.peakHeapBytes)}; the monitored service is **${(monitoredMean / robustMean).toFixed(2)}x** that (ratio of the means; worst seed ${worstSeedRatio.toFixed(2)}x)`
  }. ` +
  `Best fixed cell on seed ${DEMO_DEFAULTS.seed} whose heap stayed under the monitor's emergency line (${mib(EMERGENCY_LINE * MAX_OLD_BYTES)} of old generation): ${describe(bestUnder)}` +
  `${bestUnder === undefined ? '' : `; the monitored run on that seed is ${(seed1 / (bestUnder.run.result?.hitRatio ?? NaN)).toFixed(2)}x that`}.`;
console.log(summary);

const grid = IMAGE_MIB.map((images) => [
  `${images} MiB`,
  ...BUFFER_MIB.map((buffers) => {
    const cell = cells.find((c) => c.budgets.images === images && c.budgets.buffers === buffers);
    if (cell === undefined) return '-';
    return cell.run.lived ? `${pct(cell.run.result?.hitRatio)} (heap ${mib(cell.run.result?.peakHeapBytes)})` : cell.run.death;
  }),
]);
const confirmedRows = confirmed.map((c) => [
  label(c.budgets),
  ...SEED_LIST.map((seed) => {
    const ratio = c.hitRatios.get(seed);
    if (ratio !== undefined) return pct(ratio);
    return c.death?.seed === seed ? c.death.how : '-';
  }),
  c.death === undefined ? `lived, mean ${pct(mean([...c.hitRatios.values()]))}, peak heap ${mib(c.peakHeapBytes)}` : 'died',
]);
const monitoredBySeed = ['monitored', ...SEED_LIST.map((seed) => pct(monitored.get(seed)?.hitRatio)), `mean ${pct(monitoredMean)}`];
const flags = [
  SEEDS === 5 ? '' : ` NEXUS_DEMO_SWEEP_SEEDS=${SEEDS}`,
  DURATION_S === DEMO_DEFAULTS.durationS ? '' : ` NEXUS_DEMO_SWEEP_DURATION_S=${DURATION_S}`,
].join('');

writeSection(
  'demo-sweep',
  `## The heap-capped demo against fixed budgets

${machineLine(`${flags === '' ? '' : `${flags.trim()} `}npm run bench -- demo-sweep`)}

The demo's workload at its defaults (\`npm start\`: ${DEMO_DEFAULTS.heapMb} MB heap cap, ${DURATION_S} s, ${DEMO_DEFAULTS.ratePerS.toLocaleString('en-US')} requests/s),
each run its own process, on seeds ${SEED_LIST[0]} to ${SEED_LIST.at(-1)} (seed ${DEMO_DEFAULTS.seed} is the demo's). "Monitored" is the demo as shipped: each cache driven by the Node memory monitor, cleaners
registered with a coordinator, the monitor at its defaults; the last ${FAST_RUNS} rows poll as the demo did before
(every 200 ms, 100 ms at moderate, 50 ms above). "Fixed" gives each cache a fixed maxCacheBytes and no monitor. Both keep what the thumbnail and segment caches evict weakly, as the demo does (\`softEviction\`). Hit ratios are over the
whole run; "after warm-up" from the first third on. CV is the coefficient of variation of the component's cached bytes,
once a second after the warm-up (mean cached bytes before it). The monitor's default heap thresholds read the old generation
against 0.8 of its ${DEMO_DEFAULTS.heapMb} MB maximum: critical at ${mib(CRITICAL_LINE * MAX_OLD_BYTES)}, emergency at ${mib(EMERGENCY_LINE * MAX_OLD_BYTES)}.

${table(['monitored, seed', 'outcome', 'hit ratio', 'after warm-up', 'thumbnails', 'video metadata', 'segments'], monitoredRows)}

Fixed budgets on seed ${DEMO_DEFAULTS.seed}, hit ratio over the run and the heap's peak (video metadata ${VIDEO_MIB} MiB, enough for the whole catalogue; rows thumbnails, columns segments):

${table(['thumbnails \\ segments', ...BUFFER_MIB.map((b) => `${b} MiB`)], grid)}

The cells that lived on seed ${DEMO_DEFAULTS.seed}, best first, on every seed (until one lives on all), beside the monitored service (thumbnails / video metadata / segments):

${table(['budgets', ...SEED_LIST.map((seed) => `seed ${seed}`), 'outcome'], [...confirmedRows, monitoredBySeed])}

${summary}

The report of the monitored run on seed ${DEMO_DEFAULTS.seed} (what \`npm start\` prints at the end):

\`\`\`
${monitored.get(DEMO_DEFAULTS.seed)?.report ?? '(the monitored run on that seed did not live)'}
\`\`\`
`,
);
