/**
 * Vision core throughput: full-size vgg16_bn at 224 with random weights, decode + preprocess + forward, on ONNX
 * Runtime (CPU provider, one thread per core; also every GPU provider listed in SORTA_BENCH_EPS, e.g. "webgpu"),
 * and PyTorch on the CPU with 2 threads on the same images and weights when /usr/bin/python3 has torch.
 * The TF.js engine has its own file (vision-tfjs.bench.ts).
 *
 * Environment: SORTA_BENCH_IMAGES (default 32), SORTA_BENCH_BATCH (default 8), SORTA_BENCH_ROUNDS (default 1: with
 * more, ONNX Runtime and PyTorch take turns and the best round of each is kept, which evens out a busy machine).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { expectedTensors, vggSpec } from '../electron/vision/arch.js';
import type { ConvolutionAlgorithm } from '../electron/vision/onnx-graph.js';
import { OrtVggEngine, type OrtExecutionProvider } from '../electron/vision/ort-engine.js';
import { runPipeline } from '../electron/vision/pipeline.js';
import { preprocessBatch } from '../electron/vision/preprocess.js';
import { encodeSafetensors, type FloatTensor } from '../electron/vision/safetensors.js';
import { loadVggWeights } from '../electron/vision/weights.js';

const IMAGES = Number(process.env.SORTA_BENCH_IMAGES ?? 32);
const BATCH = Number(process.env.SORTA_BENCH_BATCH ?? 8);
const ROUNDS = Math.max(1, Number(process.env.SORTA_BENCH_ROUNDS ?? 1));
const ARCH = 'vgg16_bn';
const dir = mkdtempSync(join(tmpdir(), 'sorta-bench-vision-'));

/** Random weights scaled like He initialisation, so activations stay finite (denormals or NaNs would skew times). */
function writeRandomWeights(path: string): void {
  let seed = 12345;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const tensors = new Map<string, FloatTensor>();
  for (const [name, shape] of expectedTensors(vggSpec(ARCH))) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const fanIn = shape.length > 1 ? shape.slice(1).reduce((a, b) => a * b, 1) : 0;
    if (name.endsWith('running_var') || (name.endsWith('.weight') && shape.length === 1)) data.fill(1);
    else if (fanIn > 0) {
      const scale = Math.sqrt(6 / fanIn);
      for (let i = 0; i < data.length; i++) data[i] = random() * scale;
    }
    tensors.set(name, { shape, data });
  }
  // Part by part: never a second 550 MB buffer.
  const fd = openSync(path, 'w');
  for (const part of encodeSafetensors(tensors)) writeSync(fd, part);
  closeSync(fd);
}

/** ImageNet-like photos: 500×375 JPEGs (the median ImageNet size), smooth content plus noise. */
async function writeImages(): Promise<string[]> {
  const files: string[] = [];
  for (let i = 0; i < IMAGES; i++) {
    const width = i % 3 === 0 ? 375 : 500;
    const height = i % 3 === 0 ? 500 : 375;
    const raw = Buffer.alloc(width * height * 3);
    for (let p = 0; p < width * height; p++) {
      const x = p % width;
      const y = Math.floor(p / width);
      raw[p * 3] = (x * (i + 1)) & 255;
      raw[p * 3 + 1] = (y * 3 + i * 17) & 255;
      raw[p * 3 + 2] = ((x ^ y) + ((p * 2654435761) >>> 28)) & 255;
    }
    const file = join(dir, `img${String(i).padStart(3, '0')}.jpg`);
    await sharp(raw, { raw: { width, height, channels: 3 } })
      .jpeg({ quality: 90 })
      .toFile(file);
    files.push(file);
  }
  return files;
}

/** Starts an engine and returns a function timing one pipelined pass over `files` (after a warm-up batch). */
async function startOrt(
  weightsPath: string,
  files: string[],
  provider: OrtExecutionProvider,
  convolution?: ConvolutionAlgorithm,
) {
  let weights: Awaited<ReturnType<typeof loadVggWeights>> | undefined = await loadVggWeights(
    weightsPath,
    ARCH,
  );
  const loadStart = performance.now();
  const engine = await OrtVggEngine.create(weights, {
    inputSize: 224,
    outputs: ['logits'],
    executionProvider: provider,
    convolution,
  });
  weights = undefined;
  // The default graph form for the provider, or the one asked for (to compare them).
  const label = convolution ? `${provider}, ${convolution} convolution` : provider;
  const loadSeconds = (performance.now() - loadStart) / 1000;
  if (engine.fallbackReason) console.log(`  ${provider}: ${engine.fallbackReason}`);
  const warm = await preprocessBatch(files.slice(0, BATCH), 224);
  await engine.run(warm.data, warm.indices.length);
  const round = async () => {
    // Forward alone, on the already-preprocessed warm-up batch, then the whole pipeline.
    const forwardStart = performance.now();
    await engine.run(warm.data, warm.indices.length);
    const forwardPerImage = (performance.now() - forwardStart) / 1000 / warm.indices.length;
    const start = performance.now();
    const result = await runPipeline(engine, files, { batchSize: BATCH, onBatch: () => {} });
    const seconds = (performance.now() - start) / 1000;
    if (result.errors.length) throw new Error(`pipeline errors: ${JSON.stringify(result.errors)}`);
    return { seconds, forwardPerImage };
  };
  return { engine, label, loadSeconds, round };
}

function benchTorch(weightsPath: string, files: string[]): { seconds: number; torch: string } | string {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0)
    return 'skipped: /usr/bin/python3 cannot import torch and torchvision';
  const list = join(dir, 'images.txt');
  writeFileSync(list, files.join('\n'));
  const script = fileURLToPath(new URL('./vision_torch.py', import.meta.url));
  const run = spawnSync('/usr/bin/python3', [script, ARCH, weightsPath, list, String(BATCH), '2'], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (run.status !== 0) return `failed: ${run.stderr.trim().split('\n').pop()}`;
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as { seconds: number; torch: string };
}

try {
  const weightsPath = join(dir, `${ARCH}.safetensors`);
  writeRandomWeights(weightsPath);
  const files = await writeImages();
  console.log(
    `${ARCH} @224, ${IMAGES} JPEGs 500×375, batch ${BATCH}, decode + preprocess + forward; ` +
      `${availableParallelism()} cores, load average ${loadavg()[0].toFixed(1)}`,
  );
  const providers: OrtExecutionProvider[] = [
    'cpu',
    ...((process.env.SORTA_BENCH_EPS ?? '').split(',').filter(Boolean) as OrtExecutionProvider[]),
  ];
  const engines = [];
  for (const provider of providers) engines.push(await startOrt(weightsPath, files, provider));
  // ORT's own convolutions on the same CPU, to show what the Winograd graph (the CPU default) gains.
  engines.push(await startOrt(weightsPath, files, 'cpu', 'direct'));
  const best = new Map<string, { seconds: number; forwardPerImage: number }>();
  let torchBest: { seconds: number; torch: string } | string | undefined;
  for (let r = 0; r < ROUNDS; r++) {
    for (const e of engines) {
      const result = await e.round();
      const name = e.label;
      if (!best.has(name) || result.seconds < best.get(name)!.seconds) best.set(name, result);
    }
    const torch = benchTorch(weightsPath, files);
    if (typeof torch === 'string' || typeof torchBest !== 'object' || torch.seconds < torchBest.seconds)
      torchBest = torch;
  }
  for (const e of engines) {
    const r = best.get(e.label)!;
    console.log(
      `  ONNX Runtime (${e.label}, ${availableParallelism()} threads): ` +
        `${(IMAGES / r.seconds).toFixed(2)} img/s (${((r.seconds / IMAGES) * 1000).toFixed(0)} ms/img; ` +
        `forward alone ${(r.forwardPerImage * 1000).toFixed(0)} ms/img; session build ${e.loadSeconds.toFixed(1)} s)`,
    );
    await e.engine.close();
  }
  if (typeof torchBest === 'string') console.log(`  PyTorch: ${torchBest}`);
  else if (torchBest) {
    const rate = IMAGES / torchBest.seconds;
    console.log(
      `  PyTorch ${torchBest.torch} (CPU, 2 threads): ${rate.toFixed(2)} img/s ` +
        `(${((torchBest.seconds / IMAGES) * 1000).toFixed(0)} ms/img)`,
    );
    for (const [name, r] of best)
      console.log(`  ratio ONNX Runtime (${name}) / PyTorch: ${(IMAGES / r.seconds / rate).toFixed(2)}×`);
  }
  console.log(
    `  (${ROUNDS} round${ROUNDS > 1 ? 's, best of each' : ''}; load average now ${loadavg()[0].toFixed(1)})`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
