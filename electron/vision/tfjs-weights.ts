/**
 * Turns torchvision-named VGG weights (PyTorch layouts) into the TF.js model's backend tensors: conv kernels
 * transposed once from OIHW to HWIO with eval-mode BatchNorm folded in (arch.ts foldConv, the same folding the ONNX
 * graph's Winograd layers use), Linear weights kept as [out, in]. A head override (a trained classifier) replaces classifier tensors by
 * name, as the ONNX graph builder does.
 */
import type * as TfTypes from '@tensorflow/tfjs';
import { SortaError } from '../shared/errors.js';
import type { Tf } from '../compute/tf-backend.js';
import {
  expectedTensors,
  featureOps,
  foldConv,
  pooledFeatureSize,
  type FoldedConv,
  type VggSpec,
} from './arch.js';

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

export interface UploadOptions {
  /**
   * Delete each tensor from `weights.tensors` once it is uploaded, so the JavaScript copy can be collected while the
   * backend's copy lives on (full-size weights are 550 MB; two copies should not outlive the load).
   */
  releaseSource?: boolean;
  /** Classifier tensors by torchvision name (`classifier.6.weight`, …) that replace the file's: a trained head. */
  headOverride?: Map<string, WeightTensor>;
}

export type FeatureLayer =
  | { kind: 'conv'; filter: TfTypes.Tensor4D; bias: TfTypes.Tensor1D }
  | { kind: 'maxpool' };

export interface DenseLayer {
  /** PyTorch layout [out, in], multiplied with transposeB so no transposed copy is made. */
  weight: TfTypes.Tensor2D;
  bias: TfTypes.Tensor1D;
}

export interface UploadedVgg {
  features: FeatureLayer[];
  /** classifier.0, .3 and .6; null where neither the file nor the override has that layer. */
  classifier: [DenseLayer | null, DenseLayer | null, DenseLayer | null];
}

export function uploadVggWeights(
  tf: Tf,
  weights: VggWeightsSource,
  options: UploadOptions = {},
): UploadedVgg {
  const { spec, tensors } = weights;
  checkFeatureShapes(weights);
  const take = (name: string): WeightTensor => {
    const tensor = tensors.get(name);
    if (!tensor) throw new SortaError('invalid-weights', `weights for ${spec.arch} lack '${name}'`);
    return tensor;
  };
  const release = (...names: string[]) => {
    if (options.releaseSource) for (const name of names) tensors.delete(name);
  };
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
      const next = ops[i + 1];
      const folded = foldConv(take, op, next);
      const { filter, shift } = toHwio(folded);
      features.push({
        kind: 'conv',
        filter: keep(tf.tensor4d(filter, [3, 3, op.inChannels, op.outChannels])),
        bias: keep(tf.tensor1d(shift)),
      });
      release(`features.${op.index}.weight`, `features.${op.index}.bias`);
      if (folded.foldedBatchNorm) {
        const p = `features.${next.index}`;
        release(`${p}.weight`, `${p}.bias`, `${p}.running_mean`, `${p}.running_var`);
      }
    }
    const classifier = classifierTensors(weights, options.headOverride).map((layer, k) => {
      if (!layer) return null;
      const dense = {
        weight: keep(tf.tensor2d(layer.weight.data, layer.weight.shape as [number, number])),
        bias: keep(tf.tensor1d(layer.bias.data)),
      };
      release(`classifier.${[0, 3, 6][k]}.weight`, `classifier.${[0, 3, 6][k]}.bias`);
      return dense;
    }) as UploadedVgg['classifier'];
    return { features, classifier };
  } catch (error) {
    for (const t of created) t.dispose();
    throw error;
  }
}

/**
 * The classifier's three Linear layers, override first, with their chain of shapes checked: [h0, pooled],
 * [h3, h0], [K, h3] (a head may change the hidden width or the class count).
 */
function classifierTensors(
  weights: VggWeightsSource,
  override: Map<string, WeightTensor> | undefined,
): ({ weight: WeightTensor; bias: WeightTensor } | null)[] {
  let inFeatures = pooledFeatureSize(weights.spec);
  const layers: ({ weight: WeightTensor; bias: WeightTensor } | null)[] = [];
  let chainBroken = false;
  for (const index of [0, 3, 6]) {
    const get = (name: string) => override?.get(name) ?? weights.tensors.get(name);
    const weight = get(`classifier.${index}.weight`);
    const bias = get(`classifier.${index}.bias`);
    if (!weight && !bias && !weights.hasClassifier) {
      // Features-only weights: the layers after this one cannot run either.
      chainBroken = true;
      layers.push(null);
      continue;
    }
    if (!weight || !bias)
      throw new SortaError(
        'invalid-weights',
        `weights for ${weights.spec.arch} lack 'classifier.${index}.${weight ? 'bias' : 'weight'}'`,
      );
    if (chainBroken) {
      layers.push(null);
      continue;
    }
    const out = weight.shape[0];
    const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
    if (
      weight.shape.length !== 2 ||
      weight.shape[1] !== inFeatures ||
      size(weight.shape) !== weight.data.length
    )
      throw new SortaError(
        'invalid-weights',
        `'classifier.${index}.weight' has shape [${weight.shape.join(', ')}], expected [out, ${inFeatures}]`,
      );
    if (bias.shape.length !== 1 || bias.shape[0] !== out || bias.data.length !== out)
      throw new SortaError(
        'invalid-weights',
        `'classifier.${index}.bias' has shape [${bias.shape.join(', ')}], expected [${out}]`,
      );
    layers.push({ weight, bias });
    inFeatures = out;
  }
  return layers;
}

/** A folded conv's OIHW weights as HWIO, what tf.conv2d takes, in float32. */
function toHwio(conv: FoldedConv): { filter: Float32Array; shift: Float32Array } {
  const { weight, inChannels, outChannels: out } = conv;
  const filter = new Float32Array(weight.length);
  for (let o = 0; o < out; o++)
    for (let i = 0; i < inChannels; i++)
      // k = ky·3 + kx in both layouts.
      for (let k = 0; k < 9; k++)
        filter[(k * inChannels + i) * out + o] = weight[(o * inChannels + i) * 9 + k];
  return { filter, shift: Float32Array.from(conv.bias) };
}

/** Every feature tensor present with its expected shape (the classifier is checked as a chain, above). */
function checkFeatureShapes(weights: VggWeightsSource): void {
  for (const [name, shape] of expectedTensors(weights.spec, { classifier: false })) {
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
