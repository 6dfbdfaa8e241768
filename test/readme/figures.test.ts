// The README's performance figures are the ones bench/RESULTS.md records:
// its cache table against the `nexus lru` rows of the recorded cache run,
// the machine it names against the run's own line, and every ratio or
// decimal in the Performance section against the text of RESULTS.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const results = readFileSync(join(root, 'bench/RESULTS.md'), 'utf8');

/** The text between `start` and the next heading of the same level (or the end). */
function section(text: string, start: string): string {
  const at = text.indexOf(start);
  assert.ok(at >= 0, `${start} is in the text`);
  const level = /^#+/.exec(start)?.[0] ?? '##';
  const next = text.indexOf(`\n${level} `, at + start.length);
  return text.slice(at, next < 0 ? undefined : next);
}

/** The cells of the table row whose first cell is `name`, under `heading`. */
function row(text: string, heading: string, name: string): string[] {
  const line = section(text, heading)
    .split('\n')
    .find((l) => l.startsWith(`| ${name} |`));
  assert.ok(line !== undefined, `a "${name}" row under ${heading}`);
  return line.split('|').slice(1, -1).map((c) => c.trim());
}

const cacheRun = section(results, '## Memory-bounded cache');
const readmePerformance = section(readme, '## Performance');

test("the README's cache table gives the recorded cache run's nexus lru ratios", () => {
  // RESULTS columns: cache, ms, M ops/s, vs lru-cache (max), vs lru-cache (maxSize), vs mnemonist LRUCache, vs LRUMap.
  const cases = [
    { readme: 'get, warm cache', heading: '### get:', lruCache: 3 },
    { readme: 'set with eviction, byte budget', heading: '### set with eviction', lruCache: 4 },
    { readme: 'Zipf 0.99 read-through', heading: '### Zipf (s = 0.99)', lruCache: 4 },
  ];
  for (const c of cases) {
    const recorded = row(cacheRun, c.heading, 'nexus lru');
    const shown = row(readmePerformance, '## Performance', c.readme);
    assert.equal(/^[\d.]+x/.exec(shown[1] ?? '')?.[0], recorded[c.lruCache], `${c.readme} vs lru-cache`);
    assert.equal(shown[2], recorded[5], `${c.readme} vs mnemonist LRUCache`);
  }
});

test("the README names the machine and date of the cache run it quotes", () => {
  const run = /Measured (\S+) on 2 x (AMD EPYC|Intel\(R\) Xeon\(R\) Processor)/.exec(cacheRun);
  assert.ok(run !== null, 'the cache run names its date and machine');
  const machine = run[2] === 'AMD EPYC' ? 'AMD EPYC' : 'Intel Xeon';
  assert.match(readmePerformance, new RegExp(`\`npm run bench -- cache\` \\(${run[1]}, 2 x ${machine}`));
});

test('every ratio and decimal figure in the README\'s Performance section appears in bench/RESULTS.md', () => {
  const figures = [...readmePerformance.matchAll(/(?<![\w.])(\d[\d,]*\.\d+)x?(?![\w.])/g)].map((m) => m[1] as string);
  assert.ok(figures.length >= 10, `found ${figures.length} figures`);
  const missing = figures.filter((f) => !new RegExp(`(?<![\\d.])${f.replace('.', '\\.')}(?![\\d])`).test(results) && f !== '20.20.2');
  assert.deepEqual(missing, []);
});
