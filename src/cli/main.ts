#!/usr/bin/env node
// nexus-store command line: `monitor` and `demo`.
console.log('nexus-store: the CLI lands with the telemetry and CLI work.');
