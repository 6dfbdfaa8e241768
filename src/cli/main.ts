#!/usr/bin/env node
/**
 * The nexus-store command line: `monitor` (a live view of this machine's
 * memory signals) and `demo` (a workload kept alive under a capped heap).
 *
 * Exit status: 0 on success, 1 when the command failed, 2 on bad usage
 * (unknown command or option, bad value), with a message naming it. A
 * reader that closes the pipe early (`| head -1`) ends the command quietly
 * with status 0, as it would end `cat`.
 */
import { readFileSync } from 'node:fs';
import { CliError, UsageError } from './args.js';
import { createDemoSandbox, DEMO_CHILD_ENV, launchDemo, relayToLauncher, watchParent } from './demo/launcher.js';
import { DEMO_USAGE, parseDemoOptions, type DemoOptions } from './demo/options.js';
import { runDemo } from './demo/run.js';
import { DASHBOARD_HOST, startDashboard } from './dashboard/server.js';
import { loadUplotAssets, UplotMissingError } from './dashboard/uplot-assets.js';
import { MONITOR_USAGE, parseMonitorOptions, runMonitor } from './monitor.js';

const USAGE = `Usage: nexus-store <command> [options]

Commands:
  monitor    live view of every memory signal this machine or container gives
  demo       a streaming service kept alive under a capped heap (what npm start runs)

Options:
  -h, --help     show this help
  -v, --version  print the version

Run 'nexus-store <command> --help' for a command's options.
`;

/** The package's version, from the package.json two levels above this file (dist/cli/ or src/cli/). */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** A closed pipe (EPIPE) ends the command quietly; any other stream error stays fatal. */
function endQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

function portInUse(port: number): CliError {
  return new CliError(`demo: port ${port} on ${DASHBOARD_HOST} is already in use; pick another with --port <n>, or leave --port out for any free port`);
}

const write = (text: string) => {
  process.stdout.write(text);
};

async function demo(args: readonly string[]): Promise<number> {
  const options = parseDemoOptions(args);
  if (options === 'help') {
    write(DEMO_USAGE);
    return 0;
  }
  // Check the optional dependency before starting anything long.
  const assets = options.dashboard ? loadUplotAssets() : undefined;
  if (process.env[DEMO_CHILD_ENV] === '1') return demoChild(options);
  // The container (--memory-limit-mb) too, before the dashboard: where none can be made, nothing starts.
  const sandbox = createDemoSandbox(options);
  try {
    return await launchInSandbox(args, options, assets, sandbox);
  } finally {
    sandbox?.remove();
  }
}

async function launchInSandbox(
  args: readonly string[],
  options: DemoOptions,
  assets: ReturnType<typeof loadUplotAssets> | undefined,
  sandbox: ReturnType<typeof createDemoSandbox>,
): Promise<number> {
  // The launcher serves the dashboard, fed by the workload process over IPC, so
  // the page outlives the workload (a baseline run dies of heap exhaustion).
  const dashboard =
    assets === undefined
      ? undefined
      : await startDashboard({ port: options.port, assets }).catch((error: unknown) => {
          throw (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? portInUse(options.port) : error;
        });
  if (dashboard !== undefined) write(`dashboard: ${dashboard.url}  (live charts; open it in a browser)\n`);
  // A Ctrl+C or SIGTERM during the run ends the run and the dashboard with it (the launcher
  // forwards it to the workload); only a run that ended by itself leaves the page up.
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const code = await launchDemo(args, options, write, dashboard?.listener, sandbox);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (dashboard !== undefined && interrupted) await dashboard.close();
  else if (dashboard !== undefined) {
    write(`\nThe workload process has ended; the dashboard stays up at ${dashboard.url} with the whole run. Press Ctrl+C to exit.\n`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        void dashboard.close().then(resolve);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  }
  return code;
}

async function demoChild(options: DemoOptions): Promise<number> {
  watchParent();
  await runDemo({
    durationS: options.durationS,
    heapMb: options.heapMb,
    seed: options.seed,
    baseline: options.baseline,
    ratePerS: options.ratePerS,
    // In a container, thumbnails are Buffers, off the heap, as a real image cache's bytes are.
    offHeapThumbnails: options.memoryLimitMb !== undefined,
    write,
    ...(options.dashboard ? { listener: relayToLauncher() } : {}),
  });
  return 0;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        write(USAGE);
        return command === undefined ? 2 : 0;
      case '-v':
      case '--version':
        write(`${version()}\n`);
        return 0;
      case 'monitor': {
        const options = parseMonitorOptions(rest);
        if (options === 'help') {
          write(MONITOR_USAGE);
          return 0;
        }
        return await runMonitor(options, write);
      }
      case 'demo':
        return await demo(rest);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}; the commands are monitor and demo`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      const help = error.command === undefined ? 'nexus-store --help' : `nexus-store ${error.command} --help`;
      process.stderr.write(`nexus-store: ${error.message}\nRun '${help}' for usage.\n`);
      return 2;
    }
    if (error instanceof UplotMissingError || error instanceof CliError) {
      process.stderr.write(`nexus-store: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`nexus-store: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

endQuietlyOnClosedPipe(process.stdout);
endQuietlyOnClosedPipe(process.stderr);
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`nexus-store: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
