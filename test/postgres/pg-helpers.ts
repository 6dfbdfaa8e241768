/**
 * Shared plumbing of the PostgreSQL tests: the probe (skip, or fail under
 * NEXUS_REQUIRE_SERVICES=1), a pool on the test database, and table names
 * unique to this run so parallel runs never collide (each test drops its own).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { probeService } from '../helpers/services.js';
import type { ServiceProbe } from '../helpers/services.js';

export const PG_CONFIG: pg.PoolConfig = {
  host: '127.0.0.1',
  port: 5432,
  user: 'postgres',
  database: 'test',
  connectionTimeoutMillis: 3000,
  max: 8,
};

export function probePostgres(): Promise<ServiceProbe> {
  return probeService('PostgreSQL on 127.0.0.1:5432 (database test, user postgres)', async () => {
    const client = new pg.Client(PG_CONFIG);
    try {
      await client.connect();
      await client.query('SELECT 1');
    } finally {
      await client.end().catch(() => undefined);
    }
  });
}

const RUN = `${process.pid.toString(36)}_${randomBytes(3).toString('hex')}`;
let counter = 0;

/** A table name no other test, file or concurrent run uses. */
export function uniqueTable(prefix = 'nx'): string {
  return `${prefix}_${RUN}_${(counter++).toString(36)}`;
}

export async function dropTable(pool: pg.Pool, table: string): Promise<void> {
  const quoted = table
    .split('.')
    .map((part) => `"${part}"`)
    .join('.');
  await pool.query(`DROP TABLE IF EXISTS ${quoted}`);
}

/** Resolves once `predicate` holds, polling every `everyMs`; rejects after `timeoutMs`. */
export async function eventually(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 10): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await predicate()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
