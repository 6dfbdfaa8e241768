/**
 * The built package, as the browser tests load it: the import graph of a
 * compiled entry, and a check that dist/ exists and is not older than the
 * sources it was compiled from (`npm test` builds first; running a browser
 * test file alone needs `npm run build`).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DIST_DIR = resolve(REPO_ROOT, 'dist');

// Static imports and re-exports at the start of a line (`import x from`,
// `export * from`, `import 'x'`, as tsc emits them) and dynamic `import('x')`
// with a literal specifier.
const SPECIFIER = /^[ \t]*(?:import|export)\b\s*(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/gm;

export function importSpecifiers(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(SPECIFIER)) {
    const specifier = match[1] ?? match[2];
    if (specifier !== undefined) found.push(specifier);
  }
  return found;
}

export interface ImportGraph {
  /** Every file reached from the entry, absolute paths. */
  readonly files: readonly string[];
  /** Specifiers that are not relative paths, with the file that imports them. */
  readonly nonRelative: ReadonlyArray<{ file: string; specifier: string }>;
}

/** Follows the relative imports of a compiled entry file. */
export function importGraph(entry: string): ImportGraph {
  const files: string[] = [];
  const nonRelative: Array<{ file: string; specifier: string }> = [];
  const seen = new Set<string>();
  const queue = [resolve(entry)];
  while (queue.length > 0) {
    const file = queue.shift() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    files.push(file);
    for (const specifier of importSpecifiers(readFileSync(file, 'utf8'))) {
      if (specifier.startsWith('./') || specifier.startsWith('../')) queue.push(resolve(dirname(file), specifier));
      else nonRelative.push({ file: relative(REPO_ROOT, file), specifier });
    }
  }
  return { files, nonRelative };
}

/**
 * Throws a clear error when a compiled entry or any file it imports is
 * missing, or older than its TypeScript source.
 */
export function assertFreshBuild(entries: readonly string[]): void {
  for (const entry of entries) {
    const entryFile = resolve(DIST_DIR, entry);
    if (!existsSync(entryFile)) {
      throw new Error(`dist/${entry} is missing: run \`npm run build\` first (\`npm test\` builds before testing)`);
    }
    for (const file of importGraph(entryFile).files) {
      if (!existsSync(file)) throw new Error(`${relative(REPO_ROOT, file)} is missing: run \`npm run build\``);
      const source = resolve(REPO_ROOT, 'src', relative(DIST_DIR, file)).replace(/\.js$/, '.ts');
      if (existsSync(source) && statSync(source).mtimeMs > statSync(file).mtimeMs) {
        throw new Error(`${relative(REPO_ROOT, file)} is older than ${relative(REPO_ROOT, source)}: run \`npm run build\``);
      }
    }
  }
}
