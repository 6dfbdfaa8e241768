// `nexus-store monitor`: whose memory it shows (its own process, or --pid's),
// and the units of its JSON fields. Real child processes of the built bin,
// watching a real child process that holds a known amount of memory.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { before, describe, test } from 'node:test';
import { ensureBuilt, runCli } from './cli-process.js';

before(ensureBuilt);

const HELD_BYTES = 160 * 1024 * 1024;

/** A Node process holding HELD_BYTES of touched (resident) memory, alive until killed. */
async function startHolder(): Promise<ChildProcess & { pid: number }> {
  const code = `const b = Buffer.alloc(${HELD_BYTES}, 1); globalThis.keep = b; process.stdout.write('ready\\n'); setInterval(() => {}, 1 << 30);`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  assert.equal(chunk.toString(), 'ready\n');
  assert.ok(child.pid !== undefined);
  return child as ChildProcess & { pid: number };
}

interface Sample {
  pid: number;
  signals: { name: string; unit: string; used: number; budget: number; available: boolean }[];
}

describe('nexus-store monitor: whose memory, and in which units', () => {
  test('--help and the table header say the heap and container rows are the monitor\'s own process', async () => {
    const help = await runCli(['monitor', '--help']);
    assert.match(help.stdout, /this monitor's own process/);
    assert.match(help.stdout, /--pid <pid>/);
    const table = await runCli(['monitor', '--count', '1']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /heap and container rows: this monitor's own process \(pid \d+\)/);
  });

  test('--json gives each signal its unit: whole bytes, or ppm for psi; and the pid it describes', async () => {
    const result = await runCli(['monitor', '--json', '--count', '1']);
    assert.equal(result.code, 0, result.stderr);
    const sample = JSON.parse(result.stdout) as Sample;
    assert.ok(Number.isInteger(sample.pid) && sample.pid > 0);
    for (const s of sample.signals) {
      assert.equal(s.unit, s.name === 'psi' ? 'ppm' : 'bytes', s.name);
      if (s.unit === 'bytes') assert.ok(Number.isInteger(s.used) && Number.isInteger(s.budget), `${s.name}: ${s.used} / ${s.budget}`);
      else assert.equal(s.budget, 1_000_000);
    }
  });

  test('--pid reads another process\'s resident memory from /proc/<pid> and has no heap row', async () => {
    const holder = await startHolder();
    try {
      const result = await runCli(['monitor', '--json', '--count', '1', '--pid', String(holder.pid)]);
      assert.equal(result.code, 0, result.stderr);
      const sample = JSON.parse(result.stdout) as Sample;
      assert.equal(sample.pid, holder.pid);
      assert.deepEqual(sample.signals.map((s) => s.name).sort(), ['container', 'psi', 'system']);
      const container = sample.signals.find((s) => s.name === 'container');
      assert.ok(container !== undefined && container.available);
      // The holder's resident set (or its cgroup's working set) includes the buffer it touched;
      // the monitor's own resident set is far below it.
      assert.ok(container.used >= HELD_BYTES, `container used ${container.used} >= ${HELD_BYTES}`);
      const table = await runCli(['monitor', '--count', '1', '--pid', String(holder.pid)]);
      assert.match(table.stdout, new RegExp(`process ${holder.pid}: container and resident memory from /proc/${holder.pid}; its V8 heap is only readable inside it`));
      assert.doesNotMatch(table.stdout, /^heap/m);
    } finally {
      holder.kill('SIGKILL');
      await once(holder, 'close');
    }
  });

  test('--pid of a process that does not exist exits 1 in one sentence', async () => {
    const holder = await startHolder();
    holder.kill('SIGKILL');
    await once(holder, 'close');
    const result = await runCli(['monitor', '--pid', String(holder.pid), '--count', '1']);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `nexus-store: monitor: no process with pid ${holder.pid} (/proc/${holder.pid} does not exist)\n`);
  });
});
