import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { HeapSignal, createHeapMemoryProvider, resolveOldGenerationLimit } from '../../src/node/index.js';
import { invertV8DefaultSizing } from '../../src/node/heap-signal.js';
import { fakeRuntime, MIB } from './helpers.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

describe('old-generation limit', () => {
  it('reads --max-old-space-size (dashes or underscores, = or a separate value, last one wins)', () => {
    for (const flags of [['--max-old-space-size=96'], ['--max_old_space_size=96'], ['--max-old-space-size', '96'], ['--max-old-space-size=64', '--max-old-space-size=96']]) {
      const limit = resolveOldGenerationLimit(fakeRuntime({ v8Flags: () => flags }));
      assert.deepEqual(limit, { bytes: 96 * MIB, from: '--max-old-space-size' }, flags.join(' '));
    }
  });

  it('ignores a flag that does not fit under heap_size_limit (it was not the one V8 applied)', () => {
    const limit = resolveOldGenerationLimit(fakeRuntime({ v8Flags: () => ['--max-old-space-size=8192'], heapSizeLimitBytes: () => 4144 * MIB }));
    assert.deepEqual(limit, { bytes: 4096 * MIB, from: 'V8 default sizing' });
  });

  it('subtracts three semi-spaces when only --max-semi-space-size is given', () => {
    const limit = resolveOldGenerationLimit(fakeRuntime({ v8Flags: () => ['--max-semi-space-size=4'], heapSizeLimitBytes: () => 108 * MIB }));
    assert.deepEqual(limit, { bytes: 96 * MIB, from: '--max-semi-space-size' });
  });

  it("inverts V8's default sizing: 4144 MiB of heap_size_limit is a 4096 MiB old generation, 259 MiB is 256", () => {
    assert.equal(invertV8DefaultSizing(4144 * MIB), 4096 * MIB);
    // A 1 GiB container: V8 picks old = 512 MiB with 3 x 4 MiB semi-spaces.
    assert.equal(invertV8DefaultSizing(524 * MIB), 512 * MIB);
  });

  it("uses a Worker's resourceLimits before any flag", () => {
    const limit = resolveOldGenerationLimit(fakeRuntime({ workerMaxOldGenerationSizeMb: () => 32 }));
    assert.deepEqual(limit, { bytes: 32 * MIB, from: 'worker resourceLimits' });
  });

  it('an explicit maxOldGenerationBytes wins, and bad values are RangeErrors naming the field', () => {
    assert.equal(new HeapSignal({ runtime: fakeRuntime(), maxOldGenerationBytes: 50 * MIB }).budgetBytes, 40 * MIB);
    assert.throws(() => new HeapSignal({ maxOldGenerationBytes: -1 }), /maxOldGenerationBytes.*-1/);
    assert.throws(() => new HeapSignal({ giveUpFraction: 1.5 }), /giveUpFraction.*1\.5/);
  });
});

describe('heap signal', () => {
  it('measures the old generation (young spaces left out) against 0.8 of its maximum', () => {
    const runtime = fakeRuntime();
    runtime.oldGenerationUsedBytes = 60 * MIB;
    runtime.youngGenerationUsedBytes = 30 * MIB;
    const r = new HeapSignal({ runtime }).read();
    assert.equal(r.source, 'heap');
    assert.equal(r.budgetBytes, 0.8 * 96 * MIB);
    assert.ok(Math.abs(r.usedBytes - 60 * MIB) < 1, `used ${r.usedBytes}`);
    assert.ok(Math.abs(r.fraction - 60 / 76.8) < 1e-9);
  });

  it('reports no bytes available past the give-up line', () => {
    const runtime = fakeRuntime();
    runtime.oldGenerationUsedBytes = 90 * MIB;
    const sample = createHeapMemoryProvider({ runtime })();
    assert.equal(sample.availableBytes, 0);
  });

  it('finds the real old-generation maximum of child processes under several caps', async () => {
    const script = `import('./src/node/index.ts').then((m) => { const s = new m.HeapSignal(); console.log(JSON.stringify({ limit: s.oldGenerationLimit, heapSizeLimit: require('node:v8').getHeapStatistics().heap_size_limit })); })`;
    for (const cap of [64, 96, 256]) {
      const { stdout } = await run(process.execPath, [`--max-old-space-size=${cap}`, '--import', 'tsx', '-e', script], { cwd: repoRoot });
      const out = JSON.parse(stdout) as { limit: { bytes: number; from: string }; heapSizeLimit: number };
      assert.equal(out.limit.bytes, cap * MIB, `cap ${cap}`);
      assert.ok(out.heapSizeLimit > cap * MIB, 'heap_size_limit includes the young generation on top');
    }
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '-e', script], { cwd: repoRoot, env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=80' } });
    assert.equal((JSON.parse(stdout) as { limit: { bytes: number } }).limit.bytes, 80 * MIB, 'NODE_OPTIONS');
  });
});
