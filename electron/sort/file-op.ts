/**
 * One journaled file operation, and how to settle one that a crash interrupted.
 *
 * Order of every operation: the journal row becomes 'started' with the content's size and SHA-256 and the temp name
 * (committed, synchronous=FULL) → the filesystem steps → the row becomes 'done'. The filesystem steps are chosen so
 * that at every instant each file's content exists at least once under a name the journal knows:
 * - copy: copy to `.sorta-tmp-<job>-<seq>` in the destination folder, fsync, verify size + SHA-256, hard-link the temp
 *   to its final name (a link never replaces an existing file), remove the temp.
 * - move on one filesystem: hard-link the source to the destination (never replaces), fsync the folder, unlink the
 *   source. Across filesystems (EXDEV, or where hard links are refused): the copy steps above, then unlink the source.
 * - where the filesystem has no hard links at all (FAT, exFAT), the verified temp is renamed to its final name after
 *   checking that the name is free.
 * - remove (only a copy Sorta made, when undoing): unlink.
 */
import { dirname, join } from 'node:path';
import {
  fileOpBySeq,
  inTransaction,
  markFileOpStarted,
  setFileOpState,
  type FileOp,
  type FileOpState,
} from '../store/jobs-repo.js';
import type { Project } from '../store/project.js';
import {
  copyToNewFile,
  fsyncDir,
  hashFile,
  hashIfFile,
  kindOf,
  linkNoReplace,
  makeDirs,
  removeFile,
  removeIfPresent,
  renameIfAbsent,
  sameFile,
  stepBoundary,
} from './fs-ops.js';
import { fsReason } from './paths.js';

export interface OpContext {
  project: Project;
  /** The job the operation belongs to. */
  jobId: number;
  /** For an undo job: the sort job it undoes (its operation with the same seq becomes 'undone'). */
  undoesJobId: number | null;
}

export interface OpResult {
  state: FileOpState;
  error: string | null;
}

/** Codes for which a hard link cannot do the move and a verified copy must. */
const LINK_UNSUPPORTED = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS']);

export function tempNameFor(jobId: number, op: Pick<FileOp, 'seq' | 'dest'>): string {
  return join(dirname(op.dest), `.sorta-tmp-${jobId}-${op.seq}`);
}

/** Records an operation's final state (and, for an undo, its sort operation as 'undone') in one transaction. */
export function finishOp(ctx: OpContext, op: FileOp, result: OpResult): OpResult {
  inTransaction(ctx.project, () => {
    setFileOpState(ctx.project, op.id, result.state, result.error);
    if (result.state === 'done' && ctx.undoesJobId !== null) {
      const undone = fileOpBySeq(ctx.project, ctx.undoesJobId, op.seq);
      if (undone) setFileOpState(ctx.project, undone.id, 'undone');
    }
  });
  return result;
}

/** Runs one planned operation to its end: 'done', 'skipped_identical' or 'failed' (with the reason). */
export function runFileOp(ctx: OpContext, op: FileOp): OpResult {
  if (kindOf(op.source) !== 'file')
    return finishOp(ctx, op, { state: 'failed', error: `${op.source}: ${describeMissing(op.source)}` });
  let facts: { size: number; sha256: string };
  try {
    facts = hashFile(op.source);
  } catch (error) {
    return finishOp(ctx, op, { state: 'failed', error: `${op.source}: cannot read it (${fsReason(error)})` });
  }
  if (op.op === 'remove') {
    markFileOpStarted(ctx.project, op.id, { ...facts, temp: null });
    stepBoundary();
    try {
      removeFile(op.source);
    } catch (error) {
      return finishOp(ctx, op, {
        state: 'failed',
        error: `${op.source}: cannot remove it (${fsReason(error)})`,
      });
    }
    fsyncDir(dirname(op.source));
    return finishOp(ctx, op, { state: 'done', error: null });
  }

  try {
    makeDirs(dirname(op.dest));
  } catch (error) {
    return finishOp(ctx, op, {
      state: 'failed',
      error: `${dirname(op.dest)}: cannot create the folder (${fsReason(error)})`,
    });
  }
  const temp = tempNameFor(ctx.jobId, op);
  markFileOpStarted(ctx.project, op.id, { ...facts, temp });
  stepBoundary();

  if (op.op === 'move') {
    try {
      linkNoReplace(op.source, op.dest);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (code === 'EEXIST') return destinationTaken(ctx, op, facts.sha256);
      if (!LINK_UNSUPPORTED.has(code)) return failed(ctx, op, error);
      return moveByCopy(ctx, op, temp, facts.sha256);
    }
    fsyncDir(dirname(op.dest));
    stepBoundary();
    return removeSourceAfterMove(ctx, op);
  }

  const copied = copyVerified(ctx, op, temp, facts.sha256);
  if (copied) return copied;
  return finishOp(ctx, op, { state: 'done', error: null });
}

/** Copy → fsync → verify → link into place → remove temp. Returns a result only when it stopped early. */
function copyVerified(ctx: OpContext, op: FileOp, temp: string, sha256: string): OpResult | null {
  try {
    removeIfPresent(temp); // only ever ours: the name carries this job's id and this operation's seq
    copyToNewFile(op.source, temp);
    stepBoundary();
    const written = hashFile(temp);
    if (written.sha256 !== sha256) {
      removeFile(temp);
      return finishOp(ctx, op, {
        state: 'failed',
        error: `${op.source}: the copy did not match the original (it changed while being copied); nothing was changed`,
      });
    }
    let renamed = false;
    try {
      try {
        linkNoReplace(temp, op.dest);
      } catch (error) {
        if (!LINK_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
        renameIfAbsent(temp, op.dest); // no hard links here (FAT, exFAT, some shares)
        renamed = true;
      }
    } catch (error) {
      removeFile(temp);
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return destinationTaken(ctx, op, sha256);
      throw error;
    }
    fsyncDir(dirname(op.dest));
    stepBoundary();
    if (!renamed) {
      removeFile(temp);
      fsyncDir(dirname(op.dest));
    }
    return null;
  } catch (error) {
    removeIfPresent(temp);
    return failed(ctx, op, error);
  }
}

function moveByCopy(ctx: OpContext, op: FileOp, temp: string, sha256: string): OpResult {
  const stopped = copyVerified(ctx, op, temp, sha256);
  if (stopped) return stopped;
  stepBoundary();
  return removeSourceAfterMove(ctx, op);
}

function removeSourceAfterMove(ctx: OpContext, op: FileOp): OpResult {
  try {
    removeFile(op.source);
  } catch (error) {
    // The source folder refuses the removal (read-only): take back the new name so the file stays where it was.
    removeIfPresent(op.dest);
    fsyncDir(dirname(op.dest));
    return finishOp(ctx, op, {
      state: 'failed',
      error: `${op.source}: cannot remove it from its folder to complete the move (${fsReason(error)}); it was left in place`,
    });
  }
  fsyncDir(dirname(op.source));
  return finishOp(ctx, op, { state: 'done', error: null });
}

/** The destination name was taken after planning: identical content counts as already sorted, else it is refused. */
function destinationTaken(ctx: OpContext, op: FileOp, sha256: string): OpResult {
  const there = hashIfFile(op.dest);
  if (there?.sha256 === sha256) return finishOp(ctx, op, { state: 'skipped_identical', error: null });
  return finishOp(ctx, op, {
    state: 'failed',
    error: `${op.dest}: another file appeared there; nothing was overwritten and ${op.source} was left in place`,
  });
}

function failed(ctx: OpContext, op: FileOp, error: unknown): OpResult {
  return finishOp(ctx, op, { state: 'failed', error: `${op.source} → ${op.dest}: ${fsReason(error)}` });
}

function describeMissing(path: string): string {
  const kind = kindOf(path);
  return kind === 'missing'
    ? 'no such file (it may have been moved or deleted)'
    : `not a regular file (${kind})`;
}

/**
 * After a crash: decides from the filesystem whether a 'started' operation completed, finishes its last steps if its
 * content is already safe at the destination, or rolls it back to 'planned' (removing its temp) otherwise. Returns the
 * state the operation is left in.
 */
export function settleStartedOp(ctx: OpContext, op: FileOp): OpResult {
  const sha = op.sha256;
  const temp = op.temp;
  if (op.op === 'remove') {
    const there = hashIfFile(op.source);
    if (there && there.sha256 !== sha)
      return finishOp(ctx, op, {
        state: 'failed',
        error: `${op.source}: its content changed; it was not removed`,
      });
    if (there) removeFile(op.source);
    fsyncDir(dirname(op.source));
    return finishOp(ctx, op, { state: 'done', error: null });
  }

  const destComplete =
    (op.op === 'move' && sameFile(op.source, op.dest)) || hashIfFile(op.dest)?.sha256 === sha;
  if (destComplete) {
    if (temp) removeIfPresent(temp);
    if (op.op === 'move' && kindOf(op.source) === 'file') {
      // The content is safe at the destination; the source is the same file (a hard link) or the verified original.
      if (sameFile(op.source, op.dest) || hashFile(op.source).sha256 === sha) removeFile(op.source);
      fsyncDir(dirname(op.source));
    }
    return finishOp(ctx, op, { state: 'done', error: null });
  }

  if (kindOf(op.source) === 'file') {
    if (temp) removeIfPresent(temp);
    return rollBack(ctx, op);
  }
  // The source is gone and the destination does not hold it: only a verified temp can (never by our step order, but
  // a user may have moved the source meanwhile).
  if (op.op === 'move' && temp && hashIfFile(temp)?.sha256 === sha && kindOf(op.dest) === 'missing') {
    try {
      linkNoReplace(temp, op.dest);
      removeFile(temp);
    } catch (error) {
      if (!LINK_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
      renameIfAbsent(temp, op.dest);
    }
    fsyncDir(dirname(op.dest));
    return finishOp(ctx, op, { state: 'done', error: null });
  }
  if (temp) removeIfPresent(temp);
  return finishOp(ctx, op, {
    state: 'failed',
    error: `${op.source}: no longer there and not at ${op.dest} (moved by something else while Sorta was stopped)`,
  });
}

function rollBack(ctx: OpContext, op: FileOp): OpResult {
  setFileOpState(ctx.project, op.id, 'planned', null);
  return { state: 'planned', error: null };
}
