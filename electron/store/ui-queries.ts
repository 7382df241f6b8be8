/**
 * Lookups the UI needs beyond the grid's pages: one image with its details, a classify job's predictions page by
 * page (with a row id for their pictures), and where a classified file is now. Read-only.
 */
import { join } from 'node:path';
import type { Project } from './project.js';

export interface ImageRecord {
  id: number;
  path: string;
  rootPath: string | null;
  size: number | null;
  mtimeMs: number | null;
  hash: string | null;
  width: number | null;
  height: number | null;
  format: string | null;
  status: 'ok' | 'error' | 'missing';
  error: string | null;
  addedAt: number;
  label: { classId: number; source: 'human' | 'model'; confidence: number | null } | null;
  prediction: { classId: number; confidence: number } | null;
}

interface ImageRow {
  id: number;
  path: string;
  root_path: string | null;
  size: number | null;
  mtime_ms: number | null;
  hash: string | null;
  width: number | null;
  height: number | null;
  format: string | null;
  status: ImageRecord['status'];
  error: string | null;
  added_at: number;
  l_class: number | null;
  l_source: 'human' | 'model' | null;
  l_confidence: number | null;
  p_class: number | null;
  p_confidence: number | null;
}

export function findImage(project: Project, id: number): ImageRecord | undefined {
  const row = project
    .statement(
      `SELECT i.id, i.path, r.path AS root_path, i.size, i.mtime_ms, i.hash, i.width, i.height, i.format, i.status,
              i.error, i.added_at, l.class_id AS l_class, l.source AS l_source, l.confidence AS l_confidence,
              p.class_id AS p_class, p.confidence AS p_confidence
         FROM images i
         LEFT JOIN roots r ON r.id = i.root_id
         LEFT JOIN labels l ON l.image_id = i.id
         LEFT JOIN predictions_review p ON p.image_id = i.id
        WHERE i.id = ?`,
    )
    .get(id) as ImageRow | undefined;
  if (!row) return undefined;
  return {
    id: row.id,
    path: row.path,
    rootPath: row.root_path,
    size: row.size,
    mtimeMs: row.mtime_ms,
    hash: row.hash,
    width: row.width,
    height: row.height,
    format: row.format,
    status: row.status,
    error: row.error,
    addedAt: row.added_at,
    label:
      row.l_class === null
        ? null
        : { classId: row.l_class, source: row.l_source!, confidence: row.l_confidence },
    prediction: row.p_class === null ? null : { classId: row.p_class, confidence: row.p_confidence! },
  };
}

export interface PredictionRow {
  /** The row id of the prediction (stable; used in media URLs). */
  id: number;
  jobId: number;
  /** Path relative to the job's source folder, '/' separated. */
  path: string;
  label: string | null;
  confidence: number | null;
  probs: Record<string, number>;
  error: string | null;
}

export interface PredictionQuery {
  offset: number;
  limit: number;
  order: 'path' | 'confidence-asc' | 'confidence-desc';
  label?: string;
  maxConfidence?: number;
}

const ORDER_BY: Record<PredictionQuery['order'], string> = {
  path: 'path',
  // Errors (no confidence) come last either way.
  'confidence-asc': 'confidence IS NULL, confidence ASC, path',
  'confidence-desc': 'confidence IS NULL, confidence DESC, path',
};

export function queryPredictions(
  project: Project,
  jobId: number,
  query: PredictionQuery,
): { total: number; items: PredictionRow[] } {
  const where = ['job_id = ?'];
  const params: unknown[] = [jobId];
  if (query.label !== undefined) {
    where.push('label = ?');
    params.push(query.label);
  }
  if (query.maxConfidence !== undefined) {
    where.push('confidence <= ?');
    params.push(query.maxConfidence);
  }
  const clause = where.join(' AND ');
  const total = (
    project.statement(`SELECT count(*) AS n FROM job_predictions WHERE ${clause}`).get(...params) as {
      n: number;
    }
  ).n;
  const rows = project
    .statement(
      `SELECT rowid AS id, job_id, path, label, confidence, probs, error FROM job_predictions
        WHERE ${clause} ORDER BY ${ORDER_BY[query.order]} LIMIT ? OFFSET ?`,
    )
    .all(...params, query.limit, query.offset) as {
    id: number;
    job_id: number;
    path: string;
    label: string | null;
    confidence: number | null;
    probs: string | null;
    error: string | null;
  }[];
  return {
    total,
    items: rows.map((r) => ({
      id: r.id,
      jobId: r.job_id,
      path: r.path,
      label: r.label,
      confidence: r.confidence,
      probs: r.probs ? (JSON.parse(r.probs) as Record<string, number>) : {},
      error: r.error,
    })),
  };
}

/** A classified file by prediction row id: where it was classified, and where a sort moved it (if one did). */
export function predictionFile(
  project: Project,
  id: number,
): { sourceDir: string; path: string; movedTo: string | null } | undefined {
  const row = project
    .statement(
      `SELECT p.path, j.source_dir FROM job_predictions p JOIN jobs j ON j.id = p.job_id WHERE p.rowid = ?`,
    )
    .get(id) as { path: string; source_dir: string | null } | undefined;
  if (!row || !row.source_dir) return undefined;
  // As the sort journals it: the source folder joined with the '/'-separated relative path.
  const absolute = join(row.source_dir, ...row.path.split('/'));
  const moved = project
    .statement(
      `SELECT f.dest FROM file_ops f JOIN jobs s ON s.id = f.job_id
        WHERE s.kind = 'sort' AND f.op = 'move' AND f.state = 'done' AND f.source = ?
        ORDER BY f.id DESC LIMIT 1`,
    )
    .get(absolute) as { dest: string } | undefined;
  return { sourceDir: row.source_dir, path: absolute, movedTo: moved?.dest ?? null };
}
