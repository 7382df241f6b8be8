import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { CancelledError } from '../../electron/shared/errors.js';
import { closeSharedImagePool } from '../../electron/store/image-pool.js';
import { importFolder, type ImportProgress } from '../../electron/store/import.js';
import { openProject, type Project } from '../../electron/store/project.js';
import { getThumbnail, thumbnailPath } from '../../electron/store/thumbnails.js';
import { jpeg, writeAwkwardFolder, type AwkwardFolder } from '../helpers/awkward-images.js';
import { runSorta } from '../helpers/cli.js';

const SORTA_BIN = fileURLToPath(new URL('../../bin/sorta.js', import.meta.url));

interface ImageRow {
  id: number;
  path: string;
  width: number | null;
  height: number | null;
  status: string;
  error: string | null;
  hash: string | null;
}

function rows(project: Project): ImageRow[] {
  return project.db
    .prepare('SELECT id, path, width, height, status, error, hash FROM images')
    .all() as ImageRow[];
}

function labelOf(project: Project, path: string): string | null {
  const row = project.db
    .prepare(
      'SELECT c.name FROM labels l JOIN images i ON i.id = l.image_id JOIN classes c ON c.id = l.class_id WHERE i.path = ?',
    )
    .get(path) as { name: string } | undefined;
  return row?.name ?? null;
}

describe('import of a folder of awkward files', () => {
  let tmp: string;
  let folder: string;
  let expected: AwkwardFolder;
  let project: Project;
  let result: Awaited<ReturnType<typeof importFolder>>;
  const progress: ImportProgress[] = [];

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'sorta-import-'));
    folder = join(tmp, 'photos');
    mkdirSync(folder);
    expected = await writeAwkwardFolder(folder);
    project = openProject(join(tmp, 'p.sorta'));
    result = await importFolder(project, folder, { onProgress: (p) => progress.push(p) });
  });

  after(async () => {
    project.close();
    await closeSharedImagePool();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('imports every usable image once, with EXIF-oriented sizes of one frame', () => {
    const ok = rows(project).filter((r) => r.status === 'ok');
    assert.equal(result.imported, Object.keys(expected.good).length);
    assert.equal(ok.length, Object.keys(expected.good).length);
    for (const [rel, [width, height]] of Object.entries(expected.good)) {
      const row = ok.find((r) => r.path === join(folder, rel));
      assert.ok(row, `${rel} imported`);
      assert.deepEqual([row.width, row.height], [width, height], rel);
      assert.match(row.hash ?? '', /^[0-9a-f]{64}$/);
    }
  });

  it('turns every unusable file into an error row with a reason, relative to the folder', () => {
    const reported = new Map(result.errors.map((e) => [e.file, e.error]));
    assert.deepEqual([...reported.keys()].sort(), Object.keys(expected.bad).sort());
    for (const [rel, pattern] of Object.entries(expected.bad)) assert.match(reported.get(rel)!, pattern, rel);
    const errorRows = rows(project).filter((r) => r.status === 'error');
    assert.equal(errorRows.length, Object.keys(expected.bad).length);
    for (const row of errorRows) assert.ok(row.error && row.error.length > 0);
  });

  it('skips hidden files, other extensions and second paths to the same file silently', () => {
    const paths = new Set(rows(project).map((r) => r.path));
    for (const rel of expected.ignored) assert.ok(!paths.has(join(folder, rel)), rel);
    assert.ok(!result.errors.some((e) => expected.ignored.includes(e.file)));
  });

  it('names classes after first-level folders; files at the top stay unlabelled', () => {
    assert.deepEqual([...result.classes].sort(), ['cats', 'dogs', 'folder.jpg', 'formats']);
    assert.equal(labelOf(project, join(folder, 'cats/deep/er/c.webp')), 'cats');
    assert.equal(labelOf(project, join(folder, `dogs/quote's "double".jpg`)), 'dogs');
    assert.equal(labelOf(project, join(folder, 'cats/a.jpg')), 'cats');
    assert.equal(labelOf(project, join(folder, 'UPPER.JPG')), null);
    assert.equal(labelOf(project, join(folder, 'broken/truncated.jpg')), null, 'error rows get no label');
    const labelled = Object.keys(expected.good).filter((rel) => rel.includes('/')).length;
    assert.equal(result.labeled, labelled);
  });

  it('reports progress with found, processed, rate and ETA, ending in done', () => {
    assert.ok(progress.some((p) => p.phase === 'scan'));
    const probe = progress.filter((p) => p.phase === 'probe');
    assert.ok(probe.length > 0);
    const last = probe[probe.length - 1];
    assert.equal(last.processed, last.total);
    assert.ok(last.rate > 0 && Number.isFinite(last.etaMs));
    assert.equal(progress[progress.length - 1].phase, 'done');
  });

  it('made ≤256 px WebP thumbnails, EXIF-oriented, and remakes one on demand after the cache is deleted', async () => {
    const rotated = rows(project).find((r) => r.path === join(folder, 'formats/rotated.jpg'))!;
    const path = thumbnailPath(project, rotated.hash!);
    assert.ok(existsSync(path));
    const meta = await sharp(path).metadata();
    assert.equal(meta.format, 'webp');
    assert.deepEqual([meta.width, meta.height], [20, 40], 'portrait after orientation 6');
    const big = rows(project).find((r) => r.path === join(folder, 'cats/a.jpg'))!;
    rmSync(project.cacheDir, { recursive: true, force: true });
    const again = await getThumbnail(project, big.id);
    const bigMeta = await sharp(again).metadata();
    assert.equal(bigMeta.format, 'webp');
    assert.ok(Math.max(bigMeta.width!, bigMeta.height!) <= 256);
    const cmyk = rows(project).find((r) => r.path === join(folder, 'formats/cmyk.jpg'))!;
    const cmykMeta = await sharp(await getThumbnail(project, cmyk.id)).metadata();
    assert.equal(cmykMeta.space, 'srgb');
  });

  it('a re-run imports nothing twice and reports the same errors', async () => {
    const before = rows(project).length;
    const again = await importFolder(project, folder);
    assert.equal(again.imported, 0);
    assert.equal(again.labeled, 0);
    assert.equal(again.unchanged, Object.keys(expected.good).length);
    assert.equal(rows(project).length, before);
    assert.deepEqual(
      again.errors.map((e) => e.file),
      result.errors.map((e) => e.file),
    );
  });
});

describe('rescan, vanished files, cancel, options', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sorta-rescan-'));
  });
  after(async () => {
    await closeSharedImagePool();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('finds new, changed and missing files on a rescan', async () => {
    const dir = join(tmp, 'rescan');
    mkdirSync(join(dir, 'a'), { recursive: true });
    for (let i = 0; i < 4; i++) writeFileSync(join(dir, 'a', `${i}.jpg`), await jpeg(40, 30, i + 1));
    const project = openProject(join(tmp, 'rescan.sorta'));
    try {
      const first = await importFolder(project, dir);
      assert.equal(first.imported, 4);
      unlinkSync(join(dir, 'a', '0.jpg'));
      writeFileSync(join(dir, 'a', '1.jpg'), await jpeg(41, 30, 99)); // new content, new size
      writeFileSync(join(dir, 'a', 'new.jpg'), await jpeg(40, 30, 50));
      const second = await importFolder(project, dir);
      assert.equal(second.imported, 1);
      assert.equal(second.labeled, 1);
      assert.equal(second.changed, 1);
      assert.equal(second.missing, 1);
      assert.equal(second.unchanged, 2);
      const all = rows(project);
      assert.equal(all.length, 5);
      assert.equal(all.find((r) => r.path.endsWith('/0.jpg'))!.status, 'missing');
      const changed = all.find((r) => r.path.endsWith('/1.jpg'))!;
      assert.equal(changed.width, 41);
      // A known file rewritten with damaged data: found on the rescan (full decode of changed content).
      const good = await jpeg(200, 150, 7);
      writeFileSync(join(dir, 'a', '2.jpg'), good.subarray(0, Math.floor(good.length / 2)));
      const damaged = await importFolder(project, dir);
      assert.equal(damaged.changed, 1);
      assert.deepEqual(
        damaged.errors.map((e) => e.file),
        ['a/2.jpg'],
      );
      assert.equal(rows(project).find((r) => r.path.endsWith('/2.jpg'))!.status, 'error');
      // The missing file comes back: found again, not imported twice.
      writeFileSync(join(dir, 'a', '0.jpg'), await jpeg(40, 30, 1));
      const third = await importFolder(project, dir);
      assert.equal(third.imported, 0);
      assert.equal(rows(project).length, 5);
      assert.equal(rows(project).find((r) => r.path.endsWith('/0.jpg'))!.status, 'ok');
    } finally {
      project.close();
    }
  });

  it('a file that vanishes between the scan and its reading becomes an error row', async () => {
    const dir = join(tmp, 'vanish');
    mkdirSync(dir);
    writeFileSync(join(dir, 'stays.jpg'), await jpeg(20, 20, 1));
    writeFileSync(join(dir, 'goes.jpg'), await jpeg(20, 20, 2));
    const project = openProject(join(tmp, 'vanish.sorta'));
    try {
      let removed = false;
      const result = await importFolder(project, dir, {
        onProgress: (p) => {
          if (p.phase === 'probe' && !removed) {
            unlinkSync(join(dir, 'goes.jpg'));
            removed = true;
          }
        },
      });
      assert.equal(result.imported, 1);
      assert.deepEqual(result.errors, [
        { file: 'goes.jpg', error: 'vanished during the scan (no such file)' },
      ]);
    } finally {
      project.close();
    }
  });

  it('--no-folder-labels style import labels nothing and makes no classes', async () => {
    const dir = join(tmp, 'nolabels');
    mkdirSync(join(dir, 'x'), { recursive: true });
    writeFileSync(join(dir, 'x', 'a.jpg'), await jpeg(20, 20, 3));
    const project = openProject(join(tmp, 'nolabels.sorta'));
    try {
      const result = await importFolder(project, dir, { folderLabels: false });
      assert.equal(result.imported, 1);
      assert.equal(result.labeled, 0);
      assert.deepEqual(result.classes, []);
    } finally {
      project.close();
    }
  });

  it('cancels when the signal fires', async () => {
    const dir = join(tmp, 'cancel');
    mkdirSync(dir);
    for (let i = 0; i < 30; i++) writeFileSync(join(dir, `${i}.jpg`), await jpeg(20, 20, i + 1));
    const project = openProject(join(tmp, 'cancel.sorta'));
    try {
      const controller = new AbortController();
      await assert.rejects(
        importFolder(project, dir, {
          signal: controller.signal,
          onProgress: (p) => {
            if (p.phase === 'probe') controller.abort();
          },
        }),
        CancelledError,
      );
    } finally {
      project.close();
    }
  });

  it('refuses a folder that does not exist, naming it', async () => {
    const project = openProject(join(tmp, 'missing.sorta'));
    try {
      await assert.rejects(importFolder(project, join(tmp, 'nope')), /nope.*no such file/);
    } finally {
      project.close();
    }
  });
});

describe('sorta import and sorta labels (built CLI)', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sorta-cli-import-'));
    chmodSync(tmp, 0o777); // the permission case below runs as an unprivileged user when tests run as root
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('prints exactly {imported, labeled, classes, errors} and progress on stderr', async () => {
    const dir = join(tmp, 'photos');
    mkdirSync(join(dir, 'cats'), { recursive: true });
    mkdirSync(join(dir, 'dogs'));
    writeFileSync(join(dir, 'cats', 'a.jpg'), await jpeg(30, 20, 1));
    writeFileSync(join(dir, 'dogs', 'b, "quoted".jpg'), await jpeg(30, 20, 2));
    writeFileSync(join(dir, 'top.jpg'), await jpeg(30, 20, 3));
    writeFileSync(join(dir, 'dogs', 'bad.jpg'), 'not an image');
    const projectPath = join(tmp, 'new', 'p.sorta');
    mkdirSync(join(tmp, 'new'));
    const run = await runSorta(['import', '--project', projectPath, dir, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const doc = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(doc), ['imported', 'labeled', 'classes', 'errors']);
    assert.deepEqual(doc, {
      imported: 3,
      labeled: 2,
      classes: ['cats', 'dogs'],
      errors: [{ file: 'dogs/bad.jpg', error: 'not an image (the file contains text)' }],
    });
    assert.match(run.stderr, /found/);

    const again = await runSorta(['import', '--project', projectPath, dir, '--no-folder-labels', '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as { imported: number }).imported, 0);

    const csvPath = join(tmp, 'labels.csv');
    const exported = await runSorta(['labels', '--project', projectPath, '--export', csvPath, '--json']);
    assert.equal(exported.code, 0, exported.stderr);
    const { readFileSync } = await import('node:fs');
    assert.equal(
      readFileSync(csvPath, 'utf8'),
      `path,label\r\n${join(dir, 'cats', 'a.jpg')},cats\r\n"${join(dir, 'dogs', 'b, ""quoted"".jpg')}",dogs\r\n`,
    );
    const refused = await runSorta(['labels', '--project', projectPath, '--export', csvPath, '--json']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /already exists/);
    const jsonPath = join(tmp, 'labels.json');
    const json = await runSorta(['labels', '--project', projectPath, '--export', jsonPath]);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(readFileSync(jsonPath, 'utf8')) as {
      labels: { path: string; label: string }[];
    };
    assert.deepEqual(
      parsed.labels.map((l) => l.label),
      ['cats', 'dogs'],
    );
  });

  it('a missing folder is one clear error, exit 1', async () => {
    const run = await runSorta(['import', '--project', join(tmp, 'x.sorta'), join(tmp, 'absent'), '--json']);
    assert.equal(run.code, 1);
    assert.match((JSON.parse(run.stdout) as { error: { message: string } }).error.message, /absent/);
  });

  it('an unreadable file (permissions) becomes an error row', async (t) => {
    const dir = join(tmp, 'perm');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    writeFileSync(join(dir, 'ok.jpg'), await jpeg(20, 20, 1));
    writeFileSync(join(dir, 'secret.jpg'), await jpeg(20, 20, 2));
    chmodSync(join(dir, 'secret.jpg'), 0o000);
    const asRoot = process.getuid?.() === 0;
    if (process.platform === 'win32') return t.skip('POSIX permissions');
    // Root reads any file, so as root the import runs as the unprivileged user 'nobody' (uid 65534).
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [SORTA_BIN, 'import', '--project', join(dir, 'p.sorta'), dir, '--json'],
        { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'], ...(asRoot ? { uid: 65534, gid: 65534 } : {}) },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
    assert.equal(run.code, 0, run.stderr);
    const doc = JSON.parse(run.stdout) as { imported: number; errors: { file: string; error: string }[] };
    assert.equal(doc.imported, 1);
    assert.deepEqual(doc.errors, [{ file: 'secret.jpg', error: 'permission denied' }]);
  });
});
