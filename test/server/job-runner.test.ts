/**
 * The JobRunner's own bookkeeping with a mocked clock: the ETA of each phase is measured within that phase, the
 * progress a reattaching page reads is the latest, and a second job under the same exclusive key is refused.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { JobRunner } from '../../electron/app/jobs.js';
import type { SortaEvent } from '../../electron/contract/index.js';
import type { SortaError } from '../../electron/shared/errors.js';

test('the ETA of the epochs is not inflated by the time the features took', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 0 });
  const events: SortaEvent[] = [];
  const runner = new JobRunner((event) => events.push(event));
  let step!: () => void;
  const job = runner.run('train', 'Fine-tuning', 'j1', async (handle) => {
    // Features: 100 images in 100 s.
    handle.progress({ done: 50, total: 100, unit: 'images' });
    t.mock.timers.tick(50_000);
    handle.progress({ done: 100, total: 100, unit: 'images' });
    // Epochs: 1 s each, 10 of them.
    handle.progress({ done: 1, total: 10, unit: 'epochs' });
    t.mock.timers.tick(2000);
    handle.progress({ done: 3, total: 10, unit: 'epochs' });
    await new Promise<void>((resolve) => (step = resolve));
    return 'ok';
  });
  const running = runner.list()[0]!;
  assert.equal(running.unit, 'epochs');
  assert.equal(running.done, 3);
  // 2 epochs in 2 s since the first epoch report: 7 left, 7 s (not 55 s from the job's start).
  assert.equal(running.etaMs, 7000);
  step();
  assert.equal(await job, 'ok');
});

test('a second job under the same exclusive key is refused while the first runs', async () => {
  const runner = new JobRunner(() => {});
  let release!: () => void;
  const first = runner.run('sort', 'Sorting into /out', 's1', () => new Promise<void>((r) => (release = r)), {
    exclusive: 'files',
  });
  await assert.rejects(
    runner.run('undo', 'Undoing the sort', 'u1', async () => {}, { exclusive: 'files' }),
    (error: SortaError) =>
      error.code === 'conflict' && /Sorting into \/out is already running/.test(error.message),
  );
  release();
  await first;
  await runner.run('undo', 'Undoing the sort', 'u2', async () => {}, { exclusive: 'files' });
  assert.deepEqual(
    runner.recent().map((job) => [job.jobId, job.state]),
    [
      ['u2', 'done'],
      ['s1', 'done'],
    ],
  );
});
