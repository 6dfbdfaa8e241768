import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asciiKey, parseKeyedValue, parseLimitBytes, parseMeminfoBytes, parsePressureAvg10, parseSingleValue } from '../../src/node/parse.js';
import { splitNodeOptions } from '../../src/node/runtime.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('parseLimitBytes', () => {
  it('reads "max" and the numeric spellings of "no limit" as null, without precision loss', () => {
    assert.equal(parseLimitBytes('max\n'), null);
    assert.equal(parseLimitBytes('9223372036854771712\n'), null);
    assert.equal(parseLimitBytes('18446744073709551615'), null);
    assert.equal(parseLimitBytes('9223372036854775807'), null);
  });

  it('reads real limits exactly, including ones beyond 2^32', () => {
    assert.equal(parseLimitBytes('536870912\n'), 536_870_912);
    assert.equal(parseLimitBytes(' 68719476736 '), 68_719_476_736);
  });

  it('rejects garbage and absent files as undefined, not as zero or unlimited', () => {
    for (const text of ['', '12abc', '-1', '1e9', 'unlimited', '123456789012345678901']) assert.equal(parseLimitBytes(text), undefined, text);
    assert.equal(parseLimitBytes(undefined), undefined);
  });
});

describe('byte parsers', () => {
  const meminfo = bytes('MemTotal:        8388608 kB\nMemFree:          262144 kB\nMemAvailable:    2097152 kB\n');

  it('reads MemAvailable, not MemFree, in bytes', () => {
    assert.equal(parseMeminfoBytes(meminfo, meminfo.length, asciiKey('MemAvailable')), 2_097_152 * 1024);
    assert.equal(parseMeminfoBytes(meminfo, meminfo.length, asciiKey('MemTotal')), 8 * 1024 ** 3);
  });

  it('matches keys only at line starts, so inactive_file is not read out of total_inactive_file', () => {
    const stat = bytes('total_inactive_file 100\ninactive_file 7\n');
    assert.equal(parseKeyedValue(stat, stat.length, asciiKey('inactive_file')), 7);
    assert.equal(parseKeyedValue(stat, stat.length, asciiKey('total_inactive_file')), 100);
    const only = bytes('total_inactive_file 100\n');
    assert.ok(Number.isNaN(parseKeyedValue(only, only.length, asciiKey('inactive_file'))));
  });

  it('reads only the valid part of a reused buffer', () => {
    const buffer = bytes('123\n9999999');
    assert.equal(parseSingleValue(buffer, 4), 123);
    assert.ok(Number.isNaN(parseSingleValue(buffer, 0)));
  });

  it('gives NaN for numbers with trailing garbage or beyond 2^53', () => {
    for (const text of ['12abc\n', 'abc\n', '-5\n', '99999999999999999999\n']) {
      const b = bytes(text);
      assert.ok(Number.isNaN(parseSingleValue(b, b.length)), text);
    }
  });

  it('reads the avg10 of the some and full PSI lines', () => {
    const psi = bytes('some avg10=12.50 avg60=4.00 avg300=1.00 total=123456\nfull avg10=3.25 avg60=1.00 avg300=0.25 total=23456\n');
    assert.equal(parsePressureAvg10(psi, psi.length, asciiKey('some')), 12.5);
    assert.equal(parsePressureAvg10(psi, psi.length, asciiKey('full')), 3.25);
    const bad = bytes('some avg10=banana avg60=1\nfull avg10=101.00\n');
    assert.ok(Number.isNaN(parsePressureAvg10(bad, bad.length, asciiKey('some'))));
    assert.ok(Number.isNaN(parsePressureAvg10(bad, bad.length, asciiKey('full'))), 'a percentage above 100 is not PSI');
  });
});

describe('splitNodeOptions', () => {
  it('splits on whitespace and keeps quoted groups', () => {
    assert.deepEqual(splitNodeOptions('--max-old-space-size=96  --require "./a b.js"'), ['--max-old-space-size=96', '--require', './a b.js']);
    assert.deepEqual(splitNodeOptions(undefined), []);
  });
});
