/** Shared helpers for the vision tests: random VGG weights in memory and as safetensors files. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectedTensors, type ArchName, type VggSpec } from '../../electron/vision/arch.js';
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
