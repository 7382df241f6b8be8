/**
 * Labels: set or clear many at once (one transaction), with undo/redo. Every edit is recorded in label_edits /
 * label_edit_items (before and after of each image), so undo and redo survive restarts. A new edit drops the redo
 * stack; the oldest edits beyond HISTORY_LIMIT are forgotten.
 */
import { SortaError } from '../shared/errors.js';
import { getClass } from './classes.js';
import type { Project } from './project.js';

export const HISTORY_LIMIT = 500;

export type LabelSource = 'human' | 'model';

export interface Label {
  imageId: number;
  classId: number;
  source: LabelSource;
  confidence: number | null;
  modelId: number | null;
  updatedAt: number;
}

export interface SetLabelOptions {
  source?: LabelSource;
  confidence?: number | null;
  modelId?: number | null;
  /** Shown by the undo/redo menu items ("Label 12 images as cat"). */
  description?: string;
}

export interface EditResult {
  /** Images whose label actually changed. */
  changed: number;
  /** The undo-history entry, or null when nothing changed. */
  editId: number | null;
}

export interface UndoResult {
  editId: number | null;
  description: string | null;
  /** Images whose label was restored. */
  images: number;
}

export interface HistoryState {
  canUndo: boolean;
  canRedo: boolean;
  undoDescription: string | null;
  redoDescription: string | null;
}

interface LabelState {
  class_id: number | null;
  source: string | null;
  confidence: number | null;
  model_id: number | null;
}

const NO_LABEL: LabelState = { class_id: null, source: null, confidence: null, model_id: null };

export function getLabel(project: Project, imageId: number): Label | null {
  const row = project
    .statement(
      `SELECT image_id AS imageId, class_id AS classId, source, confidence, model_id AS modelId,
              updated_at AS updatedAt FROM labels WHERE image_id = ?`,
    )
    .get(imageId) as Label | undefined;
  return row ?? null;
}

/** The images of a JSON id list whose label differs from the new state (@ids: JSON list; @classId, @source, @confidence, @modelId: the new state). */
const CHANGED_IMAGES = `(SELECT DISTINCT CAST(value AS INTEGER) AS id FROM json_each(@ids)) j
   LEFT JOIN labels l ON l.image_id = j.id
   WHERE NOT (l.class_id IS @classId AND l.source IS @source AND l.confidence IS @confidence AND l.model_id IS @modelId)`;

/** Writes the before- or after-state of every item of an edit, set-based (one statement each way). */
function writeEditSide(project: Project, editId: number, side: 'before' | 'after', now: number): void {
  project
    .statement(
      `DELETE FROM labels WHERE image_id IN
         (SELECT image_id FROM label_edit_items WHERE edit_id = ? AND ${side}_class_id IS NULL)`,
    )
    .run(editId);
  project
    .statement(
      `INSERT INTO labels (image_id, class_id, source, confidence, model_id, updated_at, path)
       SELECT e.image_id, e.${side}_class_id, e.${side}_source, e.${side}_confidence, e.${side}_model_id, ?, i.path
         FROM label_edit_items e JOIN images i ON i.id = e.image_id
        WHERE e.edit_id = ? AND e.${side}_class_id IS NOT NULL
       ON CONFLICT(image_id) DO UPDATE SET class_id = excluded.class_id, source = excluded.source,
         confidence = excluded.confidence, model_id = excluded.model_id, updated_at = excluded.updated_at`,
    )
    .run(now, editId);
}

function applyEdit(
  project: Project,
  imageIds: readonly number[],
  after: LabelState,
  description: string,
): EditResult {
  for (const id of imageIds)
    if (!Number.isSafeInteger(id))
      throw new SortaError('invalid-input', `Image id ${String(id)} is not an integer.`);
  const ids = JSON.stringify(imageIds);
  const state = {
    ids,
    classId: after.class_id,
    source: after.source,
    confidence: after.confidence,
    modelId: after.model_id,
  };
  return project.db.transaction((): EditResult => {
    const unknown = project
      .statement(
        `SELECT value FROM json_each(?) j WHERE NOT EXISTS (SELECT 1 FROM images i WHERE i.id = j.value) LIMIT 1`,
      )
      .pluck()
      .get(ids) as number | undefined;
    if (unknown !== undefined) throw new SortaError('not-found', `There is no image with id ${unknown}.`);
    const now = Date.now();
    const editId = Number(
      project
        .statement('INSERT INTO label_edits (description, created_at) VALUES (?, ?)')
        .run(description, now).lastInsertRowid,
    );
    // The edit's items are the images whose label changes; none means no edit (and the redo stack stays).
    const changed = project
      .statement(
        `INSERT INTO label_edit_items (edit_id, image_id, before_class_id, before_source, before_confidence,
           before_model_id, after_class_id, after_source, after_confidence, after_model_id)
         SELECT @editId, j.id, l.class_id, l.source, l.confidence, l.model_id, @classId, @source, @confidence, @modelId FROM ${CHANGED_IMAGES}`,
      )
      .run({ ...state, editId }).changes;
    if (changed === 0) {
      project.statement('DELETE FROM label_edits WHERE id = ?').run(editId);
      return { changed: 0, editId: null };
    }
    project.statement('DELETE FROM label_edits WHERE undone = 1').run();
    writeEditSide(project, editId, 'after', now);
    project
      .statement(
        `DELETE FROM label_edits WHERE id <= (SELECT id FROM label_edits ORDER BY id DESC LIMIT 1 OFFSET ?)`,
      )
      .run(HISTORY_LIMIT);
    return { changed, editId };
  })();
}

/** Labels every image in `imageIds` as `classId`, in one transaction and one undo step. */
export function setLabels(
  project: Project,
  imageIds: readonly number[],
  classId: number,
  options: SetLabelOptions = {},
): EditResult {
  const cls = getClass(project, classId);
  const source = options.source ?? 'human';
  return applyEdit(
    project,
    imageIds,
    { class_id: classId, source, confidence: options.confidence ?? null, model_id: options.modelId ?? null },
    options.description ?? `Label ${imageIds.length} image${imageIds.length === 1 ? '' : 's'} as ${cls.name}`,
  );
}

/** Removes the labels of every image in `imageIds`, in one transaction and one undo step. */
export function clearLabels(project: Project, imageIds: readonly number[], description?: string): EditResult {
  return applyEdit(
    project,
    imageIds,
    NO_LABEL,
    description ?? `Clear the label of ${imageIds.length} image${imageIds.length === 1 ? '' : 's'}`,
  );
}

function replay(project: Project, direction: 'undo' | 'redo'): UndoResult {
  return project.db.transaction((): UndoResult => {
    const edit = project
      .statement(
        direction === 'undo'
          ? 'SELECT id, description FROM label_edits WHERE undone = 0 ORDER BY id DESC LIMIT 1'
          : 'SELECT id, description FROM label_edits WHERE undone = 1 ORDER BY id ASC LIMIT 1',
      )
      .get() as { id: number; description: string } | undefined;
    if (!edit) return { editId: null, description: null, images: 0 };
    const images = project
      .statement('SELECT count(*) FROM label_edit_items WHERE edit_id = ?')
      .pluck()
      .get(edit.id) as number;
    writeEditSide(project, edit.id, direction === 'undo' ? 'before' : 'after', Date.now());
    project
      .statement('UPDATE label_edits SET undone = ? WHERE id = ?')
      .run(direction === 'undo' ? 1 : 0, edit.id);
    return { editId: edit.id, description: edit.description, images };
  })();
}

/** Reverts the latest label edit not yet undone. Returns editId null when there is nothing to undo. */
export function undoLabels(project: Project): UndoResult {
  return replay(project, 'undo');
}

/** Re-applies the edit undone most recently. Returns editId null when there is nothing to redo. */
export function redoLabels(project: Project): UndoResult {
  return replay(project, 'redo');
}

export function labelHistory(project: Project): HistoryState {
  const undo = project
    .statement('SELECT description FROM label_edits WHERE undone = 0 ORDER BY id DESC LIMIT 1')
    .pluck()
    .get() as string | undefined;
  const redo = project
    .statement('SELECT description FROM label_edits WHERE undone = 1 ORDER BY id ASC LIMIT 1')
    .pluck()
    .get() as string | undefined;
  return {
    canUndo: undo !== undefined,
    canRedo: redo !== undefined,
    undoDescription: undo ?? null,
    redoDescription: redo ?? null,
  };
}

export interface PredictionInput {
  imageId: number;
  classId: number;
  confidence: number;
  modelId?: number | null;
}

/**
 * Stores a model's predictions for review (predictions_review: one per image, replacing an older one). They never
 * touch human labels; queryImages filters on them (predictedClassId, confidence range).
 */
export function setPredictions(project: Project, predictions: readonly PredictionInput[]): number {
  const upsert = project.statement(
    `INSERT INTO predictions_review (image_id, model_id, class_id, confidence, created_at, path)
     VALUES (@imageId, @modelId, @classId, @confidence, @now, (SELECT path FROM images WHERE id = @imageId))
     ON CONFLICT(image_id) DO UPDATE SET model_id = excluded.model_id, class_id = excluded.class_id,
       confidence = excluded.confidence, created_at = excluded.created_at`,
  );
  return project.db.transaction(() => {
    const now = Date.now();
    for (const p of predictions)
      upsert.run({
        imageId: p.imageId,
        modelId: p.modelId ?? null,
        classId: p.classId,
        confidence: p.confidence,
        now,
      });
    return predictions.length;
  })();
}

export function clearPredictions(project: Project): void {
  project.statement('DELETE FROM predictions_review').run();
}
