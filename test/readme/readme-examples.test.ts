// Every ```ts and ```js block of README.md, run as a user would paste it: as
// its own module, outside this repository, importing the BUILT package
// (`nexus-store` resolves to this checkout's dist/ through a node_modules link).
// Each block must type-check (strict), exit 0 on its own (no handle left
// open, no error on stderr), and print what its `// prints: <text>` comments
// say. The PostgreSQL block runs against the real server (PGHOST=127.0.0.1,
// PGDATABASE=test, PGUSER=postgres).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ensureBuilt } from '../cli/cli-process.js';
import { probeService } from '../helpers/services.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const PG_ENV = { PGHOST: '127.0.0.1', PGPORT: '5432', PGDATABASE: 'test', PGUSER: 'postgres' };
/** A guard, not a measurement: a block still running after this has left a handle open. */
const EXIT_GUARD_MS = 60_000;

export interface CodeBlock {
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly lang: 'ts' | 'js';
  readonly code: string;
}

/** The ```ts and ```js blocks of a Markdown text, with the line each starts on. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i] as string);
    if (open === null) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end < 0) break;
    const lang = open[1];
    if (lang === 'ts' || lang === 'js') blocks.push({ line: i + 1, lang, code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

/** The texts a block promises to print: each `// prints: <text>` comment. */
export function promisedOutput(code: string): string[] {
  return [...code.matchAll(/\/\/ prints: (.+)$/gm)].map((m) => (m[1] as string).trim());
}

test('codeBlocks finds ts and js fences with their lines and skips others; promisedOutput reads the prints comments', () => {
  const md = ['# t', '```ts', "console.log('a'); // prints: a", '```', '```sh', 'npm test', '```', '', '```js', 'x()', '```'].join('\n');
  assert.deepEqual(codeBlocks(md), [
    { line: 2, lang: 'ts', code: "console.log('a'); // prints: a" },
    { line: 9, lang: 'js', code: 'x()' },
  ]);
  assert.deepEqual(promisedOutput("f(); // prints: 1 image\ng(); // prints: x y  \n// nothing"), ['1 image', 'x y']);
});

const blocks = codeBlocks(readFileSync(join(root, 'README.md'), 'utf8'));
const usesPostgres = (b: CodeBlock) => /from 'pg'/.test(b.code);
const fileOf = (b: CodeBlock) => `readme-line-${b.line}.${b.lang}`;

describe('README.md code blocks (each a module in an app outside the repo, against the built package)', () => {
  let dir = '';
  let pgProbe: { skip: false | string } = { skip: false };

  before(async () => {
    await ensureBuilt();
    if (blocks.some(usesPostgres)) {
      pgProbe = await probeService('PostgreSQL on 127.0.0.1:5432', async () => {
        const client = new pg.Client({ host: PG_ENV.PGHOST, database: PG_ENV.PGDATABASE, user: PG_ENV.PGUSER, connectionTimeoutMillis: 5000 });
        await client.connect();
        // The example creates its table; start from none, as a new user would.
        await client.query('DROP TABLE IF EXISTS products');
        await client.end();
      });
    }
    dir = mkdtempSync(join(tmpdir(), 'nexus-readme-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'readme-examples', private: true, type: 'module' }));
    mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
    mkdirSync(join(dir, 'node_modules', '@opentelemetry'), { recursive: true });
    const link = (name: string, target: string) => symlinkSync(target, join(dir, 'node_modules', name), 'dir');
    link('nexus-store', root);
    for (const name of ['pg', 'tsx', '@opentelemetry/api', '@types/node', '@types/pg']) link(name, join(root, 'node_modules', name));
    for (const block of blocks) writeFileSync(join(dir, fileOf(block)), `${block.code}\n`);
  });

  after(async () => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
    if (blocks.some(usesPostgres) && pgProbe.skip === false) {
      const client = new pg.Client({ host: PG_ENV.PGHOST, database: PG_ENV.PGDATABASE, user: PG_ENV.PGUSER });
      await client.connect();
      await client.query('DROP TABLE IF EXISTS products');
      await client.end();
    }
  });

  test(`README.md has code blocks to run (found ${blocks.length})`, () => {
    assert.ok(blocks.length >= 8, `found ${blocks.length}`);
  });

  test('every block type-checks (strict, NodeNext) against the built declarations', () => {
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'], types: ['node'], strict: true, noEmit: true, skipLibCheck: true },
        files: blocks.map(fileOf),
      }),
    );
    const result = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: dir, encoding: 'utf8' });
    // Name the README line rather than the temporary file.
    const report = `${result.stdout}${result.stderr}`.replace(/readme-line-(\d+)\.\w+\((\d+),(\d+)\)/g, (_m, fence: string, line: string) => `README.md:${Number(fence) + Number(line)}`);
    assert.equal(result.status, 0, report);
  });

  for (const block of blocks) {
    const promised = promisedOutput(block.code);
    const title = `the block at README.md:${block.line} runs to completion (exit 0, nothing on stderr)${promised.length > 0 ? ` and prints ${promised.map((p) => JSON.stringify(p)).join(', ')}` : ''}`;
    test(title, { skip: usesPostgres(block) ? pgProbe.skip : false, timeout: EXIT_GUARD_MS + 10_000 }, async (t) => {
      if (usesPostgres(block) && pgProbe.skip !== false) return t.skip(pgProbe.skip);
      const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', fileOf(block)], { cwd: dir, env: { ...process.env, ...PG_ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        const guard = setTimeout(() => {
          stderr += `\n(still running after ${EXIT_GUARD_MS / 1000} s: something keeps the process alive; killed)`;
          child.kill('SIGKILL');
        }, EXIT_GUARD_MS);
        child.once('error', reject);
        child.once('close', (code, signal) => {
          clearTimeout(guard);
          resolve({ code, signal, stdout, stderr });
        });
      });
      const shown = `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
      assert.deepEqual({ code: result.code, signal: result.signal }, { code: 0, signal: null }, shown);
      assert.equal(result.stderr, '', shown);
      for (const text of promised) assert.ok(result.stdout.includes(text), `prints ${JSON.stringify(text)}\n${shown}`);
    });
  }
});
