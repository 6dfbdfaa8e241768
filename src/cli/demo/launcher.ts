/**
 * The demo's launcher: re-runs this CLI as a child process under a capped
 * heap (`--max-old-space-size`), relays its output, and reports how it ended.
 *
 * A process that runs out of heap cannot report its own death: V8 prints a
 * "FATAL ERROR ... JavaScript heap out of memory" line and a native stack to
 * stderr and aborts. So the parent keeps the child's stderr, recognises that
 * message together with the exit status (SIGABRT or exit code 134), and prints
 * a short explanation instead of the raw stack.
 *
 * With --memory-limit-mb the child runs in a real memory cgroup of that size
 * (a container's limit), made below the launcher's own. A process the
 * kernel's OOM killer ends gets no last word either (SIGKILL), so the
 * launcher reads the cgroup's oom_kill counter to say who killed it and at
 * which limit, instead of only "killed by SIGKILL".
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { CliError } from '../args.js';
import {
  containerAlternatives,
  describeCgroupOutcome,
  MemoryCgroupSandbox,
  probeMemoryCgroups,
  type CgroupProbe,
  type CgroupRunOutcome,
} from '../container/memory-cgroup.js';
import type { DemoOptions } from './options.js';
import type { DemoListener } from './timeline.js';

/** Set in the child's environment: "you are the workload process". */
export const DEMO_CHILD_ENV = 'NEXUS_STORE_DEMO_CHILD';

const HEAP_ERROR = /JavaScript heap out of memory|Reached heap limit|ineffective mark-compacts near heap limit/;
const STDERR_KEEP_BYTES = 64 * 1024;

export interface ChildOutcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly elapsedS: number;
  readonly lastProgress: string | undefined;
  /** How the cgroup saw the end, when the child ran in one (--memory-limit-mb). */
  readonly cgroup?: CgroupRunOutcome;
}

const MIB = 1024 * 1024;

/**
 * The memory cgroup for --memory-limit-mb, made before anything else starts;
 * where none can be made, a CliError that says what is missing and how to
 * get a limit another way.
 */
export function createDemoSandbox(options: Pick<DemoOptions, 'memoryLimitMb'>, probe: () => CgroupProbe = probeMemoryCgroups): MemoryCgroupSandbox | undefined {
  const limitMb = options.memoryLimitMb;
  if (limitMb === undefined) return undefined;
  const result = probe();
  if (!result.available) {
    throw new CliError(`demo: --memory-limit-mb ${limitMb} needs a memory cgroup, and this process cannot create one: ${result.reason}. To see the demo under a limit, ${containerAlternatives(limitMb)}`);
  }
  return MemoryCgroupSandbox.create(limitMb * MIB, result);
}

/** True when the child died because V8 ran out of heap. */
export function diedOfHeapExhaustion(outcome: Pick<ChildOutcome, 'code' | 'signal' | 'stderr'>): boolean {
  const abnormal = outcome.signal !== null || (outcome.code !== null && outcome.code !== 0);
  return abnormal && HEAP_ERROR.test(outcome.stderr);
}

const LISTENER_EVENTS = ['start', 'sample', 'cleanup', 'end'] as const;
type ListenerEvent = (typeof LISTENER_EVENTS)[number];
interface RelayedEvent {
  readonly demoEvent: ListenerEvent;
  readonly data: unknown;
}

/** In the workload process: a listener that sends every event to the launcher over the IPC channel. */
export function relayToLauncher(): DemoListener {
  const send = (demoEvent: ListenerEvent) => (data: unknown) => {
    if (process.connected) process.send?.({ demoEvent, data } satisfies RelayedEvent);
  };
  return { start: send('start'), sample: send('sample'), cleanup: send('cleanup'), end: send('end') };
}

function isRelayedEvent(message: unknown): message is RelayedEvent {
  return typeof message === 'object' && message !== null && LISTENER_EVENTS.includes((message as RelayedEvent).demoEvent);
}

/**
 * Runs the workload process and reports how it ended; `listener` (the
 * dashboard's) gets the events the workload relays, so it keeps them after
 * the workload is gone.
 */
export async function launchDemo(
  args: readonly string[],
  options: DemoOptions,
  write: (text: string) => void,
  listener?: DemoListener,
  sandbox?: MemoryCgroupSandbox,
): Promise<number> {
  const script = process.argv[1];
  if (script === undefined) throw new Error('cannot re-launch the demo: process.argv[1] (the CLI script) is missing');
  const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--max-old-space-size'));
  const startedAt = performance.now();
  const childArgs = [...execArgv, `--max-old-space-size=${options.heapMb}`, script, 'demo', ...args];
  const spawnOptions: SpawnOptions = {
    env: { ...process.env, [DEMO_CHILD_ENV]: '1' },
    // The IPC channel carries the dashboard's events and tells the child when the parent is gone (see watchParent).
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  };
  const child: ChildProcess = sandbox === undefined ? spawn(process.execPath, childArgs, spawnOptions) : sandbox.spawn(process.execPath, childArgs, spawnOptions);
  if (listener !== undefined) {
    child.on('message', (message: unknown) => {
      if (!isRelayedEvent(message)) return;
      // The events' shapes are the workload's own (this same CLI): passed through as they came.
      (listener[message.demoEvent] as ((data: unknown) => void) | undefined)?.(message.data);
    });
  }
  const { stdout, stderr: stderrStream } = child;
  if (stdout === null || stderrStream === null) throw new Error('the workload process has no output pipes');
  let stderr = '';
  let lastProgress: string | undefined;
  let partialLine = '';
  stdout.setEncoding('utf8');
  stdout.on('data', (chunk: string) => {
    write(chunk);
    const lines = (partialLine + chunk).split('\n');
    partialLine = lines.pop() ?? '';
    for (const line of lines) if (/^\s*\d+\.\ds\s+requests/.test(line)) lastProgress = line.trim();
  });
  stderrStream.setEncoding('utf8');
  stderrStream.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP_BYTES);
  });
  const forward = (signal: NodeJS.Signals) => () => {
    child.kill(signal);
  };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c: number | null, s: NodeJS.Signals | null) => resolve({ code: c, signal: s }));
  });
  process.off('SIGINT', onInt);
  process.off('SIGTERM', onTerm);
  const elapsedS = (performance.now() - startedAt) / 1000;
  let cgroup: CgroupRunOutcome | undefined;
  if (sandbox !== undefined) {
    const events = sandbox.events();
    cgroup = { code, signal, oomKilled: events.oomKills > 0, peakBytes: events.peakBytes, limitBytes: sandbox.limitBytes, version: sandbox.version };
  }
  const outcome: ChildOutcome = { code, signal, stderr, elapsedS, lastProgress, ...(cgroup === undefined ? {} : { cgroup }) };
  return reportOutcome(outcome, options, write);
}

/**
 * In the child: exit when the launcher disappears (killed with SIGKILL, say),
 * so an orphaned workload, or a dashboard kept up after the run, does not
 * linger. The channel is unref'd: it never keeps the child alive by itself.
 */
export function watchParent(): void {
  if (process.channel === undefined) return;
  process.channel.unref();
  process.once('disconnect', () => process.exit(129));
}

/** How to run the demo again with `flag`: `npm start -- <flag>` inside this repository (what npm start runs), else the bin. */
export function rerunCommand(flag: string, env: NodeJS.ProcessEnv = process.env): string {
  return env['npm_lifecycle_event'] === 'start' && env['npm_package_name'] === 'nexus-store' ? `npm start -- ${flag}` : `nexus-store demo ${flag}`;
}

function describeExit(outcome: ChildOutcome): string {
  if (outcome.cgroup !== undefined && outcome.signal !== null) return describeCgroupOutcome(outcome.cgroup);
  return outcome.signal !== null ? `killed by ${outcome.signal}` : `exit code ${outcome.code}`;
}

function reportOutcome(outcome: ChildOutcome, options: DemoOptions, write: (text: string) => void): number {
  if (outcome.cgroup?.oomKilled === true) {
    const peak = outcome.cgroup.peakBytes === undefined ? '' : ` (peak usage ${Math.round(outcome.cgroup.peakBytes / MIB)} MiB)`;
    const lines = [
      '',
      `The workload process died after ${outcome.elapsedS.toFixed(1)} s: ${describeCgroupOutcome(outcome.cgroup)}${peak}.`,
      `  The heap cap was ${options.heapMb} MB; the container's limit counts the heap, Buffers and everything else the process holds.`,
    ];
    return reportDeath(lines, outcome, options, write, [
      '  This is the baseline: plain Map caches keep every thumbnail (off the heap, in Buffers), video and',
      '  segment they serve, so the working set outgrows the container. Run the demo without --baseline to',
      '  serve the same requests with nexus-store under the same limit.',
    ]);
  }
  if (diedOfHeapExhaustion(outcome)) {
    const fatal = /FATAL ERROR:[^\n]*/.exec(outcome.stderr)?.[0] ?? 'JavaScript heap out of memory';
    const lines = [
      '',
      `The workload process died after ${outcome.elapsedS.toFixed(1)} s: JavaScript heap out of memory.`,
      `  V8 gave up at the ${options.heapMb} MB heap cap (${describeExit(outcome)}): "${fatal.trim()}"`,
    ];
    return reportDeath(lines, outcome, options, write, [
      '  This is the baseline: plain Map caches keep every thumbnail, video and segment they serve,',
      '  so the working set outgrows the heap. Run the demo without --baseline to serve the same',
      '  requests with nexus-store and stay alive.',
    ]);
  }
  if (outcome.code === 0) {
    if (outcome.stderr.trim() !== '') write(`\n(workload process stderr)\n${outcome.stderr}`);
    if (options.baseline && options.memoryLimitMb !== undefined) {
      write('\nThe baseline survived: its working set fit this container. Lower --memory-limit-mb or raise --duration to see it die.\n');
    } else if (options.baseline) write('\nThe baseline survived: its working set fit this heap. Lower --heap-mb or raise --duration to see it die.\n');
    else if (!options.dashboard) {
      const limit = options.memoryLimitMb;
      write(
        limit === undefined
          ? '\nNext: add --baseline to serve the same requests from plain Map caches and watch the heap run out\n' +
              `(${rerunCommand('--baseline')}), or --dashboard for live charts in the browser.\n`
          : '\nNext: add --baseline to serve the same requests from plain Map caches and watch the kernel kill them at the limit\n' +
              `(${rerunCommand(`--memory-limit-mb ${limit} --baseline`)}), or --dashboard for live charts in the browser.\n`,
      );
    }
    return 0;
  }
  write(`\nThe workload process failed (${describeExit(outcome)}).\n${outcome.stderr}`);
  return outcome.code ?? 1;
}

/**
 * Ends the report of a workload that died: its last progress line, then why a
 * baseline run dies (status 0: that is its point), or that a nexus-store run
 * must not (status 1).
 */
function reportDeath(lines: string[], outcome: ChildOutcome, options: DemoOptions, write: (text: string) => void, baseline: readonly string[]): number {
  if (outcome.lastProgress !== undefined) lines.push(`  last progress: ${outcome.lastProgress}`);
  if (options.baseline) lines.push(...baseline, '');
  else lines.push('  The nexus-store run should not die: please report this with the command line above.', '');
  write(lines.join('\n'));
  return options.baseline ? 0 : 1;
}
