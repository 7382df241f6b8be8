/**
 * The VGG network in TensorFlow.js, built from the same architecture description (arch.ts) and the same
 * torchvision-named weights as the ONNX graph, so either engine gives PyTorch's numbers.
 *
 * Layout: the caller passes NCHW images (what preprocessing produces); inside, activations are NHWC because every
 * TF.js backend (wasm, cpu, tfjs-node) implements NHWC convolutions; tfjs-weights.ts transposes the conv kernels
 * once and folds eval-mode BatchNorm into them. The adaptive pool is one MatMul with PyTorch's bins, applied to
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
  MIN_INPUT_SIZE,
  POOLED_SIZE,
  adaptivePoolMatrix,
  featureMapSize,
  pooledFeatureSize,
  type VggSpec,
} from './arch.js';
import type { VggOutput } from './onnx-graph.js';
import {
  uploadVggWeights,
  type DenseLayer,
  type FeatureLayer,
  type UploadOptions,
  type VggWeightsSource,
} from './tfjs-weights.js';

/** The same outputs as the ONNX graph: 'pooled' (25088-d), 'fc7' (4096-d, after ReLU), 'logits', 'probs'. */
export type VisionOutput = VggOutput;
export const VISION_OUTPUTS: readonly VisionOutput[] = ['logits', 'pooled', 'fc7', 'probs'];

export type TfjsVggOptions = UploadOptions;

export class TfjsVgg {
  private readonly poolMatrices = new Map<string, TfTypes.Tensor2D>();
  private disposed = false;

  private constructor(
    readonly tf: Tf,
    readonly spec: VggSpec,
    private readonly features: FeatureLayer[],
    private readonly classifier: UploadedClassifier,
  ) {}

  /** Uploads the weights (checked against the spec) as backend tensors: constants, never variables. */
  static create(tf: Tf, weights: VggWeightsSource, options: TfjsVggOptions = {}): TfjsVgg {
    const { features, classifier } = uploadVggWeights(tf, weights, options);
    return new TfjsVgg(tf, weights.spec, features, classifier);
  }

  /** True when the classifier (the file's, or a head override) is complete: logits and probs can be computed. */
  get hasClassifier(): boolean {
    return this.classifier.every((layer) => layer !== null);
  }

  /** Classes of the classifier's last layer (null without one). */
  get numClasses(): number | null {
    return this.classifier[2]?.weight.shape[0] ?? null;
  }

  /**
   * The forward pass on an NCHW batch tensor. Returns new tensors for the requested outputs; intermediates are
   * released. Safe to call inside the caller's own tf.tidy.
   */
  forward(
    input: TfTypes.Tensor4D,
    outputs: readonly VisionOutput[] = ['logits'],
  ): Partial<Record<VisionOutput, TfTypes.Tensor2D>> {
    this.checkOutputs(outputs);
    const tf = this.tf;
    const [n, channels, height, width] = input.shape;
    if (channels !== 3) throw new SortaError('invalid-input', `expected 3 input channels, got ${channels}`);
    if (height < MIN_INPUT_SIZE || width < MIN_INPUT_SIZE)
      throw new SortaError(
        'invalid-input',
        `input ${height}×${width} is smaller than the minimum ${MIN_INPUT_SIZE}×${MIN_INPUT_SIZE}`,
      );
    const pool = this.poolMatrix(featureMapSize(height), featureMapSize(width));
    const wants = (o: VisionOutput) => outputs.includes(o);
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
      if (wants('pooled')) result.pooled = pooled;
      if (wants('fc7') || wants('logits') || wants('probs')) {
        const [fc6, fc7, fc8] = this.classifier;
        // Dropout is the identity in eval mode.
        const h7 = dense(tf, dense(tf, pooled, fc6!, true), fc7!, true);
        if (wants('fc7')) result.fc7 = h7;
        if (wants('logits') || wants('probs')) {
          const logits = dense(tf, h7, fc8!, false);
          if (wants('logits')) result.logits = logits;
          if (wants('probs')) result.probs = tf.softmax(logits);
        }
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
      if (layer.kind === 'conv') this.tf.dispose([layer.filter, layer.bias]);
    }
    for (const layer of this.classifier) if (layer) this.tf.dispose([layer.weight, layer.bias]);
    for (const matrix of this.poolMatrices.values()) matrix.dispose();
    this.poolMatrices.clear();
  }

  /** Throws unless every output can be computed from these weights. */
  checkOutputs(outputs: readonly VisionOutput[]): void {
    if (this.disposed) throw new SortaError('internal', 'the TF.js VGG model was used after dispose()');
    for (const output of outputs) {
      if (!VISION_OUTPUTS.includes(output))
        throw new SortaError('usage', `unknown output '${String(output)}'; use ${VISION_OUTPUTS.join(', ')}`);
      const needs = output === 'pooled' ? 0 : output === 'fc7' ? 2 : 3;
      if (this.classifier.slice(0, needs).some((layer) => layer === null))
        throw new SortaError(
          'invalid-weights',
          `output '${output}' needs classifier weights, and these weights hold only the features: train a head first or use feature outputs`,
        );
    }
  }

  /** One pooling matrix per feature-map size, kept with the weights (disposed with them). */
  private poolMatrix(height: number, width: number): TfTypes.Tensor2D {
    const key = `${height}x${width}`;
    let matrix = this.poolMatrices.get(key);
    if (!matrix) {
      // tf.keep: this may run inside a caller's tf.tidy, which must not take the cached matrix with it.
      matrix = this.tf.keep(
        this.tf.tensor2d(adaptivePoolMatrix(height, width), [height * width, POOLED_SIZE * POOLED_SIZE]),
      );
      this.poolMatrices.set(key, matrix);
    }
    return matrix;
  }
}

type UploadedClassifier = [DenseLayer | null, DenseLayer | null, DenseLayer | null];

function dense(tf: Tf, x: TfTypes.Tensor2D, layer: DenseLayer, relu: boolean): TfTypes.Tensor2D {
  // Not tf.fused.matMul: with transposeB and a bias, TF.js 4.22's wasm kernel returns wrong values (checked by
  // test/vision/tfjs-model.test.ts against a float64 reference); without a bias it is right.
  const y = tf.add(tf.matMul(x, layer.weight, false, true), layer.bias) as TfTypes.Tensor2D;
  return relu ? tf.relu(y) : y;
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
