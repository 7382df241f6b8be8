import type { Command } from 'commander';
import { registerDoctor } from './doctor.js';
import { registerImport } from './import.js';
import { registerLabels } from './labels.js';
import { registerPredict } from './predict.js';
import { registerServe } from './serve.js';

/** Every subcommand, in the order `sorta --help` lists them. Each domain adds its register function here. */
export const commandRegistrations: ((program: Command) => void)[] = [
  registerDoctor,
  registerImport,
  registerLabels,
  registerPredict,
  registerServe,
];
