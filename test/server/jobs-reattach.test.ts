/**
 * What a page needs after a reload, through the web API: `jobs.running` with the progress and curves so far,
 * a second fine-tune of the same project refused while one runs, cancel from "another page", `job.finished`
 * carrying the title and the result, `jobs.recent` reporting what no page acknowledged, remembered training
 * options, and `jobs.history` telling how many files went where.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClient, type SortaClient } from '../../electron/contract/client.js';
import type { EventOf, SortaEvent } from '../../electron/contract/index.js';
import type { WebTransport } from '../../electron/contract/web-transport.js';
import type { SortaError } from '../../electron/shared/errors.js';
import { loadFashionMnist, writeFashionPngs } from '../helpers/fashion-mnist-png.js';
import { snapshot } from '../sort/helpers.js';
import { writeSmallBackbone } from '../train/helpers.js';
import { connectWebClient, startHarness, type Harness } from './helpers.js';

let h: Harness;
let transport: WebTransport;
let api: SortaClient;
let events: SortaEvent[];
let inbox: string;
const previousDataDir = process.env.SORTA_DATA_DIR;
const CLASSES = ['bag', 'trouser', 'sneaker'] as const;

/** Resolves with the first event (already received or coming) that matches. */
function nextEvent<T extends SortaEvent>(match: (e: SortaEvent) => e is T): Promise<T> {
  const seen = events.find(match);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve) => {
    const stop = api.onAny((event) => {
      if (match(event)) {
        stop();
        resolve(event);
      }
    });
  });
}

before(async () => {
  h = await startHarness();
  process.env.SORTA_DATA_DIR = join(h.dir, 'app-data');
  inbox = join(h.dir, 'inbox');
  const set = loadFashionMnist('t10k');
  await writeFashionPngs(set, join(h.dir, 'labelled'), { classes: [...CLASSES], perClass: 8, folders: true });
  mkdirSync(inbox);
  await writeFashionPngs(set, inbox, { classes: [...CLASSES], perClass: 2, start: 3000 });
  ({ transport, api, events } = await connectWebClient(h));
  const weights = join(h.dir, 'small-vgg11_bn.safetensors');
  writeSmallBackbone(weights, { arch: 'vgg11_bn' });
  await api.invoke('project.open', { path: join(h.dir, 'jobs.sorta') });
  await api.invoke('import.folder', { path: join(h.dir, 'labelled') });
  await api.invoke('weights.import', { path: weights, arch: 'vgg11_bn' });
});

after(async () => {
  transport.close();
  await h.close();
  if (previousDataDir === undefined) delete process.env.SORTA_DATA_DIR;
  else process.env.SORTA_DATA_DIR = previousDataDir;
});

describe('jobs survive the page', () => {
  it('a running fine-tune is listed with its curves so far, refuses a twin, and cancels from another client', async () => {
    // No validation split: no early stopping, so 1000 epochs keep it running until it is cancelled.
    const params = { arch: 'vgg11_bn' as const, inputSize: 32, epochs: 1000, valSplit: 0, seed: 3 };
    const first = api.invoke('train.start', { params, jobId: 'train-long' });
    first.catch(() => {});
    await nextEvent((e): e is EventOf<'train.epoch'> => e.type === 'train.epoch' && e.jobId === 'train-long');

    // A page that loads now: a fresh client, no events seen.
    const other = createClient(transport);
    const running = await other.invoke('jobs.running');
    const job = running.find((j) => j.jobId === 'train-long');
    assert.ok(job, `the fine-tune is listed: ${JSON.stringify(running.map((j) => j.jobId))}`);
    assert.equal(job.kind, 'train');
    assert.equal(job.title, 'Fine-tuning');
    assert.ok(job.epochs.length >= 1, 'the epochs so far');
    assert.deepEqual(
      job.epochs.map((e) => e.epoch),
      job.epochs.map((_, i) => i + 1),
    );
    assert.equal(job.epochs[0]!.epochs, 1000);
    assert.equal(job.phase?.phase, 'training');
    assert.deepEqual(job.input, { params });

    await assert.rejects(
      other.invoke('train.start', { params, jobId: 'train-twin' }),
      (error: SortaError) =>
        error.code === 'conflict' && /fine-tune of .*jobs\.sorta is already running/.test(error.message),
    );
    assert.deepEqual(
      (await other.invoke('jobs.running')).map((j) => j.jobId),
      ['train-long'],
    );

    assert.deepEqual(await other.invoke('jobs.cancel', { jobId: 'train-long' }), { cancelled: true });
    await assert.rejects(first, (error: SortaError) => error.code === 'cancelled');
    const finished = await nextEvent(
      (e): e is EventOf<'job.finished'> => e.type === 'job.finished' && e.jobId === 'train-long',
    );
    assert.equal(finished.state, 'cancelled');
    assert.equal(finished.title, 'Fine-tuning');
    assert.deepEqual(await other.invoke('jobs.running'), []);
    assert.equal((await api.invoke('models.list')).length, 0, 'a cancelled run keeps no model');
  });

  it('remembers the options of the last fine-tune per project', async () => {
    const options = await api.invoke('train.options');
    assert.equal(options.inputSize, 32);
    assert.equal(options.epochs, 1000);
    assert.equal(options.valSplit, 0);
    const defaults = await api.invoke('train.defaults');
    assert.equal(defaults.inputSize, 224, 'the defaults stay the defaults');
    await api.invoke('train.rememberOptions', { params: { ...options, inputSize: 48 } });
    assert.equal((await api.invoke('train.options')).inputSize, 48);
  });

  it('reports finished jobs until a page acknowledges them', async () => {
    const unseen = await api.invoke('jobs.recent', { unacknowledged: true });
    const ids = unseen.map((j) => j.jobId);
    assert.ok(ids.includes('train-long'), ids.join(', '));
    const train = unseen.find((j) => j.jobId === 'train-long')!;
    assert.equal(train.state, 'cancelled');
    assert.equal(train.error?.code, 'cancelled');
    await api.invoke('jobs.acknowledge', { jobIds: ids });
    assert.deepEqual(await api.invoke('jobs.recent', { unacknowledged: true }), []);
    assert.ok((await api.invoke('jobs.recent')).some((j) => j.jobId === 'train-long' && j.acknowledged));
  });

  it('a finished job carries its result, and the history says where the files went', async () => {
    const trained = await api.invoke('train.start', {
      params: { arch: 'vgg11_bn', inputSize: 32, epochs: 3, seed: 1 },
      jobId: 'train-short',
    });
    const done = events.find((e) => e.type === 'job.finished' && e.jobId === 'train-short');
    assert.deepEqual(done?.type === 'job.finished' && done.result, trained);

    const classified = await api.invoke('classify.run', { dir: inbox, jobId: 'classify-1' });
    const original = snapshot(inbox);
    const outDir = join(h.dir, 'sorted');
    const sorted = await api.invoke('sort.run', {
      job: classified.job,
      outDir,
      threshold: 0,
      mode: 'move',
      jobId: 'sort-1',
    });
    const recent = await api.invoke('jobs.recent', { unacknowledged: true });
    assert.deepEqual(recent.find((j) => j.jobId === 'sort-1')?.result, sorted);

    let history = await api.invoke('jobs.history');
    const sortRow = history.find((j) => j.id === sorted.job)!;
    assert.equal(sortRow.kind, 'sort');
    assert.equal(sortRow.mode, 'move');
    assert.equal(sortRow.parentJobId, classified.job);
    assert.equal(sortRow.outDir, outDir);
    assert.equal(sortRow.files, 6);
    assert.deepEqual(sortRow.placed, sorted.sorted);
    assert.equal(sortRow.undoable, true);
    const classifyRow = history.find((j) => j.id === classified.job)!;
    assert.equal(classifyRow.files, 6);
    assert.equal(classifyRow.sourceDir, inbox);

    await api.invoke('sort.undo', { job: sorted.job });
    assert.deepEqual(snapshot(inbox), original);
    history = await api.invoke('jobs.history');
    const undone = history.find((j) => j.id === sorted.job)!;
    assert.equal(undone.undoable, false);
    assert.equal(undone.undoneFiles, 6);
    assert.deepEqual(undone.placed, {});
  });
});
