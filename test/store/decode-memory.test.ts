/**
 * Decoding is bounded by memory, not by a count: a folder of huge images must not take gigabytes because 16 of
 * them decode at once. A child process decodes six interlaced 6000×6000 PNGs (108 MB of pixels each) the way
 * classify and import do; its peak resident memory beyond its baseline must stay within the decode budget plus a margin for
 * libvips' working memory, while six at once would need over 600 MB.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { DECODE_MEMORY_BUDGET, decodeCost } from '../../electron/shared/decode-budget.js';

const CHILD = fileURLToPath(new URL('./decode-memory-child.ts', import.meta.url));
const SIDE = 6000;
const COUNT = 6;
/**
 * Beyond the budget: the previous image's pixels until the garbage collector frees them (a JavaScript Buffer),
 * libvips' line buffers and the allocator's per-thread slack. Measured here: pipeline 340 MB and import 240 MB
 * beyond the baseline with the budget; 810 MB and 580 MB without it (every image at once).
 */
const MARGIN = 192 * 2 ** 20;

function measure(
  mode: 'pipeline' | 'import',
  dir: string,
  work: string,
): Promise<{ baseline: number; peak: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, dir, work], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(JSON.parse(stdout) as { baseline: number; peak: number })
        : reject(new Error(stderr)),
    );
  });
}

describe('decoding huge images stays within the decode memory budget', () => {
  let tmp: string;
  let dir: string;
  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'sorta-decode-memory-'));
    dir = join(tmp, 'huge');
    mkdirSync(join(dir, 'small'), { recursive: true });
    await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } })
      .png()
      .toFile(join(dir, 'small', 'warm.png'));
    // A solid colour (different for each, so import sees distinct content) with a patch of noise: fast to write,
    // and decoding costs the same whatever the pixels.
    const noise = await sharp({
      create: {
        width: 256,
        height: 256,
        channels: 3,
        background: '#000',
        noise: { type: 'gaussian', mean: 128, sigma: 50 },
      },
    })
      .png()
      .toBuffer();
    for (let i = 0; i < COUNT; i++)
      await sharp({
        create: { width: SIDE, height: SIDE, channels: 3, background: { r: 30 * i, g: 120, b: 200 } },
      })
        .composite([{ input: noise, left: 100 * i, top: 100 * i }])
        .png({ compressionLevel: 1, progressive: true }) // interlaced: libvips decodes it whole, thumbnails too
        .toFile(join(dir, `huge${i}.png`));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('each image alone would fit, but not all of them at once', () => {
    const one = decodeCost(SIDE, SIDE, 0);
    assert.ok(one <= DECODE_MEMORY_BUDGET && 2 * one > DECODE_MEMORY_BUDGET);
    assert.ok(
      COUNT * SIDE * SIDE * 3 > DECODE_MEMORY_BUDGET + MARGIN,
      'unbounded decoding would break the bound',
    );
  });

  for (const mode of ['pipeline', 'import'] as const)
    it(`${mode}: peak memory beyond the baseline is at most the budget plus ${MARGIN / 2 ** 20} MB`, async () => {
      const work = join(tmp, mode);
      mkdirSync(work);
      const { baseline, peak } = await measure(mode, dir, work);
      const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`;
      assert.ok(
        peak - baseline <= DECODE_MEMORY_BUDGET + MARGIN,
        `peak ${mb(peak)}, baseline ${mb(baseline)}: ${mb(peak - baseline)} for decoding`,
      );
    });
});
