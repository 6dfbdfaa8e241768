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

function runChild(...args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', child, ...args], { cwd: repoRoot, timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '' } }, (error, out, err) =>
      error === null ? resolve(JSON.parse(out) as Record<string, unknown>) : reject(new Error(`${error.message}\n${err}`)),
    );
  });
}

test('collectGarbage frees 96 MiB of dropped old-generation Buffers in a Node without --expose-gc (left alone, none are freed), and exposes gc nowhere', async () => {
  const alone = await runChild('without');
  assert.ok(typeof alone['freedMiB'] === 'number' && alone['freedMiB'] < 10, `without the collection ${String(alone['freedMiB'])} MiB were freed`);
  const seen = await runChild();
  assert.equal(seen['exposedBefore'], 'undefined', 'the child must start without gc');
  assert.equal(seen['collected'], true);
  assert.ok(typeof seen['freedMiB'] === 'number' && seen['freedMiB'] >= 90, `freed ${String(seen['freedMiB'])} MiB of 96`);
  assert.equal(seen['exposedAfter'], 'undefined');
  assert.equal(seen['inNewContext'], 'undefined');
  assert.equal(seen['again'], true, 'the handle is kept');
});
