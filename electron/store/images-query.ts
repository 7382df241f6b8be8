/**
 * Filtered, paginated image queries with a stable order (path, then id), for the grid and the CLI. Each distinct
 * combination of filters compiles to one statement that the project caches.
 */
import { SortaError } from '../shared/errors.js';
import type { Project } from './project.js';

export type ImageStatus = 'ok' | 'error' | 'missing';

export interface ImageFilter {
  /** Images whose current label is this class. */
  classId?: number;
  /** Images without a label. */
  unlabelled?: boolean;
  /** Shorthand for status 'error': files that could not be used. */
  errors?: boolean;
  /** Status to list; default 'ok' ('error' with `errors`), 'any' for all. */
  status?: ImageStatus | 'any';
  /** Images a model predicts as this class (predictions_review). */
  predictedClassId?: number;
  /** Prediction confidence range, inclusive (predictions_review.confidence). */
  confidenceMin?: number;
  confidenceMax?: number;
  /** Case-insensitive substring of the path. */
  pathContains?: string;
  rootId?: number;
}

export interface ImageQuery extends ImageFilter {
  /**
   * Keyset pagination: the page starts after this image (the last one of the previous page). Deep pages cost the
   * same as the first; combine with offset 0.
   */
  after?: { path: string; id: number };
  offset?: number;
  /** Page size, 1..1000 (default 200). */
  limit?: number;
}

export interface ImageItem {
  id: number;
  path: string;
  rootId: number | null;
  size: number | null;
  mtimeMs: number | null;
  hash: string | null;
  width: number | null;
  height: number | null;
  format: string | null;
  status: ImageStatus;
  error: string | null;
  label: {
    classId: number;
    source: 'human' | 'model';
    confidence: number | null;
    modelId: number | null;
  } | null;
  prediction: { classId: number; confidence: number; modelId: number | null } | null;
}

interface Row {
  id: number;
  path: string;
  root_id: number | null;
  size: number | null;
  mtime_ms: number | null;
  hash: string | null;
  width: number | null;
  height: number | null;
  format: string | null;
  status: ImageStatus;
  error: string | null;
  l_class: number | null;
  l_source: 'human' | 'model' | null;
  l_confidence: number | null;
  l_model: number | null;
  p_class: number | null;
  p_confidence: number | null;
  p_model: number | null;
}

function whereClause(filter: ImageFilter): { sql: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  const status = filter.status ?? (filter.errors ? 'error' : 'ok');
  if (filter.errors && filter.status && filter.status !== 'error' && filter.status !== 'any')
    throw new SortaError(
      'invalid-input',
      `The errors filter cannot be combined with status '${filter.status}'.`,
    );
  if (status !== 'any') {
    conditions.push('i.status = ?');
    params.push(status);
  }
  if (filter.classId !== undefined) {
    if (filter.unlabelled)
      throw new SortaError(
        'invalid-input',
        'An image cannot be both unlabelled and of a class: choose one filter.',
      );
    conditions.push('l.class_id = ?');
    params.push(filter.classId);
  }
  if (filter.unlabelled) conditions.push('l.image_id IS NULL');
  if (filter.predictedClassId !== undefined) {
    conditions.push('p.class_id = ?');
    params.push(filter.predictedClassId);
  }
  if (filter.confidenceMin !== undefined) {
    conditions.push('p.confidence >= ?');
    params.push(filter.confidenceMin);
  }
  if (filter.confidenceMax !== undefined) {
    conditions.push('p.confidence <= ?');
    params.push(filter.confidenceMax);
  }
  if (filter.pathContains) {
    conditions.push('instr(lower(i.path), lower(?)) > 0');
    params.push(filter.pathContains);
  }
  if (filter.rootId !== undefined) {
    conditions.push('i.root_id = ?');
    params.push(filter.rootId);
  }
  return { sql: conditions.length ? `WHERE ${conditions.join(' AND ')}` : '', params };
}

type Driver = 'images' | 'labels' | 'predictions';

/**
 * The joins, with the table SQLite's outer loop walks (CROSS JOIN fixes the order). Walking images in path order
 * needs no sort and stops after offset + limit matches; walking one class's labels (or predictions) by index
 * touches only that class but sorts it. queryImages picks the cheaper for each page.
 */
function fromClause(driver: Driver, joins: { labels: boolean; predictions: boolean } = ALL_JOINS): string {
  const labels = joins.labels ? 'LEFT JOIN labels l ON l.image_id = i.id' : '';
  const predictions = joins.predictions ? 'LEFT JOIN predictions_review p ON p.image_id = i.id' : '';
  if (driver === 'labels') return `FROM labels l CROSS JOIN images i ON i.id = l.image_id ${predictions}`;
  if (driver === 'predictions')
    return `FROM predictions_review p CROSS JOIN images i ON i.id = p.image_id ${labels}`;
  return `FROM images i ${labels} ${predictions}`;
}

const ALL_JOINS = { labels: true, predictions: true };

/** The joins a filter needs to decide which images match (the page's own columns are joined afterwards). */
function joinsFor(filter: ImageFilter): { labels: boolean; predictions: boolean } {
  return {
    labels: filter.classId !== undefined || Boolean(filter.unlabelled),
    predictions:
      filter.predictedClassId !== undefined ||
      filter.confidenceMin !== undefined ||
      filter.confidenceMax !== undefined,
  };
}

/**
 * Rows the path-order walk reads to fill the page ≈ (offset + limit) × images / class size; the class walk reads
 * the class and sorts it (≈ 3 × class size). Both counts come from indexes.
 */
function chooseDriver(project: Project, filter: ImageFilter, rowsWanted: number): Driver {
  const candidates: [Driver, number][] = [];
  if (filter.classId !== undefined)
    candidates.push([
      'labels',
      project
        .statement('SELECT count(*) FROM labels WHERE class_id = ?')
        .pluck()
        .get(filter.classId) as number,
    ]);
  if (filter.predictedClassId !== undefined)
    candidates.push([
      'predictions',
      project
        .statement('SELECT count(*) FROM predictions_review WHERE class_id = ?')
        .pluck()
        .get(filter.predictedClassId) as number,
    ]);
  if (candidates.length === 0) return 'images';
  const [driver, size] = candidates.sort((x, y) => x[1] - y[1])[0];
  // Path text can match anywhere in path order (often one folder at the end), so the bounded class walk wins.
  if (filter.pathContains) return driver;
  const images = project.statement('SELECT count(*) FROM images').pluck().get() as number;
  const pathWalk = (rowsWanted * images) / Math.max(1, size);
  return pathWalk > 3 * size ? driver : 'images';
}

export function queryImages(project: Project, query: ImageQuery = {}): ImageItem[] {
  const limit = query.limit ?? 200;
  const offset = query.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new SortaError('invalid-input', `Page size must be an integer from 1 to 1000, got ${limit}.`);
  if (!Number.isInteger(offset) || offset < 0)
    throw new SortaError('invalid-input', `Offset must be a non-negative integer, got ${offset}.`);
  const { sql: filterSql, params } = whereClause(query);
  let sql = filterSql;
  if (query.after) {
    sql += `${sql ? ' AND' : 'WHERE'} (i.path, i.id) > (?, ?)`;
    params.push(query.after.path, query.after.id);
  }
  // Two steps: find the page's ids walking only what the filter needs (deep offsets skip rows cheaply), then join
  // the label and prediction columns for those rows alone.
  const driver = chooseDriver(project, query, offset + limit);
  const rows = project
    .statement(
      `WITH page AS MATERIALIZED (
         SELECT i.id AS id ${fromClause(driver, joinsFor(query))} ${sql} ORDER BY i.path, i.id LIMIT ? OFFSET ?
       )
       SELECT i.id, i.path, i.root_id, i.size, i.mtime_ms, i.hash, i.width, i.height, i.format, i.status, i.error,
              l.class_id AS l_class, l.source AS l_source, l.confidence AS l_confidence, l.model_id AS l_model,
              p.class_id AS p_class, p.confidence AS p_confidence, p.model_id AS p_model
       FROM page CROSS JOIN images i ON i.id = page.id
       LEFT JOIN labels l ON l.image_id = i.id
       LEFT JOIN predictions_review p ON p.image_id = i.id
       ORDER BY i.path, i.id`,
    )
    .all(...params, limit, offset) as Row[];
  return rows.map((r) => ({
    id: r.id,
    path: r.path,
    rootId: r.root_id,
    size: r.size,
    mtimeMs: r.mtime_ms,
    hash: r.hash,
    width: r.width,
    height: r.height,
    format: r.format,
    status: r.status,
    error: r.error,
    label:
      r.l_class === null
        ? null
        : { classId: r.l_class, source: r.l_source!, confidence: r.l_confidence, modelId: r.l_model },
    prediction:
      r.p_class === null ? null : { classId: r.p_class, confidence: r.p_confidence!, modelId: r.p_model },
  }));
}

/** How many images match the filter (for the grid's scroll size). */
export function countImages(project: Project, filter: ImageFilter = {}): number {
  const { sql, params } = whereClause(filter);
  return (
    project
      .statement(
        `SELECT count(*) AS n ${fromClause(chooseDriver(project, filter, Infinity), joinsFor(filter))} ${sql}`,
      )
      .get(...params) as { n: number }
  ).n;
}

/** Counts by status, for the project summary. */
export function imageStatusCounts(project: Project): Record<ImageStatus, number> {
  const counts: Record<ImageStatus, number> = { ok: 0, error: 0, missing: 0 };
  for (const row of project.statement('SELECT status, count(*) AS n FROM images GROUP BY status').all() as {
    status: ImageStatus;
    n: number;
  }[])
    counts[row.status] = row.n;
  return counts;
}
