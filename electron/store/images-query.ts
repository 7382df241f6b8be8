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
   * same as the first; combine with offset 0. Paths are unique, so the path alone places the page.
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

/**
 * How a filter's matches are found in path order. Label and prediction rows carry their image's path (migration 2),
 * so one class's labels, or the predictions, can be walked in path order by index, touching only those rows; the
 * unlabelled images are the merge of two path-ordered indexes, images EXCEPT labels. Only filters on the image alone
 * walk the images. Deep pages by offset then cost a walk of cheap index entries, not a lookup per image.
 */
type Driver = 'images' | 'labels' | 'predictions' | 'unlabelled';

function driverFor(filter: ImageFilter): Driver {
  if (filter.classId !== undefined) {
    if (filter.unlabelled)
      throw new SortaError(
        'invalid-input',
        'An image cannot be both unlabelled and of a class: choose one filter.',
      );
    return 'labels';
  }
  if (filtersPredictions(filter)) return 'predictions';
  return filter.unlabelled ? 'unlabelled' : 'images';
}

function filtersPredictions(filter: ImageFilter): boolean {
  return (
    filter.predictedClassId !== undefined ||
    filter.confidenceMin !== undefined ||
    filter.confidenceMax !== undefined
  );
}

/**
 * The walked table's path column: the page order. Paths are unique (images.path is UNIQUE), so the path alone is a
 * total order, equal to (path, id), and the path-first indexes serve it without a sort.
 */
const ORDER_PATH: Record<Driver, string> = {
  images: 'i.path',
  unlabelled: 'i.path',
  labels: 'l.path',
  predictions: 'p.path',
};

/** Conditions on the image row itself (status, path text, root). */
function imageConditions(filter: ImageFilter): { conditions: string[]; params: unknown[] } {
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
  if (filter.pathContains) {
    // LIKE is case-insensitive for ASCII, as SQLite's lower() is, and much cheaper per row than instr(lower()).
    conditions.push("i.path LIKE ? ESCAPE '\\'");
    params.push(`%${filter.pathContains.replace(/[\\%_]/g, '\\$&')}%`);
  }
  if (filter.rootId !== undefined) {
    conditions.push('i.root_id = ?');
    params.push(filter.rootId);
  }
  return { conditions, params };
}

/** Conditions on the walked label or prediction rows. */
function rowConditions(filter: ImageFilter, driver: Driver): { conditions: string[]; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (driver === 'labels') {
    conditions.push('l.class_id = ?');
    params.push(filter.classId);
  }
  if (driver === 'predictions' && filter.unlabelled)
    conditions.push('NOT EXISTS (SELECT 1 FROM labels u WHERE u.image_id = p.image_id)');
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
  return { conditions, params };
}

const FROM: Record<Exclude<Driver, 'unlabelled'>, string> = {
  images: 'FROM images i',
  labels: 'FROM labels l CROSS JOIN images i ON i.id = l.image_id',
  predictions: 'FROM predictions_review p CROSS JOIN images i ON i.id = p.image_id',
};

/**
 * The matching images' paths, one column, and the ORDER BY (page order) that the walked index satisfies. `after`
 * starts past that path.
 */
function matches(
  filter: ImageFilter,
  after: ImageQuery['after'],
): { sql: string; params: unknown[]; orderBy: string } {
  const driver = driverFor(filter);
  const path = ORDER_PATH[driver];
  const image = imageConditions(filter);
  const where = (list: string[]) => (list.length ? `WHERE ${list.join(' AND ')}` : '');
  const afterPath = (column: string) => (after ? [`${column} > ?`] : []);
  const afterParams = after ? [after.path] : [];
  if (driver === 'unlabelled') {
    // A merge of two path-ordered indexes (SQLite's MERGE (EXCEPT)), with no lookup per image. Labels of images
    // that are not listed (another status) are simply not in the left side.
    return {
      sql:
        `SELECT i.path FROM images i ${where([...image.conditions, ...afterPath('i.path')])} ` +
        `EXCEPT SELECT l.path FROM labels l ${where(afterPath('l.path'))}`,
      params: [...image.params, ...afterParams, ...afterParams],
      orderBy: 'ORDER BY 1',
    };
  }
  const rows = rowConditions(filter, driver);
  let from = FROM[driver];
  if (driver === 'labels' && filtersPredictions(filter))
    from += ' JOIN predictions_review p ON p.image_id = l.image_id';
  return {
    sql: `SELECT ${path} ${from} ${where([...rows.conditions, ...image.conditions, ...afterPath(path)])}`,
    params: [...rows.params, ...image.params, ...afterParams],
    orderBy: `ORDER BY ${path}`,
  };
}

export function queryImages(project: Project, query: ImageQuery = {}): ImageItem[] {
  const limit = query.limit ?? 200;
  const offset = query.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new SortaError('invalid-input', `Page size must be an integer from 1 to 1000, got ${limit}.`);
  if (!Number.isInteger(offset) || offset < 0)
    throw new SortaError('invalid-input', `Offset must be a non-negative integer, got ${offset}.`);
  const { sql, params, orderBy } = matches(query, query.after);
  // Two steps: find the page's paths walking only what the filter needs, then join the label and prediction
  // columns for those rows alone.
  const rows = project
    .statement(
      `WITH page(path) AS MATERIALIZED (${sql} ${orderBy} LIMIT ? OFFSET ?)
       SELECT i.id, i.path, i.root_id, i.size, i.mtime_ms, i.hash, i.width, i.height, i.format, i.status, i.error,
              l.class_id AS l_class, l.source AS l_source, l.confidence AS l_confidence, l.model_id AS l_model,
              p.class_id AS p_class, p.confidence AS p_confidence, p.model_id AS p_model
       FROM page CROSS JOIN images i ON i.path = page.path
       LEFT JOIN labels l ON l.image_id = i.id
       LEFT JOIN predictions_review p ON p.image_id = i.id
       ORDER BY page.path`,
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
  const { sql, params } = matches(filter, undefined);
  return project
    .statement(`SELECT count(*) FROM (${sql})`)
    .pluck()
    .get(...params) as number;
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
