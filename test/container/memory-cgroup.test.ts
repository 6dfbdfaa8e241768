/**
 * The real-container harness: child processes in a real memory cgroup made
 * below this test process's own, with the cause of death read from the
 * kernel. Skips (or fails under NEXUS_REQUIRE_SERVICES=1) where no cgroup
 * can be made.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  describeCgroupOutcome,
  MemoryCgroupSandbox,
  probeMemoryCgroups,
  runInMemoryCgroup,
} from '../../src/cli/container/memory-cgroup.js';
import { probeService } from '../helpers/services.js';

const MiB = 1024 * 1024;
const probe = probeMemoryCgroups();
const cgroups = await probeService('a memory cgroup below this process (root, Linux)', async () => {
  if (!probe.available) throw new Error(probe.reason);
});

/** A child that touches `mb` MiB of Buffers, one MiB at a time, then prints "done". */
const ALLOCATE = (mb: number) => `const held = []; for (let i = 0; i < ${mb}; i++) held.push(Buffer.alloc(${MiB}, 1)); console.log('done', held.length);`;

describe('memory cgroup harness (real cgroup below this process)', { skip: cgroups.skip }, () => {
  test('a child that outgrows a 64 MiB limit is killed, and the kernel says it was the OOM killer', async () => {
    const outcome = await runInMemoryCgroup(64 * MiB, process.execPath, ['-e', ALLOCATE(256)], { stdio: 'ignore' });
    assert.equal(outcome.signal, 'SIGKILL');
    assert.equal(outcome.oomKilled, true);
    assert.equal(outcome.limitBytes, 64 * MiB);
    assert.match(describeCgroupOutcome(outcome), /OOM killer at the container's 64 MiB memory limit/);
  });

  test('a child within its 128 MiB limit exits normally, with a peak under the limit and no OOM kill', async () => {
    let stdout = '';
    const outcome = await runInMemoryCgroup(128 * MiB, process.execPath, ['-e', ALLOCATE(16)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      onSpawn: (child) => child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk)),
    });
    assert.equal(outcome.code, 0);
    assert.equal(outcome.oomKilled, false);
    assert.match(stdout, /done 16/);
    assert.ok(outcome.peakBytes !== undefined && outcome.peakBytes > 16 * MiB && outcome.peakBytes <= 128 * MiB, `peak ${outcome.peakBytes}`);
  });

  test('a SIGKILL from outside is not reported as the OOM killer', async () => {
    const outcome = await runInMemoryCgroup(128 * MiB, process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      stdio: 'ignore',
      onSpawn: (child) => setImmediate(() => child.kill('SIGKILL')),
    });
    assert.equal(outcome.signal, 'SIGKILL');
    assert.equal(outcome.oomKilled, false);
    assert.match(describeCgroupOutcome(outcome), /not the OOM killer/);
  });

  test('the child runs inside the new cgroup, which is below ours and removed afterwards', async () => {
    assert.ok(probe.available);
    const sandbox = MemoryCgroupSandbox.create(96 * MiB);
    try {
      assert.ok(sandbox.dir.startsWith(`${probe.parentDir}/`), sandbox.dir);
      const limitFile = sandbox.version === 2 ? 'memory.max' : 'memory.limit_in_bytes';
      assert.equal(Number(readFileSync(`${sandbox.dir}/${limitFile}`, 'utf8')), 96 * MiB);
      const child = sandbox.spawn(process.execPath, ['-e', "process.stdout.write(require('fs').readFileSync('/proc/self/cgroup', 'utf8'))"], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let text = '';
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      const code = await new Promise((resolve) => child.once('exit', resolve));
      assert.equal(code, 0);
      const leaf = sandbox.dir.slice(sandbox.dir.lastIndexOf('/'));
      assert.ok(text.split('\n').some((line) => line.endsWith(leaf) && (line.startsWith('0::') || line.includes('memory'))), text);
    } finally {
      sandbox.remove();
    }
    assert.equal(existsSync(sandbox.dir), false);
  });

  test('a limit below 16 MiB is refused, naming the value', () => {
    assert.throws(() => MemoryCgroupSandbox.create(1000), /limitBytes must be a whole number of bytes of at least 16 MiB, got 1000/);
  });
});
