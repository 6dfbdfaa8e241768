import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/cli/args.js';
import { DEMO_DEFAULTS, parseDemoOptions } from '../../src/cli/demo/options.js';
import { diedOfHeapExhaustion } from '../../src/cli/demo/launcher.js';
import { parseMonitorOptions } from '../../src/cli/monitor.js';

function usageError(pattern: RegExp) {
  return (error: unknown) => error instanceof UsageError && pattern.test(error.message);
}

describe('demo options', () => {
  test('defaults apply when nothing is given', () => {
    assert.deepEqual(parseDemoOptions([]), {
      durationS: DEMO_DEFAULTS.durationS,
      heapMb: DEMO_DEFAULTS.heapMb,
      seed: DEMO_DEFAULTS.seed,
      ratePerS: DEMO_DEFAULTS.ratePerS,
      baseline: false,
      dashboard: false,
      port: 0,
      memoryLimitMb: undefined,
    });
  });

  test('--memory-limit-mb sets the container limit; the heap cap then defaults to what fits it, unless --heap-mb is given', () => {
    const derived = parseDemoOptions(['--memory-limit-mb', '300']);
    assert.ok(derived !== 'help');
    assert.equal(derived.memoryLimitMb, 300);
    assert.equal(derived.heapMb, 189, '3/4 of (300 - 48) MiB');
    const explicit = parseDemoOptions(['--memory-limit-mb=300', '--heap-mb', '512']);
    assert.ok(explicit !== 'help');
    assert.equal(explicit.heapMb, 512);
    assert.throws(() => parseDemoOptions(['--memory-limit-mb', '64']), usageError(/--memory-limit-mb must be a whole number of MiB between 128 and 65536, got "64"/));
    assert.throws(() => parseDemoOptions(['--memory-limit-mb', '300M']), usageError(/--memory-limit-mb .* got "300M"/));
    assert.throws(() => parseDemoOptions(['--memory-limit-mb']), usageError(/--memory-limit-mb/));
  });

  test('values are parsed, in both --name value and --name=value forms', () => {
    const options = parseDemoOptions(['--duration', '8', '--heap-mb=96', '--seed', '7', '--baseline', '--dashboard', '--port', '8080']);
    assert.ok(options !== 'help');
    assert.equal(options.durationS, 8);
    assert.equal(options.heapMb, 96);
    assert.equal(options.seed, 7);
    assert.equal(options.baseline, true);
    assert.equal(options.dashboard, true);
    assert.equal(options.port, 8080);
  });

  test('bad values are usage errors naming the option and the value', () => {
    assert.throws(() => parseDemoOptions(['--duration', '0']), usageError(/--duration must be a number of seconds between 1 and 3600, got "0"/));
    assert.throws(() => parseDemoOptions(['--heap-mb', '96.5']), usageError(/--heap-mb must be a whole number of megabytes .* got "96.5"/));
    assert.throws(() => parseDemoOptions(['--heap-mb', '16']), usageError(/--heap-mb .* got "16"/));
    assert.throws(() => parseDemoOptions(['--port', '70000']), usageError(/--port .* got "70000"/));
    assert.throws(() => parseDemoOptions(['--seed', '']), usageError(/--seed .* got ""/));
    assert.throws(() => parseDemoOptions(['--turbo']), usageError(/demo: .*--turbo/));
    assert.throws(() => parseDemoOptions(['extra']), usageError(/demo: .*extra/));
  });

  test('--help wins', () => {
    assert.equal(parseDemoOptions(['--help']), 'help');
    assert.equal(parseDemoOptions(['-h']), 'help');
  });
});

describe('monitor options', () => {
  test('defaults and values', () => {
    assert.deepEqual(parseMonitorOptions([]), { intervalMs: 1000, json: false, count: undefined, pid: undefined });
    assert.deepEqual(parseMonitorOptions(['--interval', '250', '--json', '--count', '3', '--pid', '42']), { intervalMs: 250, json: true, count: 3, pid: 42 });
  });

  test('bad values are usage errors naming the option and the value', () => {
    assert.throws(() => parseMonitorOptions(['--interval', '10']), usageError(/--interval must be a number of milliseconds between 50 and 3600000, got "10"/));
    assert.throws(() => parseMonitorOptions(['--interval', 'NaN']), usageError(/--interval .* got "NaN"/));
    assert.throws(() => parseMonitorOptions(['--count', '1.5']), usageError(/--count must be a whole number at least 1, got "1.5"/));
    assert.throws(() => parseMonitorOptions(['--interval']), usageError(/--interval/));
  });
});

describe('the launcher recognises heap exhaustion', () => {
  const fatal = '\n<--- Last few GCs --->\nFATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n';
  test('an abort with the V8 message is heap exhaustion', () => {
    assert.equal(diedOfHeapExhaustion({ code: null, signal: 'SIGABRT', stderr: fatal }), true);
    assert.equal(diedOfHeapExhaustion({ code: 134, signal: null, stderr: fatal }), true);
  });
  test('a clean exit or another failure is not', () => {
    assert.equal(diedOfHeapExhaustion({ code: 0, signal: null, stderr: fatal }), false);
    assert.equal(diedOfHeapExhaustion({ code: 1, signal: null, stderr: 'TypeError: x is not a function' }), false);
    assert.equal(diedOfHeapExhaustion({ code: null, signal: 'SIGKILL', stderr: '' }), false);
  });
});
