/**
 * The pressure-stall signal (Linux PSI, 4.20+): the share of recent time in
 * which at least one task waited for memory (reclaim, refaults, swap-in).
 * It sees what byte counts cannot: a machine or container that is thrashing
 * with memory still nominally "available".
 *
 * Source: the cgroup's memory.pressure (cgroup v2) when present, else the
 * machine's /proc/pressure/memory. Absent (older kernels, non-Linux) or
 * unreadable (PSI compiled in but disabled: reads fail with EOPNOTSUPP)
 * means "not available", never an error.
 *
 * Mapping into used/available: the `some avg10` percentage p (0..100) is a
 * fraction of a 10 s window, reported as parts per million of that window:
 * usedBytes = round(p * 10 000), budgetBytes = 1 000 000. So a fraction of
 * 0.25 means "some task stalled on memory 25% of the last 10 s". The
 * "bytes" are not bytes; thresholds only see the fraction. `some` rather
 * than `full`: it is never below `full` and rises first.
 *
 * Cost: one pread (3-6 us). The kernel recomputes the averages every 2 s
 * (PSI_FREQ), so the combined monitor reads it at most that often.
 */
import { requireDurationMs } from '../checks.js';
import type { MemorySample } from '../pressure/memory-state.js';
import { detectCgroups } from './cgroup.js';
import { resolveFileOptions, type ResolvedFileOptions } from './container-signal.js';
import { KeptOpenFile } from './kept-open-file.js';
import { asciiKey, parsePressureAvg10 } from './parse.js';
import { joinPath, underRoot } from './paths.js';
import { reading, sampleOf, unavailableReading, type NodeSignal, type NodeSignalReading } from './signal.js';
import type { RefreshingSignalOptions } from './system-signal.js';

export const PSI_PARTS = 1_000_000;
const SOME = asciiKey('some');

export class PressureStallSignal implements NodeSignal {
  readonly name = 'psi' as const;
  readonly #options: ResolvedFileOptions;
  readonly #minRefreshMs: number;
  #file: KeptOpenFile | undefined;
  #detectedAt = 0;
  #last: NodeSignalReading | undefined;
  #lastAt = 0;

  constructor(options: RefreshingSignalOptions = {}) {
    this.#options = resolveFileOptions(options);
    this.#minRefreshMs = options.minRefreshMs === undefined ? 0 : requireDurationMs('minRefreshMs', options.minRefreshMs, { allowZero: true });
  }

  read(): NodeSignalReading {
    const now = this.#options.clock.now();
    if (this.#last !== undefined && now - this.#lastAt < this.#minRefreshMs && now >= this.#lastAt) return this.#last;
    if (this.#file === undefined || now - this.#detectedAt >= this.#options.redetectIntervalMs || now < this.#detectedAt) {
      this.#detect(now);
    }
    this.#lastAt = now;
    this.#last = this.#readNow(this.#file as KeptOpenFile);
    return this.#last;
  }

  /** The reading as a sample; where PSI is unavailable, zero stall (so a monitor over it stays normal). */
  sample(): MemorySample {
    const r = this.read();
    return r.available ? sampleOf(r) : { usedBytes: 0, availableBytes: PSI_PARTS, source: 'psi' };
  }

  close(): void {
    this.#file?.close();
    this.#file = undefined;
    this.#last = undefined;
  }

  #detect(now: number): void {
    this.#file?.close();
    this.#detectedAt = now;
    const { fs, root } = this.#options;
    const unifiedDir = detectCgroups(fs, root).unifiedDir;
    const cgroupFile = unifiedDir === undefined ? undefined : new KeptOpenFile(fs, joinPath(unifiedDir, 'memory.pressure'));
    if (cgroupFile !== undefined && cgroupFile.read() > 0) {
      this.#file = cgroupFile;
      return;
    }
    cgroupFile?.close();
    this.#file = new KeptOpenFile(fs, underRoot(root, '/proc/pressure/memory'));
  }

  #readNow(file: KeptOpenFile): NodeSignalReading {
    const n = file.read();
    if (n <= 0) return unavailableReading('psi', 'psi', `${file.path} not readable`);
    const percent = parsePressureAvg10(file.buffer, n, SOME);
    if (Number.isNaN(percent)) return unavailableReading('psi', 'psi', `${file.path} not understood`);
    return reading('psi', 'psi', Math.round(percent * (PSI_PARTS / 100)), PSI_PARTS, `${file.path} some avg10 = ${percent}%`);
  }
}
