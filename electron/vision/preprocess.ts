/**
 * torchvision's ImageNet eval transform — `Resize(floor(S/0.875))`, `CenterCrop(S)`, `ToTensor()`,
 * `Normalize(mean, std)` after PIL's `convert('RGB')` — with sharp doing the decoding and resampling.
 *
 * Two passes, on purpose. The first decodes to plain 8-bit sRGB RGB (EXIF orientation applied; gray, palette,
 * 16-bit and CMYK converted; alpha dropped; first frame only). The second resizes those 8-bit pixels: with
 * Pillow's exact bilinear algorithm when enlarging or when the shrink is cheap, else with sharp's 'linear' kernel
 * (the closest to PIL; see resample.ts). That is the order torchvision works in (convert, then resize), and it
 * keeps sharp from resizing with premultiplied alpha or in 16-bit, which PIL never does. The normalisation
 * reproduces PyTorch's float32 arithmetic bit for bit.
 */
import sharp from 'sharp';
import { describeFsError, SortaError } from '../shared/errors.js';
import { describeDecodeError } from '../shared/image-decode.js';
import { renderImage, withDecodeBudget, type RenderOptions } from '../shared/image-render.js';
import { IMAGENET_MEAN, IMAGENET_STD, MIN_INPUT_SIZE } from './arch.js';
import { pilBilinearCrop } from './resample.js';

/** torchvision's resize-then-crop ratio: 224 → 256. */
export const CROP_RATIO = 0.875;

export interface RgbImage {
  data: Buffer;
  width: number;
  height: number;
}

export interface CropPlan {
  /** Size after the resize (equal to the input when no resampling is needed). */
  width: number;
  height: number;
  resample: boolean;
  /** R = floor(S / 0.875), the target of the shorter side. */
  resizeTo: number;
  left: number;
  top: number;
}

/** Python's round(): halves go to the even neighbour (round(0.5) = 0, round(1.5) = 2). */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The resize target of `Resize(R)` and the offsets of `CenterCrop(S)`, computed as torchvision 0.14 does. */
export function cropPlan(width: number, height: number, inputSize: number): CropPlan {
  const resizeTo = Math.floor(inputSize / CROP_RATIO);
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  let w = width;
  let h = height;
  const resample = short !== resizeTo;
  if (resample) {
    // int(size * long / short) in Python: float division, then truncation.
    const newLong = Math.floor((resizeTo * long) / short);
    [w, h] = width <= height ? [resizeTo, newLong] : [newLong, resizeTo];
  }
  return {
    width: w,
    height: h,
    resample,
    resizeTo,
    left: roundHalfEven((w - inputSize) / 2),
    top: roundHalfEven((h - inputSize) / 2),
  };
}

export function checkInputSize(inputSize: number): void {
  if (!Number.isInteger(inputSize) || inputSize < MIN_INPUT_SIZE)
    throw new SortaError('usage', `input size must be an integer ≥ ${MIN_INPUT_SIZE}, got ${inputSize}`);
}

function imageError(name: string, error: unknown): SortaError {
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM' || code === 'EISDIR')
    return new SortaError('not-found', `image ${name}: ${describeFsError(error)}`, { cause: error });
  if (error instanceof SortaError && error.message.startsWith(`image ${name}:`)) return error;
  return new SortaError('invalid-input', `image ${name}: ${describeDecodeError(error)}`, { cause: error });
}

/**
 * Decodes any image Sorta reads (shared/image-decode: sharp's formats plus BMP, decompression bombs refused) to
 * 8-bit sRGB RGB, upright (EXIF orientation), first frame, alpha dropped — PIL's convert('RGB').
 */
export async function decodeRgb(
  input: string | Buffer,
  name = String(input),
  options: RenderOptions = {},
): Promise<RgbImage> {
  try {
    // renderImage waits for room in the decode memory budget and names the file's own format in its errors.
    const { data, info } = await renderImage(
      input,
      (image) =>
        image
          .toColourspace('srgb')
          .removeAlpha()
          .raw({ depth: 'uchar' })
          .toBuffer({ resolveWithObject: true }),
      options,
    );
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, not RGB`);
    return { data, width: info.width, height: info.height };
  } catch (error) {
    throw imageError(name, error);
  }
}

export interface PreprocessOptions {
  /** Names the image in error messages (default: the path). */
  name?: string;
  /**
   * Largest shrink, in estimated multiply-adds, done with Pillow's exact algorithm in JavaScript; larger ones go to
   * sharp. Default EXACT_RESAMPLE_BUDGET; 0 sends every shrink to sharp.
   */
  exactResampleBudget?: number;
}

/**
 * ~6M multiply-adds is a few milliseconds: images up to about 1200×900 are shrunk exactly as PIL does, while
 * camera photos (12 MP: ~50M) go to sharp, which is native, multi-threaded and close to PIL (see resample.ts).
 */
export const EXACT_RESAMPLE_BUDGET = 6e6;

/** Multiply-adds of pilBilinearCrop for this resize: both passes, three channels. */
function exactResampleCost(plan: CropPlan, width: number, height: number, inputSize: number): number {
  const scale = Math.max(width / plan.width, height / plan.height, 1);
  const taps = 2 * Math.ceil(scale) + 1;
  return ((inputSize * scale + taps) * taps + inputSize * taps) * inputSize * 3;
}

/** Resize + center crop of an 8-bit RGB image to S×S RGB bytes. */
export async function resizeAndCrop(
  image: RgbImage,
  inputSize: number,
  options: PreprocessOptions = {},
): Promise<Buffer> {
  const plan = cropPlan(image.width, image.height, inputSize);
  if (!plan.resample) return cropRgb(image, plan.left, plan.top, inputSize);
  const window = { left: plan.left, top: plan.top, width: inputSize, height: inputSize };
  const enlarging = Math.min(image.width, image.height) < plan.resizeTo;
  const budget = options.exactResampleBudget ?? EXACT_RESAMPLE_BUDGET;
  if (enlarging || exactResampleCost(plan, image.width, image.height, inputSize) <= budget)
    return pilBilinearCrop(image.data, image.width, image.height, plan.width, plan.height, window);
  try {
    return await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
      // 'linear' is libvips' triangle filter, widened when shrinking: the closest match to PIL's antialiased
      // BILINEAR. fit 'fill' because the target already keeps the aspect ratio the way torchvision rounds it.
      .resize(plan.width, plan.height, { kernel: 'linear', fit: 'fill', fastShrinkOnLoad: false })
      .extract(window)
      .raw()
      .toBuffer();
  } catch (error) {
    throw imageError(options.name ?? 'image', error);
  }
}

function cropRgb(image: RgbImage, left: number, top: number, size: number): Buffer {
  const out = Buffer.allocUnsafe(size * size * 3);
  for (let y = 0; y < size; y++) {
    const from = ((top + y) * image.width + left) * 3;
    image.data.copy(out, y * size * 3, from, from + size * 3);
  }
  return out;
}

/**
 * Per channel, byte → normalised float, computed in float32 exactly as ToTensor + Normalize do
 * (`x.float().div(255)`, then `.sub(mean).div(std)`), so equal pixels give bit-equal inputs.
 */
const NORMALIZE_TABLES: Float32Array[] = [0, 1, 2].map((c) => {
  const mean = Math.fround(IMAGENET_MEAN[c]);
  const std = Math.fround(IMAGENET_STD[c]);
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = Math.fround(Math.fround(v / 255) - mean) / std;
  return table;
});

/** HWC bytes → normalised CHW float32, written into `target` at `offset` (a batch buffer) or a new array. */
export function normalizeToChw(
  rgb: Uint8Array,
  size: number,
  target = new Float32Array(3 * size * size),
  offset = 0,
): Float32Array {
  const plane = size * size;
  const [t0, t1, t2] = NORMALIZE_TABLES;
  for (let i = 0; i < plane; i++) {
    target[offset + i] = t0[rgb[i * 3]];
    target[offset + plane + i] = t1[rgb[i * 3 + 1]];
    target[offset + 2 * plane + i] = t2[rgb[i * 3 + 2]];
  }
  return target;
}

/** One image file (or encoded buffer) → the network's input, a [3, S, S] CHW Float32Array. */
export async function preprocessImage(
  input: string | Buffer,
  inputSize: number,
  options: PreprocessOptions = {},
): Promise<Float32Array> {
  checkInputSize(inputSize);
  const name = options.name ?? (typeof input === 'string' ? input : 'image');
  // The decoded pixels live until they are resized: the budget's room is held for both.
  return withDecodeBudget(input, async () => {
    const image = await decodeRgb(input, name, { budget: false });
    return normalizeToChw(await resizeAndCrop(image, inputSize, { ...options, name }), inputSize);
  });
}

export interface PreprocessedBatch {
  /** [n, 3, S, S] for the n images that decoded, in input order. */
  data: Float32Array;
  /** Index into the input list of each row of `data`. */
  indices: number[];
  errors: { index: number; path: string; error: SortaError }[];
}

/**
 * Preprocesses several files concurrently (sharp decodes on its own thread pool) into one batch buffer. A file that
 * fails is reported in `errors` and left out; the others still come back.
 */
export async function preprocessBatch(
  paths: string[],
  inputSize: number,
  options: Omit<PreprocessOptions, 'name'> = {},
): Promise<PreprocessedBatch> {
  checkInputSize(inputSize);
  const results = await Promise.allSettled(paths.map((p) => preprocessImage(p, inputSize, options)));
  const per = 3 * inputSize * inputSize;
  const ok = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
  const data = new Float32Array(ok.length * per);
  ok.forEach((index, row) =>
    data.set((results[index] as PromiseFulfilledResult<Float32Array>).value, row * per),
  );
  const errors = results.flatMap((r, index) =>
    r.status === 'rejected' ? [{ index, path: paths[index], error: imageError(paths[index], r.reason) }] : [],
  );
  return { data, indices: ok, errors };
}
