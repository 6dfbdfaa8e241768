/** The `demo` command's options, parsed identically by the launcher and the workload process. */
import { fittingMaxOldSpaceSizeMb } from '../../node/heap-cap.js';
import { numberOption, parseOptions } from '../args.js';

const MIB = 1024 * 1024;

export interface DemoOptions {
  durationS: number;
  heapMb: number;
  seed: number;
  baseline: boolean;
  dashboard: boolean;
  port: number;
  ratePerS: number;
  /** Run the workload in a memory cgroup of this many MiB; undefined runs it as a plain child process. */
  memoryLimitMb: number | undefined;
}

export const DEMO_DEFAULTS = Object.freeze({ durationS: 25, heapMb: 128, seed: 1, port: 0, ratePerS: 4000 });

export const DEMO_USAGE = `Usage: nexus-store demo [options]

Serves a Zipf workload (thumbnails, video metadata, playback segments) under a
capped V8 heap: an image cache (cleanup priority low), a NexusStore of video
metadata (medium, a few pinned titles) and playback buffers (high), driven by
the Node memory monitor. Prints progress every second and a report at the end.

Options:
  --duration <s>     how long to serve requests (default ${DEMO_DEFAULTS.durationS})
  --heap-mb <MB>     the heap cap, passed as --max-old-space-size (default ${DEMO_DEFAULTS.heapMb};
                     with --memory-limit-mb, the cap that fits the limit:
                     3/4 of the limit less 48 MiB, 189 for 300)
  --memory-limit-mb <MiB>
                     run the workload in a real memory cgroup of this size
                     (a container's limit; Linux, root or a delegated
                     cgroup), where the kernel's OOM killer ends it if it
                     outgrows the limit; thumbnails are then held off the
                     heap, in Buffers, as a real image cache's bytes are
  --seed <n>         seed of the request stream and payloads (default ${DEMO_DEFAULTS.seed})
  --rate <n>         requests per second to aim at (default ${DEMO_DEFAULTS.ratePerS})
  --baseline         serve from plain Map caches instead, and watch the heap run out
  --dashboard        serve live charts on http://127.0.0.1 (the port is printed);
                     needs the optional peer dependency uplot
  --port <n>         dashboard port (default ${DEMO_DEFAULTS.port}: any free port)
  -h, --help         show this help
`;

export function parseDemoOptions(args: readonly string[]): DemoOptions | 'help' {
  const values = parseOptions('demo', args, {
    duration: { type: 'string' },
    'heap-mb': { type: 'string' },
    'memory-limit-mb': { type: 'string' },
    seed: { type: 'string' },
    rate: { type: 'string' },
    baseline: { type: 'boolean' },
    dashboard: { type: 'boolean' },
    port: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) return 'help';
  const memoryLimitMb =
    values['memory-limit-mb'] === undefined
      ? undefined
      : numberOption('demo', 'memory-limit-mb', values['memory-limit-mb'], 0, { min: 128, max: 65536, integer: true, what: 'a whole number of MiB' });
  // In a container the heap cap defaults to what fits its limit (the same rule as the
  // monitor's heap-cap warning), so the container limit, not V8, is what the run meets.
  const heapDefault = memoryLimitMb === undefined ? DEMO_DEFAULTS.heapMb : fittingMaxOldSpaceSizeMb(memoryLimitMb * MIB);
  return {
    memoryLimitMb,
    durationS: numberOption('demo', 'duration', values.duration, DEMO_DEFAULTS.durationS, { min: 1, max: 3600, what: 'a number of seconds' }),
    heapMb: numberOption('demo', 'heap-mb', values['heap-mb'], heapDefault, { min: 48, max: 65536, integer: true, what: 'a whole number of megabytes' }),
    seed: numberOption('demo', 'seed', values.seed, DEMO_DEFAULTS.seed, { min: 0, max: 0xffffffff, integer: true, what: 'an integer' }),
    ratePerS: numberOption('demo', 'rate', values.rate, DEMO_DEFAULTS.ratePerS, { min: 1, max: 1_000_000, what: 'a number of requests per second' }),
    baseline: values.baseline === true,
    dashboard: values.dashboard === true,
    port: numberOption('demo', 'port', values.port, DEMO_DEFAULTS.port, { min: 0, max: 65535, integer: true, what: 'a port number' }),
  };
}
