/**
 * What the Node memory signals cost: one sample of each, one full monitor
 * poll (every input fresh, and at the default cadence), and the CPU share of
 * a monitor polling at its default interval.
 *
 * Anchors, measured in the same run: one v8.getHeapStatistics(), one pread
 * of a kept-open /proc/self/statm, one process.memoryUsage.rss().
 *
 * Per-signal figures: each repetition runs the operation BATCH times and
 * takes the mean; operations are interleaved within a repetition; each
 * figure is the median over REPETITIONS. Polls at the default cadence differ
 * from one another (the slow files are due one poll in four at the normal
 * 500 ms interval), so those are timed one by one (timer overhead
 * subtracted) and reported as median, p90 and mean.
 *
 * The cgroup path is measured on this machine's real kernel files: its
 * memory cgroup has no limit, so the bench builds a root whose usage and
 * memory.stat are symlinks to the real ones and whose limit is 1 GiB.
 *
 * Run: npm run bench -- node-signals
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as v8 from 'node:v8';
import { ManualClock } from '../src/clock.js';
import { ContainerSignal, HeapSignal, NodeMemorySignals, PressureStallSignal, SystemSignal, DEFAULT_NODE_POLLING_INTERVAL_MS } from '../src/node/index.js';
import { machineLine, mean, median, table, writeSection } from './lib/results.js';

const REPETITIONS = Number(process.env['BENCH_REPETITIONS'] ?? 9);
const BATCH = 2000;
const POLLS = 8000;

/** A root whose memory cgroup files are this machine's, with a 1 GiB limit, or undefined when there is no v1/v2 memory cgroup to borrow. */
function limitedCgroupRoot(): string | undefined {
  const cgroup = readFileSync('/proc/self/cgroup', 'utf8');
  const v1 = /^\d+:[^:]*\bmemory\b[^:]*:(.*)$/m.exec(cgroup)?.[1];
  const v2 = /^0::(.*)$/m.exec(cgroup)?.[1];
  let dir: string | undefined;
  let names: { usage: string; stat: string; limit: string; fs: string; mount: string } | undefined;
  if (v1 !== undefined && existsSync(join('/sys/fs/cgroup/memory', v1, 'memory.usage_in_bytes'))) {
    dir = join('/sys/fs/cgroup/memory', v1);
    names = { usage: 'memory.usage_in_bytes', stat: 'memory.stat', limit: 'memory.limit_in_bytes', fs: 'cgroup cgroup rw,memory', mount: '/sys/fs/cgroup/memory' };
  } else if (v2 !== undefined && existsSync(join('/sys/fs/cgroup', v2, 'memory.current'))) {
    dir = join('/sys/fs/cgroup', v2);
    names = { usage: 'memory.current', stat: 'memory.stat', limit: 'memory.max', fs: 'cgroup2 cgroup2 rw', mount: '/sys/fs/cgroup' };
  }
  if (dir === undefined || names === undefined) return undefined;
  const root = mkdtempSync(join(tmpdir(), 'nexus-bench-cgroup-'));
  const file = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  const link = (path: string, target: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    symlinkSync(target, join(root, path));
  };
  file('/proc/self/cgroup', names.fs.startsWith('cgroup2') ? '0::/\n' : '4:memory:/\n');
  file('/proc/self/mountinfo', `35 31 0:32 / ${names.mount} rw,relatime - ${names.fs}\n`);
  link('/proc/meminfo', '/proc/meminfo');
  link('/proc/self/statm', '/proc/self/statm');
  file(`${names.mount}/${names.limit}`, `${1024 ** 3}\n`);
  link(`${names.mount}/${names.usage}`, join(dir, names.usage));
  link(`${names.mount}/${names.stat}`, join(dir, names.stat));
  return root;
}

const cgroupRoot = limitedCgroupRoot();
const heap = new HeapSignal();
const resident = new ContainerSignal();
const cgroup = cgroupRoot === undefined ? undefined : new ContainerSignal({ root: cgroupRoot });
const system = new SystemSignal();
const psi = new PressureStallSignal();
const fresh = new NodeMemorySignals({ slowRefreshMs: 0 });
const statmFd = openSync('/proc/self/statm', 'r');
const statmBuffer = new Uint8Array(256);
if (cgroup !== undefined && cgroup.read().source !== 'cgroup') throw new Error('the borrowed cgroup did not read as a limited cgroup');

let sink = 0;
const ops: [string, () => void][] = [
  ['anchor: v8.getHeapStatistics()', () => (sink += v8.getHeapStatistics().used_heap_size)],
  ['anchor: pread of kept-open /proc/self/statm', () => (sink += readSync(statmFd, statmBuffer, 0, 256, 0))],
  ['anchor: process.memoryUsage.rss()', () => (sink += process.memoryUsage.rss())],
  ['heap signal (v8.getHeapSpaceStatistics)', () => (sink += heap.read().usedBytes)],
  ['container signal, no limit (statm)', () => (sink += resident.read().usedBytes)],
  ...(cgroup === undefined ? [] : ([['container signal, cgroup (usage + memory.stat)', () => (sink += cgroup.read().usedBytes)]] as [string, () => void][])),
  ['system signal (/proc/meminfo)', () => (sink += system.read().usedBytes)],
  ['psi signal (memory.pressure)', () => (sink += psi.read().usedBytes)],
  ['full poll, every input fresh', () => (sink += fresh.sample().usedBytes)],
];

for (const [, op] of ops) for (let i = 0; i < 500; i++) op();
const perRep = new Map<string, number[]>(ops.map(([name]) => [name, []]));
for (let rep = 0; rep < REPETITIONS; rep++) {
  const order = rep % 2 === 0 ? ops : [...ops].reverse();
  for (const [name, op] of order) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) op();
    (perRep.get(name) as number[]).push(Number(process.hrtime.bigint() - t0) / BATCH);
  }
}

// Polls at the default cadence: a clock that moves by the normal interval between polls.
const clock = new ManualClock(Date.now());
const cadenced = new NodeMemorySignals({ clock, ...(cgroupRoot === undefined ? {} : { root: cgroupRoot }) });
const cadencedMachine = new NodeMemorySignals({ clock });
function timePolls(signals: NodeMemorySignals): number[] {
  const out: number[] = [];
  let overhead = Infinity;
  for (let i = 0; i < 1000; i++) {
    const a = process.hrtime.bigint();
    overhead = Math.min(overhead, Number(process.hrtime.bigint() - a));
  }
  for (let i = 0; i < POLLS; i++) {
    clock.advance(DEFAULT_NODE_POLLING_INTERVAL_MS);
    const t0 = process.hrtime.bigint();
    sink += signals.sample().usedBytes;
    out.push(Math.max(0, Number(process.hrtime.bigint() - t0) - overhead));
  }
  return out;
}
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(p * values.length))] as number;
const polls = { machine: timePolls(cadencedMachine), cgroup: cgroupRoot === undefined ? undefined : timePolls(cadenced) };

closeSync(statmFd);
for (const s of [heap, resident, cgroup, system, psi, fresh, cadenced, cadencedMachine]) s?.close();
if (cgroupRoot !== undefined) rmSync(cgroupRoot, { recursive: true, force: true });

const ns = (v: number) => (v >= 10_000 ? `${(v / 1000).toFixed(1)} us` : `${Math.round(v)} ns`);
const anchor = median(perRep.get('anchor: v8.getHeapStatistics()') as number[]);
const rows = ops.map(([name]) => {
  const m = median(perRep.get(name) as number[]);
  return [name, ns(m), (m / anchor).toFixed(1)];
});
const pollRows: (string | number)[][] = [];
for (const [label, values] of [
  ['this machine (no cgroup limit: resident via statm)', polls.machine],
  ['cgroup with a limit (real kernel files)', polls.cgroup],
] as const) {
  if (values === undefined) continue;
  const m = mean(values);
  pollRows.push([label, ns(median(values)), ns(percentile(values, 0.9)), ns(m), `${((m / (DEFAULT_NODE_POLLING_INTERVAL_MS * 1e6)) * 100).toFixed(4)}%`]);
}

const markdown = `## Node memory signals

${machineLine('npm run bench -- node-signals')}

Cost of one sample (mean of ${BATCH} calls, median of ${REPETITIONS} interleaved repetitions; ratio against one v8.getHeapStatistics()):

${table(['operation', 'median', 'x getHeapStatistics'], rows)}

A monitor poll at the default cadence (${POLLS} polls, the clock moving ${DEFAULT_NODE_POLLING_INTERVAL_MS} ms between polls, so /proc/meminfo, memory.stat and PSI are re-read one poll in four; each poll timed on its own). CPU share = mean cost / ${DEFAULT_NODE_POLLING_INTERVAL_MS} ms, the default interval at \`normal\` (at \`emergency\`, 50 ms, it is ten times that; GC-triggered polls add one per full collection):

${table(['environment', 'median', 'p90', 'mean', 'CPU share at 500 ms'], pollRows)}
`;
writeSection('node-signals', markdown);
console.log(markdown);
if (sink === 42) console.log('');
