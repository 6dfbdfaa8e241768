// The demo as a newcomer meets it: the closing hint names a command that works
// where it was run, progress lines label their level columns, a baseline run's
// dashboard outlives the workload, and `npm start` builds only when needed.
// Real child processes of the built bin and of scripts/build.mjs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { BIN, ensureBuilt, ROOT, startCli } from './cli-process.js';

before(ensureBuilt);

function runDemo(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const { npm_lifecycle_event: _event, npm_package_name: _name, ...base } = process.env;
  return spawnSync(process.execPath, [BIN, 'demo', ...args], { cwd: ROOT, env: { ...base, ...env }, encoding: 'utf8', timeout: 60_000 });
}

/** The dashboard's first server-sent event (`init`: everything it holds), parsed. */
function readInit(url: string): Promise<{ start: { mode: string } | undefined; samples: unknown[] }> {
  return new Promise((resolve, reject) => {
    const req = get(`${url}events`, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => {
        text += chunk;
        const match = /event: init\ndata: (.*)\n\n/.exec(text);
        if (match === null) return;
        req.destroy();
        resolve(JSON.parse(match[1] as string) as { start: { mode: string } | undefined; samples: unknown[] });
      });
    });
    req.once('error', reject);
  });
}

describe('nexus-store demo papercuts (real child processes)', () => {
  test('the closing hint names the bin when run as the bin, and npm start inside this repository', () => {
    const direct = runDemo(['--duration', '1']);
    assert.equal(direct.status, 0, direct.stderr);
    assert.match(direct.stdout, /\(nexus-store demo --baseline\), or --dashboard/);
    assert.doesNotMatch(direct.stdout, /npm start/);
    const viaNpm = runDemo(['--duration', '1'], { npm_lifecycle_event: 'start', npm_package_name: 'nexus-store' });
    assert.equal(viaNpm.status, 0, viaNpm.stderr);
    assert.match(viaNpm.stdout, /\(npm start -- --baseline\), or --dashboard/);
  });

  test('each progress line labels its levels: the level now and the highest since the last line', () => {
    const result = runDemo(['--duration', '2']);
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout.split('\n').filter((l) => /^\s*\d+\.\ds\s+requests/.test(l));
    assert.ok(lines.length >= 2, result.stdout);
    for (const line of lines) assert.match(line, /level (normal|moderate|critical|emergency)\s+\(highest since last line (normal|moderate|critical|emergency)\s*\)/);
  });

  test('the fatal error the README quotes is the one Node prints when the baseline runs out of heap', () => {
    const result = runDemo(['--baseline', '--heap-mb', '64', '--duration', '60']);
    assert.equal(result.status, 0, result.stderr);
    const fatal = /"(FATAL ERROR: [^"]+)"/.exec(result.stdout)?.[1];
    assert.ok(fatal !== undefined, result.stdout);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    assert.ok(readme.includes(`\`${fatal}\``), `README.md quotes \`${fatal}\``);
  });

  test('--baseline --dashboard: after the workload dies of heap exhaustion, the dashboard keeps serving the run until Ctrl+C', { timeout: 90_000 }, async () => {
    const { child, match, output } = await startCli(
      ['demo', '--baseline', '--dashboard', '--heap-mb', '64', '--duration', '60'],
      /the dashboard stays up at (http:\/\/127\.0\.0\.1:\d+\/)/,
      80_000,
    );
    try {
      assert.match(output(), /The workload process died after [\d.]+ s: JavaScript heap out of memory/);
      const init = await readInit(match[1] as string);
      assert.equal(init.start?.mode, 'baseline');
      assert.ok(init.samples.length > 0, 'the samples the workload sent before it died are still served');
      const closed = once(child, 'close');
      child.kill('SIGINT');
      const [code] = (await closed) as [number | null];
      assert.equal(code, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('scripts/build.mjs --if-changed (what npm start and npm test run), in a copy of the repository', () => {
  test('builds when there is no build, skips when nothing changed, rebuilds when a source file changed', { timeout: 120_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'nexus-build-'));
    try {
      for (const file of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs']) cpSync(join(ROOT, file), join(dir, file));
      cpSync(join(ROOT, 'src'), join(dir, 'src'), { recursive: true });
      // The dependencies, linked one by one: the copy keeps its own node_modules/.cache (the build stamp).
      mkdirSync(join(dir, 'node_modules'));
      for (const name of readdirSync(join(ROOT, 'node_modules')).filter((n) => n !== '.cache')) symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name));
      const build = () => spawnSync(process.execPath, [join(dir, 'scripts/build.mjs'), '--if-changed'], { cwd: dir, encoding: 'utf8' });
      const builtAt = () => statSync(join(dir, 'dist/index.js')).mtimeMs;

      assert.equal(build().status, 0);
      const first = builtAt();
      assert.equal(build().status, 0);
      assert.equal(builtAt(), first, 'nothing changed: dist/ was not rewritten');
      const later = new Date(Date.now() + 60_000);
      utimesSync(join(dir, 'src/clock.ts'), later, later);
      const third = build();
      assert.equal(third.status, 0, third.stderr);
      assert.notEqual(builtAt(), first, 'src/clock.ts changed: rebuilt');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
