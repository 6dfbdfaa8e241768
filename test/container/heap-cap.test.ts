/**
 * Heap cap against container limit, for real: a Node process started with
 * --max-old-space-size=2048 inside a real 256 MiB memory cgroup gets the
 * monitor's warning once, with the flag that fits; one started with a cap
 * that fits gets none. Skips (or fails under NEXUS_REQUIRE_SERVICES=1) where
 * no cgroup can be made.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { probeMemoryCgroups, runInMemoryCgroup } from '../../src/cli/container/memory-cgroup.js';
import { probeService } from '../helpers/services.js';

const MiB = 1024 * 1024;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('../fixtures/node/heap-cap-child.ts', import.meta.url));
const probe = probeMemoryCgroups();
const cgroups = await probeService('a memory cgroup below this process (root, Linux)', async () => {
  if (!probe.available) throw new Error(probe.reason);
});

interface ChildReport {
  readonly warnings: string[];
  readonly heapSizeLimitBytes: number;
  readonly suggestedMb: number | undefined;
  readonly containerLimitBytes: number | undefined;
}

async function runChild(limitBytes: number, maxOldSpaceMb: number): Promise<ChildReport> {
  let stdout = '';
  let stderr = '';
  const outcome = await runInMemoryCgroup(limitBytes, process.execPath, [`--max-old-space-size=${maxOldSpaceMb}`, '--import', 'tsx', CHILD], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    onSpawn: (child) => {
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    },
  });
  assert.equal(outcome.code, 0, `${stdout}\n${stderr}`);
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as ChildReport;
}

describe('heap cap against a real container limit', { skip: cgroups.skip }, () => {
  test('node --max-old-space-size=2048 in a real 256 MiB cgroup: the monitor warns once, suggesting --max-old-space-size=156', async () => {
    const report = await runChild(256 * MiB, 2048);
    assert.ok(report.heapSizeLimitBytes > 2048 * MiB, `heap_size_limit ${report.heapSizeLimitBytes}`);
    assert.equal(report.warnings.length, 1, JSON.stringify(report.warnings));
    assert.match(report.warnings[0] ?? '', /^HeapCapWarning: V8's heap limit \(\d+ MiB\) is above the container's memory limit \(256 MiB\)/);
    assert.match(report.warnings[0] ?? '', /--max-old-space-size=156/);
    assert.equal(report.suggestedMb, 156);
    assert.equal(report.containerLimitBytes, 256 * MiB);
  });

  test('node --max-old-space-size=156 in a real 256 MiB cgroup: the heap fits, no warning', async () => {
    const report = await runChild(256 * MiB, 156);
    assert.deepEqual(report.warnings, []);
    assert.equal(report.suggestedMb, undefined);
  });
});
