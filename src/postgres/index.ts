// nexus-store/postgres: a Backend over a PostgreSQL table, coherent across processes through LISTEN/NOTIFY.
// The only entry point that imports `pg` (an optional peer dependency).
export { PostgresBackend } from './postgres-backend.js';
export type { PostgresBackendOptions, PostgresId, ListenerState } from './postgres-backend.js';
export type { JsonCodec } from './json-codec.js';
