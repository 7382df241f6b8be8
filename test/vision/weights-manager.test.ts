import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, statSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { vggSpec } from '../../electron/vision/arch.js';
import { encodeSafetensors } from '../../electron/vision/safetensors.js';
import {
  downloadWeights,
  findInstalledWeights,
  importLocalWeights,
  listWeights,
  nameFromUrl,
} from '../../electron/vision/weights-manager.js';
import type { SortaError } from '../../electron/shared/errors.js';
import { CancelledError } from '../../electron/shared/errors.js';
import { randomVggWeights } from '../helpers/random-vgg.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const smallFile = (arch: 'vgg11_bn' | 'vgg11', seed = 1) =>
  Buffer.concat(
    encodeSafetensors(
      randomVggWeights(vggSpec(arch, { widthScale: 1 / 16, hidden: 64, numClasses: 5 }), { seed }).tensors,
    ),
  );

interface Served {
  body: Buffer;
  etag?: string;
  /** Close the connection after this many body bytes, for the first `cuts` requests. */
  cutAfter?: number;
  cuts?: number;
  ignoreRange?: boolean;
  status?: number;
  /** Send the body in small pieces with pauses (for cancel tests). */
  slow?: boolean;
  /** Send this many body bytes, then nothing more (the connection stays open), for the first request. */
  stallAfter?: number;
}

describe('weights manager (loopback HTTP server)', () => {
  let server: Server;
  let base: string;
  let dir: string;
  const routes = new Map<string, Served>();
  const requests: { path: string; headers: IncomingMessage['headers'] }[] = [];

  function serve(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    requests.push({ path, headers: req.headers });
    if (path === '/redirect') {
      res.writeHead(302, { location: '/hub/resolve/main/model.safetensors' });
      res.end();
      return;
    }
    const route = routes.get(path);
    if (!route || route.status === 404) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    const { body, etag } = route;
    const match = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'];
    let start = 0;
    if (match && !route.ignoreRange && (!ifRange || ifRange === etag)) start = Number(match[1]);
    const headers: Record<string, string | number> = { 'content-length': body.length - start };
    if (etag) headers.etag = etag;
    if (start > 0) {
      headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
      res.writeHead(206, headers);
    } else {
      res.writeHead(200, headers);
    }
    const rest = body.subarray(start);
    if (route.cutAfter !== undefined && (route.cuts ?? 1) > 0) {
      route.cuts = (route.cuts ?? 1) - 1;
      res.write(rest.subarray(0, route.cutAfter), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    if (route.stallAfter !== undefined) {
      const stallAfter = route.stallAfter;
      route.stallAfter = undefined;
      res.write(rest.subarray(0, stallAfter));
      return;
    }
    if (route.slow) {
      let offset = 0;
      const tick = () => {
        if (res.destroyed) return;
        if (offset >= rest.length) return void res.end();
        res.write(rest.subarray(offset, offset + 4096));
        offset += 4096;
        setTimeout(tick, 20);
      };
      tick();
      return;
    }
    res.end(rest);
  }

  before(async () => {
    server = createServer(serve);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sorta-weights-'));
    routes.clear();
    requests.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const installedFiles = () => readdirSync(dir).filter((f) => f.endsWith('.safetensors'));

  it('downloads through a redirect with progress events, verifies, installs and lists the file', async () => {
    const body = smallFile('vgg11_bn');
    routes.set('/hub/resolve/main/model.safetensors', { body, etag: '"v1"' });
    const progress: { bytes: number; total: number | null; bytesPerSecond: number }[] = [];
    const installed = await downloadWeights({
      url: `${base}/redirect`,
      arch: 'vgg11_bn',
      name: 'small',
      dir,
      sha256: sha256(body),
      onProgress: (p) => progress.push(p),
    });
    assert.equal(installed.path, join(dir, 'small.safetensors'));
    assert.equal(sha256(readFileSync(installed.path)), sha256(body));
    assert.equal(installed.sha256, sha256(body));
    assert.equal(installed.size, body.length);
    assert.deepEqual(installed.classifier, { hidden: 64, numClasses: 5 });
    assert.ok(progress.length >= 1);
    assert.deepEqual(progress.at(-1)!.bytes, body.length);
    assert.equal(progress.at(-1)!.total, body.length);
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i].bytes >= progress[i - 1].bytes);
    assert.ok(progress.every((p) => p.bytesPerSecond >= 0));
    assert.deepEqual(
      requests.map((r) => r.path),
      ['/redirect', '/hub/resolve/main/model.safetensors'],
    );
    const [entry] = await listWeights({ dir });
    assert.equal(entry.status, 'ok');
    assert.equal((await findInstalledWeights('vgg11_bn', { dir }))?.sha256, sha256(body));
    assert.equal(await findInstalledWeights('vgg16_bn', { dir }), null);
    // Already installed with that checksum: no second transfer.
    await downloadWeights({ url: `${base}/redirect`, arch: 'vgg11_bn', name: 'small', dir });
    assert.equal(requests.length, 2);
  });

  it('resumes an interrupted transfer with Range and If-Range on the next run, ending with the right bytes', async () => {
    const body = smallFile('vgg11_bn', 2);
    routes.set('/w.safetensors', { body, etag: '"abc"', cutAfter: 150_000, cuts: 1 });
    const options = { url: `${base}/w.safetensors`, arch: 'vgg11_bn' as const, dir, retries: 0 };
    await assert.rejects(downloadWeights(options), (error: SortaError) => {
      assert.equal(error.code, 'io');
      assert.match(error.message, /interrupted after \d+ of \d+ bytes.*run it again to resume/);
      return true;
    });
    assert.deepEqual(installedFiles(), []);
    const partial = (await listWeights({ dir })).find((e) => e.status === 'partial');
    assert.ok(partial && partial.status === 'partial');
    const kept = statSync(join(dir, 'w.safetensors.part')).size;
    assert.ok(kept > 0 && kept < body.length, `part file holds ${kept} bytes`);
    assert.equal(partial.bytes, kept);

    const installed = await downloadWeights(options);
    assert.equal(requests.length, 2);
    assert.equal(requests[1].headers.range, `bytes=${kept}-`);
    assert.equal(requests[1].headers['if-range'], '"abc"');
    assert.equal(sha256(readFileSync(installed.path)), sha256(body));
    assert.ok(!existsSync(join(dir, 'w.safetensors.part')));
  });

  it('resumes within one call when retries are allowed', async () => {
    const body = smallFile('vgg11_bn', 3);
    routes.set('/w.safetensors', { body, etag: '"e"', cutAfter: 100_000, cuts: 2 });
    const installed = await downloadWeights({
      url: `${base}/w.safetensors`,
      arch: 'vgg11_bn',
      dir,
      retryDelayMs: 5,
    });
    assert.equal(requests.length, 3);
    assert.equal(requests[0].headers.range, undefined);
    assert.match(String(requests[1].headers.range), /^bytes=\d+-$/);
    assert.equal(sha256(readFileSync(installed.path)), sha256(body));
  });

  it('drops a stalled connection after the idle timeout and resumes', async () => {
    const body = smallFile('vgg11_bn', 12);
    routes.set('/stall', { body, etag: '"st"', stallAfter: 90_000 });
    const installed = await downloadWeights({
      url: `${base}/stall`,
      arch: 'vgg11_bn',
      dir,
      idleTimeoutMs: 300,
      retryDelayMs: 5,
    });
    assert.equal(requests.length, 2);
    assert.match(String(requests[1].headers.range), /^bytes=\d+-$/);
    assert.equal(sha256(readFileSync(installed.path)), sha256(body));
  });

  it('starts over when the server ignores Range, without duplicating bytes', async () => {
    const body = smallFile('vgg11_bn', 4);
    routes.set('/w.safetensors', { body, etag: '"e"', cutAfter: 120_000, cuts: 1, ignoreRange: true });
    const installed = await downloadWeights({
      url: `${base}/w.safetensors`,
      arch: 'vgg11_bn',
      dir,
      retryDelayMs: 5,
    });
    assert.match(String(requests[1].headers.range), /^bytes=\d+-$/);
    assert.equal(statSync(installed.path).size, body.length);
    assert.equal(sha256(readFileSync(installed.path)), sha256(body));
  });

  it('starts over when the file changed on the server (If-Range no longer matches)', async () => {
    const oldBody = smallFile('vgg11_bn', 5);
    const newBody = smallFile('vgg11_bn', 6);
    routes.set('/w.safetensors', { body: oldBody, etag: '"old"', cutAfter: 120_000, cuts: 1 });
    await assert.rejects(
      downloadWeights({ url: `${base}/w.safetensors`, arch: 'vgg11_bn', dir, retries: 0 }),
    );
    routes.set('/w.safetensors', { body: newBody, etag: '"new"' });
    const installed = await downloadWeights({ url: `${base}/w.safetensors`, arch: 'vgg11_bn', dir });
    assert.equal(requests[1].headers['if-range'], '"old"');
    assert.equal(sha256(readFileSync(installed.path)), sha256(newBody));
  });

  it('reports a 404 clearly and installs nothing', async () => {
    await assert.rejects(
      downloadWeights({ url: `${base}/missing.safetensors`, arch: 'vgg11_bn', dir }),
      (error: SortaError) =>
        error.code === 'not-found' && /missing\.safetensors: HTTP 404/.test(error.message),
    );
    assert.deepEqual(readdirSync(dir), []);
  });

  it('refuses a file that is not safetensors, has the wrong shapes or the wrong SHA-256, keeping a good install', async () => {
    const good = smallFile('vgg11_bn', 7);
    routes.set('/good', { body: good });
    routes.set('/junk', { body: Buffer.from('<html>this is a login page, not weights</html>') });
    routes.set('/other-arch', { body: smallFile('vgg11', 8) });
    const first = await downloadWeights({ url: `${base}/good`, arch: 'vgg11_bn', name: 'w', dir });

    const attempts: [string, RegExp, string?][] = [
      ['/junk', /refused: .*not a safetensors|refused: .*header/i],
      ['/other-arch', /refused: .*does not fit vgg11_bn.*features\.1/],
      ['/good', /refused: .*SHA-256 [0-9a-f]{64}, expected 0{64}/, '0'.repeat(64)],
    ];
    for (const [path, message, expectedSha] of attempts) {
      await assert.rejects(
        downloadWeights({ url: `${base}${path}`, arch: 'vgg11_bn', name: 'w', dir, sha256: expectedSha }),
        (error: SortaError) => {
          assert.equal(error.code, 'invalid-weights');
          assert.match(error.message, message);
          return true;
        },
      );
      // Nothing left behind, and the good file is still the installed one.
      assert.deepEqual(readdirSync(dir).sort(), ['w.safetensors', 'w.safetensors.meta.json']);
      assert.equal(sha256(readFileSync(first.path)), sha256(good));
      const [entry] = await listWeights({ dir });
      assert.equal(entry.status, 'ok');
      assert.equal((entry as { source: string }).source, `${base}/good`);
    }
  });

  it('cancels with an AbortSignal: nothing installed, the part file kept for a later resume', async () => {
    const body = smallFile('vgg11_bn', 9);
    routes.set('/slow', { body, etag: '"s"', slow: true });
    const controller = new AbortController();
    await assert.rejects(
      downloadWeights({
        url: `${base}/slow`,
        arch: 'vgg11_bn',
        dir,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.bytes > 0) controller.abort();
        },
      }),
      (error: unknown) => error instanceof CancelledError,
    );
    assert.deepEqual(installedFiles(), []);
    assert.ok(existsSync(join(dir, 'slow.safetensors.part')));
  });

  it('runs one download per file: a second one is refused while the first runs, a stale lock is taken over', async () => {
    const body = smallFile('vgg11_bn', 13);
    routes.set('/slow', { body, etag: '"s"', slow: true });
    const options = { url: `${base}/slow`, arch: 'vgg11_bn' as const, dir, name: 'one' };
    const first = downloadWeights(options);
    await assert.rejects(downloadWeights(options), (error: SortaError) => {
      assert.equal(error.code, 'conflict');
      assert.match(error.message, /already being downloaded .* \(by this process\)/);
      return true;
    });
    await first;
    // Another live process holds the lock (our parent stands in for it).
    const lock = join(dir, 'two.safetensors.part.lock');
    writeFileSync(lock, String(process.ppid));
    routes.set('/fast', { body, etag: '"f"' });
    await assert.rejects(
      downloadWeights({ url: `${base}/fast`, arch: 'vgg11_bn', dir, name: 'two' }),
      new RegExp(`by process ${process.ppid}`),
    );
    // The lock of a process that has exited is stale.
    const exited = spawnSync(process.execPath, ['-e', '']);
    assert.equal(exited.status, 0);
    writeFileSync(lock, String(exited.pid));
    const installed = await downloadWeights({ url: `${base}/fast`, arch: 'vgg11_bn', dir, name: 'two' });
    assert.equal(sha256(readFileSync(installed.path)), sha256(body));
    assert.ok(!existsSync(lock));
  });

  it('imports a local file by copy or by reference after the same verification, refusing bad ones', async () => {
    const good = smallFile('vgg11_bn', 10);
    const source = join(dir, '..', `sorta-import-${process.pid}.safetensors`);
    writeFileSync(source, good);
    try {
      const copy = await importLocalWeights(source, { arch: 'vgg11_bn', dir, name: 'mine' });
      assert.equal(copy.path, join(dir, 'mine.safetensors'));
      assert.equal(sha256(readFileSync(copy.path)), sha256(good));
      const ref = await importLocalWeights(source, { arch: 'vgg11_bn', dir, name: 'ref', mode: 'reference' });
      assert.equal(ref.path, source);
      assert.equal(ref.kind, 'reference');
      assert.deepEqual(
        (await listWeights({ dir })).map((e) => [e.name, e.status]),
        [
          ['mine', 'ok'],
          ['ref', 'ok'],
        ],
      );
      await assert.rejects(
        importLocalWeights(source, { arch: 'vgg16', dir, name: 'bad' }),
        /does not fit vgg16/,
      );
      await assert.rejects(
        importLocalWeights(join(dir, 'nope.safetensors'), { arch: 'vgg11_bn', dir }),
        /nope\.safetensors: no such file/,
      );
      assert.ok(!existsSync(join(dir, 'bad.safetensors')));
      rmSync(source);
      const refEntry = (await listWeights({ dir })).find((e) => e.name === 'ref');
      assert.equal(refEntry?.status, 'missing');
    } finally {
      rmSync(source, { force: true });
    }
  });

  it('names files from hub URLs after the repository', () => {
    assert.equal(
      nameFromUrl('https://huggingface.co/timm/vgg16_bn.tv_in1k/resolve/main/model.safetensors'),
      'vgg16_bn.tv_in1k',
    );
    assert.equal(nameFromUrl('http://127.0.0.1:8080/files/vgg19.safetensors'), 'vgg19');
  });
});
