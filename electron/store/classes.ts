/** Classes: add, rename, recolour, reorder, merge, delete, counts. */
import { SortaError } from '../shared/errors.js';
import type { Project } from './project.js';

export interface ClassRow {
  id: number;
  name: string;
  color: string;
  position: number;
}

export interface ClassCount extends ClassRow {
  /** Images whose current label is this class (human or model). */
  labeled: number;
  human: number;
  model: number;
  /** Images a model predicts as this class (predictions_review). */
  predicted: number;
}

/** Distinct, readable colours, used in turn for new classes. */
export const CLASS_PALETTE = [
  '#e6194b',
  '#3cb44b',
  '#4363d8',
  '#f58231',
  '#911eb4',
  '#46f0f0',
  '#f032e6',
  '#bcf60c',
  '#008080',
  '#9a6324',
  '#800000',
  '#808000',
  '#000075',
  '#fabebe',
  '#ffd8b1',
  '#aaffc3',
];

const COLOR_PATTERN = /^#[0-9a-f]{6}$/i;

function checkName(name: string): string {
  const trimmed = name.trim();
  if (!trimmed) throw new SortaError('invalid-input', 'A class name cannot be empty.');
  if (/[/\\\0]/.test(trimmed) || trimmed === '.' || trimmed === '..')
    throw new SortaError(
      'invalid-input',
      `Class name '${name}' cannot be used: it must work as a folder name (no '/', '\\' or NUL).`,
    );
  return trimmed;
}

function checkColor(color: string): string {
  if (!COLOR_PATTERN.test(color))
    throw new SortaError('invalid-input', `Colour '${color}' is not a #rrggbb colour.`);
  return color.toLowerCase();
}

export function listClasses(project: Project): ClassRow[] {
  return project
    .statement('SELECT id, name, color, position FROM classes ORDER BY position, id')
    .all() as ClassRow[];
}

export function getClass(project: Project, id: number): ClassRow {
  const row = project.statement('SELECT id, name, color, position FROM classes WHERE id = ?').get(id) as
    | ClassRow
    | undefined;
  if (!row) throw new SortaError('not-found', `There is no class with id ${id}.`);
  return row;
}

export function findClassByName(project: Project, name: string): ClassRow | undefined {
  return project
    .statement('SELECT id, name, color, position FROM classes WHERE name = ?')
    .get(name.trim()) as ClassRow | undefined;
}

export function addClass(project: Project, name: string, color?: string): ClassRow {
  const clean = checkName(name);
  if (findClassByName(project, clean))
    throw new SortaError('conflict', `A class named '${clean}' already exists.`);
  const { n, maxPosition } = project
    .statement('SELECT count(*) AS n, coalesce(max(position), -1) AS maxPosition FROM classes')
    .get() as { n: number; maxPosition: number };
  const chosen = color ? checkColor(color) : CLASS_PALETTE[n % CLASS_PALETTE.length];
  const info = project
    .statement('INSERT INTO classes (name, color, position) VALUES (?, ?, ?)')
    .run(clean, chosen, maxPosition + 1);
  return { id: Number(info.lastInsertRowid), name: clean, color: chosen, position: maxPosition + 1 };
}

/** The class with this name, created when missing (import uses it for folder names). */
export function ensureClass(project: Project, name: string): ClassRow {
  return findClassByName(project, name) ?? addClass(project, name);
}

export function renameClass(project: Project, id: number, name: string): ClassRow {
  const clean = checkName(name);
  const current = getClass(project, id);
  const other = findClassByName(project, clean);
  if (other && other.id !== id)
    throw new SortaError('conflict', `A class named '${clean}' already exists; merge the classes instead.`);
  project.statement('UPDATE classes SET name = ? WHERE id = ?').run(clean, id);
  return { ...current, name: clean };
}

export function recolorClass(project: Project, id: number, color: string): ClassRow {
  const current = getClass(project, id);
  const clean = checkColor(color);
  project.statement('UPDATE classes SET color = ? WHERE id = ?').run(clean, id);
  return { ...current, color: clean };
}

/** Puts the classes in this order (every class id exactly once). */
export function reorderClasses(project: Project, ids: number[]): void {
  const existing = listClasses(project).map((c) => c.id);
  if (
    ids.length !== existing.length ||
    new Set(ids).size !== ids.length ||
    !ids.every((id) => existing.includes(id))
  )
    throw new SortaError('invalid-input', 'The new class order must list every class exactly once.');
  project.db.transaction(() => {
    ids.forEach((id, position) =>
      project.statement('UPDATE classes SET position = ? WHERE id = ?').run(position, id),
    );
  })();
}

/**
 * Moves every label and prediction of class `fromId` to class `intoId` and deletes `fromId`. Undo history that
 * mentions `fromId` is rewritten to `intoId`, so undo keeps working. Returns how many labels moved.
 */
export function mergeClasses(project: Project, fromId: number, intoId: number): { moved: number } {
  if (fromId === intoId) throw new SortaError('invalid-input', 'Cannot merge a class into itself.');
  getClass(project, fromId);
  getClass(project, intoId);
  return project.db.transaction(() => {
    const moved = project
      .statement('UPDATE labels SET class_id = ? WHERE class_id = ?')
      .run(intoId, fromId).changes;
    project.statement('UPDATE predictions_review SET class_id = ? WHERE class_id = ?').run(intoId, fromId);
    project
      .statement('UPDATE label_edit_items SET before_class_id = ? WHERE before_class_id = ?')
      .run(intoId, fromId);
    project
      .statement('UPDATE label_edit_items SET after_class_id = ? WHERE after_class_id = ?')
      .run(intoId, fromId);
    project.statement('DELETE FROM classes WHERE id = ?').run(fromId);
    return { moved };
  })();
}

/** How many labels (and model predictions) would go if this class were deleted. */
export function classDeletionImpact(project: Project, id: number): { labels: number; predictions: number } {
  getClass(project, id);
  const labels = (
    project.statement('SELECT count(*) AS n FROM labels WHERE class_id = ?').get(id) as { n: number }
  ).n;
  const predictions = (
    project.statement('SELECT count(*) AS n FROM predictions_review WHERE class_id = ?').get(id) as {
      n: number;
    }
  ).n;
  return { labels, predictions };
}

/**
 * Deletes a class with its labels and predictions (those images become unlabelled). The label undo history is
 * cleared only when one of its steps names the class (undoing it would bring back a class that is gone): deleting
 * a class nobody labelled with keeps it. Returns how many labels went.
 */
export function deleteClass(
  project: Project,
  id: number,
): { labelsRemoved: number; predictionsRemoved: number } {
  return project.db.transaction(() => {
    const impact = classDeletionImpact(project, id);
    const inHistory = project
      .statement('SELECT 1 FROM label_edit_items WHERE before_class_id = ? OR after_class_id = ? LIMIT 1')
      .get(id, id);
    if (inHistory) project.statement('DELETE FROM label_edits').run();
    project.statement('DELETE FROM classes WHERE id = ?').run(id);
    return { labelsRemoved: impact.labels, predictionsRemoved: impact.predictions };
  })();
}

export function classCounts(project: Project): ClassCount[] {
  return project
    .statement(
      `SELECT c.id, c.name, c.color, c.position,
              (SELECT count(*) FROM labels l WHERE l.class_id = c.id) AS labeled,
              (SELECT count(*) FROM labels l WHERE l.class_id = c.id AND l.source = 'human') AS human,
              (SELECT count(*) FROM labels l WHERE l.class_id = c.id AND l.source = 'model') AS model,
              (SELECT count(*) FROM predictions_review p WHERE p.class_id = c.id) AS predicted
         FROM classes c ORDER BY c.position, c.id`,
    )
    .all() as ClassCount[];
}
