/**
 * Runs the built CLI (dist/cli/main.js, the package's bin) as a real child
 * process. `npm test` builds first; when run alone, the build is redone here
 * if any source file is newer than the bin (one build at a time across test
 * files, through a lock directory).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const BIN = join(ROOT, 'dist/cli/main.js');

function newestSourceMs(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    newest = Math.max(newest, stat.isDirectory() ? newestSourceMs(path) : stat.mtimeMs);
  }
  return newest;
}

export async function ensureBuilt(): Promise<void> {
  const lock = join(ROOT, 'node_modules/.nexus-cli-test-build.lock');
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      await sleep(200);
    }
  }
  try {
    if (existsSync(BIN) && statSync(BIN).mtimeMs >= newestSourceMs(join(ROOT, 'src'))) return;
    const result = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
    if (!existsSync(BIN)) throw new Error(`the build did not produce ${BIN}:\n${result.stdout}${result.stderr}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI to completion (killed after `timeoutMs`). */
export function runCli(args: readonly string[], timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Starts the CLI and resolves once its stdout matches `pattern`, with the match and the running process. */
export function startCli(args: readonly string[], pattern: RegExp, timeoutMs = 30_000): Promise<{ child: ChildProcessWithoutNullStreams; match: RegExpExecArray; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      child.kill('SIGKILL');
      reject(new Error(`no output matching ${pattern} within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const match = pattern.exec(stdout);
      if (match !== null && !done) {
        done = true;
        clearTimeout(timer);
        resolve({ child, match, output: () => stdout });
      }
    });
    child.once('close', (code) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`the CLI exited (${code}) before printing ${pattern}:\n${stdout}\n${stderr}`));
    });
  });
}
