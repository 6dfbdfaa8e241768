/**
 * SQL identifiers for the PostgreSQL backend. Values always travel as query
 * parameters; identifiers cannot, so they are checked against a strict
 * pattern (letters, digits, underscores; at most 63 bytes, PostgreSQL's
 * limit) and then double-quoted, which also keeps their case.
 */

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Throws a `RangeError` naming `field` unless `value` is a plain identifier. */
export function assertIdentifier(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
    throw new RangeError(
      `${field} must be an identifier of 1 to 63 letters, digits or underscores, not starting with a digit, got ${JSON.stringify(value) ?? String(value)}`,
    );
  }
}

export function quoteIdentifier(identifier: string): string {
  return `"${identifier}"`;
}

/** A table name, optionally schema-qualified (`schema.table`), validated part by part. */
export interface TableName {
  readonly schema: string | undefined;
  readonly name: string;
  /** `"schema"."table"` or `"table"`. */
  readonly sql: string;
}

export function parseTableName(table: unknown): TableName {
  if (typeof table !== 'string') {
    throw new TypeError(`table must be a string such as "items" or "app.items", got ${typeof table}`);
  }
  const parts = table.split('.');
  if (parts.length > 2) {
    throw new RangeError(`table must be "table" or "schema.table", got ${JSON.stringify(table)}`);
  }
  const [first, second] = parts as [string, string | undefined];
  if (second === undefined) {
    assertIdentifier(first, 'table');
    return { schema: undefined, name: first, sql: quoteIdentifier(first) };
  }
  assertIdentifier(first, 'table (schema part)');
  assertIdentifier(second, 'table (table part)');
  return { schema: first, name: second, sql: `${quoteIdentifier(first)}.${quoteIdentifier(second)}` };
}

/** 32-bit FNV-1a, as 8 hex digits: a short deterministic suffix for names that would be too long. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/**
 * The default NOTIFY channel of a table: `<schema>_<table>_changes`. When that
 * is not a plain identifier of at most 63 bytes (a long name, or a schema
 * name with other characters), a cut of it with those characters replaced,
 * plus a hash of the whole, so every process derives the same name from the
 * same schema and table. The schema is always part of it: `t` and
 * `public.t` name one table, so they must give one channel (the backend
 * resolves an unqualified table's schema before it listens).
 */
export function defaultChannel(table: { readonly schema: string; readonly name: string }): string {
  const full = `${table.schema}_${table.name}_changes`;
  if (IDENTIFIER.test(full)) return full;
  const hash = fnv1a(full);
  const safe = full.replace(/[^A-Za-z0-9_]/g, '_');
  const head = /^[A-Za-z_]/.test(safe) ? safe : `_${safe}`;
  return `${head.slice(0, 63 - hash.length - 1)}_${hash}`;
}
