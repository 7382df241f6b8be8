/**
 * The sort plan: which file goes where, decided and shown before anything is touched. Files whose top probability
 * reaches the threshold go to `OUT/<class>/`, the rest to `OUT/_unsure/`; subfolders are flattened; a name already
 * taken (on disk, or earlier in the same plan) gets ` (1)`, ` (2)`… before its extension; a destination that already
 * holds identical content counts as sorted and is left alone.
 */
import { statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { FileOpKind } from '../store/jobs-repo.js';
import { hashFile, kindOf } from './fs-ops.js';
import { classFolders, NAME_MAX_BYTES, truncateUtf8, UNSURE_FOLDER } from './paths.js';

export type SortMode = 'copy' | 'move';

export interface SortCandidate {
  /** Path relative to the source folder, '/' separated. */
  path: string;
  label: string;
  confidence: number;
}

export interface PlannedFileOp {
  seq: number;
  op: FileOpKind;
  /** Path relative to the source folder. */
  file: string;
  source: string;
  dest: string;
  /** The class folder (or `_unsure`) it goes to. */
  folder: string;
  /** 'skipped_identical' when identical content is already at `dest`. */
  state: 'planned' | 'skipped_identical';
  /** True when the name got a ` (n)` suffix because the plain name was taken. */
  renamed: boolean;
}

export interface SortPlan {
  sourceDir: string;
  outDir: string;
  mode: SortMode;
  threshold: number;
  ops: PlannedFileOp[];
  /** Files per destination folder (class name, or `_unsure`), identical ones included. */
  counts: Record<string, number>;
  /** The folder (under outDir) of each class the plan sends files to, and of `_unsure`. */
  folders: Record<string, string>;
  /** Files whose name was taken and got a suffix. */
  collisions: { file: string; dest: string }[];
  /** Files whose identical content is already in place. */
  identical: { file: string; dest: string }[];
}

export interface PlanOptions {
  sourceDir: string;
  outDir: string;
  threshold: number;
  mode: SortMode;
  /** Every class of the model, so that each keeps the same folder whichever of them this plan uses. */
  classes?: readonly string[];
}

/** `name` with ` (n)` before its extension, the stem shortened so that the whole name fits in 255 bytes. */
export function withSuffix(name: string, n: number): string {
  if (n === 0) return name;
  let ext = extname(name);
  if (ext === name) ext = '';
  const tail = ` (${n})${ext}`;
  const room = NAME_MAX_BYTES - Buffer.byteLength(tail);
  if (room < 1) return truncateUtf8(name, NAME_MAX_BYTES - Buffer.byteLength(` (${n})`)) + ` (${n})`;
  return truncateUtf8(name.slice(0, name.length - ext.length), room) + tail;
}

/** What is at a planned destination; an error there (a name the filesystem refuses) is reported when it runs. */
function destKind(path: string): ReturnType<typeof kindOf> {
  try {
    return kindOf(path);
  } catch {
    return 'missing';
  }
}

/** -1 when unreadable (a file gone since classifying is planned anyway; running it reports why it failed). */
function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return -1;
  }
}

export function planSort(candidates: readonly SortCandidate[], options: PlanOptions): SortPlan {
  const hashes = new Map<string, string>();
  const shaOf = (path: string): string => {
    let sha = hashes.get(path);
    if (sha === undefined) {
      try {
        sha = hashFile(path).sha256;
      } catch {
        sha = `unreadable:${path}`; // equal to nothing else
      }
      hashes.set(path, sha);
    }
    return sha;
  };
  // Destinations already claimed by this plan, keyed case-insensitively (macOS and Windows folders are), → source.
  const claimed = new Map<string, string>();
  const plan: SortPlan = {
    sourceDir: options.sourceDir,
    outDir: options.outDir,
    mode: options.mode,
    threshold: options.threshold,
    ops: [],
    counts: {},
    folders: {},
    collisions: [],
    identical: [],
  };
  const ordered = [...candidates].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const folderOf = classFolders([...(options.classes ?? []), ...candidates.map((c) => c.label)]);
  for (const candidate of ordered) {
    const sure = candidate.confidence >= options.threshold;
    // A class named `_unsure` still has a folder of its own; the key of `_unsure` files is UNSURE_FOLDER.
    const folderLabel = sure ? candidate.label : UNSURE_FOLDER;
    const folder = sure ? folderOf.get(candidate.label)! : UNSURE_FOLDER;
    plan.folders[folderLabel] = folder;
    const source = join(options.sourceDir, ...candidate.path.split('/'));
    const name = basename(source);
    let state: PlannedFileOp['state'] = 'planned';
    let dest = '';
    let n = 0;
    for (; ; n++) {
      dest = join(options.outDir, folder, withSuffix(name, n));
      const claimedBy = claimed.get(dest.toLowerCase());
      if (claimedBy !== undefined) {
        if (shaOf(claimedBy) === shaOf(source)) {
          state = 'skipped_identical';
          break;
        }
        continue;
      }
      const kind = destKind(dest);
      if (kind === 'missing') break;
      // Different sizes cannot be identical: hash only when they match.
      if (kind === 'file' && sizeOf(dest) === sizeOf(source) && shaOf(dest) === shaOf(source)) {
        state = 'skipped_identical';
        break;
      }
    }
    if (state === 'planned') claimed.set(dest.toLowerCase(), source);
    const op: PlannedFileOp = {
      seq: plan.ops.length + 1,
      op: options.mode,
      file: candidate.path,
      source,
      dest,
      folder: folderLabel,
      state,
      renamed: n > 0,
    };
    plan.ops.push(op);
    plan.counts[folderLabel] = (plan.counts[folderLabel] ?? 0) + 1;
    if (state === 'skipped_identical') plan.identical.push({ file: op.file, dest });
    else if (n > 0) plan.collisions.push({ file: op.file, dest });
  }
  return plan;
}
