/**
 * Models and the training set they learn from: every SQL statement fine-tuning needs. A model row holds the arch,
 * input size, head mode, class names in output order, the checksum of the weights it was trained on, the head (a
 * safetensors blob of classifier.* tensors, or the whole ONNX graph for an imported model), metrics, curves, params.
 */
import { SortaError } from '../shared/errors.js';
import type { Project } from './project.js';

export interface TrainingImageRow {
  imageId: number;
  path: string;
  hash: string | null;
  /** Index into `TrainingSet.classes`. */
  label: number;
}

export interface TrainingSet {
  /** Every class of the project, in the project's order (the model's output order). */
  classes: string[];
  /** Images with a human label whose file was readable at the last scan. */
  images: TrainingImageRow[];
}

/** The images a fine-tune learns from: human labels only (a model's own predictions never train the next model). */
export function trainingSet(project: Project): TrainingSet {
  const classes = project.statement('SELECT id, name FROM classes ORDER BY position, id').all() as {
    id: number;
    name: string;
  }[];
  const index = new Map(classes.map((c, i) => [c.id, i]));
  const rows = project
    .statement(
      `SELECT images.id AS imageId, images.path AS path, images.hash AS hash, labels.class_id AS classId
         FROM labels JOIN images ON images.id = labels.image_id
        WHERE labels.source = 'human' AND images.status = 'ok'
        ORDER BY images.path, images.id`,
    )
    .all() as { imageId: number; path: string; hash: string | null; classId: number }[];
  return {
    classes: classes.map((c) => c.name),
    images: rows.map((r) => ({
      imageId: r.imageId,
      path: r.path,
      hash: r.hash,
      label: index.get(r.classId)!,
    })),
  };
}

export type HeadModeName = 'last' | 'full';

export interface NewModel {
  name?: string | null;
  arch: string;
  inputSize: number;
  headMode: HeadModeName;
  classes: string[];
  weightsChecksum: string;
  head: Uint8Array;
  metrics: unknown;
  curves: unknown;
  params: Record<string, unknown>;
  trainMs: number | null;
}

export interface ModelSummaryRow {
  id: number;
  name: string | null;
  arch: string;
  inputSize: number;
  headMode: HeadModeName;
  classes: string[];
  weightsChecksum: string;
  metrics: Record<string, unknown>;
  params: Record<string, unknown>;
  createdAt: number;
  trainMs: number | null;
}

export interface ModelRecord extends ModelSummaryRow {
  head: Uint8Array;
  curves: Record<string, unknown>;
}

interface RawModel {
  id: number;
  name: string | null;
  arch: string;
  input_size: number;
  head_mode: HeadModeName;
  classes: string;
  weights_checksum: string;
  metrics: string;
  curves?: string;
  params: string;
  created_at: number;
  train_ms: number | null;
  head?: Buffer;
}

const SUMMARY_COLUMNS =
  'id, name, arch, input_size, head_mode, classes, weights_checksum, metrics, params, created_at, train_ms';

function summary(row: RawModel): ModelSummaryRow {
  return {
    id: row.id,
    name: row.name,
    arch: row.arch,
    inputSize: row.input_size,
    headMode: row.head_mode,
    classes: JSON.parse(row.classes) as string[],
    weightsChecksum: row.weights_checksum,
    metrics: JSON.parse(row.metrics) as Record<string, unknown>,
    params: JSON.parse(row.params) as Record<string, unknown>,
    createdAt: row.created_at,
    trainMs: row.train_ms,
  };
}

export function insertModel(project: Project, model: NewModel): number {
  const result = project
    .statement(
      `INSERT INTO models (name, arch, input_size, head_mode, classes, weights_checksum, head, metrics, curves,
                           params, created_at, train_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      model.name ?? null,
      model.arch,
      model.inputSize,
      model.headMode,
      JSON.stringify(model.classes),
      model.weightsChecksum,
      Buffer.from(model.head.buffer, model.head.byteOffset, model.head.byteLength),
      JSON.stringify(model.metrics),
      JSON.stringify(model.curves),
      JSON.stringify(model.params),
      Date.now(),
      model.trainMs,
    );
  return Number(result.lastInsertRowid);
}

/** Newest first, without the (large) head blobs. */
export function listModels(project: Project): ModelSummaryRow[] {
  const rows = project
    .statement(`SELECT ${SUMMARY_COLUMNS} FROM models ORDER BY created_at DESC, id DESC`)
    .all() as RawModel[];
  return rows.map(summary);
}

export function findModel(project: Project, id: number): ModelRecord | undefined {
  const row = project
    .statement(`SELECT ${SUMMARY_COLUMNS}, curves, head FROM models WHERE id = ?`)
    .get(id) as RawModel | undefined;
  if (!row) return undefined;
  const head = row.head!;
  return {
    ...summary(row),
    curves: JSON.parse(row.curves!) as Record<string, unknown>,
    head: new Uint8Array(head.buffer, head.byteOffset, head.byteLength),
  };
}

export function getModel(project: Project, id: number): ModelRecord {
  const model = findModel(project, id);
  if (!model) throw new SortaError('not-found', `model ${id} does not exist in project ${project.path}`);
  return model;
}

export function renameModel(project: Project, id: number, name: string | null): void {
  const result = project.statement('UPDATE models SET name = ? WHERE id = ?').run(name, id);
  if (result.changes === 0)
    throw new SortaError('not-found', `model ${id} does not exist in project ${project.path}`);
}

/** Jobs that used the model keep their history (jobs.model_id is set to NULL by the foreign key). */
export function deleteModel(project: Project, id: number): void {
  const result = project.statement('DELETE FROM models WHERE id = ?').run(id);
  if (result.changes === 0)
    throw new SortaError('not-found', `model ${id} does not exist in project ${project.path}`);
}
