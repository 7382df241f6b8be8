/**
 * A sort's temporary copies, caught between steps by a test hook that plays another program in the same folder:
 * a file at another process's temp name is never removed or reused, and a temp replaced between its check and its
 * link never costs the original of a move.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { setFsTestHooks } from '../../electron/sort/fs-ops.js';
import { sortClassified } from '../../electron/sort/sort.js';
import { fileOps } from '../../electron/store/jobs-repo.js';
import type { Project } from '../../electron/store/project.js';
import { openTestProject, predictionJob, removeDir, tempDir, writeFiles } from './helpers.js';

describe('temporary copies belong to the process that made them', () => {
  let work: string;
  let project: Project;
  let src: string;
  let out: string;
  beforeEach(() => {
    work = tempDir('temp-own');
    src = join(work, 'src');
    out = join(work, 'out');
    project = openTestProject(work);
  });
  afterEach(() => {
    setFsTestHooks({});
    project.close();
    removeDir(work);
  });
  after(() => setFsTestHooks({}));

  it('leaves a file at the name another Sorta process (same job number) would use for its temp', async () => {
    writeFiles(src, { 'a.jpg': 'mine' });
    const classify = predictionJob(project, src, [{ path: 'a.jpg', label: 'cat', confidence: 0.9 }]);
    // The next job (this sort) gets classify + 1; another project at the same numbers named its temp like this.
    const theirs = join(out, 'cat', `.sorta-tmp-${classify + 1}-1`);
    writeFiles(out, { [`cat/.sorta-tmp-${classify + 1}-1`]: 'another process is copying this' });
    const result = await sortClassified(project, classify, { outDir: out, threshold: 0.5, mode: 'copy' });
    assert.deepEqual(result.failures, []);
    assert.equal(readFileSync(theirs, 'utf8'), 'another process is copying this');
    assert.equal(readFileSync(join(out, 'cat', 'a.jpg'), 'utf8'), 'mine');
    const [op] = fileOps(project, result.jobId!);
    assert.notEqual(op.temp, theirs);
  });

  it('a temp replaced after its check and before its link: the original of the move is kept', async () => {
    writeFiles(src, { 'a.jpg': 'the only copy of a' });
    const classify = predictionJob(project, src, [{ path: 'a.jpg', label: 'cat', confidence: 0.9 }]);
    setFsTestHooks({
      forceExdev: true,
      onStep: (step, path) => {
        if (step !== 'verified') return;
        unlinkSync(path); // another program swaps in its own bytes under the temp's name
        writeFileSync(path, 'somebody else', { flag: 'wx' });
      },
    });
    const result = await sortClassified(project, classify, { outDir: out, threshold: 0.5, mode: 'move' });
    assert.equal(readFileSync(join(src, 'a.jpg'), 'utf8'), 'the only copy of a');
    assert.equal(result.failures.length, 1);
    assert.match(result.failures[0].error, /replaced by another program.*left in place/);
    // The other program's file is not ours to remove.
    assert.ok(readdirSync(join(out, 'cat')).some((name) => name.startsWith('.sorta-tmp-')));
  });

  it('a destination folder deleted mid-sort is named as the cause, not the source', async () => {
    writeFiles(src, { 'a.jpg': 'a', 'b.jpg': 'b' });
    const classify = predictionJob(project, src, [
      { path: 'a.jpg', label: 'cat', confidence: 0.9 },
      { path: 'b.jpg', label: 'dog', confidence: 0.9 },
    ]);
    setFsTestHooks({
      forceExdev: true,
      onStep: (step, path) => {
        if (step === 'verified' && path.includes('/cat/')) rmSync(dirname(path), { recursive: true });
      },
    });
    const result = await sortClassified(project, classify, { outDir: out, threshold: 0.5, mode: 'move' });
    assert.equal(result.failures.length, 1);
    assert.match(
      result.failures[0].error,
      /out\/cat: the destination folder disappeared.*a\.jpg was left in place/,
    );
    assert.equal(readFileSync(join(src, 'a.jpg'), 'utf8'), 'a');
    assert.equal(readFileSync(join(out, 'dog', 'b.jpg'), 'utf8'), 'b');
  });
});
