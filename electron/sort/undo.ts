/**
 * Undo of a sort: every file Sorta copied or moved goes back, journaled like the sort itself (an 'undo' job whose
 * operation n undoes the sort's operation n), so an interrupted undo is finished by the next command.
 * - a move is moved back (the same never-replace steps), unless the original path is now taken by another file: then
 *   both are left and the conflict is reported;
 * - a copy is removed only when its bytes still equal the journaled SHA-256 and the original is still there with them
 *   (otherwise it is kept and reported); when the original is gone, the copy is moved back in its place.
 */
import { dirname } from 'node:path';
import {
  childJobs,
  createJob,
  fileOpBySeq,
  fileOps,
  getJob,
  inTransaction,
  insertFileOps,
  latestUndoableSortJob,
  setJobState,
  type FileOp,
  type Job,
  type NewFileOp,
} from '../store/jobs-repo.js';
import type { Project } from '../store/project.js';
import { SortaError } from '../shared/errors.js';
import { finishOp, type OpResult } from './file-op.js';
import { moveCopyBack } from './settle-op.js';
import { hashIfFile, kindOf, removeEmptyDir } from './fs-ops.js';
import { currentOwner } from './owner.js';
import { runPlannedOps, type SortProgress } from './sort.js';

export interface UndoOutcome {
  /** The sort job undone. */
  jobId: number;
  /** The journal of this undo. */
  undoJobId: number;
  /** Files back at their original path (moves moved back, copies removed). */
  restored: number;
  /** Files that could not be restored, with the reason; nothing was overwritten or deleted for them. */
  problems: { file: string; error: string }[];
}

export interface UndoOptions {
  /** The sort job to undo; the newest sort with files in place by default. */
  jobId?: number;
  signal?: AbortSignal;
  onProgress?: (progress: SortProgress) => void;
}

export async function undoSort(project: Project, options: UndoOptions = {}): Promise<UndoOutcome> {
  let job = options.jobId !== undefined ? getJob(project, options.jobId) : latestUndoableSortJob(project);
  // A classify job's id stands for its newest sort.
  if (job?.kind === 'classify') job = childJobs(project, job.id, 'sort')[0] ?? job;
  if (!job)
    throw new SortaError(
      'not-found',
      options.jobId !== undefined
        ? `There is no job ${options.jobId} in ${project.path}.`
        : `There is no sort to undo in ${project.path}.`,
    );
  if (job.kind !== 'sort')
    throw new SortaError(
      'invalid-input',
      job.kind === 'classify'
        ? `Job ${job.id} classified files but sorted none; there is nothing to undo.`
        : `Job ${job.id} is an ${job.kind} job; only a sort (classify --sort-into) can be undone.`,
    );
  if (job.state === 'running' || job.state === 'planned')
    throw new SortaError('conflict', `Job ${job.id} is still running; undo it once it has finished.`);
  if (childJobs(project, job.id, 'undo').some((undo) => undo.state === 'running'))
    throw new SortaError('conflict', `Job ${job.id} is being undone by another Sorta process right now.`);

  const undoOps: NewFileOp[] = [];
  for (const op of fileOps(project, job.id, ['done'])) {
    if (op.op === 'move') {
      undoOps.push({ seq: op.seq, op: 'move', source: op.dest, dest: op.source });
      continue;
    }
    // A copy: remove it when the original is still there, else put the copy back in the original's place.
    const originalGone = kindOf(op.source) === 'missing';
    undoOps.push({ seq: op.seq, op: originalGone ? 'move' : 'remove', source: op.dest, dest: op.source });
  }
  const undoJobId = inTransaction(project, () => {
    const id = createJob(project, {
      kind: 'undo',
      state: 'running',
      parentJobId: job.id,
      sourceDir: job.outDir,
      outDir: job.sourceDir,
      params: { owner: currentOwner() },
    });
    insertFileOps(project, id, undoOps);
    return id;
  });
  return continueUndo(project, getJob(project, undoJobId)!, options);
}

/** Runs an undo job's remaining operations and closes it (also used by recovery to finish an interrupted undo). */
export async function continueUndo(
  project: Project,
  undoJob: Job,
  options: Pick<UndoOptions, 'signal' | 'onProgress'> = {},
): Promise<UndoOutcome> {
  const sortJobId = undoJob.parentJobId!;
  const ctx = { project, jobId: undoJob.id, undoesJobId: sortJobId };
  const run = await runPlannedOps(project, undoJob.id, sortJobId, options, (op) => {
    const refusal = checkUndoable(project, sortJobId, op);
    if (refusal === 'move-back') return moveCopyBack(ctx, op);
    return refusal ? finishOp(ctx, op, refusal) : null;
  });
  const ops = fileOps(project, undoJob.id);
  const problems = ops
    .filter((op) => op.state === 'failed')
    .map((op) => ({ file: op.dest, error: op.error ?? 'failed' }));
  const restored = ops.filter((op) => op.state === 'done').length;
  for (const op of ops) if (op.state === 'done') removeEmptyDir(dirname(op.source));
  if (undoJob.sourceDir) removeEmptyDir(undoJob.sourceDir);
  inTransaction(project, () => {
    setJobState(
      project,
      undoJob.id,
      run.cancelled ? 'cancelled' : problems.length ? 'failed' : 'done',
      problems.length ? `${problems.length} file(s) could not be restored` : null,
    );
    if (!run.cancelled && fileOps(project, sortJobId, ['done']).length === 0)
      setJobState(project, sortJobId, 'undone');
  });
  return { jobId: sortJobId, undoJobId: undoJob.id, restored, problems };
}

/**
 * Why an undo operation must not run now (the world changed since the sort), null when it may, or 'move-back' for a
 * copy to remove whose original is gone since the undo was planned (the copy then takes the original's place).
 */
function checkUndoable(project: Project, sortJobId: number, op: FileOp): OpResult | 'move-back' | null {
  const sorted = fileOpBySeq(project, sortJobId, op.seq);
  const sortedKind = kindOf(op.source);
  if (sortedKind === 'missing')
    return {
      state: 'failed',
      error: `${op.source} is no longer there (moved or deleted since the sort); nothing to put back at ${op.dest}`,
    };
  if (op.op === 'move') {
    if (kindOf(op.dest) !== 'missing')
      return {
        state: 'failed',
        error: `${op.dest} is taken by another file now; both were left as they are (the sorted one is ${op.source})`,
      };
    return null;
  }
  // remove: only an unchanged copy of an original that is still there.
  const copy = hashIfFile(op.source);
  if (!copy || copy.sha256 !== sorted?.sha256)
    return { state: 'failed', error: `${op.source} changed since Sorta copied it; it was kept` };
  if (kindOf(op.dest) === 'missing') return 'move-back';
  const original = hashIfFile(op.dest);
  if (!original || original.sha256 !== sorted?.sha256)
    return {
      state: 'failed',
      error: `${op.dest} is gone or changed since the sort, so its copy ${op.source} was kept`,
    };
  return null;
}
