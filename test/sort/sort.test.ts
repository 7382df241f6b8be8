import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { setFsTestHooks } from '../../electron/sort/fs-ops.js';
import { manifestCsv, manifestRows } from '../../electron/sort/manifest.js';
import { sortClassified as sortJob } from '../../electron/sort/sort.js';
import { undoSort } from '../../electron/sort/undo.js';
import { createJob, fileOps, getJob, insertFileOps } from '../../electron/store/jobs-repo.js';
import { recoverInterruptedJobs } from '../../electron/sort/recover.js';
import type { Project } from '../../electron/store/project.js';
import {
  inode,
  openTestProject,
  predictionJob,
  removeDir,
  sha256,
  snapshot,
  tempDir,
  writeFiles,
} from './helpers.js';

let work: string;
let project: Project;
let src: string;
let out: string;

function chattrWorks(): boolean {
  const probe = join(work, 'chattr-probe');
  mkdirSync(probe);
  const set = spawnSync('chattr', ['+i', probe]);
  if (set.status !== 0) return false;
  spawnSync('chattr', ['-i', probe]);
  return true;
}

/** Four files: two confident cats (one in a subfolder), a confident dog, an unsure one. */
function fourFiles() {
  writeFiles(src, {
    'one.jpg': 'cat one',
    'sub/two.png': 'cat two',
    'sub/deeper/three.JPG': 'dog three',
    'four.jpg': 'not sure four',
  });
  return predictionJob(project, src, [
    { path: 'one.jpg', label: 'cat', confidence: 0.9 },
    { path: 'sub/two.png', label: 'cat', confidence: 0.8 },
    { path: 'sub/deeper/three.JPG', label: 'dog', confidence: 0.75 },
    { path: 'four.jpg', label: 'dog', confidence: 0.4 },
  ]);
}

describe('sorting files safely', () => {
  before(() => {
    work = tempDir('sort');
  });
  after(() => removeDir(work));

  let case_ = 0;
  const setUp = () => {
    case_++;
    const dir = join(work, `case-${case_}`);
    mkdirSync(dir);
    src = join(dir, 'src');
    out = join(dir, 'out');
    mkdirSync(src);
    project = openTestProject(dir);
  };
  afterEach(() => {
    setFsTestHooks({});
    project?.close();
  });

  it('copies into class folders and _unsure by threshold, flattening subfolders, leaving the source as it was', async () => {
    setUp();
    const job = fourFiles();
    const before = snapshot(src);
    const result = await sortJob(project, job, { outDir: out, threshold: 0.5, mode: 'copy' });
    assert.deepEqual(snapshot(src), before);
    assert.deepEqual(
      snapshot(out),
      new Map([
        ['cat/one.jpg', sha256('cat one')],
        ['cat/two.png', sha256('cat two')],
        ['dog/three.JPG', sha256('dog three')],
        ['_unsure/four.jpg', sha256('not sure four')],
      ]),
    );
    assert.deepEqual(result.sorted, { cat: 2, dog: 1, _unsure: 1 });
    assert.deepEqual(result.failures, []);
    assert.equal(result.state, 'done');
    assert.deepEqual(
      fileOps(project, result.jobId!).map((op) => [op.op, op.state, op.sha256]),
      [
        ['copy', 'done', sha256('not sure four')],
        ['copy', 'done', sha256('cat one')],
        ['copy', 'done', sha256('dog three')],
        ['copy', 'done', sha256('cat two')],
      ],
    );
  });

  it('moves with a hard link on one filesystem (same inode) and undo puts every file back', async () => {
    setUp();
    const job = fourFiles();
    const before = snapshot(src);
    const oneInode = inode(join(src, 'one.jpg'));
    const result = await sortJob(project, job, { outDir: out, threshold: 0.5, mode: 'move' });
    assert.deepEqual(result.sorted, { cat: 2, dog: 1, _unsure: 1 });
    assert.deepEqual(snapshot(src), new Map());
    assert.equal(inode(join(out, 'cat', 'one.jpg')), oneInode);
    assert.equal(snapshot(out).size, 4);

    const undo = await undoSort(project);
    assert.equal(undo.jobId, result.jobId);
    assert.equal(getJob(project, result.jobId!)?.parentJobId, job);
    assert.equal(undo.restored, 4);
    assert.deepEqual(undo.problems, []);
    assert.deepEqual(snapshot(src), before);
    assert.equal(existsSync(out), false, 'the empty folders Sorta made are gone');
    assert.equal(getJob(project, result.jobId!)?.state, 'undone');
    assert.ok(fileOps(project, result.jobId!).every((op) => op.state === 'undone'));
  });

  it('undo of a copy removes only unchanged copies and keeps a copy whose original is gone as the original', async () => {
    setUp();
    const job = fourFiles();
    const before = snapshot(src);
    await sortJob(project, job, { outDir: out, threshold: 0.5, mode: 'copy' });
    writeFileSync(join(out, 'cat', 'one.jpg'), 'edited by the user'); // a changed copy is kept
    rmSync(join(src, 'sub', 'deeper', 'three.JPG')); // its copy is now the only one
    const undo = await undoSort(project, { jobId: job });
    assert.equal(undo.restored, 3);
    assert.equal(undo.problems.length, 1);
    assert.match(undo.problems[0].error, /one\.jpg changed since Sorta copied it; it was kept/);
    assert.deepEqual(snapshot(src), before, 'the lost original came back from its copy');
    assert.deepEqual(snapshot(out), new Map([['cat/one.jpg', sha256('edited by the user')]]));
  });

  it('undo never overwrites: an original path taken by a new file is reported and both are left', async () => {
    setUp();
    const job = fourFiles();
    const sorted = await sortJob(project, job, { outDir: out, threshold: 0.5, mode: 'move' });
    writeFileSync(join(src, 'one.jpg'), 'a new file with the old name');
    const undo = await undoSort(project, { jobId: job });
    assert.equal(undo.restored, 3);
    assert.equal(undo.problems.length, 1);
    assert.match(undo.problems[0].error, /one\.jpg is taken by another file now; both were left/);
    assert.equal(readFileSync(join(src, 'one.jpg'), 'utf8'), 'a new file with the old name');
    assert.equal(readFileSync(join(out, 'cat', 'one.jpg'), 'utf8'), 'cat one');
    assert.equal(
      getJob(project, sorted.jobId!)?.state,
      'done',
      'still undoable once the conflict is resolved',
    );
    rmSync(join(src, 'one.jpg'));
    const again = await undoSort(project);
    assert.equal(again.restored, 1);
    assert.equal(readFileSync(join(src, 'one.jpg'), 'utf8'), 'cat one');
    assert.equal(getJob(project, sorted.jobId!)?.state, 'undone');
    await assert.rejects(undoSort(project), /no sort to undo/);
  });

  it('suffixes colliding names, also within one plan, and counts identical content as already sorted', async () => {
    setUp();
    writeFiles(src, {
      'a/x.jpg': 'first x',
      'b/x.jpg': 'second x',
      'c/x.jpg': 'first x', // identical to a/x.jpg: sorted once
      'y.jpg': 'new y',
      'z.jpg': 'same z',
      noext: 'no extension',
      'd/noext': 'another no extension',
    });
    writeFiles(out, { 'cat/y.jpg': 'an older y', 'cat/y (1).jpg': 'another older y', 'cat/z.jpg': 'same z' });
    const job = predictionJob(
      project,
      src,
      ['a/x.jpg', 'b/x.jpg', 'c/x.jpg', 'y.jpg', 'z.jpg', 'noext', 'd/noext'].map((path) => ({
        path,
        label: 'cat',
        confidence: 0.99,
      })),
    );
    const preview = await sortJob(project, job, { outDir: out, threshold: 0.5, mode: 'move', dryRun: true });
    assert.deepEqual(
      preview.plan.collisions.map((c) => [c.file, c.dest.slice(out.length + 1)]),
      [
        ['b/x.jpg', 'cat/x (1).jpg'],
        ['noext', 'cat/noext (1)'],
        ['y.jpg', 'cat/y (2).jpg'],
      ],
    );
    assert.deepEqual(
      preview.plan.identical.map((c) => [c.file, c.dest.slice(out.length + 1)]),
      [
        ['c/x.jpg', 'cat/x.jpg'],
        ['z.jpg', 'cat/z.jpg'],
      ],
    );
    assert.equal(snapshot(src).size, 7, 'a dry run touches nothing');
    assert.equal(snapshot(out).size, 3);

    const result = await sortJob(project, job, { outDir: out, threshold: 0.5, mode: 'move' });
    assert.deepEqual(result.sorted, { cat: 7 });
    assert.deepEqual(
      snapshot(out),
      new Map([
        ['cat/x.jpg', sha256('first x')],
        ['cat/x (1).jpg', sha256('second x')],
        ['cat/y.jpg', sha256('an older y')],
        ['cat/y (1).jpg', sha256('another older y')],
        ['cat/y (2).jpg', sha256('new y')],
        ['cat/z.jpg', sha256('same z')],
        ['cat/noext', sha256('another no extension')],
        ['cat/noext (1)', sha256('no extension')],
      ]),
    );
    // Nothing deleted: the sources whose content was already sorted stay where they were.
    assert.deepEqual(
      snapshot(src),
      new Map([
        ['c/x.jpg', sha256('first x')],
        ['z.jpg', sha256('same z')],
      ]),
    );
    const undo = await undoSort(project);
    assert.equal(undo.restored, 5);
    assert.equal(snapshot(src).size, 7);
    assert.deepEqual([...snapshot(out).keys()].sort(), ['cat/y (1).jpg', 'cat/y.jpg', 'cat/z.jpg']);
  });

  it('a file gone since it was classified is reported and the others are sorted', async () => {
    setUp();
    const job = fourFiles();
    rmSync(join(src, 'one.jpg'));
    const result = await sortJob(project, job, { outDir: out, threshold: 0.5, mode: 'move' });
    assert.deepEqual(result.sorted, { cat: 1, dog: 1, _unsure: 1 });
    assert.deepEqual(
      result.failures.map((f) => f.file),
      ['one.jpg'],
    );
    assert.match(result.failures[0].error, /one\.jpg: no such file/);
  });

  it('a dry run creates nothing, not even the output folder', async () => {
    setUp();
    const job = fourFiles();
    const result = await sortJob(project, job, { outDir: out, threshold: 0.5, mode: 'move', dryRun: true });
    assert.deepEqual(result.plan.counts, { cat: 2, dog: 1, _unsure: 1 });
    assert.equal(existsSync(out), false);
    assert.equal(snapshot(src).size, 4);
    assert.equal(result.jobId, null);
    assert.deepEqual(fileOps(project, job), []);
  });

  it('refuses an output folder inside the sorted one, the sorted one inside (or equal to) the output, also through symlinks', async () => {
    setUp();
    const job = fourFiles();
    const sort = (outDir: string) => sortJob(project, job, { outDir, threshold: 0.5, mode: 'move' });
    await assert.rejects(sort(join(src, 'sorted')), /output folder is inside the folder being sorted/);
    await assert.rejects(sort(src), /output folder is the same folder/);
    await assert.rejects(sort(join(src, '..')), /folder being sorted is inside the output folder/);
    const link = join(src, '..', 'link-to-src');
    symlinkSync(src, link);
    await assert.rejects(
      sort(join(link, 'new', 'deeper')),
      /output folder is inside the folder being sorted/,
    );
    assert.equal(snapshot(src).size, 4);
    assert.equal(existsSync(join(src, 'new')), false);
  });

  it('refuses a missing source folder', async () => {
    setUp();
    const job = predictionJob(project, join(src, 'gone'), [{ path: 'a.jpg', label: 'cat', confidence: 1 }]);
    await assert.rejects(
      sortJob(project, job, { outDir: out, threshold: 0.5, mode: 'copy' }),
      /folder to sort, .*gone, does not exist/,
    );
    await assert.rejects(
      sortJob(project, 999, { outDir: out, threshold: 0.5, mode: 'copy' }),
      /no classify job 999/,
    );
  });

  it('refuses an unwritable output folder (a path through a regular file: ENOTDIR) with nothing changed', async () => {
    setUp();
    const job = fourFiles();
    const before = snapshot(src);
    writeFileSync(join(out + '-file'), 'a file, not a folder');
    await assert.rejects(
      sortJob(project, job, { outDir: join(out + '-file', 'sorted'), threshold: 0.5, mode: 'move' }),
      /cannot be written \(a part of the path is a file, not a folder\)\. Nothing was changed/,
    );
    await assert.rejects(
      sortJob(project, job, { outDir: out + '-file', threshold: 0.5, mode: 'move' }),
      /it is a file, not a folder/,
    );
    assert.deepEqual(snapshot(src), before);
  });

  it('refuses an immutable output folder (chattr +i, which binds root too) and reports a class folder that cannot be written', async (t) => {
    setUp();
    if (!chattrWorks()) return t.skip('chattr +i is not available on this filesystem');
    const job = fourFiles();
    const before = snapshot(src);
    mkdirSync(out);
    spawnSync('chattr', ['+i', out]);
    try {
      await assert.rejects(
        sortJob(project, job, { outDir: out, threshold: 0.5, mode: 'move' }),
        /Cannot sort into .*out: the output folder cannot be written \(permission denied\)\. Nothing was changed/,
      );
      assert.deepEqual(snapshot(src), before);
    } finally {
      spawnSync('chattr', ['-i', out]);
    }
    // Writable OUT, but the 'cat' folder is immutable: cat files fail with a reason and stay; the rest are sorted.
    mkdirSync(join(out, 'cat'));
    spawnSync('chattr', ['+i', join(out, 'cat')]);
    try {
      const result = await sortJob(project, job, { outDir: out, threshold: 0.5, mode: 'move' });
      assert.deepEqual(result.sorted, { dog: 1, _unsure: 1 });
      assert.deepEqual(
        result.failures.map((f) => f.file),
        ['one.jpg', 'sub/two.png'],
      );
      assert.match(result.failures[0].error, /one\.jpg → .*cat\/one\.jpg: permission denied/);
      assert.equal(readFileSync(join(src, 'one.jpg'), 'utf8'), 'cat one');
      assert.equal(readFileSync(join(src, 'sub', 'two.png'), 'utf8'), 'cat two');
    } finally {
      spawnSync('chattr', ['-i', join(out, 'cat')]);
    }
    await undoSort(project);
    assert.deepEqual(snapshot(src), before);
  });

  it('moves across filesystems by copy, verify and rename when hard links fail with EXDEV (injected)', async () => {
    setUp();
    const job = fourFiles();
    const before = snapshot(src);
    const oneInode = inode(join(src, 'one.jpg'));
    setFsTestHooks({ forceExdev: true });
    const result = await sortJob(project, job, { outDir: out, threshold: 0.5, mode: 'move' });
    assert.deepEqual(result.failures, []);
    assert.deepEqual(snapshot(src), new Map());
    assert.notEqual(inode(join(out, 'cat', 'one.jpg')), oneInode, 'a new file, not a link');
    const after = snapshot(out);
    assert.deepEqual([...after.values()].sort(), [...before.values()].sort());
    assert.ok(![...after.keys()].some((k) => k.includes('.sorta-tmp')), 'no temp file left');
    await undoSort(project);
    assert.deepEqual(snapshot(src), before);
  });

  it('sorts where the filesystem has no hard links (FAT, exFAT: EPERM injected) by verified copy and checked rename', async () => {
    setUp();
    const job = fourFiles();
    const before = snapshot(src);
    writeFiles(out, { 'cat/one.jpg': 'an older one' });
    setFsTestHooks({ noHardLinks: true });
    const copied = await sortJob(project, job, { outDir: out, threshold: 0.5, mode: 'copy' });
    assert.deepEqual(copied.failures, []);
    assert.equal(readFileSync(join(out, 'cat', 'one.jpg'), 'utf8'), 'an older one', 'never replaced');
    assert.equal(readFileSync(join(out, 'cat', 'one (1).jpg'), 'utf8'), 'cat one');
    await undoSort(project);
    assert.deepEqual([...snapshot(out).keys()], ['cat/one.jpg']);
    const moved = await sortJob(project, job, { outDir: out, threshold: 0.5, mode: 'move' });
    assert.deepEqual(moved.failures, []);
    assert.deepEqual(snapshot(src), new Map());
    assert.ok(![...snapshot(out).keys()].some((k) => k.includes('.sorta-tmp')), 'no temp file left');
    await undoSort(project);
    assert.deepEqual(snapshot(src), before);
    assert.deepEqual([...snapshot(out).keys()], ['cat/one.jpg']);
  });

  it('moves to a real second filesystem (/dev/shm) and back', async (t) => {
    setUp();
    if (!existsSync('/dev/shm') || statSync('/dev/shm').dev === statSync(work).dev)
      return t.skip('/dev/shm is not a separate filesystem here');
    const shmOut = tempDir('shm-out', '/dev/shm');
    try {
      const job = fourFiles();
      const before = snapshot(src);
      const result = await sortJob(project, job, { outDir: shmOut, threshold: 0.5, mode: 'move' });
      assert.deepEqual(result.failures, []);
      assert.notEqual(statSync(join(shmOut, 'cat', 'one.jpg')).dev, statSync(src).dev);
      assert.deepEqual(snapshot(src), new Map());
      assert.deepEqual([...snapshot(shmOut).values()].sort(), [...before.values()].sort());
      const undo = await undoSort(project);
      assert.equal(undo.restored, 4);
      assert.deepEqual(snapshot(src), before);
      assert.equal(existsSync(shmOut), false);
    } finally {
      removeDir(shmOut);
    }
  });

  it('recovery leaves a job alone while its process is alive, and finishes it once that process is gone', async () => {
    setUp();
    writeFiles(src, { 'a.jpg': 'a' });
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const jobId = createJob(project, {
        kind: 'sort',
        state: 'running',
        sourceDir: src,
        outDir: out,
        params: { owner: { pid: sleeper.pid, host: hostname() } },
      });
      insertFileOps(project, jobId, [
        { seq: 1, op: 'copy', source: join(src, 'a.jpg'), dest: join(out, 'cat', 'a.jpg') },
      ]);
      assert.deepEqual(await recoverInterruptedJobs(project), []);
      assert.equal(existsSync(join(out, 'cat', 'a.jpg')), false);
      sleeper.kill('SIGKILL');
      await new Promise((resolve) => sleeper.once('exit', resolve));
      const recovered = await recoverInterruptedJobs(project);
      assert.deepEqual(
        recovered.map((r) => [r.jobId, r.action]),
        [[jobId, 'finished']],
      );
      assert.equal(readFileSync(join(out, 'cat', 'a.jpg'), 'utf8'), 'a');
      assert.equal(getJob(project, jobId)?.state, 'done');
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('manifests list every prediction with its probabilities and destination', async () => {
    setUp();
    const job = fourFiles();
    await sortJob(project, job, { outDir: out, threshold: 0.5, mode: 'copy' });
    const rows = manifestRows(project, job);
    const one = rows.find((r) => r.file === 'one.jpg');
    assert.equal(one?.destination, join(out, 'cat', 'one.jpg'));
    assert.equal(one?.label, 'cat');
    const csv = manifestCsv(rows, ['cat', 'dog']).trim().split('\n');
    assert.equal(csv[0], 'file,label,confidence,destination,error,p(cat),p(dog)');
    assert.equal(csv.length, 5);
    assert.ok(csv.includes(`four.jpg,dog,0.4,${join(out, '_unsure', 'four.jpg')},,,0.4`));
  });
});
