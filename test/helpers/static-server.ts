/**
 * A tiny static file server for browser tests: serves one directory on
 * 127.0.0.1 at an ephemeral port, with optional extra response headers (for
 * example COOP/COEP to make the pages cross-origin isolated).
 *
 *   const server = await startStaticServer({ root: repoRoot, headers: CROSS_ORIGIN_ISOLATION_HEADERS });
 *   await page.goto(`${server.url}/test/browser/fixtures/page.html`);
 *   await server.close();
 *
 * Only GET and HEAD; paths that escape `root` are 403; no directory listings;
 * `Cache-Control: no-store` so a browser never keeps a stale build.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, resolve, sep } from 'node:path';

/** The headers that make a page cross-origin isolated (`crossOriginIsolated === true`). */
export const CROSS_ORIGIN_ISOLATION_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
});

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
};

export interface StaticServerOptions {
  /** Directory served at `/`. */
  root: string;
  /** Added to every response, e.g. `CROSS_ORIGIN_ISOLATION_HEADERS`. */
  headers?: Readonly<Record<string, string>>;
}

export interface StaticServer {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly url: string;
  /** Paths requested so far, in order, with their status (for asserting what a page loaded). */
  readonly requests: ReadonlyArray<{ path: string; status: number }>;
  close(): Promise<void>;
}

export async function startStaticServer(options: StaticServerOptions): Promise<StaticServer> {
  const root = resolve(options.root);
  const extraHeaders = options.headers ?? {};
  const requests: Array<{ path: string; status: number }> = [];

  const send = (res: ServerResponse, path: string, status: number, body: string): void => {
    requests.push({ path, status });
    res.writeHead(status, { ...extraHeaders, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, path, 405, 'method not allowed');
    let file: string;
    try {
      file = resolve(root, '.' + decodeURIComponent(path));
    } catch {
      return send(res, path, 400, 'bad path');
    }
    if (file !== root && !file.startsWith(root + sep)) return send(res, path, 403, 'outside the served root');
    const info = await stat(file).catch(() => undefined);
    if (info === undefined || !info.isFile()) return send(res, path, 404, `not found: ${path}`);
    requests.push({ path, status: 200 });
    res.writeHead(200, {
      ...extraHeaders,
      'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': String(info.size),
      'Cache-Control': 'no-store',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, req.url ?? '?', 500, String(error));
      else res.destroy();
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolveClose, reject) => {
        server.close((error) => (error ? reject(error) : resolveClose()));
        server.closeAllConnections();
      }),
  };
}
