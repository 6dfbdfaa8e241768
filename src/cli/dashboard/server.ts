/**
 * The demo dashboard's HTTP server: the page, uPlot's files, and one
 * server-sent-events stream (`/events`) of the demo's samples and cleanup
 * runs. Node's `http` module only, no dependency.
 *
 * It runs inside the demo's workload process, so nothing a request carries
 * may take that process down or flood its heap:
 * - It binds 127.0.0.1 only: the dashboard exposes the process's internals
 *   and has no authentication, so it is never reachable from another machine.
 * - The `Host` header must name this server (127.0.0.1 or localhost, with its
 *   port); anything else gets 421. Without the check, a page on another site
 *   could rebind its own name to 127.0.0.1 and read the stream (DNS
 *   rebinding).
 * - The request target is checked by hand (no `new URL`, which throws on
 *   targets such as `//[`): a malformed one gets 400, and the handler as a
 *   whole answers 500 rather than throw.
 * - At most `maxClients` streams at once; more get 503.
 * - Only the latest `historyLength` samples and cleanup runs are kept. A new
 *   client gets them in one `init` event; every event carries an `id`, so a
 *   reconnecting browser sends `Last-Event-ID` and receives only the events
 *   it missed (an `init` again if they are no longer kept). A reconnect
 *   storm therefore costs at most one window per connection, and the `init`
 *   text is built once per new event, not once per client.
 * - A client that stops reading (more than `maxBufferedBytes` waiting in its
 *   socket buffer) is disconnected instead of growing the heap.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DemoListener, DemoStart } from '../demo/timeline.js';
import { dashboardPage } from './page.js';
import type { UplotAssets } from './uplot-assets.js';

export const DASHBOARD_HOST = '127.0.0.1';

/** 10 minutes of the demo's 250 ms samples (about 0.6 MB of JSON). */
export const DEFAULT_HISTORY_LENGTH = 2400;
export const DEFAULT_MAX_CLIENTS = 16;
export const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export interface DashboardOptions {
  /** 0 picks a free port. */
  port: number;
  assets: UplotAssets;
  /** `/events` streams open at once; one more gets 503. Default `DEFAULT_MAX_CLIENTS`. */
  maxClients?: number;
  /** Latest samples and cleanup runs kept and sent to a new client. Default `DEFAULT_HISTORY_LENGTH`. */
  historyLength?: number;
  /** Bytes waiting for a client before it is disconnected. Default `DEFAULT_MAX_BUFFERED_BYTES`. */
  maxBufferedBytes?: number;
}

export interface Dashboard {
  readonly url: string;
  /** Feed the demo's events here. */
  readonly listener: DemoListener;
  close(): Promise<void>;
}

/** One event of the stream, with its text as sent. */
interface Sent {
  readonly id: number;
  readonly data: unknown;
  readonly frame: string;
}

function positiveInteger(field: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${field} must be a positive integer, got ${String(value)}`);
  return value;
}

// An origin-form request target (RFC 9112 3.2.1): "/" then path characters, an optional query.
const REQUEST_TARGET = /^(\/(?!\/)(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*)(?:\?(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*)?$/;

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers }).end(`${body}\n`);
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const maxClients = positiveInteger('maxClients', options.maxClients, DEFAULT_MAX_CLIENTS);
  const historyLength = positiveInteger('historyLength', options.historyLength, DEFAULT_HISTORY_LENGTH);
  const maxBufferedBytes = positiveInteger('maxBufferedBytes', options.maxBufferedBytes, DEFAULT_MAX_BUFFERED_BYTES);
  const page = dashboardPage();

  let lastId = 0;
  let start: Sent | undefined;
  let end: Sent | undefined;
  /** Samples and cleanup runs in id order, the latest `historyLength`. */
  const history: Array<Sent & { readonly event: 'sample' | 'cleanup' }> = [];
  /** The highest id no longer in `history` (0: nothing dropped yet). */
  let dropped = 0;
  let initFrame: string | undefined;
  const clients = new Set<ServerResponse>();

  const frame = (id: number, event: string, data: unknown) => `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

  const initText = (): string => {
    initFrame ??= frame(lastId, 'init', {
      start: start?.data,
      samples: history.filter((e) => e.event === 'sample').map((e) => e.data),
      cleanups: history.filter((e) => e.event === 'cleanup').map((e) => e.data),
      end: end?.data,
      truncated: dropped > 0,
    });
    return initFrame;
  };

  /** What a client that saw events up to `seen` needs, or undefined if some of it is gone. */
  const missedSince = (seen: number): string | undefined => {
    if (seen < dropped || seen > lastId) return undefined;
    const missed: Sent[] = history.filter((e) => e.id > seen);
    if (start !== undefined && start.id > seen) missed.push(start);
    if (end !== undefined && end.id > seen) missed.push(end);
    return missed
      .sort((a, b) => a.id - b.id)
      .map((e) => e.frame)
      .join('');
  };

  const write = (res: ServerResponse, chunk: string) => {
    if (res.writableLength > maxBufferedBytes) {
      clients.delete(res);
      res.destroy();
      return;
    }
    res.write(chunk);
  };

  const publish = (event: 'start' | 'sample' | 'cleanup' | 'end', data: unknown): Sent => {
    const id = ++lastId;
    const sent = { id, data, frame: frame(id, event, data) };
    initFrame = undefined;
    for (const res of clients) write(res, sent.frame);
    return sent;
  };

  const record = (event: 'sample' | 'cleanup', data: unknown) => {
    history.push({ ...publish(event, data), event });
    if (history.length > historyLength) dropped = history.shift()!.id;
  };

  /** Set once listening: the port, and the `Host` values that name this server. */
  let port = 0;
  let hosts = new Set<string>();

  const openStream = (req: IncomingMessage, res: ServerResponse) => {
    if (clients.size >= maxClients) {
      text(res, 503, `too many dashboard clients: at most ${maxClients} at once; close another dashboard tab`, { 'retry-after': '5' });
      return;
    }
    const header = req.headers['last-event-id'];
    const seen = typeof header === 'string' && /^\d{1,15}$/.test(header) ? Number(header) : undefined;
    const missed = seen === undefined ? undefined : missedSince(seen);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.on('error', () => clients.delete(res));
    req.on('close', () => clients.delete(res));
    clients.add(res);
    write(res, `retry: 1000\n\n${missed ?? initText()}`);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (!hosts.has((req.headers.host ?? '').toLowerCase())) {
      text(res, 421, `this dashboard answers only to http://${DASHBOARD_HOST}:${port}/, not to Host ${JSON.stringify(req.headers.host ?? '')}`);
      return;
    }
    const target = REQUEST_TARGET.exec(req.url ?? '');
    if (target === null) {
      text(res, 400, `bad request target ${JSON.stringify(req.url ?? '')}`);
      return;
    }
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    switch (target[1]) {
      case '/':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
        return;
      case '/uPlot.iife.min.js':
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(options.assets.script);
        return;
      case '/uPlot.min.css':
        res.writeHead(200, { 'content-type': 'text/css; charset=utf-8' }).end(options.assets.css);
        return;
      case '/events':
        openStream(req, res);
        return;
      default:
        text(res, 404, 'not found');
    }
  };

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (error) {
      // A bug here must cost one response, never the demo it watches.
      clients.delete(res);
      if (res.headersSent) res.destroy();
      else text(res, 500, `internal error: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, DASHBOARD_HOST, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  hosts = new Set([`${DASHBOARD_HOST}:${port}`, `localhost:${port}`]);
  if (port === 80) hosts.add(DASHBOARD_HOST).add('localhost');

  const listener: DemoListener = {
    start(info: DemoStart) {
      start = publish('start', info);
    },
    sample(sample) {
      record('sample', sample);
    },
    cleanup(entry) {
      record('cleanup', entry);
    },
    end(outcome) {
      end = publish('end', outcome);
    },
  };

  return {
    url: `http://${DASHBOARD_HOST}:${port}/`,
    listener,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of clients) res.end();
        clients.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
