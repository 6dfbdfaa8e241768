/**
 * The machine signal: how much of the machine's memory is spoken for.
 *
 * used = MemTotal - MemAvailable, budget = MemTotal, from /proc/meminfo.
 * MemAvailable is the kernel's own estimate of what can be handed out
 * without swapping (free pages plus the reclaimable part of the page cache
 * and slabs); MemFree is not used: the page cache keeps it near zero on any
 * busy machine, which would read as permanent pressure. Off Linux, or on a
 * kernel without MemAvailable (before 3.14), os.freemem() / os.totalmem().
 *
 * Cost: one pread of /proc/meminfo, 10-15 us here (the kernel computes every
 * line on each read); the combined monitor therefore re-reads it at most
 * every `minRefreshMs`.
 */
import { requireDurationMs } from '../checks.js';
import type { MemorySample } from '../pressure/memory-state.js';
import { resolveFileOptions, type FileSignalOptions, type ResolvedFileOptions } from './container-signal.js';
import { KeptOpenFile } from './kept-open-file.js';
import { asciiKey, parseMeminfoBytes } from './parse.js';
import { underRoot } from './paths.js';
import { formatMiB, reading, sampleOf, type NodeSignal, type NodeSignalReading } from './signal.js';

export interface RefreshingSignalOptions extends FileSignalOptions {
  /** Return the last value when asked again within this many ms. Default 0 (read every time). */
  minRefreshMs?: number;
}

const MEM_TOTAL = asciiKey('MemTotal');
const MEM_AVAILABLE = asciiKey('MemAvailable');

export class SystemSignal implements NodeSignal {
  readonly name = 'system' as const;
  readonly #options: ResolvedFileOptions;
  readonly #minRefreshMs: number;
  readonly #meminfo: KeptOpenFile;
  #last: NodeSignalReading | undefined;
  #lastAt = 0;
  #openedAt: number;

  constructor(options: RefreshingSignalOptions = {}) {
    this.#options = resolveFileOptions(options);
    this.#minRefreshMs = options.minRefreshMs === undefined ? 0 : requireDurationMs('minRefreshMs', options.minRefreshMs, { allowZero: true });
    this.#meminfo = new KeptOpenFile(this.#options.fs, underRoot(this.#options.root, '/proc/meminfo'));
    this.#openedAt = this.#options.clock.now();
  }

  read(): NodeSignalReading {
    const now = this.#options.clock.now();
    if (this.#last !== undefined && now - this.#lastAt < this.#minRefreshMs && now >= this.#lastAt) return this.#last;
    if (now - this.#openedAt >= this.#options.redetectIntervalMs) {
      // A file that was missing may have appeared (or a descriptor gone stale); look again now and then.
      this.#meminfo.reopen();
      this.#openedAt = now;
    }
    this.#lastAt = now;
    this.#last = this.#readNow();
    return this.#last;
  }

  sample(): MemorySample {
    return sampleOf(this.read());
  }

  close(): void {
    this.#meminfo.close();
    this.#meminfo.reopen();
    this.#last = undefined;
  }

  #readNow(): NodeSignalReading {
    const n = this.#meminfo.read();
    if (n > 0) {
      const total = parseMeminfoBytes(this.#meminfo.buffer, n, MEM_TOTAL);
      const available = parseMeminfoBytes(this.#meminfo.buffer, n, MEM_AVAILABLE);
      if (total > 0 && available >= 0 && available <= total) {
        return reading('system', 'system', total - available, total, `/proc/meminfo MemTotal - MemAvailable of ${formatMiB(total)}`);
      }
    }
    const { runtime } = this.#options;
    const total = runtime.totalMemoryBytes();
    const free = Math.min(runtime.freeMemoryBytes(), total);
    return reading('system', 'system', total - free, total, `os.totalmem() - os.freemem() of ${formatMiB(total)}`);
  }
}
