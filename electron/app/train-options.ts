/**
 * The Advanced options of the Train screen, remembered per project in the app's data folder (a small JSON file
 * keyed by the project's path), so that a reload, a restart or another page shows what the person chose.
 * Written to a temporary name then renamed; an unreadable file costs the memory, never the training.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainParams } from '../contract/index.js';

const FILE_NAME = 'train-options.json';
/** Projects remembered (the oldest are forgotten first). */
const MAX_PROJECTS = 50;

type Stored = Record<string, { params: Partial<TrainParams>; savedAt: number }>;

function read(dataDir: string): Stored {
  try {
    const parsed = JSON.parse(readFileSync(join(dataDir, FILE_NAME), 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Stored) : {};
  } catch {
    return {};
  }
}

/** The options last chosen for this project (only the fields that were set). */
export function rememberedTrainOptions(dataDir: string, projectPath: string): Partial<TrainParams> {
  const entry = read(dataDir)[projectPath];
  return entry && typeof entry.params === 'object' && entry.params ? entry.params : {};
}

export function rememberTrainOptions(
  dataDir: string,
  projectPath: string,
  params: Partial<TrainParams>,
  now = Date.now(),
): void {
  const stored = read(dataDir);
  stored[projectPath] = { params, savedAt: now };
  const kept = Object.entries(stored)
    .sort(([, a], [, b]) => b.savedAt - a.savedAt)
    .slice(0, MAX_PROJECTS);
  try {
    mkdirSync(dataDir, { recursive: true });
    const target = join(dataDir, FILE_NAME);
    const temp = `${target}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(Object.fromEntries(kept), null, 2) + '\n');
    renameSync(temp, target);
  } catch {
    // An unwritable data folder costs the remembered options, never the training.
  }
}
