/**
 * Crash recovery, run at the start of every command on a project: each job a crash or a kill left 'running' is
 * settled from the journal and the filesystem.
 * - An operation left 'started' is finished when its content is already complete at the destination (the source of a
 *   move is then removed), else rolled back (its temp removed, the source untouched). Either way every file is present
 *   exactly once by content, at its source or its destination.
 * - Then the job is finished: a sort runs its remaining planned operations (the plan was checked and journaled as a
 *   whole before the first file was touched), an undo runs its remaining ones.
 * - A job interrupted while classifying (no file touched yet) is marked failed.
 * A job whose process is still alive on this machine (another window, another command) is left alone.
 */
import { fileOps, getJob, setJobState, unfinishedJobs, type JobKind } from '../store/jobs-repo.js';
import type { Project } from '../store/project.js';
import { settleStartedOp } from './settle-op.js';
import { ownedByAnotherLiveProcess } from './owner.js';
import { runPlannedOps } from './sort.js';
import { continueUndo, type UndoOutcome } from './undo.js';

export interface RecoveredJob {
  jobId: number;
  kind: JobKind;
  /** 'finished': its file operations were completed; 'closed': it had touched no file and was marked failed. */
  action: 'finished' | 'closed';
  /** Operations that were in flight when the process stopped. */
  interrupted: number;
  /** Operations that could not be completed, with the reason (their files are where they were). */
  problems: { file: string; error: string }[];
  /** For an undo job: what finishing it did. */
  undo?: UndoOutcome;
}

export async function recoverInterruptedJobs(project: Project): Promise<RecoveredJob[]> {
  const recovered: RecoveredJob[] = [];
  for (const job of unfinishedJobs(project, ['classify', 'sort', 'undo'])) {
    if (ownedByAnotherLiveProcess(job.params)) continue; // still running elsewhere, not interrupted
    const ops = fileOps(project, job.id);
    if (ops.length === 0) {
      setJobState(project, job.id, 'failed', 'interrupted before any file was touched');
      recovered.push({ jobId: job.id, kind: job.kind, action: 'closed', interrupted: 0, problems: [] });
      continue;
    }
    const undoesJobId = job.kind === 'undo' ? job.parentJobId : null;
    const inFlight = ops.filter((op) => op.state === 'started');
    for (const op of inFlight) settleStartedOp({ project, jobId: job.id, undoesJobId }, op);
    let problems: RecoveredJob['problems'];
    let undo: UndoOutcome | undefined;
    if (job.kind === 'undo') {
      undo = await continueUndo(project, getJob(project, job.id)!);
      problems = undo.problems;
    } else {
      await runPlannedOps(project, job.id, null);
      problems = fileOps(project, job.id, ['failed']).map((op) => ({
        file: op.source,
        error: op.error ?? 'failed',
      }));
      setJobState(
        project,
        job.id,
        'done',
        `interrupted, then finished by recovery${problems.length ? `; ${problems.length} file(s) could not be sorted` : ''}`,
      );
    }
    recovered.push({
      jobId: job.id,
      kind: job.kind,
      action: 'finished',
      interrupted: inFlight.length,
      problems,
      ...(undo ? { undo } : {}),
    });
  }
  return recovered;
}
