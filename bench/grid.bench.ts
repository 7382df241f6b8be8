/**
 * The Label grid with 100,000 images, in Debian's Chromium against `sorta serve`: cells in the DOM, frame times
 * while scrolling through the whole grid, and the time from a jump to the end until its thumbnails show.
 * Seeding: 100 real Fashion-MNIST PNGs are imported (thumbnails made), then 99,900 more image rows that reuse their
 * content hashes are inserted in one transaction (as bench/store.bench.ts does), so thumbnails come from the cache.
 * Needs `npm run build` first (it runs the built CLI).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeSharedImagePool } from '../electron/store/image-pool.js';
import { openProject } from '../electron/store/project.js';
import { generateThumbnails } from '../electron/store/thumbnails.js';
import { runSorta } from '../test/helpers/cli.js';
import { launchChromium, serve, until } from '../test/e2e/harness.js';
import { FASHION_CLASSES, loadFashionMnist, writeFashionPngs } from '../test/helpers/fashion-mnist-png.js';

const TOTAL = Number(process.env.SORTA_BENCH_GRID ?? 100_000);

const SCROLL_THROUGH = `new Promise((resolve) => {
  const grid = document.querySelector('[role=grid]');
  const durations = [];
  const max = grid.scrollHeight - grid.clientHeight;
  const start = performance.now();
  let last = start;
  const tick = (now) => {
    durations.push(now - last);
    last = now;
    const t = Math.min(1, (now - start) / 3000);
    grid.scrollTop = t * max;
    if (t < 1) requestAnimationFrame(tick);
    else resolve({ durations: durations.slice(1), domCells: document.querySelectorAll('[role=gridcell]').length });
  };
  requestAnimationFrame(tick);
})`;

const work = mkdtempSync(join(tmpdir(), 'sorta-grid-bench-'));
try {
  const projectPath = join(work, 'grid.sorta');
  const photos = join(work, 'photos');
  await writeFashionPngs(loadFashionMnist('t10k'), photos, {
    classes: [...FASHION_CLASSES],
    perClass: 10,
    folders: true,
  });
  const imported = await runSorta(['import', '--project', projectPath, photos, '--json'], {
    env: { SORTA_DATA_DIR: join(work, 'data') },
  });
  if (imported.code !== 0) throw new Error(`sorta import failed: ${imported.stderr}`);

  const project = openProject(projectPath);
  try {
    // Thumbnails of the real images first: the seeded rows share their hashes, so theirs come from this cache.
    await generateThumbnails(project);
    await closeSharedImagePool();
    const real = project.db.prepare("SELECT path, hash, root_id FROM images WHERE status = 'ok'").all() as {
      path: string;
      hash: string;
      root_id: number;
    }[];
    const insert = project.db.prepare(
      `INSERT INTO images (root_id, path, size, mtime_ms, hash, width, height, status, added_at)
       VALUES (?, ?, 300, 1, ?, 28, 28, 'ok', 1)`,
    );
    project.db.transaction(() => {
      for (let i = real.length; i < TOTAL; i++) {
        const source = real[i % real.length];
        insert.run(source.root_id, join(photos, 'seeded', `${String(i).padStart(6, '0')}.png`), source.hash);
      }
    })();
  } finally {
    project.close();
  }

  const served = await serve(projectPath, { SORTA_DATA_DIR: join(work, 'data') });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(served.url);
    await page.locator('[role=grid]').waitFor({ timeout: 30_000 });
    await page.locator('.total', { hasText: TOTAL.toLocaleString('en-US') }).waitFor();
    const cells = await page.locator('[role=gridcell]').count();

    // From the top, jump to the end and time until the last cell shows its thumbnail.
    const jumpStart = Date.now();
    await page.evaluate("(g => { g.scrollTop = g.scrollHeight; })(document.querySelector('[role=grid]'))");
    await until('the last thumbnail', () =>
      page.locator(`#cell-${TOTAL - 1} img`).evaluate((element) => {
        const image = element as unknown as { complete: boolean; naturalWidth: number };
        return image.complete && image.naturalWidth > 0;
      }),
    );
    const jumpMs = Date.now() - jumpStart;

    await page.evaluate("document.querySelector('[role=grid]').scrollTop = 0");
    await page.waitForTimeout(500);
    // Scroll the whole grid top to bottom in 3 s of animation frames, recording each frame's duration. (Page code
    // is a string: tsx would add helpers to a function's source that do not exist in the page.)
    const frames = (await page.evaluate(SCROLL_THROUGH)) as { durations: number[]; domCells: number };
    const sorted = [...frames.durations].sort((a, b) => a - b);
    const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

    console.log(`images in the project:            ${TOTAL.toLocaleString('en-US')}`);
    console.log(`grid cells in the DOM (at rest):  ${cells}`);
    console.log(`grid cells in the DOM (scrolled): ${frames.domCells}`);
    console.log(
      `scroll through all rows in 3 s:   ${frames.durations.length} frames, median ${pct(0.5).toFixed(1)} ms, ` +
        `p95 ${pct(0.95).toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms`,
    );
    console.log(`jump to the end → last thumbnail: ${jumpMs} ms`);
    console.log(
      `load average during the run:      ${loadavg()
        .map((l) => l.toFixed(1))
        .join(', ')}`,
    );
  } finally {
    await browser.close();
    await served.stop();
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
