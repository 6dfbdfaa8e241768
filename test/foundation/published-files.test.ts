// What `npm pack` puts in the package, and what it does when there is nothing
// to pack. (scripts/check-install.mjs, run by CI, goes further: it installs
// the repository from its git URL into an empty app.)
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensureBuilt } from '../cli/cli-process.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

before(ensureBuilt);

describe('the packed package (npm pack --dry-run --json --ignore-scripts)', () => {
  let files: string[] = [];
  before(async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
    files = (JSON.parse(stdout) as [{ files: { path: string }[] }])[0].files.map((f) => f.path);
  });

  test('holds every file package.json points to', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, string | Record<string, string>>; bin: Record<string, string> };
    const targets = [
      ...Object.values(pkg.bin),
      ...Object.entries(pkg.exports).flatMap(([subpath, t]) => (subpath === './package.json' ? [] : typeof t === 'string' ? [t] : Object.values(t))),
    ].map((t) => t.replace(/^\.\//, ''));
    assert.deepEqual(
      targets.filter((t) => !files.includes(t)),
      [],
    );
  });

  test('ships no source maps and no file that points to one', () => {
    assert.deepEqual(
      files.filter((f) => f.endsWith('.map')),
      [],
    );
    const pointing = files.filter((f) => /\.(js|ts)$/.test(f) && readFileSync(join(root, f), 'utf8').includes('sourceMappingURL'));
    assert.deepEqual(pointing, []);
  });

  test('declarations keep internal helpers out (no typed-array generics, which need TypeScript 5.7, and no @internal names)', () => {
    const declarations = files.filter((f) => f.endsWith('.d.ts'));
    assert.ok(declarations.length > 10, String(declarations.length));
    const leaking = declarations.filter((f) =>
      /\b(?:Int32|Uint32|Float64)Array<|\b(?:growInt32|growUint32|growFloat64|renumberStamps|STAMP_LIMIT)\b/.test(readFileSync(join(root, f), 'utf8')),
    );
    assert.deepEqual(leaking, []);
  });
});

describe('npm pack without a build (scripts/build.mjs --pack, the prepack script)', () => {
  test('in a copy of the repository without dist/ or node_modules, exits 1 saying dist/ is missing and how to build it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nexus-unbuilt-'));
    try {
      mkdirSync(join(dir, 'scripts'));
      for (const file of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs']) cpSync(join(root, file), join(dir, file));
      cpSync(join(root, 'src'), join(dir, 'src'), { recursive: true });
      const result = spawnSync(process.execPath, [join(dir, 'scripts/build.mjs'), '--pack'], { cwd: dir, encoding: 'utf8' });
      assert.equal(result.status, 1, result.stdout + result.stderr);
      assert.match(result.stderr, /dist\/ is missing and TypeScript is not installed to build it: run `npm ci`/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
