/**
 * The arithmetic of Winograd F(4×4, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks"): the
 * input, filter and output transforms. winograd.ts builds the ONNX graph that applies them.
 */
import type { FoldedConv } from './arch.js';

/** Output tile (m) and input tile (α = m + 2) sizes of F(4×4, 3×3). */
export const TILE = 4;
export const ALPHA = TILE + 2;

// Lavin & Gray's F(4, 3) with interpolation points 0, ±1, ±2, ∞.
const BT = [
  [4, 0, -5, 0, 1, 0],
  [0, -4, -4, 1, 1, 0],
  [0, 4, -4, -1, 1, 0],
  [0, -2, -1, 2, 1, 0],
  [0, 2, -1, -2, 1, 0],
  [0, 4, 0, -5, 0, 1],
];
const G = [
  [1 / 4, 0, 0],
  [-1 / 6, -1 / 6, -1 / 6],
  [-1 / 6, 1 / 6, -1 / 6],
  [1 / 24, 1 / 12, 1 / 6],
  [1 / 24, -1 / 12, 1 / 6],
  [0, 0, 1],
];
const AT = [
  [1, 1, 1, 1, 1, 0],
  [0, 1, -1, 2, -2, 0],
  [0, 1, 1, 4, 4, 0],
  [0, 1, -1, 8, -8, 1],
];

/** Bᵀ ⊗ Bᵀ, [36, 36]: the input transform Bᵀ d B of a 6×6 tile d flattened row by row. */
export function inputTransform(): Float32Array {
  return kron(BT, BT);
}

/** Aᵀ ⊗ Aᵀ, [16, 36]: the output transform Aᵀ M A, giving a 4×4 block of outputs row by row. */
export function outputTransform(): Float32Array {
  return kron(AT, AT);
}

/** The Kronecker product a ⊗ b: entry [i·rows(b) + k][j·cols(b) + l] = a[i][j]·b[k][l]. */
function kron(a: number[][], b: number[][]): Float32Array {
  const rows = a.length * b.length;
  const cols = a[0].length * b[0].length;
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < a.length; i++)
    for (let k = 0; k < b.length; k++)
      for (let j = 0; j < a[0].length; j++)
        for (let l = 0; l < b[0].length; l++)
          out[(i * b.length + k) * cols + j * b[0].length + l] = a[i][j] * b[k][l];
  return out;
}

/** U[ξ, c, k] = (G g_kc Gᵀ)[ξ], in float64 before the one rounding to float32. */
export function transformedFilters(conv: FoldedConv): Float32Array {
  const { weight, inChannels: C, outChannels: K } = conv;
  const u = new Float32Array(ALPHA * ALPHA * C * K);
  const gg = new Float64Array(ALPHA * 3);
  // c outside k: the writes for consecutive k are adjacent (U is 4× the weights, so its writes dominate).
  for (let c = 0; c < C; c++) {
    for (let k = 0; k < K; k++) {
      const base = (k * C + c) * 9;
      // G · g: [6, 3]
      for (let a = 0; a < ALPHA; a++)
        for (let s = 0; s < 3; s++)
          gg[a * 3 + s] =
            G[a][0] * weight[base + s] + G[a][1] * weight[base + 3 + s] + G[a][2] * weight[base + 6 + s];
      // (G · g) · Gᵀ: [6, 6]
      for (let a = 0; a < ALPHA; a++)
        for (let b = 0; b < ALPHA; b++)
          u[((a * ALPHA + b) * C + c) * K + k] =
            gg[a * 3] * G[b][0] + gg[a * 3 + 1] * G[b][1] + gg[a * 3 + 2] * G[b][2];
    }
  }
  return u;
}
