/**
 * Each Node signal on its own, as a `memoryProvider` for PollingMemoryMonitor:
 * factories taking the signal's options, and ready-made providers over the
 * real process (created on first call, files kept open for the process's life).
 */
import type { MemorySample } from '../pressure/memory-state.js';
import { ContainerSignal, type ContainerSignalOptions } from './container-signal.js';
import { HeapSignal, type HeapSignalOptions } from './heap-signal.js';
import { PressureStallSignal } from './pressure-stall-signal.js';
import type { NodeSignal } from './signal.js';
import { SystemSignal, type RefreshingSignalOptions } from './system-signal.js';

/** A synchronous provider with the signal behind it (for `read()` details and `close()`). */
export type NodeSignalProvider<S extends NodeSignal> = (() => MemorySample) & { readonly signal: S };

function providerOf<S extends NodeSignal & { sample(): MemorySample }>(signal: S): NodeSignalProvider<S> {
  return Object.assign(() => signal.sample(), { signal });
}

/** V8 old generation against 0.8 of its maximum; source 'heap'. */
export function createHeapMemoryProvider(options?: HeapSignalOptions): NodeSignalProvider<HeapSignal> {
  return providerOf(new HeapSignal(options));
}

/** Cgroup working set against its limit (source 'cgroup'), else resident set against the machine (source 'resident'). */
export function createContainerMemoryProvider(options?: ContainerSignalOptions): NodeSignalProvider<ContainerSignal> {
  return providerOf(new ContainerSignal(options));
}

/** MemTotal - MemAvailable against MemTotal (os.totalmem/freemem off Linux); source 'system'. */
export function createSystemMemoryProvider(options?: RefreshingSignalOptions): NodeSignalProvider<SystemSignal> {
  return providerOf(new SystemSignal(options));
}

/**
 * PSI `some avg10` in parts per million of the window (used + available =
 * 1 000 000); source 'psi'. Where PSI is absent it reports zero stall.
 */
export function createPressureStallMemoryProvider(options?: RefreshingSignalOptions): NodeSignalProvider<PressureStallSignal> {
  return providerOf(new PressureStallSignal(options));
}

let heap: HeapSignal | undefined;
let container: ContainerSignal | undefined;
let system: SystemSignal | undefined;
let psi: PressureStallSignal | undefined;

/** The heap signal of this process. */
export const heapMemoryProvider = (): MemorySample => (heap ??= new HeapSignal()).sample();
/** The container (or resident) signal of this process. */
export const containerMemoryProvider = (): MemorySample => (container ??= new ContainerSignal()).sample();
/** The machine signal. */
export const systemMemoryProvider = (): MemorySample => (system ??= new SystemSignal()).sample();
/** The pressure-stall signal (zero stall where PSI is absent). */
export const pressureStallMemoryProvider = (): MemorySample => (psi ??= new PressureStallSignal()).sample();
