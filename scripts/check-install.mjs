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
//     default 127.0.0.1, database test, user postgres);
//  5. runs the backend conformance suite from `nexus-store/testing` with
//     `node --test` against a tiny backend written in the app (a Map and a
//     list of listeners), so the published suite works outside this repo.
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

/**
 * A backend written by "someone else": items in a Map shared by every instance
 * opened on it, copies in and out, and each instance's writes reported on the
 * others' `changes`. Plain JavaScript, as a user's test file might be.
 */
const TINY_BACKEND_TEST = `import { Subject } from 'nexus-store';
import { describeBackendConformance } from 'nexus-store/testing';

class TinyBackend {
  #shared;
  #changes = new Subject();
  changes = this.#changes.asObservable();
  constructor(shared = { items: new Map(), instances: new Set() }) {
    this.#shared = shared;
    shared.instances.add(this);
  }
  peer() {
    return new TinyBackend(this.#shared);
  }
  close() {
    this.#shared.instances.delete(this);
  }
  async get(id) {
    const item = this.#shared.items.get(id);
    return item === undefined ? undefined : structuredClone(item);
  }
  async getMany(ids) {
    const found = new Map();
    for (const id of ids) if (this.#shared.items.has(id)) found.set(id, structuredClone(this.#shared.items.get(id)));
    return found;
  }
  async save(item) {
    this.#shared.items.set(item.id, structuredClone(item));
    this.#tellOthers(item.id);
    return structuredClone(item);
  }
  async delete(id) {
    this.#shared.items.delete(id);
    this.#tellOthers(id);
  }
  #tellOthers(id) {
    for (const other of this.#shared.instances) if (other !== this) other.#changes.next(id);
  }
}

describeBackendConformance('TinyBackend', {
  async create() {
    const backend = new TinyBackend();
    const peer = backend.peer();
    return { backend, peer, dispose: async () => { backend.close(); peer.close(); } };
  },
});
`;

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
import { describeBackendConformance, type ConformanceItem, type ConformanceOptions } from 'nexus-store/testing';
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
const conformance: ConformanceOptions = { create: async () => ({ backend: new MemoryBackend<ConformanceItem, string>({ idOf: (i) => i.id }), dispose: async () => {} }) };
void [store, backend, level, reading, createBrowserMemoryMonitor, describeBackendConformance, conformance];
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
  step('running the conformance suite of nexus-store/testing over a backend written in the app, with node --test');
  writeFileSync(join(dir, 'tiny-backend.test.mjs'), TINY_BACKEND_TEST);
  const suite = spawnSync(process.execPath, ['--test', '--test-reporter=tap', 'tiny-backend.test.mjs'], { cwd: dir, encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
  const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(suite.stdout)?.[1] ?? NaN);
  const [passed, failedTests, skipped] = [count('pass'), count('fail'), count('skipped')];
  if (suite.status !== 0 || !(passed >= 10) || failedTests !== 0) {
    throw new Error(`node --test over nexus-store/testing: exit code ${suite.status}, ${passed} passed, ${failedTests} failed\n${suite.stdout}${suite.stderr}`);
  }
  step(`the conformance suite ran in the app: ${passed} passed, ${failedTests} failed, ${skipped} skipped`);
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
