/**
 * Child process for the crash test: labels images one transaction (one batch of `label-passes.mjs`) at a time
 * through the store API (the built dist/, so the child starts in a fraction of a second) and prints
 * `ack <pass> <first>` after each commit returns, blocking until the pipe takes it. It never ends by itself: after the last image it starts the next
 * pass, until the parent SIGKILLs it. Usage: node label-writer.mjs PROJECT
 */
import { writeSync } from 'node:fs';
import { setLabels } from '../../dist/electron/store/labels.js';
import { openProject } from '../../dist/electron/store/project.js';
import { advance, batchSize, passClass, resumePoint } from './label-passes.mjs';

const project = openProject(process.argv[2], { create: false });
const classIds = project.db
  .prepare('SELECT id FROM classes ORDER BY id')
  .all()
  .map((r) => r.id);
const maxImage = project.db.prepare('SELECT max(id) FROM images').pluck().get();
const labelOf = project.db.prepare('SELECT class_id FROM labels WHERE image_id = ?').pluck();
let position = resumePoint(maxImage, classIds, (id) => labelOf.get(id));
writeSync(1, 'ready\n');
for (;;) {
  const { pass, next } = position;
  const ids = Array.from({ length: batchSize(next, maxImage) }, (_, i) => next + i);
  setLabels(project, ids, passClass(classIds, next, pass));
  // writeSync: an ack that process.stdout queued while the pipe was full would die with the process, unsent.
  writeSync(1, `ack ${pass} ${next}\n`);
  position = advance(position, maxImage);
}
