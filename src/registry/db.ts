/**
 * The registry's metadata database: SQLite through better-sqlite3, in WAL mode so that readers
 * never block the writer and several processes can share one registry. Writers serialize on
 * SQLite's write lock (BEGIN IMMEDIATE), waiting up to busy_timeout for each other.
 */
import Database from 'better-sqlite3';
import { FrescoError } from '../errors/index.js';

export type Db = Database.Database;

/** Bumped with every schema change; a database from a newer Fresco is refused, not guessed at. */
export const SCHEMA_VERSION = 2;

/** How long a writer waits for another process's write to finish, in milliseconds. */
export const BUSY_TIMEOUT_MS = 30_000;

const IMMUTABLE_TRIGGER = `CREATE TRIGGER versions_immutable BEFORE UPDATE ON versions
WHEN NEW.name IS NOT OLD.name OR NEW.version IS NOT OLD.version OR NEW.created_by IS NOT OLD.created_by
  OR NEW.created_at IS NOT OLD.created_at OR NEW.package_checksum IS NOT OLD.package_checksum
  OR NEW.backend IS NOT OLD.backend OR NEW.input_kind IS NOT OLD.input_kind OR NEW.plan_hash IS NOT OLD.plan_hash
  OR NEW.training_config IS NOT OLD.training_config OR NEW.datasets IS NOT OLD.datasets
  OR NEW.feature_definitions IS NOT OLD.feature_definitions OR NEW.code_hash IS NOT OLD.code_hash
  OR NEW.metrics IS NOT OLD.metrics OR NEW.report_checksum IS NOT OLD.report_checksum
  OR NEW.params_summary IS NOT OLD.params_summary OR NEW.tags IS NOT OLD.tags OR NEW.description IS NOT OLD.description
  OR NEW.environment IS NOT OLD.environment
BEGIN SELECT RAISE(ABORT, 'model versions are immutable'); END;`;

const SCHEMA = `
CREATE TABLE versions (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  package_checksum TEXT NOT NULL,
  backend TEXT NOT NULL,
  input_kind TEXT NOT NULL,
  plan_hash TEXT,
  training_config TEXT,
  datasets TEXT,
  feature_definitions TEXT,
  code_hash TEXT,
  metrics TEXT NOT NULL,
  report_checksum TEXT,
  params_summary TEXT,
  tags TEXT NOT NULL,
  description TEXT,
  archived_at TEXT,
  archived_by TEXT,
  environment TEXT,
  PRIMARY KEY (name, version)
) STRICT;

CREATE TABLE version_files (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  path TEXT NOT NULL,
  checksum TEXT NOT NULL,
  size INTEGER NOT NULL,
  PRIMARY KEY (name, version, path),
  FOREIGN KEY (name, version) REFERENCES versions (name, version)
) STRICT;
CREATE INDEX version_files_checksum ON version_files (checksum);

CREATE TABLE aliases (
  name TEXT NOT NULL,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  PRIMARY KEY (name, alias),
  FOREIGN KEY (name, version) REFERENCES versions (name, version)
) STRICT;

CREATE TABLE alias_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  alias TEXT NOT NULL,
  from_version INTEGER,
  to_version INTEGER NOT NULL,
  at TEXT NOT NULL,
  by TEXT NOT NULL
) STRICT;

-- Versions are immutable: only archiving may change a row, and rows are never deleted.
${IMMUTABLE_TRIGGER}
CREATE TRIGGER versions_no_delete BEFORE DELETE ON versions BEGIN SELECT RAISE(ABORT, 'model versions are never deleted'); END;
CREATE TRIGGER version_files_immutable BEFORE UPDATE ON version_files BEGIN SELECT RAISE(ABORT, 'model versions are immutable'); END;
`;

/** Schema 2: a Python package's environment (key, Python version, pip freeze lock) with its version. */
const MIGRATE_1_TO_2 = `
ALTER TABLE versions ADD COLUMN environment TEXT;
DROP TRIGGER versions_immutable;
${IMMUTABLE_TRIGGER}
`;

export function openDatabase(file: string): Db {
  let db: Db;
  try {
    db = new Database(file);
    // busy_timeout first: switching to WAL itself takes a lock another process may hold.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
  } catch (error) {
    throw new FrescoError('FRESCO_ERR_REGISTRY_CORRUPT', `${file}: cannot open the registry database: ${(error as Error).message}`, { location: { file }, cause: error });
  }
  const migrate = db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new FrescoError('FRESCO_ERR_REGISTRY_CORRUPT', `${file}: registry schema version ${version} was written by a newer Fresco (this one knows ${SCHEMA_VERSION})`, { location: { file } });
    }
    if (version === 0) {
      db.exec(SCHEMA);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    } else if (version === 1) {
      db.exec(MIGRATE_1_TO_2);
      db.pragma('user_version = 2');
    }
  });
  try {
    // IMMEDIATE: two processes opening a new registry at once create the schema exactly once.
    if ((db.pragma('user_version', { simple: true }) as number) !== SCHEMA_VERSION) migrate.immediate();
  } catch (error) {
    db.close();
    if (error instanceof FrescoError) throw error;
    throw new FrescoError('FRESCO_ERR_REGISTRY_CORRUPT', `${file}: cannot read the registry database: ${(error as Error).message}`, { location: { file }, cause: error });
  }
  return db;
}
