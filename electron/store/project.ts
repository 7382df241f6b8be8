/**
 * A project is one SQLite file (`.sorta`). Images are referenced by path, never copied or modified. Caches
 * (thumbnails, model features) live in `<name>.sorta-cache/` beside the project file and may be deleted any time.
 */
import Database from 'better-sqlite3';
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { SortaError, describeFsError } from '../shared/errors.js';
import { applyMigrations, migrations as defaultMigrations, type Migration } from './migrations.js';

export interface OpenProjectOptions {
  /** Create the file when it does not exist (default true). */
  create?: boolean;
  /** Migrations to apply (tests use a prefix of the real list to build earlier schema versions). */
  migrations?: readonly Migration[];
}

export interface Project {
  /** The better-sqlite3 database. All SQL lives in electron/store/. */
  readonly db: Database.Database;
  /** Absolute path of the `.sorta` file. */
  readonly path: string;
  /** `<name>.sorta-cache/` beside the project file; created on open, may be deleted at any time. */
  readonly cacheDir: string;
  /** Schema version after opening (= number of migrations applied). */
  readonly schemaVersion: number;
  /** Path of the backup taken before migrating an existing database on this open, if one was taken. */
  readonly backupPath: string | null;
  /** A prepared statement, compiled once per project and reused. */
  statement(sql: string): Database.Statement;
  close(): void;
}

/** `/dir/photos.sorta` → `/dir/photos.sorta-cache` (and `/dir/x.db` → `/dir/x.db.sorta-cache`). */
export function cacheDirFor(projectPath: string): string {
  const name = basename(projectPath).replace(/\.sorta$/i, '');
  return join(dirname(projectPath), `${name}.sorta-cache`);
}

export function openProject(path: string, options: OpenProjectOptions = {}): Project {
  const projectPath = resolve(path);
  const list = options.migrations ?? defaultMigrations;
  const exists = existsSync(projectPath);
  if (!exists) {
    if (options.create === false) throw new SortaError('not-found', `Project ${projectPath} does not exist.`);
    if (!existsSync(dirname(projectPath)))
      throw new SortaError(
        'not-found',
        `Cannot create project ${projectPath}: folder ${dirname(projectPath)} does not exist.`,
      );
  } else if (statSync(projectPath).isDirectory()) {
    throw new SortaError('invalid-input', `Project ${projectPath} is a directory, not a .sorta file.`);
  }

  refuseReadOnly(projectPath, exists);
  let db: Database.Database;
  try {
    db = new Database(projectPath);
  } catch (error) {
    throw new SortaError('database', `Cannot open project ${projectPath}: ${(error as Error).message}.`, {
      cause: error,
    });
  }
  try {
    // Before anything is written (WAL, tables): another program's database must stay exactly as it is.
    refuseNonProject(inspect(db, projectPath), projectPath, list.length, options.create !== false);
    configure(db, projectPath);
    checkIntegrity(db, projectPath);
    const version = Number(db.pragma('user_version', { simple: true }));
    if (version > list.length)
      throw new SortaError(
        'database',
        `Project ${projectPath} was written by a newer version of Sorta (schema version ${version}; this ` +
          `version knows up to ${list.length}). Update Sorta to open it.`,
      );
    let backupPath: string | null = null;
    if (version < list.length && hasUserTables(db)) backupPath = backUp(db, projectPath, version);
    try {
      applyMigrations(db, list);
    } catch (error) {
      throw new SortaError(
        'database',
        `Could not upgrade project ${projectPath} from schema version ${version}: ${(error as Error).message}` +
          (backupPath ? ` (a backup was saved as ${backupPath})` : ''),
        { cause: error },
      );
    }
    const cacheDir = cacheDirFor(projectPath);
    try {
      mkdirSync(cacheDir, { recursive: true });
    } catch {
      // A read-only folder: the project still opens; cache writers report their own error.
    }
    const statements = new Map<string, Database.Statement>();
    return {
      db,
      path: projectPath,
      cacheDir,
      schemaVersion: list.length,
      backupPath,
      statement(sql) {
        let statement = statements.get(sql);
        if (!statement) {
          statement = db.prepare(sql);
          statements.set(sql, statement);
        }
        return statement;
      },
      close() {
        statements.clear();
        if (db.open) db.close();
      },
    };
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * SQLite writes the project and, in WAL mode, journal files beside it even to read, so a project whose file or
 * folder cannot be written (a read-only mount, a write-protected folder) is refused with that reason, rather than
 * with SQLite's "unable to open database file" once it tries.
 */
function refuseReadOnly(projectPath: string, exists: boolean): void {
  const folder = dirname(projectPath);
  const problem = (path: string): string | null => {
    try {
      accessSync(path, constants.W_OK);
      return null;
    } catch (error) {
      return describeFsError(error);
    }
  };
  const fileProblem = exists ? problem(projectPath) : null;
  if (fileProblem)
    throw new SortaError(
      'io',
      `Project ${projectPath} is read-only (${fileProblem}): Sorta writes to the project file, even to read it. ` +
        'Make it writable, or copy it to a writable folder.',
    );
  const folderProblem = problem(folder);
  if (folderProblem)
    throw new SortaError(
      'io',
      `${exists ? 'Cannot open' : 'Cannot create'} project ${projectPath}: its folder ${folder} is read-only ` +
        `(${folderProblem}), and SQLite keeps the project's journal files (${basename(projectPath)}-wal, -shm) ` +
        `beside it. ${exists ? 'Copy the project to a writable folder.' : 'Choose a writable folder.'}`,
    );
}

interface DatabaseState {
  /** Table names, SQLite's own (sqlite_*) left out. */
  tables: string[];
  version: number;
}

/** Reads the schema without writing anything (a file that is not SQLite at all is refused here). */
function inspect(db: Database.Database, projectPath: string): DatabaseState {
  try {
    db.pragma('busy_timeout = 10000');
    const tables = db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
      )
      .pluck()
      .all() as string[];
    return { tables, version: Number(db.pragma('user_version', { simple: true })) };
  } catch (error) {
    throw databaseError(error, projectPath);
  }
}

/** The tables every Sorta project has had since schema version 1. */
const PROJECT_TABLES = ['classes', 'roots', 'images', 'labels'];

/**
 * A Sorta project has its tables and a schema version; an empty database (or file) becomes one only when the
 * caller creates projects. Anything else is another program's database: refused, untouched.
 */
function refuseNonProject(state: DatabaseState, projectPath: string, known: number, create: boolean): void {
  const { tables, version } = state;
  if (version >= 1 && PROJECT_TABLES.every((t) => tables.includes(t))) return;
  if (tables.length === 0 && version > known) return; // openProject names the newer version
  if (tables.length === 0 && version === 0) {
    if (create) return;
    throw new SortaError('database', `${projectPath} is not a Sorta project (it is an empty database).`);
  }
  const listed = tables.slice(0, 5).join(', ') + (tables.length > 5 ? `, and ${tables.length - 5} more` : '');
  throw new SortaError(
    'database',
    `${projectPath} is not a Sorta project: it is an SQLite database of another program (` +
      `${tables.length ? `tables ${listed}` : `schema version ${version}, no tables`}). Sorta left it unchanged; ` +
      'give the project a file name of its own.',
  );
}

function databaseError(error: unknown, projectPath: string): SortaError {
  const notADatabase = (error as { code?: string }).code === 'SQLITE_NOTADB';
  return new SortaError(
    'database',
    notADatabase
      ? `${projectPath} is not a Sorta project (it is not an SQLite database).`
      : `Cannot open project ${projectPath}: ${(error as Error).message}.`,
    { cause: error },
  );
}

function configure(db: Database.Database, projectPath: string): void {
  try {
    const mode = String(db.pragma('journal_mode = WAL', { simple: true }));
    if (mode.toLowerCase() !== 'wal')
      throw new Error(`could not switch to write-ahead logging (journal mode is ${mode})`);
    db.pragma('foreign_keys = ON');
    // Labels are precious: every commit reaches the disk before it is acknowledged.
    db.pragma('synchronous = FULL');
  } catch (error) {
    throw databaseError(error, projectPath);
  }
}

function checkIntegrity(db: Database.Database, projectPath: string): void {
  let problems: string[];
  try {
    problems = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
  } catch (error) {
    problems = [(error as Error).message];
  }
  if (problems.length === 1 && problems[0] === 'ok') return;
  throw new SortaError(
    'database',
    `Project ${projectPath} is damaged (SQLite integrity check: ${problems.slice(0, 3).join('; ')}` +
      `${problems.length > 3 ? `; and ${problems.length - 3} more` : ''}). Restore it from a backup ` +
      `(Sorta saves one beside the project before each upgrade) or re-import the folders into a new project.`,
  );
}

function hasUserTables(db: Database.Database): boolean {
  const row = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as {
    n: number;
  };
  return row.n > 0;
}

/**
 * A consistent online copy of the database (`VACUUM INTO` reads one snapshot, so it is safe while other
 * connections write), saved beside the project before migrating. Synchronous, so openProject stays synchronous.
 */
function backUp(db: Database.Database, projectPath: string, version: number): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const name = basename(projectPath).replace(/\.sorta$/i, '');
  const backupPath = join(dirname(projectPath), `${name}.schema-v${version}.${stamp}.sorta-backup`);
  try {
    db.prepare('VACUUM INTO ?').run(backupPath);
  } catch (error) {
    throw new SortaError(
      'io',
      `Cannot back up project ${projectPath} to ${backupPath} before upgrading it: ${(error as Error).message}. ` +
        'The project was not changed.',
      { cause: error },
    );
  }
  return backupPath;
}
