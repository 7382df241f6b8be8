/**
 * Recovery from each state a crash can leave one operation in, built by hand (the random kills of crash.test.ts hit
 * them by chance; here each one is hit on purpose): the journal says 'started', the filesystem is caught between two
 * steps. After recovery each content must exist exactly once, at the source or the destination, with no temp left.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { tempNameFor } from '../../electron/sort/file-op.js';
import { recoverInterruptedJobs } from '../../electron/sort/recover.js';
import {
  createJob,
  fileOps,
  getJob,
  insertFileOps,
  markFileOpStarted,
  type FileOpKind,
} from '../../electron/store/jobs-repo.js';
import type { Project } from '../../electron/store/project.js';
import { openTestProject, removeDir, sha256, snapshot, tempDir } from './helpers.js';

const CONTENT = 'the only copy of these bytes';

describe('recovery of one interrupted operation, state by state', () => {
  let work: string;
  let project: Project;
  let src: string;
  let out: string;
  let n = 0;

  before(() => {
    work = tempDir('recover');
  });
  after(() => removeDir(work));
  afterEach(() => project?.close());

  /** A running sort job whose one operation is journaled as started; returns its paths. */
  function interrupted(op: FileOpKind) {
    const dir = join(work, `case-${++n}`);
    src = join(dir, 'src');
    out = join(dir, 'out');
    mkdirSync(src, { recursive: true });
    mkdirSync(join(out, 'cat'), { recursive: true });
    project = openTestProject(dir);
    const source = join(src, 'a.jpg');
    const dest = join(out, 'cat', 'a.jpg');
    writeFileSync(source, CONTENT);
    const jobId = createJob(project, { kind: 'sort', state: 'running', sourceDir: src, outDir: out });
    insertFileOps(project, jobId, [{ seq: 1, op, source, dest }]);
    const temp = tempNameFor(jobId, { seq: 1, dest });
    const [row] = fileOps(project, jobId);
    markFileOpStarted(project, row.id, { size: CONTENT.length, sha256: sha256(CONTENT), temp });
    return { jobId, source, dest, temp };
  }

  async function recoverAndCheck(jobId: number, expected: { src: number; out: number }) {
    const recovered = await recoverInterruptedJobs(project);
    assert.deepEqual(
      recovered.map((r) => [r.jobId, r.action, r.interrupted, r.problems]),
      [[jobId, 'finished', 1, []]],
    );
    assert.equal(getJob(project, jobId)?.state, 'done');
    assert.deepEqual(
      fileOps(project, jobId).map((op) => op.state),
      ['done'],
    );
    const inSrc = [...snapshot(src).values()].filter((s) => s === sha256(CONTENT)).length;
    const inOut = [...snapshot(out).entries()].filter(([path, s]) => {
      assert.ok(!path.includes('.sorta-tmp-'), `temp left: ${path}`);
      return s === sha256(CONTENT);
    }).length;
    assert.deepEqual({ src: inSrc, out: inOut }, expected);
    // A second recovery finds nothing to do.
    assert.deepEqual(await recoverInterruptedJobs(project), []);
  }

  it('copy: killed while writing the temp (a partial temp) → the temp is removed and the copy redone', async () => {
    const { jobId, temp } = interrupted('copy');
    writeFileSync(temp, CONTENT.slice(0, 7));
    await recoverAndCheck(jobId, { src: 1, out: 1 });
  });

  it('copy: killed after linking the verified temp into place → the temp is removed, nothing copied twice', async () => {
    const { jobId, temp, dest, source } = interrupted('copy');
    copyFileSync(source, temp);
    linkSync(temp, dest);
    await recoverAndCheck(jobId, { src: 1, out: 1 });
  });

  it('move on one filesystem: killed between the link and the unlink (two names, one file) → the source name goes', async () => {
    const { jobId, source, dest } = interrupted('move');
    linkSync(source, dest);
    await recoverAndCheck(jobId, { src: 0, out: 1 });
    assert.equal(existsSync(source), false);
  });

  it('move across filesystems: killed after the verified copy was linked, before the temp and source went', async () => {
    const { jobId, source, dest, temp } = interrupted('move');
    copyFileSync(source, temp);
    linkSync(temp, dest);
    await recoverAndCheck(jobId, { src: 0, out: 1 });
  });

  it('move across filesystems: killed mid-copy (a partial temp) → rolled back, then the move is completed', async () => {
    const { jobId, temp } = interrupted('move');
    writeFileSync(temp, CONTENT.slice(0, 3));
    await recoverAndCheck(jobId, { src: 0, out: 1 });
  });

  it('a destination name taken by a different file meanwhile is never replaced; the source stays', async () => {
    const { jobId, dest, source } = interrupted('move');
    writeFileSync(dest, 'somebody else');
    const recovered = await recoverInterruptedJobs(project);
    assert.equal(recovered[0].problems.length, 1);
    assert.match(recovered[0].problems[0].error, /another file appeared there; nothing was overwritten/);
    assert.equal(readFileSync(dest, 'utf8'), 'somebody else');
    assert.equal(readFileSync(source, 'utf8'), CONTENT);
    assert.equal(getJob(project, jobId)?.state, 'done');
  });
});
