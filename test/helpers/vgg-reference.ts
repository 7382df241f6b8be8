/**
 * A deliberately naive float64 VGG forward pass in NCHW, written straight from the PyTorch definitions (Conv2d with
 * padding 1, BatchNorm2d in eval mode, MaxPool2d(2, 2), AdaptiveAvgPool2d((7, 7)) bins, flatten, Linear), sharing no
 * code with the engines. Slow; for tiny test networks only.
 */
import type { VggSpec } from '../../electron/vision/arch.js';

type Weights = Map<string, { shape: number[]; data: Float32Array }>;

interface Activation {
  c: number;
  h: number;
  w: number;
  data: Float64Array;
}

export function referenceForward(
  spec: VggSpec,
  tensors: Weights,
  image: Float32Array,
  size: number,
): { pooled: Float64Array; fc7: Float64Array | null; logits: Float64Array | null } {
  let x: Activation = { c: 3, h: size, w: size, data: Float64Array.from(image) };
  let index = 0;
  for (const layer of spec.layers) {
    if (layer === 'M') {
      x = maxPool(x);
      index++;
      continue;
    }
    x = conv3x3(
      x,
      tensors.get(`features.${index}.weight`)!.data,
      tensors.get(`features.${index}.bias`)!.data,
      layer,
    );
    index++;
    if (spec.batchNorm) {
      const p = (k: string) => tensors.get(`features.${index}.${k}`)!.data;
      const [g, b, m, v] = [p('weight'), p('bias'), p('running_mean'), p('running_var')];
      for (let c = 0; c < x.c; c++)
        for (let k = 0; k < x.h * x.w; k++) {
          const i = c * x.h * x.w + k;
          x.data[i] = ((x.data[i] - m[c]) / Math.sqrt(v[c] + 1e-5)) * g[c] + b[c];
        }
      index++;
    }
    for (let i = 0; i < x.data.length; i++) x.data[i] = Math.max(0, x.data[i]);
    index++;
  }
  const pooled = adaptiveAvgPool7(x);
  if (!tensors.has('classifier.0.weight')) return { pooled, fc7: null, logits: null };
  const fc6 = linear(pooled, tensors, 0, true);
  const fc7 = linear(fc6, tensors, 3, true);
  return { pooled, fc7, logits: linear(fc7, tensors, 6, false) };
}

function conv3x3(x: Activation, weight: Float32Array, bias: Float32Array, out: number): Activation {
  const { c, h, w } = x;
  const data = new Float64Array(out * h * w);
  for (let o = 0; o < out; o++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) {
        let sum = bias[o];
        for (let i = 0; i < c; i++)
          for (let ky = 0; ky < 3; ky++)
            for (let kx = 0; kx < 3; kx++) {
              const iy = y + ky - 1;
              const ix = xx + kx - 1;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              sum += weight[((o * c + i) * 3 + ky) * 3 + kx] * x.data[(i * h + iy) * w + ix];
            }
        data[(o * h + y) * w + xx] = sum;
      }
  return { c: out, h, w, data };
}

function maxPool(x: Activation): Activation {
  const h = Math.floor(x.h / 2);
  const w = Math.floor(x.w / 2);
  const data = new Float64Array(x.c * h * w);
  for (let c = 0; c < x.c; c++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) {
        let m = -Infinity;
        for (let dy = 0; dy < 2; dy++)
          for (let dx = 0; dx < 2; dx++) m = Math.max(m, x.data[(c * x.h + 2 * y + dy) * x.w + 2 * xx + dx]);
        data[(c * h + y) * w + xx] = m;
      }
  return { c: x.c, h, w, data };
}

/** torch's adaptive_avg_pool2d: start = floor(i·n/7), end = ceil((i+1)·n/7); flattened as (C, 7, 7). */
function adaptiveAvgPool7(x: Activation): Float64Array {
  const out = new Float64Array(x.c * 49);
  for (let c = 0; c < x.c; c++)
    for (let i = 0; i < 7; i++)
      for (let j = 0; j < 7; j++) {
        const y0 = Math.floor((i * x.h) / 7);
        const y1 = Math.ceil(((i + 1) * x.h) / 7);
        const x0 = Math.floor((j * x.w) / 7);
        const x1 = Math.ceil(((j + 1) * x.w) / 7);
        let sum = 0;
        for (let y = y0; y < y1; y++)
          for (let xx = x0; xx < x1; xx++) sum += x.data[(c * x.h + y) * x.w + xx];
        out[c * 49 + i * 7 + j] = sum / ((y1 - y0) * (x1 - x0));
      }
  return out;
}

function linear(x: Float64Array, tensors: Weights, index: number, relu: boolean): Float64Array {
  const weight = tensors.get(`classifier.${index}.weight`)!;
  const bias = tensors.get(`classifier.${index}.bias`)!.data;
  const [outF, inF] = weight.shape;
  const y = new Float64Array(outF);
  for (let o = 0; o < outF; o++) {
    let sum = bias[o];
    for (let i = 0; i < inF; i++) sum += weight.data[o * inF + i] * x[i];
    y[o] = relu ? Math.max(0, sum) : sum;
  }
  return y;
}
