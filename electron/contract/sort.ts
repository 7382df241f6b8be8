import { z } from 'zod';
import { jobIdInput, method, noInput, pathString, rowId } from './common.js';

export interface Prediction {
  /** Row id of this file's prediction (for `mediaUrl({ kind: 'prediction', id })`). */
  id: number;
  /** Absolute path where the file was classified. */
  path: string;
  /** Path relative to the classified directory. */
  file: string;
  label: string | null;
  confidence: number | null;
  /** Top-k probabilities by class name. */
  probs: Record<string, number>;
  error: string | null;
}

export interface ClassifyResult {
  /** The classify job's id in the project (use it for results, sort, CSV export). */
  job: number;
  modelId: number;
  count: number;
  errors: { file: string; error: string }[];
}

export interface PredictionPage {
  total: number;
  offset: number;
  items: Prediction[];
}

export const sortModeSchema = z.enum(['copy', 'move']);
export type SortMode = z.infer<typeof sortModeSchema>;

const sortOptions = {
  /** The classify job whose predictions are sorted. */
  job: rowId,
  outDir: pathString,
  /** Files whose top probability is below go to `_unsure/`. */
  threshold: z.number().min(0).max(1),
  mode: sortModeSchema.default('copy'),
};

export interface SortPlan {
  /** Files per destination folder (class names and `_unsure`). */
  counts: Record<string, number>;
  /** Files that will get a suffix (`name (1).jpg`). */
  collisions: number;
  /** Files whose identical copy is already there (counted as sorted, not copied). */
  identical: number;
  total: number;
  /** The first operations, for the preview. */
  preview: { source: string; dest: string }[];
}

export interface SortResult {
  /** The sort job's id (undo it with `sort.undo`). */
  job: number;
  sorted: Record<string, number>;
  skippedIdentical: number;
  errors: { file: string; error: string }[];
}

export interface UndoResult {
  job: number;
  restored: number;
  errors: { file: string; error: string }[];
}

export interface JobRecord {
  id: number;
  kind: 'classify' | 'sort' | 'undo';
  state: 'planned' | 'running' | 'done' | 'failed' | 'cancelled' | 'rolled_back' | 'undone';
  modelId: number | null;
  sourceDir: string | null;
  outDir: string | null;
  createdAt: number;
  finishedAt: number | null;
  error: string | null;
  /** The classify job a sort sorted, or the sort an undo undid. */
  parentJobId: number | null;
  /** Sorts: how the files went. */
  mode: SortMode | null;
  threshold: number | null;
  /** Classify: files looked at; sort: files planned; undo: files it handled. */
  files: number;
  /** Classify: files that could not be read; sort and undo: operations that failed. */
  failed: number;
  /** Sorts: files in place per destination folder (class or `_unsure`), moved, copied or already there. */
  placed: Record<string, number>;
  /** Sorts: files put back by undo. */
  undoneFiles: number;
  /** A sort with files still in place that `sort.undo({ job: id })` can put back. */
  undoable: boolean;
}

export const sortMethods = {
  /** Classifies every image under `dir` (recursive). `review`: predictions also become model labels in the project. */
  'classify.run': method<ClassifyResult>()(
    z.strictObject({
      dir: pathString,
      modelId: rowId.optional(),
      review: z.boolean().optional(),
      jobId: jobIdInput.optional(),
    }),
  ),
  'classify.results': method<PredictionPage>()(
    z.strictObject({
      job: rowId,
      offset: z.number().int().min(0).default(0),
      limit: z.number().int().min(1).max(2000).default(200),
      order: z.enum(['path', 'confidence-asc', 'confidence-desc']).default('path'),
      label: z.string().optional(),
      maxConfidence: z.number().min(0).max(1).optional(),
    }),
  ),
  /** Writes the predictions manifest (CSV or JSON). */
  'classify.export': method<{ path: string }>()(
    z.strictObject({ job: rowId, path: pathString, format: z.enum(['csv', 'json']) }),
  ),
  /** The preview: nothing on disk is touched. */
  'sort.plan': method<SortPlan>()(z.strictObject(sortOptions)),
  /** Journaled copy / move (kind 'sort'). */
  'sort.run': method<SortResult>()(z.strictObject({ ...sortOptions, jobId: jobIdInput.optional() })),
  /** Undoes the last sort, or the given sort job. */
  'sort.undo': method<UndoResult>()(z.strictObject({ job: rowId.optional(), jobId: jobIdInput.optional() })),
  /**
   * Classify, sort and undo jobs of the project, newest first (kept in the project, so they survive a restart):
   * when, which folder, how many files went where, copy or move, undone or not.
   */
  'jobs.history': method<JobRecord[]>()(noInput),
};
