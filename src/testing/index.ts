// nexus-store/testing: the Backend conformance suite, for anyone writing a
// Backend (bentocache publishes its driver suite the same way). Every backend
// of this package runs it from here.
//
// Unlike the core, this entry imports Node built-ins (node:test, node:assert):
// it is a subpath of its own, never reached from `nexus-store`.
export { describeBackendConformance, firstMatching, hostileValue, HOSTILE_IDS, idOfConformanceItem, megabyteValue } from './backend-conformance.js';
export type { BackendUnderTest, ConformanceItem, ConformanceOptions } from './backend-conformance.js';
