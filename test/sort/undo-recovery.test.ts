/**
 * Recovering an undo of a copy sort that a crash interrupted, when an original has gone meanwhile: the copy is the
 * only place its bytes are, so it must be moved back into the original's place, never deleted.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { recoverInterruptedJobs } from '../../electron/sort/recover.js';
import { sortClassified } from '../../electron/sort/sort.js';
import {
  createJob,
  fileOps,
  getJob,
  insertFileOps,
  markFileOpStarted,
} from '../../electron/store/jobs-repo.js';
import { openTestProject, predictionJob, removeDir, sha256, tempDir, writeFiles } from './helpers.js';

describe('recovering an interrupted undo of a copy', () => {
  let work: string;
  before(() => (work = tempDir('undo-recovery')));
  after(() => removeDir(work));

  it('moves a copy back when its original is gone, instead of deleting it', async () => {
    const src = join(work, 'src');
    const out = join(work, 'out');
    writeFiles(src, { 'a.jpg': 'bytes of a', 'b.jpg': 'bytes of b', 'c.jpg': 'bytes of c' });
    const project = openTestProject(work);
    try {
      const classify = predictionJob(
        project,
        src,
        ['a.jpg', 'b.jpg', 'c.jpg'].map((path) => ({ path, label: 'cat', confidence: 0.9 })),
      );
      const sort = await sortClassified(project, classify, { outDir: out, threshold: 0.5, mode: 'copy' });
      assert.deepEqual(sort.failures, []);
      // The undo a kill stopped: planned as three removals (every original was there); the first had started.
      const undoJob = createJob(project, {
        kind: 'undo',
        state: 'running',
        parentJobId: sort.jobId,
        sourceDir: out,
        outDir: src,
      });
      const ops = fileOps(project, sort.jobId!).map((op) => ({
        seq: op.seq,
        op: 'remove' as const,
        source: op.dest,
        dest: op.source,
      }));
      insertFileOps(project, undoJob, ops);
      const first = fileOps(project, undoJob)[0];
      markFileOpStarted(project, first.id, { size: 10, sha256: sha256('bytes of a'), temp: null });
      // Meanwhile the user moved two originals away (a: the one in flight; b: one still planned).
      mkdirSync(join(work, 'elsewhere'));
      renameSync(join(src, 'a.jpg'), join(work, 'elsewhere', 'a.jpg'));
      rmSync(join(src, 'b.jpg'));

      const recovered = await recoverInterruptedJobs(project);
      assert.deepEqual(
        recovered.map((r) => [r.jobId, r.kind, r.problems]),
        [[undoJob, 'undo', []]],
      );
      assert.equal(readFileSync(join(src, 'a.jpg'), 'utf8'), 'bytes of a');
      assert.equal(readFileSync(join(src, 'b.jpg'), 'utf8'), 'bytes of b');
      assert.equal(readFileSync(join(src, 'c.jpg'), 'utf8'), 'bytes of c');
      assert.equal(existsSync(join(out, 'cat')) ? readdirSync(join(out, 'cat')).length : 0, 0);
      assert.equal(getJob(project, undoJob)?.state, 'done');
      assert.equal(getJob(project, sort.jobId!)?.state, 'undone');
    } finally {
      project.close();
    }
  });
});
