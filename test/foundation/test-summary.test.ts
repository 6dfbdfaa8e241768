// scripts/test-summary-reporter.mjs: the closing lines of `npm test` count
// every test that did not run, with why. Runs node's test runner in a child
// process over a small test file, with the reporter.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const reporter = fileURLToPath(new URL('../../scripts/test-summary-reporter.mjs', import.meta.url));

const FIXTURE = `import { describe, test } from 'node:test';
describe('needs a browser', { skip: 'no Chromium here' }, () => {
  test('one', () => {});
  test('two', () => {});
  describe('nested', () => {
    test('three', () => {});
  });
});
describe('per shape', { skip: 'no PostgreSQL' }, () => {
  for (const shape of ['a', 'b']) test(shape, () => {});
});
test('skipped alone', { skip: 'not on this platform' }, () => {});
test('later', { todo: 'write it' }, () => {});
test('runs', () => {});
test('fails', () => { throw new Error('no'); });
`;

test('node --test with the summary reporter counts the tests of skipped suites, skipped and todo tests, each with its reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-summary-'));
  try {
    writeFileSync(join(dir, 'fixture.test.mjs'), FIXTURE);
    // Without NODE_TEST_CONTEXT, which would make the child report to this run instead of to its reporter.
    const { NODE_TEST_CONTEXT: _ignored, ...env } = process.env;
    const result = spawnSync(process.execPath, ['--test', `--test-reporter=${reporter}`, '--test-reporter-destination=stdout', 'fixture.test.mjs'], { cwd: dir, env, encoding: 'utf8' });
    assert.equal(result.status, 1, 'one test failed');
    assert.equal(
      result.stdout,
      [
        'run-tests: 2 tests ran (1 passed, 1 failed); at least 6 did not run:',
        `  3 in the skipped suite "needs a browser" (${join(dir, 'fixture.test.mjs')}): no Chromium here`,
        `  at least 1 in the skipped suite "per shape" (${join(dir, 'fixture.test.mjs')}): no PostgreSQL`,
        `  1 skipped "skipped alone" (${join(dir, 'fixture.test.mjs')}): not on this platform`,
        `  1 todo "later" (${join(dir, 'fixture.test.mjs')}): write it`,
        '',
      ].join('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
