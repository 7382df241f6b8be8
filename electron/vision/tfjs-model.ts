/**
 * The VGG network in TensorFlow.js, built from the same architecture description (arch.ts) and the same
 * torchvision-named weights as the ONNX graph, so either engine gives PyTorch's numbers.
 *
 * Layout: the caller passes NCHW images (what preprocessing produces); inside, activations are NHWC because every
 * TF.js backend (wasm, cpu, tfjs-node) implements NHWC convolutions, and conv kernels are transposed once from
 * PyTorch's OIHW to TF's HWIO. Eval-mode BatchNorm is folded into the preceding conv (w·s, (b−μ)·s+β with
 * s = γ/√(σ²+ε)), computed in float64. The adaptive pool is one MatMul with PyTorch's bins, applied to
 * channel-major rows, which also yields PyTorch's (C, H, W) flatten order, so classifier.0's weights are used as
 * stored.
 *
 * Inference is eval mode and no-grad: weights are plain tensors (never variables), every op runs inside tf.tidy and
 * only the requested outputs survive it.
 */
import type * as TfTypes from '@tensorflow/tfjs';
import { SortaError } from '../shared/errors.js';
import type { Tf } from '../compute/tf-backend.js';
import {
  BN_EPSILON,
  MIN_INPUT_SIZE,
  adaptivePoolMatrix,
  classifierLayers,
  expectedTensors,
  featureMapSize,
  featureOps,
  pooledFeatureSize,
  type VggSpec,
} from './arch.js';

/** What the network can return: the classifier's logits, the pooled 25088-d features, or fc7 (4096-d, after ReLU). */
export type VisionOutput = 'logits' | 'pooled' | 'fc7';
export const VISION_OUTPUTS: readonly VisionOutput[] = ['logits', 'pooled', 'fc7'];

export interface WeightTensor {
  shape: number[];
  data: Float32Array;
}

/** Structurally what weights.ts's loadVggWeights returns (LoadedWeights); torchvision names, PyTorch layouts. */
export interface VggWeightsSource {
  spec: VggSpec;
  tensors: Map<string, WeightTensor>;
  hasClassifier: boolean;
}

export interface TfjsVggOptions {
  /**
   * Delete each tensor from `weights.tensors` once it is uploaded, so the JavaScript copy can be collected while the
   * backend's copy lives on (full-size weights are 550 MB; two copies should not outlive the load).
   */
  releaseSource?: boolean;
}

interface ConvLayer {
  kind: 'conv';
  filter: TfTypes.Tensor4D;
  bias: TfTypes.Tensor1D;
}
type FeatureLayer = ConvLayer | { kind: 'maxpool' };

interface DenseLayer {
  /** PyTorch layout [out, in]; used with transposeB so no transposed copy is made. */
  weight: TfTypes.Tensor2D;
  bias: TfTypes.Tensor1D;
}

export class TfjsVgg {
  private readonly features: FeatureLayer[];
  private readonly classifier: DenseLayer[] | null;
  private readonly poolMatrices = new Map<string, TfTypes.Tensor2D>();
  private disposed = false;

  private constructor(
    readonly tf: Tf,
    readonly spec: VggSpec,
    features: FeatureLayer[],
    classifier: DenseLayer[] | null,
  ) {
    this.features = features;
    this.classifier = classifier;
  }

  /** Uploads the weights (validated against the spec) as backend tensors. */
  static create(tf: Tf, weights: VggWeightsSource, options: TfjsVggOptions = {}): TfjsVgg {
    const { spec, tensors } = weights;
    const take = (name: string): WeightTensor => {
      const tensor = tensors.get(name);
      if (!tensor) throw new SortaError('invalid-weights', `weights for ${spec.arch} lack '${name}'`);
      return tensor;
    };
    const release = (...names: string[]) => {
      if (options.releaseSource) for (const name of names) tensors.delete(name);
    };
    checkShapes(weights);

    const created: TfTypes.Tensor[] = [];
    const keep = <T extends TfTypes.Tensor>(t: T): T => {
      created.push(t);
      return t;
    };
    try {
      const features: FeatureLayer[] = [];
      const ops = featureOps(spec);
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i];
        if (op.kind === 'maxpool') features.push({ kind: 'maxpool' });
        if (op.kind !== 'conv') continue;
        const weight = take(`features.${op.index}.weight`);
        const bias = take(`features.${op.index}.bias`);
        const next = ops[i + 1];
        const bn = next?.kind === 'bn' ? foldBatchNorm(take, next.index, op.outChannels) : undefined;
        const { filter, shift } = convToHwio(weight.data, bias.data, op.outChannels, op.inChannels, bn);
        features.push({
          kind: 'conv',
          filter: keep(tf.tensor4d(filter, [3, 3, op.inChannels, op.outChannels])),
          bias: keep(tf.tensor1d(shift)),
        });
        release(`features.${op.index}.weight`, `features.${op.index}.bias`);
        if (bn) {
          const p = `features.${next.index}`;
          release(`${p}.weight`, `${p}.bias`, `${p}.running_mean`, `${p}.running_var`);
        }
      }
      let classifier: DenseLayer[] | null = null;
      if (weights.hasClassifier) {
        classifier = classifierLayers(spec).map((layer) => {
          const w = take(`classifier.${layer.index}.weight`);
          const b = take(`classifier.${layer.index}.bias`);
          const dense = {
            weight: keep(tf.tensor2d(w.data, [layer.outFeatures, layer.inFeatures])),
            bias: keep(tf.tensor1d(b.data)),
          };
          release(`classifier.${layer.index}.weight`, `classifier.${layer.index}.bias`);
          return dense;
        });
      }
      return new TfjsVgg(tf, spec, features, classifier);
    } catch (error) {
      for (const t of created) t.dispose();
      throw error;
    }
  }

  get hasClassifier(): boolean {
    return this.classifier !== null;
  }

  /**
   * The forward pass on an NCHW batch tensor. Returns new tensors for the requested outputs; intermediates are
   * released. Safe to call inside the caller's own tf.tidy.
   */
  forward(
    input: TfTypes.Tensor4D,
    outputs: readonly VisionOutput[] = ['logits'],
  ): Partial<Record<VisionOutput, TfTypes.Tensor2D>> {
    this.assertUsable(outputs);
    const tf = this.tf;
    const [n, channels, height, width] = input.shape;
    if (channels !== 3) throw new SortaError('invalid-input', `expected 3 input channels, got ${channels}`);
    if (height < MIN_INPUT_SIZE || width < MIN_INPUT_SIZE)
      throw new SortaError(
        'invalid-input',
        `input ${height}×${width} is smaller than the minimum ${MIN_INPUT_SIZE}×${MIN_INPUT_SIZE}`,
      );
    const pool = this.poolMatrix(featureMapSize(height), featureMapSize(width));
    return tf.tidy(() => {
      let x: TfTypes.Tensor4D = tf.transpose(input, [0, 2, 3, 1]);
      for (const layer of this.features) {
        x =
          layer.kind === 'maxpool'
            ? tf.maxPool(x, 2, 2, 'valid')
            : tf.fused.conv2d({
                x,
                filter: layer.filter,
                strides: 1,
                pad: 'same',
                bias: layer.bias,
                activation: 'relu',
              });
      }
      const [, fh, fw, c] = x.shape;
      // [n, h, w, c] → [n·c, h·w] rows in channel-major order; × P[h·w, 49] → [n, c·49]: PyTorch's flatten order.
      const rows = tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [n * c, fh * fw]);
      const pooled = tf.reshape(tf.matMul(rows, pool), [n, pooledFeatureSize(this.spec)]) as TfTypes.Tensor2D;
      const result: Partial<Record<VisionOutput, TfTypes.Tensor2D>> = {};
      if (outputs.includes('pooled')) result.pooled = pooled;
      if (outputs.includes('fc7') || outputs.includes('logits')) {
        const [fc6, fc7, fc8] = this.classifier!;
        // Dropout is the identity in eval mode.
        const h6 = dense(tf, pooled, fc6, 'relu');
        const h7 = dense(tf, h6, fc7, 'relu');
        if (outputs.includes('fc7')) result.fc7 = h7;
        if (outputs.includes('logits')) result.logits = dense(tf, h7, fc8, 'linear');
      }
      return result;
    });
  }

  /**
   * Runs a batch of `n` preprocessed images (NCHW float32, square S×S each) and reads the requested outputs back,
   * leaving no tensor behind.
   */
  async run(
    batch: Float32Array,
    n: number,
    outputs: readonly VisionOutput[] = ['logits'],
  ): Promise<Partial<Record<VisionOutput, Float32Array>>> {
    const size = squareSize(batch.length, n);
    const tf = this.tf;
    const results = tf.tidy(() => this.forward(tf.tensor4d(batch, [n, 3, size, size]), outputs));
    try {
      const read: Partial<Record<VisionOutput, Float32Array>> = {};
      for (const [name, tensor] of Object.entries(results) as [VisionOutput, TfTypes.Tensor][]) {
        read[name] = (await tensor.data()) as Float32Array;
      }
      return read;
    } finally {
      for (const tensor of Object.values(results)) tensor.dispose();
    }
  }

  /** Releases every weight tensor. The model cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const layer of this.features) {
      if (layer.kind === 'conv') {
        layer.filter.dispose();
        layer.bias.dispose();
      }
    }
    for (const layer of this.classifier ?? []) {
      layer.weight.dispose();
      layer.bias.dispose();
    }
    for (const matrix of this.poolMatrices.values()) matrix.dispose();
    this.poolMatrices.clear();
  }

  private assertUsable(outputs: readonly VisionOutput[]): void {
    if (this.disposed) throw new SortaError('internal', 'the TF.js VGG model was used after dispose()');
    for (const output of outputs) {
      if (!VISION_OUTPUTS.includes(output))
        throw new SortaError('usage', `unknown output '${String(output)}'; use ${VISION_OUTPUTS.join(', ')}`);
      if (output !== 'pooled' && !this.classifier)
        throw new SortaError(
          'unsupported',
          `output '${output}' needs classifier weights, and these weights hold only the features`,
        );
    }
  }

  /** One pooling matrix per feature-map size, kept with the weights (disposed with them). */
  private poolMatrix(height: number, width: number): TfTypes.Tensor2D {
    const key = `${height}x${width}`;
    let matrix = this.poolMatrices.get(key);
    if (!matrix) {
      // tf.keep: this may run inside a caller's tf.tidy, which must not take the cached matrix with it.
      matrix = this.tf.keep(this.tf.tensor2d(adaptivePoolMatrix(height, width), [height * width, 49]));
      this.poolMatrices.set(key, matrix);
    }
    return matrix;
  }
}

function dense(
  tf: Tf,
  x: TfTypes.Tensor2D,
  layer: DenseLayer,
  activation: 'relu' | 'linear',
): TfTypes.Tensor2D {
  // Not tf.fused.matMul: with transposeB and a bias, TF.js 4.22's wasm kernel returns wrong values (checked by
  // test/vision/tfjs-model.test.ts against a float64 reference); without a bias it is right.
  const y = tf.add(tf.matMul(x, layer.weight, false, true), layer.bias) as TfTypes.Tensor2D;
  return activation === 'relu' ? tf.relu(y) : y;
}

/** The side of a square NCHW batch of n RGB images with `length` values. */
export function squareSize(length: number, n: number): number {
  if (!Number.isInteger(n) || n < 1)
    throw new SortaError('invalid-input', `batch size must be ≥ 1, got ${n}`);
  const size = Math.round(Math.sqrt(length / (3 * n)));
  if (size * size * 3 * n !== length)
    throw new SortaError(
      'invalid-input',
      `a batch of ${n} square RGB images cannot hold ${length} values (expected n·3·S·S)`,
    );
  return size;
}

interface FoldedBatchNorm {
  scale: Float64Array;
  shift: Float64Array;
}

/** Eval-mode BatchNorm as y = x·scale + shift, in float64. */
function foldBatchNorm(
  take: (name: string) => WeightTensor,
  index: number,
  channels: number,
): FoldedBatchNorm {
  const gamma = take(`features.${index}.weight`).data;
  const beta = take(`features.${index}.bias`).data;
  const mean = take(`features.${index}.running_mean`).data;
  const variance = take(`features.${index}.running_var`).data;
  const scale = new Float64Array(channels);
  const shift = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    scale[c] = gamma[c] / Math.sqrt(variance[c] + BN_EPSILON);
    shift[c] = beta[c] - mean[c] * scale[c];
  }
  return { scale, shift };
}

/** OIHW → HWIO, with an eval-mode BatchNorm folded in when there is one. */
function convToHwio(
  weight: Float32Array,
  bias: Float32Array,
  out: number,
  inChannels: number,
  bn: FoldedBatchNorm | undefined,
): { filter: Float32Array; shift: Float32Array } {
  const filter = new Float32Array(weight.length);
  const shift = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    const scale = bn ? bn.scale[o] : 1;
    shift[o] = bn ? bias[o] * scale + bn.shift[o] : bias[o];
    for (let i = 0; i < inChannels; i++) {
      for (let k = 0; k < 9; k++) {
        // k = ky·3 + kx in both layouts.
        filter[(k * inChannels + i) * out + o] = weight[(o * inChannels + i) * 9 + k] * scale;
      }
    }
  }
  return { filter, shift };
}

function checkShapes(weights: VggWeightsSource): void {
  const expected = expectedTensors(weights.spec, { classifier: weights.hasClassifier });
  for (const [name, shape] of expected) {
    const tensor = weights.tensors.get(name);
    if (!tensor) throw new SortaError('invalid-weights', `weights for ${weights.spec.arch} lack '${name}'`);
    const size = shape.reduce((a, b) => a * b, 1);
    if (tensor.shape.join(',') !== shape.join(',') || tensor.data.length !== size)
      throw new SortaError(
        'invalid-weights',
        `'${name}' has shape [${tensor.shape.join(', ')}], expected [${shape.join(', ')}] for ${weights.spec.arch}`,
      );
  }
}
