/**
 * Web mode's defences, against a real server: the token on API, media and WebSocket; Host and Origin naming this
 * server; static files only from the renderer folder whatever the path encoding; media only for registered
 * images; never a CORS header.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { SECRET_TEXT, httpRequest, rawRequest, startHarness, type Harness } from './helpers.js';

let h: Harness;

before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

function api(
  method: string,
  options: { token?: string | null; headers?: Record<string, string>; query?: string } = {},
) {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  const token = options.token === undefined ? h.server.token : options.token;
  if (token !== null) headers['x-sorta-token'] = token;
  return httpRequest(h.server.port, `/api/${method}${options.query ?? ''}`, {
    method: 'POST',
    headers,
    body: '{}',
  });
}

/** Resolves with the HTTP status the upgrade was refused with, or 101 when the socket opened. */
function wsStatus(path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${h.server.port}${path}`, { headers });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', (error) => reject(error));
  });
}

function assertNoCors(headers: Record<string, unknown>) {
  for (const name of Object.keys(headers))
    assert.ok(!name.toLowerCase().startsWith('access-control-'), `unexpected CORS header ${name}`);
}

describe('token', () => {
  it('API calls without the token, or with a wrong one, are refused', async () => {
    const missing = await api('project.current', { token: null });
    assert.equal(missing.status, 401);
    assert.equal(JSON.parse(missing.body).ok, false);
    const wrong = await api('project.current', { token: h.server.token.slice(0, -1) + 'x' });
    assert.equal(wrong.status, 401);
    const short = await api('project.current', { token: 'x' });
    assert.equal(short.status, 401);
  });

  it('API calls with the token in the header or the query are answered', async () => {
    const header = await api('project.current');
    assert.equal(header.status, 200);
    assert.deepEqual(JSON.parse(header.body), { ok: true, value: null });
    const query = await api('project.current', { token: null, query: `?token=${h.server.token}` });
    assert.equal(query.status, 200);
  });

  it('the printed URL carries the token and names 127.0.0.1', () => {
    assert.equal(h.server.url, `http://127.0.0.1:${h.server.port}/?token=${h.server.token}`);
    assert.ok(h.server.token.length >= 40);
  });

  it('the WebSocket needs the token', async () => {
    assert.equal(await wsStatus('/ws'), 401);
    assert.equal(await wsStatus('/ws?token=wrong'), 401);
    assert.equal(await wsStatus(`/ws?token=${h.server.token}`), 101);
  });

  it('media need the token', async () => {
    const res = await httpRequest(h.server.port, '/media/image/1/thumb');
    assert.equal(res.status, 401);
  });
});

describe('Host and Origin', () => {
  it('a Host header naming another server is refused (DNS rebinding)', async () => {
    for (const host of [
      `evil.example:${h.server.port}`,
      'evil.example',
      `127.0.0.1:${h.server.port + 1}`,
      '',
    ]) {
      const res = await api('project.current', { headers: { host } });
      assert.equal(res.status, 421, `Host ${host}`);
      const page = await httpRequest(h.server.port, '/', { headers: { host } });
      assert.equal(page.status, 421, `Host ${host} for /`);
    }
    assert.equal(
      await wsStatus(`/ws?token=${h.server.token}`, { host: `evil.example:${h.server.port}` }),
      421,
    );
  });

  it('the loopback names of this server are accepted', async () => {
    for (const host of [`localhost:${h.server.port}`, `127.0.0.1:${h.server.port}`, `[::1]:${h.server.port}`])
      assert.equal((await api('project.current', { headers: { host } })).status, 200, host);
  });

  it('an Origin of another site is refused on API calls and the WebSocket', async () => {
    for (const origin of [
      'http://evil.example',
      `http://evil.example:${h.server.port}`,
      'null',
      `https://127.0.0.1:${h.server.port}`,
    ]) {
      const res = await api('project.current', { headers: { origin } });
      assert.equal(res.status, 403, origin);
      assertNoCors(res.headers);
    }
    assert.equal(await wsStatus(`/ws?token=${h.server.token}`, { origin: 'http://evil.example' }), 403);
  });

  it('our own Origin is accepted', async () => {
    const origin = `http://127.0.0.1:${h.server.port}`;
    assert.equal((await api('project.current', { headers: { origin } })).status, 200);
    assert.equal(await wsStatus(`/ws?token=${h.server.token}`, { origin }), 101);
  });

  it('API calls must be JSON POSTs (no form posts, no GET)', async () => {
    const form = await api('project.current', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(form.status, 415);
    const get = await httpRequest(h.server.port, `/api/project.current?token=${h.server.token}`);
    assert.equal(get.status, 405);
  });
});

describe('no CORS', () => {
  it('no response carries Access-Control-* headers, preflight included', async () => {
    const origin = 'http://evil.example';
    const responses = [
      await httpRequest(h.server.port, '/api/project.current', {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'x-sorta-token',
        },
      }),
      await httpRequest(h.server.port, '/', { headers: { origin } }),
      await api('project.current'),
      await httpRequest(h.server.port, '/assets/app.js'),
    ];
    for (const res of responses) assertNoCors(res.headers);
    assert.notEqual(responses[0]!.status, 200);
    assert.notEqual(responses[0]!.status, 204);
  });
});

describe('static files', () => {
  it('serves the renderer with a strict Content-Security-Policy', async () => {
    const index = await httpRequest(h.server.port, '/');
    assert.equal(index.status, 200);
    assert.match(index.body, /<title>Sorta<\/title>/);
    const csp = String(index.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /script-src[^;]*'unsafe-inline'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(index.headers['referrer-policy'], 'no-referrer');
    const js = await httpRequest(h.server.port, '/assets/app.js');
    assert.equal(js.status, 200);
    assert.match(String(js.headers['content-type']), /text\/javascript/);
    assert.equal(js.headers['x-content-type-options'], 'nosniff');
  });

  const attempts = [
    '/../secret.txt',
    '/assets/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E/secret.txt',
    '/%2e%2e%2fsecret.txt',
    '/..%2fsecret.txt',
    '/assets%2f..%2f..%2fsecret.txt',
    '/%252e%252e/secret.txt',
    '/%252e%252e%252fsecret.txt',
    '/..\\secret.txt',
    '/..%5csecret.txt',
    '/%5c..%5csecret.txt',
    '/assets\\..\\..\\secret.txt',
    '/secret.txt%00.js',
    '/index.html%00',
    '/%00/../secret.txt',
    '//secret.txt',
    '/link-file.txt',
    '/link-dir/secret.txt',
    '/link-dir/renderer/index.html',
    '/%c0%ae%c0%ae/secret.txt',
    '/.%2e/secret.txt',
    '/./../secret.txt',
  ];

  it('nothing outside the renderer folder, by any path encoding', async () => {
    const secretPath = encodeURI(h.secret);
    const targets = [
      ...attempts,
      secretPath,
      `/${secretPath}`,
      `/..${secretPath}`,
      '/etc/passwd',
      `http://127.0.0.1:${h.server.port}/../secret.txt`,
    ];
    for (const target of targets) {
      const res = await rawRequest(h.server.port, target);
      assert.ok(res.status >= 400 && res.status < 500, `${target} → ${res.status}`);
      assert.ok(!res.body.includes(SECRET_TEXT), `${target} leaked the secret`);
      assert.ok(!res.body.includes('root:'), `${target} leaked /etc/passwd`);
    }
  });

  it('the secret file really is there, one folder up (the attempts above aim at something)', async () => {
    const { readFileSync } = await import('node:fs');
    assert.equal(readFileSync(h.secret, 'utf8'), SECRET_TEXT);
  });
});

describe('media', () => {
  it('only images registered in the open project, by id', async () => {
    const token = `?token=${h.server.token}`;
    // No project open: nothing.
    assert.equal((await httpRequest(h.server.port, `/media/image/1/thumb${token}`)).status, 404);
    const open = await httpRequest(h.server.port, '/api/project.open', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sorta-token': h.server.token },
      body: JSON.stringify({ path: `${h.dir}/media.sorta` }),
    });
    assert.equal(open.status, 200, open.body);
    for (const target of [
      `/media/image/1/thumb${token}`,
      `/media/image/999999/full${token}`,
      `/media/image/0/thumb${token}`,
      `/media/image/-1/thumb${token}`,
      `/media/image/1/other${token}`,
      `/media/file/${encodeURIComponent(h.secret)}/full${token}`,
      `/media/image/..%2f..%2fsecret.txt/full${token}`,
      `/media/../secret.txt${token}`,
    ]) {
      const res = await rawRequest(h.server.port, target);
      assert.ok(res.status >= 400 && res.status < 500, `${target} → ${res.status}`);
      assert.ok(!res.body.includes(SECRET_TEXT));
    }
  });
});
