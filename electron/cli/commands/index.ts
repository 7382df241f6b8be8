import type { Command } from 'commander';
import { registerClassify } from './classify.js';
import { registerDoctor } from './doctor.js';
import { registerImport } from './import.js';
import { registerLabels } from './labels.js';
import { registerModels } from './models.js';
import { registerPredict } from './predict.js';
import { registerServe } from './serve.js';
import { registerTrain } from './train.js';
import { registerUndo } from './undo.js';

/** Every subcommand, in the order `sorta --help` lists them. Each domain adds its register function here. */
export const commandRegistrations: ((program: Command) => void)[] = [
  registerDoctor,
  registerImport,
  registerLabels,
  registerTrain,
  registerModels,
  registerPredict,
  registerServe,
  registerClassify,
  registerUndo,
];
