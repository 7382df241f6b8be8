import type { Command } from 'commander';
import type { RecoveredJob } from '../../sort/recover.js';
import { undoSort, type UndoOutcome } from '../../sort/undo.js';
import { getJob } from '../../store/jobs-repo.js';
import type { Project } from '../../store/project.js';
import { defineAction, parseIntOption } from '../command.js';
import { openProjectForCommand } from '../project.js';

interface UndoOptions {
  project: string;
  job?: number;
}

export function registerUndo(program: Command): void {
  defineAction<UndoOptions>(
    program
      .command('undo')
      .description('put the files of the last sort (or of --job) back where they were')
      .requiredOption('--project <file>', 'the project file (.sorta)')
      .option(
        '--job <id>',
        'the sort job (or the classify job it sorted) to undo',
        parseIntOption('--job', 1),
      ),
    async ({ opts, out }) => {
      const { project, recovered } = await openProjectForCommand(opts.project, out, { create: false });
      try {
        // An undo that was interrupted and is now finished was this command's work: report it, undo nothing more.
        const result =
          finishedUndoOf(project, recovered, opts.job) ??
          (await undoSort(project, {
            jobId: opts.job,
            onProgress: ({ done, total }) => out.progress(`undo: ${done}/${total} files`),
          }));
        const doc = {
          job: result.jobId,
          undoJob: result.undoJobId,
          restored: result.restored,
          errors: result.problems,
        };
        const human = [
          `undid job ${result.jobId}: ${result.restored} file(s) back where they were`,
          ...(result.problems.length
            ? [
                `${result.problems.length} file(s) left as they are:`,
                ...result.problems.map((p) => `  ${p.error}`),
              ]
            : []),
        ].join('\n');
        out.result(doc, human);
      } finally {
        project.close();
      }
    },
  );
}

/**
 * The interrupted undo that recovery just finished, when it is the one this command asks for: the newest when no
 * --job is given, else the undo of that sort job (or of the sort a classify job made).
 */
function finishedUndoOf(
  project: Project,
  recovered: readonly RecoveredJob[],
  jobId: number | undefined,
): UndoOutcome | null {
  const undos = recovered.flatMap((job) => (job.undo ? [job.undo] : []));
  if (jobId === undefined) return undos.at(-1) ?? null;
  return (
    undos.find((undo) => undo.jobId === jobId || getJob(project, undo.jobId)?.parentJobId === jobId) ?? null
  );
}
