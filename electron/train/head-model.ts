/**
 * The trainable classifier head in TensorFlow.js, with torchvision's layer names:
 * - `last`: Dropout(0.5) on the frozen fc7 features → classifier.6 = Linear(hidden, K);
 * - `full`: classifier.0 = Linear(pooled, hidden) → ReLU → Dropout(0.5) → classifier.3 = Linear(hidden, hidden) →
 *   ReLU → Dropout(0.5) → classifier.6 = Linear(hidden, K), on the pooled conv features.
 * Dropout acts only in training. Weights cross this module's boundary in PyTorch layout ([out, in]); inside, each
 * kernel is held transposed ([in, out]) because TF.js's WASM backend multiplies untransposed operands several times
 * faster, and the dense op's gradient is written by hand for the same reason (and to skip the gradient of the frozen
 * input features).
 */
import type * as TfTypes from '@tensorflow/tfjs';
import type { Tf } from '../compute/tf-backend.js';
import { DROPOUT_RATE } from '../vision/arch.js';
import type { SeededRandom } from './rng.js';

export type HeadMode = 'last' | 'full';

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

/** Head parameters by torchvision name (`classifier.6.weight` …), PyTorch layouts. */
export type HeadWeights = Map<string, NamedTensor>;

export interface HeadSpec {
  mode: HeadMode;
  /** Length of the input features: `hidden` (fc7) for `last`, the pooled size (25088) for `full`. */
  featureSize: number;
  /** Width of classifier.0/.3 (4096 at full size). */
  hidden: number;
  numClasses: number;
}

interface LayerShape {
  index: 0 | 3 | 6;
  inFeatures: number;
  outFeatures: number;
}

export function headLayers(spec: HeadSpec): LayerShape[] {
  if (spec.mode === 'last') return [{ index: 6, inFeatures: spec.featureSize, outFeatures: spec.numClasses }];
  return [
    { index: 0, inFeatures: spec.featureSize, outFeatures: spec.hidden },
    { index: 3, inFeatures: spec.hidden, outFeatures: spec.hidden },
    { index: 6, inFeatures: spec.hidden, outFeatures: spec.numClasses },
  ];
}

/**
 * Starting weights: each layer from `pretrained` when it holds that layer with the right shape (fc6/fc7 of the
 * ImageNet weights in `full` mode), else fresh with PyTorch's nn.Linear default — weight and bias uniform in
 * ±1/√fan_in (kaiming_uniform_ with a=√5 reduces to that bound) — drawn from the seeded generator.
 */
export function initialHeadWeights(
  spec: HeadSpec,
  random: SeededRandom,
  pretrained?: ReadonlyMap<string, NamedTensor>,
): { weights: HeadWeights; pretrainedLayers: number[] } {
  const weights: HeadWeights = new Map();
  const pretrainedLayers: number[] = [];
  for (const layer of headLayers(spec)) {
    const w = pretrained?.get(`classifier.${layer.index}.weight`);
    const b = pretrained?.get(`classifier.${layer.index}.bias`);
    const usable =
      layer.index !== 6 &&
      w?.shape[0] === layer.outFeatures &&
      w?.shape[1] === layer.inFeatures &&
      b?.shape[0] === layer.outFeatures;
    if (usable && w && b) {
      weights.set(`classifier.${layer.index}.weight`, { shape: [...w.shape], data: w.data });
      weights.set(`classifier.${layer.index}.bias`, { shape: [...b.shape], data: b.data });
      pretrainedLayers.push(layer.index);
      continue;
    }
    const bound = 1 / Math.sqrt(layer.inFeatures);
    weights.set(`classifier.${layer.index}.weight`, {
      shape: [layer.outFeatures, layer.inFeatures],
      data: random.uniformArray(layer.outFeatures * layer.inFeatures, bound),
    });
    weights.set(`classifier.${layer.index}.bias`, {
      shape: [layer.outFeatures],
      data: random.uniformArray(layer.outFeatures, bound),
    });
  }
  return { weights, pretrainedLayers };
}

type DenseOp = (x: TfTypes.Tensor, kernel: TfTypes.Tensor, bias: TfTypes.Tensor) => TfTypes.Tensor2D;

/** y = x·W + b with W as [in, out]; the backward pass uses only untransposed matMuls (see the file comment). */
function denseOp(tf: Tf, inputGradient: boolean): DenseOp {
  return tf.customGrad((...args) => {
    const [x, kernel, bias, save] = args as [
      TfTypes.Tensor2D,
      TfTypes.Tensor2D,
      TfTypes.Tensor1D,
      TfTypes.GradSaveFunc,
    ];
    save([x, kernel]);
    return {
      value: tf.add(tf.matMul(x, kernel), bias) as TfTypes.Tensor2D,
      gradFunc: (dy: TfTypes.Tensor, saved: TfTypes.Tensor[]) => {
        const [xs, ks] = saved as [TfTypes.Tensor2D, TfTypes.Tensor2D];
        const dy2 = dy as TfTypes.Tensor2D;
        // The input of the first layer is a frozen feature: its gradient is never used, so skip the big product.
        const dx = inputGradient ? tf.matMul(dy2, tf.transpose(ks)) : tf.zerosLike(xs);
        return [dx, tf.matMul(tf.transpose(xs), dy2), tf.sum(dy2, 0)];
      },
    };
  }) as DenseOp;
}

/** The head's variables and forward pass. Owns its tensors: call dispose(). */
export class HeadModel {
  readonly layers: LayerShape[];
  private readonly kernels: TfTypes.Variable[] = [];
  private readonly biases: TfTypes.Variable[] = [];
  private readonly firstDense: DenseOp;
  private readonly innerDense: DenseOp;

  constructor(
    private readonly tf: Tf,
    readonly spec: HeadSpec,
    weights: HeadWeights,
  ) {
    this.layers = headLayers(spec);
    this.firstDense = denseOp(tf, false);
    this.innerDense = denseOp(tf, true);
    try {
      for (const layer of this.layers) {
        const w = weights.get(`classifier.${layer.index}.weight`);
        const b = weights.get(`classifier.${layer.index}.bias`);
        if (!w || !b) throw new Error(`head weights lack classifier.${layer.index}`);
        const kernel = tf.tidy(() =>
          tf.transpose(tf.tensor2d(w.data, [layer.outFeatures, layer.inFeatures])),
        );
        // tf.variable shares the initial tensor's data, so the initial tensor itself must be disposed. Unnamed:
        // TF.js names must be unique per process, and two trainings may run at once.
        this.kernels.push(tf.variable(kernel, true));
        kernel.dispose();
        const bias = tf.tensor1d(b.data);
        this.biases.push(tf.variable(bias, true));
        bias.dispose();
      }
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  get variables(): TfTypes.Variable[] {
    return [...this.kernels, ...this.biases];
  }

  /**
   * Logits for a [batch, featureSize] input. In training, Dropout(0.5) acts where torchvision puts it, each
   * application with its own seed from `dropoutSeeds` (so a run is reproducible).
   */
  logits(x: TfTypes.Tensor2D, training: boolean, random?: SeededRandom): TfTypes.Tensor2D {
    const tf = this.tf;
    const dropout = (t: TfTypes.Tensor2D) =>
      training ? (tf.dropout(t, DROPOUT_RATE, undefined, random?.seed()) as TfTypes.Tensor2D) : t;
    if (this.spec.mode === 'last') return this.firstDense(dropout(x), this.kernels[0], this.biases[0]);
    let h = tf.relu(this.firstDense(x, this.kernels[0], this.biases[0]));
    h = tf.relu(this.innerDense(dropout(h), this.kernels[1], this.biases[1]));
    return this.innerDense(dropout(h), this.kernels[2], this.biases[2]);
  }

  /** Copies of the current values (cheap: TF.js shares the data until a variable is reassigned). */
  snapshot(): TfTypes.Tensor[] {
    return this.variables.map((v) => this.tf.keep(this.tf.clone(v)));
  }

  restore(snapshot: readonly TfTypes.Tensor[]): void {
    this.variables.forEach((v, i) => v.assign(snapshot[i]));
  }

  /** The weights in PyTorch layout, by torchvision name. */
  readWeights(): HeadWeights {
    const out: HeadWeights = new Map();
    this.layers.forEach((layer, i) => {
      const weight = this.tf.tidy(() => this.tf.transpose(this.kernels[i]));
      out.set(`classifier.${layer.index}.weight`, {
        shape: [layer.outFeatures, layer.inFeatures],
        data: weight.dataSync() as Float32Array,
      });
      weight.dispose();
      out.set(`classifier.${layer.index}.bias`, {
        shape: [layer.outFeatures],
        data: (this.biases[i].dataSync() as Float32Array).slice(),
      });
    });
    return out;
  }

  dispose(): void {
    this.tf.dispose([...this.kernels, ...this.biases]);
    this.kernels.length = 0;
    this.biases.length = 0;
  }
}
