/**
 * Instructions per operation of `tinylfu`, `lru` and lru-cache, counted by
 * Valgrind (cachegrind): the same workloads as the throughput table of the
 * hit-ratio benchmark, measured by a count that does not move with the
 * machine's load.
 *
 * Timings on this shared machine move by a factor of two from one process
 * to the next, and the throughput ratios with them. An instruction count
 * repeats from run to run (see below), so it tells whether a change made
 * an operation cheaper, where a timing needs many repetitions to tell a 5%
 * change. It is not a time: a cache miss costs one instruction here and a
 * hundred cycles on the processor, so the count complements the timing,
 * it does not replace it.
 *
 * How: as in the throughput table, a process runs the workload once to
 * warm up (a fresh cache, filled, then OPERATIONS operations), then once
 * more on a fresh cache: that second time with OPERATIONS operations in one
 * run and with none (the cache is still built and filled) in another. The
 * difference between the two runs' counts, divided by OPERATIONS, is the
 * cost of one operation of the measured pass: the same operations, on the
 * same cache states, as the timing measures, with start-up, compilation
 * and the fill left out. Node runs with --predictable: one thread (the
 * collector's work is counted with the operations that caused it) and
 * fixed seeds, so that a count repeats; `tinylfu`'s key hash, seeded at
 * random per cache in an application, gets a fixed seed in these child
 * processes (see below), so that its count repeats as well. Without it, the collector's timers
 * fire at different points between identical runs.
 *
 * Needs `valgrind` on the PATH (Debian: apt-get install valgrind); without
 * it the benchmark says so and writes nothing. About 4 minutes: two
 * processes at a time, each some 50 times slower under Valgrind.
 *
 * Run: npm run bench -- instructions
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { machineLine, table, writeSection } from './lib/results.js';
import { THROUGHPUT_COMPETITORS, THROUGHPUT_ENTRIES, throughputWorkloads, WATERMARK_COMPETITORS } from './lib/throughput.js';

const ENTRIES = THROUGHPUT_ENTRIES;
const OPERATIONS = 1_000_000;
const CHUNK = 10_000;

// The hit-ratio benchmark's competitors and workloads (bench/lib/throughput.ts).
const COMPETITORS = THROUGHPUT_COMPETITORS;
const WORKLOADS = throughputWorkloads(OPERATIONS);

// Child mode: one competitor, one workload: a warm-up pass, then the
// measured pass with the number of operations given (OPERATIONS or 0).
const CHILD_ENV = 'NEXUS_INSTRUCTIONS_BENCH_CHILD';
const child = process.env[CHILD_ENV];
if (child !== undefined) {
  // tinylfu seeds its key hash per cache from crypto.getRandomValues
  // (key-hash.ts). Here, and only here, that source gives a fixed sequence,
  // so that two runs of this benchmark count the same hashing and the same
  // admission duels: a change's count is compared with its base's, not
  // with another random seed's.
  let state = 0x2545f491;
  const fixedValues = <T extends ArrayBufferView>(array: T): T => {
    const words = new Uint32Array(array.buffer, array.byteOffset, array.byteLength >> 2);
    for (let i = 0; i < words.length; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      words[i] = state >>> 0;
    }
    return array;
  };
  Object.defineProperty(globalThis.crypto, 'getRandomValues', { value: fixedValues, configurable: true, writable: true });
  const [name, index, operations] = child.split('|');
  // The default configuration's caches too, for a single count by hand (the table below leaves them out).
  const competitor = [...COMPETITORS, ...WATERMARK_COMPETITORS].find((c) => c.name === name);
  const workload = WORKLOADS[Number(index)];
  if (competitor === undefined || workload === undefined) throw new Error(`no competitor or workload in ${child}`);
  // The cache is built (and filled) in both runs; only the operations differ.
  const pass = (count: number): void => {
    const run = workload.prepare(competitor.make);
    for (let i = 0; i < count; i += CHUNK) run(i, Math.min(count, i + CHUNK));
  };
  pass(OPERATIONS);
  pass(Number(operations));
  process.exit(0);
}

const valgrind = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
if (valgrind.status !== 0) {
  console.log('instructions: valgrind is not on the PATH (Debian: apt-get install valgrind); nothing measured.');
  process.exit(0);
}

/** Instructions executed by one child process under cachegrind. */
function count(name: string, workload: number, operations: number): Promise<number> {
  const args = [
    '--tool=cachegrind',
    '--cache-sim=no',
    '--cachegrind-out-file=/dev/null',
    process.execPath,
    '--predictable',
    '--import',
    'tsx',
    fileURLToPath(import.meta.url),
  ];
  return new Promise((resolve, reject) => {
    const run = spawn('valgrind', args, { env: { ...process.env, [CHILD_ENV]: `${name}|${workload}|${operations}` } });
    let stderr = '';
    run.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    run.on('error', reject);
    run.on('close', (status) => {
      const match = /I\s+refs:\s+([\d,]+)/.exec(stderr);
      if (status !== 0 || match === null) reject(new Error(`valgrind run of ${name} (workload ${workload}) failed (status ${status}):\n${stderr.slice(-2000)}`));
      else resolve(Number(match[1]!.replace(/,/g, '')));
    });
  });
}

// Every run is independent: two at a time, one per core.
const jobs: { name: string; workload: number; operations: number; instructions?: number }[] = [];
for (let w = 0; w < WORKLOADS.length; w++) {
  for (const { name } of COMPETITORS) {
    for (const operations of [0, OPERATIONS]) jobs.push({ name, workload: w, operations });
  }
}
const started = performance.now();
let next = 0;
async function worker(): Promise<void> {
  while (next < jobs.length) {
    const job = jobs[next++]!;
    job.instructions = await count(job.name, job.workload, job.operations);
    console.log(`${job.name}, workload ${job.workload + 1}, ${job.operations} operations: ${job.instructions.toLocaleString('en-US')} instructions`);
  }
}
await Promise.all([worker(), worker()]);
const seconds = (performance.now() - started) / 1000;

const perOperation = (name: string, workload: number): number => {
  const [without, withOperations] = [0, OPERATIONS].map((n) => jobs.find((j) => j.name === name && j.workload === workload && j.operations === n)!.instructions!);
  return (withOperations! - without!) / OPERATIONS;
};
const rows = WORKLOADS.map((workload, w) => {
  const lru = perOperation('lru', w);
  const tinylfu = perOperation('tinylfu', w);
  return [workload.name, lru.toFixed(0), tinylfu.toFixed(0), perOperation('lru-cache', w).toFixed(0), (tinylfu / lru).toFixed(2)];
});
for (const row of rows) console.log(row.join(' | '));

writeSection(
  'instructions',
  `## Instructions per operation: tinylfu, lru and lru-cache

${machineLine('npm run bench -- instructions')}

Instructions executed per operation, counted by Valgrind's cachegrind, for
the workloads of the hit-ratio benchmark's throughput table (numeric keys,
unit sizes, ${ENTRIES.toLocaleString('en-US')}-entry caches), over the same ${OPERATIONS.toLocaleString('en-US')} operations that
it times: each process warms up on one pass, then a second pass is counted
with and without its operations, and the difference is divided by their
number. Start-up, compilation and the fill are left out; the garbage
collector's work is in (Node runs with \`--predictable\`: one thread,
fixed seeds, and tinylfu's key hash, seeded at random per cache in an
application, gets a fixed seed). The count does not move with the
machine's load. But it is not a time: it weighs a memory access that misses the
processor's cache like any other instruction, and both caches wait alike
on the \`Map\`'s. (${seconds.toFixed(0)} s.)

${table(['workload', 'lru', 'tinylfu', 'lru-cache', 'tinylfu / lru'], rows)}
`,
);
