import type { Command } from 'commander';
import { classifyFolder } from '../../sort/classify.js';
import { writeManifests } from '../../sort/manifest.js';
import { checkSortTarget } from '../../sort/paths.js';
import { sortClassified, type SortOutcome } from '../../sort/sort.js';
import { defineAction, parseFloatOption, parseIntOption, UsageError } from '../command.js';
import { formatRate } from '../output.js';
import { openProjectForCommand } from '../project.js';

interface ClassifyOptions {
  project: string;
  model?: number;
  threshold: number;
  sortInto?: string;
  copy?: boolean;
  move?: boolean;
  dryRun?: boolean;
  review?: boolean;
  manifest?: string;
  weights?: string;
}

export const DEFAULT_THRESHOLD = 0.5;

export function registerClassify(program: Command): void {
  defineAction<ClassifyOptions>(
    program
      .command('classify')
      .description(
        'classify every image under DIR with a trained model; optionally sort the files into class folders',
      )
      .argument('<dir>', 'folder of images (searched recursively; hidden files skipped)')
      .requiredOption('--project <file>', 'the project file (.sorta)')
      .option('--model <id>', 'model to use (default: the newest)', parseIntOption('--model', 1))
      .option(
        '--threshold <p>',
        'files whose top probability is below go to _unsure/',
        parseFloatOption('--threshold', 0, 1),
        DEFAULT_THRESHOLD,
      )
      .option('--sort-into <out>', 'sort the files into OUT/<class>/ and OUT/_unsure/')
      .option('--copy', 'copy the files (default)')
      .option('--move', 'move the files instead of copying them')
      .option('--dry-run', 'show what sorting would do, touch nothing')
      .option('--review', 'also store the predictions in the project for review (least confident first)')
      .option('--manifest <dir>', 'write the predictions as sorta-job-<id>.csv and .json into this folder')
      .option('--weights <file>', 'the weights file the model was trained on, if it moved'),
    async ({ args, opts, out }) => {
      const dir = args[0];
      if (!dir) throw new UsageError('classify needs a folder');
      if (opts.copy && opts.move) throw new UsageError('choose one of --copy and --move');
      if ((opts.copy || opts.move || opts.dryRun) && !opts.sortInto)
        throw new UsageError('--copy, --move and --dry-run go with --sort-into OUT');
      const { project } = await openProjectForCommand(opts.project, out, { create: false });
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once('SIGINT', onSignal);
      try {
        // Refuse a dangerous output folder before spending minutes classifying.
        if (opts.sortInto) checkSortTarget(dir, opts.sortInto, { dryRun: true });
        const started = Date.now();
        const classified = await classifyFolder(project, dir, {
          modelId: opts.model,
          review: opts.review,
          weightsPath: opts.weights,
          signal: controller.signal,
          onProgress: ({ done, total }) =>
            out.progress(`classify: ${done}/${total} images (${formatRate(done, Date.now() - started)})`),
        });
        let sorted: SortOutcome | null = null;
        if (opts.sortInto) {
          sorted = await sortClassified(project, classified.jobId, {
            outDir: opts.sortInto,
            threshold: opts.threshold,
            mode: opts.move ? 'move' : 'copy',
            dryRun: opts.dryRun,
            signal: controller.signal,
            onProgress: ({ done, total }) => out.progress(`sort: ${done}/${total} files`),
          });
        }
        if (opts.manifest) {
          const written = writeManifests(
            project,
            sorted?.jobId ?? classified.jobId,
            opts.manifest,
            classified.classes,
          );
          out.log(`manifests: ${written.csv}, ${written.json}`);
        }
        const errors = [...classified.errors, ...(sorted?.failures ?? [])];
        const doc = {
          job: classified.jobId,
          predictions: classified.predictions.map((p) => ({
            file: p.file,
            label: p.label,
            confidence: p.confidence,
            probs: p.probs,
          })),
          sorted: sorted?.sorted ?? {},
          errors,
          // What the sort did not do: files that failed (also in errors) and files a cancel left where they were.
          folders: sorted?.folders ?? {},
          cancelled: sorted?.state === 'cancelled',
          failed: sorted?.failures ?? [],
          notSorted: sorted?.pending ?? [],
        };
        out.result(doc, describe(classified.jobId, classified.predictions.length, sorted, errors, opts));
        // A sort that did not do all it was asked (cancelled, or files it could not sort) is not a success.
        if (sorted && !sorted.dryRun && (doc.cancelled || doc.failed.length > 0)) process.exitCode = 1;
      } finally {
        process.off('SIGINT', onSignal);
        project.close();
      }
    },
  );
}

function describe(
  job: number,
  count: number,
  sorted: SortOutcome | null,
  errors: { file: string; error: string }[],
  opts: ClassifyOptions,
): string {
  const lines = [`job ${job}: classified ${count} images`];
  if (sorted) {
    const counts = Object.entries(sorted.sorted)
      .map(([folder, n]) => `${folder} ${n}`)
      .join(', ');
    if (sorted.dryRun) {
      lines.push(`dry run — would ${sorted.plan.mode} into ${sorted.plan.outDir}: ${counts || 'nothing'}`);
      for (const c of sorted.plan.collisions) lines.push(`  renamed: ${c.file} → ${c.dest}`);
      for (const c of sorted.plan.identical) lines.push(`  already there: ${c.file} = ${c.dest}`);
    } else {
      lines.push(`sorted (${sorted.plan.mode}) into ${sorted.plan.outDir}: ${counts || 'nothing'}`);
      if (sorted.state === 'cancelled')
        lines.push(`cancelled: ${sorted.pending.length} file(s) not sorted, left where they were`);
      if (sorted.failures.length) lines.push(`${sorted.failures.length} file(s) could not be sorted`);
      lines.push(`undo with: sorta undo --project ${opts.project} --job ${sorted.jobId}`);
    }
    for (const [label, folder] of Object.entries(sorted.folders))
      if (label !== folder) lines.push(`  class ${JSON.stringify(label)} → folder ${folder}/`);
  }
  if (errors.length)
    lines.push(`${errors.length} file(s) with errors:`, ...errors.map((e) => `  ${e.file}: ${e.error}`));
  return lines.join('\n');
}
