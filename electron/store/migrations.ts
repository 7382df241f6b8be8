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

export const migrations: readonly Migration[] = [
  {
    description:
      'classes, roots, images, labels, predictions, label undo history, models, jobs, job predictions, file ops',
    up: (db) => db.exec(INITIAL_SCHEMA),
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
