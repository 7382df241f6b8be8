/**
 * Builds the ONNX model of a VGG network from its weights, in code, so ONNX Runtime runs exactly torchvision's
 * eval-mode network: Conv → BatchNormalization (running statistics, eps 1e-5) → Relu, MaxPool 2×2/2, the
 * AdaptiveAvgPool2d((7,7)) as one MatMul with a matrix of PyTorch's bins, Flatten in C,H,W order, and the classifier
 * as Gemm (transB = 1, i.e. PyTorch's [out, in] weights untouched). Dropout is the identity in eval mode, so it has
 * no node. The input size is fixed per model, which fixes the feature-map size and so the pooling matrix; the batch
 * dimension is symbolic.
 */
import { SortaError } from '../shared/errors.js';
import {
  adaptivePoolMatrix,
  BN_EPSILON,
  featureOps,
  foldConv,
  pooledFeatureSize,
  POOLED_SIZE,
} from './arch.js';
import type { FloatTensor } from './safetensors.js';
import {
  encodeModel,
  floatInitializer,
  int64Initializer,
  node,
  tensorValueInfo,
  type OnnxNode,
} from './onnx-proto.js';
import { checkInputSize } from './preprocess.js';
import type { LoadedWeights } from './weights.js';
import { maxPoolHwnc, toHwnc, toNchw, winogradConv } from './winograd.js';

/**
 * 'pooled': the flattened adaptive-pool output (25088-d at full width), what the classifier reads. 'fc7': after
 * classifier.3's ReLU (4096-d), the usual transfer-learning feature. 'logits' and 'probs' (softmax of the logits).
 */
export type VggOutput = 'logits' | 'pooled' | 'fc7' | 'probs';

/**
 * 'direct': ONNX Conv nodes, the portable graph (exports, GPU providers). 'winograd': the blocks after the second
 * max-pool as Winograd F(4×4, 3×3) from MatMuls (winograd.ts), about 1.4× faster on ONNX Runtime's CPU provider.
 */
export type ConvolutionAlgorithm = 'direct' | 'winograd';

/**
 * Winograd pays where channels are many and maps small: from the third block on (256+ channels, ≤ 56 px at 224).
 * Starting at the second block measured the same (its tile transforms cost what its products save); at the first,
 * slower.
 */
const WINOGRAD_AFTER_POOLS = 2;

export interface BuildVggOnnxOptions {
  inputSize: number;
  /** Default 'direct'. */
  convolution?: ConvolutionAlgorithm;
  outputs: VggOutput[];
  /** Replaces classifier tensors by name (`classifier.6.weight` … or the whole classifier): a trained head. */
  headOverride?: Map<string, FloatTensor>;
}

export const INPUT_NAME = 'input';
/** ONNX opset 17 is old enough for every ORT build we load and has every operator we use. */
const OPSET = 17;
const IR_VERSION = 8;

/** The ONNX model as bytes, ready for `InferenceSession.create`. */
export function buildVggOnnx(weights: LoadedWeights, options: BuildVggOnnxOptions): Uint8Array {
  const model = buildVggModel(weights, options) as { graph: { initializer: { raw_data?: Uint8Array }[] } };
  const bytes = model.graph.initializer.reduce((sum, t) => sum + (t.raw_data?.length ?? 0), 0);
  return encodeModel(model, bytes);
}

/** The ModelProto as a plain object (raw_data fields view the weights' memory). */
export function buildVggModel(weights: LoadedWeights, options: BuildVggOnnxOptions): object {
  checkInputSize(options.inputSize);
  if (options.outputs.length === 0) throw new SortaError('usage', 'the ONNX model needs at least one output');
  const { spec } = weights;
  const needClassifier = options.outputs.some((o) => o !== 'pooled');
  const needHead = options.outputs.some((o) => o === 'logits' || o === 'probs');
  const get = tensorSource(weights, options.headOverride);

  const nodes: OnnxNode[] = [];
  const initializers: object[] = [];
  const param = (name: string): string => {
    const tensor = get(name);
    initializers.push(floatInitializer(name, tensor.shape, tensor.data));
    return name;
  };

  let x = INPUT_NAME;
  let size = options.inputSize;
  let channels = 3;
  let pools = 0;
  let layout: 'nchw' | 'hwnc' = 'nchw';
  const parts = { nodes, initializers };
  const ops = featureOps(spec);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    const name = `features.${op.index}`;
    const out = `${name}.out`;
    if (
      layout === 'nchw' &&
      options.convolution === 'winograd' &&
      pools >= WINOGRAD_AFTER_POOLS &&
      op.kind === 'conv'
    ) {
      x = toHwnc(parts, x, 'features.to_hwnc', channels, size);
      layout = 'hwnc';
    }
    if (op.kind === 'conv' && layout === 'hwnc') {
      const folded = foldConv(get, op, ops[i + 1]);
      if (folded.foldedBatchNorm) i++;
      x = winogradConv(parts, x, name, folded, size);
      channels = op.outChannels;
      continue;
    }
    if (op.kind === 'conv') {
      nodes.push(
        node('Conv', name, [x, param(`${name}.weight`), param(`${name}.bias`)], [out], {
          kernel_shape: [3, 3],
          pads: [1, 1, 1, 1],
          strides: [1, 1],
        }),
      );
      channels = op.outChannels;
    } else if (op.kind === 'bn') {
      const inputs = ['weight', 'bias', 'running_mean', 'running_var'].map((p) => param(`${name}.${p}`));
      // training_mode defaults to 0: normalise with the running statistics, as PyTorch's eval mode does.
      nodes.push(node('BatchNormalization', name, [x, ...inputs], [out], {}, { epsilon: BN_EPSILON }));
    } else if (op.kind === 'relu') {
      nodes.push(node('Relu', name, [x], [out]));
    } else if (layout === 'hwnc') {
      x = maxPoolHwnc(parts, x, name, channels, size);
      size = Math.floor(size / 2);
      pools++;
      continue;
    } else {
      // ceil_mode 0, no padding: PyTorch's MaxPool2d(2, 2) drops an odd last row/column the same way.
      nodes.push(node('MaxPool', name, [x], [out], { kernel_shape: [2, 2], strides: [2, 2] }));
      size = Math.floor(size / 2);
      pools++;
    }
    x = out;
  }
  if (layout === 'hwnc') x = toNchw(parts, x, 'features.to_nchw', channels, size);

  const map = size; // after the five max-pools
  if (map === POOLED_SIZE) {
    // 7×7 bins over a 7×7 map are single cells: the pool is the identity (exactly, as in PyTorch).
    nodes.push(node('Flatten', 'avgpool.flatten', [x], ['pooled'], { axis: 1 }));
  } else {
    // [N, C, h, w] → [N, C, h·w] · P[h·w, 49] → [N, C, 49], which flattened is PyTorch's C,H,W order.
    initializers.push(int64Initializer('avgpool.shape', [0, channels, map * map]));
    initializers.push(
      floatInitializer('avgpool.matrix', [map * map, POOLED_SIZE ** 2], adaptivePoolMatrix(map, map)),
    );
    nodes.push(node('Reshape', 'avgpool.reshape', [x, 'avgpool.shape'], ['avgpool.rows']));
    nodes.push(node('MatMul', 'avgpool', ['avgpool.rows', 'avgpool.matrix'], ['avgpool.out']));
    nodes.push(node('Flatten', 'avgpool.flatten', ['avgpool.out'], ['pooled'], { axis: 1 }));
  }

  const outputDims = new Map<VggOutput, number>([['pooled', pooledFeatureSize(spec)]]);
  if (needClassifier) {
    const linear = (index: number, input: string, output: string) => {
      nodes.push(
        node(
          'Gemm',
          `classifier.${index}`,
          [input, param(`classifier.${index}.weight`), param(`classifier.${index}.bias`)],
          [output],
          { transB: 1 },
        ),
      );
      return get(`classifier.${index}.weight`).shape[0];
    };
    linear(0, 'pooled', 'fc6.linear');
    nodes.push(node('Relu', 'classifier.1', ['fc6.linear'], ['fc6']));
    outputDims.set('fc7', linear(3, 'fc6', 'fc7.linear'));
    nodes.push(node('Relu', 'classifier.4', ['fc7.linear'], ['fc7']));
    if (needHead) {
      const classes = linear(6, 'fc7', 'logits');
      outputDims.set('logits', classes);
      outputDims.set('probs', classes);
      if (options.outputs.includes('probs'))
        nodes.push(node('Softmax', 'softmax', ['logits'], ['probs'], { axis: 1 }));
    }
  }

  return {
    ir_version: IR_VERSION,
    producer_name: 'sorta',
    opset_import: [{ domain: '', version: OPSET }],
    graph: {
      name: spec.arch,
      node: nodes,
      initializer: initializers,
      input: [tensorValueInfo(INPUT_NAME, ['batch', 3, options.inputSize, options.inputSize])],
      output: options.outputs.map((o) => tensorValueInfo(o, ['batch', outputDims.get(o)!])),
    },
  };
}

/**
 * Looks up a tensor by torchvision name, the head override first. Checks the classifier's chain of shapes, since an
 * override may change the hidden width or the class count; the features were validated when the weights loaded.
 */
function tensorSource(weights: LoadedWeights, override?: Map<string, FloatTensor>) {
  const pooled = pooledFeatureSize(weights.spec);
  return (name: string): FloatTensor => {
    const tensor = override?.get(name) ?? weights.tensors.get(name);
    if (!tensor) {
      throw new SortaError(
        'invalid-weights',
        name.startsWith('classifier.') && !weights.hasClassifier
          ? `the weights file has no classifier ('${name}'): train a head first or use feature outputs`
          : `missing tensor '${name}'`,
      );
    }
    const match = /^classifier\.(\d)\.weight$/.exec(name);
    if (match) {
      const index = Number(match[1]);
      const inFeatures = index === 0 ? pooled : getWidth(index === 3 ? 0 : 3);
      if (tensor.shape.length !== 2 || tensor.shape[1] !== inFeatures)
        throw new SortaError(
          'invalid-weights',
          `'${name}' has shape [${tensor.shape.join(', ')}], expected [out, ${inFeatures}]`,
        );
    }
    const bias = /^classifier\.(\d)\.bias$/.exec(name);
    if (bias && (tensor.shape.length !== 1 || tensor.shape[0] !== getWidth(Number(bias[1]))))
      throw new SortaError(
        'invalid-weights',
        `'${name}' has shape [${tensor.shape.join(', ')}], expected [${getWidth(Number(bias[1]))}]`,
      );
    return tensor;
  };

  function getWidth(index: number): number {
    const name = `classifier.${index}.weight`;
    const tensor = override?.get(name) ?? weights.tensors.get(name);
    if (!tensor) throw new SortaError('invalid-weights', `missing tensor '${name}'`);
    return tensor.shape[0];
  }
}
