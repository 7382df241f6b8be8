import type { Command } from 'commander';
import { importFolder, type ImportProgress } from '../../store/import.js';
import { openProjectForCommand } from '../project.js';
import { defineAction, UsageError } from '../command.js';

interface ImportOptions {
  project: string;
  folderLabels: boolean;
}

function formatEta(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds >= 60 ? `${Math.floor(seconds / 60)} min ${seconds % 60} s` : `${seconds} s`;
}

function describeProgress(p: ImportProgress): string {
  switch (p.phase) {
    case 'scan':
      return `scanning: ${p.found} images found`;
    case 'probe':
      return `reading ${p.processed}/${p.total} (${p.rate.toFixed(1)}/s, about ${formatEta(p.etaMs)} left)`;
    case 'thumbnails':
      return `thumbnails ${p.processed}/${p.total} (${p.rate.toFixed(1)}/s, about ${formatEta(p.etaMs)} left)`;
    case 'done':
      return `done: ${p.found} images`;
  }
}

export function registerImport(program: Command): void {
  defineAction<ImportOptions>(
    program
      .command('import')
      .description('import a folder of images into a project (created when missing); re-run to rescan')
      .argument('<dir>', 'folder to import; its first-level subfolders name the classes')
      .requiredOption('--project <file>', 'the project file (.sorta)')
      .option('--no-folder-labels', 'do not turn first-level folder names into labels'),
    async ({ args, opts, out }) => {
      const dir = args[0];
      if (!dir) throw new UsageError('import needs a folder');
      const { project } = await openProjectForCommand(opts.project, out);
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once('SIGINT', onSignal);
      let lastProgress = 0;
      try {
        const result = await importFolder(project, dir, {
          folderLabels: opts.folderLabels,
          signal: controller.signal,
          onProgress: (p) => {
            const now = performance.now();
            if (p.phase !== 'done' && now - lastProgress < 250 && p.processed !== p.total) return;
            lastProgress = now;
            out.progress(describeProgress(p));
          },
        });
        const doc = {
          imported: result.imported,
          labeled: result.labeled,
          classes: result.classes,
          errors: result.errors,
        };
        const human = [
          `imported ${result.imported} new images, labelled ${result.labeled} from folder names` +
            (result.changed || result.missing || result.unchanged
              ? `; ${result.unchanged} unchanged, ${result.changed} changed, ${result.missing} missing`
              : ''),
          `classes: ${result.classes.length ? result.classes.join(', ') : '(none)'}`,
          ...(result.errors.length
            ? [
                `${result.errors.length} files could not be used:`,
                ...result.errors.map((e) => `  ${e.file}: ${e.error}`),
              ]
            : []),
        ].join('\n');
        out.result(doc, human);
      } finally {
        process.off('SIGINT', onSignal);
        project.close();
      }
    },
  );
}
