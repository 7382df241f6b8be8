import { z } from 'zod';
import { method, noInput, pathString, rowId } from './common.js';

export type ImageStatus = 'ok' | 'error' | 'missing';
export type LabelSource = 'human' | 'model';

/** One image in the grid. */
export interface ImageItem {
  id: number;
  /** Absolute path. */
  path: string;
  /** File name (for captions). */
  name: string;
  width: number | null;
  height: number | null;
  status: ImageStatus;
  /** Why the image cannot be used (status 'error' or 'missing'). */
  error: string | null;
  classId: number | null;
  labelSource: LabelSource | null;
  /** For model labels: the model's probability of `classId`. */
  confidence: number | null;
  /** A model's prediction kept for review (the "predicted class" and "low confidence" filters). */
  predictedClassId: number | null;
  predictedConfidence: number | null;
}

export interface ImageDetail extends ImageItem {
  size: number | null;
  mtimeMs: number | null;
  hash: string | null;
  addedAt: number;
  /** The import root the image came from. */
  rootPath: string | null;
}

/** Filters combine with AND. */
export const imageFilter = z.strictObject({
  /** Images whose current label is this class. */
  classId: rowId.optional(),
  /** Images without any label. */
  unlabelled: z.boolean().optional(),
  /** Only images that could not be used (status error) instead of the usable ones. */
  errors: z.boolean().optional(),
  /** Images whose model label (prediction) is this class. */
  predictedClassId: rowId.optional(),
  /** Prediction confidence range, inclusive. */
  minConfidence: z.number().min(0).max(1).optional(),
  maxConfidence: z.number().min(0).max(1).optional(),
  /** Substring of the path, case-insensitive. */
  text: z.string().max(1000).optional(),
});
export type ImageFilter = z.infer<typeof imageFilter>;

export interface ImagePage {
  /** Number of images matching the filter (for the virtual grid's height). */
  total: number;
  offset: number;
  items: ImageItem[];
}

export interface LabelChange {
  /** Images whose label actually changed. */
  changed: number;
  canUndo: boolean;
  canRedo: boolean;
  /** For the Edit menu: "Label 12 images as cat". */
  undoDescription: string | null;
  redoDescription: string | null;
}

/** After undo / redo the grid reloads its visible page (`data.changed` with 'labels' is sent too). */
export type LabelHistoryStep = LabelChange;

export const imageMethods = {
  /** A page of images in a stable order (import order), for the virtual grid. `limit` ≤ 1000. */
  'images.query': method<ImagePage>()(
    z.strictObject({
      filter: imageFilter.optional(),
      offset: z.number().int().min(0).default(0),
      limit: z.number().int().min(1).max(1000).default(200),
    }),
  ),
  /** Every id matching the filter, in grid order (select all, shift-ranges, bulk assign). */
  'images.ids': method<number[]>()(z.strictObject({ filter: imageFilter.optional() })),
  'images.get': method<ImageDetail>()(z.strictObject({ id: rowId })),
  /** Sets (classId) or clears (null) the human label of many images in one transaction; one undo step. */
  'labels.set': method<LabelChange>()(
    z.strictObject({ imageIds: z.array(rowId).min(1).max(1_000_000), classId: rowId.nullable() }),
  ),
  /** Whether undo / redo are possible now (for the Edit menu and buttons). */
  'labels.history': method<Omit<LabelChange, 'changed'>>()(noInput),
  'labels.undo': method<LabelHistoryStep>()(noInput),
  'labels.redo': method<LabelHistoryStep>()(noInput),
  /** Writes labels as CSV (`path,label`), JSON, or an ImageFolder copy (`dest/<class>/file`, never overwriting). */
  'labels.export': method<{ path: string; count: number }>()(
    z.strictObject({ path: pathString, format: z.enum(['csv', 'json', 'folder']) }),
  ),
};
