/**
 * The trainable classifier head in TensorFlow.js, with torchvision's layer names:
 * - `last`: Dropout(0.5) on the frozen fc7 features → classifier.6 = Linear(hidden, K);
 * - `full`: classifier.0 = Linear(pooled, hidden) → ReLU → Dropout(0.5) → classifier.3 = Linear(hidden, hidden) →
 *   ReLU → Dropout(0.5) → classifier.6 = Linear(hidden, K), on the pooled conv features.
 * Dropout acts only in training. Weights cross this module's boundary in PyTorch layout ([out, in]); inside, each
 * kernel is held transposed ([in, out]) because TF.js's WASM backend multiplies untransposed operands several times
 * faster, and the matMul's gradient is written by hand for the same reason (and to skip the gradient of the frozen
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

type MatMulOp = (x: TfTypes.Tensor, kernel: TfTypes.Tensor) => TfTypes.Tensor2D;

/** x·W with W as [in, out]; the backward pass uses only untransposed matMuls (see the file comment). */
function matMulOp(tf: Tf, inputGradient: boolean): MatMulOp {
  return tf.customGrad((...args) => {
    const [x, kernel, save] = args as [TfTypes.Tensor2D, TfTypes.Tensor2D, TfTypes.GradSaveFunc];
    save([x, kernel]);
    return {
      value: tf.matMul(x, kernel),
      gradFunc: (dy: TfTypes.Tensor, saved: TfTypes.Tensor[]) => {
        const [xs, ks] = saved as [TfTypes.Tensor2D, TfTypes.Tensor2D];
        const dy2 = dy as TfTypes.Tensor2D;
        // The input of the first layer is a frozen feature: its gradient is never used, so skip the big product.
        const dx = inputGradient ? tf.matMul(dy2, tf.transpose(ks)) : tf.zerosLike(xs);
        return [dx, tf.matMul(tf.transpose(xs), dy2)];
      },
    };
  }) as MatMulOp;
}

/**
 * Kernels above this many values are held as several variables, each a band of input rows. TF.js's WASM heap is
 * limited to 4 GiB, and classifier.0 at full size (25088 × 4096, 411 MB) plus its gradient, two Adam moments and the
 * update's temporaries would not fit as whole tensors; in bands, the optimiser's temporaries stay one band large.
 */
export const KERNEL_BAND_VALUES = 1 << 25;

interface Band {
  rowStart: number;
  rows: number;
  kernel: TfTypes.Variable;
}

/** The head's variables and forward pass. Owns its tensors: call dispose(). */
export class HeadModel {
  readonly layers: LayerShape[];
  private readonly bands: Band[][] = [];
  private readonly biases: TfTypes.Variable[] = [];
  private readonly firstMatMul: MatMulOp;
  private readonly innerMatMul: MatMulOp;

  constructor(
    private readonly tf: Tf,
    readonly spec: HeadSpec,
    weights: HeadWeights,
    bandValues: number = KERNEL_BAND_VALUES,
  ) {
    this.layers = headLayers(spec);
    this.firstMatMul = matMulOp(tf, false);
    this.innerMatMul = matMulOp(tf, true);
    try {
      for (const layer of this.layers) {
        const w = weights.get(`classifier.${layer.index}.weight`);
        const b = weights.get(`classifier.${layer.index}.bias`);
        if (!w || !b) throw new Error(`head weights lack classifier.${layer.index}`);
        const { inFeatures, outFeatures } = layer;
        const bandRows = Math.max(1, Math.floor(bandValues / outFeatures));
        const bands: Band[] = [];
        this.bands.push(bands);
        for (let rowStart = 0; rowStart < inFeatures; rowStart += bandRows) {
          const rows = Math.min(bandRows, inFeatures - rowStart);
          // [out, in] (PyTorch) → rows rowStart… of [in, out], transposed in JavaScript so the WASM heap never holds
          // the whole matrix twice.
          const band = new Float32Array(rows * outFeatures);
          for (let r = 0; r < rows; r++)
            for (let o = 0; o < outFeatures; o++)
              band[r * outFeatures + o] = w.data[o * inFeatures + rowStart + r];
          bands.push({ rowStart, rows, kernel: this.variableFrom(band, [rows, outFeatures]) });
        }
        this.biases.push(this.variableFrom(b.data, [outFeatures]));
      }
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  /** tf.variable shares the initial tensor's data, so that tensor is disposed here. Unnamed: names are global. */
  private variableFrom(data: Float32Array, shape: number[]): TfTypes.Variable {
    const initial = this.tf.tensor(data, shape);
    const variable = this.tf.variable(initial, true);
    initial.dispose();
    return variable;
  }

  get variables(): TfTypes.Variable[] {
    return [...this.bands.flat().map((b) => b.kernel), ...this.biases];
  }

  private dense(x: TfTypes.Tensor2D, layer: number, matMul: MatMulOp): TfTypes.Tensor2D {
    const tf = this.tf;
    const bands = this.bands[layer];
    const product =
      bands.length === 1
        ? matMul(x, bands[0].kernel)
        : tf.addN(
            bands.map((band) =>
              matMul(tf.slice(x, [0, band.rowStart], [x.shape[0], band.rows]), band.kernel),
            ),
          );
    return tf.add(product, this.biases[layer]) as TfTypes.Tensor2D;
  }

  /**
   * Logits for a [batch, featureSize] input. In training, Dropout(0.5) acts where torchvision puts it, each
   * application with its own seed drawn from `random` (so a run is reproducible).
   */
  logits(x: TfTypes.Tensor2D, training: boolean, random?: SeededRandom): TfTypes.Tensor2D {
    const tf = this.tf;
    // Dropout(0.5) as inverted dropout, with the mask drawn from the run's seeded generator: one random bit per
    // value is several times cheaper than TF.js's seeded randomUniform, which draws a float per value in JavaScript.
    const dropout = (t: TfTypes.Tensor2D) => {
      if (!training) return t;
      const mask = random
        ? tf.tensor2d(random.halfDropoutMask(t.size), t.shape)
        : tf.mul(
            tf.cast(tf.greater(tf.randomUniform(t.shape), DROPOUT_RATE), 'float32'),
            1 / (1 - DROPOUT_RATE),
          );
      return tf.mul(t, mask) as TfTypes.Tensor2D;
    };
    if (this.spec.mode === 'last') return this.dense(dropout(x), 0, this.firstMatMul);
    let h = tf.relu(this.dense(x, 0, this.firstMatMul));
    h = tf.relu(this.dense(dropout(h), 1, this.innerMatMul));
    return this.dense(dropout(h), 2, this.innerMatMul);
  }

  /** A copy of every variable's values in JavaScript memory (so the best epoch costs no WASM heap). */
  snapshot(): Float32Array[] {
    return this.variables.map((v) => (v.dataSync() as Float32Array).slice());
  }

  restore(snapshot: readonly Float32Array[]): void {
    this.variables.forEach((v, i) => {
      const value = this.tf.tensor(snapshot[i], v.shape);
      v.assign(value);
      value.dispose();
    });
  }

  /** The weights in PyTorch layout, by torchvision name. */
  readWeights(): HeadWeights {
    const out: HeadWeights = new Map();
    this.layers.forEach((layer, i) => {
      const { inFeatures, outFeatures } = layer;
      const weight = new Float32Array(outFeatures * inFeatures);
      for (const band of this.bands[i]) {
        const values = band.kernel.dataSync() as Float32Array;
        for (let r = 0; r < band.rows; r++)
          for (let o = 0; o < outFeatures; o++)
            weight[o * inFeatures + band.rowStart + r] = values[r * outFeatures + o];
      }
      out.set(`classifier.${layer.index}.weight`, { shape: [outFeatures, inFeatures], data: weight });
      out.set(`classifier.${layer.index}.bias`, {
        shape: [outFeatures],
        data: (this.biases[i].dataSync() as Float32Array).slice(),
      });
    });
    return out;
  }

  dispose(): void {
    this.tf.dispose(this.variables);
    this.bands.length = 0;
    this.biases.length = 0;
  }
}
