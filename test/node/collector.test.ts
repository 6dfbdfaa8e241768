/**
 * nodeRuntime.collectGarbage, for real: in a child Node started without
 * --expose-gc (the test runner has it), a full collection frees dropped
 * Buffers, and the handle stays private: neither the process's global nor
 * a context created afterwards gets a `gc`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const child = fileURLToPath(new URL('../fixtures/node/collector-child.ts', import.meta.url));

test('collectGarbage frees 96 MiB of dropped Buffers in a Node without --expose-gc, and exposes gc nowhere', async () => {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', child], { cwd: repoRoot, timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '' } }, (error, out, err) =>
      error === null ? resolve(out) : reject(new Error(`${error.message}\n${err}`)),
    );
  });
  const seen = JSON.parse(stdout) as Record<string, unknown>;
  assert.equal(seen['exposedBefore'], 'undefined', 'the child must start without gc');
  assert.equal(seen['collected'], true);
  assert.ok(typeof seen['freedMiB'] === 'number' && seen['freedMiB'] >= 90, `freed ${String(seen['freedMiB'])} MiB of 96`);
  assert.equal(seen['exposedAfter'], 'undefined');
  assert.equal(seen['inNewContext'], 'undefined');
  assert.equal(seen['again'], true, 'the handle is kept');
});
