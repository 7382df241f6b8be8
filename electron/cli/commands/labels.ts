import type { Command } from 'commander';
import { classCounts } from '../../store/classes.js';
import { exportLabels } from '../../store/exports.js';
import { openProjectForCommand } from '../project.js';
import { defineAction } from '../command.js';

interface LabelsOptions {
  project: string;
  export?: string;
  force?: boolean;
}

export function registerLabels(program: Command): void {
  defineAction<LabelsOptions>(
    program
      .command('labels')
      .description("show a project's classes and label counts, or export the labels as CSV or JSON")
      .requiredOption('--project <file>', 'the project file (.sorta)')
      .option('--export <file>', 'write the labels to FILE.csv (path,label) or FILE.json')
      .option('--force', 'with --export, replace the file when it exists'),
    async ({ opts, out }) => {
      const { project } = await openProjectForCommand(opts.project, out, { create: false });
      try {
        if (opts.export) {
          const written = await exportLabels(project, opts.export, { overwrite: opts.force });
          out.result(written, `wrote ${written.labels} labels to ${written.file}`);
          return;
        }
        const classes = classCounts(project).map((c) => ({
          name: c.name,
          color: c.color,
          labeled: c.labeled,
          human: c.human,
          model: c.model,
        }));
        out.result(
          { classes },
          classes.length ? classes.map((c) => `${c.name}\t${c.labeled}`).join('\n') : '(no classes)',
        );
      } finally {
        project.close();
      }
    },
  );
}
