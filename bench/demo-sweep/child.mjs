/**
 * One run of the demo's workload for bench/demo-sweep.bench.ts, under the
 * heap cap the bench gives (`--max-old-space-size`), as `npm start` runs it:
 * the same service, request stream and pacing (runDemo). With `budgets` the
 * caches get those fixed maxCacheBytes and no monitor or cleaner; without,
 * the demo's own wiring with every default (`monitorOptions`: the monitor's
 * options instead of its defaults).
 *
 * Plain JavaScript over the built package (`npm run build`), as the demo's
 * child runs: a TypeScript loader would take heap of its own.
 *
 * Prints `result {json}` at the end (hit ratios, each component's cached
 * bytes after the warm-up and their coefficient of variation, the report).
 * Usage: node --max-old-space-size=<MB> child.mjs '<json options>'
 */
import { runDemo } from '../../dist/cli/demo/run.js';

const options = JSON.parse(process.argv[2] ?? '{}');
const MiB = 1024 * 1024;

const result = await runDemo({
  durationS: options.durationS,
  heapMb: options.heapMb,
  seed: options.seed,
  baseline: false,
  ratePerS: options.ratePerS,
  write: () => {},
  ...(options.monitorOptions === undefined ? {} : { monitorOptions: options.monitorOptions }),
  ...(options.budgetsMiB === undefined
    ? {}
    : {
        fixedBudgetsBytes: {
          'image-cache': options.budgetsMiB.images * MiB,
          'video-metadata': options.budgetsMiB.videos * MiB,
          'playback-buffers': options.budgetsMiB.buffers * MiB,
        },
      }),
});
const last = result.samples.at(-1);
process.stdout.write(
  `result ${JSON.stringify({
    hitRatio: result.hitRatio,
    requests: last?.requests ?? 0,
    elapsedS: last?.t ?? 0,
    peakHeapBytes: Math.max(...result.samples.map((s) => s.heapUsedBytes)),
    convergence: result.convergence,
    report: result.report,
  })}\n`,
);
