/**
 * Finding this process's memory cgroup and its effective limit.
 *
 * Detection reads /proc/self/cgroup (which cgroup we are in, per hierarchy)
 * and /proc/self/mountinfo (where each hierarchy is mounted, and which part
 * of it the mount shows), so it works on bare hosts, in containers with a
 * cgroup namespace (path "/"), in containers without one (a bind mount of
 * the container's own cgroup), and on hybrid hosts (cgroup v1 controllers
 * plus an empty v2 hierarchy). The memory controller decides the version:
 * on a hybrid host it is v1 even though a v2 hierarchy is mounted.
 *
 * The effective limit is the smallest one on the path from our cgroup up to
 * the hierarchy's visible root: a parent's limit binds the children even
 * when theirs say "max". For v2 that includes memory.high, past which the
 * kernel throttles and reclaims hard (not a kill, but pressure all the same).
 *
 * All of this runs at construction and on re-detection (every few seconds at
 * most), never per sample.
 */
import { readTextFile, type SyncFileSystem } from './kept-open-file.js';
import { parseLimitBytes } from './parse.js';
import { joinPath, parentDir, underRoot } from './paths.js';

export interface MemoryCgroup {
  readonly version: 1 | 2;
  /** This process's memory cgroup directory (root-prefixed). */
  readonly dir: string;
  /** The hierarchy's mount point (root-prefixed); ancestors are walked up to here. */
  readonly mountPoint: string;
  /** The file holding the cgroup's usage: memory.current (v2) or memory.usage_in_bytes (v1). */
  readonly usageFile: string;
  readonly statFile: string;
  /** The memory.stat key of inactive file pages, which the working set leaves out. */
  readonly inactiveFileKey: string;
}

interface Mount {
  readonly mountRoot: string;
  readonly mountPoint: string;
  readonly fsType: string;
  readonly superOptions: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
function unescapeMountPath(value: string): string {
  return value.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export function parseMountInfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const separator = line.indexOf(' - ');
    if (separator < 0) continue;
    const before = line.slice(0, separator).split(' ');
    const after = line.slice(separator + 3).split(' ');
    const mountRoot = before[3];
    const mountPoint = before[4];
    const fsType = after[0];
    if (mountRoot === undefined || mountPoint === undefined || fsType === undefined) continue;
    mounts.push({ mountRoot: unescapeMountPath(mountRoot), mountPoint: unescapeMountPath(mountPoint), fsType, superOptions: after[2] ?? '' });
  }
  return mounts;
}

interface CgroupMembership {
  /** Path in the v1 memory hierarchy, if any. */
  readonly v1Memory?: string;
  /** Path in the v2 unified hierarchy, if any. */
  readonly v2?: string;
}

export function parseProcCgroup(text: string): CgroupMembership {
  let v1Memory: string | undefined;
  let v2: string | undefined;
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = first < 0 ? -1 : line.indexOf(':', first + 1);
    if (second < 0) continue;
    const id = line.slice(0, first);
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (!path.startsWith('/')) continue;
    if (id === '0' && controllers === '') v2 = path;
    else if (controllers.split(',').includes('memory')) v1Memory = path;
  }
  const out: { v1Memory?: string; v2?: string } = {};
  if (v1Memory !== undefined) out.v1Memory = v1Memory;
  if (v2 !== undefined) out.v2 = v2;
  return out;
}

function isOpenable(fs: SyncFileSystem, path: string): boolean {
  try {
    fs.closeSync(fs.openSync(path, 'r'));
    return true;
  } catch {
    return false;
  }
}

/**
 * Directories a cgroup path may be found at under a mount: the path relative
 * to the mount's root (the usual case), then the mount point itself (a
 * container that sees only its own cgroup, whatever /proc/self/cgroup says).
 */
function candidateDirs(root: string, mount: Mount, cgroupPath: string): string[] {
  const mountPoint = underRoot(root, mount.mountPoint);
  const relative =
    mount.mountRoot === '/'
      ? cgroupPath
      : cgroupPath === mount.mountRoot || cgroupPath.startsWith(`${mount.mountRoot}/`)
        ? cgroupPath.slice(mount.mountRoot.length)
        : undefined;
  const out: string[] = [];
  if (relative !== undefined && relative !== '' && relative !== '/' && !relative.includes('/..')) {
    out.push(mountPoint + (relative.startsWith('/') ? relative : `/${relative}`));
  }
  out.push(mountPoint);
  return out;
}

export interface CgroupDetection {
  /** The memory cgroup, when this process is in one whose usage is readable. */
  readonly memory: MemoryCgroup | undefined;
  /** The v2 cgroup directory (for memory.pressure), when a v2 hierarchy is mounted and we are in it. */
  readonly unifiedDir: string | undefined;
}

export function detectCgroups(fs: SyncFileSystem, root: string): CgroupDetection {
  const membershipText = readTextFile(fs, underRoot(root, '/proc/self/cgroup'));
  const mountText = readTextFile(fs, underRoot(root, '/proc/self/mountinfo'));
  if (membershipText === undefined || mountText === undefined) return { memory: undefined, unifiedDir: undefined };
  const membership = parseProcCgroup(membershipText);
  const mounts = parseMountInfo(mountText);
  let unifiedDir: string | undefined;
  let memory: MemoryCgroup | undefined;
  const v2Mount = mounts.find((m) => m.fsType === 'cgroup2');
  if (membership.v2 !== undefined && v2Mount !== undefined) {
    const dirs = candidateDirs(root, v2Mount, membership.v2);
    unifiedDir = dirs.find((d) => isOpenable(fs, joinPath(d, 'memory.pressure'))) ?? dirs[0];
    const dir = dirs.find((d) => isOpenable(fs, joinPath(d, 'memory.current')));
    if (dir !== undefined) {
      memory = {
        version: 2,
        dir,
        mountPoint: underRoot(root, v2Mount.mountPoint),
        usageFile: joinPath(dir, 'memory.current'),
        statFile: joinPath(dir, 'memory.stat'),
        inactiveFileKey: 'inactive_file',
      };
    }
  }
  const v1Mount = mounts.find((m) => m.fsType === 'cgroup' && m.superOptions.split(',').includes('memory'));
  if (membership.v1Memory !== undefined && v1Mount !== undefined) {
    const dir = candidateDirs(root, v1Mount, membership.v1Memory).find((d) => isOpenable(fs, joinPath(d, 'memory.usage_in_bytes')));
    if (dir !== undefined) {
      // The memory controller lives in v1 on a hybrid host: its numbers are the real ones.
      memory = {
        version: 1,
        dir,
        mountPoint: underRoot(root, v1Mount.mountPoint),
        usageFile: joinPath(dir, 'memory.usage_in_bytes'),
        statFile: joinPath(dir, 'memory.stat'),
        inactiveFileKey: 'total_inactive_file',
      };
    }
  }
  return { memory, unifiedDir };
}

export interface CgroupLimit {
  /** The smallest limit on the path up the hierarchy, or null when none is set. */
  readonly limitBytes: number | null;
  /** The file that set it, for display. */
  readonly limitFile: string | undefined;
}

/** The effective memory limit of `cgroup`: the smallest on the path to the hierarchy's visible root. */
export function readCgroupLimit(fs: SyncFileSystem, cgroup: MemoryCgroup): CgroupLimit {
  const names = cgroup.version === 2 ? ['memory.max', 'memory.high'] : ['memory.limit_in_bytes'];
  let limitBytes: number | null = null;
  let limitFile: string | undefined;
  const consider = (file: string, value: number | null | undefined) => {
    if (typeof value === 'number' && value > 0 && (limitBytes === null || value < limitBytes)) {
      limitBytes = value;
      limitFile = file;
    }
  };
  for (let dir = cgroup.dir; ; dir = parentDir(dir)) {
    for (const name of names) {
      const file = joinPath(dir, name);
      consider(file, parseLimitBytes(readTextFile(fs, file)));
    }
    if (dir === cgroup.mountPoint || dir.length <= cgroup.mountPoint.length || dir === '/') break;
  }
  if (cgroup.version === 1) {
    // With use_hierarchy the kernel sums up the ancestors' limits for us, including the ones we cannot see.
    const stat = readTextFile(fs, cgroup.statFile);
    const line = stat?.split('\n').find((l) => l.startsWith('hierarchical_memory_limit '));
    if (line !== undefined) consider(`${cgroup.statFile} hierarchical_memory_limit`, parseLimitBytes(line.slice(line.indexOf(' ') + 1)));
  }
  return { limitBytes, limitFile };
}
