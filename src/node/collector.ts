/**
 * The collector handle: a function that runs V8's full garbage collection
 * now, for the monitor to free what caches have just dropped.
 *
 * Node exposes `gc()` only under `--expose-gc`. When the process was not
 * started with it, the flag is set for the time it takes to create one
 * new context, whose global then has `gc`, and is unset again, so no
 * context created later gets one: the handle is private to the monitor.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export type FullCollection = () => void;

let obtained: FullCollection | null | undefined;

/** V8's full collection as a function, or undefined where the engine refuses to give one. */
export function fullCollection(): FullCollection | undefined {
  if (obtained !== undefined) return obtained ?? undefined;
  const existing = (globalThis as { gc?: unknown }).gc;
  if (typeof existing === 'function') {
    obtained = () => void (existing as () => unknown)();
    return obtained;
  }
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    obtained = typeof gc === 'function' ? () => void (gc as () => unknown)() : null;
  } catch {
    obtained = null;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  return obtained ?? undefined;
}
