import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  addClass,
  classCounts,
  classDeletionImpact,
  deleteClass,
  listClasses,
  mergeClasses,
  recolorClass,
  renameClass,
  reorderClasses,
} from '../../electron/store/classes.js';
import { csvField, exportImageFolder, exportLabels, labelsToCsv } from '../../electron/store/exports.js';
import { countImages, queryImages } from '../../electron/store/images-query.js';
import {
  clearLabels,
  getLabel,
  labelHistory,
  redoLabels,
  setLabels,
  setPredictions,
  undoLabels,
} from '../../electron/store/labels.js';
import { openProject, type Project } from '../../electron/store/project.js';

/** Image rows written straight into the store (the import has its own tests); files are real where needed. */
function addImages(project: Project, paths: string[], status: 'ok' | 'error' | 'missing' = 'ok'): number[] {
  const insert = project.db.prepare(
    `INSERT INTO images (path, size, mtime_ms, hash, width, height, status, error, added_at)
     VALUES (?, 1, 1, ?, 10, 10, ?, ?, 1)`,
  );
  return project.db.transaction(() =>
    paths.map((p, i) =>
      Number(insert.run(p, `h${i}-${p}`, status, status === 'error' ? 'broken' : null).lastInsertRowid),
    ),
  )();
}

describe('labels, undo/redo and classes', () => {
  let tmp: string;
  let path: string;
  let project: Project;
  let ids: number[];

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sorta-labels-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));
  beforeEach(() => {
    project?.close();
    path = join(tmp, `p${Math.random().toString(36).slice(2)}.sorta`);
    project = openProject(path);
    ids = addImages(
      project,
      Array.from({ length: 10 }, (_, i) => `/img/${i}.jpg`),
    );
  });

  it('sets and clears many labels in one step, counting only real changes', () => {
    const cat = addClass(project, 'cat');
    const dog = addClass(project, 'dog', '#00FF00');
    assert.equal(dog.color, '#00ff00');
    assert.equal(setLabels(project, ids.slice(0, 6), cat.id).changed, 6);
    assert.equal(setLabels(project, ids.slice(0, 6), cat.id).changed, 0, 'same label again changes nothing');
    assert.equal(setLabels(project, ids.slice(4, 8), dog.id).changed, 4);
    const counts = Object.fromEntries(classCounts(project).map((c) => [c.name, c.labeled]));
    assert.deepEqual(counts, { cat: 4, dog: 4 });
    assert.equal(clearLabels(project, [ids[0], ids[9]]).changed, 1);
    assert.equal(getLabel(project, ids[0]), null);
    assert.equal(getLabel(project, ids[5])!.classId, dog.id);
    assert.throws(() => setLabels(project, [ids[0], 99999], cat.id), /no image with id 99999/);
    assert.equal(getLabel(project, ids[0]), null, 'a failed edit changes nothing');
    assert.throws(() => setLabels(project, [ids[0]], 424242), /no class with id 424242/);
  });

  it('undoes and redoes edits, and the history survives closing the project', () => {
    const cat = addClass(project, 'cat');
    const dog = addClass(project, 'dog');
    setLabels(project, ids.slice(0, 3), cat.id);
    setLabels(project, ids.slice(1, 2), dog.id, { description: 'make 1 a dog' });
    clearLabels(project, [ids[2]]);
    assert.deepEqual(labelHistory(project), {
      canUndo: true,
      canRedo: false,
      undoDescription: 'Clear the label of 1 image',
      redoDescription: null,
    });
    project.close();
    project = openProject(path);
    assert.equal(undoLabels(project).images, 1);
    assert.equal(getLabel(project, ids[2])!.classId, cat.id);
    assert.equal(undoLabels(project).description, 'make 1 a dog');
    assert.equal(getLabel(project, ids[1])!.classId, cat.id);
    project.close();
    project = openProject(path);
    assert.equal(labelHistory(project).redoDescription, 'make 1 a dog');
    redoLabels(project);
    assert.equal(getLabel(project, ids[1])!.classId, dog.id);
    undoLabels(project);
    undoLabels(project);
    assert.deepEqual(
      ids.slice(0, 3).map((id) => getLabel(project, id)),
      [null, null, null],
    );
    assert.equal(undoLabels(project).editId, null, 'nothing left to undo');
    // A new edit drops the redo stack.
    setLabels(project, [ids[9]], dog.id);
    assert.equal(labelHistory(project).canRedo, false);
    assert.equal(redoLabels(project).editId, null);
  });

  it('renames, recolours and reorders classes, refusing duplicates and bad values', () => {
    const a = addClass(project, 'a');
    const b = addClass(project, 'b');
    assert.throws(() => addClass(project, 'a'), /already exists/);
    assert.throws(() => addClass(project, 'x/y'), /folder name/);
    assert.throws(() => renameClass(project, a.id, 'b'), /already exists; merge/);
    renameClass(project, a.id, 'apple');
    recolorClass(project, b.id, '#123456');
    assert.throws(() => recolorClass(project, b.id, 'red'), /not a #rrggbb/);
    reorderClasses(project, [b.id, a.id]);
    assert.deepEqual(
      listClasses(project).map((c) => [c.name, c.color]),
      [
        ['b', '#123456'],
        ['apple', a.color],
      ],
    );
  });

  it('merges a class into another, moving labels and predictions, and undo still works', () => {
    const cat = addClass(project, 'cat');
    const kitty = addClass(project, 'kitty');
    setLabels(project, ids.slice(0, 3), cat.id);
    setLabels(project, ids.slice(3, 5), kitty.id);
    setPredictions(project, [{ imageId: ids[7], classId: kitty.id, confidence: 0.9 }]);
    assert.deepEqual(mergeClasses(project, kitty.id, cat.id), { moved: 2 });
    assert.deepEqual(
      listClasses(project).map((c) => c.name),
      ['cat'],
    );
    assert.equal(classCounts(project)[0].labeled, 5);
    assert.equal(classCounts(project)[0].predicted, 1);
    undoLabels(project); // the kitty edit, now recorded as cat
    assert.equal(getLabel(project, ids[3]), null);
    assert.equal(getLabel(project, ids[0])!.classId, cat.id);
  });

  it('treats % and _ in the path text literally', () => {
    addImages(project, ['/img/100%_sure.jpg', '/img/100x_sure.jpg', '/img/a\\b.jpg']);
    assert.deepEqual(
      queryImages(project, { pathContains: '100%_S' }).map((i) => i.path),
      ['/img/100%_sure.jpg'],
    );
    assert.deepEqual(
      queryImages(project, { pathContains: 'a\\b' }).map((i) => i.path),
      ['/img/a\\b.jpg'],
    );
  });

  it("refuses a label or prediction row without its image's path (the page order depends on it)", () => {
    const cat = addClass(project, 'cat');
    const insertLabel = project.db.prepare(
      "INSERT INTO labels (image_id, class_id, source, updated_at, path) VALUES (?, ?, 'human', 1, ?)",
    );
    assert.throws(() => insertLabel.run(ids[0], cat.id, null), /labels\.path must be the path of its image/);
    assert.throws(() => insertLabel.run(ids[0], cat.id, '/img/1.jpg'), /must be the path of its image/);
    assert.throws(
      () =>
        project.db
          .prepare(
            'INSERT INTO predictions_review (image_id, class_id, confidence, created_at) VALUES (?, ?, 0.5, 1)',
          )
          .run(ids[0], cat.id),
      /predictions_review\.path must be the path of its image/,
    );
    insertLabel.run(ids[0], cat.id, '/img/0.jpg');
    assert.equal(getLabel(project, ids[0])!.classId, cat.id);
  });

  it('deleting a class says how many labels go, and they go', () => {
    const cat = addClass(project, 'cat');
    const dog = addClass(project, 'dog');
    setLabels(project, ids.slice(0, 4), cat.id);
    setLabels(project, ids.slice(4, 5), dog.id);
    assert.deepEqual(classDeletionImpact(project, cat.id), { labels: 4, predictions: 0 });
    assert.deepEqual(deleteClass(project, cat.id), { labelsRemoved: 4, predictionsRemoved: 0 });
    assert.equal(getLabel(project, ids[0]), null);
    assert.equal(getLabel(project, ids[4])!.classId, dog.id);
    assert.equal(labelHistory(project).canUndo, false, 'history that could name the class is cleared');
  });

  it('deleting a class nobody labelled with keeps the undo history', () => {
    const bird = addClass(project, 'bird');
    const empty = addClass(project, 'empty');
    setLabels(project, ids.slice(0, 2), bird.id);
    assert.equal(labelHistory(project).canUndo, true);
    deleteClass(project, empty.id);
    assert.equal(labelHistory(project).canUndo, true, 'the history did not name the empty class');
    undoLabels(project);
    assert.equal(getLabel(project, ids[0]), null);
  });
});

describe('image queries', () => {
  let tmp: string;
  let project: Project;
  let cat: number;
  let dog: number;
  let ids: number[];

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sorta-query-'));
    project = openProject(join(tmp, 'q.sorta'));
    ids = addImages(
      project,
      Array.from(
        { length: 50 },
        (_, i) => `/photos/${i % 2 ? 'Beach' : 'city'}/img${String(i).padStart(3, '0')}.jpg`,
      ),
    );
    addImages(project, ['/photos/broken.jpg'], 'error');
    addImages(project, ['/photos/gone.jpg'], 'missing');
    cat = addClass(project, 'cat').id;
    dog = addClass(project, 'dog').id;
    setLabels(project, ids.slice(0, 10), cat);
    setLabels(project, ids.slice(10, 15), dog);
    setPredictions(
      project,
      ids.slice(15, 35).map((imageId, i) => ({ imageId, classId: i % 2 ? cat : dog, confidence: i / 20 })),
    );
  });
  after(() => {
    project.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('filters by class, unlabelled, errors, prediction, confidence and path text', () => {
    assert.equal(countImages(project), 50, 'ok images by default');
    assert.equal(countImages(project, { status: 'any' }), 52);
    assert.equal(countImages(project, { classId: cat }), 10);
    assert.equal(countImages(project, { unlabelled: true }), 35);
    assert.deepEqual(
      queryImages(project, { errors: true }).map((i) => [i.path, i.error]),
      [['/photos/broken.jpg', 'broken']],
    );
    assert.equal(countImages(project, { predictedClassId: cat }), 10);
    const confident = queryImages(project, { predictedClassId: cat, confidenceMin: 0.5 });
    assert.equal(confident.length, 5);
    for (const item of confident)
      assert.ok(item.prediction!.confidence >= 0.5 && item.prediction!.classId === cat);
    assert.equal(countImages(project, { confidenceMin: 0.25, confidenceMax: 0.5 }), 6);
    assert.equal(countImages(project, { pathContains: 'beach' }), 25, 'case-insensitive');
    assert.equal(countImages(project, { pathContains: 'beach', classId: cat }), 5);
    assert.throws(() => queryImages(project, { classId: cat, unlabelled: true }), /choose one/);
  });

  it('pages in a stable order (path, then id) without gaps or repeats', () => {
    const pages = [0, 1, 2, 3].flatMap((n) => queryImages(project, { offset: n * 15, limit: 15 }));
    assert.equal(pages.length, 50);
    assert.equal(new Set(pages.map((p) => p.id)).size, 50);
    const paths = pages.map((p) => p.path);
    assert.deepEqual(paths, [...paths].sort());
    assert.deepEqual(
      queryImages(project, { offset: 15, limit: 15 }).map((p) => p.id),
      pages.slice(15, 30).map((p) => p.id),
    );
    const labelled = queryImages(project, { classId: dog })[0];
    assert.equal(labelled.label!.classId, dog);
    assert.equal(labelled.label!.source, 'human');
    assert.throws(() => queryImages(project, { limit: 0 }), /Page size/);
    // Keyset pages (after the last item of the previous page) give the same sequence.
    const keyset: number[] = [];
    let last: { path: string; id: number } | undefined;
    for (;;) {
      const page = queryImages(project, { limit: 15, after: last });
      if (page.length === 0) break;
      keyset.push(...page.map((p) => p.id));
      last = page[page.length - 1];
    }
    assert.deepEqual(
      keyset,
      pages.map((p) => p.id),
    );
    const catPage = queryImages(project, { classId: cat, limit: 4 });
    assert.deepEqual(
      queryImages(project, { classId: cat, limit: 4, after: catPage[1] }).map((p) => p.id),
      queryImages(project, { classId: cat, limit: 4, offset: 2 }).map((p) => p.id),
    );
    const whole = queryImages(project, { classId: cat, limit: 1000 }).map((p) => p.id);
    // Small pages walk images in path order, deep ones walk the predictions and sort: the same rows either way.
    const oneByOne = whole.map((_, offset) => queryImages(project, { classId: cat, offset, limit: 1 })[0].id);
    assert.deepEqual(oneByOne, whole);
    for (const filter of [{ predictedClassId: dog }, { confidenceMin: 0.2, confidenceMax: 0.7 }]) {
      const predicted = queryImages(project, { ...filter, limit: 1000 }).map((p) => p.id);
      assert.ok(predicted.length > 5);
      assert.deepEqual(
        predicted.map((_, offset) => queryImages(project, { ...filter, offset, limit: 1 })[0].id),
        predicted,
      );
    }
  });
});

describe('exports', () => {
  let tmp: string;
  let project: Project;
  let files: string[];

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sorta-export-'));
    const src = join(tmp, 'src');
    mkdirSync(join(src, 'a'), { recursive: true });
    mkdirSync(join(src, 'b'));
    files = [
      join(src, 'a', 'same.jpg'),
      join(src, 'b', 'same.jpg'),
      join(src, 'a', 'comma, "quote".jpg'),
      join(src, 'a', 'naïve 猫.jpg'),
    ];
    files.forEach((f, i) => writeFileSync(f, `image bytes ${i}`));
    project = openProject(join(tmp, 'e.sorta'));
    const ids = addImages(project, files);
    const cat = addClass(project, 'cat').id;
    setLabels(project, ids, cat);
    addImages(project, [join(src, 'unlabelled.jpg')]);
  });
  after(() => {
    project.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('quotes CSV fields that need it', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('line\nbreak'), '"line\nbreak"');
    assert.equal(
      labelsToCsv([{ path: '/x/a,b.jpg', label: 'c"d', source: 'human', confidence: null }]),
      'path,label\r\n"/x/a,b.jpg","c""d"\r\n',
    );
  });

  it('writes CSV and JSON with every labelled image, never replacing an existing file by default', async () => {
    const csv = join(tmp, 'labels.csv');
    const written = await exportLabels(project, csv);
    assert.equal(written.labels, 4);
    const lines = readFileSync(csv, 'utf8').trimEnd().split('\r\n');
    assert.equal(lines[0], 'path,label');
    assert.ok(lines.includes(`"${files[2].replace(/"/g, '""')}",cat`));
    assert.ok(lines.includes(`${files[3]},cat`));
    await assert.rejects(exportLabels(project, csv), /already exists/);
    await exportLabels(project, csv, { overwrite: true });
    const json = join(tmp, 'labels.json');
    await exportLabels(project, json);
    const doc = JSON.parse(readFileSync(json, 'utf8')) as {
      classes: { name: string }[];
      labels: { path: string }[];
    };
    assert.deepEqual(
      doc.classes.map((c) => c.name),
      ['cat'],
    );
    assert.deepEqual(doc.labels.map((l) => l.path).sort(), [...files].sort());
    await assert.rejects(exportLabels(project, join(tmp, 'labels.txt')), /must end in \.csv or \.json/);
  });

  it('copies an ImageFolder tree, suffixing names that are taken instead of overwriting', async () => {
    const out = join(tmp, 'out');
    mkdirSync(join(out, 'cat'), { recursive: true });
    writeFileSync(join(out, 'cat', 'same.jpg'), 'already here');
    const result = await exportImageFolder(project, out);
    assert.equal(result.copied, 4);
    assert.equal(result.renamed, 2);
    assert.deepEqual(result.errors, []);
    assert.equal(
      readFileSync(join(out, 'cat', 'same.jpg'), 'utf8'),
      'already here',
      'existing file untouched',
    );
    assert.deepEqual(readdirSync(join(out, 'cat')).sort(), [
      'comma, "quote".jpg',
      'naïve 猫.jpg',
      'same (1).jpg',
      'same (2).jpg',
      'same.jpg',
    ]);
    const copies = ['same (1).jpg', 'same (2).jpg']
      .map((n) => readFileSync(join(out, 'cat', n), 'utf8'))
      .sort();
    assert.deepEqual(copies, ['image bytes 0', 'image bytes 1']);
    for (const f of files) assert.ok(existsSync(f), 'sources stay');
  });
});
