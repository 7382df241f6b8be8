/**
 * libvips keeps one error buffer for the whole process, so when several damaged images fail to decode at once their
 * messages mix (a truncated WebP was reported with a JPEG's error). Every error must name its own file and format,
 * through both ways images are decoded: the vision pipeline's batches and the import's worker pool.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { importFolder } from '../../electron/store/import.js';
import { openProject } from '../../electron/store/project.js';
import { preprocessBatch } from '../../electron/vision/preprocess.js';

/** Each format: how to write it, the name its errors must use, and the words that belong to it alone. */
const FORMATS: Record<string, { write(image: sharp.Sharp): sharp.Sharp; name: string; words: RegExp }> = {
  jpg: { write: (i) => i.jpeg(), name: 'JPEG', words: /jpe?g/i },
  png: { write: (i) => i.png(), name: 'PNG', words: /png/i },
  webp: { write: (i) => i.webp(), name: 'WebP', words: /webp/i },
  tif: { write: (i) => i.tiff(), name: 'TIFF', words: /tiff/i },
  gif: { write: (i) => i.gif(), name: 'GIF', words: /gif/i },
  avif: { write: (i) => i.avif(), name: 'AVIF', words: /avif|heif/i },
};
const PER_FORMAT = 6;

/** Asserts that `message`, about `file`, names the file's format and no other. */
function assertOwnFormat(file: string, message: string): void {
  const ext = file.split('.').pop()!;
  const own = FORMATS[ext];
  const text = message.replace(file, '');
  assert.ok(text.includes(own.name), `${file}: "${message}" does not name ${own.name}`);
  for (const [other, format] of Object.entries(FORMATS))
    if (other !== ext)
      assert.doesNotMatch(text, format.words, `${file}: "${message}" speaks of ${format.name}`);
}

describe('decode errors of many damaged images decoded at once', () => {
  let tmp: string;
  let dir: string;
  const files: string[] = [];
  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'sorta-decode-errors-'));
    dir = join(tmp, 'bad');
    mkdirSync(dir);
    const base = sharp({
      create: {
        width: 480,
        height: 320,
        channels: 3,
        background: '#336699',
        noise: { type: 'gaussian', mean: 128, sigma: 40 },
      },
    });
    for (const [ext, format] of Object.entries(FORMATS)) {
      const full = await format.write(base.clone()).toBuffer();
      for (let i = 0; i < PER_FORMAT; i++) {
        const path = join(dir, `trunc${i}.${ext}`);
        // Cut at 30–80%: past every header (so each format's own decoder fails), short of the end.
        writeFileSync(path, full.subarray(0, Math.floor(full.length * (0.3 + i * 0.1))));
        files.push(path);
      }
    }
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('the pipeline (all in one batch, three times) reports each with its own file and format', async () => {
    for (let round = 0; round < 3; round++) {
      const batch = await preprocessBatch(files, 32);
      assert.equal(batch.indices.length, 0);
      assert.deepEqual(
        batch.errors.map((e) => e.path),
        files,
      );
      for (const error of batch.errors) {
        assert.ok(error.error.message.includes(basename(error.path)), error.error.message);
        assertOwnFormat(basename(error.path), error.error.message);
      }
    }
  });

  it('the import (worker pool) reports each with its own file and format', async () => {
    const project = openProject(join(tmp, 'p.sorta'));
    try {
      const result = await importFolder(project, dir);
      assert.equal(result.imported, 0);
      assert.deepEqual(result.errors.map((e) => e.file).sort(), files.map((f) => basename(f)).sort());
      for (const error of result.errors) assertOwnFormat(error.file, error.error);
    } finally {
      project.close();
    }
  });
});
