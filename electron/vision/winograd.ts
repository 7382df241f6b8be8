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
import type { OnnxNode } from './onnx-proto.js';
import { floatInitializer, int64Initializer, node } from './onnx-proto.js';
import {
  ALPHA,
  inputTransform,
  outputTransform,
  TILE,
  transformedFilters,
  type FoldedConv,
} from './winograd-transforms.js';

export type { FoldedConv } from './winograd-transforms.js';

/** The graph under construction: nodes and initializers are appended. */
export interface GraphParts {
  nodes: OnnxNode[];
  initializers: object[];
}

function shape(parts: GraphParts, name: string, values: number[]): string {
  parts.initializers.push(int64Initializer(name, values));
  return name;
}

/** [N, C, H, W] → [H, W, N, C], as one 2-D transpose ([N·C, H·W] → [H·W, N·C]: ORT's fast path). */
export function toHwnc(
  parts: GraphParts,
  x: string,
  prefix: string,
  channels: number,
  height: number,
  width: number,
) {
  const { nodes } = parts;
  nodes.push(
    node(
      'Reshape',
      `${prefix}.rows`,
      [x, shape(parts, `${prefix}.rows.shape`, [-1, height * width])],
      [`${prefix}.rows`],
    ),
  );
  nodes.push(node('Transpose', `${prefix}.transpose`, [`${prefix}.rows`], [`${prefix}.t`], { perm: [1, 0] }));
  const out = `${prefix}.out`;
  nodes.push(
    node(
      'Reshape',
      `${prefix}`,
      [`${prefix}.t`, shape(parts, `${prefix}.shape`, [height, width, -1, channels])],
      [out],
    ),
  );
  return out;
}

/** [H, W, N, C] → [N, C, H, W]. */
export function toNchw(
  parts: GraphParts,
  x: string,
  prefix: string,
  channels: number,
  height: number,
  width: number,
) {
  const { nodes } = parts;
  nodes.push(
    node(
      'Reshape',
      `${prefix}.rows`,
      [x, shape(parts, `${prefix}.rows.shape`, [height * width, -1])],
      [`${prefix}.rows`],
    ),
  );
  nodes.push(node('Transpose', `${prefix}.transpose`, [`${prefix}.rows`], [`${prefix}.t`], { perm: [1, 0] }));
  const out = `${prefix}.out`;
  nodes.push(
    node(
      'Reshape',
      `${prefix}`,
      [`${prefix}.t`, shape(parts, `${prefix}.shape`, [-1, channels, height, width])],
      [out],
    ),
  );
  return out;
}

/** MaxPool2d(2, 2) on [H, W, N, C]: an odd last row or column is dropped, as PyTorch does. */
export function maxPoolHwnc(
  parts: GraphParts,
  x: string,
  prefix: string,
  channels: number,
  height: number,
  width: number,
): string {
  const { nodes } = parts;
  const h = Math.floor(height / 2);
  const w = Math.floor(width / 2);
  let input = x;
  if (2 * h !== height || 2 * w !== width) {
    input = `${prefix}.even`;
    nodes.push(
      node(
        'Slice',
        input,
        [
          x,
          shape(parts, `${prefix}.even.starts`, [0, 0]),
          shape(parts, `${prefix}.even.ends`, [2 * h, 2 * w]),
          shape(parts, `${prefix}.even.axes`, [0, 1]),
        ],
        [input],
      ),
    );
  }
  nodes.push(
    node(
      'Reshape',
      `${prefix}.pairs`,
      [input, shape(parts, `${prefix}.pairs.shape`, [h, 2, w, 2, -1])],
      [`${prefix}.pairs`],
    ),
  );
  nodes.push(
    node('ReduceMax', `${prefix}.max`, [`${prefix}.pairs`], [`${prefix}.max`], { axes: [1, 3], keepdims: 0 }),
  );
  const out = `${prefix}.out`;
  nodes.push(
    node('Reshape', prefix, [`${prefix}.max`, shape(parts, `${prefix}.shape`, [h, w, -1, channels])], [out]),
  );
  return out;
}

/** Conv 3×3 (padding 1) + bias on [H, W, N, C] → [H, W, N, K], by Winograd F(4×4, 3×3). */
export function winogradConv(
  parts: GraphParts,
  x: string,
  prefix: string,
  conv: FoldedConv,
  height: number,
  width: number,
): string {
  const { nodes, initializers } = parts;
  const C = conv.inChannels;
  const K = conv.outChannels;
  const tilesY = Math.ceil(height / TILE);
  const tilesX = Math.ceil(width / TILE);
  const paddedH = TILE * tilesY + 2;
  const paddedW = TILE * tilesX + 2;
  const name = (suffix: string) => `${prefix}.${suffix}`;

  // Zero padding: 1 before, and after enough for whole tiles (the extra outputs are cropped below).
  nodes.push(
    node(
      'Pad',
      name('pad'),
      [x, shape(parts, name('pad.pads'), [1, 1, 0, 0, paddedH - height - 1, paddedW - width - 1, 0, 0])],
      [name('pad')],
    ),
  );
  nodes.push(
    node(
      'Reshape',
      name('positions'),
      [name('pad'), shape(parts, name('positions.shape'), [paddedH * paddedW, -1])],
      [name('positions')],
    ),
  );
  // The 6×6 input tiles: [36, tiles, N·C], tile (ty, tx) starting at padded row 4·ty, column 4·tx.
  const indices: number[] = [];
  for (let i = 0; i < ALPHA; i++)
    for (let j = 0; j < ALPHA; j++)
      for (let ty = 0; ty < tilesY; ty++)
        for (let tx = 0; tx < tilesX; tx++) indices.push((TILE * ty + i) * paddedW + TILE * tx + j);
  initializers.push({
    name: name('tiles.indices'),
    dims: [ALPHA * ALPHA, tilesY * tilesX],
    data_type: 7,
    int64_data: indices,
  });
  nodes.push(
    node('Gather', name('tiles'), [name('positions'), name('tiles.indices')], [name('tiles')], { axis: 0 }),
  );
  nodes.push(
    node(
      'Reshape',
      name('tiles.flat'),
      [name('tiles'), shape(parts, name('tiles.flat.shape'), [ALPHA * ALPHA, -1])],
      [name('tiles.flat')],
    ),
  );
  // Input transform Bᵀ d B for every tile and channel at once: [36, 36] × [36, tiles·N·C].
  initializers.push(
    floatInitializer(name('input_transform'), [ALPHA * ALPHA, ALPHA * ALPHA], inputTransform()),
  );
  nodes.push(
    node('MatMul', name('input_transform'), [name('input_transform'), name('tiles.flat')], [name('v')]),
  );
  nodes.push(
    node(
      'Reshape',
      name('v.rows'),
      [name('v'), shape(parts, name('v.rows.shape'), [ALPHA * ALPHA, -1, C])],
      [name('v.rows')],
    ),
  );
  // The products: for each of the 36 positions, [tiles·N, C] × [C, K].
  initializers.push(floatInitializer(name('u'), [ALPHA * ALPHA, C, K], transformedFilters(conv)));
  nodes.push(node('MatMul', name('products'), [name('v.rows'), name('u')], [name('m')]));
  nodes.push(
    node(
      'Reshape',
      name('m.flat'),
      [name('m'), shape(parts, name('m.flat.shape'), [ALPHA * ALPHA, -1])],
      [name('m.flat')],
    ),
  );
  // Output transform Aᵀ M A: [16, 36] × [36, tiles·N·K], then the 4×4 blocks back into rows and columns.
  initializers.push(
    floatInitializer(name('output_transform'), [TILE * TILE, ALPHA * ALPHA], outputTransform()),
  );
  nodes.push(
    node('MatMul', name('output_transform'), [name('output_transform'), name('m.flat')], [name('y')]),
  );
  nodes.push(
    node(
      'Reshape',
      name('y.blocks'),
      [name('y'), shape(parts, name('y.blocks.shape'), [TILE, TILE, tilesY, tilesX, -1, K])],
      [name('y.blocks')],
    ),
  );
  nodes.push(
    node('Transpose', name('y.interleave'), [name('y.blocks')], [name('y.interleave')], {
      perm: [2, 0, 3, 1, 4, 5],
    }),
  );
  let y = name('y.map');
  nodes.push(
    node(
      'Reshape',
      y,
      [name('y.interleave'), shape(parts, name('y.map.shape'), [TILE * tilesY, TILE * tilesX, -1, K])],
      [y],
    ),
  );
  if (TILE * tilesY !== height || TILE * tilesX !== width) {
    nodes.push(
      node(
        'Slice',
        name('crop'),
        [
          y,
          shape(parts, name('crop.starts'), [0, 0]),
          shape(parts, name('crop.ends'), [height, width]),
          shape(parts, name('crop.axes'), [0, 1]),
        ],
        [name('crop')],
      ),
    );
    y = name('crop');
  }
  initializers.push(floatInitializer(name('bias'), [K], Float32Array.from(conv.bias)));
  const out = name('out');
  nodes.push(node('Add', prefix, [y, name('bias')], [out]));
  return out;
}
