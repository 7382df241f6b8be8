/**
 * The renderer's job bookkeeping, compiled with Svelte's compiler as the app is: every job's end gives exactly one
 * notice whichever report comes first (the call's reply, the `job.finished` event, `jobs.recent` after a reload),
 * a reload reattaches to a running fine-tune with its curves, a call cut off by a lost server does not end its
 * job, and Classify & sort follows the chosen folder and refuses to sort nothing.
 */
import assert from 'node:assert/strict';
import { register } from 'node:module';
import test from 'node:test';
import type { SortaClient } from '../../electron/contract/client.js';
import type { EventOf, MethodName, RunningJob } from '../../electron/contract/index.js';
import { SortPaths } from '../../renderer/src/lib/sort-paths.js';

register('../helpers/svelte-runes-loader.mjs', import.meta.url);
// The state classes use runes, so the root tsconfig cannot check them: svelte-check does (renderer/tsconfig.json),
// and here they are loaded untyped through the hook above.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Untyped = any;
const lib = (file: string): Promise<Untyped> =>
  import(new URL(`../../renderer/src/lib/${file}`, import.meta.url).href);
const { Jobs, outcomeFromEvent } = await lib('jobs.svelte.ts');
const { Notifier } = await lib('notifier.svelte.ts');
const { Trainer } = await lib('trainer.svelte.ts');
const { Sorter } = await lib('sorter.svelte.ts');

/** A client whose methods answer from `answers`; every call is recorded. */
function fakeClient(answers: Partial<Record<MethodName, (input: unknown) => unknown>>) {
  const calls: { method: MethodName; input: unknown }[] = [];
  const client = {
    methods: [],
    async invoke(method: MethodName, input: unknown = {}) {
      calls.push({ method, input });
      const answer = answers[method];
      if (!answer) throw Object.assign(new Error(`${method} is not faked`), { code: 'unsupported' });
      return answer(input);
    },
    on: () => () => {},
    onAny: () => () => {},
    onConnection: () => () => {},
    mediaUrl: () => '',
  } as unknown as SortaClient;
  return { client, calls };
}

function setup(answers: Partial<Record<MethodName, (input: unknown) => unknown>> = {}) {
  const jobs = new Jobs();
  const notifier = new Notifier();
  const acknowledged: string[] = [];
  let offline = false;
  jobs.configure({
    fallback: (o: { title: string; state: string }) => notifier.info(`${o.title}: ${o.state}`),
    acknowledge: (id: string) => acknowledged.push(id),
    offline: () => offline,
  });
  const { client, calls } = fakeClient(answers);
  return { jobs, notifier, acknowledged, client, calls, goOffline: (value: boolean) => (offline = value) };
}

const finished = (jobId: string, extra: Partial<EventOf<'job.finished'>> = {}): EventOf<'job.finished'> => ({
  type: 'job.finished',
  jobId,
  kind: 'export',
  state: 'done',
  error: null,
  title: 'Copying labelled images',
  result: { count: 3 },
  ...extra,
});

test('a job end is shown once, whichever report comes first, and acknowledged once', async () => {
  const { jobs, notifier, acknowledged } = setup();
  await jobs.report(outcomeFromEvent(finished('a')));
  await jobs.report(outcomeFromEvent(finished('a')));
  await jobs.report({ ...outcomeFromEvent(finished('a')), state: 'failed' });
  assert.deepEqual(
    notifier.toasts.map((t: { title: string }) => t.title),
    ['Copying labelled images: done'],
  );
  assert.deepEqual(acknowledged, ['a']);
  // A running list fetched before the end arrived does not bring the job back.
  const stale = { jobId: 'a', kind: 'export', title: 'x', done: 1, total: 2 } as RunningJob;
  assert.deepEqual(jobs.reset([stale]), []);
  assert.equal(jobs.running.size, 0);
});

test('a call cut off by a lost server does not end its job', async () => {
  const { jobs, notifier, acknowledged, goOffline } = setup();
  goOffline(true);
  const cut = { ...outcomeFromEvent(finished('b')), state: 'failed' as const };
  await jobs.report({ ...cut, error: { code: 'io', message: 'Disconnected' }, result: null });
  assert.equal(jobs.isSettled('b'), false);
  goOffline(false);
  await jobs.report(outcomeFromEvent(finished('b', { state: 'cancelled', error: null })));
  assert.deepEqual(
    notifier.toasts.map((t: { title: string }) => t.title),
    ['Copying labelled images: cancelled'],
  );
  assert.deepEqual(acknowledged, ['b']);
});

test('a reloaded page reattaches to a running fine-tune, cancels it and shows its end', async () => {
  const s = setup({
    'jobs.cancel': () => ({ cancelled: true }),
  });
  const trainer = new Trainer(s.client, s.jobs, s.notifier);
  const epoch = (n: number): EventOf<'train.epoch'> => ({
    type: 'train.epoch',
    jobId: 'train-1',
    epoch: n,
    epochs: 50,
    trainLoss: 1 / n,
    trainAccuracy: 0.5,
    valLoss: null,
    valAccuracy: null,
    etaMs: 1000,
  });
  const running: RunningJob = {
    jobId: 'train-1',
    kind: 'train',
    title: 'Fine-tuning',
    startedAt: 0,
    done: 2,
    total: 50,
    unit: 'epochs',
    etaMs: 4800,
    message: 'training',
    input: {},
    phase: { type: 'train.phase', jobId: 'train-1', phase: 'training', done: 0, total: 50 },
    epochs: [epoch(1), epoch(2)],
  };
  for (const job of s.jobs.reset([running])) trainer.attach(job);
  assert.equal(trainer.running, true);
  assert.equal(trainer.job?.etaMs, 4800);
  assert.deepEqual(
    trainer.epochs.map((e: { epoch: number }) => e.epoch),
    [1, 2],
  );
  trainer.handle(epoch(3));
  trainer.handle({ ...epoch(4), jobId: 'someone-else' });
  assert.deepEqual(
    trainer.epochs.map((e: { epoch: number }) => e.epoch),
    [1, 2, 3],
  );
  await trainer.cancel();
  assert.deepEqual(s.calls.at(-1), { method: 'jobs.cancel', input: { jobId: 'train-1' } });
  await s.jobs.report(
    outcomeFromEvent(finished('train-1', { kind: 'train', state: 'cancelled', title: 'Fine-tuning' })),
  );
  assert.equal(trainer.running, false);
  assert.deepEqual(
    s.notifier.toasts.map((t: { title: string }) => t.title),
    ['Fine-tuning cancelled'],
  );
});

test('an empty folder says so and leaves nothing to sort', async () => {
  const s = setup({ 'jobs.history': () => [] });
  const sorter = new Sorter(s.client, s.jobs, s.notifier);
  sorter.jobId = 'classify-1';
  await s.jobs.report({
    jobId: 'classify-1',
    kind: 'classify',
    title: 'Classifying /pictures/empty',
    state: 'done',
    error: null,
    result: { job: 4, modelId: 1, count: 0, errors: [] },
  });
  assert.equal(sorter.result, null);
  assert.deepEqual(
    s.notifier.toasts.map((t: { kind: string; title: string }) => [t.kind, t.title]),
    [['info', 'No images found in /pictures/empty']],
  );
  // Even with a plan of 0 files on screen, Sort does nothing.
  sorter.result = { job: 4, modelId: 1, count: 0, errors: [] };
  sorter.outDir = '/pictures/empty-sorted';
  sorter.plan = { counts: {}, collisions: 0, identical: 0, total: 0, preview: [] };
  await sorter.sort();
  assert.ok(!s.calls.some((c) => c.method === 'sort.run'));
});

test('the destination and CSV paths follow the chosen folder unless the person typed their own', () => {
  const paths = new SortPaths();
  let fields = paths.follow('/p/inbox', { outDir: '', csvPath: '' });
  assert.deepEqual(fields, { outDir: '/p/inbox-sorted', csvPath: '/p/inbox-sorted-predictions.csv' });
  fields = paths.follow('/p/other/', fields);
  assert.deepEqual(fields, { outDir: '/p/other-sorted', csvPath: '/p/other-sorted-predictions.csv' });
  fields = paths.follow('/p/third', { ...fields, outDir: '/mine' });
  assert.deepEqual(fields, { outDir: '/mine', csvPath: '/p/third-sorted-predictions.csv' });
});

test('toasts dismiss themselves, errors later, repeats count up, and the history keeps them', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const notifier = new Notifier();
  notifier.success('Saved');
  notifier.error('Could not plan the sort', { code: 'invalid-input', message: 'bad folder' });
  notifier.error('Could not plan the sort', { code: 'invalid-input', message: 'bad folder' });
  assert.equal(notifier.toasts.length, 2, 'the same error again does not stack');
  assert.equal(notifier.toasts[1].repeats, 2);
  t.mock.timers.tick(4000);
  assert.deepEqual(
    notifier.toasts.map((toast: { title: string }) => toast.title),
    ['Could not plan the sort'],
  );
  t.mock.timers.tick(12_000);
  assert.equal(notifier.toasts.length, 0);
  assert.deepEqual(
    notifier.history.map((toast: { title: string }) => toast.title),
    ['Could not plan the sort', 'Saved'],
  );
  // Never more than three on screen: the oldest makes room.
  for (const title of ['a', 'b', 'c', 'd']) notifier.info(title);
  assert.deepEqual(
    notifier.toasts.map((toast: { title: string }) => toast.title),
    ['b', 'c', 'd'],
  );
});

test('a classification running when the page loads is reattached, and its end shows its results', async () => {
  const s = setup({
    'classify.results': () => ({ total: 2, offset: 0, items: [{ id: 1 }, { id: 2 }] }),
    'sort.plan': () => ({ counts: { bag: 2 }, collisions: 0, identical: 0, total: 2, preview: [] }),
    'jobs.history': () => [],
  });
  const sorter = new Sorter(s.client, s.jobs, s.notifier);
  const running = {
    jobId: 'classify-9',
    kind: 'classify',
    title: 'Classifying /p/inbox',
    startedAt: 0,
    done: 3,
    total: 10,
    unit: 'images',
    etaMs: null,
    message: null,
    input: { dir: '/p/inbox', review: false },
    phase: null,
    epochs: [],
  } satisfies RunningJob;
  for (const job of s.jobs.reset([running])) sorter.attach(job);
  assert.equal(sorter.jobId, 'classify-9');
  assert.equal(sorter.dir, '/p/inbox');
  assert.equal(sorter.job?.done, 3);
  await s.jobs.report(
    outcomeFromEvent(
      finished('classify-9', {
        kind: 'classify',
        title: 'Classifying /p/inbox',
        result: { job: 7, modelId: 1, count: 2, errors: [] },
      }),
    ),
  );
  assert.equal(sorter.jobId, null);
  assert.equal(sorter.result?.job, 7);
  assert.equal(sorter.predictionTotal, 2);
  assert.equal(sorter.outDir, '/p/inbox-sorted');
  assert.equal(sorter.plan?.total, 2);
  assert.deepEqual(
    s.notifier.toasts.map((t: { title: string }) => t.title),
    ['Classified 2 files'],
  );
});
