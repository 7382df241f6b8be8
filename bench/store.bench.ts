/**
 * Project store benchmark: import of N generated 640×480 JPEGs (scan + hash + metadata, then thumbnails) against a
 * bare sharp thumbnail loop over the same files; a page of 200 from 100,000 images by filter; bulk-labelling 10,000.
 * SORTA_BENCH_IMAGES sets N (default 10,000). The generated images are kept in the system temp folder and reused.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { addClass } from '../electron/store/classes.js';
import { countImages, queryImages, type ImageQuery } from '../electron/store/images-query.js';
import { ImagePool } from '../electron/store/image-pool.js';
import { importFolder } from '../electron/store/import.js';
import { setLabels, setPredictions, undoLabels } from '../electron/store/labels.js';
import { openProject } from '../electron/store/project.js';
import { generateThumbnails } from '../electron/store/thumbnails.js';

const COUNT = Number(process.env.SORTA_BENCH_IMAGES ?? 10_000);
const WIDTH = 640;
const HEIGHT = 480;

function noise(seed: number, length: number): Buffer {
  const data = Buffer.alloc(length);
  let x = seed * 2654435761;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    data[i] = (x >>> 16) & 0xff;
  }
  return data;
}

async function runLimited<T>(items: T[], limit: number, work: (item: T, index: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index], index);
      }
    }),
  );
}

/** N distinct 640×480 JPEGs in 10 class folders: smooth base pictures with a different noisy band in each. */
async function generateImages(): Promise<string> {
  const dir = join(tmpdir(), `sorta-bench-jpegs-${COUNT}`);
  const marker = join(dir, '.complete');
  if (existsSync(marker)) return dir;
  rmSync(dir, { recursive: true, force: true });
  const started = performance.now();
  const bases = await Promise.all(
    Array.from({ length: 8 }, (_, b) =>
      sharp(noise(b + 1, 80 * 60 * 3), { raw: { width: 80, height: 60, channels: 3 } })
        .resize(WIDTH, HEIGHT, { kernel: 'cubic' })
        .raw()
        .toBuffer(),
    ),
  );
  const band = noise(99, WIDTH * 16 * 3);
  await runLimited(
    Array.from({ length: COUNT }, (_, i) => i),
    availableParallelism() * 2,
    async (i) => {
      const pixels = Buffer.from(bases[i % bases.length]);
      const row = (i * 7) % (HEIGHT - 16);
      band.copy(pixels, row * WIDTH * 3, (i % 97) * 3);
      pixels[(i % (WIDTH * HEIGHT)) * 3] ^= 0xff;
      const classDir = join(dir, `class${i % 10}`);
      mkdirSync(classDir, { recursive: true });
      await sharp(pixels, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
        .jpeg({ quality: 85 })
        .toFile(join(classDir, `img${String(i).padStart(5, '0')}.jpg`));
    },
  );
  writeFileSync(marker, '');
  console.log(`generated ${COUNT} JPEGs in ${((performance.now() - started) / 1000).toFixed(1)} s (${dir})`);
  return dir;
}

/** CPU milliseconds (user + system) of this process since `start`: wall time minus waiting for a busy CPU. */
function cpuMs(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Wall and CPU milliseconds of `runs` calls of `work` (`between` runs after each, untimed). */
function timeRuns(runs: number, work: (run: number) => void, between?: () => void) {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    const cpuStart = process.cpuUsage();
    work(run);
    cpu.push(cpuMs(cpuStart));
    wall.push(performance.now() - started);
    between?.();
  }
  return { wall, cpu };
}

async function benchImport(dir: string, work: string): Promise<void> {
  const project = openProject(join(work, 'import.sorta'));
  const pool = new ImagePool();
  try {
    const started = performance.now();
    const result = await importFolder(project, dir, { thumbnails: false, pool });
    const probeSeconds = (performance.now() - started) / 1000;
    console.log(
      `import, scan + hash + metadata: ${result.imported} images in ${probeSeconds.toFixed(1)} s = ` +
        `${(result.imported / probeSeconds).toFixed(0)} images/s (${pool.size} worker threads)`,
    );
    // Thumbnails against a bare sharp loop over the same files, interleaved in chunks (alternating which goes
    // first) so that the load of a shared machine weighs on both alike.
    const images = project.db
      .prepare("SELECT id, path FROM images WHERE status = 'ok' ORDER BY id")
      .all() as { id: number; path: string }[];
    let oursMs = 0;
    let bareMs = 0;
    let made = 0;
    const chunk = 500;
    for (let start = 0, n = 0; start < images.length; start += chunk, n++) {
      const part = images.slice(start, start + chunk);
      const runOurs = async () => {
        const t = performance.now();
        made += (await generateThumbnails(project, { imageIds: part.map((i) => i.id), pool })).made;
        oursMs += performance.now() - t;
      };
      // The bare loop: sharp on the main thread with its own thread pool, a few files in flight.
      const runBare = async () => {
        const t = performance.now();
        await runLimited(part, availableParallelism() * 2, async ({ path }) => {
          await sharp(path)
            .rotate()
            .resize(256, 256, { fit: 'inside', withoutEnlargement: true })
            .webp({ quality: 80 })
            .toBuffer();
        });
        bareMs += performance.now() - t;
      };
      if (n % 2 === 0) {
        await runOurs();
        await runBare();
      } else {
        await runBare();
        await runOurs();
      }
    }
    const ours = made / (oursMs / 1000);
    const bare = images.length / (bareMs / 1000);
    console.log(
      `import, thumbnails (256 px WebP, worker threads): ${made} in ${(oursMs / 1000).toFixed(1)} s = ` +
        `${ours.toFixed(0)} images/s`,
    );
    console.log(
      `load average after the thumbnail runs: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(', ')}`,
    );
    console.log(
      `bare sharp thumbnail loop: ${images.length} in ${(bareMs / 1000).toFixed(1)} s = ${bare.toFixed(0)} ` +
        `images/s; ratio thumbnails/bare = ${(ours / bare).toFixed(2)} (target ≥ 0.8)`,
    );
  } finally {
    await pool.close();
    project.close();
  }
}

function benchQueries(work: string): void {
  const project = openProject(join(work, 'query.sorta'));
  try {
    const classes = Array.from({ length: 10 }, (_, i) => addClass(project, `class${i}`).id);
    const insert = project.db.prepare(
      `INSERT INTO images (path, size, mtime_ms, hash, width, height, status, added_at)
       VALUES (?, 50000, 1, ?, 640, 480, ?, 1)`,
    );
    project.db.transaction(() => {
      for (let i = 0; i < 100_000; i++)
        insert.run(
          `/photos/${['beach', 'city', 'forest', 'snow'][i % 4]}/${String(i).padStart(6, '0')}.jpg`,
          i.toString(16).padStart(64, '0'),
          i % 97 === 0 ? 'error' : 'ok',
        );
    })();
    const ids = project.db.prepare("SELECT id FROM images WHERE status = 'ok'").pluck().all() as number[];
    // Half labelled (by class), a third with predictions.
    for (let c = 0; c < classes.length; c++)
      setLabels(
        project,
        ids.filter((_, i) => i % 2 === 0 && (i / 2) % 10 === c),
        classes[c],
      );
    setPredictions(
      project,
      ids
        .filter((_, i) => i % 3 === 0)
        .map((imageId, i) => ({ imageId, classId: classes[i % 10], confidence: (i % 100) / 100 })),
    );
    const filters: [string, ImageQuery][] = [
      ['class', { classId: classes[3] }],
      ['unlabelled', { unlabelled: true }],
      ['errors', { errors: true }],
      ['predicted class, confidence ≥ 0.9', { predictedClassId: classes[5], confidenceMin: 0.9 }],
      ['confidence 0.4–0.6', { confidenceMin: 0.4, confidenceMax: 0.6 }],
      ['path contains "forest"', { pathContains: 'forest' }],
      ['class + path text', { classId: classes[2], pathContains: 'snow' }],
    ];
    for (const [name, filter] of filters) {
      const total = countImages(project, filter);
      for (const offset of [0, Math.max(0, Math.floor(total / 2) - 100)]) {
        const page = timeRuns(15, () => queryImages(project, { ...filter, offset, limit: 200 }));
        const count = timeRuns(5, () => countImages(project, filter));
        console.log(
          `page of 200 from 100,000 by ${name} (${total} match, offset ${offset}): median ` +
            `${median(page.wall).toFixed(2)} ms wall, ${median(page.cpu).toFixed(2)} ms CPU (target < 20 ms); ` +
            `count ${median(count.wall).toFixed(2)} ms`,
        );
      }
    }
    // Keyset paging to the middle of the unlabelled set: the page after a known image.
    const middle = queryImages(project, { unlabelled: true, offset: 24_000, limit: 1 })[0];
    for (const [name, filter] of [
      ['unlabelled', { unlabelled: true }],
      ['class', { classId: classes[3] }],
      ['confidence 0.4–0.6', { confidenceMin: 0.4, confidenceMax: 0.6 }],
    ] as [string, ImageQuery][]) {
      const { wall, cpu } = timeRuns(15, () =>
        queryImages(project, { ...filter, after: { path: middle.path, id: middle.id }, limit: 200 }),
      );
      console.log(
        `keyset page of 200 from 100,000 by ${name}, after the middle image: median ${median(wall).toFixed(2)} ` +
          `ms wall, ${median(cpu).toFixed(2)} ms CPU`,
      );
    }
    // Bulk labelling: 10,000 images in one transaction and one undo step.
    const batch = ids.slice(0, 10_000);
    const relabel = timeRuns(5, (run) => setLabels(project, batch, classes[run % 2 === 0 ? 7 : 8]));
    const undo = timeRuns(1, () => undoLabels(project));
    console.log(
      `bulk-label 10,000 labelled images (a new class): median ${median(relabel.wall).toFixed(0)} ms wall, ` +
        `${median(relabel.cpu).toFixed(0)} ms CPU (target < 200 ms), ` +
        `runs ${relabel.wall.map((t) => t.toFixed(0)).join('/')} ms; undo ${undo.wall[0].toFixed(0)} ms`,
    );
    // The same for images without a label: new label rows (and index entries) rather than changed ones. Each run's
    // labels are undone before the next, so every run starts from unlabelled images.
    const unlabelled = ids.filter((_, i) => i % 2 === 1).slice(0, 10_000);
    const fresh = timeRuns(
      5,
      (run) => setLabels(project, unlabelled, classes[run % 10]),
      () => undoLabels(project),
    );
    console.log(
      `bulk-label 10,000 unlabelled images: median ${median(fresh.wall).toFixed(0)} ms wall, ` +
        `${median(fresh.cpu).toFixed(0)} ms CPU (target < 200 ms), ` +
        `runs ${fresh.wall.map((t) => t.toFixed(0)).join('/')} ms`,
    );
  } finally {
    project.close();
  }
}

console.log(
  `load average at start: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(', ')}`,
);
const work = mkdtempSync(join(tmpdir(), 'sorta-bench-store-'));
try {
  benchQueries(work);
  // SORTA_BENCH_IMAGES=0 runs only the query and labelling part.
  if (COUNT > 0) await benchImport(await generateImages(), work);
} finally {
  rmSync(work, { recursive: true, force: true });
}
