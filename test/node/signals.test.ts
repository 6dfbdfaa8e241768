import assert from 'node:assert/strict';
import { closeSync, openSync, readSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { ContainerSignal, PressureStallSignal, SystemSignal, createContainerMemoryProvider, createPressureStallMemoryProvider, createSystemMemoryProvider, type SyncFileSystem } from '../../src/node/index.js';
import { fakeRuntime, fixture, fixtureCopy, GIB, MIB } from './helpers.js';

/** The real filesystem, counting opens and reads. */
function countingFs(): SyncFileSystem & { opens: string[]; reads: number } {
  const fs = {
    opens: [] as string[],
    reads: 0,
    openSync(path: string, flags: 'r') {
      fs.opens.push(path);
      return openSync(path, flags);
    },
    readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number) {
      fs.reads++;
      return readSync(fd, buffer, offset, length, position);
    },
    closeSync: (fd: number) => closeSync(fd),
  };
  return fs;
}

describe('container signal', () => {
  it('cgroup v2: working set (memory.current minus inactive_file) against the smallest limit up the hierarchy', () => {
    const signal = new ContainerSignal({ root: fixture('cgroup-v2'), runtime: fakeRuntime() });
    const r = signal.read();
    assert.equal(r.source, 'cgroup');
    assert.equal(r.usedBytes, 402_653_184 - 67_108_864);
    assert.equal(r.budgetBytes, 512 * MIB - 64 * MIB, 'the pod limit binds the container whose own memory.max is "max"; 64 MiB kept back for garbage');
    assert.equal(signal.cgroup.limitBytes, 512 * MIB);
    assert.equal(signal.cgroup.reserveBytes, 64 * MIB);
    assert.equal(r.fraction, (402_653_184 - 67_108_864) / (448 * MIB));
    assert.match(r.detail, /cgroup v2/);
    assert.equal(signal.cgroup.cgroup?.version, 2);
    signal.close();
  });

  it('leaves out this process\'s idle allocator pages: external memory V8 freed while the resident set stayed', () => {
    let externalBytes = 60 * MIB;
    const runtime = fakeRuntime({ v8Memory: () => ({ heapCommittedBytes: 20 * MIB, externalBytes }) });
    const signal = new ContainerSignal({ root: fixture('cgroup-v2'), runtime });
    const workingSet = 402_653_184 - 67_108_864;
    // The first reading sets the native floor (resident 25,000 pages of 4 KiB, less heap and external).
    assert.equal(signal.read().usedBytes, workingSet);
    // A collection frees 50 MiB of Buffers; malloc keeps the pages, so the resident set does not move.
    externalBytes = 10 * MIB;
    assert.equal(signal.read().usedBytes, workingSet - 50 * MIB);
    // The pages are reused for new Buffers: in use again.
    externalBytes = 40 * MIB;
    assert.equal(signal.read().usedBytes, workingSet - 20 * MIB);
    signal.close();
    const without = new ContainerSignal({ root: fixture('cgroup-v2'), runtime: fakeRuntime() });
    assert.equal(without.read().usedBytes, workingSet, 'a runtime that cannot say what V8 holds leaves the working set as it is');
    without.close();
  });

  it('leaves out external garbage a cache reported dropping until collections free it, up to half the reserve, from the first reading', () => {
    // Resident 25,000 pages of 4 KiB in the fixture: V8 holds 5 MiB of heap and `externalBytes` of Buffers.
    let externalBytes = 40 * MIB;
    const runtime = fakeRuntime({ v8Memory: () => ({ heapCommittedBytes: 5 * MIB, externalBytes }) });
    const signal = new ContainerSignal({ root: fixture('cgroup-v2'), runtime });
    const workingSet = 402_653_184 - 67_108_864; // above half the 448 MiB budget: the correction applies
    const leftOut = () => (workingSet - signal.read().usedBytes) / MIB;
    assert.equal(leftOut(), 0);
    signal.noteReleased(5 * MIB);
    externalBytes = 45 * MIB; // a new Buffer replaces the dropped one
    assert.equal(leftOut(), 5, 'credited before any collection is reported: V8\'s first one comes late');
    signal.noteMajorCollection();
    signal.noteReleased(5 * MIB);
    externalBytes = 50 * MIB;
    assert.equal(leftOut(), 10, 'dropped before and after the collection, not freed yet');
    signal.noteReleased(30 * MIB);
    externalBytes = 85 * MIB;
    assert.equal(leftOut(), 32, 'at most half the 64 MiB reserve');
    // The sweep frees the 5 MiB dropped before the collection: external memory falls, and the pages are idle.
    externalBytes = 80 * MIB;
    assert.equal(leftOut(), 5 + 32);
    signal.noteMajorCollection();
    assert.equal(leftOut(), 5 + 32, 'dropped before this collection: still credited');
    signal.noteMajorCollection();
    assert.equal(leftOut(), 5, 'two collections later it is taken as freed');
    signal.close();

    // A cache of heap objects: external memory never rises over its lowest, so its drops are not credited.
    externalBytes = 40 * MIB;
    const heapOnly = new ContainerSignal({ root: fixture('cgroup-v2'), runtime });
    heapOnly.read();
    heapOnly.noteMajorCollection();
    heapOnly.noteReleased(16 * MIB);
    assert.equal(heapOnly.read().usedBytes, workingSet);
    heapOnly.close();
  });

  it('cgroup v1: usage_in_bytes minus total_inactive_file against the limit, from a mount that shows only our cgroup', () => {
    const provider = createContainerMemoryProvider({ root: fixture('cgroup-v1'), runtime: fakeRuntime() });
    const sample = provider();
    assert.equal(sample.source, 'cgroup');
    assert.equal(sample.usedBytes, 234_881_024 - 33_554_432);
    // A 256 MiB limit keeps back 64 MiB for garbage not yet collected: the budget is 192 MiB.
    assert.equal(sample.availableBytes, 192 * MIB - (234_881_024 - 33_554_432));
    assert.equal(provider.signal.cgroup.cgroup?.version, 1);
    provider.signal.close();
  });

  it('an unlimited cgroup (9223372036854771712 here, 2^64 - 1 above) falls back to the resident set against the machine', () => {
    const signal = new ContainerSignal({ root: fixture('cgroup-v1-unlimited'), runtime: fakeRuntime() });
    const r = signal.read();
    assert.equal(r.source, 'resident');
    assert.equal(signal.cgroup.limitBytes, null);
    assert.equal(r.usedBytes, 25_000 * 4096, 'statm resident pages times the calibrated page size');
    assert.equal(r.budgetBytes, 8 * GIB, 'MemTotal');
    signal.close();
  });

  it('without any cgroup: the resident set against MemTotal', () => {
    const r = new ContainerSignal({ root: fixture('no-cgroup'), runtime: fakeRuntime() }).read();
    assert.equal(r.source, 'resident');
    assert.equal(r.budgetBytes, 8 * GIB);
  });

  it('off Linux (no /proc at all): process.memoryUsage.rss() against os.totalmem()', () => {
    const r = new ContainerSignal({ root: fixture('does-not-exist'), runtime: fakeRuntime({ residentSetBytes: () => 300 * MIB }) }).read();
    assert.equal(r.source, 'resident');
    assert.equal(r.usedBytes, 300 * MIB);
    assert.equal(r.budgetBytes, 4 * GIB);
  });

  it('garbage limit and statm files are not limits: it falls back without throwing', () => {
    const r = new ContainerSignal({ root: fixture('garbage'), runtime: fakeRuntime({ residentSetBytes: () => 123 * MIB }) }).read();
    assert.equal(r.source, 'resident');
    assert.equal(r.usedBytes, 123 * MIB);
    assert.equal(r.budgetBytes, 4 * GIB, 'garbage meminfo: os.totalmem()');
  });

  it('caps a limit above the machine at the machine', () => {
    const tree = fixtureCopy('cgroup-v2');
    try {
      tree.write('sys/fs/cgroup/kubepods/pod1/memory.max', String(64 * GIB));
      assert.equal(new ContainerSignal({ root: tree.root, runtime: fakeRuntime() }).read().budgetBytes, 8 * GIB - 64 * MIB);
    } finally {
      tree.dispose();
    }
  });

  it('reads usage through a kept-open descriptor: no open per sample, fresh values each time', () => {
    const tree = fixtureCopy('cgroup-v2');
    const fs = countingFs();
    const clock = new ManualClock(0);
    try {
      const signal = new ContainerSignal({ root: tree.root, fs, clock, runtime: fakeRuntime() });
      signal.read();
      const opensAfterFirst = fs.opens.length;
      tree.write('sys/fs/cgroup/kubepods/pod1/ctr/memory.current', `${480 * MIB}\n`);
      clock.advance(100);
      const r = signal.read();
      assert.equal(fs.opens.length, opensAfterFirst, 'no file opened again');
      assert.equal(r.usedBytes, 480 * MIB - 67_108_864);
      signal.close();
    } finally {
      tree.dispose();
    }
  });

  it('re-reads memory.stat only every statRefreshMs', () => {
    const tree = fixtureCopy('cgroup-v2');
    const clock = new ManualClock(0);
    try {
      const signal = new ContainerSignal({ root: tree.root, clock, runtime: fakeRuntime(), statRefreshMs: 1000 });
      assert.equal(signal.read().usedBytes, 402_653_184 - 67_108_864);
      tree.write('sys/fs/cgroup/kubepods/pod1/ctr/memory.stat', 'inactive_file 0\n');
      clock.advance(500);
      assert.equal(signal.read().usedBytes, 402_653_184 - 67_108_864, 'stale within the refresh interval');
      clock.advance(500);
      assert.equal(signal.read().usedBytes, 402_653_184, 'refreshed after it');
      signal.close();
    } finally {
      tree.dispose();
    }
  });

  it('re-detects a changed limit after redetectIntervalMs, not before', () => {
    const tree = fixtureCopy('cgroup-v2');
    const clock = new ManualClock(0);
    try {
      const signal = new ContainerSignal({ root: tree.root, clock, runtime: fakeRuntime(), redetectIntervalMs: 10_000 });
      assert.equal(signal.read().budgetBytes, 448 * MIB);
      tree.write('sys/fs/cgroup/kubepods/pod1/memory.max', `${1024 * MIB}\n`);
      clock.advance(9_999);
      assert.equal(signal.read().budgetBytes, 448 * MIB);
      clock.advance(1);
      assert.equal(signal.read().budgetBytes, 960 * MIB);
      signal.close();
    } finally {
      tree.dispose();
    }
  });

  it('a failing read on a kept descriptor reopens the file once; a cgroup that is gone falls back to the resident set', () => {
    const fs = countingFs();
    const failing = new Set<number>();
    const usagePath = `${fixture('cgroup-v2')}/sys/fs/cgroup/kubepods/pod1/ctr/memory.current`;
    let usageFd = -1;
    let gone = false;
    const flaky: SyncFileSystem = {
      openSync(path, flags) {
        if (gone && path === usagePath) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
        const fd = fs.openSync(path, flags);
        if (path === usagePath) {
          usageFd = fd;
          failing.delete(fd); // the kernel may hand out the same number: it is a fresh descriptor all the same
        }
        return fd;
      },
      readSync(fd, buffer, offset, length, position) {
        if (failing.has(fd)) throw Object.assign(new Error('ENODEV'), { code: 'ENODEV' });
        return fs.readSync(fd, buffer, offset, length, position);
      },
      closeSync: (fd) => fs.closeSync(fd),
    };
    const signal = new ContainerSignal({ root: fixture('cgroup-v2'), fs: flaky, runtime: fakeRuntime() });
    assert.equal(signal.read().source, 'cgroup');
    failing.add(usageFd);
    const reopened = signal.read();
    assert.equal(reopened.source, 'cgroup', 'reopened and read again');
    assert.equal(fs.opens.filter((p) => p === usagePath).length, 3, 'opened at detection (probe and kept) and once more on failure');
    failing.add(usageFd);
    gone = true;
    assert.equal(signal.read().source, 'resident');
    signal.close();
  });

  it('rejects bad options naming the field', () => {
    assert.throws(() => new ContainerSignal({ statRefreshMs: -1 }), /statRefreshMs.*-1/);
    assert.throws(() => new ContainerSignal({ redetectIntervalMs: 0 }), /redetectIntervalMs.*0/);
    assert.throws(() => new ContainerSignal({ root: 5 as unknown as string }), /root/);
  });
});

describe('system signal', () => {
  it('used is MemTotal - MemAvailable (never MemFree)', () => {
    const r = new SystemSignal({ root: fixture('cgroup-v2'), runtime: fakeRuntime() }).read();
    assert.equal(r.source, 'system');
    assert.equal(r.budgetBytes, 8 * GIB);
    assert.equal(r.usedBytes, 6 * GIB);
  });

  it('falls back to os.totalmem/os.freemem off Linux and on garbage', () => {
    for (const name of ['does-not-exist', 'garbage']) {
      const sample = createSystemMemoryProvider({ root: fixture(name), runtime: fakeRuntime() })();
      assert.deepEqual(sample, { usedBytes: 3 * GIB, availableBytes: 1 * GIB, source: 'system' }, name);
    }
  });

  it('returns the last value within minRefreshMs and reads afresh after it', () => {
    const tree = fixtureCopy('no-cgroup');
    const clock = new ManualClock(0);
    try {
      const signal = new SystemSignal({ root: tree.root, clock, runtime: fakeRuntime(), minRefreshMs: 2000 });
      assert.equal(signal.read().usedBytes, 6 * GIB);
      tree.write('proc/meminfo', 'MemTotal: 8388608 kB\nMemAvailable: 1048576 kB\n');
      clock.advance(1999);
      assert.equal(signal.read().usedBytes, 6 * GIB);
      clock.advance(1);
      assert.equal(signal.read().usedBytes, 7 * GIB);
      signal.close();
    } finally {
      tree.dispose();
    }
  });
});

describe('pressure-stall signal', () => {
  it("prefers the cgroup's memory.pressure and maps some avg10 to parts per million", () => {
    const r = new PressureStallSignal({ root: fixture('cgroup-v2') }).read();
    assert.equal(r.available, true);
    assert.equal(r.usedBytes, 125_000);
    assert.equal(r.budgetBytes, 1_000_000);
    assert.equal(r.fraction, 0.125);
    assert.match(r.detail, /kubepods\/pod1\/ctr\/memory\.pressure/);
  });

  it('uses /proc/pressure/memory when the cgroup has no memory.pressure', () => {
    const r = new PressureStallSignal({ root: fixture('cgroup-v1-unlimited') }).read();
    assert.equal(r.fraction, 0.125);
    assert.match(r.detail, /proc\/pressure\/memory/);
  });

  it('absent or garbage PSI is "unavailable", not an error; the provider then reports no stall', () => {
    for (const name of ['no-cgroup', 'garbage', 'does-not-exist']) {
      assert.equal(new PressureStallSignal({ root: fixture(name) }).read().available, false, name);
    }
    assert.deepEqual(createPressureStallMemoryProvider({ root: fixture('no-cgroup') })(), { usedBytes: 0, availableBytes: 1_000_000, source: 'psi' });
  });
});
