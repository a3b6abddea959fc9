//! Which backend holds the relay's data: the SQLite file in a data directory (the
//! default) or a PostgreSQL database shared by several relay processes.

use super::postgres::{PgStore, PgTarget};
use super::{Quotas, RelayStore, SqliteStore};
use crate::error::RelayError;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the relay's store lives.
#[derive(Debug, Clone)]
pub enum Database {
    /// `relay.sqlite3` in this directory (created if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL database (migrated on open).
    Postgres(PgTarget),
}

impl Database {
    /// A PostgreSQL database at `url` (`postgres://user[:password]@host:port/db`).
    pub fn postgres(url: impl Into<String>) -> Database {
        Database::Postgres(PgTarget {
            url: url.into(),
            schema: None,
        })
    }

    /// Opens (creating and migrating if needed) the store, with these quotas on push.
    pub fn open(&self, quotas: Quotas) -> Result<Arc<dyn RelayStore>, RelayError> {
        Ok(match self {
            Database::Sqlite(dir) => Arc::new(SqliteStore::open(dir)?.with_quotas(quotas)),
            Database::Postgres(target) => Arc::new(PgStore::open(target)?.with_quotas(quotas)),
        })
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Database::Postgres(_))
    }
}

impl From<&Path> for Database {
    fn from(dir: &Path) -> Database {
        Database::Sqlite(dir.to_path_buf())
    }
}

impl From<PathBuf> for Database {
    fn from(dir: PathBuf) -> Database {
        Database::Sqlite(dir)
    }
}

impl From<&PathBuf> for Database {
    fn from(dir: &PathBuf) -> Database {
        Database::Sqlite(dir.clone())
    }
}

impl From<&Database> for Database {
    fn from(db: &Database) -> Database {
        db.clone()
    }
}
