/**
 * `nexus-store monitor`: every Node memory signal this machine or container
 * gives, each against its budget with its own level, and which one drives the
 * overall level (the most pressing, as `createNodeMemoryMonitor` decides).
 *
 * On a terminal the view is redrawn in place every --interval; otherwise (or
 * with --json) each sample is appended, as a table or one JSON object per
 * line for scripts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CliError, numberOption, parseOptions } from './args.js';
import { formatBytes, formatPercent, formatTable } from './format.js';
import { checkProcess, fileSystemOf, processExists, runtimeOf } from './target-process.js';
import { NodeMemorySignals, type NodeMemorySignalsReading, type NodeSignalLevelReading } from '../node/index.js';

export interface MonitorOptions {
  intervalMs: number;
  json: boolean;
  /** Stop after this many samples; undefined runs until interrupted. */
  count: number | undefined;
  /** Watch this process instead of the monitor's own; undefined watches the monitor. */
  pid: number | undefined;
}

export const MONITOR_USAGE = `Usage: nexus-store monitor [options]

A live view of every memory signal this machine or container gives (V8 heap,
resident memory against the cgroup or machine limit, available system memory,
Linux pressure-stall information), each with its budget, usage and level, and
which one drives the overall level.

The heap and container rows describe the process they are read in: without
--pid, this monitor's own process (its heap is tiny and says nothing about
your service). --pid <pid> reads another process's cgroup and resident set
from /proc/<pid> instead; its V8 heap cannot be read from outside it, so run
the library's monitor inside your service for that (createNodeMemoryMonitor
from nexus-store/node, its signals.read()), or this command inside the
service's container.

Options:
  --interval <ms>   time between samples (default 1000, at least 50)
  --json            print one JSON object per sample, one per line
  --count <n>       stop after n samples (default: run until Ctrl+C)
  --pid <pid>       watch that process's container and resident memory
                    (Linux; no heap row)
  -h, --help        show this help
`;

export function parseMonitorOptions(args: readonly string[]): MonitorOptions | 'help' {
  const values = parseOptions('monitor', args, {
    interval: { type: 'string' },
    json: { type: 'boolean' },
    count: { type: 'string' },
    pid: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) return 'help';
  return {
    intervalMs: numberOption('monitor', 'interval', values.interval, 1000, { min: 50, max: 3_600_000, what: 'a number of milliseconds' }),
    json: values.json === true,
    count: values.count === undefined ? undefined : numberOption('monitor', 'count', values.count, 1, { min: 1, integer: true, what: 'a whole number' }),
    pid: values.pid === undefined ? undefined : numberOption('monitor', 'pid', values.pid, 0, { min: 1, max: 2 ** 22, integer: true, what: 'a process id' }),
  };
}

/** One signal in a JSON sample. */
export interface MonitorSignalSample {
  /** heap, container, system or psi. */
  readonly name: string;
  /** What produced the value: heap, cgroup, resident, system or psi. */
  readonly source: string;
  /** False where this machine does not offer the signal (no PSI, say); the numbers are then 0 and the level normal. */
  readonly available: boolean;
  /** The unit of `used` and `budget`: whole bytes, or for psi the share of the last 10 s stalled, in parts per million. */
  readonly unit: 'bytes' | 'ppm';
  readonly used: number;
  readonly budget: number;
  /** used / budget. */
  readonly fraction: number;
  readonly level: string;
  /** Where the value and the budget come from (files, limits, flags). */
  readonly detail: string;
}

/** What `--json` prints per sample. */
export interface MonitorSample {
  readonly at: number;
  /** The process whose heap and resident memory the sample describes (the monitor's own without --pid). */
  readonly pid: number;
  /** The overall level: the most pressing signal's. */
  readonly level: string;
  /** The signal that drives the overall level. */
  readonly source: string;
  readonly signals: readonly MonitorSignalSample[];
  /**
   * Configuration warnings, the same lines the table prints under its
   * header: today V8's heap limit above the container's memory limit, with
   * the --max-old-space-size that fits. Empty when there is none (and with
   * --pid, whose heap cannot be read).
   */
  readonly warnings: readonly string[];
}

export function toMonitorSample(reading: NodeMemorySignalsReading, pid: number = process.pid, warnings: readonly string[] = []): MonitorSample {
  return {
    at: reading.at,
    pid,
    level: reading.mostPressing.level,
    source: reading.mostPressing.signal,
    signals: reading.signals.map((s) => ({
      name: s.signal,
      source: s.source,
      available: s.available,
      unit: s.signal === 'psi' ? 'ppm' : 'bytes',
      // Whole bytes (a working set less inactive pages can come out fractional); ppm as measured.
      used: s.signal === 'psi' ? s.usedBytes : Math.round(s.usedBytes),
      budget: s.signal === 'psi' ? s.budgetBytes : Math.round(s.budgetBytes),
      fraction: s.fraction,
      level: s.level,
      detail: s.detail,
    })),
    warnings,
  };
}

function formatValue(s: NodeSignalLevelReading, value: number): string {
  if (!s.available) return '-';
  // PSI counts stall time in parts per million, not bytes.
  return s.signal === 'psi' ? `${(value / 10_000).toFixed(2)}%` : formatBytes(value);
}

/** Whose memory the heap and container rows show. */
function subjectLine(pid: number | undefined): string {
  return pid === undefined
    ? `heap and container rows: this monitor's own process (pid ${process.pid}); --pid <pid> watches another`
    : `process ${pid}: container and resident memory from /proc/${pid}; its V8 heap is only readable inside it (see --help)`;
}

function formatReading(reading: NodeMemorySignalsReading, pid: number | undefined, warnings: readonly string[]): string {
  const driver = reading.mostPressing.signal;
  const rows = reading.signals.map((s) => [
    s.signal === driver ? `${s.signal} *` : s.signal,
    formatValue(s, s.usedBytes),
    formatValue(s, s.budgetBytes),
    s.available ? formatPercent(s.fraction) : '-',
    s.available ? s.level : 'n/a',
    s.available ? `${s.source}: ${s.detail}` : `not available: ${s.detail}`,
  ]);
  const table = formatTable(['signal', 'value', 'budget', 'usage', 'level', 'measured'], rows, ['left', 'right', 'right', 'right', 'left', 'left']);
  const warningLines = warnings.map((w) => `warning: ${w}\n`).join('');
  return `${new Date(reading.at).toISOString()}  overall level ${reading.mostPressing.level} (driven by ${driver})\n${subjectLine(pid)}\n${warningLines}${table}\n* drives the overall level\n`;
}

export async function runMonitor(options: MonitorOptions, write: (text: string) => void): Promise<number> {
  const live = !options.json && process.stdout.isTTY === true;
  // One reader for the whole session, so each signal keeps its hysteresis between samples.
  const { pid } = options;
  if (pid !== undefined) checkProcess(pid);
  const signals = new NodeMemorySignals(
    pid === undefined ? { slowRefreshMs: 0 } : { slowRefreshMs: 0, signals: ['container', 'system', 'psi'], fs: fileSystemOf(pid), runtime: runtimeOf(pid) },
  );
  const stopping = new AbortController();
  const stop = () => stopping.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    for (let n = 0; !stopping.signal.aborted && (options.count === undefined || n < options.count); n++) {
      if (n > 0) await sleep(options.intervalMs, undefined, { signal: stopping.signal }).catch(() => undefined);
      if (stopping.signal.aborted) break;
      if (pid !== undefined && !processExists(pid)) throw new CliError(`monitor: process ${pid} has exited`);
      const reading = signals.read();
      // The same check as the library monitor's `warnings` (re-read each sample: a limit can be resized in place).
      const warning = signals.heapCapWarning;
      const warnings = warning === undefined ? [] : [warning.message];
      if (options.json) write(`${JSON.stringify(toMonitorSample(reading, pid, warnings))}\n`);
      else if (live) write(`\x1b[H\x1b[2J${formatReading(reading, pid, warnings)}(every ${options.intervalMs} ms; Ctrl+C to stop)\n`);
      else write(`${formatReading(reading, pid, warnings)}\n`);
    }
  } finally {
    signals.close();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return 0;
}
