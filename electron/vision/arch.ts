/**
 * The one description of the VGG family that both engines (ONNX Runtime and TensorFlow.js) build from, with
 * torchvision's layer indices and parameter names, so weights load by name and results match PyTorch.
 */
import { SortaError } from '../shared/errors.js';

export const ARCH_NAMES = [
  'vgg11',
  'vgg11_bn',
  'vgg13',
  'vgg13_bn',
  'vgg16',
  'vgg16_bn',
  'vgg19',
  'vgg19_bn',
] as const;
export type ArchName = (typeof ARCH_NAMES)[number];

/** torchvision's cfgs: a number is a 3×3 conv with that many output channels, 'M' a 2×2 stride-2 max-pool. */
const CONFIGS: Record<'vgg11' | 'vgg13' | 'vgg16' | 'vgg19', readonly (number | 'M')[]> = {
  vgg11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  vgg13: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  vgg16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  vgg19: [
    64,
    64,
    'M',
    128,
    128,
    'M',
    256,
    256,
    256,
    256,
    'M',
    512,
    512,
    512,
    512,
    'M',
    512,
    512,
    512,
    512,
    'M',
  ],
};

export const POOLED_SIZE = 7;
export const BN_EPSILON = 1e-5;
export const DROPOUT_RATE = 0.5;
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
export const MIN_INPUT_SIZE = 32;
export const DEFAULT_INPUT_SIZE = 224;

export interface VggSpec {
  arch: ArchName;
  batchNorm: boolean;
  /** Output channels per conv, 'M' for max-pools, already scaled by `widthScale`. */
  layers: readonly (number | 'M')[];
  /** Channels of the last conv block (512 at full width). */
  lastChannels: number;
  /** Width of classifier.0 and classifier.3 (4096 at full size). */
  hidden: number;
  numClasses: number;
}

export interface VggSpecOptions {
  /** Scales every conv's channel count (tests use small widths so fixtures stay small). Default 1. */
  widthScale?: number;
  hidden?: number;
  numClasses?: number;
}

export function isArchName(name: string): name is ArchName {
  return (ARCH_NAMES as readonly string[]).includes(name);
}

export function vggSpec(arch: ArchName, options: VggSpecOptions = {}): VggSpec {
  if (!isArchName(arch))
    throw new SortaError('usage', `unknown architecture '${arch}'; use one of ${ARCH_NAMES.join(', ')}`);
  const widthScale = options.widthScale ?? 1;
  const base = CONFIGS[arch.replace('_bn', '') as keyof typeof CONFIGS];
  const layers = base.map((l) => (l === 'M' ? l : Math.max(1, Math.round(l * widthScale))));
  const convs = layers.filter((l): l is number => l !== 'M');
  return {
    arch,
    batchNorm: arch.endsWith('_bn'),
    layers,
    lastChannels: convs[convs.length - 1],
    hidden: options.hidden ?? 4096,
    numClasses: options.numClasses ?? 1000,
  };
}

export type FeatureOp =
  | { kind: 'conv'; index: number; inChannels: number; outChannels: number }
  | { kind: 'bn'; index: number; channels: number }
  | { kind: 'relu'; index: number }
  | { kind: 'maxpool'; index: number };

/** The `features` Sequential, with torchvision's module indices (they name the weights). */
export function featureOps(spec: VggSpec): FeatureOp[] {
  const ops: FeatureOp[] = [];
  let index = 0;
  let channels = 3;
  for (const layer of spec.layers) {
    if (layer === 'M') {
      ops.push({ kind: 'maxpool', index: index++ });
      continue;
    }
    ops.push({ kind: 'conv', index: index++, inChannels: channels, outChannels: layer });
    if (spec.batchNorm) ops.push({ kind: 'bn', index: index++, channels: layer });
    ops.push({ kind: 'relu', index: index++ });
    channels = layer;
  }
  return ops;
}

/** A 3×3 convolution with its eval-mode BatchNorm (if any) folded in: OIHW weights and one bias per output channel. */
export interface FoldedConv {
  weight: Float64Array;
  bias: Float64Array;
  inChannels: number;
  outChannels: number;
  /** Whether `next` was a BatchNorm, now folded in (the caller skips it). */
  foldedBatchNorm: boolean;
}

/**
 * `features.<conv.index>` with the BatchNorm `next` folded in when it is one: w·s and b·s + β − μ·s with
 * s = γ/√(σ²+ε), in float64 (so both engines' builders round to float32 once, from the same numbers).
 */
export function foldConv(
  take: (name: string) => { data: ArrayLike<number> },
  conv: Extract<FeatureOp, { kind: 'conv' }>,
  next: FeatureOp | undefined,
): FoldedConv {
  const weight = take(`features.${conv.index}.weight`).data;
  const bias = take(`features.${conv.index}.bias`).data;
  const { outChannels: K, inChannels } = conv;
  const bn = next?.kind === 'bn' ? next : undefined;
  const gamma = bn && take(`features.${bn.index}.weight`).data;
  const beta = bn && take(`features.${bn.index}.bias`).data;
  const mean = bn && take(`features.${bn.index}.running_mean`).data;
  const variance = bn && take(`features.${bn.index}.running_var`).data;
  const perFilter = inChannels * 9;
  const folded = new Float64Array(K * perFilter);
  const shift = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    const scale = bn ? gamma![k] / Math.sqrt(variance![k] + BN_EPSILON) : 1;
    shift[k] = bn ? bias[k] * scale + beta![k] - mean![k] * scale : bias[k];
    for (let i = k * perFilter; i < (k + 1) * perFilter; i++) folded[i] = weight[i] * scale;
  }
  return { weight: folded, bias: shift, inChannels, outChannels: K, foldedBatchNorm: Boolean(bn) };
}

/** Size of the flattened pooled features (25088 at full width). */
export function pooledFeatureSize(spec: VggSpec): number {
  return spec.lastChannels * POOLED_SIZE * POOLED_SIZE;
}

/** The classifier's Linear layers by torchvision index: [in, out]. */
export function classifierLayers(
  spec: VggSpec,
): { index: 0 | 3 | 6; inFeatures: number; outFeatures: number }[] {
  return [
    { index: 0, inFeatures: pooledFeatureSize(spec), outFeatures: spec.hidden },
    { index: 3, inFeatures: spec.hidden, outFeatures: spec.hidden },
    { index: 6, inFeatures: spec.hidden, outFeatures: spec.numClasses },
  ];
}

/** Every parameter and buffer torchvision stores, with its shape (PyTorch layouts: OIHW, [out, in]). */
export function expectedTensors(
  spec: VggSpec,
  parts: { features?: boolean; classifier?: boolean } = {},
): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  if (parts.features ?? true) {
    for (const op of featureOps(spec)) {
      if (op.kind === 'conv') {
        shapes.set(`features.${op.index}.weight`, [op.outChannels, op.inChannels, 3, 3]);
        shapes.set(`features.${op.index}.bias`, [op.outChannels]);
      } else if (op.kind === 'bn') {
        for (const name of ['weight', 'bias', 'running_mean', 'running_var']) {
          shapes.set(`features.${op.index}.${name}`, [op.channels]);
        }
      }
    }
  }
  if (parts.classifier ?? true) {
    for (const layer of classifierLayers(spec)) {
      shapes.set(`classifier.${layer.index}.weight`, [layer.outFeatures, layer.inFeatures]);
      shapes.set(`classifier.${layer.index}.bias`, [layer.outFeatures]);
    }
  }
  return shapes;
}

/** Trainable parameters, as torchvision counts them (BN running statistics and num_batches_tracked excluded). */
export function parameterCount(spec: VggSpec): number {
  let count = 0;
  for (const [name, shape] of expectedTensors(spec)) {
    if (name.endsWith('running_mean') || name.endsWith('running_var')) continue;
    count += shape.reduce((a, b) => a * b, 1);
  }
  return count;
}

/** Spatial size after the five max-pools for an input of `size` pixels. */
export function featureMapSize(size: number): number {
  let s = size;
  for (let i = 0; i < 5; i++) s = Math.floor(s / 2);
  return s;
}

/**
 * AdaptiveAvgPool2d's bins, exactly as PyTorch computes them: output cell i averages input cells
 * floor(i·n/out) … ceil((i+1)·n/out) − 1.
 */
export function adaptiveBins(
  inputSize: number,
  outputSize: number = POOLED_SIZE,
): [start: number, end: number][] {
  const bins: [number, number][] = [];
  for (let i = 0; i < outputSize; i++) {
    bins.push([Math.floor((i * inputSize) / outputSize), Math.ceil(((i + 1) * inputSize) / outputSize)]);
  }
  return bins;
}

/**
 * The adaptive pool as a matrix P of shape [H·W, 7·7]: pooled[c, o] = Σ_k x[c, k] · P[k, o]. Both engines
 * implement AdaptiveAvgPool2d((7,7)) as one MatMul with this matrix, so any input size gives PyTorch's numbers.
 */
export function adaptivePoolMatrix(
  height: number,
  width: number,
  outputSize: number = POOLED_SIZE,
): Float32Array {
  const rows = adaptiveBins(height, outputSize);
  const cols = adaptiveBins(width, outputSize);
  const matrix = new Float32Array(height * width * outputSize * outputSize);
  for (let oy = 0; oy < outputSize; oy++) {
    const [y0, y1] = rows[oy];
    for (let ox = 0; ox < outputSize; ox++) {
      const [x0, x1] = cols[ox];
      const weight = 1 / ((y1 - y0) * (x1 - x0));
      const o = oy * outputSize + ox;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) matrix[(y * width + x) * outputSize * outputSize + o] = weight;
      }
    }
  }
  return matrix;
}
