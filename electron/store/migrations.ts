/**
 * The project schema, as an ordered list of migrations. Schema version = `PRAGMA user_version` = the number of
 * migrations applied. Each migration runs in one transaction together with the user_version bump, so a crash leaves
 * the database at the old version or the new one, never in between.
 *
 * Rules: never edit a migration once it is committed (projects in the wild were made by it); append a new one.
 * Other domains (fine-tune, sort) may append their own.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  /** One line saying what it changes (shown in logs and backups' names stay by version number). */
  description: string;
  up(db: Database.Database): void;
}

const INITIAL_SCHEMA = `
CREATE TABLE classes (
  id INTEGER PRIMARY KEY,
  name TEXT UNIQUE NOT NULL,
  color TEXT NOT NULL,
  position INTEGER NOT NULL,
  created_at INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER))
);

CREATE TABLE roots (
  id INTEGER PRIMARY KEY,
  path TEXT UNIQUE NOT NULL,
  folder_labels INTEGER NOT NULL,
  added_at INTEGER NOT NULL,
  scanned_at INTEGER
);

CREATE TABLE images (
  id INTEGER PRIMARY KEY,
  root_id INTEGER REFERENCES roots(id),
  path TEXT UNIQUE NOT NULL,
  size INTEGER,
  mtime_ms INTEGER,
  hash TEXT,
  width INTEGER,
  height INTEGER,
  format TEXT,
  status TEXT NOT NULL CHECK (status IN ('ok', 'error', 'missing')),
  error TEXT,
  added_at INTEGER NOT NULL,
  checked_at INTEGER
);
CREATE INDEX images_hash ON images(hash);
CREATE INDEX images_status_path ON images(status, path);
CREATE INDEX images_root ON images(root_id);

CREATE TABLE labels (
  image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
  class_id INTEGER NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
  source TEXT NOT NULL CHECK (source IN ('human', 'model')),
  confidence REAL,
  model_id INTEGER,
  updated_at INTEGER NOT NULL
);
CREATE INDEX labels_class ON labels(class_id);

-- A model's latest prediction per image, kept apart from the labels so review never overwrites a human label.
CREATE TABLE predictions_review (
  image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
  model_id INTEGER,
  class_id INTEGER NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
  confidence REAL NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX predictions_review_class ON predictions_review(class_id, confidence);

-- Undo/redo of label edits, persisted so it survives restarts. An edit with undone = 1 is on the redo stack.
CREATE TABLE label_edits (
  id INTEGER PRIMARY KEY,
  description TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  undone INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE label_edit_items (
  edit_id INTEGER NOT NULL REFERENCES label_edits(id) ON DELETE CASCADE,
  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  before_class_id INTEGER,
  before_source TEXT,
  before_confidence REAL,
  before_model_id INTEGER,
  after_class_id INTEGER,
  after_source TEXT,
  after_confidence REAL,
  after_model_id INTEGER,
  PRIMARY KEY (edit_id, image_id)
);
CREATE INDEX label_edit_items_image ON label_edit_items(image_id);

CREATE TABLE models (
  id INTEGER PRIMARY KEY,
  name TEXT,
  arch TEXT NOT NULL,
  input_size INTEGER NOT NULL,
  head_mode TEXT NOT NULL,
  classes TEXT NOT NULL,
  weights_checksum TEXT NOT NULL,
  head BLOB NOT NULL,
  metrics TEXT NOT NULL,
  curves TEXT NOT NULL,
  params TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  train_ms INTEGER
);

CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  model_id INTEGER REFERENCES models(id) ON DELETE SET NULL,
  source_dir TEXT,
  out_dir TEXT,
  params TEXT NOT NULL DEFAULT '{}',
  parent_job_id INTEGER REFERENCES jobs(id),
  created_at INTEGER NOT NULL,
  finished_at INTEGER,
  error TEXT
);

CREATE TABLE job_predictions (
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  label TEXT,
  confidence REAL,
  probs TEXT,
  error TEXT,
  PRIMARY KEY (job_id, path)
);

CREATE TABLE file_ops (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  op TEXT NOT NULL,
  source TEXT NOT NULL,
  dest TEXT NOT NULL,
  temp TEXT,
  size INTEGER,
  sha256 TEXT,
  state TEXT NOT NULL,
  error TEXT,
  UNIQUE (job_id, seq)
);
`;

/**
 * Fast filtered pages in path order. A page deep into one class (or one predicted class, or a confidence range) used
 * to walk every image in path order, looking up its label or prediction. With the image's path copied onto its
 * label and prediction rows (paths never change: a moved file is a new image), an index gives those rows in path
 * order with their class (and confidence) beside them, so a deep page walks cheap index entries, and "unlabelled"
 * becomes a merge of two path-ordered indexes (images EXCEPT labels). The copy
 * costs no extra row writes; the triggers refuse a row whose path is not its image's, so no writer can forget it.
 */
const PATH_ORDER = `
ALTER TABLE labels ADD COLUMN path TEXT;
UPDATE labels SET path = (SELECT path FROM images WHERE id = labels.image_id);
-- One index serves both walks (a class's labels: a filter on the index entries; the EXCEPT merge), so labelling
-- maintains one index, as before; class_id stays in it for the class-delete cascade and the counts per class.
DROP INDEX labels_class;
CREATE INDEX labels_path_class ON labels(path, class_id);

ALTER TABLE predictions_review ADD COLUMN path TEXT;
UPDATE predictions_review SET path = (SELECT path FROM images WHERE id = predictions_review.image_id);
CREATE INDEX predictions_review_path ON predictions_review(path, class_id, confidence);

CREATE TRIGGER labels_path_insert BEFORE INSERT ON labels
  WHEN NEW.path IS NOT (SELECT path FROM images WHERE id = NEW.image_id)
  BEGIN SELECT RAISE(ABORT, 'labels.path must be the path of its image'); END;
CREATE TRIGGER labels_path_update BEFORE UPDATE OF image_id, path ON labels
  WHEN NEW.path IS NOT (SELECT path FROM images WHERE id = NEW.image_id)
  BEGIN SELECT RAISE(ABORT, 'labels.path must be the path of its image'); END;
CREATE TRIGGER predictions_review_path_insert BEFORE INSERT ON predictions_review
  WHEN NEW.path IS NOT (SELECT path FROM images WHERE id = NEW.image_id)
  BEGIN SELECT RAISE(ABORT, 'predictions_review.path must be the path of its image'); END;
CREATE TRIGGER predictions_review_path_update BEFORE UPDATE OF image_id, path ON predictions_review
  WHEN NEW.path IS NOT (SELECT path FROM images WHERE id = NEW.image_id)
  BEGIN SELECT RAISE(ABORT, 'predictions_review.path must be the path of its image'); END;
`;

/**
 * Folder labels owed. An image under a first-level folder is registered with its folder label pending; an import
 * applies the pending labels and clears the mark in the same transaction. An import stopped after saving its images
 * (killed, cancelled, a full cache disk) used to leave them unlabelled for good, since only images that became usable
 * in the same run were labelled; now the next import pays what is owed, while a label a person removed or changed
 * after it was applied stays as the person left it. Existing images owe a label only where that can be told apart
 * from a person's edit: no label, no label history, and either not usable yet (labels go to usable images only) or
 * added after their folder's last finished import.
 */
const FOLDER_LABEL_PENDING = `
ALTER TABLE images ADD COLUMN folder_label_pending INTEGER NOT NULL DEFAULT 0;
UPDATE images SET folder_label_pending = 1
 WHERE NOT EXISTS (SELECT 1 FROM labels WHERE image_id = images.id)
   AND NOT EXISTS (SELECT 1 FROM label_edit_items WHERE image_id = images.id)
   AND EXISTS (SELECT 1 FROM roots r WHERE r.id = images.root_id AND r.folder_labels = 1
                  AND (images.status != 'ok' OR r.scanned_at IS NULL OR r.scanned_at < images.added_at));
CREATE INDEX images_folder_label_pending ON images(path) WHERE folder_label_pending = 1;
`;

export const migrations: readonly Migration[] = [
  {
    description:
      'classes, roots, images, labels, predictions, label undo history, models, jobs, job predictions, file ops',
    up: (db) => db.exec(INITIAL_SCHEMA),
  },
  {
    description: "the image's path on its label and prediction, with path-order indexes for fast pages",
    up: (db) => db.exec(PATH_ORDER),
  },
  {
    description: 'folder labels owed to images of an import that stopped before labelling them',
    up: (db) => db.exec(FOLDER_LABEL_PENDING),
  },
];

/** The schema version this build of Sorta writes. */
export const SCHEMA_VERSION = migrations.length;

/**
 * Applies migrations[from..to) one transaction each. `to` defaults to all of them; tests pass a smaller number to
 * build the schema of an earlier version.
 */
export function applyMigrations(
  db: Database.Database,
  list: readonly Migration[] = migrations,
  to: number = list.length,
): void {
  const from = Number(db.pragma('user_version', { simple: true }));
  for (let version = from; version < to; version++) {
    const migration = list[version];
    db.transaction(() => {
      migration.up(db);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
