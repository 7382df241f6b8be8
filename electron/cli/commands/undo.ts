import type { Command } from 'commander';
import { undoSort } from '../../sort/undo.js';
import { openProject } from '../../store/project.js';
import { defineAction, parseIntOption } from '../command.js';
import { recoverFirst } from './classify.js';

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
      const project = openProject(opts.project, { create: false });
      try {
        await recoverFirst(project, out);
        const result = await undoSort(project, {
          jobId: opts.job,
          onProgress: ({ done, total }) => out.progress(`undo: ${done}/${total} files`),
        });
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
