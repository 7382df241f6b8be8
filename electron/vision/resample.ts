/**
 * Pillow's BILINEAR resize (libImaging/Resample.c, Pillow 9: antialiased triangle filter, 22-bit fixed-point
 * coefficients, horizontal pass then vertical, 8-bit intermediate), reproduced bit for bit and computed only inside
 * the center-crop window.
 *
 * Why not sharp for everything: libvips' upscaler samples pixel corners rather than centres, half a pixel off PIL's
 * grid (logits move by ~0.1), and its shrink differs from PIL's by up to 2 levels per pixel (~0.05). Enlarging is
 * cheap here (the work is bounded by the S×S crop), and so is shrinking a web-sized image; shrinking a 12-megapixel
 * photo in JavaScript would cost more than the network itself, so preprocess.ts sends those to sharp.
 */

const PRECISION_BITS = 32 - 8 - 2;

interface Coefficients {
  /** First input index read by each output index. */
  start: Int32Array;
  /** Number of input indices read by each output index. */
  count: Int32Array;
  /** Fixed-point weights, `taps` per output index. */
  weights: Int32Array;
  taps: number;
}

const triangle = (x: number) => {
  const a = Math.abs(x);
  return a < 1 ? 1 - a : 0;
};

/** precompute_coeffs + normalize_coeffs_8bpc for output indices [from, from + n) of an inSize → outSize resize. */
function coefficients(inSize: number, outSize: number, from: number, n: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // the triangle's support is 1
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(n);
  const count = new Int32Array(n);
  const weights = new Int32Array(n * taps);
  const k = new Float64Array(taps);
  for (let i = 0; i < n; i++) {
    const center = (from + i + 0.5) * scale;
    // C's (int) cast truncates toward zero; clamped to 0 right after, so Math.trunc matches.
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let sum = 0;
    for (let x = 0; x < xmax; x++) {
      k[x] = triangle((x + xmin - center + 0.5) / filterScale);
      sum += k[x];
    }
    for (let x = 0; x < xmax; x++) {
      const w = sum !== 0 ? k[x] / sum : k[x];
      weights[i * taps + x] = Math.trunc(
        w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS),
      );
    }
    start[i] = xmin;
    count[i] = xmax;
  }
  return { start, count, weights, taps };
}

const clip8 = (ss: number) => {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
};

/**
 * Resizes packed RGB bytes (width × height) to outWidth × outHeight as PIL does and returns only the window
 * [left, left + cropW) × [top, top + cropH) of the result, packed RGB.
 */
export function pilBilinearCrop(
  src: Uint8Array,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
  window: { left: number; top: number; width: number; height: number },
): Buffer {
  const h = coefficients(width, outWidth, window.left, window.width);
  const v = coefficients(height, outHeight, window.top, window.height);
  // Only the input rows the vertical pass reads go through the horizontal pass (PIL's ybox_first/ybox_last).
  const firstRow = v.start[0];
  const lastRow = v.start[window.height - 1] + v.count[window.height - 1];
  const rows = lastRow - firstRow;
  const half = 1 << (PRECISION_BITS - 1);

  // Hot loops: locals only (no property reads), integer math; V8 keeps these in registers.
  const outW = window.width;
  const hStart = h.start;
  const hCount = h.count;
  const hWeights = h.weights;
  const hTaps = h.taps;
  const temp = new Uint8Array(rows * outW * 3);
  for (let y = 0; y < rows; y++) {
    const rowOffset = (firstRow + y) * width * 3;
    for (let x = 0; x < outW; x++) {
      let s0 = half;
      let s1 = half;
      let s2 = half;
      let p = rowOffset + hStart[x] * 3;
      let k = x * hTaps;
      const end = k + hCount[x];
      for (; k < end; k++, p += 3) {
        const w = hWeights[k];
        s0 += src[p] * w;
        s1 += src[p + 1] * w;
        s2 += src[p + 2] * w;
      }
      const o = (y * outW + x) * 3;
      temp[o] = clip8(s0);
      temp[o + 1] = clip8(s1);
      temp[o + 2] = clip8(s2);
    }
  }

  const outH = window.height;
  const stride = outW * 3;
  const vStart = v.start;
  const vCount = v.count;
  const vWeights = v.weights;
  const vTaps = v.taps;
  const out = Buffer.allocUnsafe(stride * outH);
  const acc = new Float64Array(stride);
  for (let y = 0; y < outH; y++) {
    // Row by row (not pixel by pixel) so the inner loop walks memory contiguously.
    acc.fill(half);
    const base = (vStart[y] - firstRow) * stride;
    const kBase = y * vTaps;
    for (let t = 0; t < vCount[y]; t++) {
      const w = vWeights[kBase + t];
      const r = base + t * stride;
      for (let i = 0; i < stride; i++) acc[i] += temp[r + i] * w;
    }
    const o = y * stride;
    for (let i = 0; i < stride; i++) out[o + i] = clip8(acc[i]);
  }
  return out;
}
