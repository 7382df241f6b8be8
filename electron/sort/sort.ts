/**
 * Sorting a classified folder: plan (nothing touched), journal the whole plan in one transaction, then run its
 * operations one by one, each journaled before it happens (see file-op.ts). Cancellable between files.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  createJob,
  fileOps,
  getJob,
  insertFileOps,
  insertPredictions,
  jobPredictions,
  setJobState,
  setJobTarget,
  updateJobParams,
  type FileOp,
  type JobPrediction,
  type JobState,
} from '../store/jobs-repo.js';
import type { Project } from '../store/project.js';
import { SortaError } from '../shared/errors.js';
import { runFileOp, type OpContext, type OpResult } from './file-op.js';
import { checkSortTarget } from './paths.js';
import { planSort, type SortMode, type SortPlan } from './plan.js';

export interface SortProgress {
  done: number;
  total: number;
  file: string;
}

export interface SortOptions {
  outDir: string;
  threshold: number;
  mode: SortMode;
  /** Plan and report only: nothing is created, copied or moved. */
  dryRun?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: SortProgress) => void;
}

export interface SortOutcome {
  jobId: number;
  plan: SortPlan;
  dryRun: boolean;
  state: JobState;
  /** Files now in each destination folder (class name or `_unsure`), identical ones already there included. */
  sorted: Record<string, number>;
  /** Operations that could not be done, with the reason; their files are untouched. */
  failures: { file: string; error: string }[];
}

/** Creates a job holding a folder's predictions (the classify step's result, or a test's). */
export function recordPredictionJob(
  project: Project,
  job: {
    kind: 'classify' | 'sort';
    sourceDir: string;
    modelId?: number | null;
    outDir?: string | null;
    params?: Record<string, unknown>;
    predictions: readonly JobPrediction[];
  },
): number {
  return project.db.transaction(() => {
    const id = createJob(project, {
      kind: job.kind,
      state: 'running',
      modelId: job.modelId ?? null,
      sourceDir: job.sourceDir,
      outDir: job.outDir ?? null,
      params: job.params ?? {},
    });
    insertPredictions(project, id, job.predictions);
    return id;
  })();
}

/**
 * Sorts the files of a job's predictions (files with an error are left alone). Refuses a dangerous output folder
 * before anything is touched. On a dry run the plan is returned and the job stays without file operations.
 */
export async function sortJob(project: Project, jobId: number, options: SortOptions): Promise<SortOutcome> {
  const job = getJob(project, jobId);
  if (!job?.sourceDir)
    throw new SortaError('not-found', `Job ${jobId} does not exist or has no source folder.`);
  const dryRun = options.dryRun ?? false;
  const target = checkSortTarget(job.sourceDir, options.outDir, { dryRun });
  const candidates = jobPredictions(project, jobId)
    .filter((p) => p.error === null && p.label !== null && p.confidence !== null)
    .map((p) => ({ path: p.path, label: p.label!, confidence: p.confidence! }));
  const plan = planSort(candidates, { ...target, threshold: options.threshold, mode: options.mode });
  const params = { ...job.params, threshold: options.threshold, mode: options.mode, dryRun };
  if (dryRun) {
    project.db.transaction(() => {
      updateJobParams(project, jobId, params);
      setJobState(project, jobId, 'done');
    })();
    return { jobId, plan, dryRun, state: 'done', sorted: { ...plan.counts }, failures: [] };
  }
  project.db.transaction(() => {
    setJobTarget(project, jobId, 'sort', target.outDir);
    updateJobParams(project, jobId, params);
    insertFileOps(
      project,
      jobId,
      plan.ops.map((op) => ({ seq: op.seq, op: op.op, source: op.source, dest: op.dest, state: op.state })),
    );
  })();
  const run = await runPlannedOps(project, jobId, null, options);
  const states = new Map(fileOps(project, jobId).map((op) => [op.seq, op]));
  const sorted: Record<string, number> = {};
  const failures: SortOutcome['failures'] = [];
  for (const op of plan.ops) {
    const final = states.get(op.seq);
    if (final?.state === 'done' || final?.state === 'skipped_identical')
      sorted[op.folder] = (sorted[op.folder] ?? 0) + 1;
    else if (final?.state === 'failed') failures.push({ file: op.file, error: final.error ?? 'failed' });
  }
  const state: JobState = run.cancelled ? 'cancelled' : 'done';
  setJobState(
    project,
    jobId,
    state,
    failures.length ? `${failures.length} file(s) could not be sorted` : null,
  );
  return { jobId, plan, dryRun, state, sorted, failures };
}

/**
 * Runs a job's operations that are still 'planned', in order, yielding to the event loop between files so progress
 * is reported and a cancel is seen. Returns whether it stopped because of the signal.
 */
export async function runPlannedOps(
  project: Project,
  jobId: number,
  undoesJobId: number | null,
  options: { signal?: AbortSignal; onProgress?: (progress: SortProgress) => void } = {},
  /** Checks an operation just before it runs; a non-null result means it settled the operation itself. */
  prepare?: (op: FileOp) => OpResult | null,
): Promise<{ cancelled: boolean }> {
  const ctx: OpContext = { project, jobId, undoesJobId };
  const planned = fileOps(project, jobId, ['planned']);
  let done = 0;
  for (const op of planned) {
    if (options.signal?.aborted) return { cancelled: true };
    if (!prepare?.(op)) runFileOp(ctx, op);
    done++;
    options.onProgress?.({ done, total: planned.length, file: op.source });
    await nextTurn();
  }
  return { cancelled: false };
}
