/** Shared helpers for the vision tests: random VGG weights in memory and as safetensors files. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectedTensors, type ArchName, type VggSpec } from '../../electron/vision/arch.js';
import type { InferenceEngine } from '../../electron/vision/ort-engine.js';
import { row, runPipeline } from '../../electron/vision/pipeline.js';
import type { PreprocessOptions } from '../../electron/vision/preprocess.js';
import { encodeSafetensors, type FloatTensor } from '../../electron/vision/safetensors.js';
import { seededRandom } from '../helpers/random-vgg.js';

/** A small deterministic PRNG (mulberry32) so failures reproduce. */
export const rng = seededRandom;

export function randomTensors(
  spec: VggSpec,
  options: { classifier?: boolean; seed?: number } = {},
): Map<string, FloatTensor> {
  const random = rng(options.seed ?? 1);
  const tensors = new Map<string, FloatTensor>();
  for (const [name, shape] of expectedTensors(spec, { classifier: options.classifier ?? true })) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const positive = name.endsWith('running_var');
    for (let i = 0; i < data.length; i++) data[i] = positive ? 0.5 + random() : (random() - 0.5) * 0.2;
    tensors.set(name, { shape, data });
  }
  return tensors;
}

export function tempDir(prefix = 'sorta-vision-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function writeSafetensors(path: string, tensors: Map<string, FloatTensor> | [string, FloatTensor][]) {
  writeFileSync(path, Buffer.concat(encodeSafetensors(tensors)));
}

/** A raw safetensors file from a JSON header object and a data buffer (for malformed-file tests). */
export function rawSafetensors(header: unknown, data: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, data]);
}

/** Committed parity fixtures, written by test/fixtures/generate/vision_parity.py. */
export const FIXTURES = fileURLToPath(new URL('../fixtures/vision/', import.meta.url));

export interface ParityCase {
  model: string;
  inputSize: number;
  image: string;
  kind: 'exact' | 'resampled';
  logits: number[];
  pooled?: number[];
}
export interface ParityFixtures {
  models: {
    name: string;
    arch: ArchName;
    weights: string;
    widthScale: number;
    hidden: number;
    numClasses: number;
  }[];
  cases: ParityCase[];
  fullSize: {
    parameterCounts: Record<string, number>;
    stateDictShapes: Record<string, Record<string, number[]>>;
  };
}

export function readParityFixtures(): ParityFixtures {
  return JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as ParityFixtures;
}

/** Largest |a[i] − b[i]|; the lengths must agree. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/**
 * Runs fixture cases through the real path (decode, preprocessing, the batching pipeline, `engine`) in batches of
 * 4 and returns each case with its logits and pooled features. The caller closes the engine.
 */
export async function runParityCases(
  engine: InferenceEngine,
  cases: ParityCase[],
  preprocess: PreprocessOptions = {},
): Promise<{ case: ParityCase; logits: Float32Array; pooled: Float32Array }[]> {
  const got = new Map<number, { logits: Float32Array; pooled: Float32Array }>();
  const result = await runPipeline(
    engine,
    cases.map((c) => join(FIXTURES, c.image)),
    {
      batchSize: 4,
      preprocess,
      onBatch: ({ indices, outputs }) =>
        indices.forEach((index, r) =>
          got.set(index, {
            logits: row(outputs.logits, indices.length, r).slice(),
            pooled: row(outputs.pooled, indices.length, r).slice(),
          }),
        ),
    },
  );
  assert.deepEqual(result.errors, []);
  return cases.map((c, i) => ({ case: c, ...got.get(i)! }));
}
