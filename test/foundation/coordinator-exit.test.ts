// The coordinator's per-cleaner timeout guards a promise the caller awaits,
// so it must keep the process alive: these run real child processes on the
// real clock, where nothing else holds the event loop open.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CleanupResult } from '../../src/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a TypeScript fixture through tsx until it exits; a safety kill after `hardLimitMs` only guards against a hang. */
function runChild(fixture: string, hardLimitMs = 120_000): Promise<ChildOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(`fixtures/${fixture}`, import.meta.url))], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const hardTimer = setTimeout(() => child.kill('SIGKILL'), hardLimitMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(hardTimer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function resultsOf(outcome: ChildOutcome): CleanupResult[] {
  const line = outcome.stdout.split('\n').find((l) => l.startsWith('results '));
  assert.ok(line, `the child printed no results (exit code ${outcome.code}, signal ${outcome.signal}); stdout: ${JSON.stringify(outcome.stdout)} stderr: ${outcome.stderr}`);
  return JSON.parse(line.slice('results '.length)) as CleanupResult[];
}

test('top-level await of cleanupAll() past a cleaner that never settles, on the real clock, prints the results and exits 0', async () => {
  const outcome = await runChild('hung-cleaner-top-level.ts');
  const results = resultsOf(outcome);
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.deepEqual(
    results.map(({ cleanerName, success, bytesFreed, error }) => ({ cleanerName, success, bytesFreed, error })),
    [
      { cleanerName: 'hung', success: false, bytesFreed: 0, error: 'timed out after 100 ms' },
      { cleanerName: 'after-hung', success: true, bytesFreed: 7, error: undefined },
    ],
  );
});

test('a shutdown path (server closed, then cleanupAll) still runs the cleaners after a hung one and prints the results', async () => {
  const outcome = await runChild('hung-cleaner-shutdown.ts');
  const results = resultsOf(outcome);
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.match(outcome.stdout, /^close-pool ran$/m);
  assert.deepEqual(
    results.map(({ cleanerName, success, bytesFreed, error }) => ({ cleanerName, success, bytesFreed, error })),
    [
      { cleanerName: 'hung-cache', success: false, bytesFreed: 0, error: 'timed out after 100 ms' },
      { cleanerName: 'flush-buffers', success: true, bytesFreed: 64, error: undefined },
      { cleanerName: 'close-pool', success: true, bytesFreed: 128, error: undefined },
    ],
  );
});
