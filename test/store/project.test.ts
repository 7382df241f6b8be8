import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  applyMigrations,
  migrations,
  SCHEMA_VERSION,
  type Migration,
} from '../../electron/store/migrations.js';
import { countImages, queryImages } from '../../electron/store/images-query.js';
import { cacheDirFor, openProject } from '../../electron/store/project.js';

/** The contract other domains code against (store-contract.md): table → columns that must exist. */
const CONTRACT: Record<string, string[]> = {
  classes: ['id', 'name', 'color', 'position'],
  roots: ['id', 'path', 'folder_labels', 'added_at'],
  images: [
    'id',
    'root_id',
    'path',
    'size',
    'mtime_ms',
    'hash',
    'width',
    'height',
    'status',
    'error',
    'added_at',
  ],
  labels: ['image_id', 'class_id', 'source', 'confidence', 'model_id', 'updated_at'],
  models: [
    'id',
    'name',
    'arch',
    'input_size',
    'head_mode',
    'classes',
    'weights_checksum',
    'head',
    'metrics',
    'curves',
    'params',
    'created_at',
    'train_ms',
  ],
  jobs: [
    'id',
    'kind',
    'state',
    'model_id',
    'source_dir',
    'out_dir',
    'params',
    'parent_job_id',
    'created_at',
    'finished_at',
    'error',
  ],
  job_predictions: ['job_id', 'path', 'label', 'confidence', 'probs', 'error'],
  file_ops: ['id', 'job_id', 'seq', 'op', 'source', 'dest', 'temp', 'size', 'sha256', 'state', 'error'],
};

function columns(db: Database.Database, table: string): string[] {
  return (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
}

/** Builds a database at schema version `version` by applying only the first `version` migrations. */
function databaseAtVersion(path: string, version: number): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  applyMigrations(db, migrations, version);
  if (version >= 1) {
    // Data every version since 1 can hold: a class, a root, two images, a label.
    db.prepare("INSERT INTO classes (id, name, color, position) VALUES (1, 'cat', '#ff0000', 0)").run();
    db.prepare("INSERT INTO roots (id, path, folder_labels, added_at) VALUES (1, '/photos', 1, 1)").run();
    db.prepare(
      `INSERT INTO images (id, root_id, path, size, mtime_ms, hash, width, height, status, error, added_at)
       VALUES (1, 1, '/photos/cat/a.jpg', 10, 1, 'aa', 4, 3, 'ok', NULL, 1),
              (2, 1, '/photos/b.jpg', 0, 1, NULL, NULL, NULL, 'error', 'empty file (0 bytes)', 1)`,
    ).run();
    // Labels and predictions carry their image's path from version 2 on.
    const path = version >= 2 ? ", '/photos/cat/a.jpg'" : '';
    const pathColumn = version >= 2 ? ', path' : '';
    db.prepare(
      `INSERT INTO labels (image_id, class_id, source, updated_at${pathColumn}) VALUES (1, 1, 'human', 5${path})`,
    ).run();
    db.prepare(
      `INSERT INTO predictions_review (image_id, class_id, confidence, created_at${pathColumn})
       VALUES (1, 1, 0.75, 6${path})`,
    ).run();
  }
  db.close();
}

describe('project files', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sorta-project-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('creates a project with the contract tables, WAL, foreign keys, synchronous=FULL and a cache folder', () => {
    const project = openProject(join(tmp, 'new.sorta'));
    try {
      assert.equal(project.schemaVersion, SCHEMA_VERSION);
      assert.equal(project.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      assert.equal(project.db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(project.db.pragma('foreign_keys', { simple: true }), 1);
      assert.equal(project.db.pragma('synchronous', { simple: true }), 2);
      for (const [table, wanted] of Object.entries(CONTRACT)) {
        const have = columns(project.db, table);
        for (const column of wanted) assert.ok(have.includes(column), `${table}.${column}`);
      }
      assert.equal(project.cacheDir, join(tmp, 'new.sorta-cache'));
      assert.equal(cacheDirFor('/x/y.db'), '/x/y.db.sorta-cache');
      assert.ok(existsSync(project.cacheDir));
      assert.equal(project.backupPath, null, 'no backup for a new file');
      assert.equal(project.statement('SELECT 1'), project.statement('SELECT 1'), 'statements are reused');
    } finally {
      project.close();
    }
  });

  it('refuses a missing file when asked not to create, and a folder that does not exist', () => {
    assert.throws(
      () => openProject(join(tmp, 'absent.sorta'), { create: false }),
      /absent\.sorta does not exist/,
    );
    assert.throws(() => openProject(join(tmp, 'no-dir', 'p.sorta')), /folder .*no-dir does not exist/);
  });

  it('refuses a file that is not a database, naming it', () => {
    const path = join(tmp, 'text.sorta');
    writeFileSync(
      path,
      'this is a text file, long enough to look like something but not SQLite at all.'.repeat(20),
    );
    assert.throws(() => openProject(path), /text\.sorta is not a Sorta project/);
  });

  it('refuses a database written by a newer Sorta with a clear message, leaving it unchanged', () => {
    const path = join(tmp, 'newer.sorta');
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 3}`);
    db.close();
    assert.throws(
      () => openProject(path),
      new RegExp(
        `newer version of Sorta \\(schema version ${SCHEMA_VERSION + 3}; this version knows up to ${SCHEMA_VERSION}\\)`,
      ),
    );
    const check = new Database(path);
    assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION + 3);
    check.close();
  });

  it('refuses a damaged database with a clear message (integrity check)', () => {
    const path = join(tmp, 'damaged.sorta');
    const db = new Database(path);
    db.pragma('journal_mode = DELETE');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t(v);');
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < 2000; i++) insert.run(`value ${i} `.repeat(5));
    })();
    const pageSize = Number(db.pragma('page_size', { simple: true }));
    const pages = Number(db.pragma('page_count', { simple: true }));
    db.close();
    // Overwrite pages in the middle of the file with garbage.
    const fd = openSync(path, 'r+');
    const garbage = Buffer.alloc(pageSize * 3, 0x5a);
    writeSync(fd, garbage, 0, garbage.length, pageSize * Math.floor(pages / 2));
    closeSync(fd);
    assert.throws(
      () => openProject(path),
      /damaged\.sorta is damaged \(SQLite integrity check|not a Sorta project|malformed/,
    );
  });
});

describe('migrations', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sorta-migrate-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  for (let version = 0; version < SCHEMA_VERSION; version++) {
    it(`upgrades a project from schema version ${version} to ${SCHEMA_VERSION}, keeping its data`, () => {
      const path = join(tmp, `v${version}.sorta`);
      databaseAtVersion(path, version);
      const project = openProject(path);
      try {
        assert.equal(project.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
        if (version >= 1) {
          assert.ok(project.backupPath && existsSync(project.backupPath), 'backup taken before migrating');
          const label = project.db
            .prepare('SELECT c.name FROM labels l JOIN classes c ON c.id = l.class_id WHERE l.image_id = 1')
            .get() as { name: string };
          assert.equal(label.name, 'cat');
          // The page queries find labels and predictions written before they carried their image's path.
          for (const filter of [{ classId: 1 }, { predictedClassId: 1 }, { confidenceMin: 0.5 }])
            assert.deepEqual(
              queryImages(project, filter).map((i) => i.path),
              ['/photos/cat/a.jpg'],
            );
          assert.equal(countImages(project, { unlabelled: true }), 0);
          assert.equal(
            (project.db.prepare('SELECT error FROM images WHERE id = 2').get() as { error: string }).error,
            'empty file (0 bytes)',
          );
        }
      } finally {
        project.close();
      }
    });
  }

  // A later migration, appended in the test only: proves the backup, the data survival and the all-or-nothing
  // transaction of the mechanism every future migration goes through.
  const addNote: Migration = {
    description: 'test: a note column on classes',
    up: (db) => db.exec("ALTER TABLE classes ADD COLUMN note TEXT NOT NULL DEFAULT 'none'"),
  };

  it('takes an online backup, then applies a later migration keeping every row', () => {
    const path = join(tmp, 'later.sorta');
    databaseAtVersion(path, SCHEMA_VERSION);
    const project = openProject(path, { migrations: [...migrations, addNote] });
    try {
      assert.equal(project.schemaVersion, SCHEMA_VERSION + 1);
      assert.equal(project.db.pragma('user_version', { simple: true }), SCHEMA_VERSION + 1);
      assert.deepEqual(project.db.prepare('SELECT name, note FROM classes').all(), [
        { name: 'cat', note: 'none' },
      ]);
      assert.ok(project.backupPath);
      assert.match(project.backupPath, new RegExp(`later\\.schema-v${SCHEMA_VERSION}\\..*\\.sorta-backup$`));
      const backup = new Database(project.backupPath, { readonly: true });
      assert.equal(backup.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      assert.equal((backup.prepare('SELECT count(*) AS n FROM labels').get() as { n: number }).n, 1);
      backup.close();
    } finally {
      project.close();
    }
    // The upgraded project is now newer than the real app: refused.
    assert.throws(() => openProject(path), /newer version of Sorta/);
  });

  it('a migration that fails leaves the database at its old version, untouched', () => {
    const path = join(tmp, 'failing.sorta');
    databaseAtVersion(path, SCHEMA_VERSION);
    const failing: Migration = {
      description: 'test: fails half way',
      up: (db) => {
        db.exec('CREATE TABLE half_done (id INTEGER)');
        db.exec('INSERT INTO no_such_table VALUES (1)');
      },
    };
    assert.throws(
      () => openProject(path, { migrations: [...migrations, failing] }),
      /Could not upgrade project .*failing\.sorta from schema version \d+.*backup was saved/,
    );
    const db = new Database(path);
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(
      db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'half_done'").pluck().get(),
      0,
    );
    db.close();
    assert.ok(readdirSync(tmp).some((f) => f.startsWith('failing.schema-v')));
  });
});
