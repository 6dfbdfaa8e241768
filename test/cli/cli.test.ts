import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, ROOT, runCli } from './cli-process.js';

before(ensureBuilt);

describe('nexus-store CLI (real child processes of dist/cli/main.js)', () => {
  test('--help exits 0 and lists both commands', async () => {
    const result = await runCli(['--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /monitor/);
    assert.match(result.stdout, /demo/);
  });

  test('each command has its own --help that exits 0', async () => {
    const [monitor, demo] = await Promise.all([runCli(['monitor', '--help']), runCli(['demo', '--help'])]);
    assert.equal(monitor.code, 0);
    assert.match(monitor.stdout, /--interval <ms>/);
    assert.equal(demo.code, 0);
    assert.match(demo.stdout, /--baseline/);
    assert.match(demo.stdout, /--heap-mb/);
  });

  test('an unknown command exits non-zero naming it', async () => {
    const result = await runCli(['frobnicate']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown command "frobnicate"/);
  });

  test('a bad --interval exits non-zero naming the option and the value', async () => {
    const result = await runCli(['monitor', '--interval', 'soon']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /monitor: --interval must be a number of milliseconds between 50 and 3600000, got "soon"/);
    const negative = await runCli(['monitor', '--interval=-5']);
    assert.equal(negative.code, 2);
    assert.match(negative.stderr, /--interval .* got "-5"/);
  });

  test('an unknown option exits non-zero naming it', async () => {
    const result = await runCli(['demo', '--heap-size', '10']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--heap-size/);
  });

  test('monitor --json --count 2 prints two JSON lines, each with every signal', async () => {
    const result = await runCli(['monitor', '--json', '--count', '2', '--interval', '100']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines.length, 2, result.stdout);
    for (const line of lines) {
      const sample = JSON.parse(line) as { at: number; level: string; source: string; signals: Array<{ name: string; level?: string }> };
      assert.equal(typeof sample.at, 'number');
      assert.match(sample.level, /^(normal|moderate|critical|emergency)$/);
      const names = sample.signals.map((s) => s.name).sort();
      assert.deepEqual(names, ['container', 'heap', 'psi', 'system']);
      const heap = sample.signals.find((s) => s.name === 'heap');
      assert.ok(heap?.level !== undefined, 'the heap signal is always available');
      assert.ok(names.includes(sample.source), `source ${sample.source} is one of the signals`);
    }
  });

  test('monitor without --json prints a table with each signal and the one that drives the level', async () => {
    const result = await runCli(['monitor', '--count', '1']);
    assert.equal(result.code, 0, result.stderr);
    const driver = /overall level (normal|moderate|critical|emergency) \(driven by (\w+)\)/.exec(result.stdout);
    assert.ok(driver !== null, result.stdout);
    assert.match(result.stdout, /^heap/m);
    // The star marks the row of the signal named as the driver, and no other.
    const starred = result.stdout.split('\n').filter((line) => /^\w+ \*/.test(line));
    assert.deepEqual(starred.map((line) => line.split(' ')[0]), [driver[2]], result.stdout);
    assert.match(result.stdout, /^\* drives the overall level$/m);
  });

  test('demo --duration 8 --heap-mb 96 survives, evicts, and ends with the report', { timeout: 90_000 }, async () => {
    const result = await runCli(['demo', '--duration', '8', '--heap-mb', '96', '--seed', '3'], 80_000);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /requests\s+[\d,]+\s+hit/);
    assert.match(result.stdout, /nexus-store demo report/);
    assert.match(result.stdout, /image-cache\s+low/);
    assert.match(result.stdout, /video-metadata\s+medium/);
    assert.match(result.stdout, /playback-buffers\s+high/);
    assert.match(result.stdout, /outcome\s+survived/);
    const evictions = /evictions\s+([\d,]+) entries/.exec(result.stdout);
    assert.ok(evictions !== null, result.stdout);
    assert.ok(Number(evictions[1]!.replaceAll(',', '')) > 0, 'the caches evicted entries');
    // The pinned home-page titles survive every pressure level.
    assert.match(result.stdout, /video-metadata\s.*\s6$/m);
    assert.doesNotMatch(result.stderr, /heap out of memory/);
  });

  test('demo --baseline with a small heap dies of heap exhaustion and the launcher reports it', { timeout: 90_000 }, async () => {
    const result = await runCli(['demo', '--baseline', '--duration', '60', '--heap-mb', '64'], 80_000);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /The workload process died after [\d.]+ s: JavaScript heap out of memory/);
    assert.match(result.stdout, /V8 gave up at the 64 MB heap cap/);
    assert.match(result.stdout, /This is the baseline: plain Map caches/);
    // The raw V8 stack is not shown.
    assert.doesNotMatch(result.stdout + result.stderr, /node::OOMErrorHandler|v8::internal/);
  });

  test('demo --dashboard without uplot installed exits 1 saying to install it', () => {
    // The built package alone, outside this checkout: no node_modules to find uplot in.
    const dir = mkdtempSync(join(tmpdir(), 'nexus-no-uplot-'));
    try {
      cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'nexus-store', type: 'module' }));
      const result = spawnSync(process.execPath, [join(dir, 'dist/cli/main.js'), 'demo', '--dashboard', '--duration', '1'], { cwd: dir, encoding: 'utf8' });
      assert.equal(result.status, 1, result.stdout + result.stderr);
      assert.match(result.stderr, /the dashboard needs the optional peer dependency uplot/);
      assert.match(result.stderr, /npm install uplot/);
      assert.doesNotMatch(result.stdout, /requests/, 'nothing ran');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
