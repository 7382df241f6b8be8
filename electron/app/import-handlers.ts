/** import.folder: the store's importFolder as a cancellable job reporting progress per phase. */
import { resolve } from 'node:path';
import type { ImportResult } from '../contract/index.js';
import { importFolder, type ImportPhase } from '../store/import.js';
import type { AppContext } from './context.js';
import type { Registry } from './registry.js';

const PHASE_MESSAGES: Record<ImportPhase, string> = {
  scan: 'Looking for images',
  probe: 'Reading image headers',
  thumbnails: 'Making thumbnails',
  done: 'Done',
};

export function setupImport(registry: Registry, ctx: AppContext): void {
  registry.handle('import.folder', async ({ path, folderLabels, jobId }) => {
    const project = ctx.project();
    const dir = resolve(path);
    try {
      return await ctx.jobs.run(
        'import',
        `Importing ${dir}`,
        jobId,
        async (job): Promise<ImportResult> => {
          const result = await importFolder(project, dir, {
            folderLabels,
            signal: job.signal,
            onProgress: (p) =>
              job.progress({
                done: p.phase === 'scan' ? p.found : p.processed,
                total: p.phase === 'scan' ? null : p.total,
                unit: 'images',
                message: PHASE_MESSAGES[p.phase],
              }),
          });
          return {
            imported: result.imported,
            labeled: result.labeled,
            classes: result.classes,
            errors: result.errors,
          };
        },
        { input: { path: dir, folderLabels }, exclusive: 'import' },
      );
    } finally {
      ctx.emit({ type: 'data.changed', topics: ['images', 'labels', 'classes'] });
    }
  });
}
