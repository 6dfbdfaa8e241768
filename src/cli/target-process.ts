/**
 * `monitor --pid <pid>`: the library's Node signals, pointed at another
 * process. The signals read `/proc/self/...` (which cgroup, its mounts, the
 * resident pages); here `/proc/self/` becomes `/proc/<pid>/`, and the
 * resident set comes from `/proc/<pid>/status`. The machine-wide files
 * (/proc/meminfo, /proc/pressure) are the same for every process.
 *
 * The V8 heap is not readable from outside a process, so there is no heap
 * signal for another process.
 */
import { existsSync, readFileSync } from 'node:fs';
import { CliError } from './args.js';
import { nodeFileSystem, nodeRuntime, type NodeRuntime, type SyncFileSystem } from '../node/index.js';

const SELF = '/proc/self/';

export function processExists(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

/** The file system the signals read through, with `/proc/self/` meaning `/proc/<pid>/`. */
export function fileSystemOf(pid: number): SyncFileSystem {
  return {
    openSync: (path, flags) => nodeFileSystem.openSync(path.startsWith(SELF) ? `/proc/${pid}/${path.slice(SELF.length)}` : path, flags),
    readSync: (fd, buffer, offset, length, position) => nodeFileSystem.readSync(fd, buffer, offset, length, position),
    closeSync: (fd) => nodeFileSystem.closeSync(fd),
  };
}

/** This machine's runtime, except that the resident set is `pid`'s (VmRSS in /proc/<pid>/status). */
export function runtimeOf(pid: number): NodeRuntime {
  return {
    ...nodeRuntime,
    residentSetBytes: () => {
      const status = readFileSync(`/proc/${pid}/status`, 'latin1');
      const kib = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
      return kib === undefined ? Number.NaN : Number(kib) * 1024;
    },
  };
}

/** Refuses a pid this machine has no readable /proc entry for, in one sentence. */
export function checkProcess(pid: number): void {
  if (!processExists(pid)) throw new CliError(`monitor: no process with pid ${pid} (/proc/${pid} does not exist)`);
  try {
    readFileSync(`/proc/${pid}/cgroup`, 'latin1');
    readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch (error) {
    throw new CliError(`monitor: cannot read /proc/${pid} (${(error as NodeJS.ErrnoException).code ?? String(error)}); run the monitor as the process's user`);
  }
}
