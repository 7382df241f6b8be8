/**
 * One journaled file operation.
 *
 * Order of every operation: the journal row becomes 'started' with the content's size and SHA-256 and the temp name
 * (committed, synchronous=FULL) → the filesystem steps → the row becomes 'done'. The filesystem steps are chosen so
 * that at every instant each file's content exists at least once under a name the journal knows:
 * - copy: copy to a temporary name in the destination folder that no other process can pick
 *   (`.sorta-tmp-<job>-<seq>-<pid>-<random>`, journaled before the file is created exclusively), fsync, verify
 *   size + SHA-256 through the open file, hard-link the temp to its final name (a link never replaces an existing
 *   file), check that the final name is the very file verified, remove the temp. Nothing removes a temp this process
 *   did not create; recovery removes only temps its journal recorded.
 * - move on one filesystem: hard-link the source to the destination (never replaces), fsync the folder, unlink the
 *   source. Across filesystems (EXDEV, or where hard links are refused): the copy steps above, then unlink the source.
 * - where the filesystem has no hard links at all (FAT, exFAT), the verified temp is renamed to its final name after
 *   checking that the name is free.
 * - remove (only a copy Sorta made, when undoing): unlink.
 * How an operation that a crash interrupted is settled: settle-op.ts.
 */
import { dirname } from 'node:path';
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
  closeFile,
  copyToNewFile,
  describeNonFile,
  fsyncDir,
  hashFile,
  hashIfFile,
  isSameOpenFile,
  kindOf,
  linkNoReplace,
  makeDirs,
  removeFile,
  removeIfOwn,
  removeIfPresent,
  renameIfAbsent,
  sameFile,
  stepBoundary,
  uniqueTempName,
  type OwnCopy,
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
export const LINK_UNSUPPORTED = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS']);

/** A fresh temporary name for an operation's copy, unique to this process and call. */
export function tempNameFor(jobId: number, op: Pick<FileOp, 'seq' | 'dest'>): string {
  return uniqueTempName(dirname(op.dest), jobId, op.seq);
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

/** Why a source cannot be sorted (it is gone, or not a regular file), or null when it is a regular file. */
function unusableSource(path: string): string | null {
  let what: string | null;
  try {
    what = describeNonFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `${path}: no such file (it was moved or deleted since it was classified)`;
    return `${path}: cannot look at it (${fsReason(error)})`;
  }
  if (what === null) return null;
  return `${path}: it is ${what}, not a regular file; Sorta sorts only regular files, so it was left in place`;
}

/** Runs one planned operation to its end: 'done', 'skipped_identical' or 'failed' (with the reason). */
export function runFileOp(ctx: OpContext, op: FileOp): OpResult {
  const unusable = unusableSource(op.source);
  if (unusable) return finishOp(ctx, op, { state: 'failed', error: unusable });
  let facts: { size: number; sha256: string };
  try {
    facts = hashFile(op.source);
  } catch (error) {
    return finishOp(ctx, op, { state: 'failed', error: `${op.source}: cannot read it (${fsReason(error)})` });
  }
  if (op.op === 'remove') return removeSortedCopy(ctx, op, facts);

  try {
    makeDirs(dirname(op.dest));
  } catch (error) {
    return finishOp(ctx, op, {
      state: 'failed',
      error: `${dirname(op.dest)}: cannot create the folder (${fsReason(error)}); ${op.source} was left in place`,
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
    return removeSourceAfterMove(ctx, op, facts.sha256);
  }

  const copied = copyVerified(ctx, op, temp, facts.sha256);
  if (copied) return copied;
  return finishOp(ctx, op, { state: 'done', error: null });
}

function removeSortedCopy(ctx: OpContext, op: FileOp, facts: { size: number; sha256: string }): OpResult {
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

/**
 * Copy to the journaled temp (created exclusively) → fsync → verify → link into place → check the final name is
 * the verified file → remove the temp. Returns a result only when it stopped early.
 */
function copyVerified(ctx: OpContext, op: FileOp, temp: string, sha256: string): OpResult | null {
  let copy: OwnCopy;
  try {
    copy = copyToNewFile(op.source, temp);
  } catch (error) {
    // EEXIST: something else holds that name, so it is not ours to remove. Otherwise the file at the name (if any)
    // is the one this call created: nobody else can pick the name.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') removeIfPresent(temp);
    return failed(ctx, op, error);
  }
  try {
    return placeCopy(ctx, op, copy, sha256);
  } catch (error) {
    removeIfOwn(copy.path, copy.fd);
    return failed(ctx, op, error);
  } finally {
    closeFile(copy.fd);
  }
}

function placeCopy(ctx: OpContext, op: FileOp, copy: OwnCopy, sha256: string): OpResult | null {
  stepBoundary('copied', copy.path);
  if (copy.facts.sha256 !== sha256) {
    removeIfOwn(copy.path, copy.fd);
    return finishOp(ctx, op, {
      state: 'failed',
      error: `${op.source}: the copy did not match the original (it changed while being copied); nothing was changed`,
    });
  }
  stepBoundary('verified', copy.path);
  let renamed = false;
  try {
    try {
      linkNoReplace(copy.path, op.dest);
    } catch (error) {
      if (!LINK_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
      renameIfAbsent(copy.path, op.dest); // no hard links here (FAT, exFAT, some shares)
      renamed = true;
    }
  } catch (error) {
    removeIfOwn(copy.path, copy.fd);
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return destinationTaken(ctx, op, sha256);
    return failed(ctx, op, error);
  }
  fsyncDir(dirname(op.dest));
  if (!isSameOpenFile(op.dest, copy.fd))
    // Another program replaced the temp between the check and the link: what got the name is not the verified copy.
    return finishOp(ctx, op, {
      state: 'failed',
      error:
        `${op.dest}: the temporary copy ${copy.path} was replaced by another program before it got its name, so ` +
        `${op.dest} may not hold ${op.source}'s bytes; ${op.source} was left in place`,
    });
  stepBoundary('placed', op.dest);
  if (!renamed) {
    removeIfOwn(copy.path, copy.fd);
    fsyncDir(dirname(op.dest));
  }
  return null;
}

function moveByCopy(ctx: OpContext, op: FileOp, temp: string, sha256: string): OpResult {
  const stopped = copyVerified(ctx, op, temp, sha256);
  if (stopped) return stopped;
  stepBoundary();
  return removeSourceAfterMove(ctx, op, sha256);
}

function removeSourceAfterMove(ctx: OpContext, op: FileOp, sha256: string): OpResult {
  try {
    removeFile(op.source);
  } catch (error) {
    // The source folder refuses the removal (read-only): take back the new name so the file stays where it was —
    // only when that name is still the source's file or its verified copy.
    if (sameFile(op.source, op.dest) || hashIfFile(op.dest)?.sha256 === sha256) removeIfPresent(op.dest);
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
export function destinationTaken(ctx: OpContext, op: FileOp, sha256: string): OpResult {
  const there = hashIfFile(op.dest);
  if (there?.sha256 === sha256) return finishOp(ctx, op, { state: 'skipped_identical', error: null });
  return finishOp(ctx, op, {
    state: 'failed',
    error: `${op.dest}: another file appeared there; nothing was overwritten and ${op.source} was left in place`,
  });
}

function sourceIsFile(path: string): boolean {
  try {
    return kindOf(path) === 'file';
  } catch {
    return false;
  }
}

/** A failed step, blamed on the side that caused it: a vanished destination folder is not the source's fault. */
function failed(ctx: OpContext, op: FileOp, error: unknown): OpResult {
  const code = (error as NodeJS.ErrnoException).code;
  let message = `${op.source} → ${op.dest}: ${fsReason(error)}`;
  if ((code === 'ENOENT' || code === 'ENOTDIR') && sourceIsFile(op.source)) {
    message =
      `${dirname(op.dest)}: the destination folder disappeared (deleted while sorting?); ` +
      `${op.source} was left in place`;
  } else if (code === 'ENOENT') {
    message = `${op.source}: no such file (it was moved or deleted while sorting)`;
  }
  return finishOp(ctx, op, { state: 'failed', error: message });
}
