/**
 * A sorting (or undoing) process for the crash test, which SIGKILLs it at random moments. Plain JavaScript over the
 * built modules in dist/ (run `npm run build` first, as for the CLI tests), so a process starts in a fraction of a
 * second and many kills fit in the test.
 * Usage: node test/sort/sort-child.js sort PROJECT SRC OUT copy|move PREDICTIONS.json
 *        node test/sort/sort-child.js undo PROJECT JOB
 * Prints `job <id>` once the job is recorded and its file operations are about to be planned, then `done`.
 */
import { readFileSync } from 'node:fs';
import { recordPredictionJob, sortClassified } from '../../dist/electron/sort/sort.js';
import { undoSort } from '../../dist/electron/sort/undo.js';
import { openProject } from '../../dist/electron/store/project.js';

const [action, projectPath, ...rest] = process.argv.slice(2);
const project = openProject(projectPath);
if (action === 'sort') {
  const [sourceDir, outDir, mode, predictionsPath] = rest;
  const predictions = JSON.parse(readFileSync(predictionsPath, 'utf8'));
  const job = recordPredictionJob(project, { sourceDir, predictions });
  process.stdout.write(`job ${job}\n`);
  await sortClassified(project, job, { outDir, threshold: 0.5, mode });
} else {
  process.stdout.write(`job ${rest[0]}\n`);
  await undoSort(project, { jobId: Number(rest[0]) });
}
process.stdout.write('done\n');
project.close();
