/**
 * The whole loop through the web API, as the UI drives it: import, install (small, generated) weights,
 * fine-tune with live events, inspect the model, classify a new folder, preview and run a sort with move, undo.
 * Files on disk and rows in SQLite are checked after each step.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SortaClient } from '../../electron/contract/client.js';
import type { SortaEvent } from '../../electron/contract/index.js';
import type { WebTransport } from '../../electron/contract/web-transport.js';
import { loadFashionMnist, writeFashionPngs } from '../helpers/fashion-mnist-png.js';
import { snapshot } from '../sort/helpers.js';
import { writeSmallBackbone } from '../train/helpers.js';
import { connectWebClient, startHarness, type Harness } from './helpers.js';

let h: Harness;
let transport: WebTransport;
let api: SortaClient;
let events: SortaEvent[];
let projectPath: string;
let inbox: string;
let outDir: string;
let weightsFile: string;
const previousDataDir = process.env.SORTA_DATA_DIR;

function query<T>(sql: string, ...params: unknown[]): T[] {
  const db = new Database(projectPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

before(async () => {
  h = await startHarness();
  process.env.SORTA_DATA_DIR = join(h.dir, 'app-data');
  projectPath = join(h.dir, 'loop.sorta');
  inbox = join(h.dir, 'inbox');
  outDir = join(h.dir, 'sorted');
  weightsFile = join(h.dir, 'small-vgg11_bn.safetensors');
  writeSmallBackbone(weightsFile, { arch: 'vgg11_bn' });
  const set = loadFashionMnist('t10k');
  await writeFashionPngs(set, join(h.dir, 'labelled'), {
    classes: ['bag', 'trouser', 'sneaker'],
    perClass: 6,
    folders: true,
  });
  mkdirSync(inbox);
  await writeFashionPngs(set, inbox, { classes: ['bag', 'trouser', 'sneaker'], perClass: 2, start: 2000 });
  ({ transport, api, events } = await connectWebClient(h));
});

after(async () => {
  transport.close();
  await h.close();
  if (previousDataDir === undefined) delete process.env.SORTA_DATA_DIR;
  else process.env.SORTA_DATA_DIR = previousDataDir;
});

describe('import, fine-tune, classify, sort, undo through the web API', () => {
  let classifyJob: number;
  let modelId: number;

  it('imports labelled folders and installs weights', async () => {
    await api.invoke('project.open', { path: projectPath });
    const imported = await api.invoke('import.folder', { path: join(h.dir, 'labelled') });
    assert.equal(imported.imported, 18);
    assert.equal(imported.labeled, 18);
    const before = await api.invoke('weights.status');
    assert.equal(before.find((w) => w.arch === 'vgg11_bn')?.present, false);
    const installed = await api.invoke('weights.import', { path: weightsFile, arch: 'vgg11_bn' });
    assert.equal(installed.present, true);
    assert.equal(installed.hasClassifier, true);
    assert.equal(installed.checksum, createHash('sha256').update(readFileSync(weightsFile)).digest('hex'));
  });

  it('fine-tunes with phase and epoch events, and records the model', async () => {
    const defaults = await api.invoke('train.defaults');
    assert.equal(defaults.headMode, 'auto');
    assert.ok(defaults.epochs >= 1);
    const result = await api.invoke('train.start', {
      params: { arch: 'vgg11_bn', inputSize: 64, epochs: 4, seed: 1 },
      jobId: 'train-1',
    });
    modelId = result.modelId;
    assert.deepEqual([...result.classes].sort(), ['bag', 'sneaker', 'trouser']);
    const mine = events.filter((e) => 'jobId' in e && e.jobId === 'train-1');
    assert.ok(mine.some((e) => e.type === 'train.phase' && e.phase === 'features'));
    const epochs = mine.filter((e) => e.type === 'train.epoch');
    assert.equal(epochs.length, result.epochs);
    assert.ok(mine.some((e) => e.type === 'job.finished' && e.state === 'done'));
    const rows = query<{ id: number; arch: string }>('SELECT id, arch FROM models');
    assert.deepEqual(rows, [{ id: modelId, arch: 'vgg11_bn' }]);

    const detail = await api.invoke('models.get', { id: modelId });
    assert.equal(detail.metrics.confusion.length, 3);
    assert.equal(detail.curves.trainLoss.length, result.epochs);
    // Each confusion cell opens exactly as many images as it counts.
    for (let a = 0; a < 3; a++)
      for (let p = 0; p < 3; p++) {
        const ids = await api.invoke('models.confusionImages', { id: modelId, actual: a, predicted: p });
        assert.equal(ids.length, detail.metrics.confusion[a]![p]);
      }
    assert.equal((await api.invoke('models.list')).length, 1);
    assert.equal((await api.invoke('project.current'))?.modelCount, 1);
  });

  it('classifies a new folder and pages through the results', async () => {
    const result = await api.invoke('classify.run', { dir: inbox, modelId, jobId: 'classify-1' });
    classifyJob = result.job;
    assert.equal(result.count, 6);
    assert.deepEqual(result.errors, []);
    const page = await api.invoke('classify.results', { job: classifyJob, order: 'confidence-asc' });
    assert.equal(page.total, 6);
    const confidences = page.items.map((p) => p.confidence!);
    assert.deepEqual(
      confidences,
      [...confidences].sort((a, b) => a - b),
    );
    for (const item of page.items) {
      assert.ok(['bag', 'sneaker', 'trouser'].includes(item.label!));
      assert.equal(item.path, join(inbox, item.file));
    }
    const thumb = await fetch(api.mediaUrl({ kind: 'prediction', id: page.items[0]!.id }, 'thumb'));
    assert.equal(thumb.status, 200);
    assert.equal(thumb.headers.get('content-type'), 'image/webp');
    const stored = query<{ n: number }>(
      'SELECT count(*) AS n FROM job_predictions WHERE job_id = ?',
      classifyJob,
    );
    assert.equal(stored[0]!.n, 6);
  });

  it('previews a sort without touching a file, then moves, then undoes exactly', async () => {
    const original = snapshot(inbox);
    const plan = await api.invoke('sort.plan', { job: classifyJob, outDir, threshold: 0, mode: 'move' });
    assert.equal(plan.total, 6);
    assert.equal(
      Object.values(plan.counts).reduce((a, b) => a + b, 0),
      6,
    );
    assert.deepEqual(snapshot(inbox), original);

    const sorted = await api.invoke('sort.run', {
      job: classifyJob,
      outDir,
      threshold: 0,
      mode: 'move',
      jobId: 'sort-1',
    });
    assert.deepEqual(sorted.errors, []);
    assert.deepEqual(sorted.sorted, plan.counts);
    assert.equal(snapshot(inbox).size, 0);
    const moved = snapshot(outDir);
    assert.equal(moved.size, 6);
    assert.deepEqual([...moved.values()].sort(), [...original.values()].sort());
    for (const [file] of moved) assert.ok(Object.keys(plan.counts).includes(file.split('/')[0]!), file);
    // The moved file is still shown, from where it is now.
    const first = (await api.invoke('classify.results', { job: classifyJob, limit: 1 })).items[0]!;
    const full = await fetch(api.mediaUrl({ kind: 'prediction', id: first.id }, 'full'));
    assert.equal(full.status, 200);

    const undone = await api.invoke('sort.undo', { job: sorted.job });
    assert.equal(undone.restored, 6);
    assert.deepEqual(undone.errors, []);
    assert.deepEqual(snapshot(inbox), original);
    const history = await api.invoke('jobs.history');
    assert.deepEqual(history.map((j) => j.kind).sort(), ['classify', 'sort', 'undo']);
  });
});
