/**
 * The sort history's query: the newest jobs with what each did (files classified, files per destination folder,
 * operations per state), counted in SQLite. Kept apart from jobs-repo.ts, which holds the journal itself.
 */
import { listJobs, type FileOpCounts, type FileOpState, type Job } from './jobs-repo.js';
import type { Project } from './project.js';

/** What the sort history shows of one job, besides the job itself. */
export interface JobFacts {
  /** Classify: files classified (with or without an error). */
  predictions: number;
  /** Classify: files that could not be read. */
  predictionErrors: number;
  /** Sort: files now in each destination folder (class name or `_unsure`), moved or copied or already there. */
  placed: Record<string, number>;
  /** File operations per state (sorts and undos). */
  ops: FileOpCounts;
}

function emptyCounts(): FileOpCounts {
  return { planned: 0, started: 0, done: 0, skipped_identical: 0, failed: 0, undone: 0 };
}

/**
 * The newest jobs with their facts, in three grouped queries over the listed jobs (a sort of 100,000 files is
 * counted in SQLite, not loaded). A sorted file's folder is the first path part of its destination below the
 * job's output folder.
 */
export function jobHistory(project: Project, limit = 200): { job: Job; facts: JobFacts }[] {
  const jobs = listJobs(project, limit);
  if (jobs.length === 0) return [];
  const facts = new Map<number, JobFacts>(
    jobs.map((job) => [job.id, { predictions: 0, predictionErrors: 0, placed: {}, ops: emptyCounts() }]),
  );
  const oldest = jobs.at(-1)!.id;
  const predictions = project
    .statement(
      `SELECT job_id AS id, count(*) AS n, count(error) AS errors FROM job_predictions
       WHERE job_id >= ? GROUP BY job_id`,
    )
    .all(oldest) as { id: number; n: number; errors: number }[];
  for (const row of predictions) {
    const entry = facts.get(row.id);
    if (entry) Object.assign(entry, { predictions: row.n, predictionErrors: row.errors });
  }
  const ops = project
    .statement(
      `SELECT job_id AS id, state, count(*) AS n FROM file_ops WHERE job_id >= ? GROUP BY job_id, state`,
    )
    .all(oldest) as { id: number; state: FileOpState; n: number }[];
  for (const row of ops) {
    const entry = facts.get(row.id);
    if (entry) entry.ops[row.state] = row.n;
  }
  const placed = project
    .statement(
      `SELECT id, substr(rel, 1, instr(replace(rel, '\\', '/') || '/', '/') - 1) AS folder, count(*) AS n
       FROM (SELECT f.job_id AS id, substr(f.dest, length(j.out_dir) + 2) AS rel
             FROM file_ops f JOIN jobs j ON j.id = f.job_id
             WHERE f.job_id >= ? AND j.kind = 'sort' AND f.state IN ('done', 'skipped_identical'))
       GROUP BY id, folder`,
    )
    .all(oldest) as { id: number; folder: string; n: number }[];
  for (const row of placed) {
    const entry = facts.get(row.id);
    if (entry) entry.placed[row.folder] = row.n;
  }
  return jobs.map((job) => ({ job, facts: facts.get(job.id)! }));
}
