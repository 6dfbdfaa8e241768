// The layering of src/ (scripts/check-layers.mjs): no import against the
// declared order, no cycle between folders. The checker runs on src/ and on
// small trees written to break each rule, so a checker that always passes
// fails here.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain .mjs script without declarations
import { checkLayers, LAYERS } from '../../scripts/check-layers.mjs';

const check = checkLayers as (srcRoot: string, layers?: string[][]) => string[];
const root = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'nexus-layers-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let trees = 0;
/** Writes `files` (path -> source) under a fresh src/ and returns its path. */
function tree(files: Record<string, string>): string {
  const src = join(scratch, String(trees++), 'src');
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(src, path)), { recursive: true });
    writeFileSync(join(src, path), source);
  }
  return src;
}

const layers = [['base.ts util.ts'], ['low'], ['high', 'side']];

describe('the layering of src/', () => {
  test('src/ keeps the declared layers and has no cycle between folders', () => {
    assert.deepEqual(check(join(root, 'src')), []);
  });

  test('every folder and root file of src/ has a declared place (none is left out by accident)', () => {
    const declared = (LAYERS as string[][]).flat().flatMap((unit) => unit.split(' '));
    for (const name of ['clock.ts', 'checks.ts', 'pressure-levels.ts', 'telemetry', 'pressure', 'cache', 'store', 'testing', 'cli']) {
      assert.ok(declared.includes(name), name);
    }
    // telemetry sits below pressure: the monitor reports to it, and it needs only the levels from the base.
    const layerOf = (unit: string) => (LAYERS as string[][]).findIndex((units) => units.some((u) => u.split(' ').includes(unit)));
    assert.ok(layerOf('pressure-levels.ts') < layerOf('telemetry') && layerOf('telemetry') < layerOf('pressure'));
  });
});

describe('the layering checker', () => {
  test('accepts imports downwards and within a unit, and ignores packages', () => {
    const src = tree({
      'base.ts': "import { u } from './util.js';\nexport const b = u;",
      'util.ts': 'export const u = 1;',
      'low/a.ts': "import { b } from '../base.js';\nimport { c } from './c.js';\nimport x from 'some-package';\nexport const a = b + c + x;",
      'low/c.ts': 'export const c = 1;',
      'high/h.ts': "import { a } from '../low/a.js';\nexport const h = a;",
    });
    assert.deepEqual(check(src, layers), []);
  });

  test('refuses an import from a higher layer, type-only and dynamic ones included', () => {
    const src = tree({
      'base.ts': "import type { H } from './high/h.js';\nexport type B = H;",
      'util.ts': 'export const u = 1;',
      'low/a.ts': "export const a = () => import('../high/h.js');",
      'high/h.ts': 'export type H = number;',
    });
    const problems = check(src, layers);
    assert.equal(problems.filter((p) => /from a higher layer/.test(p)).length, 2, problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('src/base.ts (layer 0, base.ts util.ts) imports "./high/h.js"')), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('src/low/a.ts (layer 1, low) imports "../high/h.js"')), problems.join('\n'));
  });

  test('refuses an import between two units of one layer', () => {
    const src = tree({ 'high/h.ts': "import { s } from '../side/s.js';\nexport const h = s;", 'side/s.ts': 'export const s = 1;' });
    assert.deepEqual(check(src, layers), [
      'src/high/h.ts (high) imports "../side/s.js" from side, a unit of the same layer: they must stay independent',
    ]);
  });

  test('refuses a file no layer claims, and an import leaving src/', () => {
    const src = tree({ 'stray/x.ts': "import { t } from '../../test/t.js';\nexport const x = t;" });
    const problems = check(src, layers);
    assert.ok(problems.some((p) => /^src\/stray\/x\.ts belongs to no layer/.test(p)), problems.join('\n'));
    assert.ok(problems.some((p) => p === 'src/stray/x.ts imports "../../test/t.js", outside src/'), problems.join('\n'));
  });

  test('finds a cycle between sibling folders at any depth (the old policies <-> tinylfu)', () => {
    const src = tree({
      'low/policies/registry.ts': "import { t } from '../tinylfu/t.js';\nexport const r = t;",
      'low/policies/policy.ts': 'export const p = 1;',
      'low/tinylfu/t.ts': "import { p } from '../policies/policy.js';\nexport const t = p;",
    });
    assert.deepEqual(check(src, layers), [
      'a cycle between policies/, tinylfu/ in src/low/: src/low/policies/registry.ts -> ../tinylfu/t.js; src/low/tinylfu/t.ts -> ../policies/policy.js',
    ]);
  });

  test('a subfolder may use files of its parent folder that do not use it back (tinylfu under policies)', () => {
    const src = tree({
      'low/policies/registry.ts': "import { t } from './tinylfu/t.js';\nexport const r = t;",
      'low/policies/policy.ts': 'export const p = 1;',
      'low/policies/tinylfu/t.ts': "import { p } from '../policy.js';\nexport const t = p;",
    });
    assert.deepEqual(check(src, layers), []);
  });

  test('but not a parent file that imports the subfolder back', () => {
    const src = tree({
      'low/policies/policy.ts': "import { t } from './tinylfu/t.js';\nexport const p = t;",
      'low/policies/tinylfu/t.ts': "import type { p } from '../policy.js';\nexport const t = 1 as typeof p;",
    });
    const problems = check(src, layers);
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0] ?? '', /^a cycle between policy\.ts, tinylfu\/ in src\/low\/policies\//);
  });

  test('a cycle between two top-level folders is reported with the imports that make it', () => {
    const src = tree({
      'low/a.ts': "import { h } from '../high/h.js';\nexport const a = h;",
      'high/h.ts': "import { a } from '../low/a.js';\nexport const h = a;",
    });
    const problems = check(src, layers);
    assert.ok(problems.includes('a cycle between high/, low/ in src/: src/high/h.ts -> ../low/a.js; src/low/a.ts -> ../high/h.js'), problems.join('\n'));
  });
});
