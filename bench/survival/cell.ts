/**
 * Runs one cell of the survival matrix: child.mjs with one cache, inside a
 * fresh memory cgroup of the cell's limit, and reads from the kernel how it
 * ended. Shared by bench/survival.bench.ts (the whole matrix) and
 * test/container/survival.test.ts (a slice of it).
 */
import { fileURLToPath } from 'node:url';
import { runInMemoryCgroup, type CgroupRunOutcome } from '../../src/cli/container/memory-cgroup.js';

export type SurvivalCache = 'map' | 'fixed' | 'monitor';
export type SurvivalPayload = 'buffer' | 'heap' | 'mixed';
/** `default`: Node sizes its own heap; `above`: `--max-old-space-size` at twice the container's limit. */
export type SurvivalHeap = 'default' | 'above';

export interface SurvivalCell {
  readonly limitMiB: number;
  readonly payload: SurvivalPayload;
  readonly rateMBps: number;
  readonly heap: SurvivalHeap;
}

export interface SurvivalResult {
  readonly requests: number;
  readonly hits: number;
  readonly hitRatio: number;
  /** Hit ratio after the warm-up (the first third of the run). */
  readonly warmHitRatio: number;
  readonly missBytes: number;
  readonly entries: number;
  readonly cacheBytes: number;
  /** The cache's bytes once a second after the warm-up. */
  readonly cacheBytesSeen: number[];
  readonly levels: Record<string, number>;
  /** The monitor's last samples with the cache's bytes and ceiling, as text. */
  readonly recent: string[];
  readonly elapsedS: number;
  /** Full collections the monitor forced (`collectUnderPressure`), and their milliseconds in all. */
  readonly forcedCollections: number;
  readonly forcedCollectionMs: number;
}

export interface SurvivalRun {
  readonly cell: SurvivalCell;
  readonly cache: SurvivalCache;
  readonly outcome: CgroupRunOutcome;
  /** Present when the child lived to print it. */
  readonly result: SurvivalResult | undefined;
  readonly lived: boolean;
  readonly stderr: string;
}

const MiB = 1024 * 1024;
const CHILD = fileURLToPath(new URL('./child.mjs', import.meta.url));

/**
 * Long enough for a plain Map to outgrow the limit half as much again at
 * the cell's rate (so it is killed well before the end), and for the caches
 * to settle after the first third: at least 30 s.
 */
export function cellDurationS(cell: SurvivalCell): number {
  return Math.max(30, Math.ceil((1.5 * cell.limitMiB * MiB) / (cell.rateMBps * 1e6)));
}

/** The hand-tuned budget: half the container's limit. */
export function fixedBudgetBytes(cell: SurvivalCell): number {
  return (cell.limitMiB * MiB) / 2;
}

export function describeCell(cell: SurvivalCell): string {
  return `${cell.limitMiB} MiB, ${cell.payload}, ${cell.rateMBps} MB/s, heap ${cell.heap === 'default' ? 'default' : 'capped above the limit'}`;
}

export async function runSurvivalCell(cell: SurvivalCell, cache: SurvivalCache, seed: number, durationS = cellDurationS(cell)): Promise<SurvivalRun> {
  const execArgv = cell.heap === 'above' ? [`--max-old-space-size=${cell.limitMiB * 2}`] : [];
  const options = {
    cache,
    payload: cell.payload,
    rateMBps: cell.rateMBps,
    durationS,
    warmupS: durationS / 3,
    fixedBudgetBytes: fixedBudgetBytes(cell),
    seed,
  };
  let stdout = '';
  let stderr = '';
  const outcome = await runInMemoryCgroup(cell.limitMiB * MiB, process.execPath, [...execArgv, CHILD, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
    onSpawn: (child) => {
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-8192)));
    },
  });
  const line = stdout.split('\n').find((l) => l.startsWith('result '));
  const result = line === undefined ? undefined : (JSON.parse(line.slice('result '.length)) as SurvivalResult);
  const lived = outcome.code === 0 && !outcome.oomKilled && result !== undefined;
  if ((process.env.NEXUS_SURVIVAL_TRACE ?? '') !== '') process.stderr.write(`${describeCell(cell)} ${cache}:\n${stdout}${stderr}\n`);
  return { cell, cache, outcome, result, lived, stderr };
}
