// Package hygiene: what a consumer of the published package gets.
//
// These tests read the BUILT package (dist/). `npm test` builds first; run
// alone, this file rebuilds when dist/ is missing or older than src/.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import ts from 'typescript';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const dist = join(root, 'dist');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  dependencies?: Record<string, string>;
  exports: Record<string, string | { types: string; default: string }>;
  bin: Record<string, string>;
};

/** Folders of src/ that may use Node built-ins or packages; everything else is the core. */
const INTEGRATIONS = ['node', 'postgres', 'opentelemetry', 'cli', 'testing'];

function walk(dir: string, accept: (file: string) => boolean): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path, accept));
    else if (accept(path)) out.push(path);
  }
  return out;
}

/** Every module specifier in a JS or TS source: static, dynamic, type-only, re-exports and side-effect imports. */
export function specifiersOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

/** Why `specifier`, imported from `fromFile`, breaks the core's rules; undefined when it is fine. */
function coreViolation(fromFile: string, specifier: string, srcRoot: string): string | undefined {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) {
    return `${relative(root, fromFile)} imports "${specifier}" (only relative imports are allowed in the core)`;
  }
  const target = relative(srcRoot, resolve(dirname(fromFile), specifier));
  const top = target.split(sep)[0];
  if (top !== undefined && INTEGRATIONS.includes(top)) return `${relative(root, fromFile)} imports the integration "${specifier}"`;
  return undefined;
}

/** Follows relative imports from `entry`; returns every file reached and every rule broken on the way. */
function importGraph(entry: string, srcRoot: string): { files: string[]; violations: string[] } {
  const seen = new Set<string>();
  const violations: string[] = [];
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!existsSync(file)) {
      violations.push(`${relative(root, file)} is imported but does not exist`);
      continue;
    }
    for (const specifier of specifiersOf(readFileSync(file, 'utf8'))) {
      const problem = coreViolation(file, specifier, srcRoot);
      if (problem !== undefined) violations.push(problem);
      else queue.push(resolve(dirname(file), specifier));
    }
  }
  return { files: [...seen], violations };
}

async function ensureBuilt(): Promise<void> {
  const built = join(dist, 'index.js');
  const newestSource = Math.max(...walk(join(root, 'src'), (f) => f.endsWith('.ts')).map((f) => statSync(f).mtimeMs));
  if (existsSync(built) && statSync(built).mtimeMs >= newestSource) return;
  // Type errors elsewhere must not hide packaging problems: tsc still emits.
  await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root }).catch(() => undefined);
  assert.ok(existsSync(built), 'the build did not produce dist/index.js');
}

before(ensureBuilt);

describe('the import checker itself', () => {
  test('finds static, dynamic, type-only and re-export specifiers, and flags non-relative and integration imports', () => {
    const source = [
      "import { a } from './a.js';",
      "import type { B } from 'node:buffer';",
      "export * from '../node/index.js';",
      "import 'side-effect';",
      "const m = await import('pg');",
    ].join('\n');
    assert.deepEqual(specifiersOf(source), ['./a.js', 'node:buffer', '../node/index.js', 'side-effect', 'pg']);
    const from = join(root, 'src', 'cache', 'x.ts');
    const srcRoot = join(root, 'src');
    assert.equal(coreViolation(from, './a.js', srcRoot), undefined);
    assert.match(coreViolation(from, 'node:buffer', srcRoot) ?? '', /only relative imports/);
    assert.match(coreViolation(from, '../node/index.js', srcRoot) ?? '', /integration/);
    assert.match(coreViolation(from, 'pg', srcRoot) ?? '', /only relative imports/);
  });
});

describe('zero runtime dependencies in the core', () => {
  test('package.json declares no runtime dependencies', () => {
    assert.deepEqual(pkg.dependencies ?? {}, {});
  });

  for (const entry of ['index.js', 'browser/index.js']) {
    test(`dist/${entry} reaches only relative imports, none into node/, postgres/, opentelemetry/ or cli/`, () => {
      const { files, violations } = importGraph(join(dist, entry), dist);
      assert.deepEqual(violations, []);
      assert.ok(files.length > 1 || entry !== 'index.js', `the graph was walked (${files.length} files)`);
    });
  }

  test('the core type declarations (dist/index.d.ts) need neither Node types nor any package', () => {
    const { files, violations } = importGraph(join(dist, 'index.d.ts'), dist);
    assert.deepEqual(
      violations.filter((v) => !v.includes('does not exist')),
      [],
    );
    for (const file of files.filter(existsSync)) {
      assert.doesNotMatch(readFileSync(file, 'utf8'), /<reference types="node"/, relative(root, file));
    }
  });

  test('every core source file under src/ imports only relative paths outside the integrations', () => {
    const srcRoot = join(root, 'src');
    const core = walk(srcRoot, (f) => f.endsWith('.ts') && !INTEGRATIONS.includes(relative(srcRoot, f).split(sep)[0] ?? ''));
    assert.ok(core.length >= 10, `found ${core.length} core files`);
    const violations = core.flatMap((file) =>
      specifiersOf(readFileSync(file, 'utf8'))
        .map((s) => coreViolation(file, s, srcRoot))
        .filter((v): v is string => v !== undefined),
    );
    assert.deepEqual(violations, []);
  });
});

describe('publishing', () => {
  test('publint reports no errors and no warnings', async () => {
    const { messages, pkg: linted } = await publint({ pkgDir: root, level: 'warning', pack: 'npm' });
    const problems = messages.filter((m) => m.type === 'error' || m.type === 'warning').map((m) => `${m.type}: ${formatMessage(m, linted) ?? m.code}`);
    assert.deepEqual(problems, []);
  });

  test('are-the-types-wrong finds every entry point resolving with its types under node16 (ESM) and bundlers', async () => {
    // --pack packs the package as npm would publish it; the esm-only profile leaves out CommonJS
    // and node10 resolution, which an ESM-only package (Node >= 20) does not serve.
    const attw = join(root, 'node_modules', '.bin', 'attw');
    const result = await run(attw, ['--pack', '.', '--profile', 'esm-only', '--format', 'table-flipped', '--no-color'], { cwd: root, maxBuffer: 16 * 1024 * 1024 }).then(
      ({ stdout }) => ({ ok: true, stdout }),
      (error: { stdout?: string; stderr?: string }) => ({ ok: false, stdout: `${error.stdout ?? ''}${error.stderr ?? ''}` }),
    );
    assert.ok(result.ok, `attw found problems:\n${result.stdout}`);
    for (const subpath of Object.keys(pkg.exports)) {
      const name = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
      assert.ok(result.stdout.includes(name), `attw checked ${name}`);
    }
  });

  const names: Record<string, string[]> = {
    '.': [
      'PRESSURE_LEVELS',
      'comparePressure',
      'MemoryThresholds',
      'PollingMemoryMonitor',
      'CacheCleaner',
      'ResourceCleanupCoordinator',
      'Subject',
      'ValueSubject',
      'ManualClock',
      'MemoryManager',
      'defaultSizeEstimator',
      'jsonSizeEstimator',
      'NexusStore',
      'MemoryBackend',
    ],
    './node': ['createNodeMemoryMonitor'],
    './browser': ['createBrowserMemoryMonitor'],
    './postgres': ['PostgresBackend'],
    './opentelemetry': ['createOpenTelemetryTelemetry'],
    './testing': ['describeBackendConformance', 'idOfConformanceItem'],
  };

  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const specifier = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
    test(`"${specifier}" resolves after the build and exports what the contract names`, async () => {
      if (typeof target === 'object') {
        for (const file of [target.types, target.default]) assert.ok(existsSync(join(root, file)), `${file} exists`);
      }
      // A fresh process resolves the specifier through package.json "exports" (self-reference).
      const code =
        subpath === './package.json'
          ? `const m = await import(${JSON.stringify(specifier)}, { with: { type: 'json' } }); console.log(JSON.stringify(Object.keys(m.default)));`
          : `const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m)));`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { cwd: root });
      const keys = JSON.parse(stdout) as string[];
      const expected = subpath === './package.json' ? ['name', 'exports'] : (names[subpath] ?? []);
      assert.ok(keys.length > 0, `${specifier} exports something`);
      const missing = expected.filter((name) => !keys.includes(name));
      assert.deepEqual(missing, [], `${specifier} exports ${keys.join(', ')}`);
    });
  }

  test('every contract subpath is in package.json exports', () => {
    assert.deepEqual(Object.keys(pkg.exports).sort(), ['.', './browser', './node', './opentelemetry', './package.json', './postgres', './testing']);
  });

  test('the bin is built, starts with a node shebang, and its file is in the package', () => {
    const bin = pkg.bin['nexus-store'];
    assert.equal(bin, './dist/cli/main.js');
    const text = readFileSync(join(root, bin), 'utf8');
    assert.match(text, /^#!\/usr\/bin\/env node\n/);
  });
});
