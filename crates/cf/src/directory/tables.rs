//! The directory's tables, one text for both databases.

/// The statements of the directory's first migration that both databases
/// run: its organizations, spaces, apps, roles and the ids removed, never
/// to be used again (R13), each table followed by `$end` (SQLite's
/// `WITHOUT ROWID`, which keeps each row in its primary key's index;
/// nothing for PostgreSQL).
macro_rules! directory_tables {
    ($end:literal) => {
        concat!(
            "
    CREATE TABLE cf_orgs (
        id   TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    )",
            $end,
            ";
    CREATE TABLE cf_spaces (
        id     TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        name   TEXT NOT NULL,
        UNIQUE (org_id, name)
    )",
            $end,
            ";
    CREATE TABLE cf_apps (
        id       TEXT PRIMARY KEY,
        space_id TEXT NOT NULL,
        name     TEXT NOT NULL,
        UNIQUE (space_id, name)
    )",
            $end,
            ";
    CREATE TABLE cf_global_roles (
        user_id TEXT NOT NULL,
        role    TEXT NOT NULL,
        PRIMARY KEY (user_id, role)
    )",
            $end,
            ";
    CREATE TABLE cf_org_roles (
        user_id TEXT NOT NULL,
        org_id  TEXT NOT NULL,
        role    TEXT NOT NULL,
        PRIMARY KEY (user_id, org_id, role)
    )",
            $end,
            ";
    CREATE INDEX cf_org_roles_by_org ON cf_org_roles (org_id);
    CREATE TABLE cf_space_roles (
        user_id  TEXT NOT NULL,
        space_id TEXT NOT NULL,
        role     TEXT NOT NULL,
        PRIMARY KEY (user_id, space_id, role)
    )",
            $end,
            ";
    CREATE INDEX cf_space_roles_by_space ON cf_space_roles (space_id);
    CREATE TABLE cf_retired_ids (
        kind TEXT NOT NULL,
        id   TEXT NOT NULL,
        PRIMARY KEY (kind, id)
    )",
            $end,
            ";
    "
        )
    };
}

/// The statements of the directory's second migration, for both
/// databases: each app's image, recorded when a push of it starts, so
/// that the directory knows which image the app's next pull resolves
/// (R29). A row of an app pushed before it holds none until its next push.
macro_rules! directory_images {
    () => {
        "ALTER TABLE cf_apps ADD COLUMN image TEXT;"
    };
}
