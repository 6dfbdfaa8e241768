/**
 * The error a `NexusStore` call rejects with when its backend fails: it names
 * the store operation and the id(s), and carries the backend's error as
 * `cause`, so a log line says what was being done to which item.
 */

/** The store operations that reach the backend. */
export type StoreOperation = 'get' | 'getMany' | 'save' | 'delete' | 'pin' | 'refresh';

const MAX_IDS_IN_MESSAGE = 5;
const MAX_ID_CHARS = 80;

/** A short, unambiguous rendering of an id for a message: strings quoted, long ones cut. */
export function describeId(id: unknown): string {
  let text: string;
  if (typeof id === 'string') text = JSON.stringify(id);
  else if (typeof id === 'bigint') text = `${id}n`;
  else if (typeof id === 'symbol') text = id.toString();
  else if (typeof id === 'object' && id !== null) {
    try {
      text = JSON.stringify(id) ?? String(id);
    } catch {
      text = Object.prototype.toString.call(id);
    }
  } else text = String(id);
  return text.length > MAX_ID_CHARS ? `${text.slice(0, MAX_ID_CHARS - 1)}…` : text;
}

function describeIds(ids: readonly unknown[]): string {
  const shown = ids.slice(0, MAX_IDS_IN_MESSAGE).map(describeId).join(', ');
  return ids.length > MAX_IDS_IN_MESSAGE ? `${shown} and ${ids.length - MAX_IDS_IN_MESSAGE} more` : shown;
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message || cause.name;
  return String(cause);
}

export class NexusStoreError<ID = unknown> extends Error {
  override readonly name = 'NexusStoreError';
  /** The store call that failed. */
  readonly operation: StoreOperation;
  /** The id the call was about (the first one for `getMany`). */
  readonly id: ID | undefined;
  /** Every id the call was about. */
  readonly ids: readonly ID[];

  constructor(operation: StoreOperation, ids: readonly ID[], cause: unknown) {
    const target = operation === 'getMany' ? `[${describeIds(ids)}]` : describeIds(ids);
    super(`nexus-store: ${operation}(${target}) failed: ${describeCause(cause)}`, { cause });
    this.operation = operation;
    this.ids = Object.freeze([...ids]);
    this.id = ids[0];
  }
}
