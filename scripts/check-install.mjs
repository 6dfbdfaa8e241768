#!/usr/bin/env node
// What a user outside this repository gets. In an empty temporary directory:
//  1. `npm install git+file://<this repo>` (the committed HEAD: npm clones it,
//     installs its dev dependencies, builds through `prepare` and packs it),
//     next to pg, @opentelemetry/api and the oldest TypeScript we support;
//  2. imports every entry point of the installed package in a fresh process
//     and runs its bin;
//  3. compiles a consumer file that uses every entry point with that
//     TypeScript, `strict` and `skipLibCheck: false`, so our published
//     declarations must stand on their own at that version;
//  4. compiles every ```ts block of README.md there too and runs each to
//     completion with plain node (the PostgreSQL one against PGHOST etc.,
//     default 127.0.0.1, database test, user postgres).
// CI runs it (.ci/run). It needs the npm registry (or npm's cache) for the
// packages above, and PostgreSQL for the README's PostgreSQL example.
//
//   node scripts/check-install.mjs [--source <git URL or tarball>] [--keep]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
/** The oldest TypeScript our declarations compile with; the README states it. */
export const MIN_TYPESCRIPT = '5.7';

const argv = process.argv.slice(2);
const sourceAt = argv.indexOf('--source');
const source = sourceAt >= 0 ? argv[sourceAt + 1] : `git+file://${root.replace(/\/$/, '')}`;
const keep = argv.includes('--keep');

/** The ```ts and ```js blocks of a Markdown text, with the line each opens on. */
function readmeBlocks(markdown) {
  const blocks = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (open === null) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end < 0) break;
    if (open[1] === 'ts' || open[1] === 'js') blocks.push({ line: i + 1, code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

const dir = mkdtempSync(join(tmpdir(), 'nexus-store-consumer-'));
const step = (what) => console.log(`check-install: ${what}`);
const run = (cmd, args, env = process.env) => execFileSync(cmd, args, { cwd: dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });

let failed = false;
try {
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
  step(`npm install ${source} in ${dir}`);
  run('npm', [
    'install',
    '--no-audit',
    '--no-fund',
    '--prefer-offline',
    source,
    'pg',
    '@types/pg',
    '@types/node@20',
    '@opentelemetry/api',
    `typescript@~${MIN_TYPESCRIPT}.0`,
  ]);

  const subpaths = Object.keys(pkg.exports).filter((s) => s !== './package.json');
  for (const subpath of subpaths) {
    const specifier = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
    const keys = JSON.parse(run(process.execPath, ['--input-type=module', '-e', `console.log(JSON.stringify(Object.keys(await import('${specifier}'))))`]));
    if (keys.length === 0) throw new Error(`import('${specifier}') exports nothing`);
    step(`import('${specifier}') gives ${keys.length} exports`);
  }
  writeFileSync(
    join(dir, 'consumer.ts'),
    `import { MemoryManager, ResourceCleanupCoordinator, CacheCleaner, NexusStore, MemoryBackend, type MemoryPressureLevel, type EvictionStrategy } from 'nexus-store';
import { createNodeMemoryMonitor, type NodeMemorySignalsReading } from 'nexus-store/node';
import { createBrowserMemoryMonitor } from 'nexus-store/browser';
import { PostgresBackend } from 'nexus-store/postgres';
import { createOpenTelemetryTelemetry } from 'nexus-store/opentelemetry';
import { metrics } from '@opentelemetry/api';
import pg from 'pg';

interface User { id: string; name: string }
const strategy: EvictionStrategy = 'tinylfu';
const monitor = createNodeMemoryMonitor({ telemetry: createOpenTelemetryTelemetry({ meter: metrics.getMeter('consumer') }) });
const cache = new MemoryManager<string, Buffer>({ maxCacheBytes: 1 << 20, strategy, pressureHandler: monitor });
const coordinator = new ResourceCleanupCoordinator({ memoryMonitor: monitor });
coordinator.register(new CacheCleaner({ name: 'cache', priority: 'low', cache }));
const store = new NexusStore<User, string>({ backend: new MemoryBackend({ idOf: (u: User) => u.id }), idOf: (u) => u.id });
const backend = new PostgresBackend<User, string>({ pool: new pg.Pool(), table: 'users', listen: false });
const level: MemoryPressureLevel = cache.metrics.pressureLevel;
const reading: NodeMemorySignalsReading = monitor.signals.read();
void [store, backend, level, reading, createBrowserMemoryMonitor];
`,
  );
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2022', 'DOM'],
          types: ['node'],
          strict: true,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          skipLibCheck: false,
          noEmit: true,
        },
        files: ['consumer.ts'],
      },
      null,
      2,
    ),
  );
  const tscVersion = run(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '--version']).trim();
  step(`compiling consumer.ts against the installed declarations with ${tscVersion} (strict, skipLibCheck false)`);
  run(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
  step('compiling and running the README code blocks in the app');
  const blocks = readmeBlocks(readFileSync(join(root, 'README.md'), 'utf8'));
  mkdirSync(join(dir, 'readme'));
  for (const block of blocks) writeFileSync(join(dir, 'readme', `line-${block.line}.ts`), `${block.code}\n`);
  writeFileSync(
    join(dir, 'readme', 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'], types: ['node'], strict: true, skipLibCheck: false, outDir: 'out' },
      include: ['*.ts'],
    }),
  );
  run(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'readme')]);
  const env = { PGHOST: '127.0.0.1', PGDATABASE: 'test', PGUSER: 'postgres', ...process.env };
  for (const block of blocks) {
    // A guard, not a measurement: a block still running after a minute has left a handle open.
    const result = spawnSync(process.execPath, [join(dir, 'readme', 'out', `line-${block.line}.js`)], { cwd: dir, env, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
    if (result.status !== 0 || result.stderr !== '') {
      const why = result.signal === 'SIGKILL' ? 'still running after 60 s (a handle keeps it alive)' : `exit code ${result.status}`;
      throw new Error(`the README block at line ${block.line} failed: ${why}\n${result.stdout}${result.stderr}`);
    }
  }
  if (blocks.some((b) => b.code.includes("from 'pg'"))) {
    run(process.execPath, ['--input-type=module', '-e', "import pg from 'pg'; const c = new pg.Client(); await c.connect(); await c.query('DROP TABLE IF EXISTS products'); await c.end();"], env);
  }
  step(`all ${blocks.length} README blocks ran to completion`);
  const version = run(join(dir, 'node_modules', '.bin', 'nexus-store'), ['--version']).trim();
  if (version !== pkg.version) throw new Error(`nexus-store --version printed ${JSON.stringify(version)}, expected ${pkg.version}`);
  step(`the bin runs: nexus-store --version prints ${version}`);

  step('ok');
} catch (error) {
  failed = true;
  const out = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim();
  console.error(`check-install: FAILED: ${error.message.split('\n')[0]}${out === '' ? '' : `\n${out}`}`);
} finally {
  if (keep) step(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
