/**
 * Jobs (classify, sort, undo), their per-file predictions and the journal of file operations. All SQL of the sort
 * domain lives here. The journal is the safety net of sorting: a file operation is committed here (the project uses
 * synchronous=FULL, so a commit is on disk when it returns) before the filesystem is touched, and recovery reads it
 * back after a crash.
 */
import type { Project } from './project.js';

export type JobKind = 'classify' | 'sort' | 'undo';
export type JobState = 'planned' | 'running' | 'done' | 'failed' | 'cancelled' | 'rolled_back' | 'undone';
/** copy / move a file from source to dest; remove deletes `source` (only a copy Sorta made, when undoing). */
export type FileOpKind = 'copy' | 'move' | 'remove';
export type FileOpState = 'planned' | 'started' | 'done' | 'skipped_identical' | 'failed' | 'undone';

export interface Job {
  id: number;
  kind: JobKind;
  state: JobState;
  modelId: number | null;
  sourceDir: string | null;
  outDir: string | null;
  params: Record<string, unknown>;
  parentJobId: number | null;
  createdAt: number;
  finishedAt: number | null;
  error: string | null;
}

export interface NewJob {
  kind: JobKind;
  state: JobState;
  modelId?: number | null;
  sourceDir?: string | null;
  outDir?: string | null;
  params?: Record<string, unknown>;
  parentJobId?: number | null;
}

export interface JobPrediction {
  /** Path relative to the job's source directory ('/' separated). */
  path: string;
  label: string | null;
  confidence: number | null;
  /** Probability per class (top-k, or all classes when there are few). */
  probs: Record<string, number> | null;
  error: string | null;
}

export interface FileOp {
  id: number;
  jobId: number;
  seq: number;
  op: FileOpKind;
  source: string;
  dest: string;
  temp: string | null;
  size: number | null;
  sha256: string | null;
  state: FileOpState;
  error: string | null;
}

export interface NewFileOp {
  seq: number;
  op: FileOpKind;
  source: string;
  dest: string;
  state?: FileOpState;
  size?: number | null;
  sha256?: string | null;
  error?: string | null;
}

interface JobRow {
  id: number;
  kind: JobKind;
  state: JobState;
  model_id: number | null;
  source_dir: string | null;
  out_dir: string | null;
  params: string;
  parent_job_id: number | null;
  created_at: number;
  finished_at: number | null;
  error: string | null;
}

interface FileOpRow {
  id: number;
  job_id: number;
  seq: number;
  op: FileOpKind;
  source: string;
  dest: string;
  temp: string | null;
  size: number | null;
  sha256: string | null;
  state: FileOpState;
  error: string | null;
}

function toJob(row: JobRow | undefined): Job | undefined {
  if (!row) return undefined;
  return {
    id: row.id,
    kind: row.kind,
    state: row.state,
    modelId: row.model_id,
    sourceDir: row.source_dir,
    outDir: row.out_dir,
    params: JSON.parse(row.params) as Record<string, unknown>,
    parentJobId: row.parent_job_id,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
    error: row.error,
  };
}

function toFileOp(row: FileOpRow): FileOp {
  return {
    id: row.id,
    jobId: row.job_id,
    seq: row.seq,
    op: row.op,
    source: row.source,
    dest: row.dest,
    temp: row.temp,
    size: row.size,
    sha256: row.sha256,
    state: row.state,
    error: row.error,
  };
}

const FINISHED_STATES: readonly JobState[] = ['done', 'failed', 'cancelled', 'rolled_back', 'undone'];

export function createJob(project: Project, job: NewJob): number {
  const result = project
    .statement(
      `INSERT INTO jobs (kind, state, model_id, source_dir, out_dir, params, parent_job_id, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      job.kind,
      job.state,
      job.modelId ?? null,
      job.sourceDir ?? null,
      job.outDir ?? null,
      JSON.stringify(job.params ?? {}),
      job.parentJobId ?? null,
      Date.now(),
    );
  return Number(result.lastInsertRowid);
}

export function getJob(project: Project, id: number): Job | undefined {
  return toJob(project.statement('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined);
}

/** Sets a job's state; a finished state also stamps finished_at. `error` replaces the stored one (null clears it). */
export function setJobState(
  project: Project,
  id: number,
  state: JobState,
  error: string | null = null,
): void {
  const finishedAt = FINISHED_STATES.includes(state) ? Date.now() : null;
  project
    .statement('UPDATE jobs SET state = ?, error = ?, finished_at = ? WHERE id = ?')
    .run(state, error, finishedAt, id);
}

export function updateJobParams(project: Project, id: number, params: Record<string, unknown>): void {
  project.statement('UPDATE jobs SET params = ? WHERE id = ?').run(JSON.stringify(params), id);
}

/** Jobs of the given kinds left in 'planned' or 'running' (by a crash or a kill), oldest first. */
export function unfinishedJobs(project: Project, kinds: readonly JobKind[]): Job[] {
  const rows = project
    .statement(`SELECT * FROM jobs WHERE state IN ('planned', 'running') ORDER BY id`)
    .all() as JobRow[];
  return rows.filter((row) => kinds.includes(row.kind)).map((row) => toJob(row)!);
}

/** Jobs made from `parentId` (sorts of a classification, undos of a sort), newest first. */
export function childJobs(project: Project, parentId: number, kind?: JobKind): Job[] {
  const rows = project
    .statement('SELECT * FROM jobs WHERE parent_job_id = ? ORDER BY id DESC')
    .all(parentId) as JobRow[];
  return rows.filter((row) => !kind || row.kind === kind).map((row) => toJob(row)!);
}

/** Classify, sort and undo jobs, newest first. */
export function listJobs(project: Project, limit = 200): Job[] {
  const rows = project.statement('SELECT * FROM jobs ORDER BY id DESC LIMIT ?').all(limit) as JobRow[];
  return rows.map((row) => toJob(row)!);
}

/** The newest sort job that still has files in place to undo (at least one operation in state 'done'). */
export function latestUndoableSortJob(project: Project): Job | undefined {
  return toJob(
    project
      .statement(
        `SELECT * FROM jobs j WHERE j.kind = 'sort'
           AND EXISTS (SELECT 1 FROM file_ops f WHERE f.job_id = j.id AND f.state = 'done')
         ORDER BY j.id DESC LIMIT 1`,
      )
      .get() as JobRow | undefined,
  );
}

export function insertPredictions(
  project: Project,
  jobId: number,
  predictions: readonly JobPrediction[],
): void {
  const insert = project.statement(
    `INSERT INTO job_predictions (job_id, path, label, confidence, probs, error) VALUES (?, ?, ?, ?, ?, ?)`,
  );
  project.db.transaction(() => {
    for (const p of predictions)
      insert.run(jobId, p.path, p.label, p.confidence, p.probs ? JSON.stringify(p.probs) : null, p.error);
  })();
}

export function jobPredictions(project: Project, jobId: number): JobPrediction[] {
  const rows = project
    .statement(
      'SELECT path, label, confidence, probs, error FROM job_predictions WHERE job_id = ? ORDER BY path',
    )
    .all(jobId) as {
    path: string;
    label: string | null;
    confidence: number | null;
    probs: string | null;
    error: string | null;
  }[];
  return rows.map((r) => ({
    path: r.path,
    label: r.label,
    confidence: r.confidence,
    probs: r.probs ? (JSON.parse(r.probs) as Record<string, number>) : null,
    error: r.error,
  }));
}

/** Journals a whole plan in one transaction (all 'planned' unless a state is given). */
export function insertFileOps(project: Project, jobId: number, ops: readonly NewFileOp[]): void {
  const insert = project.statement(
    `INSERT INTO file_ops (job_id, seq, op, source, dest, size, sha256, state, error)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  project.db.transaction(() => {
    for (const op of ops)
      insert.run(
        jobId,
        op.seq,
        op.op,
        op.source,
        op.dest,
        op.size ?? null,
        op.sha256 ?? null,
        op.state ?? 'planned',
        op.error ?? null,
      );
  })();
}

export function fileOps(project: Project, jobId: number, states?: readonly FileOpState[]): FileOp[] {
  const rows = project
    .statement('SELECT * FROM file_ops WHERE job_id = ? ORDER BY seq')
    .all(jobId) as FileOpRow[];
  return rows.filter((row) => !states || states.includes(row.state)).map(toFileOp);
}

export function fileOpBySeq(project: Project, jobId: number, seq: number): FileOp | undefined {
  const row = project.statement('SELECT * FROM file_ops WHERE job_id = ? AND seq = ?').get(jobId, seq) as
    | FileOpRow
    | undefined;
  return row ? toFileOp(row) : undefined;
}

/** Records, before any filesystem action, that an operation starts, with the content it moves and its temp name. */
export function markFileOpStarted(
  project: Project,
  id: number,
  facts: { size: number; sha256: string; temp: string | null },
): void {
  project
    .statement(
      `UPDATE file_ops SET state = 'started', size = ?, sha256 = ?, temp = ?, error = NULL WHERE id = ?`,
    )
    .run(facts.size, facts.sha256, facts.temp, id);
}

export function setFileOpState(
  project: Project,
  id: number,
  state: FileOpState,
  error: string | null = null,
): void {
  project.statement('UPDATE file_ops SET state = ?, error = ? WHERE id = ?').run(state, error, id);
}

/** Image ids of the project's images at these (real, absolute) paths. */
export function imageIdsByPath(project: Project, paths: readonly string[]): Map<string, number> {
  const find = project.statement('SELECT id FROM images WHERE path = ?').pluck();
  const ids = new Map<string, number>();
  for (const path of paths) {
    const id = find.get(path) as number | undefined;
    if (id !== undefined) ids.set(path, id);
  }
  return ids;
}

/** Runs `fn` in one transaction (synchronous, as better-sqlite3 requires). */
export function inTransaction<T>(project: Project, fn: () => T): T {
  return project.db.transaction(fn)();
}

export interface FileOpCounts {
  planned: number;
  started: number;
  done: number;
  skipped_identical: number;
  failed: number;
  undone: number;
}

export function fileOpCounts(project: Project, jobId: number): FileOpCounts {
  const counts: FileOpCounts = {
    planned: 0,
    started: 0,
    done: 0,
    skipped_identical: 0,
    failed: 0,
    undone: 0,
  };
  const rows = project
    .statement('SELECT state, count(*) AS n FROM file_ops WHERE job_id = ? GROUP BY state')
    .all(jobId) as { state: FileOpState; n: number }[];
  for (const row of rows) counts[row.state] = row.n;
  return counts;
}
