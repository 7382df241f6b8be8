/**
 * What a sort says and where it puts things, on awkward input: names at the filesystem's length limit, classes
 * whose folder names would coincide, sources that are not regular files, folders that are symbolic links, a cancel.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { sortClassified } from '../../electron/sort/sort.js';
import type { Project } from '../../electron/store/project.js';
import { openTestProject, predictionJob, removeDir, tempDir, writeFiles } from './helpers.js';

describe('sorting awkward input', () => {
  let work: string;
  let project: Project;
  let src: string;
  let out: string;
  beforeEach(() => {
    work = tempDir('names');
    src = join(work, 'src');
    out = join(work, 'out');
    project = openTestProject(work);
  });
  afterEach(() => {
    project.close();
    removeDir(work);
  });
  after(() => {});

  const sort = (job: number, mode: 'copy' | 'move' = 'copy', signal?: AbortSignal) =>
    sortClassified(project, job, {
      outDir: out,
      threshold: 0.5,
      mode,
      signal,
      onProgress: signal ? () => (signal as AbortSignal & { stop(): void }).stop() : undefined,
    });

  it('a 255-byte name that collides gets a shortened stem; the other files are sorted too', async () => {
    const long = `${'é'.repeat(125)}a.png`; // 250 + 1 + 4 = 255 bytes
    assert.equal(Buffer.byteLength(long), 255);
    writeFiles(src, { [long]: 'new long', 'b.jpg': 'b' });
    writeFiles(out, { [`cat/${long}`]: 'already there, different' });
    const job = predictionJob(project, src, [
      { path: long, label: 'cat', confidence: 0.9 },
      { path: 'b.jpg', label: 'cat', confidence: 0.9 },
    ]);
    const result = await sort(job);
    assert.deepEqual(result.failures, []);
    assert.equal(result.sorted.cat, 2);
    const renamed = result.plan.collisions[0].dest.split('/').pop()!;
    assert.ok(Buffer.byteLength(renamed) <= 255);
    assert.ok(renamed.endsWith(' (1).png'), renamed);
    assert.equal(readFileSync(join(out, 'cat', renamed), 'utf8'), 'new long');
    assert.equal(readFileSync(join(out, 'cat', long), 'utf8'), 'already there, different');
    assert.equal(readFileSync(join(out, 'cat', 'b.jpg'), 'utf8'), 'b');
  });

  it('classes whose folder names would coincide get folders of their own, and the outcome names them', async () => {
    writeFiles(src, { '1.jpg': 'colon', '2.jpg': 'underscore', '3.jpg': 'upper', '4.jpg': 'unsure class' });
    const job = predictionJob(project, src, [
      { path: '1.jpg', label: 'cat:', confidence: 0.9 },
      { path: '2.jpg', label: 'cat_', confidence: 0.9 },
      { path: '3.jpg', label: 'Cat:', confidence: 0.9 },
      { path: '4.jpg', label: '_unsure', confidence: 0.9 },
    ]);
    const result = await sort(job);
    assert.deepEqual(result.failures, []);
    const folders = result.folders;
    assert.equal(folders['cat_'], 'cat_', 'a class whose name is a safe folder name keeps it');
    const distinct = new Set(Object.values(folders).map((f) => f.toLowerCase()));
    assert.equal(distinct.size, 4, JSON.stringify(folders));
    for (const [label, content] of [
      ['cat:', 'colon'],
      ['cat_', 'underscore'],
      ['Cat:', 'upper'],
    ])
      assert.deepEqual(
        readdirSync(join(out, folders[label])).map((f) => readFileSync(join(out, folders[label], f), 'utf8')),
        [content],
        label,
      );
    assert.notEqual(folders['_unsure'], '_unsure', 'the _unsure folder stays for files below the threshold');
  });

  it('names what a source that is not a regular file is, and leaves it', async () => {
    writeFiles(src, { 'target.jpg': 'target' });
    execFileSync('mkfifo', [join(src, 'pipe.jpg')]);
    symlinkSync(join(src, 'target.jpg'), join(src, 'link.jpg'));
    const job = predictionJob(project, src, [
      { path: 'pipe.jpg', label: 'cat', confidence: 0.9 },
      { path: 'link.jpg', label: 'cat', confidence: 0.9 },
    ]);
    const result = await sort(job, 'move');
    const byFile = Object.fromEntries(result.failures.map((f) => [f.file, f.error]));
    assert.match(byFile['pipe.jpg'], /pipe\.jpg: it is a named pipe \(FIFO\), not a regular file/);
    assert.match(byFile['link.jpg'], /link\.jpg: it is a symbolic link, not a regular file/);
    assert.ok(existsSync(join(src, 'link.jpg')) && existsSync(join(src, 'pipe.jpg')));
  });

  it('does not move files through a folder that is a symbolic link (here: to already sorted files)', async () => {
    writeFiles(work, { 'earlier/cat/old.jpg': 'sorted before', 'src/new.jpg': 'new' });
    symlinkSync(join(work, 'earlier'), join(src, 'old'));
    const job = predictionJob(project, src, [
      { path: 'new.jpg', label: 'cat', confidence: 0.9 },
      { path: 'old/cat/old.jpg', label: 'cat', confidence: 0.9 },
    ]);
    const result = await sort(job, 'move');
    assert.equal(result.sorted.cat, 1);
    assert.equal(result.failures.length, 1);
    assert.match(result.failures[0].error, /old is a symbolic link to a folder/);
    assert.equal(readFileSync(join(work, 'earlier', 'cat', 'old.jpg'), 'utf8'), 'sorted before');
  });

  it('a cancelled sort says so and lists the files it did not reach', async () => {
    writeFiles(src, { 'a.jpg': 'a', 'b.jpg': 'b', 'c.jpg': 'c' });
    const job = predictionJob(
      project,
      src,
      ['a.jpg', 'b.jpg', 'c.jpg'].map((path) => ({ path, label: 'cat', confidence: 0.9 })),
    );
    const controller = new AbortController();
    const signal = Object.assign(controller.signal, { stop: () => controller.abort() });
    const result = await sort(job, 'copy', signal);
    assert.equal(result.state, 'cancelled');
    assert.equal(result.sorted.cat, 1);
    assert.deepEqual(result.pending, ['b.jpg', 'c.jpg']);
  });
});
