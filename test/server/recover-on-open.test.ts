/**
 * Opening a project in the app (Electron or web mode) first settles a sort that a crash interrupted: the next command
 * on the project finishes the job, so every file is present exactly once.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { createApp } from '../../electron/app/create-app.js';
import { createJob, getJob, insertFileOps } from '../../electron/store/jobs-repo.js';
import { openTestProject, removeDir, tempDir } from '../sort/helpers.js';

const work = tempDir('recover-open');
after(() => removeDir(work));

it('project.open finishes a sort job left running by a killed process', async () => {
  const src = join(work, 'src');
  const out = join(work, 'out');
  mkdirSync(src, { recursive: true });
  mkdirSync(join(out, 'cat'), { recursive: true });
  const source = join(src, 'a.jpg');
  const dest = join(out, 'cat', 'a.jpg');
  writeFileSync(source, 'bytes that must survive');

  // A sort job journaled as running whose one move never started: what a kill right after planning leaves.
  const project = openTestProject(work);
  const jobId = createJob(project, { kind: 'sort', state: 'running', sourceDir: src, outDir: out });
  insertFileOps(project, jobId, [{ seq: 1, op: 'move', source, dest }]);
  const projectPath = project.path;
  project.close();

  const app = createApp({ mode: 'web', dataDir: join(work, 'data'), emit: () => {} });
  try {
    await app.handlers['project.open']({ path: projectPath, create: false });
    assert.equal(existsSync(source), false);
    assert.equal(readFileSync(dest, 'utf8'), 'bytes that must survive');
    const reopened = app.ctx.openProject;
    assert.ok(reopened);
    assert.equal(getJob(reopened, jobId)?.state, 'done');
  } finally {
    await app.shutdown();
  }
});
