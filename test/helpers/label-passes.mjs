/**
 * The crash test's labelling schedule, shared by the writer child and the test that checks it. Images 1..max fall
 * into fixed batches (1 image, or 25 about one time in five, decided by the batch's first id); pass p labels the
 * batch starting at b with class `classIds[(b + p) % classes]`, so consecutive passes always change every label.
 * The writer relabels pass after pass until it is killed, so how fast the machine is never ends the test early.
 */

/** Images in the batch that starts at `first` (the last batch is cut at `maxImage`). */
export function batchSize(first, maxImage) {
  const size = (Math.imul(first, 2654435761) >>> 0) % 5 === 4 ? 25 : 1;
  return Math.min(size, maxImage - first + 1);
}

export function passClass(classIds, first, pass) {
  return classIds[(first + pass) % classIds.length];
}

/** The batch after `first`, wrapping to the next pass after the last image. */
export function advance(position, maxImage) {
  const next = position.next + batchSize(position.next, maxImage);
  return next > maxImage ? { pass: position.pass + 1, next: 1 } : { pass: position.pass, next };
}

/**
 * The label every image must hold once the batches before `position` of its pass are written: image id → class id
 * (absent: unlabelled, before the first pass reached it).
 */
export function expectedLabels(position, maxImage, classIds) {
  const labels = new Map();
  for (let first = 1; first <= maxImage; first += batchSize(first, maxImage)) {
    const pass = first < position.next ? position.pass : position.pass - 1;
    if (pass < 0) continue;
    const classId = passClass(classIds, first, pass);
    for (let i = 0; i < batchSize(first, maxImage); i++) labels.set(first + i, classId);
  }
  return labels;
}

/**
 * Where a writer resumes, read from the labels a killed one left: the pass of image 1 (which every pass labels
 * first; the pass number only matters modulo the class count) and the first batch not yet in that pass.
 */
export function resumePoint(maxImage, classIds, labelOf) {
  const first = labelOf(1);
  if (first === undefined) return { pass: 0, next: 1 };
  const n = classIds.length;
  const pass = (((classIds.indexOf(first) - 1) % n) + n) % n;
  for (let b = 1; b <= maxImage; b += batchSize(b, maxImage))
    if (labelOf(b) !== passClass(classIds, b, pass)) return { pass, next: b };
  return { pass: pass + 1, next: 1 };
}
