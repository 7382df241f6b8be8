/**
 * Child process for the crash test: labels images one transaction at a time through the store API (the built
 * dist/, so the child starts in a fraction of a second) and prints `ack <first> <count> <classId>` after each
 * commit returns. The parent SIGKILLs it at random moments. Usage: node label-writer.mjs PROJECT
 */
import { setLabels } from '../../dist/electron/store/labels.js';
import { openProject } from '../../dist/electron/store/project.js';

const project = openProject(process.argv[2], { create: false });
const classIds = project.db
  .prepare('SELECT id FROM classes ORDER BY id')
  .all()
  .map((r) => r.id);
const maxImage = project.db.prepare('SELECT max(id) FROM images').pluck().get();
let next = (project.db.prepare('SELECT max(image_id) FROM labels').pluck().get() ?? 0) + 1;
process.stdout.write('ready\n');
for (let round = 0; next <= maxImage; round++) {
  // Mostly single labels, sometimes a batch of 25, so kills land inside both kinds of transaction.
  const count = Math.min(round % 5 === 4 ? 25 : 1, maxImage - next + 1);
  const ids = Array.from({ length: count }, (_, i) => next + i);
  const classId = classIds[next % classIds.length];
  setLabels(project, ids, classId);
  process.stdout.write(`ack ${next} ${count} ${classId}\n`);
  next += count;
}
project.close();
