/**
 * The demo in a real container: `nexus-store demo --memory-limit-mb 300`
 * runs its workload in a real 300 MiB memory cgroup below this process's
 * own. The baseline is OOM-killed and the launcher says so from the
 * kernel's counter; the nexus-store run survives with the working set
 * against the limit in its report. Skips (or fails under
 * NEXUS_REQUIRE_SERVICES=1) where no cgroup can be made. Where the CLI
 * cannot make one (an unprivileged user), it refuses, saying why and what
 * to do instead.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { probeMemoryCgroups } from '../../src/cli/container/memory-cgroup.js';
import { probeService } from '../helpers/services.js';
import { BIN, ensureBuilt, ROOT, runCli, startCli, type CliResult } from '../cli/cli-process.js';
import { launchChromium, probeChromium } from '../helpers/chromium.js';

const chromium = await probeChromium();
const probe = probeMemoryCgroups();
const cgroups = await probeService('a memory cgroup below this process (root, Linux)', async () => {
  if (!probe.available) throw new Error(probe.reason);
});

/** Runs the CLI as another user (for a process that may not create cgroups). */
function runCliAs(uid: number, args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, uid, gid: uid, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('demo --memory-limit-mb (a real memory cgroup)', { skip: cgroups.skip }, () => {
  test('demo --memory-limit-mb 300 --baseline is OOM-killed, and the launcher names the kernel\'s OOM killer and the 300 MiB limit', { timeout: 120_000 }, async () => {
    await ensureBuilt();
    const result = await runCli(['demo', '--memory-limit-mb', '300', '--baseline', '--duration', '30'], 110_000);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /in a memory cgroup limited to 300\.0 MB/);
    assert.match(
      result.stdout,
      /The workload process died after [\d.]+ s: killed by the kernel's OOM killer at the container's 300 MiB memory limit \(cgroup v[12] oom_kill\)/,
    );
    assert.match(result.stdout, /This is the baseline: plain Map caches/);
    assert.doesNotMatch(result.stdout, /killed by SIGKILL|JavaScript heap out of memory/);
    assert.doesNotMatch(result.stdout, /outcome\s+survived/);
  });

  test('demo --memory-limit-mb 300 (nexus-store caches) survives, its report showing the working set against the 300 MiB limit', { timeout: 120_000 }, async () => {
    await ensureBuilt();
    const result = await runCli(['demo', '--memory-limit-mb', '300', '--duration', '15'], 110_000);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /heap capped at 189 MB/, 'the heap cap that fits the limit');
    assert.match(result.stdout, /^\s*\d+\.\ds\s+requests .* container\s+[\d.]+ MB \/ 300\.0 MB /m, 'each progress line shows the working set against the limit');
    const line = /^container\s+working set peak ([\d.]+) MB of the 300\.0 MB limit \((\d+)%\); the monitor's container signal peaked at/m.exec(result.stdout);
    assert.ok(line !== null, result.stdout);
    const peakMB = Number(line[1]);
    assert.ok(peakMB > 30 && peakMB < 300, `a working set of ${peakMB} MB, under the limit`);
    assert.match(result.stdout, /outcome\s+survived/);
    assert.doesNotMatch(result.stdout + result.stderr, /OOM killer|warning: V8's heap limit/);
  });

  test('demo --memory-limit-mb 300 --heap-mb 512: the workload warns that its heap cap is above the limit, naming --max-old-space-size=189', { timeout: 60_000 }, async () => {
    await ensureBuilt();
    const result = await runCli(['demo', '--memory-limit-mb', '300', '--heap-mb', '512', '--duration', '2'], 50_000);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const warnings = result.stdout.split('\n').filter((l) => l.startsWith('warning: '));
    assert.equal(warnings.length, 1, result.stdout);
    assert.match(warnings[0] ?? '', /above the container's memory limit \(300 MiB\).*--max-old-space-size=189/);
  });

  test('demo --memory-limit-mb 300 --dashboard charts the working set against the 300 MiB limit (headless Chromium)', { timeout: 120_000, skip: chromium.skip }, async (t) => {
    await ensureBuilt();
    const browser = await launchChromium();
    // Cleanup as an after hook, so a timed-out test still ends the launcher and the browser.
    t.after(() => browser.close());
    const { child, match } = await startCli(['demo', '--memory-limit-mb', '300', '--dashboard', '--duration', '5'], /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/);
    const closed = new Promise((resolve) => child.once('close', resolve));
    t.after(async () => {
      child.kill('SIGTERM');
      await closed;
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(match[1]!);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'finished', undefined, { timeout: 90_000, polling: 250 });
    const view = await page.evaluate(() => {
      const d = (window as unknown as { nexusDashboard: { charts: Record<string, { data: Array<Array<number | null>> }> } }).nexusDashboard;
      const [, workingSet = [], limit = []] = d.charts['container']!.data;
      return {
        workingSet: workingSet.filter((v): v is number => v !== null),
        limit: [...new Set(limit)],
        shown: getComputedStyle(document.getElementById('container-section')!).display,
        stat: document.getElementById('stat-container')?.textContent ?? '',
        meta: document.getElementById('meta')?.textContent ?? '',
      };
    });
    assert.equal(view.shown, 'block');
    assert.ok(view.workingSet.length > 5 && view.workingSet.every((mb) => mb > 10 && mb < 300), JSON.stringify(view.workingSet));
    assert.deepEqual(view.limit, [300]);
    assert.match(view.stat, /^[\d.]+ MB \/ 300\.0 MB$/);
    assert.match(view.meta, /memory cgroup limited to 300\.0 MB/);
    assert.deepEqual(errors, []);
  });

  test('demo --memory-limit-mb run by an unprivileged user refuses before starting, saying what is missing and naming systemd-run and docker', { timeout: 60_000 }, async () => {
    await ensureBuilt();
    const result = await runCliAs(65534, ['demo', '--memory-limit-mb', '300', '--duration', '2']);
    assert.equal(result.code, 1, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stderr, /demo: --memory-limit-mb 300 needs a memory cgroup, and this process cannot create one: cannot create a memory cgroup below .* \(EACCES/);
    assert.match(result.stderr, /systemd-run --user --scope -p MemoryMax=300M/);
    assert.match(result.stderr, /docker run -m 300m/);
    assert.doesNotMatch(result.stdout, /requests/, 'nothing ran');
  });
});

test('demo --memory-limit-mb with a bad value is a usage error naming the option and the value', async () => {
  await ensureBuilt();
  const result = await runCli(['demo', '--memory-limit-mb', '100']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /demo: --memory-limit-mb must be a whole number of MiB between 128 and 65536, got "100"/);
});
