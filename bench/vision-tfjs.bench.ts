/**
 * TF.js engine throughput for full-size vgg16_bn at 224 (random weights: speed does not depend on their values), on
 * every TF.js backend that loads here. Each backend runs in its own process (SORTA_BACKEND=<name>), since a process
 * holds one TF.js backend. Two numbers per backend: the forward pass alone (preprocessed random batch), and the whole
 * path `sorta predict` takes (sharp decode + preprocessing overlapped with inference by the pipeline).
 *
 * `npm run bench -- vision-tfjs`. SORTA_BENCH_IMAGES=<n> changes the image count (default: 6, 1 on plain cpu);
 * the plain cpu backend (minutes per image) runs only with SORTA_BENCH_CPU=1.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { loadTf, TF_BACKEND_ORDER } from '../electron/compute/tf-backend.js';
import { parameterCount, vggSpec } from '../electron/vision/arch.js';
import { runPipeline } from '../electron/vision/pipeline.js';
import { TfjsVggEngine } from '../electron/vision/tfjs-engine.js';
import { randomBatch, randomVggWeights } from '../test/helpers/random-vgg.js';

const INPUT_SIZE = 224;

interface BackendResult {
  backend: string;
  images: number;
  batch: number;
  forwardSecondsPerImage: number;
  pipelineSecondsPerImage: number | null;
  loadSeconds: number;
}

async function child(): Promise<void> {
  let runtime;
  try {
    runtime = await loadTf();
  } catch (error) {
    console.log(`SKIP ${(error as Error).message}`);
    return;
  }
  const spec = vggSpec('vgg16_bn');
  const t0 = performance.now();
  const weights = randomVggWeights(spec, { seed: 1 });
  const engine = await TfjsVggEngine.create(weights, {
    inputSize: INPUT_SIZE,
    outputs: ['logits'],
    runtime,
    releaseSource: true,
  });
  const loadSeconds = (performance.now() - t0) / 1000;
  const slow = runtime.backend === 'cpu';
  const images = Number(process.env.SORTA_BENCH_IMAGES) || (slow ? 1 : 6);
  const batch = slow ? 1 : runtime.gpu ? Math.min(images, 16) : 2;

  await engine.run(randomBatch(1, INPUT_SIZE), 1); // warm-up: kernels compiled, buffers allocated
  const input = randomBatch(batch, INPUT_SIZE);
  let done = 0;
  const t1 = performance.now();
  while (done < images) {
    const n = Math.min(batch, images - done);
    await engine.run(input.subarray(0, n * 3 * INPUT_SIZE * INPUT_SIZE), n);
    done += n;
  }
  const forwardSecondsPerImage = (performance.now() - t1) / 1000 / images;

  let pipelineSecondsPerImage: number | null = null;
  if (!slow) {
    // Photos of a typical camera-ish size, decoded and preprocessed by the real path.
    const dir = mkdtempSync(join(tmpdir(), 'sorta-bench-tfjs-'));
    try {
      const files: string[] = [];
      for (let i = 0; i < images; i++) {
        const file = join(dir, `img${i}.jpg`);
        const noise = Buffer.from(randomBatch(1, 64, i + 1).map((v) => Math.floor((v + 2) * 63)));
        const jpeg = await sharp(noise.subarray(0, 64 * 64 * 3), {
          raw: { width: 64, height: 64, channels: 3 },
        })
          .resize(1024, 768)
          .jpeg({ quality: 90 })
          .toBuffer();
        writeFileSync(file, jpeg);
        files.push(file);
      }
      const t2 = performance.now();
      const result = await runPipeline(engine, files, { batchSize: batch, onBatch: () => undefined });
      if (result.errors.length) throw new Error(`pipeline errors: ${JSON.stringify(result.errors)}`);
      pipelineSecondsPerImage = (performance.now() - t2) / 1000 / images;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  await engine.close();
  const result: BackendResult = {
    backend: runtime.backend,
    images,
    batch,
    forwardSecondsPerImage,
    pipelineSecondsPerImage,
    loadSeconds,
  };
  console.log(`RESULT ${JSON.stringify(result)}`);
}

function parent(): void {
  const self = fileURLToPath(import.meta.url);
  console.log(
    `TF.js engine, vgg16_bn at ${INPUT_SIZE} (${(parameterCount(vggSpec('vgg16_bn')) / 1e6).toFixed(1)} M ` +
      `parameters, random weights); one process per backend`,
  );
  for (const backend of TF_BACKEND_ORDER) {
    if (backend === 'cpu' && process.env.SORTA_BENCH_CPU !== '1') {
      console.log(
        `  ${'cpu'.padEnd(14)} not run (plain-JS kernels take minutes per image; SORTA_BENCH_CPU=1 runs it)`,
      );
      continue;
    }
    const run = spawnSync(process.execPath, ['--import', 'tsx', self], {
      env: { ...process.env, SORTA_BACKEND: backend, SORTA_BENCH_CHILD: '1' },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const lines = run.stdout.split('\n');
    const line = lines.find((l) => l.startsWith('RESULT '));
    if (!line) {
      const skip = lines.find((l) => l.startsWith('SKIP '));
      const reason =
        skip?.slice('SKIP '.length) ?? `failed: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`;
      console.log(`  ${backend.padEnd(14)} skipped: ${reason}`);
      continue;
    }
    const r = JSON.parse(line.slice('RESULT '.length)) as BackendResult;
    const rate = (s: number) => `${s.toFixed(3)} s/img (${(1 / s).toFixed(2)} img/s)`;
    console.log(
      `  ${backend.padEnd(14)} forward ${rate(r.forwardSecondsPerImage)}` +
        (r.pipelineSecondsPerImage === null
          ? ''
          : `; decode+preprocess+forward ${rate(r.pipelineSecondsPerImage)}`) +
        `; ${r.images} images, batch ${r.batch}; weights generated + uploaded in ${r.loadSeconds.toFixed(1)} s` +
        `; load average ${loadavg()[0].toFixed(1)} (other processes share these cores)`,
    );
  }
}

if (process.env.SORTA_BENCH_CHILD === '1') await child();
else parent();
