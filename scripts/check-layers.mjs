#!/usr/bin/env node
// The layering of src/, checked: no import against the declared order, and no
// cycle between folders at any depth.
//
//   node scripts/check-layers.mjs     prints every violation; exit code 1 if any
//
// `npm run lint` runs it, and test/foundation/layers.test.ts runs it on src/
// and on small trees built to break each rule.
//
// Rule 1, the layers. LAYERS lists the units of src/, lowest layer first. A
// unit is a top-level folder of src/, or a group of files at the root of src/
// (written as one string, names separated by spaces). A file may import a
// file of its own unit or of a unit in a LOWER layer; units in the same layer
// are independent of each other. A file of src/ that belongs to no unit is a
// violation too, so a new folder has to be given its place.
//
// Rule 2, no folder cycles. In every folder of src/ (src/ itself included),
// each direct child (a file or a subfolder) is a node, and a child X depends
// on a child Y when a file in X imports a file in Y. A cycle of such
// dependencies that passes through a subfolder is a violation: two folders
// that need each other are one folder, or share something that belongs
// lower. (Cycles among plain files of one folder are left to review.)
//
// Only relative specifiers are followed; which packages and Node built-ins a
// module may import is eslint's `no-restricted-imports` rule.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Lowest first. See rule 1 above. */
export const LAYERS = [
  // The base: time, streams, the small checks and the pressure levels every module speaks of.
  ['clock.ts observable.ts checks.ts pressure-levels.ts'],
  // The hooks every component reports to (shapes only; no behaviour of its own).
  ['telemetry'],
  // Levels from measurements: thresholds, memory states, the polling monitor.
  ['pressure'],
  // Cleaners and the coordinator that runs them by level.
  ['cleanup'],
  // The byte-bounded cache, its policies and size estimators.
  ['cache'],
  // NexusStore over a Backend.
  ['store'],
  // The entry points: the core's barrel, the platform sources, the integrations and the conformance suite.
  ['index.ts', 'browser', 'node', 'postgres', 'opentelemetry', 'testing'],
  // The bin: may use everything.
  ['cli'],
];

const SOURCE = /\.(ts|mts|cts|js|mjs)$/;

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else if (SOURCE.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Every module specifier of a source: static, dynamic, type-only, re-exports and side-effect imports. */
export function specifiersOf(source) {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

/** `{ unit, layer }` of a path relative to src/ (with `/` separators), or undefined when no unit claims it. */
function placeOf(path, layers) {
  const [top, ...rest] = path.split('/');
  const isRootFile = rest.length === 0;
  for (let layer = 0; layer < layers.length; layer++) {
    for (const unit of layers[layer]) {
      const members = unit.split(/\s+/);
      if (isRootFile ? members.includes(top) : members.length === 1 && members[0] === top) return { unit, layer };
    }
  }
  return undefined;
}

/** The file an import specifier names, relative to src/ with `/` separators; `.js` is the `.ts` it was compiled from. */
function targetOf(srcRoot, fromFile, specifier) {
  const absolute = resolve(dirname(fromFile), specifier).replace(/\.(m|c)?js$/, '.$1ts');
  return relative(srcRoot, absolute).split(sep).join('/');
}

/** Every cycle (as a strongly connected set, of two or more nodes) in `edges`, nodes sorted. */
function cyclesOf(edges) {
  const nodes = [...new Set([...edges.keys(), ...[...edges.values()].flatMap((s) => [...s])])].sort();
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const out = [];
  let next = 0;
  const visit = (node) => {
    index.set(node, next);
    low.set(node, next);
    next++;
    stack.push(node);
    onStack.add(node);
    for (const to of [...(edges.get(node) ?? [])].sort()) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node), low.get(to)));
      } else if (onStack.has(to)) low.set(node, Math.min(low.get(node), index.get(to)));
    }
    if (low.get(node) === index.get(node)) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) out.push(component.sort());
    }
  };
  for (const node of nodes) if (!index.has(node)) visit(node);
  return out;
}

/**
 * Every violation of the two rules in the tree at `srcRoot`, as sentences
 * naming the files; an empty list when the tree keeps the layering.
 */
export function checkLayers(srcRoot, layers = LAYERS) {
  const problems = [];
  const files = walk(srcRoot).map((file) => ({ file, path: relative(srcRoot, file).split(sep).join('/') }));
  /** import edges between files, as paths relative to src/ */
  const imports = [];
  for (const { file, path } of files) {
    const from = placeOf(path, layers);
    if (from === undefined) {
      problems.push(`src/${path} belongs to no layer: add its folder (or root file) to LAYERS in scripts/check-layers.mjs`);
    }
    for (const specifier of specifiersOf(readFileSync(file, 'utf8'))) {
      if (!specifier.startsWith('./') && !specifier.startsWith('../')) continue;
      const target = targetOf(srcRoot, file, specifier);
      if (target.startsWith('../')) {
        problems.push(`src/${path} imports "${specifier}", outside src/`);
        continue;
      }
      imports.push([path, target, specifier]);
      const to = placeOf(target, layers);
      if (from === undefined || to === undefined || from.unit === to.unit) continue;
      if (to.layer > from.layer) {
        problems.push(`src/${path} (layer ${from.layer}, ${from.unit}) imports "${specifier}" from a higher layer (${to.layer}, ${to.unit})`);
      } else if (to.layer === from.layer) {
        problems.push(`src/${path} (${from.unit}) imports "${specifier}" from ${to.unit}, a unit of the same layer: they must stay independent`);
      }
    }
  }

  // Rule 2: for each folder, the dependency graph between its direct children.
  const byFolder = new Map(); // folder ('' for src/) -> Map(child -> Set(child))
  const folderChildren = new Set(); // 'folder/child' entries that are folders
  for (const [from, to] of imports) {
    const a = from.split('/');
    const b = to.split('/');
    let depth = 0;
    while (depth < a.length - 1 && depth < b.length - 1 && a[depth] === b[depth]) depth++;
    const folder = a.slice(0, depth).join('/');
    const childA = a[depth];
    const childB = b[depth];
    if (childA === childB) continue;
    if (depth < a.length - 1) folderChildren.add(`${folder}/${childA}`);
    if (depth < b.length - 1) folderChildren.add(`${folder}/${childB}`);
    if (!byFolder.has(folder)) byFolder.set(folder, new Map());
    const edges = byFolder.get(folder);
    if (!edges.has(childA)) edges.set(childA, new Set());
    edges.get(childA).add(childB);
  }
  for (const [folder, edges] of [...byFolder].sort(([x], [y]) => x.localeCompare(y))) {
    for (const cycle of cyclesOf(edges)) {
      const named = cycle.map((child) => (folderChildren.has(`${folder}/${child}`) ? `${child}/` : child));
      if (!named.some((name) => name.endsWith('/'))) continue;
      const where = folder === '' ? 'src/' : `src/${folder}/`;
      const witnesses = imports
        .filter(([from, to]) => {
          const inFolder = (p) => (folder === '' ? p : p.slice(folder.length + 1));
          if (folder !== '' && (!from.startsWith(`${folder}/`) || !to.startsWith(`${folder}/`))) return false;
          const x = inFolder(from).split('/')[0];
          const y = inFolder(to).split('/')[0];
          return x !== y && cycle.includes(x) && cycle.includes(y);
        })
        .map(([from, , specifier]) => `src/${from} -> ${specifier}`);
      problems.push(`a cycle between ${named.join(', ')} in ${where}: ${witnesses.join('; ')}`);
    }
  }
  return problems;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const srcRoot = fileURLToPath(new URL('../src', import.meta.url));
  const problems = checkLayers(srcRoot);
  if (problems.length > 0) {
    console.error(`check-layers: ${problems.length} violation${problems.length === 1 ? '' : 's'} of the layering of src/:`);
    for (const problem of problems) console.error(`  - ${problem}`);
    process.exit(1);
  }
  console.log(`check-layers: src/ keeps its ${LAYERS.length} layers, with no cycle between folders`);
}
