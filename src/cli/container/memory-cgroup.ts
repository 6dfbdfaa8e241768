/**
 * A real memory cgroup for one child process: the container limit of a
 * Kubernetes pod or `docker run -m`, made on this machine.
 *
 * The cgroup is created below this process's own memory cgroup (never
 * anywhere else), so it needs only the right to write there: root on a
 * host or in a privileged container, or a delegated subtree. The child
 * joins it before it runs a line of its own: it starts as `/bin/sh`, writes
 * its pid into `cgroup.procs`, then `exec`s the real command, so every byte
 * it ever touches is charged to the limit.
 *
 * How the child died is read from the kernel, not guessed from the exit
 * signal: the `oom_kill` counter of `memory.events` (v2) or
 * `memory.oom_control` (v1) says whether the kernel's OOM killer acted in
 * this cgroup. A SIGKILL without it came from someone else.
 *
 * v2 needs the memory controller enabled for our cgroup's children
 * (`cgroup.subtree_control`); when it is not and cannot be, v1 is tried
 * (a hybrid host keeps the memory controller there), and where neither
 * works `probeMemoryCgroups()` says why, so callers can skip or explain.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { detectCgroups, type MemoryCgroup } from '../../node/cgroup.js';
import { nodeFileSystem } from '../../node/runtime.js';

export type CgroupProbe =
  | { readonly available: true; readonly version: 1 | 2; readonly parentDir: string }
  | { readonly available: false; readonly reason: string };

/** Where `systemd-run`/`docker` would do the same job, for messages that tell a user what to do instead. */
export function containerAlternatives(limitMiB: number): string {
  return (
    `run it in a container with a memory limit instead, for example ` +
    `\`systemd-run --user --scope -p MemoryMax=${limitMiB}M -- <command>\` or \`docker run -m ${limitMiB}m ...\``
  );
}

/** A kernel file's text, or undefined when it cannot be read. */
export function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code === undefined ? String(e.message ?? err) : `${e.code}: ${e.message}`;
}

/** Tries to make (and remove) a child memory cgroup; says which version works, or why none does. */
export function probeMemoryCgroups(): CgroupProbe {
  if (process.platform !== 'linux') return { available: false, reason: `memory cgroups exist only on Linux (this is ${process.platform})` };
  const memory: MemoryCgroup | undefined = detectCgroups(nodeFileSystem, '').memory;
  if (memory === undefined) return { available: false, reason: 'this process is in no memory cgroup that it can read (/proc/self/cgroup, /proc/self/mountinfo)' };
  if (memory.version === 2) {
    const controllers = readText(`${memory.dir}/cgroup.subtree_control`) ?? '';
    if (!controllers.split(/\s+/).includes('memory')) {
      try {
        writeFileSync(`${memory.dir}/cgroup.subtree_control`, '+memory');
      } catch (err) {
        return {
          available: false,
          reason: `cgroup v2: cannot enable the memory controller for children of ${memory.dir} (${errorText(err)}); a process may only do so in a cgroup delegated to it with no processes of its own`,
        };
      }
    }
  }
  const dir = `${memory.dir}/nexus-probe-${process.pid}`;
  try {
    mkdirSync(dir);
  } catch (err) {
    return { available: false, reason: `cannot create a memory cgroup below ${memory.dir} (${errorText(err)}); this needs root or a delegated cgroup` };
  }
  try {
    const limitFile = memory.version === 2 ? 'memory.max' : 'memory.limit_in_bytes';
    writeFileSync(`${dir}/${limitFile}`, String(64 * 1024 * 1024));
  } catch (err) {
    return { available: false, reason: `cannot set a memory limit in ${dir} (${errorText(err)})` };
  } finally {
    try {
      rmdirSync(dir);
    } catch {
      // Removed below or by the next probe: an empty cgroup holds no memory.
    }
  }
  return { available: true, version: memory.version, parentDir: memory.dir };
}

/** What the kernel says of a cgroup's memory. */
export interface CgroupMemoryEvents {
  /** Processes the kernel's OOM killer killed in this cgroup. */
  readonly oomKills: number;
  /** The highest usage seen (v1 max_usage_in_bytes, v2 memory.peak where the kernel has it), or undefined. */
  readonly peakBytes: number | undefined;
}

/** The number after `key ` on its line of a flat-keyed file (memory.stat, memory.events, memory.oom_control). */
export function keyedNumber(text: string | undefined, key: string): number | undefined {
  const line = text?.split('\n').find((l) => l.startsWith(`${key} `));
  if (line === undefined) return undefined;
  const value = Number(line.slice(key.length + 1));
  return Number.isFinite(value) ? value : undefined;
}

let sequence = 0;

/** One memory cgroup of a fixed limit, made for child processes; `remove()` when they are gone. */
export class MemoryCgroupSandbox {
  readonly dir: string;
  readonly version: 1 | 2;
  readonly limitBytes: number;

  private constructor(dir: string, version: 1 | 2, limitBytes: number) {
    this.dir = dir;
    this.version = version;
    this.limitBytes = limitBytes;
  }

  /** Creates the cgroup below this process's own; throws with the probe's reason where that is impossible. */
  static create(limitBytes: number, probe: CgroupProbe = probeMemoryCgroups()): MemoryCgroupSandbox {
    if (!Number.isSafeInteger(limitBytes) || limitBytes < 16 * 1024 * 1024) {
      throw new RangeError(`limitBytes must be a whole number of bytes of at least 16 MiB, got ${String(limitBytes)}`);
    }
    if (!probe.available) throw new Error(`no memory cgroup can be created here: ${probe.reason}`);
    const dir = `${probe.parentDir}/nexus-${process.pid}-${++sequence}`;
    mkdirSync(dir);
    const sandbox = new MemoryCgroupSandbox(dir, probe.version, limitBytes);
    try {
      if (probe.version === 2) {
        writeFileSync(`${dir}/memory.max`, String(limitBytes));
        // No swap: the limit is the memory the process may have, as in a pod without swap.
        if (existsSync(`${dir}/memory.swap.max`)) writeFileSync(`${dir}/memory.swap.max`, '0');
      } else {
        writeFileSync(`${dir}/memory.limit_in_bytes`, String(limitBytes));
        if (existsSync(`${dir}/memory.memsw.limit_in_bytes`)) writeFileSync(`${dir}/memory.memsw.limit_in_bytes`, String(limitBytes));
        if (existsSync(`${dir}/memory.swappiness`)) writeFileSync(`${dir}/memory.swappiness`, '0');
      }
    } catch (err) {
      sandbox.remove();
      throw err;
    }
    return sandbox;
  }

  /**
   * Spawns `command` inside the cgroup: a shell joins it, then becomes the
   * command (`exec`), so the process is charged from its first byte.
   */
  spawn(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    const script = 'echo $$ > "$0/cgroup.procs" && exec "$@"';
    return spawn('/bin/sh', ['-c', script, this.dir, command, ...args], options);
  }

  /** The kernel's record of OOM kills and peak usage in this cgroup. */
  events(): CgroupMemoryEvents {
    if (this.version === 2) {
      const events = readText(`${this.dir}/memory.events`);
      const peak = Number(readText(`${this.dir}/memory.peak`));
      return { oomKills: keyedNumber(events, 'oom_kill') ?? 0, peakBytes: Number.isFinite(peak) && peak > 0 ? peak : undefined };
    }
    const control = readText(`${this.dir}/memory.oom_control`);
    const peak = Number(readText(`${this.dir}/memory.max_usage_in_bytes`));
    return { oomKills: keyedNumber(control, 'oom_kill') ?? 0, peakBytes: Number.isFinite(peak) && peak > 0 ? peak : undefined };
  }

  /** Removes the cgroup; its processes must have exited. Safe to call twice. */
  remove(): void {
    if (!existsSync(this.dir)) return;
    for (let attempt = 0; ; attempt++) {
      try {
        rmdirSync(this.dir);
        return;
      } catch (err) {
        // The kernel may still be tearing down the last process (EBUSY) for a moment after its exit.
        if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || attempt >= 200) throw err;
        const until = Date.now() + 5;
        while (Date.now() < until) {
          // A few milliseconds, on the rare path where the kernel is not done.
        }
      }
    }
  }
}

/** How a process run in a cgroup ended. */
export interface CgroupRunOutcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when the kernel's OOM killer acted in the cgroup (its counter, not the signal). */
  readonly oomKilled: boolean;
  readonly peakBytes: number | undefined;
  readonly limitBytes: number;
  readonly version: 1 | 2;
}

/** Runs `command` in a fresh cgroup of `limitBytes`, waits for it, reads the cause of death, removes the cgroup. */
export async function runInMemoryCgroup(
  limitBytes: number,
  command: string,
  args: readonly string[],
  options: SpawnOptions & { onSpawn?: (child: ChildProcess) => void } = {},
): Promise<CgroupRunOutcome> {
  const sandbox = MemoryCgroupSandbox.create(limitBytes);
  try {
    const { onSpawn, ...spawnOptions } = options;
    const child = sandbox.spawn(command, args, spawnOptions);
    onSpawn?.(child);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (c, s) => resolve([c, s]));
    });
    const events = sandbox.events();
    return { code, signal, oomKilled: events.oomKills > 0, peakBytes: events.peakBytes, limitBytes, version: sandbox.version };
  } finally {
    sandbox.remove();
  }
}

/** "killed by the kernel's OOM killer at its 256 MiB limit", or how else it ended. */
export function describeCgroupOutcome(outcome: CgroupRunOutcome): string {
  const limit = `${Math.round(outcome.limitBytes / (1024 * 1024))} MiB`;
  if (outcome.oomKilled) return `killed by the kernel's OOM killer at the container's ${limit} memory limit (cgroup v${outcome.version} oom_kill)`;
  if (outcome.signal !== null) return `ended by ${outcome.signal} (not the OOM killer: the cgroup's oom_kill counter is 0)`;
  return `exited with code ${String(outcome.code)}`;
}
