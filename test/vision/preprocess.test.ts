/**
 * torchvision's eval transform on awkward inputs, each generated with sharp: gray, gray+alpha, 16-bit, CMYK,
 * palette, alpha, EXIF-rotated, animated; crop arithmetic; per-file errors.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import {
  cropPlan,
  normalizeToChw,
  preprocessBatch,
  preprocessImage,
  roundHalfEven,
} from '../../electron/vision/preprocess.js';
import { pilBilinearCrop } from '../../electron/vision/resample.js';
import { rng, tempDir } from './helpers.js';

const tmp = tempDir('sorta-preprocess-');
after(tmp.cleanup);

/** Random RGB bytes, so that any misplaced pixel shows. */
function noise(width: number, height: number, channels: number, seed = 1): Buffer {
  const random = rng(seed);
  return Buffer.from(Array.from({ length: width * height * channels }, () => Math.floor(random() * 256)));
}

/** The crop of packed RGB bytes that a no-resample preprocessing must produce, normalised. */
function expectedCrop(rgb: Buffer, width: number, height: number, size: number): Float32Array {
  const plan = cropPlan(width, height, size);
  assert.equal(plan.resample, false);
  const out = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++)
    rgb.copy(
      out,
      y * size * 3,
      ((plan.top + y) * width + plan.left) * 3,
      ((plan.top + y) * width + plan.left + size) * 3,
    );
  return normalizeToChw(out, size);
}

/** CHW floats back to HWC bytes (exact: the normalisation tables are injective). */
function toBytes(chw: Float32Array, size: number): number[][] {
  const plane = size * size;
  const means = [0.485, 0.456, 0.406];
  const stds = [0.229, 0.224, 0.225];
  return Array.from({ length: plane }, (_, i) =>
    // `+ 0` turns -0 into 0
    [0, 1, 2].map((c) => Math.round((chw[c * plane + i] * stds[c] + means[c]) * 255) + 0),
  );
}

describe('crop arithmetic', () => {
  it("rounds halves to even like Python's round()", () => {
    assert.deepEqual([0.5, 1.5, 2.5, 38.5, 43.5, 2.4, 2.6, 3].map(roundHalfEven), [0, 2, 2, 38, 44, 2, 3, 3]);
  });

  it('plans the resize and center crop as torchvision 0.14 does', () => {
    assert.deepEqual(cropPlan(256, 301, 224), {
      width: 256,
      height: 301,
      resample: false,
      resizeTo: 256,
      left: 16,
      top: 38,
    });
    assert.deepEqual(cropPlan(500, 375, 224), {
      width: 341,
      height: 256,
      resample: true,
      resizeTo: 256,
      left: 58,
      top: 16,
    });
    // R = floor(160 / 0.875) = 182; long side int(182 * 457 / 123) = 676.
    assert.deepEqual(cropPlan(123, 457, 160), {
      width: 182,
      height: 676,
      resample: true,
      resizeTo: 182,
      left: 11,
      top: 258,
    });
  });

  it('no resampling when the shorter side already is R: the crop is bit-exact', async () => {
    const rgb = noise(256, 301, 3);
    const path = join(tmp.dir, 'exact.png');
    await sharp(rgb, { raw: { width: 256, height: 301, channels: 3 } })
      .png()
      .toFile(path);
    assert.deepEqual(await preprocessImage(path, 224), expectedCrop(rgb, 256, 301, 224));
  });

  it("Pillow's bilinear: enlarging a constant image keeps it constant, identity when sizes match", () => {
    const flat = Buffer.alloc(10 * 7 * 3, 77);
    assert.ok(
      pilBilinearCrop(flat, 10, 7, 30, 21, { left: 3, top: 2, width: 20, height: 15 }).every((v) => v === 77),
    );
    const rgb = noise(9, 6, 3);
    assert.deepEqual(pilBilinearCrop(rgb, 9, 6, 9, 6, { left: 0, top: 0, width: 9, height: 6 }), rgb);
  });
});

describe('decoding awkward images', () => {
  const size = 32; // R = 36: a 36×40 image needs no resampling, so every pixel can be checked
  const W = 36;
  const H = 40;

  it('gray and gray+alpha become RGB with equal channels', async () => {
    const gray = noise(W, H, 1, 2);
    const grayPath = join(tmp.dir, 'gray.png');
    await sharp(gray, { raw: { width: W, height: H, channels: 1 } })
      .png()
      .toFile(grayPath);
    const rgb = Buffer.from(Array.from(gray).flatMap((v) => [v, v, v]));
    assert.deepEqual(await preprocessImage(grayPath, size), expectedCrop(rgb, W, H, size));

    const ga = Buffer.from(Array.from(gray).flatMap((v, i) => [v, (i * 37) & 255]));
    const gaPath = join(tmp.dir, 'gray-alpha.png');
    await sharp(ga, { raw: { width: W, height: H, channels: 2 } })
      .png()
      .toFile(gaPath);
    assert.deepEqual(await preprocessImage(gaPath, size), expectedCrop(rgb, W, H, size));
  });

  it('alpha is dropped, not composited or premultiplied, also when resampling', async () => {
    const rgba = noise(W, H, 4, 3);
    const rgb = Buffer.from(Array.from(rgba).filter((_, i) => i % 4 !== 3));
    const path = join(tmp.dir, 'alpha.png');
    await sharp(rgba, { raw: { width: W, height: H, channels: 4 } })
      .png()
      .toFile(path);
    assert.deepEqual(await preprocessImage(path, size), expectedCrop(rgb, W, H, size));

    // 90×80 needs a resize: compare with the same pixels saved without alpha.
    const big = noise(90, 80, 4, 4);
    const bigRgb = Buffer.from(Array.from(big).filter((_, i) => i % 4 !== 3));
    await sharp(big, { raw: { width: 90, height: 80, channels: 4 } })
      .png()
      .toFile(join(tmp.dir, 'big-alpha.png'));
    await sharp(bigRgb, { raw: { width: 90, height: 80, channels: 3 } })
      .png()
      .toFile(join(tmp.dir, 'big-rgb.png'));
    for (const budget of [undefined, 0]) {
      const options = { exactResampleBudget: budget };
      assert.deepEqual(
        await preprocessImage(join(tmp.dir, 'big-alpha.png'), size, options),
        await preprocessImage(join(tmp.dir, 'big-rgb.png'), size, options),
      );
    }
  });

  it('16-bit becomes 8-bit', async () => {
    const rgb = noise(W, H, 3, 5);
    const wide = new Uint16Array(Array.from(rgb, (v) => v * 257));
    const path = join(tmp.dir, 'sixteen.png');
    await sharp(wide, { raw: { width: W, height: H, channels: 3 } })
      .toColourspace('rgb16')
      .png()
      .toFile(path);
    assert.equal((await sharp(path).metadata()).depth, 'ushort');
    assert.deepEqual(await preprocessImage(path, size), expectedCrop(rgb, W, H, size));
  });

  it('palette images are expanded to their colours', async () => {
    const colours = [
      [255, 0, 0],
      [0, 128, 255],
      [20, 200, 40],
      [250, 250, 250],
    ];
    const random = rng(6);
    const rgb = Buffer.from(Array.from({ length: W * H }).flatMap(() => colours[Math.floor(random() * 4)]));
    const path = join(tmp.dir, 'palette.png');
    await sharp(rgb, { raw: { width: W, height: H, channels: 3 } })
      .png({ palette: true, colours: 4, dither: 0 })
      .toFile(path);
    assert.equal((await sharp(path).metadata()).isPalette, true);
    assert.deepEqual(await preprocessImage(path, size), expectedCrop(rgb, W, H, size));
  });

  it('CMYK is converted to sRGB', async () => {
    const path = join(tmp.dir, 'cmyk.jpg');
    await sharp({ create: { width: W, height: H, channels: 3, background: { r: 200, g: 60, b: 30 } } })
      .toColourspace('cmyk')
      .jpeg({ quality: 100 })
      .toFile(path);
    assert.equal((await sharp(path).metadata()).space, 'cmyk');
    const pixels = toBytes(await preprocessImage(path, size), size);
    // A CMYK round trip through ICC profiles is close, not exact.
    for (const [r, g, b] of [pixels[0], pixels[pixels.length - 1]]) {
      assert.ok(
        Math.abs(r - 200) <= 12 && Math.abs(g - 60) <= 12 && Math.abs(b - 30) <= 12,
        `${r},${g},${b}`,
      );
    }
  });

  it('EXIF orientation is applied', async () => {
    // Stored 40 wide × 36 high, left half red, right half blue; orientation 6 shows it rotated 90° clockwise,
    // 36 wide × 40 high with red on top.
    const stored = Buffer.from(
      Array.from({ length: 36 * 40 }).flatMap((_, i) => (i % 40 < 20 ? [255, 0, 0] : [0, 0, 255])),
    );
    const path = join(tmp.dir, 'rotated.png');
    await sharp(stored, { raw: { width: 40, height: 36, channels: 3 } })
      .withMetadata({ orientation: 6 })
      .png()
      .toFile(path);
    const pixels = toBytes(await preprocessImage(path, size), size);
    assert.deepEqual(pixels[0], [255, 0, 0]);
    assert.deepEqual(pixels[pixels.length - 1], [0, 0, 255]);
  });

  it('animations: the first frame', async () => {
    const frame = (colour: string) =>
      sharp({ create: { width: W, height: H, channels: 3, background: colour } })
        .png()
        .toBuffer();
    const path = join(tmp.dir, 'animated.gif');
    await sharp([await frame('#ff0000'), await frame('#0000ff')], { join: { animated: true } })
      .gif()
      .toFile(path);
    assert.equal((await sharp(path).metadata()).pages, 2);
    const pixels = toBytes(await preprocessImage(path, size), size);
    assert.ok(pixels.every(([r, , b]) => r > 240 && b < 16));
  });
});

describe('preprocessing errors', () => {
  it('names the file and keeps going in a batch', async () => {
    const good = join(tmp.dir, 'good.png');
    await sharp(noise(40, 40, 3), { raw: { width: 40, height: 40, channels: 3 } })
      .png()
      .toFile(good);
    const corrupt = join(tmp.dir, 'corrupt.jpg');
    writeFileSync(corrupt, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), noise(200, 1, 1)]));
    const truncated = join(tmp.dir, 'truncated.png');
    const png = await sharp(noise(64, 64, 3), { raw: { width: 64, height: 64, channels: 3 } })
      .png()
      .toBuffer();
    writeFileSync(truncated, png.subarray(0, png.length / 2));
    const missing = join(tmp.dir, 'missing.png');

    await assert.rejects(preprocessImage(corrupt, 32), (e: Error & { code: string }) => {
      assert.equal(e.code, 'invalid-input');
      return e.message.includes(corrupt);
    });
    await assert.rejects(preprocessImage(missing, 32), (e: Error & { code: string }) => {
      assert.equal(e.code, 'not-found');
      return e.message.includes(missing) && /no such file/.test(e.message);
    });
    await assert.rejects(preprocessImage(good, 16), /input size must be an integer ≥ 32/);

    const batch = await preprocessBatch([corrupt, good, truncated, missing, good], 32);
    assert.deepEqual(batch.indices, [1, 4]);
    assert.equal(batch.data.length, 2 * 3 * 32 * 32);
    assert.deepEqual(batch.data.subarray(0, 3072), batch.data.subarray(3072));
    assert.deepEqual(
      batch.errors.map((e) => [e.index, e.error.message.includes(e.path)]),
      [
        [0, true],
        [2, true],
        [3, true],
      ],
    );
  });
});
