/**
 * Everything the Node signals ask of the running process, behind one
 * interface, so tests can stand in for V8 and the OS (and so the signals can
 * be tried on a fixture tree as if it were another machine).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as v8 from 'node:v8';
import { resourceLimits } from 'node:worker_threads';
import { fullCollection } from './collector.js';
import type { SyncFileSystem } from './kept-open-file.js';

/** The fields of `v8.getHeapSpaceStatistics()` entries the heap signal reads. */
export interface HeapSpaceUsage {
  readonly space_name: string;
  readonly space_used_size: number;
}

export interface NodeRuntime {
  /** `v8.getHeapStatistics().heap_size_limit`. */
  heapSizeLimitBytes(): number;
  /** `v8.getHeapSpaceStatistics()`. */
  heapSpaces(): readonly HeapSpaceUsage[];
  /** `process.memoryUsage.rss()`. */
  residentSetBytes(): number;
  /** `os.totalmem()`. */
  totalMemoryBytes(): number;
  /** `os.freemem()`. */
  freeMemoryBytes(): number;
  /** The V8 flags this isolate was started with: `process.execArgv` and NODE_OPTIONS, in order. */
  v8Flags(): readonly string[];
  /** `worker_threads.resourceLimits.maxOldGenerationSizeMb` inside a Worker started with one, else undefined. */
  workerMaxOldGenerationSizeMb(): number | undefined;
  /**
   * From `v8.getHeapStatistics()`: V8's committed heap and the external
   * memory it accounts for (Buffer and ArrayBuffer backing stores, live or
   * not yet collected). Optional: without it the container signal cannot
   * tell the allocator's idle pages from memory in use.
   */
  v8Memory?(): V8Memory;
  /**
   * Runs V8's full garbage collection now (see collector.ts); false where
   * the engine gives no way to. Optional: without it the monitor never
   * forces a collection.
   */
  collectGarbage?(): boolean;
}

export interface V8Memory {
  readonly heapCommittedBytes: number;
  readonly externalBytes: number;
}

/** Splits NODE_OPTIONS the way Node does: whitespace-separated, with double quotes grouping. */
export function splitNodeOptions(value: string | undefined): string[] {
  if (value === undefined) return [];
  const out: string[] = [];
  let current = '';
  let inQuotes = false;
  let has = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === '\\' && inQuotes && i + 1 < value.length) {
      current += value[++i];
      has = true;
    } else if (c === '"') {
      inQuotes = !inQuotes;
      has = true;
    } else if (!inQuotes && (c === ' ' || c === '\t' || c === '\n')) {
      if (has) out.push(current);
      current = '';
      has = false;
    } else {
      current += c;
      has = true;
    }
  }
  if (has) out.push(current);
  return out;
}

/** The real process. */
export const nodeRuntime: NodeRuntime = Object.freeze({
  heapSizeLimitBytes: () => v8.getHeapStatistics().heap_size_limit,
  heapSpaces: () => v8.getHeapSpaceStatistics(),
  residentSetBytes: () => process.memoryUsage.rss(),
  totalMemoryBytes: () => os.totalmem(),
  freeMemoryBytes: () => os.freemem(),
  // NODE_OPTIONS is applied before the command line, so command-line flags win when both set one.
  v8Flags: () => [...splitNodeOptions(process.env['NODE_OPTIONS']), ...process.execArgv],
  workerMaxOldGenerationSizeMb: () => {
    const mb = resourceLimits.maxOldGenerationSizeMb;
    return typeof mb === 'number' && mb > 0 ? mb : undefined;
  },
  // Not process.memoryUsage(): it also reads the resident set, which costs about 25 us.
  v8Memory: () => {
    const h = v8.getHeapStatistics();
    return { heapCommittedBytes: h.total_heap_size, externalBytes: h.external_memory };
  },
  collectGarbage: () => {
    const collect = fullCollection();
    if (collect === undefined) return false;
    collect();
    return true;
  },
});

/** The real filesystem, synchronous. */
export const nodeFileSystem: SyncFileSystem = Object.freeze({
  openSync: (path: string, flags: 'r') => fs.openSync(path, flags),
  readSync: (fd: number, buffer: Uint8Array, offset: number, length: number, position: number) =>
    fs.readSync(fd, buffer, offset, length, position),
  closeSync: (fd: number) => fs.closeSync(fd),
});
