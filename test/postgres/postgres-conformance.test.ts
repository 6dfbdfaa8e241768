import { after } from 'node:test';
import pg from 'pg';
import { PostgresBackend } from '../../src/postgres/index.js';
import { describeBackendConformance, idOfConformanceItem } from '../../src/testing/index.js';
import type { ConformanceItem } from '../../src/testing/index.js';
import { PG_CONFIG, dropTable, probePostgres, uniqueTable } from './pg-helpers.js';

const probe = await probePostgres();
const pool = probe.skip ? undefined : new pg.Pool(PG_CONFIG);
after(() => pool?.end());

describeBackendConformance('PostgresBackend', {
  skip: probe.skip,
  async create() {
    if (pool === undefined) throw new Error('unreachable: no pool while PostgreSQL is available');
    const table = uniqueTable('conf');
    const options = { pool, table, idOf: idOfConformanceItem, reconnectInitialDelayMs: 20 };
    const backend = new PostgresBackend<ConformanceItem, string>(options);
    const peer = new PostgresBackend<ConformanceItem, string>(options);
    const dispose = async () => {
      await Promise.all([backend.close(), peer.close()]);
      await dropTable(pool, table);
    };
    try {
      await Promise.all([backend.ready(), peer.ready()]);
    } catch (error) {
      // Their listening connections are open: close them, or they keep the test process alive.
      await dispose();
      throw error;
    }
    return {
      backend,
      peer,
      dispose,
    };
  },
});
