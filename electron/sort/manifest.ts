/**
 * Manifests of a job's predictions — file, label, confidence, per-class probabilities, destination — as CSV (one
 * column per class) and JSON.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { childJobs, fileOps, getJob, jobPredictions } from '../store/jobs-repo.js';
import type { Project } from '../store/project.js';
import { SortaError } from '../shared/errors.js';
import { fsReason } from './paths.js';

export interface ManifestRow {
  file: string;
  label: string | null;
  confidence: number | null;
  probs: Record<string, number>;
  /** Where the file is now ('' when it was not sorted), or the error that kept it from being read. */
  destination: string | null;
  state: string | null;
  error: string | null;
}

export function manifestRows(project: Project, jobId: number): ManifestRow[] {
  const job = getJob(project, jobId);
  if (!job || (job.kind !== 'classify' && job.kind !== 'sort'))
    throw new SortaError('not-found', `There is no classify or sort job ${jobId} in ${project.path}.`);
  // Predictions live on the classify job; destinations on the sort made from it (the newest, for a classify id).
  const classifyId = job.kind === 'sort' ? job.parentJobId! : job.id;
  const sortJob = job.kind === 'sort' ? job : childJobs(project, job.id, 'sort')[0];
  const opBySource = new Map((sortJob ? fileOps(project, sortJob.id) : []).map((op) => [op.source, op]));
  const sourceDir = getJob(project, classifyId)?.sourceDir ?? '';
  return jobPredictions(project, classifyId).map((p) => {
    const op = opBySource.get(join(sourceDir, ...p.path.split('/')));
    return {
      file: p.path,
      label: p.label,
      confidence: p.confidence,
      probs: p.probs ?? {},
      destination: op && (op.state === 'done' || op.state === 'skipped_identical') ? op.dest : null,
      state: op?.state ?? null,
      error: p.error ?? (op?.state === 'failed' ? op.error : null),
    };
  });
}

function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function manifestCsv(rows: readonly ManifestRow[], classes?: readonly string[]): string {
  const columns = classes ?? [...new Set(rows.flatMap((r) => Object.keys(r.probs)))].sort();
  const header = ['file', 'label', 'confidence', 'destination', 'error', ...columns.map((c) => `p(${c})`)];
  const lines = [header.map(csvField).join(',')];
  for (const r of rows)
    lines.push(
      [
        r.file,
        r.label,
        r.confidence,
        r.destination,
        r.error,
        ...columns.map((c) => (c in r.probs ? r.probs[c] : null)),
      ]
        .map(csvField)
        .join(','),
    );
  return lines.join('\n') + '\n';
}

/** Writes `sorta-job-<id>.csv` and `.json` into `dir` (never over an existing file); returns their paths. */
export function writeManifests(
  project: Project,
  jobId: number,
  dir: string,
  classes?: readonly string[],
): { csv: string; json: string } {
  const rows = manifestRows(project, jobId);
  const csv = join(dir, `sorta-job-${jobId}.csv`);
  const json = join(dir, `sorta-job-${jobId}.json`);
  try {
    writeFileSync(csv, manifestCsv(rows, classes), { flag: 'wx' });
    writeFileSync(json, JSON.stringify({ job: jobId, predictions: rows }, null, 2) + '\n', { flag: 'wx' });
  } catch (error) {
    throw new SortaError(
      'io',
      `Cannot write the manifests of job ${jobId} into ${dir}: ${fsReason(error)}.`,
      {
        cause: error,
      },
    );
  }
  return { csv, json };
}
