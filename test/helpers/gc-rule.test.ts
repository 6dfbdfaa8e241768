// The one rule for tests that need gc() (test/helpers/gc.ts), checked in real
// child processes: node with and without --expose-gc, with and without
// NEXUS_REQUIRE_SERVICES=1.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';

const ROOT = new URL('../..', import.meta.url).pathname;
const FIXTURE = 'test/helpers/fixtures/needs-gc.ts';

function run(flags: readonly string[], required: boolean): { status: number | null; output: string } {
  const env = { ...process.env };
  delete env['NEXUS_REQUIRE_SERVICES'];
  // Run as a top-level test run, not as a child of this one.
  delete env['NODE_TEST_CONTEXT'];
  if (required) env['NEXUS_REQUIRE_SERVICES'] = '1';
  const result = spawnSync(process.execPath, [...flags, '--import', 'tsx', '--test', '--test-reporter=tap', FIXTURE], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('tests that need gc()', () => {
  test('without --expose-gc they skip, saying why and how to make it a failure', () => {
    const { status, output } = run([], false);
    assert.equal(status, 0, output);
    assert.match(output, /# SKIP gc\(\) is not exposed: run node with --expose-gc .*set NEXUS_REQUIRE_SERVICES=1 to make this a failure/);
    assert.match(output, /# skipped 1/);
  });

  test('without --expose-gc under NEXUS_REQUIRE_SERVICES=1 they fail, saying why', () => {
    const { status, output } = run([], true);
    assert.equal(status, 1, output);
    assert.match(output, /gc\(\) is not exposed: run node with --expose-gc .*NEXUS_REQUIRE_SERVICES=1 makes the tests that need it fail/);
    assert.match(output, /# fail 1/);
  });

  test('with --expose-gc they run, required or not', () => {
    for (const required of [false, true]) {
      const { status, output } = run(['--expose-gc'], required);
      assert.equal(status, 0, output);
      assert.match(output, /# pass 1/);
      assert.match(output, /# skipped 0/);
    }
  });
});
