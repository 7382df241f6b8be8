/**
 * Recovery through the `sorta` command (built dist/; `npm run build` first): every command that opens a project
 * finishes what a kill left half done before doing its own work, and `sorta undo` after an interrupted undo finishes
 * that undo only.
 */
import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sortClassified } from '../../electron/sort/sort.js';
import {
  createJob,
  fileOps,
  getJob,
  insertFileOps,
  markFileOpStarted,
} from '../../electron/store/jobs-repo.js';
import { openProject } from '../../electron/store/project.js';
import { runSorta } from '../helpers/cli.js';
import { predictionJob, removeDir, sha256, snapshot, tempDir, writeFiles } from './helpers.js';

describe('the sorta command recovers first', () => {
  let work: string;
  let n = 0;
  before(() => (work = tempDir('cli-recovery')));
  after(() => removeDir(work));

  /** A project whose move sort was killed between the hard link and the unlink: the file has two names. */
  function interruptedMove() {
    const dir = join(work, `case-${++n}`);
    const src = join(dir, 'src');
    const out = join(dir, 'out');
    writeFiles(src, { 'a.jpg': 'only copy' });
    mkdirSync(join(out, 'cat'), { recursive: true });
    const projectPath = join(dir, 'p.sorta');
    const project = openProject(projectPath);
    const jobId = createJob(project, { kind: 'sort', state: 'running', sourceDir: src, outDir: out });
    insertFileOps(project, jobId, [
      { seq: 1, op: 'move', source: join(src, 'a.jpg'), dest: join(out, 'cat', 'a.jpg') },
    ]);
    markFileOpStarted(project, fileOps(project, jobId)[0].id, {
      size: 9,
      sha256: sha256('only copy'),
      temp: null,
    });
    linkSync(join(src, 'a.jpg'), join(out, 'cat', 'a.jpg'));
    project.close();
    return { dir, src, out, projectPath, jobId };
  }

  const commands: [string, (c: ReturnType<typeof interruptedMove>) => string[]][] = [
    ['labels', (c) => ['labels', '--project', c.projectPath, '--json']],
    ['models', (c) => ['models', '--project', c.projectPath, '--json']],
    ['import', (c) => ['import', '--project', c.projectPath, join(c.dir, 'empty'), '--json']],
    ['train', (c) => ['train', '--project', c.projectPath, '--weights', join(c.dir, 'none.safetensors')]],
  ];
  for (const [name, args] of commands)
    it(`sorta ${name} finishes an interrupted sort before its own work`, async () => {
      const c = interruptedMove();
      if (name === 'import') mkdirSync(join(c.dir, 'empty'));
      const result = await runSorta(args(c));
      assert.match(result.stderr, new RegExp(`recovered: job ${c.jobId} \\(sort\\)`));
      const project = openProject(c.projectPath, { create: false });
      try {
        assert.equal(getJob(project, c.jobId)?.state, 'done');
      } finally {
        project.close();
      }
      assert.equal(existsSync(join(c.src, 'a.jpg')), false, 'the source name of the finished move is gone');
      assert.equal(readFileSync(join(c.out, 'cat', 'a.jpg'), 'utf8'), 'only copy');
    });

  it('sorta undo after an interrupted undo finishes that undo and leaves the previous sort alone', async () => {
    const dir = join(work, 'undo-twice');
    const src = join(dir, 'src');
    const outA = join(dir, 'outA');
    const outB = join(dir, 'outB');
    writeFiles(src, { 'a.jpg': 'bytes a', 'b.jpg': 'bytes b' });
    const projectPath = join(dir, 'p.sorta');
    const project = openProject(projectPath);
    let sortB: number;
    try {
      const predictions = ['a.jpg', 'b.jpg'].map((path) => ({ path, label: 'cat', confidence: 0.9 }));
      const classify = predictionJob(project, src, predictions);
      await sortClassified(project, classify, { outDir: outA, threshold: 0.5, mode: 'copy' });
      sortB = (await sortClassified(project, classify, { outDir: outB, threshold: 0.5, mode: 'copy' }))
        .jobId!;
      // The undo of B, killed right after its plan was journaled.
      const undo = createJob(project, {
        kind: 'undo',
        state: 'running',
        parentJobId: sortB,
        sourceDir: outB,
        outDir: src,
      });
      insertFileOps(
        project,
        undo,
        fileOps(project, sortB).map((op) => ({
          seq: op.seq,
          op: 'remove' as const,
          source: op.dest,
          dest: op.source,
        })),
      );
    } finally {
      project.close();
    }
    const result = await runSorta(['undo', '--project', projectPath, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const doc = JSON.parse(result.stdout);
    assert.equal(doc.job, sortB);
    assert.equal(doc.restored, 2);
    assert.deepEqual(doc.errors, []);
    assert.equal(snapshot(outB).size, 0, "B's copies are removed");
    assert.equal(snapshot(outA).size, 2, "A's copies are still there");
  });
});
