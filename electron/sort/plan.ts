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
import { classFolderName, UNSURE_FOLDER } from './paths.js';

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
}

export function withSuffix(name: string, n: number): string {
  if (n === 0) return name;
  const ext = extname(name);
  const stem = ext && ext !== name ? name.slice(0, -ext.length) : name;
  return `${stem} (${n})${ext && ext !== name ? ext : ''}`;
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
    collisions: [],
    identical: [],
  };
  const ordered = [...candidates].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const candidate of ordered) {
    const folderLabel = candidate.confidence >= options.threshold ? candidate.label : UNSURE_FOLDER;
    const folder = folderLabel === UNSURE_FOLDER ? UNSURE_FOLDER : classFolderName(folderLabel);
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
      const kind = kindOf(dest);
      if (kind === 'missing') break;
      // Different sizes cannot be identical: hash only when they match.
      if (kind === 'file' && sizeOf(dest) === sizeOf(source) && hashFile(dest).sha256 === shaOf(source)) {
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
