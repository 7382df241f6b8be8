/**
 * Sorting a classified folder: plan (nothing touched), journal the whole plan in one transaction, then run its
 * operations one by one, each journaled before it happens (see file-op.ts). Cancellable between files.
 */
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  createJob,
  fileOpBySeq,
  fileOps,
  getJob,
  inTransaction,
  insertFileOps,
  insertPredictions,
  jobPredictions,
  setJobState,
  type FileOp,
  type JobPrediction,
  type JobState,
} from '../store/jobs-repo.js';
import type { Project } from '../store/project.js';
import { SortaError } from '../shared/errors.js';
import { finishOp, runFileOp, type OpContext, type OpResult } from './file-op.js';
import { settleStartedOp } from './settle-op.js';
import { currentOwner } from './owner.js';
import { listModels } from '../store/models-repo.js';
import { checkSortTarget, fsReason, linkedFolderOnPath } from './paths.js';
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
  /** The sort job (undo it with undoSort), or null on a dry run, which records nothing. */
  jobId: number | null;
  /** The classify job whose predictions were sorted. */
  classifyJobId: number;
  plan: SortPlan;
  dryRun: boolean;
  state: JobState | null;
  /** Files now in each destination folder (class name or `_unsure`), identical ones already there included. */
  sorted: Record<string, number>;
  /** Operations that could not be done, with the reason; their files are untouched. */
  failures: { file: string; error: string }[];
  /** Files not reached because the sort was cancelled (still where they were). */
  pending: string[];
  /** The folder (under the output folder) of each class that got files, and of `_unsure`. */
  folders: Record<string, string>;
}

/** Creates a classify job holding a folder's predictions (the classify step's result, or a test's). */
export function recordPredictionJob(
  project: Project,
  job: {
    sourceDir: string;
    modelId?: number | null;
    params?: Record<string, unknown>;
    predictions: readonly JobPrediction[];
    state?: JobState;
  },
): number {
  return inTransaction(project, () => {
    const id = createJob(project, {
      kind: 'classify',
      state: job.state ?? 'done',
      modelId: job.modelId ?? null,
      sourceDir: job.sourceDir,
      params: job.params ?? {},
    });
    insertPredictions(project, id, job.predictions);
    return id;
  });
}

/**
 * Sorts the files of a classify job's predictions (files with an error are left alone) as a new 'sort' job. Refuses
 * a dangerous output folder before anything is touched. The whole plan is journaled in the same transaction that
 * creates the job. A dry run returns the plan and records nothing.
 */
export async function sortClassified(
  project: Project,
  classifyJobId: number,
  options: SortOptions,
): Promise<SortOutcome> {
  const classify = getJob(project, classifyJobId);
  if (!classify || classify.kind !== 'classify' || !classify.sourceDir)
    throw new SortaError('not-found', `There is no classify job ${classifyJobId} in ${project.path}.`);
  const dryRun = options.dryRun ?? false;
  const target = checkSortTarget(classify.sourceDir, options.outDir, { dryRun });
  const classified = jobPredictions(project, classifyJobId)
    .filter((p) => p.error === null && p.label !== null && p.confidence !== null)
    .map((p) => ({ path: p.path, label: p.label!, confidence: p.confidence! }));
  const { candidates, refused } = refuseLinkedFolders(target.sourceDir, classified);
  const classes = listModels(project).find((m) => m.id === classify.modelId)?.classes ?? [];
  const plan = planSort(candidates, { ...target, threshold: options.threshold, mode: options.mode, classes });
  const base = { classifyJobId, plan, dryRun, folders: plan.folders };
  if (dryRun)
    return { ...base, jobId: null, state: null, sorted: { ...plan.counts }, failures: refused, pending: [] };

  const jobId = inTransaction(project, () => {
    const id = createJob(project, {
      kind: 'sort',
      state: 'running',
      modelId: classify.modelId,
      sourceDir: target.sourceDir,
      outDir: target.outDir,
      parentJobId: classifyJobId,
      params: { threshold: options.threshold, mode: options.mode, owner: currentOwner() },
    });
    insertFileOps(
      project,
      id,
      plan.ops.map((op) => ({ seq: op.seq, op: op.op, source: op.source, dest: op.dest, state: op.state })),
    );
    return id;
  });
  const run = await runPlannedOps(project, jobId, null, options);
  const states = new Map(fileOps(project, jobId).map((op) => [op.seq, op]));
  const sorted: Record<string, number> = {};
  const failures: SortOutcome['failures'] = [...refused];
  const pending: string[] = [];
  for (const op of plan.ops) {
    const final = states.get(op.seq);
    if (final?.state === 'done' || final?.state === 'skipped_identical')
      sorted[op.folder] = (sorted[op.folder] ?? 0) + 1;
    else if (final?.state === 'failed') failures.push({ file: op.file, error: final.error ?? 'failed' });
    else pending.push(op.file);
  }
  const state: JobState = run.cancelled ? 'cancelled' : 'done';
  setJobState(
    project,
    jobId,
    state,
    failures.length ? `${failures.length} file(s) could not be sorted` : null,
  );
  return { ...base, jobId, state, sorted, failures, pending };
}

/** Files reached through a symbolically linked folder are not sorted (they may lie outside the folder). */
function refuseLinkedFolders<T extends { path: string }>(
  sourceDir: string,
  candidates: readonly T[],
): { candidates: T[]; refused: SortOutcome['failures'] } {
  const kept: T[] = [];
  const refused: SortOutcome['failures'] = [];
  for (const candidate of candidates) {
    const linked = linkedFolderOnPath(sourceDir, candidate.path);
    if (linked === null) kept.push(candidate);
    else
      refused.push({
        file: candidate.path,
        error: `${join(sourceDir, linked)} is a symbolic link to a folder; Sorta does not sort files through linked folders, so it was left in place`,
      });
  }
  return { candidates: kept, refused };
}

/**
 * One file's operation threw where no step expected it (an odd name, a filesystem error on a check): that file fails
 * with the reason and the job goes on. If it had started, the filesystem decides first where its content is.
 */
function failUnexpected(ctx: OpContext, op: FileOp, error: unknown): void {
  const message = `${op.source} → ${op.dest}: ${fsReason(error)}; it was left in place`;
  const now = fileOpBySeq(ctx.project, ctx.jobId, op.seq);
  if (now?.state === 'started') {
    try {
      if (settleStartedOp(ctx, now).state !== 'planned') return;
    } catch {
      // Left 'started' with its temp journaled: the next command's recovery looks again.
      return;
    }
  }
  finishOp(ctx, op, { state: 'failed', error: message });
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
    try {
      if (!prepare?.(op)) runFileOp(ctx, op);
    } catch (error) {
      failUnexpected(ctx, op, error);
    }
    done++;
    options.onProgress?.({ done, total: planned.length, file: op.source });
    await nextTurn();
  }
  return { cancelled: false };
}
