/**
 * The demo dashboard's HTTP server: the page, uPlot's files, and one
 * server-sent-events stream (`/events`) of the demo's samples and cleanup
 * runs. Node's `http` module only, no dependency.
 *
 * It binds 127.0.0.1 only: the dashboard exposes the process's internals and
 * has no authentication, so it is never reachable from another machine.
 * A client that connects late first receives the whole history (`init`), so
 * the charts always start at t = 0; the history is one small object per
 * 250 ms sample, 15k objects for an hour-long run.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DemoListener, DemoSample, DemoStart } from '../demo/timeline.js';
import { dashboardPage } from './page.js';
import type { UplotAssets } from './uplot-assets.js';

export const DASHBOARD_HOST = '127.0.0.1';

export interface Dashboard {
  readonly url: string;
  /** Feed the demo's events here. */
  readonly listener: DemoListener;
  close(): Promise<void>;
}

export async function startDashboard(options: { port: number; assets: UplotAssets }): Promise<Dashboard> {
  const page = dashboardPage();
  let start: DemoStart | undefined;
  const samples: DemoSample[] = [];
  const cleanups: unknown[] = [];
  let end: unknown;
  const clients = new Set<ServerResponse>();

  const send = (res: ServerResponse, event: string, data: unknown) => {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const broadcast = (event: string, data: unknown) => {
    for (const res of clients) send(res, event, data);
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    switch (path) {
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
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        res.write('retry: 1000\n\n');
        send(res, 'init', { start, samples, cleanups, end });
        clients.add(res);
        req.on('close', () => clients.delete(res));
        return;
      default:
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, DASHBOARD_HOST, () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const listener: DemoListener = {
    start(info) {
      start = info;
      broadcast('start', info);
    },
    sample(sample) {
      samples.push(sample);
      broadcast('sample', sample);
    },
    cleanup(entry) {
      cleanups.push(entry);
      broadcast('cleanup', entry);
    },
    end(outcome) {
      end = outcome;
      broadcast('end', outcome);
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
