import assert from 'node:assert/strict';
import { relative, resolve } from 'node:path';
import { test } from 'node:test';
import { assertFreshBuild, DIST_DIR, importGraph, importSpecifiers, REPO_ROOT } from './built-package.js';

test('the import scanner finds every form tsc emits', () => {
  const source = [
    "import { a } from './a.js';",
    "import * as b from '../b.js';",
    "export { c } from './c.js';",
    "export * from \"./d.js\";",
    "import './e.js';",
    "const f = await import('./f.js');",
    "import {\n  g,\n  h,\n} from 'node:fs';",
    "const text = 'not an import from \"./x.js\"';",
  ].join('\n');
  assert.deepEqual(importSpecifiers(source), ['./a.js', '../b.js', './c.js', './d.js', './e.js', './f.js', 'node:fs']);
});

for (const entry of ['browser/index.js', 'index.js']) {
  test(`dist/${entry} reaches only relative modules of the core: no Node built-ins, no packages`, () => {
    assertFreshBuild([entry]);
    const graph = importGraph(resolve(DIST_DIR, entry));
    assert.deepEqual(graph.nonRelative, []);
    const outside = graph.files
      .map((file) => relative(DIST_DIR, file))
      .filter((file) => file.startsWith('..') || /^(node|postgres|opentelemetry|cli)\//.test(file));
    assert.deepEqual(outside, [], `files outside the browser-safe part of dist/ (repo ${REPO_ROOT})`);
    assert.ok(graph.files.length > 3, 'the graph was followed');
  });
}
