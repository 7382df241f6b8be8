/** classify.*, sort.*, jobs.history: batch classification, the journaled sort with its preview, and undo. */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ClassifyResult, JobRecord, SortPlan, SortResult, UndoResult } from '../contract/index.js';
import { describeFsError, SortaError } from '../shared/errors.js';
import { classifyFolder } from '../sort/classify.js';
import { manifestCsv, manifestRows } from '../sort/manifest.js';
import { sortClassified } from '../sort/sort.js';
import { undoSort } from '../sort/undo.js';
import { jobHistory, type JobFacts } from '../store/job-history.js';
import { getJob, type Job } from '../store/jobs-repo.js';
import type { Project } from '../store/project.js';
import { queryPredictions } from '../store/ui-queries.js';
import type { AppContext } from './context.js';
import type { Registry } from './registry.js';

/** Sorts and undos move the user's files: one at a time, so that an undo never races the sort it undoes. */
const FILES_EXCLUSIVE = 'files';

/** Operations shown in the sort preview (the counts cover all of them). */
const PREVIEW_OPS = 200;

function classifyJob(project: Project, id: number) {
  const job = getJob(project, id);
  if (!job || job.kind !== 'classify' || !job.sourceDir)
    throw new SortaError('not-found', `There is no classify job ${id} in ${project.path}.`);
  return job;
}

function writeNew(path: string, text: string): void {
  try {
    writeFileSync(path, text, { flag: 'wx' });
  } catch (error) {
    const exists = (error as { code?: string }).code === 'EEXIST';
    throw new SortaError(
      exists ? 'conflict' : 'io',
      exists
        ? `${path} already exists; choose another name.`
        : `Cannot write ${path}: ${describeFsError(error)}.`,
    );
  }
}

function toJobRecord({ job, facts }: { job: Job; facts: JobFacts }): JobRecord {
  const ops = facts.ops;
  const mode = job.params.mode;
  const threshold = job.params.threshold;
  const opCount = ops.planned + ops.started + ops.done + ops.skipped_identical + ops.failed + ops.undone;
  return {
    id: job.id,
    kind: job.kind,
    state: job.state,
    modelId: job.modelId,
    sourceDir: job.sourceDir,
    outDir: job.outDir,
    createdAt: job.createdAt,
    finishedAt: job.finishedAt,
    error: job.error,
    parentJobId: job.parentJobId,
    mode: mode === 'copy' || mode === 'move' ? mode : null,
    threshold: typeof threshold === 'number' ? threshold : null,
    files: job.kind === 'classify' ? facts.predictions : opCount,
    failed: job.kind === 'classify' ? facts.predictionErrors : ops.failed,
    placed: job.kind === 'sort' ? facts.placed : {},
    undoneFiles: job.kind === 'sort' ? ops.undone : 0,
    undoable: job.kind === 'sort' && ops.done > 0,
  };
}

export function setupSort(registry: Registry, ctx: AppContext): void {
  const changed = (...topics: ('jobs' | 'labels')[]) => ctx.emit({ type: 'data.changed', topics });

  registry.handle('classify.run', async ({ dir, modelId, review, jobId }) => {
    const project = ctx.project();
    const folder = resolve(dir);
    try {
      return await ctx.jobs.run(
        'classify',
        `Classifying ${folder}`,
        jobId,
        async (job): Promise<ClassifyResult> => {
          const outcome = await classifyFolder(project, folder, {
            modelId,
            review,
            signal: job.signal,
            onProgress: (p) => job.progress({ done: p.done, total: p.total, unit: 'images' }),
          });
          return {
            job: outcome.jobId,
            modelId: outcome.modelId ?? modelId ?? 0,
            count: outcome.predictions.length,
            errors: outcome.errors,
          };
        },
        { input: { dir: folder, modelId, review }, exclusive: 'classify' },
      );
    } finally {
      if (review) changed('jobs', 'labels');
      else changed('jobs');
    }
  });

  registry.handle('classify.results', async ({ job, offset, limit, order, label, maxConfidence }) => {
    const project = ctx.project();
    const source = classifyJob(project, job);
    const page = queryPredictions(project, job, { offset, limit, order, label, maxConfidence });
    return {
      total: page.total,
      offset,
      items: page.items.map((p) => ({
        id: p.id,
        path: join(source.sourceDir!, ...p.path.split('/')),
        file: p.path,
        label: p.label,
        confidence: p.confidence,
        probs: p.probs,
        error: p.error,
      })),
    };
  });

  registry.handle('classify.export', async ({ job, path, format }) => {
    const project = ctx.project();
    const rows = manifestRows(project, job);
    const target = resolve(path);
    writeNew(
      target,
      format === 'csv' ? manifestCsv(rows) : JSON.stringify({ job, predictions: rows }, null, 2) + '\n',
    );
    return { path: target };
  });

  registry.handle('sort.plan', async ({ job, outDir, threshold, mode }): Promise<SortPlan> => {
    const outcome = await sortClassified(ctx.project(), job, { outDir, threshold, mode, dryRun: true });
    const plan = outcome.plan;
    return {
      counts: plan.counts,
      collisions: plan.collisions.length,
      identical: plan.identical.length,
      total: plan.ops.length,
      preview: plan.ops.slice(0, PREVIEW_OPS).map((op) => ({ source: op.source, dest: op.dest })),
    };
  });

  registry.handle('sort.run', async ({ job, outDir, threshold, mode, jobId }) => {
    const project = ctx.project();
    try {
      return await ctx.jobs.run(
        'sort',
        `Sorting into ${outDir}`,
        jobId,
        async (handle): Promise<SortResult> => {
          const outcome = await sortClassified(project, job, {
            outDir,
            threshold,
            mode,
            signal: handle.signal,
            onProgress: (p) =>
              handle.progress({ done: p.done, total: p.total, unit: 'files', message: p.file }),
          });
          return {
            job: outcome.jobId!,
            sorted: outcome.sorted,
            skippedIdentical: outcome.plan.identical.length,
            errors: outcome.failures,
          };
        },
        { input: { job, outDir, threshold, mode }, exclusive: FILES_EXCLUSIVE },
      );
    } finally {
      changed('jobs');
    }
  });

  registry.handle('sort.undo', async ({ job, jobId }) => {
    const project = ctx.project();
    try {
      return await ctx.jobs.run(
        'undo',
        'Undoing the sort',
        jobId,
        async (handle): Promise<UndoResult> => {
          const outcome = await undoSort(project, {
            jobId: job,
            signal: handle.signal,
            onProgress: (p) =>
              handle.progress({ done: p.done, total: p.total, unit: 'files', message: p.file }),
          });
          return { job: outcome.jobId, restored: outcome.restored, errors: outcome.problems };
        },
        { input: { job }, exclusive: FILES_EXCLUSIVE },
      );
    } finally {
      changed('jobs');
    }
  });

  registry.handle('jobs.history', async () => jobHistory(ctx.project()).map(toJobRecord));
}
