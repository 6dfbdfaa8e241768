/**
 * The dashboard server against hostile and unlucky clients, over real
 * sockets: raw requests written with `net` (a browser or fetch would refuse
 * to send most of them), the server either in this process (startDashboard)
 * or inside the real demo's workload process (the CLI as a child).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { startDashboard, type Dashboard, type DashboardOptions } from '../../src/cli/dashboard/server.js';
import type { DemoSample } from '../../src/cli/demo/timeline.js';
import { ensureBuilt, startCli } from './cli-process.js';

const ASSETS = { script: '/* uPlot stand-in */', css: '/* css */' };

interface RawResponse {
  status: number;
  head: string;
  body: string;
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** Writes `request` as is on a fresh connection and reads the response to the end. */
async function raw(port: number, request: string): Promise<RawResponse> {
  const socket = connect(port, '127.0.0.1');
  socket.setEncoding('utf8');
  let text = '';
  socket.on('data', (d: string) => (text += d));
  await once(socket, 'connect');
  socket.write(request);
  await once(socket, 'close');
  const split = text.indexOf('\r\n\r\n');
  const head = split < 0 ? text : text.slice(0, split);
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  assert.ok(status !== null, `an HTTP response, got ${JSON.stringify(text.slice(0, 200))}`);
  return { status: Number(status[1]), head, body: split < 0 ? '' : text.slice(split + 4) };
}

function get(port: number, target: string, host = `127.0.0.1:${port}`, extra = ''): Promise<RawResponse> {
  return raw(port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n${extra}\r\n`);
}

interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/**
 * An open `/events` stream read with a raw socket. It asks in HTTP/1.0, so
 * the body comes unchunked: the SSE text as the server wrote it.
 */
class Stream {
  status = 0;
  bytes = 0;
  closed = false;
  readonly events: SseEvent[] = [];
  #buffer = '';
  #headDone = false;
  #waiters: Array<() => void> = [];

  constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    socket.on('data', (d: string) => {
      this.bytes += Buffer.byteLength(d);
      // Search only the new text (and the one character before it) for the end of an event.
      let from = Math.max(0, this.#buffer.length - 1);
      this.#buffer += d;
      if (!this.#headDone) {
        const split = this.#buffer.indexOf('\r\n\r\n');
        if (split < 0) return;
        this.status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(this.#buffer)?.[1]);
        this.#buffer = this.#buffer.slice(split + 4);
        this.#headDone = true;
        from = 0;
      }
      let split: number;
      while ((split = this.#buffer.indexOf('\n\n', from)) >= 0) {
        const block = this.#buffer.slice(0, split);
        this.#buffer = this.#buffer.slice(split + 2);
        from = 0;
        const fields = new Map(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)] as const));
        if (fields.has('event')) this.events.push({ id: fields.get('id'), event: fields.get('event')!, data: fields.get('data') ?? '' });
      }
      this.#wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves once `done()` holds or the stream has closed. */
  async until(done: () => boolean): Promise<void> {
    while (!done() && !this.closed) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Resolves once `count` events have arrived (or the stream closed). */
  waitFor(count: number): Promise<void> {
    return this.until(() => this.events.length >= count);
  }

  close(): void {
    this.socket.destroy();
  }
}

async function openStream(port: number, lastEventId?: string): Promise<Stream> {
  const socket = connect(port, '127.0.0.1');
  const stream = new Stream(socket);
  await once(socket, 'connect');
  socket.write(`GET /events HTTP/1.0\r\nHost: 127.0.0.1:${port}\r\n${lastEventId === undefined ? '' : `Last-Event-ID: ${lastEventId}\r\n`}\r\n`);
  return stream;
}

function sample(t: number, padding = ''): DemoSample {
  return {
    t,
    heapUsedBytes: 1000 + t,
    heapLimitBytes: 10_000,
    level: 'normal',
    source: padding === '' ? 'heap' : padding,
    cacheBytes: { 'image-cache': 1, 'video-metadata': 2, 'playback-buffers': 3 },
    evictions: 0,
    requests: t,
    hits: 0,
  };
}

// Each test takes well under a second; the timeout turns a stream that never
// ends (what the unfixed server does) into a failure instead of a hang.
const SHORT = { timeout: 20_000 };

const servers: Dashboard[] = [];
async function start(options: Partial<DashboardOptions> = {}): Promise<{ dashboard: Dashboard; port: number }> {
  const dashboard = await startDashboard({ port: 0, assets: ASSETS, ...options });
  servers.push(dashboard);
  return { dashboard, port: portOf(dashboard.url) };
}
after(async () => {
  for (const s of servers) await s.close();
});

describe('dashboard server (real sockets, in this process)', () => {
  test('malformed request targets such as GET //[ get 400 and the server keeps serving', SHORT, async () => {
    const { port } = await start();
    for (const target of ['//[', '//[::1', '//evil.example/', '/%%', '/%zz', '*', 'http://127.0.0.1/', '/events/../[', '/?q=[']) {
      const response = await get(port, target);
      assert.equal(response.status, 400, `GET ${target}: ${response.head}`);
    }
    const page = await get(port, '/');
    assert.equal(page.status, 200);
    assert.match(page.body, /nexus-store demo/);
    assert.equal((await get(port, '/?x=1')).status, 200, 'a query string is fine');
    assert.equal((await get(port, '/nope')).status, 404);
  });

  test('a Host header that does not name this server gets 421 (DNS rebinding); 127.0.0.1 and localhost with the port are served', SHORT, async () => {
    const { port } = await start();
    for (const host of ['evil.example', `evil.example:${port}`, '127.0.0.1', `127.0.0.1:${port + 1}`, `localhost.evil.example:${port}`, `127.0.0.1:${port}@evil.example`]) {
      const response = await get(port, '/', host);
      assert.equal(response.status, 421, `Host ${host}: ${response.head}`);
      assert.doesNotMatch(response.body, /nexus-store demo/);
    }
    const events = await get(port, '/events', 'evil.example');
    assert.equal(events.status, 421, 'the stream is refused too');
    // HTTP/1.0 needs no Host header; without one the request is refused as well.
    assert.equal((await raw(port, 'GET / HTTP/1.0\r\n\r\n')).status, 421);
    assert.equal((await get(port, '/', `127.0.0.1:${port}`)).status, 200);
    assert.equal((await get(port, '/', `LOCALHOST:${port}`)).status, 200);
  });

  test('past maxClients an /events client gets 503 saying so; a slot freed is reusable', SHORT, async () => {
    const { port } = await start({ maxClients: 2 });
    const a = await openStream(port);
    const b = await openStream(port);
    await a.waitFor(1);
    await b.waitFor(1);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    const refused = await get(port, '/events');
    assert.equal(refused.status, 503);
    assert.match(refused.body, /too many dashboard clients: at most 2/);
    assert.equal((await get(port, '/')).status, 200, 'the page is still served');
    a.close();
    // Wait until the server has seen the close: a new stream is then accepted.
    let c: Stream;
    for (;;) {
      c = await openStream(port);
      await c.waitFor(1);
      if (c.status === 200) break;
      assert.equal(c.status, 503);
      c.close();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(c.events[0]?.event, 'init');
    b.close();
    c.close();
  });

  test('a new client gets only the latest historyLength samples, so a reconnect costs the same however long the run', SHORT, async () => {
    const { dashboard, port } = await start({ historyLength: 50 });
    dashboard.listener.start!({ mode: 'managed', seed: 1, durationS: 10, heapMb: 96, heapLimitBytes: 1, components: [] });
    for (let t = 0; t < 50; t++) dashboard.listener.sample!(sample(t));
    const first = await openStream(port);
    await first.waitFor(1);
    first.close();
    for (let t = 50; t < 5000; t++) dashboard.listener.sample!(sample(t));
    dashboard.listener.cleanup!({ t: 5000, at: 5_000_000, level: 'critical', results: [] });
    const later = await openStream(port);
    await later.waitFor(1);
    later.close();
    const init = JSON.parse(later.events[0]!.data) as { start: unknown; samples: DemoSample[]; cleanups: unknown[]; truncated: boolean };
    assert.equal(later.events[0]!.event, 'init');
    assert.deepEqual(
      init.samples.map((s) => s.t),
      Array.from({ length: 49 }, (_, i) => 4951 + i),
      'the latest samples, the cleanup run taking one of the 50 places',
    );
    assert.equal(init.cleanups.length, 1);
    assert.equal(init.truncated, true);
    assert.ok(init.start !== undefined, 'the start info is always kept');
    assert.ok(later.bytes < first.bytes * 1.2, `a reconnect after 100 times the samples costs about the same: ${first.bytes} then ${later.bytes} bytes`);
  });

  test('a reconnecting client sending Last-Event-ID receives only the events it missed', SHORT, async () => {
    const { dashboard, port } = await start({ historyLength: 100 });
    for (let t = 0; t < 10; t++) dashboard.listener.sample!(sample(t));
    const live = await openStream(port);
    await live.waitFor(1);
    dashboard.listener.sample!(sample(10));
    await live.waitFor(2);
    const seen = live.events[1]!;
    assert.equal(seen.event, 'sample');
    live.close();
    for (let t = 11; t < 15; t++) dashboard.listener.sample!(sample(t));
    dashboard.listener.end!({ t: 15, report: 'outcome survived' });

    const resumed = await openStream(port, seen.id);
    await resumed.waitFor(5);
    assert.deepEqual(
      resumed.events.map((e) => e.event),
      ['sample', 'sample', 'sample', 'sample', 'end'],
      'no init: only what happened after the last event seen',
    );
    assert.deepEqual(
      resumed.events.slice(0, 4).map((e) => (JSON.parse(e.data) as DemoSample).t),
      [11, 12, 13, 14],
    );
    const ids = resumed.events.map((e) => Number(e.id));
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'ids increase');
    assert.ok(ids[0]! > Number(seen.id));
    resumed.close();
    // An id the server no longer holds (or never gave) gets a fresh init.
    for (const id of ['0', '999999', 'x']) {
      const stream = await openStream(port, id);
      await stream.waitFor(1);
      stream.close();
      assert.equal(stream.events[0]?.event, id === '0' ? 'sample' : 'init', `Last-Event-ID ${id}`);
    }
  });

  test('an id older than the kept history gets init, not a silent gap', SHORT, async () => {
    const { dashboard, port } = await start({ historyLength: 5 });
    for (let t = 0; t < 3; t++) dashboard.listener.sample!(sample(t));
    const live = await openStream(port);
    await live.waitFor(1);
    const initId = live.events[0]!.id;
    live.close();
    for (let t = 3; t < 20; t++) dashboard.listener.sample!(sample(t));
    const resumed = await openStream(port, initId);
    await resumed.waitFor(1);
    resumed.close();
    assert.equal(resumed.events[0]?.event, 'init');
    assert.deepEqual((JSON.parse(resumed.events[0]!.data) as { samples: DemoSample[] }).samples.map((s) => s.t), [15, 16, 17, 18, 19]);
  });

  test('a client that stops reading is disconnected once maxBufferedBytes wait for it', SHORT, async () => {
    const { dashboard, port } = await start({ maxBufferedBytes: 64 * 1024, historyLength: 4 });
    const stalled = await openStream(port);
    await stalled.waitFor(1);
    stalled.socket.pause();
    // 512 KiB per sample, 32 MiB in all: far more than the socket buffers hold.
    const big = 'x'.repeat(512 * 1024);
    for (let t = 0; t < 64; t++) dashboard.listener.sample!(sample(t, big));
    dashboard.listener.end!({ t: 64, report: 'done' });
    stalled.socket.resume();
    await stalled.until(() => stalled.events.some((e) => e.event === 'end'));
    assert.equal(stalled.closed, true, 'the server closed the stalled stream');
    assert.ok(!stalled.events.some((e) => e.event === 'end'), `the stalled client was cut off before the end (${stalled.events.length} events, ${stalled.bytes} bytes)`);
    const fresh = await openStream(port);
    await fresh.waitFor(1);
    fresh.close();
    assert.equal(fresh.status, 200, 'others are still served');
  });

  test('rejects bad limits, naming the option and the value', SHORT, async () => {
    await assert.rejects(startDashboard({ port: 0, assets: ASSETS, maxClients: 0 }), /maxClients must be a positive integer, got 0/);
    await assert.rejects(startDashboard({ port: 0, assets: ASSETS, historyLength: 1.5 }), /historyLength must be a positive integer, got 1.5/);
    await assert.rejects(startDashboard({ port: 0, assets: ASSETS, maxBufferedBytes: Number.NaN }), /maxBufferedBytes must be a positive integer, got NaN/);
  });
});

describe('demo --dashboard (the CLI as a child process)', () => {
  test('GET //[ and a foreign Host do not stop the demo: it answers 400 and 421 and keeps serving its samples', { timeout: 90_000 }, async () => {
    await ensureBuilt();
    const { child, match, output } = await startCli(
      ['demo', '--dashboard', '--duration', '30', '--heap-mb', '96', '--seed', '2'],
      /dashboard: http:\/\/127\.0\.0\.1:(\d+)\//,
    );
    let exit: number | null | undefined;
    child.once('exit', (code) => (exit = code));
    try {
      const port = Number(match[1]);
      assert.equal((await get(port, '//[')).status, 400);
      assert.equal((await get(port, '/', 'evil.example')).status, 421);
      assert.equal(exit, undefined, `the demo is still running:\n${output()}`);
      assert.equal((await get(port, '/')).status, 200);
      // The workload is alive: the stream still brings new samples.
      const stream = await openStream(port);
      await stream.until(() => stream.events.some((e) => e.event === 'sample'));
      stream.close();
      assert.equal(stream.events[0]?.event, 'init');
      assert.ok(stream.events.some((e) => e.event === 'sample'), JSON.stringify(stream.events.map((e) => e.event)));
    } finally {
      child.kill('SIGTERM');
      if (exit === undefined) await once(child, 'close');
    }
  });
});
