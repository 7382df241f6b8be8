/**
 * After a crash: decides from the filesystem whether an operation the journal left 'started' completed, finishes its
 * last steps when its content is already safe at the destination, or rolls it back to 'planned' otherwise. The only
 * temp it ever removes is the one the journal recorded for that operation before creating it (a name no other
 * process can pick).
 */
import { dirname } from 'node:path';
import { setFileOpState, type FileOp } from '../store/jobs-repo.js';
import { finishOp, LINK_UNSUPPORTED, runFileOp, type OpContext, type OpResult } from './file-op.js';
import {
  fsyncDir,
  hashFile,
  hashIfFile,
  kindOf,
  linkNoReplace,
  removeFile,
  removeIfPresent,
  renameIfAbsent,
  sameFile,
} from './fs-ops.js';

/** Settles one interrupted operation; returns the state it is left in. */
export function settleStartedOp(ctx: OpContext, op: FileOp): OpResult {
  if (op.op === 'remove') return settleRemove(ctx, op);
  const sha = op.sha256;
  const temp = op.temp;
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
    setFileOpState(ctx.project, op.id, 'planned', null);
    return { state: 'planned', error: null };
  }
  // The source is gone and the destination does not hold it: only a verified temp can (never by our step order, but
  // a user may have moved the source meanwhile).
  if (op.op === 'move' && temp && placeVerifiedTemp(temp, op.dest, sha))
    return finishOp(ctx, op, { state: 'done', error: null });
  if (temp) removeIfPresent(temp);
  return finishOp(ctx, op, {
    state: 'failed',
    error: `${op.source}: no longer there and not at ${op.dest} (moved by something else while Sorta was stopped)`,
  });
}

/** Gives a temp holding `sha` the free name `dest`; false when the temp does not hold it or the name is taken. */
function placeVerifiedTemp(temp: string, dest: string, sha: string | null): boolean {
  if (hashIfFile(temp)?.sha256 !== sha || kindOf(dest) !== 'missing') return false;
  try {
    linkNoReplace(temp, dest);
    removeFile(temp);
  } catch (error) {
    if (!LINK_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    renameIfAbsent(temp, dest);
  }
  fsyncDir(dirname(dest));
  return true;
}

/**
 * An undo's removal of a copy (`source`), whose original is `dest`. The copy goes only while the original is there
 * with the same bytes; when the original is gone the copy is moved back into its place instead, as undo does (the
 * operation may have been such a move back when it stopped: its journaled temp is then in the original's folder).
 */
function settleRemove(ctx: OpContext, op: FileOp): OpResult {
  const sha = op.sha256;
  if (op.temp) {
    placeVerifiedTemp(op.temp, op.dest, sha);
    removeIfPresent(op.temp);
  }
  const copy = hashIfFile(op.source);
  if (copy && copy.sha256 !== sha)
    return finishOp(ctx, op, {
      state: 'failed',
      error: `${op.source}: its content changed; it was not removed`,
    });
  const originalKind = kindOf(op.dest);
  if (originalKind === 'file' && hashFile(op.dest).sha256 === sha) {
    if (copy) removeFile(op.source);
    fsyncDir(dirname(op.source));
    return finishOp(ctx, op, { state: 'done', error: null });
  }
  if (!copy)
    return finishOp(ctx, op, {
      state: 'failed',
      error: `${op.source} is no longer there and ${op.dest} does not hold its bytes (moved or deleted by something else while Sorta was stopped)`,
    });
  if (originalKind !== 'missing')
    return finishOp(ctx, op, {
      state: 'failed',
      error: `${op.dest} is gone or changed since the sort, so its copy ${op.source} was kept`,
    });
  return moveCopyBack(ctx, op);
}

/** The original of a copy is gone: the copy takes its place (journaled on the same operation row). */
export function moveCopyBack(ctx: OpContext, op: FileOp): OpResult {
  return runFileOp(ctx, { ...op, op: 'move' });
}
