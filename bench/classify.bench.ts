/**
 * Classify & sort benchmark: classifying 1,000 generated images (160×120 PNGs, resized to 256 and center-cropped to
 * 224) with VGG16-BN at a quarter of its width (hidden 1024, 3 classes, random weights; the full width is 16× the
 * convolution work) through the real classify path (scan, decode pipeline, ONNX Runtime, job in a project), with the
 * images per second and the RSS sampled from the 100th to the 1,000th image; then the journaled sort of those files
 * (copy, then undo) in files per second. ONNX Runtime runs the network, so there are no TF.js tensors to count.
 * SORTA_BENCH_CLASSIFY_IMAGES sets the count; SORTA_BENCH_WIDTH the width scale (1 = the real VGG16-BN).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { classifyFolder } from '../electron/sort/classify.js';
import { sortClassified } from '../electron/sort/sort.js';
import { undoSort } from '../electron/sort/undo.js';
import { openProject } from '../electron/store/project.js';
import { vggSpec } from '../electron/vision/arch.js';
import { buildVggOnnx } from '../electron/vision/onnx-graph.js';
import { randomVggWeights } from '../test/helpers/random-vgg.js';

const COUNT = Number(process.env.SORTA_BENCH_CLASSIFY_IMAGES ?? 1000);
const WIDTH_SCALE = Number(process.env.SORTA_BENCH_WIDTH ?? 0.25);
const INPUT_SIZE = 224;
const CLASSES = ['cat', 'dog', 'bird'];

async function generateImages(dir: string): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < COUNT) {
        const i = next++;
        const folder = join(dir, `batch-${i % 10}`);
        mkdirSync(folder, { recursive: true });
        const pixels = Buffer.alloc(160 * 120 * 3);
        let x = (i + 1) * 2654435761;
        for (let p = 0; p < pixels.length; p++) {
          x = (x * 1103515245 + 12345) >>> 0;
          pixels[p] = ((x >>> 16) & 0x3f) + ((p / 3) % 160) + (i % 50);
        }
        await sharp(pixels, { raw: { width: 160, height: 120, channels: 3 } })
          .png()
          .toFile(join(folder, `img-${String(i).padStart(5, '0')}.png`));
      }
    }),
  );
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'sorta-bench-classify-'));
  try {
    const images = join(work, 'images');
    await generateImages(images);
    const spec = vggSpec('vgg16_bn', { widthScale: WIDTH_SCALE, hidden: 1024, numClasses: CLASSES.length });
    const weights = { ...randomVggWeights(spec, { seed: 3 }), checksum: 'bench' };
    const onnx = buildVggOnnx(weights, { inputSize: INPUT_SIZE, outputs: ['probs'] });
    console.log(
      `model: vgg16_bn at width ×${WIDTH_SCALE} (first conv ${spec.layers[0]} channels), hidden 1024, ` +
        `${CLASSES.length} classes, input ${INPUT_SIZE}; ${COUNT} PNGs of 160×120`,
    );

    const project = openProject(join(work, 'bench.sorta'));
    const rss: { done: number; rss: number }[] = [];
    let t100 = 0;
    const started = performance.now();
    const result = await classifyFolder(project, images, {
      model: { id: null, onnx, classes: CLASSES, inputSize: INPUT_SIZE },
      onProgress: ({ done }) => {
        if (done >= 100 && t100 === 0) t100 = performance.now();
        if (done >= 100) rss.push({ done, rss: process.memoryUsage().rss });
      },
    });
    const elapsed = performance.now() - started;
    const steady = performance.now() - t100;
    const values = rss.map((r) => r.rss);
    const first = values[0];
    const last = values[values.length - 1];
    const max = Math.max(...values);
    const min = Math.min(...values);
    console.log(
      `classify: ${result.predictions.length} images in ${(elapsed / 1000).toFixed(1)} s = ` +
        `${((result.predictions.length * 1000) / elapsed).toFixed(1)} images/s overall, ` +
        `${(((COUNT - 100) * 1000) / steady).toFixed(1)} images/s from the 100th image; errors ${result.errors.length}`,
    );
    console.log(
      `RSS from image 100 to ${COUNT}: ${mib(first)} → ${mib(last)} MiB (min ${mib(min)}, max ${mib(max)}); ` +
        `change ${(((last - first) / first) * 100).toFixed(1)}%, spread ${(((max - min) / first) * 100).toFixed(1)}% ` +
        `(${rss.length} samples)`,
    );

    for (const mode of ['copy', 'move'] as const) {
      const out = join(work, `sorted-${mode}`);
      const t0 = performance.now();
      const sorted = await sortClassified(project, result.jobId, { outDir: out, threshold: 0.4, mode });
      const tSort = performance.now() - t0;
      const t1 = performance.now();
      const undone = await undoSort(project, { jobId: sorted.jobId! });
      const tUndo = performance.now() - t1;
      console.log(
        `sort (${mode}, journaled, fsync'd): ${COUNT} files in ${(tSort / 1000).toFixed(2)} s = ` +
          `${((COUNT * 1000) / tSort).toFixed(0)} files/s; undo ${undone.restored} files in ` +
          `${(tUndo / 1000).toFixed(2)} s = ${((undone.restored * 1000) / tUndo).toFixed(0)} files/s`,
      );
    }
    project.close();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
