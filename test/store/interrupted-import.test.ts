/**
 * An import stopped after its images were saved — killed (SIGKILL), interrupted (SIGINT), or failing on a full
 * cache — must still leave every image under a class folder labelled with that class, now or on the next run,
 * unless a person changed that image's label. The kill comes at a fixed point (SORTA_TEST_IMPORT_HOLD holds the
 * import once its images are saved, until it is killed), so no outcome depends on the machine's speed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ensureClass } from '../../electron/store/classes.js';
import { importFolder } from '../../electron/store/import.js';
import { clearLabels, setLabels } from '../../electron/store/labels.js';
import { migrations } from '../../electron/store/migrations.js';
import { openProject, type Project } from '../../electron/store/project.js';
import { jpeg } from '../helpers/awkward-images.js';
import { runSorta } from '../helpers/cli.js';

const SORTA_BIN = fileURLToPath(new URL('../../bin/sorta.js', import.meta.url));
const HELD = /import held before thumbnails/;

/** cats/0..2.jpg, dogs/0..2.jpg and top.jpg (no class). */
async function writePhotos(dir: string): Promise<void> {
  for (const folder of ['cats', 'dogs']) {
    mkdirSync(join(dir, folder), { recursive: true });
    for (let i = 0; i < 3; i++)
      writeFileSync(join(dir, folder, `${i}.jpg`), await jpeg(40, 30, folder.length * 10 + i));
  }
  writeFileSync(join(dir, 'top.jpg'), await jpeg(40, 30, 99));
}

/** Every image's label by path relative to `dir` (null when unlabelled). */
function labelsOf(projectPath: string, dir: string): Record<string, string | null> {
  const project = openProject(projectPath, { create: false });
  try {
    const rows = project.db
      .prepare(
        `SELECT i.path, c.name FROM images i LEFT JOIN labels l ON l.image_id = i.id
           LEFT JOIN classes c ON c.id = l.class_id ORDER BY i.path`,
      )
      .all() as { path: string; name: string | null }[];
    return Object.fromEntries(rows.map((r) => [r.path.slice(dir.length + 1), r.name]));
  } finally {
    project.close();
  }
}

function imageId(project: Project, path: string): number {
  return project.db.prepare('SELECT id FROM images WHERE path = ?').pluck().get(path) as number;
}

/** Starts `sorta import` held before thumbnails; resolves once it says so, with the child and its exit. */
function startHeldImport(projectPath: string, dir: string) {
  const child = spawn(process.execPath, [SORTA_BIN, 'import', '--project', projectPath, dir, '--json'], {
    env: { ...process.env, SORTA_TEST_IMPORT_HOLD: 'thumbnails' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>(
    (resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout })),
  );
  const held = new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (HELD.test(stderr)) resolve();
    });
    void exited.then(() => reject(new Error(`import ended before it was held: ${stderr}`)));
  });
  return { child, held, exited };
}

const EXPECTED = {
  'cats/0.jpg': 'cats',
  'cats/1.jpg': 'cats',
  'cats/2.jpg': 'cats',
  'dogs/0.jpg': 'dogs',
  'dogs/1.jpg': 'dogs',
  'dogs/2.jpg': 'dogs',
  'top.jpg': null,
};

describe('an interrupted import still labels every image from its folder', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sorta-interrupted-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('killed (SIGKILL) once the images are saved: the re-run labels them, keeping what a person changed', async () => {
    const dir = join(tmp, 'killed');
    await writePhotos(dir);
    const projectPath = join(tmp, 'killed.sorta');
    const run = startHeldImport(projectPath, dir);
    await run.held;
    run.child.kill('SIGKILL');
    assert.equal((await run.exited).signal, 'SIGKILL');
    // The kill came after the images were saved and before any label: the state the defect left behind.
    const saved = labelsOf(projectPath, dir);
    assert.deepEqual(Object.keys(saved), Object.keys(EXPECTED));
    assert.ok(Object.values(saved).every((label) => label === null));

    // Meanwhile a person labels cats/0.jpg as a dog.
    const project = openProject(projectPath, { create: false });
    try {
      setLabels(project, [imageId(project, join(dir, 'cats', '0.jpg'))], ensureClass(project, 'dogs').id);
    } finally {
      project.close();
    }

    const rerun = await runSorta(['import', '--project', projectPath, dir, '--json']);
    assert.equal(rerun.code, 0, rerun.stderr);
    const doc = JSON.parse(rerun.stdout) as { imported: number; labeled: number; classes: string[] };
    assert.equal(doc.imported, 0);
    assert.equal(doc.labeled, 5);
    assert.deepEqual([...doc.classes].sort(), ['cats', 'dogs']);
    assert.deepEqual(labelsOf(projectPath, dir), { ...EXPECTED, 'cats/0.jpg': 'dogs' });

    // A label a person removes after it was applied is not put back by the next rescan.
    const again = openProject(projectPath, { create: false });
    try {
      clearLabels(again, [imageId(again, join(dir, 'dogs', '1.jpg'))]);
    } finally {
      again.close();
    }
    const third = await runSorta(['import', '--project', projectPath, dir, '--json']);
    assert.equal(third.code, 0, third.stderr);
    assert.equal((JSON.parse(third.stdout) as { labeled: number }).labeled, 0);
    assert.deepEqual(labelsOf(projectPath, dir), { ...EXPECTED, 'cats/0.jpg': 'dogs', 'dogs/1.jpg': null });
  });

  it('interrupted (SIGINT) once the images are saved: labels them before it exits', async () => {
    const dir = join(tmp, 'interrupted');
    await writePhotos(dir);
    const projectPath = join(tmp, 'interrupted.sorta');
    const run = startHeldImport(projectPath, dir);
    await run.held;
    run.child.kill('SIGINT');
    const exit = await run.exited;
    assert.equal(exit.code, 1);
    assert.match(exit.stdout, /cancelled/);
    assert.deepEqual(labelsOf(projectPath, dir), EXPECTED);
  });

  it('a cache that cannot be written fails the import with its reason, and the labels are still applied', async () => {
    const dir = join(tmp, 'cachefull');
    await writePhotos(dir);
    const project = openProject(join(tmp, 'cachefull.sorta'));
    try {
      rmSync(project.cacheDir, { recursive: true, force: true });
      writeFileSync(project.cacheDir, 'not a folder'); // every thumbnail write fails, as on a full disk
      await assert.rejects(importFolder(project, dir), /cannot write thumbnail/);
    } finally {
      project.close();
    }
    assert.deepEqual(labelsOf(join(tmp, 'cachefull.sorta'), dir), EXPECTED);
  });

  it('a project from before the fix: images its interrupted import never labelled get their folder label', async () => {
    const dir = join(tmp, 'old');
    await writePhotos(dir);
    const projectPath = join(tmp, 'old.sorta');
    // Schema version 2 (before folder_label_pending), as an interrupted import left it: the root never finished
    // (scanned_at NULL) and no image got its label.
    const old = openProject(projectPath, { migrations: migrations.slice(0, 2) });
    try {
      const rootId = old.db
        .prepare('INSERT INTO roots (path, folder_labels, added_at) VALUES (?, 1, 1)')
        .run(dir).lastInsertRowid;
      const insert = old.db.prepare(
        `INSERT INTO images (root_id, path, size, mtime_ms, hash, status, added_at) VALUES (?, ?, 1, 1, ?, 'ok', 2)`,
      );
      for (const rel of Object.keys(EXPECTED)) insert.run(rootId, join(dir, rel), rel);
    } finally {
      old.close();
    }
    const rerun = await runSorta(['import', '--project', projectPath, dir, '--json']);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.equal((JSON.parse(rerun.stdout) as { labeled: number }).labeled, 6);
    assert.deepEqual(labelsOf(projectPath, dir), EXPECTED);
  });

  it('a project from before the fix: an unlabelled image of a finished import stays as a person left it', async () => {
    const dir = join(tmp, 'oldfinished');
    await writePhotos(dir);
    const projectPath = join(tmp, 'oldfinished.sorta');
    const old = openProject(projectPath, { migrations: migrations.slice(0, 2) });
    try {
      const rootId = old.db
        .prepare('INSERT INTO roots (path, folder_labels, added_at, scanned_at) VALUES (?, 1, 1, 3)')
        .run(dir).lastInsertRowid;
      const insert = old.db.prepare(
        `INSERT INTO images (root_id, path, size, mtime_ms, hash, status, added_at) VALUES (?, ?, 1, 1, ?, 'ok', 2)`,
      );
      for (const rel of Object.keys(EXPECTED)) insert.run(rootId, join(dir, rel), rel);
    } finally {
      old.close();
    }
    const rerun = await runSorta(['import', '--project', projectPath, dir, '--json']);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.equal((JSON.parse(rerun.stdout) as { labeled: number }).labeled, 0);
  });
});
