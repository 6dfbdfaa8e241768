/**
 * Shared plumbing for the benchmarks: each benchmark owns one section of
 * bench/RESULTS.md, between `<!-- begin:NAME -->` and `<!-- end:NAME -->`,
 * and rewrites only that section, so benchmarks can run one at a time.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

const RESULTS_PATH = new URL('../RESULTS.md', import.meta.url);

const HEADER = `# Benchmark results

Each section is written by one benchmark in \`bench/\` and names the command
that produced it. Figures are ratios measured in one run wherever possible:
this machine is shared and noisy, so absolute times move between runs.
`;

/** One line that says where and how a section was measured. */
export function machineLine(command: string): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const gib = (totalmem() / 2 ** 30).toFixed(0);
  return `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} x ${cpu}, ${gib} GiB, Node ${process.version}. Command: \`${command}\`.`;
}

/** Replaces (or appends) the section `name` of bench/RESULTS.md with `markdown`. */
export function writeSection(name: string, markdown: string): void {
  const begin = `<!-- begin:${name} -->`;
  const end = `<!-- end:${name} -->`;
  const current = existsSync(RESULTS_PATH) ? readFileSync(RESULTS_PATH, 'utf8') : HEADER;
  const block = `${begin}\n${markdown.trim()}\n${end}`;
  const start = current.indexOf(begin);
  const stop = current.indexOf(end);
  const next =
    start >= 0 && stop > start
      ? current.slice(0, start) + block + current.slice(stop + end.length)
      : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(RESULTS_PATH, next);
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Mean of a non-empty list. */
export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** A markdown table from a header row and rows of cells. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
