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
import { BIN, ensureBuilt } from '../cli/cli-process.js';

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

async function runCaptured(limitBytes: number, args: readonly string[]): Promise<string> {
  let stdout = '';
  let stderr = '';
  const outcome = await runInMemoryCgroup(limitBytes, process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    onSpawn: (child) => {
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    },
  });
  assert.equal(outcome.code, 0, `${stdout}\n${stderr}`);
  return stdout;
}

async function runChild(limitBytes: number, maxOldSpaceMb: number): Promise<ChildReport> {
  const stdout = await runCaptured(limitBytes, [`--max-old-space-size=${maxOldSpaceMb}`, '--import', 'tsx', CHILD]);
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

  test('nexus-store monitor under --max-old-space-size=2048 in a real 256 MiB cgroup prints the warning in --json and under the table header', async () => {
    await ensureBuilt();
    const json = await runCaptured(256 * MiB, ['--max-old-space-size=2048', BIN, 'monitor', '--json', '--count', '2', '--interval', '50']);
    const samples = json.trim().split('\n').map((line) => JSON.parse(line) as { warnings: string[] });
    assert.equal(samples.length, 2);
    for (const sample of samples) {
      assert.equal(sample.warnings.length, 1, json);
      assert.match(sample.warnings[0] ?? '', /above the container's memory limit \(256 MiB\).*--max-old-space-size=156/);
    }
    const table = await runCaptured(256 * MiB, ['--max-old-space-size=2048', BIN, 'monitor', '--count', '1']);
    assert.match(table, /\nwarning: V8's heap limit \(\d+ MiB\) is above the container's memory limit \(256 MiB\).*--max-old-space-size=156 to fit it\nsignal /);
    const fits = await runCaptured(256 * MiB, ['--max-old-space-size=156', BIN, 'monitor', '--json', '--count', '1']);
    assert.deepEqual((JSON.parse(fits) as { warnings: string[] }).warnings, []);
  });
});
