/** `sorta predict` end to end on the committed fixture model (runs the built CLI: `npm run build` first). */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runSorta } from '../helpers/cli.js';
import { FIXTURES, readParityFixtures, tempDir, writeSafetensors } from './helpers.js';
import { readSafetensorsHeader, readSafetensorsTensors } from '../../electron/vision/safetensors.js';

const tmp = tempDir('sorta-predict-');
after(tmp.cleanup);
const fixtures = readParityFixtures();
const WEIGHTS = join(FIXTURES, 'vgg11_bn_w16.safetensors');

interface PredictDoc {
  predictions: { file: string; label: string; confidence: number; probs: Record<string, number> }[];
  errors: { file: string; error: string }[];
}

function softmax(logits: number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((x) => Math.exp(x - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

describe('sorta predict', () => {
  // A folder with nested subfolders, an upper-case extension, a corrupt image and a non-image file.
  const dir = join(tmp.dir, 'photos');
  mkdirSync(join(dir, 'nested', 'deeper'), { recursive: true });
  copyFileSync(join(FIXTURES, 'exact224_256x301.png'), join(dir, 'a.png'));
  copyFileSync(join(FIXTURES, 'odd_500x375.jpg'), join(dir, 'nested', 'B.JPG'));
  copyFileSync(join(FIXTURES, 'exact224_gray_256x270.png'), join(dir, 'nested', 'deeper', 'c.png'));
  writeFileSync(join(dir, 'nested', 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5]));
  writeFileSync(join(dir, 'notes.txt'), 'not an image');

  it('prints predictions with relative paths, full-precision probabilities, and per-file errors', async () => {
    const result = await runSorta([
      'predict',
      '--arch',
      'vgg11_bn',
      '--weights',
      WEIGHTS,
      '--classes',
      'cat,dog,fox,owl,yak',
      '--batch',
      '2',
      dir,
      '--json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const doc = JSON.parse(result.stdout) as PredictDoc;
    assert.deepEqual(Object.keys(doc), ['predictions', 'errors']);
    assert.deepEqual(
      doc.predictions.map((p) => p.file),
      ['a.png', 'nested/B.JPG', 'nested/deeper/c.png'],
    );
    assert.deepEqual(
      doc.errors.map((e) => e.file),
      ['nested/broken.jpg'],
    );
    assert.match(doc.errors[0].error, /broken\.jpg/);

    const expected = (image: string) =>
      fixtures.cases.find((c) => c.model === 'vgg11_bn_w16' && c.inputSize === 224 && c.image === image)!;
    const names = ['cat', 'dog', 'fox', 'owl', 'yak'];
    for (const [file, image] of [
      ['a.png', 'exact224_256x301.png'],
      ['nested/B.JPG', 'odd_500x375.jpg'],
      ['nested/deeper/c.png', 'exact224_gray_256x270.png'],
    ]) {
      const p = doc.predictions.find((x) => x.file === file)!;
      assert.deepEqual(Object.keys(p.probs), names);
      const want = softmax(expected(image).logits);
      names.forEach((n, k) => assert.ok(Math.abs(p.probs[n] - want[k]) < 1e-5, `${file} ${n}`));
      const sum = Object.values(p.probs).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-9);
      assert.equal(p.confidence, Math.max(...Object.values(p.probs)));
      assert.equal(p.label, names[want.indexOf(Math.max(...want))]);
    }
    // Full precision: probabilities are not rounded to a few digits.
    assert.ok(doc.predictions.some((p) => String(p.confidence).length > 10));
  });

  it('names classes 0, 1, … by default and runs at another input size', async () => {
    const result = await runSorta([
      'predict',
      '--arch',
      'vgg11_bn',
      '--weights',
      WEIGHTS,
      '--input-size',
      '160',
      dir,
      '--json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const doc = JSON.parse(result.stdout) as PredictDoc;
    assert.deepEqual(Object.keys(doc.predictions[0].probs), ['0', '1', '2', '3', '4']);
  });

  it('refuses a wrong class count, a bad architecture and weights without a classifier', async () => {
    const wrongCount = await runSorta([
      'predict',
      '--arch',
      'vgg11_bn',
      '--weights',
      WEIGHTS,
      '--classes',
      'a,b',
      dir,
      '--json',
    ]);
    assert.equal(wrongCount.code, 2);
    assert.match(
      JSON.parse(wrongCount.stdout).error.message,
      /--classes names 2 classes but the weights have 5/,
    );

    const wrongArch = await runSorta(['predict', '--arch', 'vgg16_bn', '--weights', WEIGHTS, dir, '--json']);
    assert.equal(wrongArch.code, 1);
    assert.match(JSON.parse(wrongArch.stdout).error.message, /does not fit vgg16_bn.*fits vgg11_bn/);

    const header = await readSafetensorsHeader(WEIGHTS);
    const names = [...header.tensors.keys()].filter(
      (n) => n.startsWith('features.') && !n.endsWith('tracked'),
    );
    const features = await readSafetensorsTensors(WEIGHTS, names);
    const featuresOnly = join(tmp.dir, 'features.safetensors');
    writeSafetensors(featuresOnly, features);
    const noHead = await runSorta([
      'predict',
      '--arch',
      'vgg11_bn',
      '--weights',
      featuresOnly,
      dir,
      '--json',
    ]);
    assert.equal(noHead.code, 1);
    assert.match(JSON.parse(noHead.stdout).error.message, /no classifier/);

    const missingDir = await runSorta([
      'predict',
      '--arch',
      'vgg11_bn',
      '--weights',
      WEIGHTS,
      join(tmp.dir, 'nope'),
      '--json',
    ]);
    assert.equal(missingDir.code, 1);
    assert.match(JSON.parse(missingDir.stdout).error.message, /nope/);
  });
});
