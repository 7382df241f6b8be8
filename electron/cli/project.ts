/**
 * The one way a CLI command opens a project: open it, then finish or roll back what a crash or a kill left half
 * done (recovery), before the command itself touches anything. Every command that takes `--project` goes through
 * here, so "the next sorta command finishes an interrupted sort" holds whichever command that is.
 */
import { recoverInterruptedJobs, type RecoveredJob } from '../sort/recover.js';
import { openProject, type OpenProjectOptions, type Project } from '../store/project.js';
import type { Output } from './output.js';

export interface OpenedProject {
  project: Project;
  /** Jobs that recovery settled before the command ran. */
  recovered: RecoveredJob[];
}

export async function openProjectForCommand(
  path: string,
  out: Output,
  options: OpenProjectOptions = {},
): Promise<OpenedProject> {
  const project = openProject(path, options);
  try {
    const recovered = await recoverInterruptedJobs(project);
    for (const job of recovered) reportRecovered(job, out);
    return { project, recovered };
  } catch (error) {
    project.close();
    throw error;
  }
}

function reportRecovered(job: RecoveredJob, out: Output): void {
  out.log(
    job.action === 'closed'
      ? `recovered: job ${job.jobId} (${job.kind}) was interrupted before touching any file; marked failed`
      : `recovered: job ${job.jobId} (${job.kind}) was interrupted; finished it` +
          (job.problems.length ? ` (${job.problems.length} file(s) could not be done)` : ''),
  );
  for (const p of job.problems) out.log(`  ${p.file}: ${p.error}`);
}
