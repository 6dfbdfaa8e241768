import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface ChildOutcome {
  exitedByItself: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a TypeScript fixture through tsx; kills it if it is still running `graceMs` after it printed its first line. */
function runChild(fixture: string, graceMs: number, hardLimitMs: number): Promise<ChildOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(`fixtures/${fixture}`, import.meta.url))], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killedByUs = false;
    let graceTimer: NodeJS.Timeout | undefined;
    const kill = () => {
      if (child.exitCode === null && child.signalCode === null) {
        killedByUs = true;
        child.kill('SIGKILL');
      }
    };
    const hardTimer = setTimeout(kill, hardLimitMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      graceTimer ??= setTimeout(kill, graceMs);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(hardTimer);
      if (graceTimer !== undefined) clearTimeout(graceTimer);
      resolve({ exitedByItself: !killedByUs, code, stdout, stderr });
    });
  });
}

test('a running PollingMemoryMonitor on the system clock never keeps the process alive', async () => {
  // The grace period counts from the child's first output (after tsx has
  // loaded), so a slow machine does not turn into a false failure.
  const outcome = await runChild('idle-monitor.ts', 3_000, 60_000);
  assert.equal(outcome.exitedByItself, true, `the child had to be killed; stdout: ${outcome.stdout} stderr: ${outcome.stderr}`);
  assert.equal(outcome.code, 0, outcome.stderr);
  const samples = Number(/samples-while-alive (\d+)/.exec(outcome.stdout)?.[1]);
  assert.ok(samples >= 3, `the monitor kept polling while the process was alive (got ${samples} samples)`);
  assert.match(outcome.stdout, /exit 0 monitoring=true/, 'it exited while still monitoring, not because monitoring stopped');
});

test('a running monitor whose provider never settles does not keep the process alive: the sample timeout is background work', async () => {
  const outcome = await runChild('hung-provider-background.ts', 3_000, 60_000);
  assert.equal(outcome.exitedByItself, true, `the child had to be killed; stdout: ${outcome.stdout} stderr: ${outcome.stderr}`);
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.match(outcome.stdout, /^started calls=1$/m);
  assert.match(outcome.stdout, /^exit 0 monitoring=true$/m);
});

test('top-level await of poll() on a provider that never settles, on the real clock, resolves after sampleTimeoutMs and exits 0', async () => {
  // No grace kill: the child must end by itself; the hard limit only guards against a hang.
  const outcome = await runChild('hung-provider-poll.ts', 60_000, 60_000);
  assert.equal(outcome.exitedByItself, true, `the child had to be killed; stdout: ${outcome.stdout} stderr: ${outcome.stderr}`);
  assert.equal(outcome.code, 0, `exit code ${outcome.code}; stdout: ${JSON.stringify(outcome.stdout)} stderr: ${outcome.stderr}`);
  const line = /^polled (.*)$/m.exec(outcome.stdout)?.[1];
  assert.ok(line, `no poll result printed; stdout: ${JSON.stringify(outcome.stdout)}`);
  assert.deepEqual(JSON.parse(line), {
    level: 'normal',
    source: 'none',
    errors: ['memoryProvider did not settle within sampleTimeoutMs (100 ms); the sample was abandoned'],
  });
});

test('control: a plain ref\'d setInterval does keep a child alive, so the check above can fail', async () => {
  const outcome = await runChild('held-open.ts', 1_500, 60_000);
  assert.match(outcome.stdout, /ready/);
  assert.equal(outcome.exitedByItself, false, 'the control child exited by itself: the harness cannot detect a held-open process');
});
