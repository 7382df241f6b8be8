/**
 * Classify end to end on the real path: Fashion-MNIST images imported and labelled, a model fine-tuned by the real
 * trainer on a small random VGG backbone, then `sorta classify` / `sorta undo` (the built CLI; `npm run build` first)
 * over a new folder with subfolders, mixed-case extensions, a hidden file and a damaged image.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { classifyFolder, reviewOrder } from '../../electron/sort/classify.js';
import { importFolder } from '../../electron/store/import.js';
import {
  createJob,
  getJob,
  insertFileOps,
  jobPredictions,
  listJobs,
} from '../../electron/store/jobs-repo.js';
import { openProject } from '../../electron/store/project.js';
import { buildModelOnnx } from '../../electron/train/export.js';
import { trainProject } from '../../electron/train/train-project.js';
import { loadOrt } from '../../electron/vision/ort-engine.js';
import { preprocessBatch } from '../../electron/vision/preprocess.js';
import { queryImages } from '../../electron/store/images-query.js';
import { runSorta } from '../helpers/cli.js';
import { writeFashionFolders, writeSmallBackbone } from '../train/helpers.js';
import { removeDir, snapshot, tempDir, writeFiles } from './helpers.js';

const CLASSES = ['trouser', 'bag', 'sneaker'];
const INPUT_SIZE = 64;
/** New images per class in the folder to classify. */
const FRESH = 10;
const IMAGES = FRESH * CLASSES.length;

interface ClassifyDoc {
  job: number;
  predictions: { file: string; label: string; confidence: number; probs: Record<string, number> }[];
  sorted: Record<string, number>;
  errors: { file: string; error: string }[];
  folders: Record<string, string>;
  cancelled: boolean;
  failed: { file: string; error: string }[];
  notSorted: string[];
}

describe('classify a folder and sort it', () => {
  let work: string;
  let projectPath: string;
  let inbox: string;
  let modelId: number;

  before(async () => {
    work = tempDir('classify');
    await writeFashionFolders(join(work, 'train'), CLASSES, 30);
    const weights = join(work, 'backbone.safetensors');
    writeSmallBackbone(weights);
    projectPath = join(work, 'p.sorta');
    const project = openProject(projectPath);
    try {
      await importFolder(project, join(work, 'train'), { thumbnails: false });
      ({ modelId } = await trainProject(project, {
        weightsPath: weights,
        arch: 'vgg11_bn',
        inputSize: INPUT_SIZE,
        epochs: 20,
        seed: 2,
      }));
    } finally {
      project.close();
    }
    // The folder to classify: new images of the same classes, nested, some with upper-case extensions.
    const fresh = join(work, 'fresh');
    await writeFashionFolders(fresh, CLASSES, FRESH, { skip: 30 });
    inbox = join(work, 'inbox');
    mkdirSync(join(inbox, 'deeper', 'still'), { recursive: true });
    let n = 0;
    for (const [path] of snapshot(fresh)) {
      const name = path.split('/').pop()!;
      const target =
        n % 3 === 0 ? name : n % 3 === 1 ? `deeper/${name}` : `deeper/still/${name.replace('.png', '.PNG')}`;
      writeFileSync(join(inbox, target), readFileSync(join(fresh, path)));
      n++;
    }
    writeFileSync(join(inbox, 'damaged.jpg'), 'this is not a JPEG');
    writeFileSync(join(inbox, '.hidden.png'), readFileSync(join(fresh, [...snapshot(fresh).keys()][0])));
    writeFileSync(join(inbox, 'notes.txt'), 'not an image');
  });
  after(() => removeDir(work));

  it('predicts every image with the real fine-tuned network, in eval mode, and stores the job', async (t) => {
    const project = openProject(projectPath);
    try {
      const progress: number[] = [];
      const result = await classifyFolder(project, inbox, { onProgress: (p) => progress.push(p.done) });
      assert.equal(result.modelId, modelId, 'the newest model by default');
      assert.equal(result.predictions.length, IMAGES);
      assert.ok(
        result.predictions.some((p) => p.file.endsWith('.PNG')),
        'extensions in any case',
      );
      assert.ok(!result.predictions.some((p) => p.file.includes('hidden')), 'hidden files skipped');
      assert.deepEqual(
        result.errors.map((e) => e.file),
        ['damaged.jpg'],
      );
      assert.match(result.errors[0].error, /damaged\.jpg/);
      assert.equal(progress.at(-1), IMAGES + 1);

      // The same numbers as the exported graph run directly on ONNX Runtime, up to float32 rounding: classification
      // runs the CPU's Winograd form of the network, the export keeps plain Conv nodes (winograd.test.ts).
      const built = await buildModelOnnx(project, modelId);
      const files = result.predictions.map((p) => join(inbox, p.file));
      const batch = await preprocessBatch(files, INPUT_SIZE);
      const ort = loadOrt();
      const session = await ort.InferenceSession.create(built.onnx);
      const input = new ort.Tensor('float32', batch.data, [files.length, 3, INPUT_SIZE, INPUT_SIZE]);
      const probs = (await session.run({ input })).probs.data as Float32Array;
      await session.release();
      result.predictions.forEach((p, i) => {
        const row = Array.from(probs.subarray(i * 3, i * 3 + 3));
        const best = row.indexOf(Math.max(...row));
        assert.equal(p.label, built.classes[best], p.file);
        assert.ok(Math.abs(p.confidence - row[best]) < 1e-4);
        for (const [name, value] of Object.entries(p.probs))
          assert.ok(Math.abs(value - row[built.classes.indexOf(name)]) < 1e-4);
      });
      const correct = result.predictions.filter((p) => p.file.includes(p.label)).length;
      // Far above chance (a third): the predictions carry what the fine-tune learnt.
      t.diagnostic(`${correct} of ${IMAGES} new images classified correctly`);
      assert.ok(
        correct >= IMAGES / 2,
        `the fine-tuned model gets most new images right (${correct}/${IMAGES})`,
      );

      const stored = jobPredictions(project, result.jobId);
      assert.equal(stored.length, IMAGES + 1);
      assert.equal(stored.find((s) => s.path === 'damaged.jpg')?.label, null);
      assert.equal(getJob(project, result.jobId)?.modelId, modelId);
      assert.equal(getJob(project, result.jobId)?.state, 'done');
    } finally {
      project.close();
    }
  });

  it('stores predictions for review, least confident first, without touching human labels', async () => {
    const project = openProject(projectPath);
    try {
      const result = await classifyFolder(project, inbox, { review: true });
      assert.equal(result.reviewed, IMAGES);
      const items = queryImages(project, { pathContains: '/inbox/', limit: 100 });
      assert.equal(items.filter((i) => i.prediction).length, IMAGES);
      assert.ok(items.every((i) => i.label === null));
      const order = reviewOrder(result.predictions).map((p) => p.confidence);
      assert.deepEqual(
        order,
        [...order].sort((a, b) => a - b),
      );
    } finally {
      project.close();
    }
  });

  it('cancels between batches and marks the job cancelled', async () => {
    const project = openProject(projectPath);
    try {
      const controller = new AbortController();
      await assert.rejects(
        classifyFolder(project, inbox, {
          batchSize: 2,
          signal: controller.signal,
          onProgress: (p) => p.done >= 2 && controller.abort(),
        }),
        /cancelled/,
      );
      assert.equal(listJobs(project)[0].state, 'cancelled');
    } finally {
      project.close();
    }
  });

  it('sorta classify --sort-into --move --json, then sorta undo --json, restore every file', async () => {
    const before = snapshot(inbox);
    const out = join(work, 'sorted');
    const dry = await runSorta([
      'classify',
      '--project',
      projectPath,
      inbox,
      '--sort-into',
      out,
      '--dry-run',
      '--json',
    ]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(snapshot(inbox), before);
    assert.deepEqual(snapshot(out), new Map());

    const threshold = 0.6;
    const run = await runSorta([
      'classify',
      '--project',
      projectPath,
      inbox,
      '--sort-into',
      out,
      '--move',
      '--threshold',
      String(threshold),
      '--json',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const doc = JSON.parse(run.stdout) as ClassifyDoc;
    assert.deepEqual(Object.keys(doc), [
      'job',
      'predictions',
      'sorted',
      'errors',
      'folders',
      'cancelled',
      'failed',
      'notSorted',
    ]);
    assert.equal(doc.cancelled, false);
    assert.deepEqual(doc.failed, []);
    assert.equal(doc.predictions.length, IMAGES);
    assert.deepEqual(Object.keys(doc.predictions[0]), ['file', 'label', 'confidence', 'probs']);
    assert.deepEqual(
      doc.errors.map((e) => e.file),
      ['damaged.jpg'],
    );
    const expected: Record<string, number> = {};
    for (const p of doc.predictions) {
      const folder = p.confidence >= threshold ? p.label : '_unsure';
      expected[folder] = (expected[folder] ?? 0) + 1;
      const name = p.file.split('/').pop()!;
      assert.equal(snapshot(join(out, folder)).get(name), before.get(p.file), `${p.file} moved to ${folder}`);
    }
    assert.deepEqual(doc.sorted, expected);
    assert.deepEqual(
      [...snapshot(inbox).keys()].sort(),
      ['.hidden.png', 'damaged.jpg', 'notes.txt'],
      'only what was not an image (or unreadable, or hidden) stays',
    );

    const undo = await runSorta(['undo', '--project', projectPath, '--json']);
    assert.equal(undo.code, 0, undo.stderr);
    const undone = JSON.parse(undo.stdout) as { restored: number; errors: unknown[] };
    assert.equal(undone.restored, IMAGES);
    assert.deepEqual(undone.errors, []);
    assert.deepEqual(snapshot(inbox), before);
    assert.deepEqual(snapshot(out), new Map());
  });

  it('every command first recovers what a killed process left: sorta undo finishes the sort, then undoes it', async () => {
    const out = join(work, 'interrupted');
    const first = [...snapshot(inbox).keys()].find((f) => f.endsWith('.png'))!;
    const project = openProject(projectPath);
    let jobId: number;
    try {
      jobId = createJob(project, { kind: 'sort', state: 'running', sourceDir: inbox, outDir: out });
      insertFileOps(project, jobId, [
        { seq: 1, op: 'copy', source: join(inbox, first), dest: join(out, 'bag', 'x.png') },
      ]);
    } finally {
      project.close();
    }
    const undo = await runSorta(['undo', '--project', projectPath, '--job', String(jobId), '--json']);
    assert.equal(undo.code, 0, undo.stderr);
    assert.match(undo.stderr, new RegExp(`recovered: job ${jobId} \\(sort\\) was interrupted; finished it`));
    assert.equal(JSON.parse(undo.stdout).restored, 1);
    assert.deepEqual(snapshot(out), new Map());
  });

  it('does not descend into a linked folder, and exits 1 saying what it could not sort', async () => {
    const box = join(work, 'box');
    mkdirSync(box);
    const names = [...snapshot(inbox).keys()].filter((f) => /\.png$/i.test(f)).slice(0, 3);
    names.forEach((name, i) => writeFileSync(join(box, `img-${i}.png`), readFileSync(join(inbox, name))));
    symlinkSync(join(work, 'fresh'), join(box, 'linked'));
    const out = join(work, 'blocked');
    // Every class folder's name is taken by a file, so no file can be sorted.
    for (const folder of [...CLASSES, '_unsure']) writeFiles(out, { [folder]: 'a file, not a folder' });
    const run = await runSorta(['classify', '--project', projectPath, box, '--sort-into', out, '--json']);
    assert.equal(run.code, 1, run.stderr);
    const doc = JSON.parse(run.stdout) as ClassifyDoc;
    assert.equal(doc.predictions.length, 3, 'the files behind the linked folder are not classified');
    assert.match(
      doc.errors.find((e) => e.file === 'linked')?.error ?? '',
      /symbolic link to a folder; not followed/,
    );
    assert.equal(doc.failed.length, 3);
    for (const f of doc.failed) assert.match(f.error, /cannot create the folder.*was left in place/);
    assert.equal(doc.cancelled, false);
    assert.equal(snapshot(box).size, 3, 'every file left in the folder');
  });

  it('refuses OUT inside DIR and a project without a model, with one clear line', async () => {
    const inside = await runSorta([
      'classify',
      '--project',
      projectPath,
      inbox,
      '--sort-into',
      join(inbox, 'x'),
    ]);
    assert.equal(inside.code, 1);
    assert.match(inside.stderr, /output folder is inside the folder being sorted/);
    const empty = join(work, 'empty.sorta');
    openProject(empty).close();
    const none = await runSorta(['classify', '--project', empty, inbox, '--json']);
    assert.equal(none.code, 1);
    assert.match(JSON.parse(none.stdout).error.message, /no trained model yet/);
    const nothing = await runSorta(['undo', '--project', empty, '--json']);
    assert.equal(nothing.code, 1);
    assert.match(JSON.parse(nothing.stdout).error.message, /no sort to undo/);
  });
});
