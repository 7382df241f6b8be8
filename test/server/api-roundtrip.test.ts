/**
 * The contract over HTTP + WebSocket against a real project: the web client (the one the renderer uses) calls a
 * real `sorta serve` server backed by real SQLite and real Fashion-MNIST PNGs; every step is checked in the
 * database itself, not only in the replies.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { SortaClient } from '../../electron/contract/client.js';
import type { SortaEvent } from '../../electron/contract/index.js';
import type { WebTransport } from '../../electron/contract/web-transport.js';
import { SortaError } from '../../electron/shared/errors.js';
import { loadFashionMnist, writeFashionPngs } from '../helpers/fashion-mnist-png.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { connectWebClient, startHarness, type Harness } from './helpers.js';

let h: Harness;
let transport: WebTransport;
let api: SortaClient;
let events: SortaEvent[];
let projectPath: string;
let imagesDir: string;

function db() {
  return new Database(projectPath, { readonly: true, fileMustExist: true });
}

function waitFor(predicate: (event: SortaEvent) => boolean, timeoutMs = 20_000): Promise<SortaEvent> {
  const found = events.find(predicate);
  if (found) return Promise.resolve(found);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('event did not arrive')), timeoutMs);
    const stop = api.onAny((event) => {
      if (!predicate(event)) return;
      clearTimeout(timer);
      stop();
      resolve(event);
    });
  });
}

before(async () => {
  h = await startHarness();
  projectPath = join(h.dir, 'photos.sorta');
  imagesDir = join(h.dir, 'images');
  const set = loadFashionMnist('t10k');
  await writeFashionPngs(set, imagesDir, {
    classes: ['bag', 'sandal', 'trouser'],
    perClass: 4,
    folders: true,
  });
  await writeFashionPngs(set, imagesDir, { classes: ['dress'], perClass: 3, start: 500, prefix: 'loose-' });
  ({ transport, api, events } = await connectWebClient(h));
});

after(async () => {
  transport.close();
  await h.close();
});

describe('a project through the web API', () => {
  it('starts with no project, then creates one on disk', async () => {
    assert.equal(await api.invoke('project.current'), null);
    const info = await api.invoke('project.open', { path: projectPath });
    assert.equal(info.path, projectPath);
    assert.equal(info.name, 'photos');
    assert.equal(info.imageCount, 0);
    assert.ok(existsSync(projectPath));
    const changed = await waitFor((e) => e.type === 'project.changed');
    assert.equal(changed.type === 'project.changed' && changed.project?.path, projectPath);
    const recent = await api.invoke('project.recent');
    assert.equal(recent[0]?.path, projectPath);
  });

  it('imports a folder as a job with progress events, folder names becoming classes', async () => {
    const result = await api.invoke('import.folder', { path: imagesDir, jobId: 'import-1' });
    assert.equal(result.imported, 15);
    assert.equal(result.labeled, 12);
    assert.deepEqual([...result.classes].sort(), ['bag', 'sandal', 'trouser']);
    assert.deepEqual(result.errors, []);
    await waitFor((e) => e.type === 'job.finished' && e.jobId === 'import-1');
    const mine = events.filter((e) => 'jobId' in e && e.jobId === 'import-1').map((e) => e.type);
    assert.equal(mine[0], 'job.started');
    assert.ok(mine.includes('job.progress'));
    const finished = events.find((e) => e.type === 'job.finished' && e.jobId === 'import-1');
    assert.equal(finished?.type === 'job.finished' && finished.state, 'done');
    const database = db();
    try {
      assert.equal((database.prepare('SELECT count(*) AS n FROM images').get() as { n: number }).n, 15);
      assert.equal((database.prepare('SELECT count(*) AS n FROM labels').get() as { n: number }).n, 12);
    } finally {
      database.close();
    }
    const info = await api.invoke('project.current');
    assert.equal(info?.imageCount, 15);
    assert.equal(info?.labelledCount, 12);
    assert.equal(info?.classCount, 3);
  });

  it('lists classes with counts, queries images, labels in bulk, undoes and redoes', async () => {
    const classes = await api.invoke('classes.list');
    assert.deepEqual(classes.map((c) => [c.name, c.count]).sort(), [
      ['bag', 4],
      ['sandal', 4],
      ['trouser', 4],
    ]);
    const page = await api.invoke('images.query', { filter: { unlabelled: true } });
    assert.equal(page.total, 3);
    assert.ok(page.items.every((item) => item.name.startsWith('loose-dress') && item.classId === null));
    const dress = await api.invoke('classes.create', { name: 'dress' });
    assert.equal(dress.count, 0);
    const ids = page.items.map((item) => item.id);
    const set = await api.invoke('labels.set', { imageIds: ids, classId: dress.id });
    assert.equal(set.changed, 3);
    assert.equal(set.canUndo, true);
    const labelled = () => {
      const database = db();
      try {
        return database
          .prepare('SELECT l.image_id AS id, l.source FROM labels l WHERE l.class_id = ? ORDER BY l.image_id')
          .all(dress.id) as { id: number; source: string }[];
      } finally {
        database.close();
      }
    };
    assert.deepEqual(
      labelled(),
      [...ids].sort((a, b) => a - b).map((id) => ({ id, source: 'human' })),
    );
    assert.deepEqual(
      (await api.invoke('images.ids', { filter: { classId: dress.id } })).sort(),
      [...ids].sort(),
    );
    const undone = await api.invoke('labels.undo');
    assert.equal(undone.changed, 3);
    assert.equal(undone.canRedo, true);
    assert.deepEqual(labelled(), []);
    const redone = await api.invoke('labels.redo');
    assert.equal(redone.changed, 3);
    assert.equal(labelled().length, 3);
    const cleared = await api.invoke('labels.set', { imageIds: [ids[0]!], classId: null });
    assert.equal(cleared.changed, 1);
    assert.equal(labelled().length, 2);
    await waitFor((e) => e.type === 'data.changed' && e.topics.includes('labels'));
  });

  it('serves thumbnails of registered images only', async () => {
    const page = await api.invoke('images.query', { limit: 1 });
    const image = page.items[0]!;
    const response = await fetch(api.mediaUrl({ kind: 'image', id: image.id }, 'thumb'));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'image/webp');
    const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
    assert.equal(meta.format, 'webp');
    assert.ok((meta.width ?? 0) > 0);
    const unknown = await fetch(api.mediaUrl({ kind: 'image', id: 15 + 1000 }, 'thumb'));
    assert.equal(unknown.status, 404);
  });

  it('rejects with SortaError codes: bad input, unknown class, no such job', async () => {
    await assert.rejects(
      api.invoke('labels.set', { imageIds: [], classId: 1 }),
      (error: unknown) => error instanceof SortaError && error.code === 'invalid-input',
    );
    await assert.rejects(
      api.invoke('labels.set', { imageIds: [1], classId: 999 }),
      (error: unknown) => error instanceof SortaError && error.code === 'not-found',
    );
    assert.deepEqual(await api.invoke('jobs.cancel', { jobId: 'nothing-running' }), { cancelled: false });
    assert.deepEqual(await api.invoke('jobs.running'), []);
  });

  it('gives image details, exports labels, lists folders, describes the system', async () => {
    const [first] = (await api.invoke('images.query', { filter: { text: 'bag-00' } })).items;
    assert.ok(first);
    const detail = await api.invoke('images.get', { id: first.id });
    assert.equal(detail.path, first.path);
    assert.equal(detail.rootPath, imagesDir);
    assert.equal(detail.size, readFileSync(first.path).length);
    assert.equal(detail.hash, createHash('sha256').update(readFileSync(first.path)).digest('hex'));
    assert.deepEqual([detail.width, detail.height], [28, 28]);

    const csv = join(h.dir, 'labels.csv');
    const exported = await api.invoke('labels.export', { path: csv, format: 'csv' });
    const lines = readFileSync(csv, 'utf8').trim().split('\r\n'); // RFC 4180 line ends
    assert.equal(exported.count, lines.length - 1);
    assert.ok(lines.some((line) => line.includes('bag-00.png') && line.endsWith(',bag')));
    await assert.rejects(
      api.invoke('labels.export', { path: csv, format: 'csv' }),
      (error: unknown) => error instanceof SortaError && error.code === 'conflict',
    );
    await assert.rejects(
      api.invoke('labels.export', { path: join(h.dir, 'labels.txt'), format: 'json' }),
      (error: unknown) => error instanceof SortaError && error.code === 'invalid-input',
    );

    const listing = await api.invoke('fs.list', { path: h.dir });
    assert.equal(listing.path, h.dir);
    const kinds = new Map(listing.entries.map((e) => [e.name, e.kind]));
    assert.equal(kinds.get('images'), 'dir');
    assert.equal(kinds.get('photos.sorta'), 'project');
    assert.equal(kinds.has('labels.csv'), false);
    const inside = await api.invoke('fs.list', { path: join(imagesDir, 'bag') });
    assert.equal(inside.parent, imagesDir);
    assert.equal(inside.entries.filter((e) => e.kind === 'image').length, 4);

    const info = await api.invoke('system.info');
    assert.equal(info.mode, 'web');
    assert.equal(info.version, JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version);
    assert.equal(typeof info.compute.gpu, 'boolean');
  });

  it('merges and deletes classes, saying how many labels went', async () => {
    const classes = await api.invoke('classes.list');
    const bag = classes.find((c) => c.name === 'bag')!;
    const sandal = classes.find((c) => c.name === 'sandal')!;
    const merged = await api.invoke('classes.merge', { sourceId: sandal.id, targetId: bag.id });
    assert.equal(merged.moved, 4);
    assert.equal(merged.classes.find((c) => c.id === bag.id)?.count, 8);
    const deleted = await api.invoke('classes.delete', { id: bag.id });
    assert.equal(deleted.labelsRemoved, 8);
    const database = db();
    try {
      assert.equal((database.prepare('SELECT count(*) AS n FROM labels').get() as { n: number }).n, 4 + 2);
      assert.equal((database.prepare('SELECT count(*) AS n FROM images').get() as { n: number }).n, 15);
    } finally {
      database.close();
    }
  });

  it('cancels a running import through jobs.cancel', async () => {
    const big = join(h.dir, 'big');
    await writeFashionPngs(loadFashionMnist('t10k'), big, {
      classes: ['coat', 'shirt'],
      perClass: 60,
      start: 1000,
      folders: true,
    });
    const running = api.invoke('import.folder', { path: big, jobId: 'import-big' });
    await waitFor((e) => e.type === 'job.progress' && e.jobId === 'import-big');
    assert.deepEqual(
      (await api.invoke('jobs.running')).map((job) => [job.jobId, job.kind]),
      [['import-big', 'import']],
    );
    assert.deepEqual(await api.invoke('jobs.cancel', { jobId: 'import-big' }), { cancelled: true });
    await assert.rejects(
      running,
      (error: unknown) => error instanceof SortaError && error.code === 'cancelled',
    );
    const finished = await waitFor((e) => e.type === 'job.finished' && e.jobId === 'import-big');
    assert.equal(finished.type === 'job.finished' && finished.state, 'cancelled');
    assert.deepEqual(await api.invoke('jobs.running'), []);
  });

  it('closes the project', async () => {
    assert.equal(await api.invoke('project.close'), null);
    assert.equal(await api.invoke('project.current'), null);
    await assert.rejects(
      api.invoke('classes.list'),
      (error: unknown) => error instanceof SortaError && error.code === 'not-found',
    );
  });
});
