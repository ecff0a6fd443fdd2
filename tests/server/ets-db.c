/* ets-db.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-test-server"

#include "config.h"

#include <sodium.h>
#include <stdarg.h>

#include "ets-private.h"

/* The schema follows museum's tables (spec/ente-server.md §2.1), reduced to
 * the columns a Photos client can observe. Emails are stored in clear: this
 * is a test double, nothing here is secret.
 */
static const char *schema =
  "CREATE TABLE IF NOT EXISTS meta ("
  "  key TEXT PRIMARY KEY, value BLOB);"
  "CREATE TABLE IF NOT EXISTS users ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  email TEXT NOT NULL UNIQUE,"
  "  creation_time INTEGER NOT NULL,"
  "  source TEXT,"
  "  email_mfa INTEGER NOT NULL DEFAULT 0,"
  "  usage INTEGER NOT NULL DEFAULT 0);"
  "CREATE TABLE IF NOT EXISTS subscriptions ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  user_id INTEGER NOT NULL UNIQUE,"
  "  storage INTEGER NOT NULL,"
  "  expiry_time INTEGER NOT NULL);"
  "CREATE TABLE IF NOT EXISTS otts ("
  "  email TEXT NOT NULL, app TEXT NOT NULL, ott TEXT NOT NULL,"
  "  creation_time INTEGER NOT NULL, expiration_time INTEGER NOT NULL,"
  "  wrong_attempt INTEGER NOT NULL DEFAULT 0,"
  "  UNIQUE (ott, app, email));"
  "CREATE TABLE IF NOT EXISTS tokens ("
  "  token TEXT NOT NULL, app TEXT NOT NULL, user_id INTEGER NOT NULL,"
  "  creation_time INTEGER NOT NULL, last_used_at INTEGER NOT NULL,"
  "  is_deleted INTEGER NOT NULL DEFAULT 0, ip TEXT, user_agent TEXT,"
  "  PRIMARY KEY (token, app));"
  "CREATE TABLE IF NOT EXISTS key_attributes ("
  "  user_id INTEGER PRIMARY KEY,"
  "  kek_salt TEXT NOT NULL, encrypted_key TEXT NOT NULL,"
  "  key_decryption_nonce TEXT NOT NULL, public_key TEXT NOT NULL,"
  "  encrypted_secret_key TEXT NOT NULL, secret_key_decryption_nonce TEXT NOT NULL,"
  "  mem_limit INTEGER NOT NULL, ops_limit INTEGER NOT NULL,"
  "  master_key_encrypted_with_recovery_key TEXT,"
  "  master_key_decryption_nonce TEXT,"
  "  recovery_key_encrypted_with_master_key TEXT,"
  "  recovery_key_decryption_nonce TEXT);"
  "CREATE TABLE IF NOT EXISTS srp_sessions ("
  "  id TEXT PRIMARY KEY, srp_user_id TEXT NOT NULL, server_key TEXT NOT NULL,"
  "  srp_a TEXT NOT NULL, has_verified INTEGER NOT NULL DEFAULT 0,"
  "  attempt_count INTEGER NOT NULL DEFAULT 0, is_fake INTEGER NOT NULL DEFAULT 0,"
  "  created_at INTEGER NOT NULL);"
  "CREATE TABLE IF NOT EXISTS temp_srp_setup ("
  "  id TEXT PRIMARY KEY, session_id TEXT NOT NULL, user_id INTEGER NOT NULL,"
  "  srp_user_id TEXT NOT NULL, salt TEXT NOT NULL, verifier TEXT NOT NULL);"
  "CREATE TABLE IF NOT EXISTS srp_auth ("
  "  user_id INTEGER PRIMARY KEY, srp_user_id TEXT NOT NULL UNIQUE,"
  "  salt TEXT NOT NULL, verifier TEXT NOT NULL);"
  "CREATE TABLE IF NOT EXISTS two_factor ("
  "  user_id INTEGER PRIMARY KEY, secret TEXT NOT NULL,"
  "  encrypted_secret TEXT, secret_nonce TEXT, enabled INTEGER NOT NULL DEFAULT 1);"
  "CREATE TABLE IF NOT EXISTS temp_two_factor ("
  "  user_id INTEGER NOT NULL, secret TEXT NOT NULL, expiry INTEGER NOT NULL);"
  "CREATE TABLE IF NOT EXISTS two_factor_sessions ("
  "  id TEXT PRIMARY KEY, user_id INTEGER NOT NULL, expiry INTEGER NOT NULL,"
  "  wrong_attempt INTEGER NOT NULL DEFAULT 0);"
  "CREATE TABLE IF NOT EXISTS used_totp ("
  "  user_id INTEGER NOT NULL, code TEXT NOT NULL, expiry INTEGER NOT NULL,"
  "  PRIMARY KEY (user_id, code));"
  "CREATE TABLE IF NOT EXISTS collections ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  owner_id INTEGER NOT NULL, encrypted_key TEXT NOT NULL,"
  "  key_decryption_nonce TEXT NOT NULL, name TEXT, encrypted_name TEXT,"
  "  name_decryption_nonce TEXT, type TEXT NOT NULL, attributes TEXT,"
  "  magic_metadata TEXT, pub_magic_metadata TEXT,"
  "  updation_time INTEGER NOT NULL, is_deleted INTEGER NOT NULL DEFAULT 0,"
  "  app TEXT NOT NULL);"
  "CREATE UNIQUE INDEX IF NOT EXISTS collections_special ON collections"
  "  (owner_id, app, type) WHERE type IN ('favorites', 'uncategorized');"
  "CREATE TABLE IF NOT EXISTS files ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  owner_id INTEGER NOT NULL, encrypted_metadata TEXT NOT NULL,"
  "  file_decryption_header TEXT NOT NULL, thumbnail_decryption_header TEXT NOT NULL,"
  "  metadata_decryption_header TEXT NOT NULL,"
  "  magic_metadata TEXT, pub_magic_metadata TEXT,"
  "  file_size INTEGER NOT NULL, thumb_size INTEGER NOT NULL,"
  "  updation_time INTEGER NOT NULL);"
  "CREATE TABLE IF NOT EXISTS collection_files ("
  "  collection_id INTEGER NOT NULL, file_id INTEGER NOT NULL,"
  "  encrypted_key TEXT NOT NULL, key_decryption_nonce TEXT NOT NULL,"
  "  is_deleted INTEGER NOT NULL DEFAULT 0, updation_time INTEGER NOT NULL,"
  "  c_owner_id INTEGER NOT NULL, f_owner_id INTEGER NOT NULL,"
  "  created_at INTEGER NOT NULL, action TEXT, action_user INTEGER,"
  "  PRIMARY KEY (collection_id, file_id));"
  "CREATE INDEX IF NOT EXISTS collection_files_time ON collection_files"
  "  (collection_id, updation_time);"
  "CREATE INDEX IF NOT EXISTS collection_files_file ON collection_files (file_id);"
  "CREATE TABLE IF NOT EXISTS object_keys ("
  "  object_key TEXT PRIMARY KEY, file_id INTEGER NOT NULL,"
  "  o_type TEXT NOT NULL, size INTEGER NOT NULL,"
  "  is_deleted INTEGER NOT NULL DEFAULT 0);"
  "CREATE INDEX IF NOT EXISTS object_keys_file ON object_keys (file_id);"
  "CREATE TABLE IF NOT EXISTS temp_objects ("
  "  object_key TEXT PRIMARY KEY, upload_id TEXT, user_id INTEGER NOT NULL,"
  "  expiry INTEGER NOT NULL);"
  "CREATE TABLE IF NOT EXISTS trash ("
  "  file_id INTEGER PRIMARY KEY, collection_id INTEGER NOT NULL,"
  "  user_id INTEGER NOT NULL, is_deleted INTEGER NOT NULL DEFAULT 0,"
  "  is_restored INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,"
  "  updated_at INTEGER NOT NULL, delete_by INTEGER NOT NULL);"
  "CREATE INDEX IF NOT EXISTS trash_time ON trash (user_id, updated_at);"
  "CREATE TABLE IF NOT EXISTS blobs ("
  "  object_key TEXT PRIMARY KEY, size INTEGER NOT NULL, etag TEXT NOT NULL);"
  "CREATE TABLE IF NOT EXISTS multipart_uploads ("
  "  upload_id TEXT PRIMARY KEY, object_key TEXT NOT NULL,"
  "  created_at INTEGER NOT NULL, completed_etag TEXT);"
  "CREATE TABLE IF NOT EXISTS multipart_parts ("
  "  upload_id TEXT NOT NULL, part_number INTEGER NOT NULL,"
  "  size INTEGER NOT NULL, etag TEXT NOT NULL,"
  "  PRIMARY KEY (upload_id, part_number));";

/* IDs start at museum-like magnitudes (beyond 32 bits), and at different
 * bases per table so that a client mixing up user, collection and file ids
 * gets a 404 instead of a lucky match. */
static const char *seed_sequences =
  "INSERT INTO sqlite_sequence (name, seq)"
  "  SELECT 'users', 1580559962386437"
  "  WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'users');"
  "INSERT INTO sqlite_sequence (name, seq)"
  "  SELECT 'collections', 1580559962500000"
  "  WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'collections');"
  "INSERT INTO sqlite_sequence (name, seq)"
  "  SELECT 'files', 1580559962900000"
  "  WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'files');"
  "INSERT INTO sqlite_sequence (name, seq)"
  "  SELECT 'subscriptions', 1000"
  "  WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'subscriptions');";

gboolean
ets_db_exec (EtsServer  *ets,
             const char *sql)
{
  char *errmsg = NULL;

  if (sqlite3_exec (ets->db, sql, NULL, NULL, &errmsg) != SQLITE_OK)
    {
      g_warning ("SQL error: %s (%s)", errmsg, sql);
      sqlite3_free (errmsg);
      return FALSE;
    }
  return TRUE;
}

sqlite3_stmt *
ets_db_prepare (EtsServer  *ets,
                const char *sql)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (ets->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    g_error ("SQL prepare failed: %s (%s)", sqlite3_errmsg (ets->db), sql);
  return stmt;
}

gboolean
ets_db_begin (EtsServer *ets)
{
  return ets_db_exec (ets, "BEGIN IMMEDIATE");
}

gboolean
ets_db_commit (EtsServer *ets)
{
  return ets_db_exec (ets, "COMMIT");
}

void
ets_db_rollback (EtsServer *ets)
{
  if (!sqlite3_get_autocommit (ets->db))
    ets_db_exec (ets, "ROLLBACK");
}

/* Runs a query whose parameters are all int64 (passed as gint64 varargs,
 * count given by the number of '?' in sql) and returns the first column of
 * the first row, or fallback. */
gint64
ets_db_query_int (EtsServer  *ets,
                  gint64      fallback,
                  const char *sql,
                  ...)
{
  g_autoptr(sqlite3_stmt) stmt = ets_db_prepare (ets, sql);
  int n = sqlite3_bind_parameter_count (stmt);
  gint64 result = fallback;
  va_list args;

  va_start (args, sql);
  for (int i = 1; i <= n; i++)
    sqlite3_bind_int64 (stmt, i, va_arg (args, gint64));
  va_end (args);

  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    result = sqlite3_column_int64 (stmt, 0);
  return result;
}

void
ets_bind_text_or_null (sqlite3_stmt *stmt,
                       int           index,
                       const char   *text)
{
  if (text == NULL)
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
}

const char *
ets_column_text (sqlite3_stmt *stmt,
                 int           index)
{
  const char *text = (const char *) sqlite3_column_text (stmt, index);
  return text != NULL ? text : "";
}

/* A strictly increasing microsecond clock: two requests in the same
 * microsecond still get different timestamps (spec §3, "Edge cases"). */
gint64
ets_now (EtsServer *ets)
{
  gint64 now = g_get_real_time ();

  if (now <= ets->last_time)
    now = ets->last_time + 1;
  ets->last_time = now;
  return now;
}

static gboolean
load_signing_key (EtsServer  *ets,
                  GError    **error)
{
  g_autoptr(sqlite3_stmt) select = NULL;
  g_autoptr(sqlite3_stmt) insert = NULL;

  select = ets_db_prepare (ets, "SELECT value FROM meta WHERE key = 'signing-key'");
  if (sqlite3_step (select) == SQLITE_ROW &&
      sqlite3_column_bytes (select, 0) == (int) sizeof ets->signing_key)
    {
      memcpy (ets->signing_key, sqlite3_column_blob (select, 0), sizeof ets->signing_key);
      return TRUE;
    }

  randombytes_buf (ets->signing_key, sizeof ets->signing_key);
  insert = ets_db_prepare (ets, "INSERT OR REPLACE INTO meta (key, value) VALUES ('signing-key', ?)");
  sqlite3_bind_blob (insert, 1, ets->signing_key, sizeof ets->signing_key, SQLITE_STATIC);
  if (sqlite3_step (insert) != SQLITE_DONE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "Cannot store the URL signing key: %s", sqlite3_errmsg (ets->db));
      return FALSE;
    }
  return TRUE;
}

gboolean
ets_db_open (EtsServer  *ets,
             GError    **error)
{
  g_autofree char *path = g_build_filename (ets->data_dir, "museum.sqlite3", NULL);

  if (sqlite3_open (path, &ets->db) != SQLITE_OK)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "Cannot open %s: %s", path, sqlite3_errmsg (ets->db));
      return FALSE;
    }

  sqlite3_busy_timeout (ets->db, 5000);
  if (!ets_db_exec (ets, "PRAGMA journal_mode = WAL") ||
      /* Safe against a killed process, which is what tests do to it. */
      !ets_db_exec (ets, "PRAGMA synchronous = NORMAL") ||
      !ets_db_exec (ets, "PRAGMA foreign_keys = OFF") ||
      !ets_db_exec (ets, schema) ||
      !ets_db_exec (ets, seed_sequences))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "Cannot initialise the database in %s", path);
      return FALSE;
    }

  if (!load_signing_key (ets, error))
    return FALSE;

  /* The clock never runs backwards across restarts either. */
  ets->last_time = MAX (ets_db_query_int (ets, 0, "SELECT MAX(updation_time) FROM collection_files"),
                        ets_db_query_int (ets, 0, "SELECT MAX(updation_time) FROM collections"));
  ets->last_time = MAX (ets->last_time,
                        ets_db_query_int (ets, 0, "SELECT MAX(updated_at) FROM trash"));

  if (ets->quota >= 0)
    {
      g_autoptr(sqlite3_stmt) stmt = ets_db_prepare (ets, "UPDATE subscriptions SET storage = ?");
      sqlite3_bind_int64 (stmt, 1, ets->quota);
      sqlite3_step (stmt);
    }
  return TRUE;
}

void
ets_db_close (EtsServer *ets)
{
  if (ets->db != NULL)
    {
      sqlite3_close (ets->db);
      ets->db = NULL;
    }
}

/* Diff paging (spec/ente-server.md §3): `times` yields up to LIMIT + 1
 * ascending timestamps past the cursor. Returns the inclusive upper bound of
 * the page so that a page never splits a group of equal timestamps. */
gint64
ets_page_upper (sqlite3_stmt *times,
                gboolean     *has_more)
{
  g_autoptr(GArray) seen = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 first, boundary;

  while (sqlite3_step (times) == SQLITE_ROW && seen->len <= ETS_DIFF_LIMIT)
    {
      gint64 t = sqlite3_column_int64 (times, 0);
      g_array_append_val (seen, t);
    }

  if (seen->len <= ETS_DIFF_LIMIT)
    {
      *has_more = FALSE;
      return G_MAXINT64;
    }

  *has_more = TRUE;
  first = g_array_index (seen, gint64, 0);
  boundary = g_array_index (seen, gint64, ETS_DIFF_LIMIT);
  if (first == boundary)
    return boundary;
  return boundary - 1;
}
