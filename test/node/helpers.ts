import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HeapSpaceUsage, NodeRuntime } from '../../src/node/index.js';

export const MIB = 1024 * 1024;
export const GIB = 1024 * MIB;

/** The fixture trees: fake / roots with /proc and /sys/fs/cgroup. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/node/${name}`, import.meta.url));
}

/** A writable copy of a fixture tree; `write` changes a file in it; `dispose` removes it. */
export function fixtureCopy(name: string): { root: string; write(path: string, text: string): void; remove(path: string): void; dispose(): void } {
  const root = mkdtempSync(join(tmpdir(), `nexus-node-${name}-`));
  cpSync(fixture(name), root, { recursive: true });
  return {
    root,
    write: (path, text) => writeFileSync(join(root, path), text),
    remove: (path) => rmSync(join(root, path), { force: true }),
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}

export interface FakeRuntime extends NodeRuntime {
  oldGenerationUsedBytes: number;
  youngGenerationUsedBytes: number;
}

/** A V8 and OS stand-in: --max-old-space-size=96 on a 64-bit Node 20 unless told otherwise. */
export function fakeRuntime(overrides: Partial<NodeRuntime> = {}): FakeRuntime {
  const runtime: FakeRuntime = {
    oldGenerationUsedBytes: 10 * MIB,
    youngGenerationUsedBytes: 5 * MIB,
    heapSizeLimitBytes: () => 144 * MIB,
    heapSpaces(): HeapSpaceUsage[] {
      const old = runtime.oldGenerationUsedBytes;
      return [
        { space_name: 'read_only_space', space_used_size: 0 },
        { space_name: 'new_space', space_used_size: runtime.youngGenerationUsedBytes },
        { space_name: 'old_space', space_used_size: old * 0.8 },
        { space_name: 'code_space', space_used_size: old * 0.05 },
        { space_name: 'map_space', space_used_size: old * 0.05 },
        { space_name: 'large_object_space', space_used_size: old * 0.1 },
        { space_name: 'code_large_object_space', space_used_size: 0 },
        { space_name: 'new_large_object_space', space_used_size: runtime.youngGenerationUsedBytes },
      ];
    },
    residentSetBytes: () => 25_000 * 4096,
    totalMemoryBytes: () => 4 * GIB,
    freeMemoryBytes: () => 1 * GIB,
    v8Flags: () => ['--max-old-space-size=96'],
    workerMaxOldGenerationSizeMb: () => undefined,
    ...overrides,
  };
  return runtime;
}
