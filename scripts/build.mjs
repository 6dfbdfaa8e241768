#!/usr/bin/env node
// Builds dist/ from src/ with tsc (tsconfig.build.json), from an empty dist/
// so a renamed or deleted module never lingers in the package.
//
//   node scripts/build.mjs               build
//   node scripts/build.mjs --if-changed  build only when src/, the tsconfigs or
//                                        package.json changed since the last build
//                                        (npm start, npm test and prepare use this)
//   node scripts/build.mjs --pack        before npm pack: build if changed, then check
//                                        that every file package.json points to exists
//
// The last successful build leaves a stamp in node_modules/.cache, outside the
// package, so a clean clone always builds once.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
const stamp = join(root, 'node_modules', '.cache', 'nexus-store', 'build-stamp');
const args = new Set(process.argv.slice(2));
const pack = args.has('--pack');
const ifChanged = pack || args.has('--if-changed');

function fail(message) {
  console.error(`nexus-store build: ${message}`);
  process.exit(1);
}

function newestMs(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMs(join(path, name)));
  return newest;
}

/** Every file package.json's exports, main, types and bin point to. */
function packageTargets() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const targets = new Set([pkg.main, pkg.types, ...Object.values(pkg.bin ?? {})]);
  for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
    if (subpath === './package.json') continue;
    for (const file of typeof target === 'string' ? [target] : Object.values(target)) targets.add(file);
  }
  return [...targets].filter((t) => typeof t === 'string');
}

function upToDate() {
  if (!existsSync(stamp)) return false;
  if (packageTargets().some((file) => !existsSync(join(root, file)))) return false;
  const inputs = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'].map((p) => newestMs(join(root, p)));
  return statSync(stamp).mtimeMs >= Math.max(...inputs);
}

function tscPath() {
  try {
    return createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    return undefined;
  }
}

if (!(ifChanged && upToDate())) {
  const tsc = tscPath();
  if (tsc === undefined) {
    fail(
      existsSync(dist)
        ? 'TypeScript is not installed, so dist/ cannot be rebuilt: run `npm ci` first (it installs TypeScript and builds).'
        : 'dist/ is missing and TypeScript is not installed to build it: run `npm ci` (it installs the dev dependencies and builds through the prepare script), then pack.',
    );
  }
  rmSync(stamp, { force: true });
  rmSync(dist, { recursive: true, force: true });
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) fail(`tsc -p tsconfig.build.json failed (${result.signal ?? `exit code ${result.status}`})`);
  mkdirSync(dirname(stamp), { recursive: true });
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}

if (pack) {
  const missing = packageTargets().filter((file) => !existsSync(join(root, file)));
  if (missing.length > 0) fail(`package.json points to files the build did not produce: ${missing.join(', ')}; the package would be empty or broken.`);
}
