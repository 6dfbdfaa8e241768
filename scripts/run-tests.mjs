#!/usr/bin/env node
// Runs every test/**/*.test.ts file with Node's own test runner (through tsx).
// Node 20's `--test` does not expand globs, so the files are listed here.
// Usage: node scripts/run-tests.mjs [substring-filter ...]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'fixtures' || name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

const files = walk(join(root, 'test'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ') || 'test/**/*.test.ts'}`);
  process.exit(1);
}
// A test stuck on something (a lost notification, a child that never exits) fails
// after TEST_TIMEOUT_MS instead of hanging CI. A file whose tests are done but whose
// process stays up (an open socket, a timer someone forgot) is not forced to exit:
// that is a leak worth seeing. The watchdog ends the whole run after RUN_TIMEOUT_MS.
const TEST_TIMEOUT_MS = 300_000;
const RUN_TIMEOUT_MS = 20 * 60_000;
// The spec reporter's counts leave out the tests of a skipped suite (Node never
// registers them); the summary reporter counts every test that did not run and
// why, and its lines close the run.
const summaryDir = mkdtempSync(join(tmpdir(), 'nexus-test-summary-'));
const summaryFile = join(summaryDir, 'summary.txt');
const result = spawnSync(
  process.execPath,
  [
    '--expose-gc',
    // Test locations (and stacks) in the .ts sources rather than tsx's output.
    '--enable-source-maps',
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(root, 'scripts/test-summary-reporter.mjs')}`,
    `--test-reporter-destination=${summaryFile}`,
    `--test-timeout=${TEST_TIMEOUT_MS}`,
    ...files,
  ],
  { cwd: root, stdio: 'inherit', env: process.env, timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL' },
);
try {
  process.stdout.write(`\n${readFileSync(summaryFile, 'utf8')}`);
} catch {
  // No summary: the run was cut short, said below.
}
rmSync(summaryDir, { recursive: true, force: true });
if (result.error !== undefined || result.signal !== null) {
  const why = result.error?.code === 'ETIMEDOUT' ? `did not finish within ${RUN_TIMEOUT_MS / 60_000} minutes` : `ended by ${result.signal ?? result.error?.message}`;
  console.error(`run-tests: the test run ${why}: a test file probably left a handle open (socket, child process, timer)`);
  process.exit(1);
}
process.exit(result.status ?? 1);
