import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CROSS_ORIGIN_ISOLATION_HEADERS, startStaticServer, type StaticServer } from '../helpers/static-server.js';

let dir: string;
let server: StaticServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nexus-static-'));
  await mkdir(join(dir, 'site', 'dist'), { recursive: true });
  await writeFile(join(dir, 'site', 'dist', 'index.js'), 'export const x = 1;\n');
  await writeFile(join(dir, 'site', 'page.html'), '<!doctype html>');
  await writeFile(join(dir, 'secret.txt'), 'outside the root');
  server = await startStaticServer({ root: join(dir, 'site'), headers: CROSS_ORIGIN_ISOLATION_HEADERS });
});

after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

test('serves files from its root on 127.0.0.1 with their content type, no caching and the extra headers', async () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const res = await fetch(`${server.url}/dist/index.js`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'export const x = 1;\n');
  assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.equal(res.headers.get('cross-origin-embedder-policy'), 'require-corp');
  assert.equal((await fetch(`${server.url}/page.html`)).headers.get('content-type'), 'text/html; charset=utf-8');
});

test('answers 404 for missing files and directories, 403 for paths escaping the root, 405 for writes', async () => {
  assert.equal((await fetch(`${server.url}/nope.js`)).status, 404);
  assert.equal((await fetch(`${server.url}/dist`)).status, 404);
  const escape = await fetch(`${server.url}/..%2fsecret.txt`);
  assert.equal(escape.status, 403);
  assert.doesNotMatch(await escape.text(), /outside the root/);
  assert.equal((await fetch(`${server.url}/page.html`, { method: 'POST', body: 'x' })).status, 405);
});

test('records every request with its status', async () => {
  const seen = server.requests.map((r) => `${r.status} ${r.path}`);
  assert.ok(seen.includes('200 /dist/index.js'));
  assert.ok(seen.includes('404 /nope.js'));
  assert.ok(seen.includes('403 /..%2fsecret.txt'));
});
