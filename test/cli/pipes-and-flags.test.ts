// The CLI as scripts use it: a reader that closes the pipe early, --version,
// negative numbers, per-command help hints and a dashboard port already taken.
// Every case runs the built bin as a real child process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { BIN, ensureBuilt, ROOT, runCli } from './cli-process.js';

before(ensureBuilt);

/**
 * Runs the CLI with its stdout on a pipe, closes our end of the pipe once the
 * first output has arrived (as `| head -1` does), and resolves with how the
 * CLI ended and what it wrote to stderr.
 */
function runUntilPipeCloses(args: readonly string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; first: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let first = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8').once('data', (d: string) => {
      first = d;
      child.stdout.destroy();
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, first, stderr }));
  });
}

describe('nexus-store CLI on a closed pipe (real child processes, stdout closed after the first chunk)', () => {
  for (const args of [
    ['monitor', '--json', '--interval', '50'],
    ['monitor', '--interval', '50'],
    ['demo', '--duration', '60'],
  ]) {
    test(`nexus-store ${args.join(' ')} ends quietly with status 0`, { timeout: 60_000 }, async () => {
      const result = await runUntilPipeCloses(args);
      assert.notEqual(result.first, '', 'it wrote something before the pipe closed');
      assert.equal(result.stderr, '', 'nothing on stderr (no EPIPE stack)');
      assert.deepEqual({ code: result.code, signal: result.signal }, { code: 0, signal: null });
    });
  }
});

describe('nexus-store CLI flags (real child processes)', () => {
  test('--version and -v print the version from package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const result = await runCli([flag]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${version}\n`);
    }
  });

  test('a negative number after an option gets our error naming the option and the value', async () => {
    const count = await runCli(['monitor', '--count', '-1']);
    assert.equal(count.code, 2);
    assert.match(count.stderr, /^nexus-store: monitor: --count must be a whole number at least 1, got "-1"$/m);
    assert.doesNotMatch(count.stderr, /ambiguous/);
    const duration = await runCli(['demo', '--duration', '-5']);
    assert.equal(duration.code, 2);
    assert.match(duration.stderr, /demo: --duration must be a number of seconds between 1 and 3600, got "-5"/);
  });

  test("a subcommand's usage error points to that command's --help; the top level's to nexus-store --help", async () => {
    const monitor = await runCli(['monitor', '--frobnicate']);
    assert.equal(monitor.code, 2);
    assert.match(monitor.stderr, /Run 'nexus-store monitor --help' for usage\./);
    const demo = await runCli(['demo', '--seed', 'x']);
    assert.match(demo.stderr, /Run 'nexus-store demo --help' for usage\./);
    const top = await runCli(['frobnicate']);
    assert.match(top.stderr, /Run 'nexus-store --help' for usage\./);
  });

  test('demo --dashboard --port on a port another server holds exits 1 with one sentence, no stack', { timeout: 30_000 }, async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const result = await runCli(['demo', '--dashboard', '--port', String(port), '--duration', '1']);
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.equal(result.stderr, `nexus-store: demo: port ${port} on 127.0.0.1 is already in use; pick another with --port <n>, or leave --port out for any free port\n`);
      assert.doesNotMatch(result.stdout, /requests/, 'no workload ran');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
