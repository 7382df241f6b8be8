import type { Command } from 'commander';
import { listModels, type ModelSummaryRow } from '../../store/models-repo.js';
import { exportModel, importModel } from '../../train/export.js';
import { openProjectForCommand } from '../project.js';
import { defineAction, UsageError } from '../command.js';

interface ModelsOptions {
  project: string;
  export?: string[];
  import?: string;
  weights?: string;
}

function describe(model: ModelSummaryRow) {
  const valAccuracy = model.metrics.valAccuracy;
  return {
    id: model.id,
    name: model.name,
    arch: model.arch,
    inputSize: model.inputSize,
    headMode: model.headMode,
    classes: model.classes,
    valAccuracy: typeof valAccuracy === 'number' ? valAccuracy : null,
    source: model.params.format === 'onnx' ? 'imported' : 'trained',
    createdAt: new Date(model.createdAt).toISOString(),
    trainMs: model.trainMs,
  };
}

export function registerModels(program: Command): void {
  defineAction<ModelsOptions>(
    program
      .command('models')
      .description("list the project's models; export one as ONNX + metadata.json, or import such a folder")
      .requiredOption('--project <file>', 'the project file (.sorta)')
      .option(
        '--export <id-and-dir...>',
        'export model ID into folder DIR (model.onnx + metadata.json; never overwrites)',
      )
      .option('--import <dir>', 'import a folder written by --export as a new model')
      .option(
        '--weights <file>',
        'with --export: the weights file the model was trained on, if it has moved',
      ),
    async ({ opts, out }) => {
      if (opts.export && opts.import) throw new UsageError('use --export or --import, not both');
      let exportId: number | undefined;
      if (opts.export) {
        const id = Number(opts.export[0]);
        if (opts.export.length !== 2 || !Number.isInteger(id) || id < 1)
          throw new UsageError(
            `--export takes a model id and a folder (--export ID DIR), got '${opts.export.join(' ')}'`,
          );
        exportId = id;
      }
      const { project } = await openProjectForCommand(opts.project, out, { create: false });
      try {
        if (exportId !== undefined) {
          const written = await exportModel(project, exportId, opts.export![1], {
            weightsPath: opts.weights,
          });
          out.result(
            { exported: { model: exportId, dir: written.dir, files: written.files } },
            `model ${exportId} exported to ${written.dir}: ${written.files.map((f) => f.slice(written.dir.length + 1)).join(', ')}`,
          );
          return;
        }
        if (opts.import) {
          const id = await importModel(project, opts.import);
          const model = listModels(project).find((m) => m.id === id)!;
          out.result(
            { imported: describe(model) },
            `imported as model ${id}: ${model.classes.length} classes (${model.classes.join(', ')})`,
          );
          return;
        }
        const models = listModels(project).map(describe);
        const lines = models.map(
          (m) =>
            `${String(m.id).padStart(4)}  ${m.createdAt.slice(0, 16).replace('T', ' ')}  ${m.arch}/${m.inputSize}  ` +
            `${m.headMode.padEnd(4)}  ${m.valAccuracy === null ? '   —  ' : `${(100 * m.valAccuracy).toFixed(1).padStart(5)}%`}  ` +
            `${m.source === 'imported' ? '(imported) ' : ''}${m.name ? `${m.name}: ` : ''}${m.classes.join(', ')}`,
        );
        out.result({ models }, models.length ? lines.join('\n') : 'no models yet: run sorta train');
      } finally {
        project.close();
      }
    },
  );
}
