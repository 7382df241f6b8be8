/**
 * 3×3 convolutions (stride 1, padding 1) as Winograd F(4×4, 3×3), built from plain ONNX operators for ONNX Runtime's
 * CPU provider. Each 4×4 block of outputs comes from a 6×6 input tile with 36 multiplications per input channel
 * instead of 144, so blocks 3–5 (two thirds of vgg16's 15.5 G multiply-adds) cost about a quarter of theirs. ORT's
 * direct convolution already runs those layers near this CPU's peak (130–150 GFLOP/s on 2 AVX2 cores), so fewer
 * operations is the way left to go faster.
 *
 * Inside the Winograd region the activations are laid out [H, W, N, C] ("HWNC"): then the tiles are one Gather of
 * spatial positions, the input and output transforms are one MatMul each over the tile positions, and the per-
 * position products are 36 large matrix products [tiles·N, C] × [C, K] with no transposes between layers. Max-pools
 * there are a reshape and a ReduceMax. The rounding differs from direct convolution by about 1e-5 relative per layer
 * (the transforms' coefficients reach 8 and 1/24), well inside the 1e-3 logit parity the tests require.
 */
import type { FoldedConv } from './arch.js';
import type { OnnxNode } from './onnx-proto.js';
import { floatInitializer, int64Initializer, node } from './onnx-proto.js';
import { ALPHA, inputTransform, outputTransform, TILE, transformedFilters } from './winograd-transforms.js';

/** The graph under construction: nodes and initializers are appended. */
export interface GraphParts {
  nodes: OnnxNode[];
  initializers: object[];
}

/** Appends a node whose output is named like the node; returns that name. */
function add(
  parts: GraphParts,
  op: string,
  name: string,
  inputs: string[],
  attributes: Record<string, number | number[]> = {},
): string {
  parts.nodes.push(node(op, name, inputs, [name], attributes));
  return name;
}

function int64s(parts: GraphParts, name: string, values: number[]): string {
  parts.initializers.push(int64Initializer(name, values));
  return name;
}

function reshape(parts: GraphParts, name: string, x: string, dims: number[]): string {
  return add(parts, 'Reshape', name, [x, int64s(parts, `${name}.shape`, dims)]);
}

/** The first `height` rows and `width` columns of an [H, W, …] tensor. */
function cropTo(parts: GraphParts, name: string, x: string, height: number, width: number): string {
  const starts = int64s(parts, `${name}.starts`, [0, 0]);
  const ends = int64s(parts, `${name}.ends`, [height, width]);
  return add(parts, 'Slice', name, [x, starts, ends, int64s(parts, `${name}.axes`, [0, 1])]);
}

/** [N, C, H, W] → [H, W, N, C], as one 2-D transpose ([N·C, H·W] → [H·W, N·C]: ORT's fast path). */
export function toHwnc(parts: GraphParts, x: string, prefix: string, channels: number, size: number): string {
  const rows = reshape(parts, `${prefix}.rows`, x, [-1, size * size]);
  const t = add(parts, 'Transpose', `${prefix}.transpose`, [rows], { perm: [1, 0] });
  return reshape(parts, prefix, t, [size, size, -1, channels]);
}

/** [H, W, N, C] → [N, C, H, W]. */
export function toNchw(parts: GraphParts, x: string, prefix: string, channels: number, size: number): string {
  const rows = reshape(parts, `${prefix}.rows`, x, [size * size, -1]);
  const t = add(parts, 'Transpose', `${prefix}.transpose`, [rows], { perm: [1, 0] });
  return reshape(parts, prefix, t, [-1, channels, size, size]);
}

/** MaxPool2d(2, 2) on [H, W, N, C]: an odd last row or column is dropped, as PyTorch does. */
export function maxPoolHwnc(
  parts: GraphParts,
  x: string,
  prefix: string,
  channels: number,
  size: number,
): string {
  const half = Math.floor(size / 2);
  const even = 2 * half === size ? x : cropTo(parts, `${prefix}.even`, x, 2 * half, 2 * half);
  const pairs = reshape(parts, `${prefix}.pairs`, even, [half, 2, half, 2, -1]);
  const max = add(parts, 'ReduceMax', `${prefix}.max`, [pairs], { axes: [1, 3], keepdims: 0 });
  return reshape(parts, prefix, max, [half, half, -1, channels]);
}

/** Conv 3×3 (padding 1) + bias on [H, W, N, C] → [H, W, N, K], by Winograd F(4×4, 3×3). */
export function winogradConv(
  parts: GraphParts,
  x: string,
  prefix: string,
  conv: FoldedConv,
  size: number,
): string {
  const { initializers } = parts;
  const C = conv.inChannels;
  const K = conv.outChannels;
  const tiles = Math.ceil(size / TILE); // per side
  const padded = TILE * tiles + 2;
  const name = (suffix: string) => `${prefix}.${suffix}`;
  const positions = ALPHA * ALPHA;

  // Zero padding: 1 before, and after enough for whole tiles (the extra outputs are cropped below).
  const after = padded - size - 1;
  const pad = add(parts, 'Pad', name('pad'), [
    x,
    int64s(parts, name('pad.pads'), [1, 1, 0, 0, after, after, 0, 0]),
  ]);
  const flat = reshape(parts, name('positions'), pad, [padded * padded, -1]);
  // The 6×6 input tiles: [36, tiles, N·C], tile (ty, tx) starting at padded row 4·ty, column 4·tx.
  const indices: number[] = [];
  for (let i = 0; i < ALPHA; i++)
    for (let j = 0; j < ALPHA; j++)
      for (let ty = 0; ty < tiles; ty++)
        for (let tx = 0; tx < tiles; tx++) indices.push((TILE * ty + i) * padded + TILE * tx + j);
  initializers.push({
    name: name('tiles.indices'),
    dims: [positions, tiles * tiles],
    data_type: 7,
    int64_data: indices,
  });
  const d = add(parts, 'Gather', name('tiles'), [flat, name('tiles.indices')], { axis: 0 });
  // Input transform Bᵀ d B for every tile and channel at once: [36, 36] × [36, tiles·N·C].
  initializers.push(
    floatInitializer(name('input_transform.matrix'), [positions, positions], inputTransform()),
  );
  const v = add(parts, 'MatMul', name('input_transform'), [
    name('input_transform.matrix'),
    reshape(parts, name('tiles.flat'), d, [positions, -1]),
  ]);
  // The products: for each of the 36 positions, [tiles·N, C] × [C, K].
  initializers.push(floatInitializer(name('u'), [positions, C, K], transformedFilters(conv)));
  const m = add(parts, 'MatMul', name('products'), [
    reshape(parts, name('v.rows'), v, [positions, -1, C]),
    name('u'),
  ]);
  // Output transform Aᵀ M A: [16, 36] × [36, tiles·N·K], then the 4×4 blocks back into rows and columns.
  initializers.push(
    floatInitializer(name('output_transform.matrix'), [TILE * TILE, positions], outputTransform()),
  );
  const y = add(parts, 'MatMul', name('output_transform'), [
    name('output_transform.matrix'),
    reshape(parts, name('m.flat'), m, [positions, -1]),
  ]);
  const blocks = reshape(parts, name('y.blocks'), y, [TILE, TILE, tiles, tiles, -1, K]);
  const interleaved = add(parts, 'Transpose', name('y.interleave'), [blocks], { perm: [2, 0, 3, 1, 4, 5] });
  let map = reshape(parts, name('y.map'), interleaved, [TILE * tiles, TILE * tiles, -1, K]);
  if (TILE * tiles !== size) map = cropTo(parts, name('crop'), map, size, size);
  initializers.push(floatInitializer(name('bias'), [K], Float32Array.from(conv.bias)));
  return add(parts, 'Add', prefix, [map, name('bias')]);
}
