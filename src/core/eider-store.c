/* eider-store.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-store"
#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>

#include "eider-store.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

G_DEFINE_QUARK (eider-store-error-quark, eider_store_error)

/* PRAGMA application_id: "Eidr", so that a stray SQLite file is not taken
 * for ours (and ours is recognisable with `file`). */
#define EIDER_STORE_APPLICATION_ID 0x45696472

#define BUSY_TIMEOUT_MS 5000

/* How the store writes (see store_configure()):
 *
 * - journal_mode WAL, synchronous NORMAL: a commit appends its pages to
 *   the WAL with no fsync; the store stays consistent after a crash or a
 *   power cut, which may lose the last commits. Resumption redoes them
 *   (an upload's record is committed before its bytes are sent; POST
 *   /files replays give the same file), so no fsync per file is needed.
 * - WAL_CHECKPOINT_PAGES: a commit that leaves this many pages in the WAL
 *   copies them to the database (PASSIVE: it never waits for readers),
 *   with the only fsyncs. SQLite's default is 1000 pages (4 MiB): at about
 *   20 pages per uploaded file that was a checkpoint (two fsyncs, and the
 *   same hot pages of the files table and its indexes copied again) every
 *   50 files. 4000 pages (16 MiB) does it every 200 or so.
 * - journal_size_limit: a WAL that grew past this (one large transaction,
 *   e.g. the first scan of a big library) is cut back to it when it
 *   restarts, instead of keeping its size on disk for good.
 * - cache_size stays SQLite's 2 MiB: what a file's steps touch (the
 *   B-trees' inner pages and a few leaves) fits, the kernel's page cache
 *   holds the rest, and a larger cache would only grow the daemon's
 *   resident memory after a rescan. */
#define WAL_CHECKPOINT_PAGES 4000
#define WAL_SIZE_LIMIT       16777216   /* bytes: 16 MiB */

/* The schema, one step per version. Step N (1-based) takes a database at
 * user_version N-1 to N; each step runs in its own transaction together
 * with the user_version bump. Never edit a released step: append one.
 *
 * Paths and album names are BLOBs (they are file names, in the file
 * system's encoding, not necessarily UTF-8); what comes from the server
 * is UTF-8 TEXT. Times are µs (real time) unless named _ns. */
static const char * const migrations[] = {
  /* 1 */
  "PRAGMA application_id = 1164534898;"  /* EIDER_STORE_APPLICATION_ID */
  "CREATE TABLE meta ("
  "  key   TEXT PRIMARY KEY NOT NULL,"
  "  value TEXT NOT NULL"
  ");"
  "CREATE TABLE watches ("
  "  id         INTEGER PRIMARY KEY,"
  "  path       BLOB NOT NULL UNIQUE,"
  "  mapping    INTEGER NOT NULL,"
  "  album_name BLOB,"
  "  paused     INTEGER NOT NULL DEFAULT 0,"
  "  created_at INTEGER NOT NULL"
  ");"
  "CREATE TABLE files ("
  "  id             INTEGER PRIMARY KEY,"
  "  watch_id       INTEGER NOT NULL REFERENCES watches (id) ON DELETE CASCADE,"
  "  path           BLOB NOT NULL,"
  "  album_name     BLOB,"
  "  dev            INTEGER NOT NULL,"
  "  inode          INTEGER NOT NULL,"
  "  size           INTEGER NOT NULL,"
  "  mtime_ns       INTEGER NOT NULL,"
  "  ctime_ns       INTEGER NOT NULL,"
  "  state          INTEGER NOT NULL,"
  "  reason         TEXT,"
  "  attempts       INTEGER NOT NULL DEFAULT 0,"
  "  next_retry     INTEGER NOT NULL DEFAULT 0,"
  "  hash           TEXT,"
  "  file_type      INTEGER NOT NULL DEFAULT -1,"
  "  remote_file_id INTEGER NOT NULL DEFAULT 0,"
  "  collection_id  INTEGER NOT NULL DEFAULT 0,"
  "  updated_at     INTEGER NOT NULL"
  ");"
  "CREATE UNIQUE INDEX files_path ON files (path);"
  "CREATE INDEX files_state_retry ON files (state, next_retry);"
  "CREATE INDEX files_watch ON files (watch_id);"
  "CREATE TABLE uploads ("
  "  file_id          INTEGER PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,"
  "  collection_id    INTEGER NOT NULL,"
  "  hash             TEXT,"
  "  plain_size       INTEGER NOT NULL,"
  "  mtime_ns         INTEGER NOT NULL,"
  "  encrypted_key    TEXT,"
  "  key_nonce        TEXT,"
  "  file_header      TEXT,"
  "  encrypted_size   INTEGER NOT NULL,"
  "  object_key       TEXT,"
  "  part_size        INTEGER NOT NULL,"
  "  part_md5s        TEXT,"       /* JSON array of strings */
  "  part_urls        TEXT,"       /* JSON array of strings */
  "  complete_url     TEXT,"
  "  urls_expire_us   INTEGER NOT NULL,"
  "  etags            TEXT,"       /* JSON array of strings */
  "  file_done        INTEGER NOT NULL,"
  "  thumb_data       BLOB,"
  "  thumb_object_key TEXT,"
  "  thumb_header     TEXT,"
  "  thumb_size       INTEGER NOT NULL,"
  "  thumb_done       INTEGER NOT NULL,"
  "  metadata_data    TEXT,"
  "  metadata_header  TEXT,"
  "  pubmm_data       TEXT,"
  "  pubmm_header     TEXT,"
  "  pubmm_count      INTEGER NOT NULL,"
  "  updated_at       INTEGER NOT NULL"
  ");"
  "CREATE TABLE collections ("
  "  id            INTEGER PRIMARY KEY,"
  "  owner_id      INTEGER NOT NULL,"
  "  type          TEXT,"
  "  name          TEXT,"
  "  encrypted_key TEXT,"
  "  key_nonce     TEXT,"
  "  is_deleted    INTEGER NOT NULL DEFAULT 0,"
  "  updation_time INTEGER NOT NULL DEFAULT 0,"
  "  files_since   INTEGER NOT NULL DEFAULT 0"
  ");"
  /* No foreign key to collections: the remote index mirrors the server,
   * and delete_collection removes a collection's files explicitly. */
  "CREATE TABLE remote_files ("
  "  id            INTEGER NOT NULL,"
  "  collection_id INTEGER NOT NULL,"
  "  title         TEXT,"
  "  file_type     INTEGER NOT NULL,"
  "  hash          TEXT,"
  "  encrypted_key TEXT,"
  "  key_nonce     TEXT,"
  "  file_header   TEXT,"
  "  file_size     INTEGER NOT NULL DEFAULT 0,"
  "  creation_time INTEGER NOT NULL DEFAULT 0,"
  "  updation_time INTEGER NOT NULL DEFAULT 0,"
  "  PRIMARY KEY (id, collection_id)"
  ");"
  "CREATE INDEX remote_files_dedupe ON remote_files (title, file_type, hash);"
  "CREATE INDEX remote_files_collection ON remote_files (collection_id);",
  /* 2: per-folder choices, content replacement, public magic metadata */
  "ALTER TABLE watches ADD COLUMN keep_edits INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE watches ADD COLUMN keep_deleted INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE uploads ADD COLUMN replaces_id INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE remote_files ADD COLUMN pubmm_version INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE remote_files ADD COLUMN pubmm_json TEXT;"
  "CREATE INDEX files_remote ON files (remote_file_id);"
  "CREATE INDEX files_state ON files (state);",
  /* 3: reasons as a code (EiderReason) plus details, described for people
   * only when shown. The free text of before becomes code 1
   * (EIDER_REASON_OTHER) with the text as its details. */
  "ALTER TABLE files ADD COLUMN reason_code INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE files ADD COLUMN reason_details TEXT;"
  "UPDATE files SET reason_code = 1, reason_details = reason WHERE reason IS NOT NULL;"
  "ALTER TABLE files DROP COLUMN reason;",
  /* 4: indexes that pay for themselves. Each file's state changes a few
   * times on its way to Ente, and (state, next_retry) beside (state)
   * was a second index entry moved each time, for the one query of the
   * failed files due; remote_file_id 0 (not uploaded yet) was an entry
   * of every new file that no query looks up. 4 is EIDER_FILE_FAILED. */
  "DROP INDEX IF EXISTS files_state_retry;"
  "CREATE INDEX files_retry ON files (next_retry) WHERE state = 4;"
  "DROP INDEX IF EXISTS files_remote;"
  "CREATE INDEX files_remote ON files (remote_file_id) WHERE remote_file_id != 0;",
};

/* The partial index files_retry names the failed state by its number, as
 * eider_store_list_due_files() names the pending and working ones. */
G_STATIC_ASSERT (EIDER_FILE_FAILED == 4);
G_STATIC_ASSERT (EIDER_FILE_PENDING == 0 && EIDER_FILE_WORKING == 1);

#define SCHEMA_VERSION ((gint) G_N_ELEMENTS (migrations))

struct _EiderStore
{
  GObject     parent_instance;

  sqlite3    *db;
  char       *path;
  GHashTable *statements;   /* SQL literal → sqlite3_stmt */
  gint        schema_version;

  guint       tx_depth;
  gboolean    tx_failed;   /* an inner transaction rolled back */

  /* Grouped commits (eider_store_set_commit_delay()): writes outside a
   * transaction join one open transaction, committed by a timer, by a
   * write that must be durable, or at close. */
  guint       commit_delay_ms;   /* 0: each write commits at once */
  gboolean    group_open;        /* the group's BEGIN is open */
  gboolean    group_durable;     /* commit the group once the transaction inside ends */
  GSource    *group_source;      /* the timer that commits it */

  /* Files and bytes per state, kept by temporary triggers (see
   * store_counts_*), so that counting does not read every file. */
  gboolean    counts_valid;
  gint64      counts_version;    /* PRAGMA data_version when they were read */
  gint64      n_files[EIDER_FILE_FAILED + 1];
  gint64      n_bytes[EIDER_FILE_FAILED + 1];

  guint64     n_commits;       /* transactions that wrote to the WAL (its hook) */
  guint64     n_checkpointed;  /* pages copied from the WAL to the database */
};

G_DEFINE_FINAL_TYPE (EiderStore, eider_store, G_TYPE_OBJECT)

/* Helpers */

static gboolean
set_sqlite_error (EiderStore  *self,
                  GError     **error,
                  const char  *what)
{
  g_set_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_FAILED,
               "%s: %s", what, sqlite3_errmsg (self->db));
  return FALSE;
}

/* A statement used once (settings, migrations). */
static sqlite3_stmt *
store_prepare_once (EiderStore  *self,
                    const char  *sql,
                    const char  *what,
                    GError     **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      set_sqlite_error (self, error, what);
      return NULL;
    }

  return stmt;
}

/* The statements of the API are prepared once per connection and kept
 * (parsing SQL costs more than running these small queries: a rescan
 * checks every file). g_autoptr(StoreStatement) hands one back reset, with
 * its bindings cleared, so that no read transaction stays open. */
typedef sqlite3_stmt StoreStatement;

static void
store_statement_release (StoreStatement *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StoreStatement, store_statement_release)

/* @sql must be a string literal: it is the cache key and is not copied. */
static StoreStatement *
store_prepare (EiderStore  *self,
               const char  *sql,
               const char  *what,
               GError     **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (self->statements, sql);

  if (stmt != NULL)
    {
      /* The same statement twice at once would be a programming error. */
      g_assert (!sqlite3_stmt_busy (stmt));
      return stmt;
    }

  if (sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
    {
      set_sqlite_error (self, error, what);
      return NULL;
    }
  g_hash_table_insert (self->statements, (gpointer) sql, stmt);

  return stmt;
}

/* Runs a statement that returns no rows. */
static void store_group_join (EiderStore *self);

static gboolean
store_step_done (EiderStore    *self,
                 sqlite3_stmt  *stmt,
                 const char    *what,
                 GError       **error)
{
  int rc;

  if (!sqlite3_stmt_readonly (stmt))
    store_group_join (self);

  rc = sqlite3_step (stmt);

  if (rc != SQLITE_DONE)
    {
      /* What the failed statement did is undone: count again. */
      self->counts_valid = FALSE;
      return set_sqlite_error (self, error, what);
    }

  return TRUE;
}

static gboolean
store_exec (EiderStore  *self,
            const char  *sql,
            const char  *what,
            GError     **error)
{
  char *errmsg = NULL;

  if (sqlite3_exec (self->db, sql, NULL, NULL, &errmsg) != SQLITE_OK)
    {
      self->counts_valid = FALSE;
      g_set_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_FAILED,
                   "%s: %s", what, errmsg != NULL ? errmsg : sqlite3_errmsg (self->db));
      sqlite3_free (errmsg);
      return FALSE;
    }

  return TRUE;
}

static gboolean
store_pragma_int (EiderStore  *self,
                  const char  *sql,
                  gint64      *value,
                  GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = store_prepare_once (self, sql, "reading its settings", error);

  if (stmt == NULL)
    return FALSE;

  if (sqlite3_step (stmt) != SQLITE_ROW)
    return set_sqlite_error (self, error, "reading its settings");

  *value = sqlite3_column_int64 (stmt, 0);

  return TRUE;
}

/* Binds a file name (any bytes) as a BLOB, or NULL. */
static void
bind_bytes (sqlite3_stmt *stmt,
            int           index,
            const char   *value)
{
  if (value == NULL)
    sqlite3_bind_null (stmt, index);
  else if (*value == '\0')
    sqlite3_bind_zeroblob (stmt, index, 0);
  else
    sqlite3_bind_blob (stmt, index, value, strlen (value), SQLITE_TRANSIENT);
}

static void
bind_text (sqlite3_stmt *stmt,
           int           index,
           const char   *value)
{
  if (value == NULL)
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_text (stmt, index, value, -1, SQLITE_TRANSIENT);
}

/* A TEXT or BLOB column as a NUL-terminated string (NULL for SQL NULL). */
static char *
column_dup (sqlite3_stmt *stmt,
            int           column)
{
  const void *data;
  int len;

  if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
    return NULL;

  data = sqlite3_column_blob (stmt, column);
  len = sqlite3_column_bytes (stmt, column);

  return data != NULL ? g_strndup (data, len) : g_strdup ("");
}

static void
bind_strv (sqlite3_stmt       *stmt,
           int                 index,
           const char * const *strv)
{
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonGenerator) generator = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *json = NULL;

  if (strv == NULL)
    {
      sqlite3_bind_null (stmt, index);
      return;
    }

  builder = json_builder_new ();
  json_builder_begin_array (builder);
  for (guint i = 0; strv[i] != NULL; i++)
    json_builder_add_string_value (builder, strv[i]);
  json_builder_end_array (builder);

  root = json_builder_get_root (builder);
  generator = json_generator_new ();
  json_generator_set_root (generator, root);
  json = json_generator_to_data (generator, NULL);
  sqlite3_bind_text (stmt, index, json, -1, SQLITE_TRANSIENT);
}

/* A JSON array of strings as a GStrv; NULL for SQL NULL. */
static gboolean
column_strv (sqlite3_stmt  *stmt,
             int            column,
             GStrv         *out,
             GError       **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GStrvBuilder) builder = NULL;
  const char *json;
  JsonNode *root;
  JsonArray *array;
  guint len;

  *out = NULL;
  if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
    return TRUE;

  json = (const char *) sqlite3_column_text (stmt, column);
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, json != NULL ? json : "", -1, error))
    return FALSE;

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    {
      g_set_error_literal (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_FAILED,
                           "A stored list is not a JSON array");
      return FALSE;
    }

  array = json_node_get_array (root);
  len = json_array_get_length (array);
  builder = g_strv_builder_new ();
  for (guint i = 0; i < len; i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
        {
          g_set_error_literal (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_FAILED,
                               "A stored list holds something other than strings");
          return FALSE;
        }
      g_strv_builder_add (builder, json_node_get_string (node));
    }

  *out = g_strv_builder_end (builder);

  return TRUE;
}

static char *
display_name (const char *path)
{
  return g_filename_display_name (path);
}

/* Records */

/* The state's nick (as registered with GType): "pending", "working",
 * "uploaded", "skipped", "failed"; "unknown" for anything else. */
const char *
eider_file_state_to_string (EiderFileState state)
{
  static GEnumClass *klass;
  GEnumValue *value;

  /* Static types' classes are never finalized: one reference, kept. */
  if (g_once_init_enter (&klass))
    g_once_init_leave (&klass, g_type_class_ref (EIDER_TYPE_FILE_STATE));

  value = g_enum_get_value (klass, state);

  return value != NULL ? value->value_nick : "unknown";
}

void
eider_watch_free (EiderWatch *watch)
{
  if (watch == NULL)
    return;

  g_free (watch->path);
  g_free (watch->album_name);
  g_free (watch);
}

void
eider_file_record_free (EiderFileRecord *record)
{
  if (record == NULL)
    return;

  g_free (record->path);
  g_free (record->album_name);
  g_free (record->reason_details);
  g_free (record->hash);
  g_free (record);
}

void
eider_upload_record_free (EiderUploadRecord *record)
{
  if (record == NULL)
    return;

  g_free (record->hash);
  g_free (record->encrypted_key);
  g_free (record->key_nonce);
  g_free (record->file_header);
  g_free (record->object_key);
  g_strfreev (record->part_md5s);
  g_strfreev (record->part_urls);
  g_free (record->complete_url);
  g_strfreev (record->etags);
  g_clear_pointer (&record->thumb_data, g_bytes_unref);
  g_free (record->thumb_object_key);
  g_free (record->thumb_header);
  g_free (record->metadata_data);
  g_free (record->metadata_header);
  g_free (record->pubmm_data);
  g_free (record->pubmm_header);
  g_free (record);
}

/**
 * eider_upload_record_copy:
 * @record: an upload record
 *
 * Returns: (transfer full): a deep copy of @record
 */
EiderUploadRecord *
eider_upload_record_copy (const EiderUploadRecord *record)
{
  EiderUploadRecord *copy;

  g_return_val_if_fail (record != NULL, NULL);

  copy = g_new0 (EiderUploadRecord, 1);
  *copy = *record;
  copy->hash = g_strdup (record->hash);
  copy->encrypted_key = g_strdup (record->encrypted_key);
  copy->key_nonce = g_strdup (record->key_nonce);
  copy->file_header = g_strdup (record->file_header);
  copy->object_key = g_strdup (record->object_key);
  copy->part_md5s = g_strdupv (record->part_md5s);
  copy->part_urls = g_strdupv (record->part_urls);
  copy->complete_url = g_strdup (record->complete_url);
  copy->etags = g_strdupv (record->etags);
  copy->thumb_data = record->thumb_data != NULL ? g_bytes_ref (record->thumb_data) : NULL;
  copy->thumb_object_key = g_strdup (record->thumb_object_key);
  copy->thumb_header = g_strdup (record->thumb_header);
  copy->metadata_data = g_strdup (record->metadata_data);
  copy->metadata_header = g_strdup (record->metadata_header);
  copy->pubmm_data = g_strdup (record->pubmm_data);
  copy->pubmm_header = g_strdup (record->pubmm_header);

  return copy;
}

void
eider_collection_record_free (EiderCollectionRecord *record)
{
  if (record == NULL)
    return;

  g_free (record->type);
  g_free (record->name);
  g_free (record->encrypted_key);
  g_free (record->key_nonce);
  g_free (record);
}

void
eider_remote_file_record_free (EiderRemoteFileRecord *record)
{
  if (record == NULL)
    return;

  g_free (record->title);
  g_free (record->hash);
  g_free (record->encrypted_key);
  g_free (record->key_nonce);
  g_free (record->file_header);
  g_free (record->pubmm_json);
  g_free (record);
}

/* GObject */

static void
eider_store_finalize (GObject *object)
{
  EiderStore *self = (EiderStore *) object;

  if (self->tx_depth > 0)
    g_warning ("Store closed inside a transaction: it is rolled back");
  else if (self->group_open)
    {
      g_autoptr(GError) error = NULL;

      if (!eider_store_flush (self, &error))
        g_warning ("%s", error->message);
    }
  if (self->group_source != NULL)
    {
      g_source_destroy (self->group_source);
      g_clear_pointer (&self->group_source, g_source_unref);
    }

  /* One line the benchmarks read (G_MESSAGES_DEBUG=eider-store): keep its form. */
  if (self->db != NULL)
    {
      guint64 transactions = 0, pages = 0;

      eider_store_get_write_counts (self, &transactions, &pages);
      g_debug ("store closed: %" G_GUINT64_FORMAT " transactions, %" G_GUINT64_FORMAT
               " pages written", transactions, pages);
    }

  /* Every other statement is finalised where it was prepared. */
  g_clear_pointer (&self->statements, g_hash_table_unref);
  if (self->db != NULL && sqlite3_close (self->db) != SQLITE_OK)
    {
      g_autofree char *display = g_filename_display_name (self->path);

      g_warning ("Could not close %s: %s", display, sqlite3_errmsg (self->db));
    }
  self->db = NULL;
  g_clear_pointer (&self->path, g_free);

  G_OBJECT_CLASS (eider_store_parent_class)->finalize (object);
}

static void
eider_store_class_init (EiderStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = eider_store_finalize;
}

static void
statement_finalize (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

static void
eider_store_init (EiderStore *self)
{
  self->statements = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, statement_finalize);
}

/* Runs after every transaction that wrote pages to the WAL (explicit or a
 * single statement; not a read, nor a write that changed nothing): it
 * counts them, and checkpoints as SQLite's own wal_autocheckpoint hook
 * would (this hook replaces that one), counting the pages copied. */
static int
store_wal_hook_cb (void       *user_data,
                   sqlite3    *db,
                   const char *name,
                   int         n_frames)
{
  EiderStore *self = user_data;
  int n_log = 0, n_done = 0;

  self->n_commits++;
  if (n_frames >= WAL_CHECKPOINT_PAGES &&
      sqlite3_wal_checkpoint_v2 (db, name, SQLITE_CHECKPOINT_PASSIVE, &n_log, &n_done) == SQLITE_OK)
    self->n_checkpointed += (guint64) MAX (n_done, 0);

  return SQLITE_OK;
}

/**
 * eider_store_get_write_counts:
 * @self: a store
 * @transactions: (out) (optional): write transactions committed since the
 *   store was opened (explicit ones and single statements alike)
 * @pages_written: (out) (optional): database pages this connection wrote
 *   (to the WAL), SQLITE_DBSTATUS_CACHE_WRITE; checkpoints copy them again
 *
 * What the store cost in writes, for benchmarks and tests.
 */
void
eider_store_get_write_counts (EiderStore *self,
                              guint64    *transactions,
                              guint64    *pages_written)
{
  int current = 0, highwater = 0;

  g_return_if_fail (EIDER_IS_STORE (self));

  if (transactions != NULL)
    *transactions = self->n_commits;
  if (pages_written != NULL)
    {
      if (sqlite3_db_status (self->db, SQLITE_DBSTATUS_CACHE_WRITE, &current, &highwater, 0) != SQLITE_OK)
        current = 0;
      *pages_written = (guint64) MAX (current, 0);
    }
}

/* Counts per state. Temporary triggers (this connection's only; nothing
 * is written to the database) call eider_count() for every file inserted,
 * deleted, or whose state or size changed, and it keeps the tally. Any
 * rollback makes the tally be read again from the table, as does a commit
 * by another connection (PRAGMA data_version). */

static void
store_count_add (EiderStore     *self,
                 sqlite3_value  *state,
                 sqlite3_value  *size,
                 gint64          sign)
{
  int s;

  if (sqlite3_value_type (state) == SQLITE_NULL)
    return;
  s = sqlite3_value_int (state);
  if (s < EIDER_FILE_PENDING || s > EIDER_FILE_FAILED)
    return;
  self->n_files[s] += sign;
  self->n_bytes[s] += sign * sqlite3_value_int64 (size);
}

/* eider_count (old_state, old_size, new_state, new_size) */
static void
store_count_func (sqlite3_context  *context,
                  int               argc,
                  sqlite3_value   **argv)
{
  EiderStore *self = sqlite3_user_data (context);

  g_assert (argc == 4);
  if (self->counts_valid)
    {
      store_count_add (self, argv[0], argv[1], -1);
      store_count_add (self, argv[2], argv[3], 1);
    }
  sqlite3_result_null (context);
}

static void
store_rollback_hook_cb (void *user_data)
{
  EiderStore *self = user_data;

  self->counts_valid = FALSE;
}

static gboolean
store_counts_install (EiderStore  *self,
                      GError     **error)
{
  if (sqlite3_create_function_v2 (self->db, "eider_count", 4, SQLITE_UTF8 | SQLITE_DIRECTONLY,
                                  self, store_count_func, NULL, NULL, NULL) != SQLITE_OK)
    return set_sqlite_error (self, error, "setting it up");
  sqlite3_rollback_hook (self->db, store_rollback_hook_cb, self);

  return store_exec (self,
                     "PRAGMA temp_store = MEMORY;"
                     "CREATE TEMP TRIGGER eider_count_insert AFTER INSERT ON main.files "
                     "BEGIN SELECT eider_count (NULL, NULL, new.state, new.size); END;"
                     "CREATE TEMP TRIGGER eider_count_delete AFTER DELETE ON main.files "
                     "BEGIN SELECT eider_count (old.state, old.size, NULL, NULL); END;"
                     "CREATE TEMP TRIGGER eider_count_update AFTER UPDATE OF state, size ON main.files "
                     "BEGIN SELECT eider_count (old.state, old.size, new.state, new.size); END;",
                     "setting it up", error);
}

/* The tally, read again from the table when it may be stale. */
static gboolean
store_counts_refresh (EiderStore  *self,
                      GError     **error)
{
  g_autoptr(StoreStatement) stmt = NULL;
  gint64 version;
  int rc;

  if (!store_pragma_int (self, "PRAGMA data_version", &version, error))
    return FALSE;
  if (self->counts_valid && version == self->counts_version)
    return TRUE;

  memset (self->n_files, 0, sizeof self->n_files);
  memset (self->n_bytes, 0, sizeof self->n_bytes);
  self->counts_valid = FALSE;
  stmt = store_prepare (self, "SELECT state, COUNT(*), TOTAL(size) FROM files GROUP BY state",
                        "Could not count the files", error);
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      int state = sqlite3_column_int (stmt, 0);

      if (state < EIDER_FILE_PENDING || state > EIDER_FILE_FAILED)
        continue;
      self->n_files[state] = sqlite3_column_int64 (stmt, 1);
      self->n_bytes[state] = (gint64) sqlite3_column_double (stmt, 2);
    }
  if (rc != SQLITE_DONE)
    return set_sqlite_error (self, error, "Could not count the files");

  self->counts_valid = TRUE;
  self->counts_version = version;

  return TRUE;
}

/* Opening and migrations */

static gboolean
store_migrate (EiderStore  *self,
               GError     **error)
{
  g_autofree char *display = g_filename_display_name (self->path);
  gint64 version;

  if (!store_pragma_int (self, "PRAGMA user_version", &version, error))
    return FALSE;

  if (version > SCHEMA_VERSION)
    {
      g_set_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_TOO_NEW,
                   "The database %s has schema version %" G_GINT64_FORMAT
                   ", newer than this Eider understands (%d): it was written by a newer "
                   "version of Eider; run that version or move the database aside",
                   display, version, SCHEMA_VERSION);
      return FALSE;
    }

  while (version < SCHEMA_VERSION)
    {
      g_autofree char *bump = NULL;
      g_autofree char *what = NULL;
      gint64 current;

      if (!eider_store_begin (self, error))
        return FALSE;

      /* Another process may have migrated while we waited for the lock. */
      if (!store_pragma_int (self, "PRAGMA user_version", &current, error))
        {
          eider_store_rollback (self);
          return FALSE;
        }

      if (current == version)
        {
          what = g_strdup_printf ("Could not upgrade it to schema version %" G_GINT64_FORMAT,
                                  version + 1);
          bump = g_strdup_printf ("PRAGMA user_version = %" G_GINT64_FORMAT, version + 1);
          if (!store_exec (self, migrations[version], what, error) ||
              !store_exec (self, bump, what, error))
            {
              eider_store_rollback (self);
              return FALSE;
            }
          current = version + 1;
        }

      if (!eider_store_commit (self, error))
        return FALSE;

      if (current > SCHEMA_VERSION)
        {
          g_set_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_TOO_NEW,
                       "The database %s was upgraded to schema version %" G_GINT64_FORMAT
                       " by a newer Eider while opening it (this one understands %d)",
                       display, current, SCHEMA_VERSION);
          return FALSE;
        }

      version = current;
    }

  self->schema_version = (gint) version;

  return TRUE;
}

static gboolean
store_configure (EiderStore  *self,
                 GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 app_id;
  const char *mode;

  sqlite3_extended_result_codes (self->db, 1);
  sqlite3_busy_timeout (self->db, BUSY_TIMEOUT_MS);
  sqlite3_wal_hook (self->db, store_wal_hook_cb, self);

  /* This is the first read: a file that is not a database fails here. */
  if (!store_pragma_int (self, "PRAGMA application_id", &app_id, error))
    return FALSE;
  if (app_id != 0 && app_id != EIDER_STORE_APPLICATION_ID)
    {
      g_set_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_FAILED,
                   "it is an SQLite database of another program (application id %#" G_GINT64_MODIFIER "x)",
                   app_id);
      return FALSE;
    }

  stmt = store_prepare_once (self, "PRAGMA journal_mode = WAL", "switching it to WAL", error);
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return set_sqlite_error (self, error, "switching it to WAL");
  mode = (const char *) sqlite3_column_text (stmt, 0);
  if (g_strcmp0 (mode, "wal") != 0 && g_strcmp0 (mode, "memory") != 0)
    {
      g_set_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_FAILED,
                   "switching it to WAL: the journal mode stayed %s",
                   mode != NULL ? mode : "unknown");
      return FALSE;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  return store_exec (self,
                     "PRAGMA synchronous = NORMAL;"
                     "PRAGMA foreign_keys = ON;"
                     "PRAGMA journal_size_limit = " G_STRINGIFY (WAL_SIZE_LIMIT) ";",
                     "configuring it", error);
}

/**
 * eider_store_open:
 * @path: the database file, in the file system's encoding (its folder is
 *   created, private, when missing); ":memory:" for a private in-memory one
 * @error: return location for an error
 *
 * Opens (creating or upgrading it as needed) Eider's state database.
 *
 * Returns: (transfer full) (nullable): the store, or %NULL with @error set
 *   (%EIDER_STORE_ERROR_TOO_NEW for a database of a newer Eider)
 */
EiderStore *
eider_store_open (const char  *path,
                  GError     **error)
{
  g_autoptr(EiderStore) self = NULL;
  int rc;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (EIDER_TYPE_STORE, NULL);
  self->path = g_strdup (path);

  if (g_strcmp0 (path, ":memory:") != 0)
    {
      g_autofree char *dir = g_path_get_dirname (path);

      if (g_mkdir_with_parents (dir, 0700) != 0)
        {
          int saved_errno = errno;
          g_autofree char *display = display_name (dir);

          g_set_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_FAILED,
                       "Could not create the folder %s for the database: %s",
                       display, g_strerror (saved_errno));
          return NULL;
        }
    }

  rc = sqlite3_open_v2 (path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL);
  if (rc != SQLITE_OK)
    {
      g_autofree char *display = display_name (path);

      g_set_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_FAILED,
                   "Could not open the database %s: %s", display,
                   self->db != NULL ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
      return NULL;
    }

  if (!store_configure (self, error) || !store_migrate (self, error) ||
      !store_counts_install (self, error))
    {
      if (error != NULL && *error != NULL && (*error)->code == EIDER_STORE_ERROR_FAILED)
        {
          g_autofree char *display = display_name (path);

          g_prefix_error (error, "Could not open the database %s: ", display);
        }
      return NULL;
    }

  return g_steal_pointer (&self);
}

const char *
eider_store_get_path (EiderStore *self)
{
  g_return_val_if_fail (EIDER_IS_STORE (self), NULL);

  return self->path;
}

gint
eider_store_get_schema_version (EiderStore *self)
{
  g_return_val_if_fail (EIDER_IS_STORE (self), 0);

  return self->schema_version;
}

/* Transactions */

/* Grouped commits. A write outside a transaction opens the group (BEGIN
 * IMMEDIATE) when there is none; an explicit transaction inside it is a
 * SAVEPOINT, so that its rollback undoes only its own writes. The group
 * is committed commit_delay_ms after it opened, when a write must be
 * durable (eider_store_flush(): an upload's record before its bytes go),
 * and when the store is closed. A crash loses at most the group's
 * writes, which are those resumption does not depend on. */

static gboolean
group_timeout_cb (gpointer user_data)
{
  EiderStore *self = user_data;
  g_autoptr(GError) error = NULL;

  g_clear_pointer (&self->group_source, g_source_unref);
  if (self->tx_depth > 0)
    self->group_durable = TRUE;   /* when the transaction inside it ends */
  else if (!eider_store_flush (self, &error))
    g_warning ("%s", error->message);

  return G_SOURCE_REMOVE;
}

static void
store_group_join (EiderStore *self)
{
  g_autoptr(GError) error = NULL;

  if (self->commit_delay_ms == 0 || self->tx_depth > 0)
    return;

  /* SQLite may have rolled the group back on its own (a full disk, an
   * I/O error): its writes are lost, as after a crash. */
  if (self->group_open && sqlite3_get_autocommit (self->db))
    {
      g_warning ("The store's last writes were rolled back: %s", sqlite3_errmsg (self->db));
      self->group_open = FALSE;
    }
  if (self->group_open)
    return;

  /* When it cannot open (another writer past the busy timeout), each
   * write commits on its own. */
  if (!store_exec (self, "BEGIN IMMEDIATE", "Could not start a transaction", &error))
    {
      g_debug ("%s", error->message);
      return;
    }
  self->group_open = TRUE;
  self->group_durable = FALSE;
  if (self->group_source == NULL)
    {
      self->group_source = g_timeout_source_new (self->commit_delay_ms);
      g_source_set_callback (self->group_source, group_timeout_cb, self, NULL);
      g_source_attach (self->group_source, g_main_context_get_thread_default ());
    }
}

/**
 * eider_store_set_commit_delay:
 * @self: a store
 * @delay_ms: how long a write outside a transaction may wait for its
 *   commit; 0 commits each at once (the default)
 *
 * Groups the writes made outside a transaction into one transaction,
 * committed at most @delay_ms later (from a timer on the thread-default
 * main context), when eider_store_flush() is called (the store does so
 * itself for the record of an upload in flight with its URLs, and for
 * each acknowledged part: those are durable before any byte is sent, as
 * without grouping; and for settings and watched folders, the user's
 * word), and when the store is closed. Transactions begun
 * meanwhile are part of the group. Other connections see the writes once
 * they are committed.
 *
 * A crash loses at most the writes of the last @delay_ms that no durable
 * write followed; with synchronous=NORMAL a power cut could always lose
 * the last commits, and every step of a file's life is redone from its
 * last durable state.
 */
void
eider_store_set_commit_delay (EiderStore *self,
                              guint       delay_ms)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (EIDER_IS_STORE (self));

  if (delay_ms == 0 && self->group_open && self->tx_depth == 0 && !eider_store_flush (self, &error))
    g_warning ("%s", error->message);
  self->commit_delay_ms = delay_ms;
}

/**
 * eider_store_flush:
 * @self: a store
 * @error: return location for an error
 *
 * Commits the grouped writes now (see eider_store_set_commit_delay());
 * inside a transaction, as soon as the outermost one ends.
 *
 * Returns: %TRUE on success (also when there was nothing to commit)
 */
gboolean
eider_store_flush (EiderStore  *self,
                   GError     **error)
{
  g_return_val_if_fail (EIDER_IS_STORE (self), FALSE);

  if (!self->group_open)
    return TRUE;
  if (self->tx_depth > 0)
    {
      self->group_durable = TRUE;
      return TRUE;
    }

  self->group_open = FALSE;
  self->group_durable = FALSE;
  if (self->group_source != NULL)
    {
      g_source_destroy (self->group_source);
      g_clear_pointer (&self->group_source, g_source_unref);
    }

  if (sqlite3_get_autocommit (self->db))
    {
      g_set_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_FAILED,
                   "Could not commit: the last writes were rolled back (%s)",
                   sqlite3_errmsg (self->db));
      return FALSE;
    }
  if (!store_exec (self, "COMMIT", "Could not commit", error))
    {
      if (!sqlite3_get_autocommit (self->db))
        store_exec (self, "ROLLBACK", "Could not roll back", NULL);
      return FALSE;
    }

  return TRUE;
}

/**
 * eider_store_begin:
 * @self: a store
 * @error: return location for an error
 *
 * Starts a write transaction (BEGIN IMMEDIATE, so that a concurrent writer
 * waits for the busy timeout here rather than failing later). Transactions
 * nest: only the outermost begin/commit reach SQLite. A rollback inside a
 * nested transaction makes the outermost commit roll back and fail.
 *
 * Returns: %TRUE on success
 */
gboolean
eider_store_begin (EiderStore  *self,
                   GError     **error)
{
  g_return_val_if_fail (EIDER_IS_STORE (self), FALSE);

  if (self->tx_depth == 0)
    {
      store_group_join (self);
      if (!store_exec (self, self->group_open ? "SAVEPOINT eider_tx" : "BEGIN IMMEDIATE",
                       "Could not start a transaction", error))
        return FALSE;
      self->tx_failed = FALSE;
    }

  self->tx_depth++;

  return TRUE;
}

/* Undoes the outermost transaction: its savepoint inside the group, or
 * the whole transaction. */
static gboolean
store_undo (EiderStore  *self,
            GError     **error)
{
  /* SQLite may already have rolled back on its own (e.g. SQLITE_FULL). */
  if (sqlite3_get_autocommit (self->db))
    return TRUE;

  self->counts_valid = FALSE;
  if (self->group_open)
    return store_exec (self, "ROLLBACK TO eider_tx; RELEASE eider_tx", "Could not roll back", error);

  return store_exec (self, "ROLLBACK", "Could not roll back", error);
}

gboolean
eider_store_commit (EiderStore  *self,
                    GError     **error)
{
  g_return_val_if_fail (EIDER_IS_STORE (self), FALSE);
  g_return_val_if_fail (self->tx_depth > 0, FALSE);

  self->tx_depth--;
  if (self->tx_depth > 0)
    return TRUE;

  if (self->tx_failed)
    {
      store_undo (self, NULL);
      self->tx_failed = FALSE;
      g_set_error_literal (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_FAILED,
                           "Could not commit: a nested transaction was rolled back");
      return FALSE;
    }

  if (self->group_open)
    {
      if (!store_exec (self, "RELEASE eider_tx", "Could not commit", error))
        {
          store_undo (self, NULL);
          return FALSE;
        }
      return !self->group_durable || eider_store_flush (self, error);
    }

  if (!store_exec (self, "COMMIT", "Could not commit", error))
    {
      /* Leave no transaction behind whatever COMMIT did. */
      if (!sqlite3_get_autocommit (self->db))
        store_exec (self, "ROLLBACK", "Could not roll back", NULL);
      return FALSE;
    }

  return TRUE;
}

void
eider_store_rollback (EiderStore *self)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (EIDER_IS_STORE (self));

  /* After a failed eider_store_commit(): that already ended it. */
  if (self->tx_depth == 0)
    return;

  self->tx_depth--;
  if (self->tx_depth > 0)
    {
      self->tx_failed = TRUE;
      return;
    }

  self->tx_failed = FALSE;
  if (!store_undo (self, &error))
    g_warning ("%s", error->message);
}

/* Meta */

/**
 * eider_store_get_meta:
 * @self: a store
 * @key: the setting
 *
 * Returns: (transfer full) (nullable): the value, or %NULL when unset
 */
char *
eider_store_get_meta (EiderStore *self,
                      const char *key)
{
  g_autoptr(StoreStatement) stmt = NULL;
  g_autoptr(GError) error = NULL;
  int rc;

  g_return_val_if_fail (EIDER_IS_STORE (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  stmt = store_prepare (self, "SELECT value FROM meta WHERE key = ?", "Could not read a setting", &error);
  if (stmt == NULL)
    {
      g_warning ("%s", error->message);
      return NULL;
    }
  bind_text (stmt, 1, key);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return column_dup (stmt, 0);
  if (rc != SQLITE_DONE)
    g_warning ("Could not read the setting %s: %s", key, sqlite3_errmsg (self->db));

  return NULL;
}

/**
 * eider_store_set_meta:
 * @self: a store
 * @key: the setting
 * @value: (nullable): its value; %NULL removes it
 * @error: return location for an error
 *
 * Returns: %TRUE on success
 */
gboolean
eider_store_set_meta (EiderStore  *self,
                      const char  *key,
                      const char  *value,
                      GError     **error)
{
  g_autoptr(StoreStatement) stmt = NULL;
  g_autofree char *what = NULL;

  g_return_val_if_fail (EIDER_IS_STORE (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  what = g_strdup_printf ("Could not save the setting %s", key);
  if (value != NULL)
    stmt = store_prepare (self,
                          "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                          "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                          what, error);
  else
    stmt = store_prepare (self, "DELETE FROM meta WHERE key = ?1", what, error);
  if (stmt == NULL)
    return FALSE;

  bind_text (stmt, 1, key);
  if (value != NULL)
    bind_text (stmt, 2, value);

  /* Settings are the user's word: committed at once, not grouped. */
  return store_step_done (self, stmt, what, error) && eider_store_flush (self, error);
}

/* Watches */

#define WATCH_COLUMNS "id, path, mapping, album_name, paused, keep_edits, keep_deleted"

static EiderWatch *
watch_from_row (sqlite3_stmt *stmt)
{
  EiderWatch *watch = g_new0 (EiderWatch, 1);

  watch->id = sqlite3_column_int64 (stmt, 0);
  watch->path = column_dup (stmt, 1);
  watch->mapping = sqlite3_column_int (stmt, 2);
  watch->album_name = column_dup (stmt, 3);
  watch->paused = sqlite3_column_int (stmt, 4) != 0;
  watch->keep_edits = sqlite3_column_int (stmt, 5) != 0;
  watch->keep_deleted = sqlite3_column_int (stmt, 6) != 0;

  return watch;
}

/* Absolute, without "." / ".." / duplicate or trailing separators. Symbolic
 * links are not resolved: the watch is the path the user chose. */
static char *
normalize_watch_path (const char *path)
{
  return g_canonicalize_filename (path, "/");
}

/* Is @path @parent or inside it? */
static gboolean
path_is_within (const char *path,
                const char *parent)
{
  gsize len = strlen (parent);

  if (strcmp (parent, "/") == 0)
    return TRUE;

  return strncmp (path, parent, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

/**
 * eider_store_list_watches:
 * @self: a store
 * @error: return location for an error
 *
 * Returns: (transfer container) (element-type EiderWatch): every watch, by id
 */
GPtrArray *
eider_store_list_watches (EiderStore  *self,
                          GError     **error)
{
  g_autoptr(StoreStatement) stmt = NULL;
  g_autoptr(GPtrArray) watches = NULL;
  int rc;

  g_return_val_if_fail (EIDER_IS_STORE (self), NULL);

  stmt = store_prepare (self, "SELECT " WATCH_COLUMNS " FROM watches ORDER BY id",
                        "Could not list the watched folders", error);
  if (stmt == NULL)
    return NULL;

  watches = g_ptr_array_new_with_free_func ((GDestroyNotify) eider_watch_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (watches, watch_from_row (stmt));
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (self, error, "Could not list the watched folders");
      return NULL;
    }

  return g_steal_pointer (&watches);
}

/**
 * eider_store_add_watch:
 * @self: a store
 * @path: an absolute folder path, in the file system's encoding
 * @mapping: how its files map to albums
 * @album_name: (nullable): for %EIDER_MAPPING_ONE_ALBUM, the album; %NULL
 *   means the folder's name
 * @error: return location for an error
 *
 * Adds a watched folder. A folder that is already watched, inside a watched
 * folder, or that contains one is refused with %EIDER_STORE_ERROR_EXISTS:
 * no file is ever watched twice.
 *
 * Returns: (transfer full) (nullable): the new watch
 */
EiderWatch *
eider_store_add_watch (EiderStore    *self,
                       const char    *path,
                       EiderMapping   mapping,
                       const char    *album_name,
                       GError       **error)
{
  g_autoptr(StoreStatement) stmt = NULL;
  g_autoptr(GPtrArray) watches = NULL;
  g_autofree char *normal = NULL;
  g_autofree char *display = NULL;
  g_autofree char *default_album = NULL;
  EiderWatch *watch;

  g_return_val_if_fail (EIDER_IS_STORE (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (mapping == EIDER_MAPPING_ONE_ALBUM ||
                        mapping == EIDER_MAPPING_ALBUM_PER_FOLDER, NULL);

  display = display_name (path);
  if (!g_path_is_absolute (path))
    {
      g_set_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_FAILED,
                   "Cannot watch %s: the path is not absolute", display);
      return NULL;
    }

  normal = normalize_watch_path (path);
  if (mapping == EIDER_MAPPING_ONE_ALBUM && (album_name == NULL || *album_name == '\0'))
    {
      if (strcmp (normal, "/") == 0)
        {
          g_set_error_literal (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_FAILED,
                               "Cannot watch / as one album without an album name");
          return NULL;
        }
      default_album = g_filename_display_basename (normal);
      album_name = default_album;
    }

  if (!eider_store_begin (self, error))
    return NULL;

  watches = eider_store_list_watches (self, error);
  if (watches == NULL)
    goto fail;

  for (guint i = 0; i < watches->len; i++)
    {
      EiderWatch *other = g_ptr_array_index (watches, i);
      g_autofree char *other_display = display_name (other->path);

      if (strcmp (other->path, normal) == 0)
        {
          g_set_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_EXISTS,
                       "%s is already watched", other_display);
          goto fail;
        }
      if (path_is_within (normal, other->path))
        {
          g_set_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_EXISTS,
                       "Cannot watch %s: it is inside the watched folder %s",
                       display, other_display);
          goto fail;
        }
      if (path_is_within (other->path, normal))
        {
          g_set_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_EXISTS,
                       "Cannot watch %s: it contains the watched folder %s "
                       "(remove that watch first)", display, other_display);
          goto fail;
        }
    }

  stmt = store_prepare (self,
                        "INSERT INTO watches (path, mapping, album_name, paused, created_at) "
                        "VALUES (?1, ?2, ?3, 0, ?4)",
                        "Could not add the watched folder", error);
  if (stmt == NULL)
    goto fail;
  bind_bytes (stmt, 1, normal);
  sqlite3_bind_int (stmt, 2, mapping);
  bind_bytes (stmt, 3, album_name);
  sqlite3_bind_int64 (stmt, 4, g_get_real_time ());
  if (!store_step_done (self, stmt, "Could not add the watched folder", error))
    goto fail;

  watch = g_new0 (EiderWatch, 1);
  watch->id = sqlite3_last_insert_rowid (self->db);
  watch->path = g_steal_pointer (&normal);
  watch->mapping = mapping;
  watch->album_name = g_strdup (album_name);
  watch->paused = FALSE;

  if (!eider_store_commit (self, error) || !eider_store_flush (self, error))
    {
      eider_watch_free (watch);
      return NULL;
    }

  return watch;

fail:
  eider_store_rollback (self);
  return NULL;
}

/**
 * eider_store_find_watch:
 * @self: a store
 * @path: a folder path
 *
 * Returns: (transfer full) (nullable): the watch of exactly that folder
 */
EiderWatch *
eider_store_find_watch (EiderStore *self,
                        const char *path)
{
  g_autoptr(StoreStatement) stmt = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *normal = NULL;
  int rc;

  g_return_val_if_fail (EIDER_IS_STORE (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);

  if (!g_path_is_absolute (path))
    return NULL;
  normal = normalize_watch_path (path);

  stmt = store_prepare (self, "SELECT " WATCH_COLUMNS " FROM watches WHERE path = ?1",
                        "Could not look up a watched folder", &error);
  if (stmt == NULL)
    {
      g_warning ("%s", error->message);
      return NULL;
    }
  bind_bytes (stmt, 1, normal);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return watch_from_row (stmt);
  if (rc != SQLITE_DONE)
    g_warning ("Could not look up a watched folder: %s", sqlite3_errmsg (self->db));

  return NULL;
}

/* Runs an UPDATE/DELETE on one row by id; NOT_FOUND when no row matched. */
static gboolean
store_change_one (EiderStore    *self,
                  sqlite3_stmt  *stmt,
                  const char    *what,
                  const char    *missing,
                  gint64         id,
                  GError       **error)
{
  if (!store_step_done (self, stmt, what, error))
    return FALSE;

  if (sqlite3_changes (self->db) == 0)
    {
      g_set_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_NOT_FOUND,
                   "%s: there is no %s %" G_GINT64_FORMAT, what, missing, id);
      return FALSE;
    }

  return TRUE;
}

/**
 * eider_store_remove_watch:
 * @self: a store
 * @watch_id: the watch
 * @error: return location for an error
 *
 * Forgets a watch, its files' records and their uploads in flight. The
 * remote index (and anything on the server) is left alone.
 *
 * Returns: %TRUE on success
 */
gboolean
eider_store_remove_watch (EiderStore  *self,
                          gint64       watch_id,
                          GError     **error)
{
  g_autoptr(StoreStatement) stmt = NULL;

  g_return_val_if_fail (EIDER_IS_STORE (self), FALSE);

  /* files and uploads go by ON DELETE CASCADE. */
  stmt = store_prepare (self, "DELETE FROM watches WHERE id = ?1",
                        "Could not remove the watched folder", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, watch_id);

  return store_change_one (self, stmt, "Could not remove the watched folder", "watch", watch_id, error) &&
         eider_store_flush (self, error);
}

gboolean
eider_store_set_watch_paused (EiderStore  *self,
                              gint64       watch_id,
                              gboolean     paused,
                              GError     **error)
{
  g_autoptr(StoreStatement) stmt = NULL;
  const char *what = paused ? "Could not pause the watched folder" : "Could not resume the watched folder";

  g_return_val_if_fail (EIDER_IS_STORE (self), FALSE);

  stmt = store_prepare (self, "UPDATE watches SET paused = ?2 WHERE id = ?1", what, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, watch_id);
  sqlite3_bind_int (stmt, 2, paused ? 1 : 0);

  return store_change_one (self, stmt, what, "watch", watch_id, error) && eider_store_flush (self, error);
}

gboolean
eider_store_set_watch_options (EiderStore  *self,
                               gint64       watch_id,
                               gboolean     keep_edits,
                               gboolean     keep_deleted,
                               GError     **error)
{
  g_autoptr(StoreStatement) stmt = NULL;
  const char *what = "Could not change the watched folder's options";

  g_return_val_if_fail (EIDER_IS_STORE (self), FALSE);

  stmt = store_prepare (self, "UPDATE watches SET keep_edits = ?2, keep_deleted = ?3 WHERE id = ?1",
                        what, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, watch_id);
  sqlite3_bind_int (stmt, 2, keep_edits ? 1 : 0);
  sqlite3_bind_int (stmt, 3, keep_deleted ? 1 : 0);

  return store_change_one (self, stmt, what, "watch", watch_id, error) && eider_store_flush (self, error);
}

/* Local files */

/* The one table of the file-state changes the store allows:
 * file_transitions[from][to]. Every function that changes a file's state
 * checks it inside its UPDATE (so that the check and the write are one
 * step) and refuses the rest with EIDER_STORE_ERROR_INVALID_TRANSITION,
 * changing nothing. Each allowed change is there for a caller:
 *
 *  - to pending: new content noted (eider_store_note_file(), from any
 *    state); a job stopped or paused under it (working); eiderctl retry
 *    (failed).
 *  - to working: a job starts on a due file (pending, failed, or working
 *    when interrupted); the unchanged half of an edited live photo joins
 *    its pair (uploaded).
 *  - to uploaded: only from working (a job's end). A file reset to pending
 *    by new content while its upload ran is refused: the new content still
 *    has to go.
 *  - to skipped: a job's end (working); the scan or the start of a job
 *    finds it cannot be uploaded (pending, failed).
 *  - to failed: only from working (a job's end).
 *
 * Skipped files change only with new content. */
static const gboolean file_transitions[EIDER_FILE_FAILED + 1][EIDER_FILE_FAILED + 1] = {
  /*                       pending working uploaded skipped failed */
  [EIDER_FILE_PENDING]  = { TRUE,   TRUE,   FALSE,   TRUE,   FALSE },
  [EIDER_FILE_WORKING]  = { TRUE,   TRUE,   TRUE,    TRUE,   TRUE  },
  [EIDER_FILE_UPLOADED] = { TRUE,   TRUE,   FALSE,   FALSE,  FALSE },
  [EIDER_FILE_SKIPPED]  = { TRUE,   FALSE,  FALSE,   FALSE,  FALSE },
  [EIDER_FILE_FAILED]   = { TRUE,   TRUE,   FALSE,   TRUE,   FALSE },
};

static gboolean
file_transition_allowed (EiderFileState from,
                         EiderFileState to)
{
  return from >= EIDER_FILE_PENDING && from <= EIDER_FILE_FAILED &&
         to >= EIDER_FILE_PENDING && to <= EIDER_FILE_FAILED &&
         file_transitions[from][to];
}

/* The states from which a file may become @to, as a bit mask for the
 * UPDATEs' "(mask >> state) & 1". */
static gint64
file_transition_mask (EiderFileState to)
{
  gint64 mask = 0;

  for (EiderFileState from = EIDER_FILE_PENDING; from <= EIDER_FILE_FAILED; from++)
    if (file_transition_allowed (from, to))
      mask |= (gint64) 1 << from;

  return mask;
}

static void
set_transition_error (GError         **error,
                      const char      *what,
                      EiderFileState   from,
                      EiderFileState   to)
{
  g_set_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_INVALID_TRANSITION,
               "%s: a file that is %s cannot become %s", what,
               eider_file_state_to_string (from), eider_file_state_to_string (to));
}

/* Runs an UPDATE of one file guarded by file_transition_mask (@to). When
 * it changed nothing, says why: no such file, or a refused change. */
static gboolean
store_change_file_state (EiderStore      *self,
                         sqlite3_stmt    *stmt,
                         const char      *what,
                         gint64           file_id,
                         EiderFileState   to,
                         GError         **error)
{
  g_autoptr(StoreStatement) lookup = NULL;

  if (!store_step_done (self, stmt, what, error))
    return FALSE;
  if (sqlite3_changes (self->db) > 0)
    return TRUE;

  lookup = store_prepare (self, "SELECT state FROM files WHERE id = ?1", what, error);
  if (lookup == NULL)
    return FALSE;
  sqlite3_bind_int64 (lookup, 1, file_id);
  switch (sqlite3_step (lookup))
    {
    case SQLITE_ROW:
      set_transition_error (error, what, sqlite3_column_int (lookup, 0), to);
      return FALSE;

    case SQLITE_DONE:
      g_set_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_NOT_FOUND,
                   "%s: there is no file %" G_GINT64_FORMAT, what, file_id);
      return FALSE;

    default:
      return set_sqlite_error (self, error, what);
    }
}

#define FILE_COLUMNS \
  "f.id, f.watch_id, f.path, f.album_name, f.dev, f.inode, f.size, f.mtime_ns, f.ctime_ns, " \
  "f.state, f.reason_code, f.reason_details, f.attempts, f.next_retry, f.hash, f.file_type, " \
  "f.remote_file_id, f.collection_id"

static EiderFileRecord *
file_from_row (sqlite3_stmt *stmt)
{
  EiderFileRecord *record = g_new0 (EiderFileRecord, 1);

  record->id = sqlite3_column_int64 (stmt, 0);
  record->watch_id = sqlite3_column_int64 (stmt, 1);
  record->path = column_dup (stmt, 2);
  record->album_name = column_dup (stmt, 3);
  record->stat.dev = (guint64) sqlite3_column_int64 (stmt, 4);
  record->stat.inode = (guint64) sqlite3_column_int64 (stmt, 5);
  record->stat.size = sqlite3_column_int64 (stmt, 6);
  record->stat.mtime_ns = sqlite3_column_int64 (stmt, 7);
  record->stat.ctime_ns = sqlite3_column_int64 (stmt, 8);
  record->state = sqlite3_column_int (stmt, 9);
  record->reason_code = sqlite3_column_int (stmt, 10);
  record->reason_details = column_dup (stmt, 11);
  record->attempts = sqlite3_column_int (stmt, 12);
  record->next_retry_us = sqlite3_column_int64 (stmt, 13);
  record->hash = column_dup (stmt, 14);
  record->file_type = sqlite3_column_int (stmt, 15);
  record->remote_file_id = sqlite3_column_int64 (stmt, 16);
  record->collection_id = sqlite3_column_int64 (stmt, 17);

  return record;
}

/* Runs a SELECT of FILE_COLUMNS and collects the rows. */
static GPtrArray *
collect_files (EiderStore    *self,
               sqlite3_stmt  *stmt,
               const char    *what,
               GError       **error)
{
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func ((GDestroyNotify) eider_file_record_free);
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (files, file_from_row (stmt));
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (self, error, what);
      return NULL;
    }

  return g_steal_pointer (&files);
}

static EiderFileRecord *
file_lookup (EiderStore *self,
             const char *sql,
             gint64      id,
             const char *path)
{
  g_autoptr(StoreStatement) stmt = NULL;
  g_autoptr(GError) error = NULL;
  int rc;

  stmt = store_prepare (self, sql, "Could not look up a file", &error);
  if (stmt == NULL)
    {
      g_warning ("%s", error->message);
      return NULL;
    }
  if (path != NULL)
    bind_bytes (stmt, 1, path);
  else
    sqlite3_bind_int64 (stmt, 1, id);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return file_from_row (stmt);
  if (rc != SQLITE_DONE)
    g_warning ("Could not look up a file: %s", sqlite3_errmsg (self->db));

  return NULL;
}

/**
 * eider_store_get_file:
 * @self: a store
 * @file_id: a file record id
 *
 * Returns: (transfer full) (nullable): the record, or %NULL
 */
EiderFileRecord *
eider_store_get_file (EiderStore *self,
                      gint64      file_id)
{
  g_return_val_if_fail (EIDER_IS_STORE (self), NULL);

  return file_lookup (self, "SELECT " FILE_COLUMNS " FROM files f WHERE f.id = ?1", file_id, NULL);
}

/**
 * eider_store_find_file:
 * @self: a store
 * @path: the file's path, in the file system's encoding
 *
 * Returns: (transfer full) (nullable): the record, or %NULL
 */
EiderFileRecord *
eider_store_find_file (EiderStore *self,
                       const char *path)
{
  g_return_val_if_fail (EIDER_IS_STORE (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);

  return file_lookup (self, "SELECT " FILE_COLUMNS " FROM files f WHERE f.path = ?1", 0, path);
}

static gboolean
stat_equal (const EiderStat *a,
            const EiderStat *b)
{
  return a->dev == b->dev &&
         a->inode == b->inode &&
         a->size == b->size &&
         a->mtime_ns == b->mtime_ns &&
         a->ctime_ns == b->ctime_ns;
}

/**
 * eider_store_note_file:
 * @self: a store
 * @watch_id: the watch the file belongs to
 * @path: the file's path, in the file system's encoding
 * @album_name: (nullable): the album it goes to
 * @stat: what stat() says now
 * @changed: (out) (optional): whether anything was written
 * @error: return location for an error
 *
 * Inserts a new pending file. For a known file whose stat differs from the
 * stored one, resets it to pending (attempts, reason, retry time and hash
 * cleared; the remote file and collection ids are kept so that the engine
 * can tell an edited file from a new one). A known file with the same stat
 * is not written at all.
 *
 * Returns: the record's id, or 0 with @error set
 */
gint64
eider_store_note_file (EiderStore       *self,
                       gint64            watch_id,
                       const char       *path,
                       const char       *album_name,
                       const EiderStat  *stat,
                       gboolean         *changed,
                       GError          **error)
{
  g_autoptr(EiderFileRecord) existing = NULL;
  g_autoptr(StoreStatement) stmt = NULL;
  g_autofree char *display = NULL;
  g_autofree char *what = NULL;
  gint64 id;

  g_return_val_if_fail (EIDER_IS_STORE (self), 0);
  g_return_val_if_fail (path != NULL, 0);
  g_return_val_if_fail (stat != NULL, 0);

  if (changed != NULL)
    *changed = FALSE;

  existing = eider_store_find_file (self, path);
  if (existing != NULL && stat_equal (&existing->stat, stat))
    return existing->id;

  display = display_name (path);
  what = g_strdup_printf ("Could not record the file %s", display);

  if (existing != NULL)
    stmt = store_prepare (self,
                          "UPDATE files SET watch_id = ?2, album_name = ?3, dev = ?4, inode = ?5, "
                          "size = ?6, mtime_ns = ?7, ctime_ns = ?8, state = ?9, reason_code = 0, "
                          "reason_details = NULL, attempts = 0, next_retry = 0, hash = NULL, "
                          "file_type = -1, updated_at = ?10 WHERE id = ?1 AND (?11 >> state) & 1",
                          what, error);
  else
    stmt = store_prepare (self,
                          "INSERT INTO files (watch_id, album_name, dev, inode, size, mtime_ns, "
                          "ctime_ns, state, updated_at, path) "
                          "VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?1)",
                          what, error);
  if (stmt == NULL)
    return 0;

  if (existing != NULL)
    sqlite3_bind_int64 (stmt, 1, existing->id);
  else
    bind_bytes (stmt, 1, path);
  sqlite3_bind_int64 (stmt, 2, watch_id);
  bind_bytes (stmt, 3, album_name);
  sqlite3_bind_int64 (stmt, 4, (gint64) stat->dev);
  sqlite3_bind_int64 (stmt, 5, (gint64) stat->inode);
  sqlite3_bind_int64 (stmt, 6, stat->size);
  sqlite3_bind_int64 (stmt, 7, stat->mtime_ns);
  sqlite3_bind_int64 (stmt, 8, stat->ctime_ns);
  sqlite3_bind_int (stmt, 9, EIDER_FILE_PENDING);
  sqlite3_bind_int64 (stmt, 10, g_get_real_time ());

  if (existing != NULL)
    {
      sqlite3_bind_int64 (stmt, 11, file_transition_mask (EIDER_FILE_PENDING));
      if (!store_change_file_state (self, stmt, what, existing->id, EIDER_FILE_PENDING, error))
        return 0;
    }
  else if (!store_step_done (self, stmt, what, error))
    return 0;

  id = existing != NULL ? existing->id : sqlite3_last_insert_rowid (self->db);
  if (changed != NULL)
    *changed = TRUE;

  return id;
}

/**
 * eider_store_set_file_state:
 * @self: a store
 * @file_id: a file record id
 * @state: the new state
 * @reason: why (skipped and failed files), or %EIDER_REASON_NONE
 * @details: (nullable): what goes with @reason (see eider_reason_describe())
 * @error: return location for an error
 *
 * Changes a file's state as the transition table allows; any other change
 * is refused with %EIDER_STORE_ERROR_INVALID_TRANSITION, writing nothing.
 *
 * Returns: %TRUE on success
 */
gboolean
eider_store_set_file_state (EiderStore      *self,
                            gint64           file_id,
                            EiderFileState   state,
                            EiderReason      reason,
                            const char      *details,
                            GError         **error)
{
  g_autoptr(StoreStatement) stmt = NULL;
  g_autofree char *what = NULL;

  g_return_val_if_fail (EIDER_IS_STORE (self), FALSE);
  g_return_val_if_fail (state <= EIDER_FILE_FAILED, FALSE);

  what = g_strdup_printf ("Could not mark file %" G_GINT64_FORMAT " as %s",
                          file_id, eider_file_state_to_string (state));
  stmt = store_prepare (self,
                        "UPDATE files SET state = ?2, reason_code = ?3, reason_details = ?6, "
                        "updated_at = ?4 WHERE id = ?1 AND (?5 >> state) & 1",
                        what, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, file_id);
  sqlite3_bind_int (stmt, 2, state);
  sqlite3_bind_int (stmt, 3, reason);
  sqlite3_bind_int64 (stmt, 4, g_get_real_time ());
  sqlite3_bind_int64 (stmt, 5, file_transition_mask (state));
  bind_text (stmt, 6, details);

  return store_change_file_state (self, stmt, what, file_id, state, error);
}

/**
 * eider_store_set_file_failed:
 * @self: a store
 * @file_id: a file record id
 * @reason: why
 * @details: (nullable): what goes with @reason (an error's message)
 * @next_retry_us: not before this real time (µs)
 * @error: return location for an error
 *
 * Marks a file failed and counts the attempt (only a file being worked
 * on can fail; see eider_store_set_file_state()).
 *
 * Returns: %TRUE on success
 */
gboolean
eider_store_set_file_failed (EiderStore  *self,
                             gint64       file_id,
                             EiderReason  reason,
                             const char  *details,
                             gint64       next_retry_us,
                             GError     **error)
{
  g_autoptr(StoreStatement) stmt = NULL;
  g_autofree char *what = NULL;

  g_return_val_if_fail (EIDER_IS_STORE (self), FALSE);

  what = g_strdup_printf ("Could not mark file %" G_GINT64_FORMAT " as failed", file_id);
  stmt = store_prepare (self,
                        "UPDATE files SET state = ?2, reason_code = ?3, reason_details = ?7, "
                        "attempts = attempts + 1, next_retry = ?4, updated_at = ?5 "
                        "WHERE id = ?1 AND (?6 >> state) & 1",
                        what, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, file_id);
  sqlite3_bind_int (stmt, 2, EIDER_FILE_FAILED);
  sqlite3_bind_int (stmt, 3, reason);
  bind_text (stmt, 7, details);
  sqlite3_bind_int64 (stmt, 4, next_retry_us);
  sqlite3_bind_int64 (stmt, 5, g_get_real_time ());
  sqlite3_bind_int64 (stmt, 6, file_transition_mask (EIDER_FILE_FAILED));

  return store_change_file_state (self, stmt, what, file_id, EIDER_FILE_FAILED, error);
}

gboolean
eider_store_set_file_hash (EiderStore  *self,
                           gint64       file_id,
                           const char  *hash,
                           gint         file_type,
                           GError     **error)
{
  g_autoptr(StoreStatement) stmt = NULL;
  g_autofree char *what = NULL;

  g_return_val_if_fail (EIDER_IS_STORE (self), FALSE);

  what = g_strdup_printf ("Could not save the hash of file %" G_GINT64_FORMAT, file_id);
  stmt = store_prepare (self,
                        "UPDATE files SET hash = ?2, file_type = ?3, updated_at = ?4 WHERE id = ?1",
                        what, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, file_id);
  bind_text (stmt, 2, hash);
  sqlite3_bind_int (stmt, 3, file_type);
  sqlite3_bind_int64 (stmt, 4, g_get_real_time ());

  return store_change_one (self, stmt, what, "file", file_id, error);
}

/**
 * eider_store_set_file_uploaded:
 * @self: a store
 * @file_id: a file record id
 * @remote_file_id: Ente's id of the file
 * @collection_id: the album it is in
 * @how: how it got there (%EIDER_REASON_NONE: uploaded as it is)
 * @details: (nullable): what goes with @how
 * @error: return location for an error
 *
 * Marks a file being worked on uploaded (see eider_store_set_file_state()
 * for the changes allowed).
 *
 * Returns: %TRUE on success
 */
gboolean
eider_store_set_file_uploaded (EiderStore  *self,
                               gint64       file_id,
                               gint64       remote_file_id,
                               gint64       collection_id,
                               EiderReason  how,
                               const char  *details,
                               GError     **error)
{
  g_autoptr(StoreStatement) stmt = NULL;
  g_autofree char *what = NULL;

  g_return_val_if_fail (EIDER_IS_STORE (self), FALSE);

  what = g_strdup_printf ("Could not mark file %" G_GINT64_FORMAT " as uploaded", file_id);
  stmt = store_prepare (self,
                        "UPDATE files SET state = ?2, reason_code = ?7, reason_details = ?8, "
                        "next_retry = 0, remote_file_id = ?3, collection_id = ?4, updated_at = ?5 "
                        "WHERE id = ?1 AND (?6 >> state) & 1",
                        what, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, file_id);
  sqlite3_bind_int (stmt, 2, EIDER_FILE_UPLOADED);
  sqlite3_bind_int64 (stmt, 3, remote_file_id);
  sqlite3_bind_int64 (stmt, 4, collection_id);
  sqlite3_bind_int64 (stmt, 5, g_get_real_time ());
  sqlite3_bind_int64 (stmt, 6, file_transition_mask (EIDER_FILE_UPLOADED));
  sqlite3_bind_int (stmt, 7, how);
  bind_text (stmt, 8, details);

  return store_change_file_state (self, stmt, what, file_id, EIDER_FILE_UPLOADED, error);
}

/**
 * eider_store_delete_file:
 * @self: a store
 * @file_id: a file record id
 * @error: return location for an error
 *
 * Forgets a local file (and its upload in flight).
 *
 * Returns: %TRUE on success
 */
gboolean
eider_store_delete_file (EiderStore  *self,
                         gint64       file_id,
                         GError     **error)
{
  g_autoptr(StoreStatement) stmt = NULL;

  g_return_val_if_fail (EIDER_IS_STORE (self), FALSE);

  stmt = store_prepare (self, "DELETE FROM files WHERE id = ?1", "Could not forget the file", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, file_id);

  return store_change_one (self, stmt, "Could not forget the file", "file", file_id, error);
}

/**
 * eider_store_list_files:
 * @self: a store
 * @watch_id: a watch
 * @error: return location for an error
 *
 * Returns: (transfer container) (element-type EiderFileRecord): the watch's
 *   files in every state, ordered by path (bytewise)
 */
GPtrArray *
eider_store_list_files (EiderStore  *self,
                        gint64       watch_id,
                        GError     **error)
{
  g_autoptr(StoreStatement) stmt = NULL;

  g_return_val_if_fail (EIDER_IS_STORE (self), NULL);

  stmt = store_prepare (self,
                        "SELECT " FILE_COLUMNS " FROM files f WHERE f.watch_id = ?1 ORDER BY f.path",
                        "Could not list the files", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, watch_id);

  return collect_files (self, stmt, "Could not list the files", error);
}

/**
 * eider_store_list_files_in_dir:
 * @self: a store
 * @dir: a folder, in the file system's encoding, without a trailing slash
 * @name_prefix: what the names start with (may be empty)
 * @error: return location for an error
 *
 * The files directly in @dir (not in its subfolders) whose name starts with
 * @name_prefix, in every state, ordered by path (bytewise). One range over
 * the path index: the cost grows with the matching names only, not with
 * the folder (e.g. the other half of a live photo, found by its stem).
 *
 * Returns: (transfer container) (element-type EiderFileRecord): the files,
 *   or %NULL with @error set
 */
GPtrArray *
eider_store_list_files_in_dir (EiderStore  *self,
                               const char  *dir,
                               const char  *name_prefix,
                               GError     **error)
{
  g_autoptr(StoreStatement) stmt = NULL;
  g_autoptr(GPtrArray) files = NULL;
  g_autofree char *low = NULL;
  g_autofree char *high = NULL;
  gsize low_len, high_len;

  g_return_val_if_fail (EIDER_IS_STORE (self), NULL);
  g_return_val_if_fail (dir != NULL, NULL);
  g_return_val_if_fail (name_prefix != NULL, NULL);

  low = g_str_has_suffix (dir, G_DIR_SEPARATOR_S)
        ? g_strconcat (dir, name_prefix, NULL)
        : g_strconcat (dir, G_DIR_SEPARATOR_S, name_prefix, NULL);
  low_len = strlen (low);

  /* The first byte string after every string that starts with @low: its
   * last byte below 0xff incremented, what follows dropped. */
  high = g_strdup (low);
  high_len = low_len;
  while (high_len > 0 && (guint8) high[high_len - 1] == 0xff)
    high_len--;
  if (high_len > 0)
    high[high_len - 1] = (char) ((guint8) high[high_len - 1] + 1);

  /* Two statements, not one with "(no bound OR path < ?)": SQLite uses a
   * range's upper bound on the index only when it is a plain term, and
   * without it this walked the index from @low to the end of the table. */
  if (high_len > 0)
    stmt = store_prepare (self,
                          "SELECT " FILE_COLUMNS " FROM files f "
                          "WHERE f.path >= ?1 AND f.path < ?2 ORDER BY f.path",
                          "Could not list the files", error);
  else
    stmt = store_prepare (self,
                          "SELECT " FILE_COLUMNS " FROM files f WHERE f.path >= ?1 ORDER BY f.path",
                          "Could not list the files", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_blob (stmt, 1, low, low_len, SQLITE_TRANSIENT);
  if (high_len > 0)
    sqlite3_bind_blob (stmt, 2, high, high_len, SQLITE_TRANSIENT);

  files = collect_files (self, stmt, "Could not list the files", error);
  if (files == NULL)
    return NULL;

  /* Only the folder's own files: nothing below a further separator. */
  for (guint i = files->len; i > 0; i--)
    {
      EiderFileRecord *record = g_ptr_array_index (files, i - 1);
      gsize len = strlen (record->path);

      if (len < low_len || memcmp (record->path, low, low_len) != 0 ||
          strchr (record->path + low_len, G_DIR_SEPARATOR) != NULL)
        g_ptr_array_remove_index (files, i - 1);
    }

  return g_steal_pointer (&files);
}

/**
 * eider_store_list_due_files:
 * @self: a store
 * @now_us: the real time now (µs)
 * @limit: at most this many; 0 for all
 * @error: return location for an error
 *
 * Files to work on: pending, working (interrupted) and failed whose retry
 * time has come, in watches that are not paused, oldest record first.
 *
 * Returns: (transfer container) (element-type EiderFileRecord): the files
 */
GPtrArray *
eider_store_list_due_files (EiderStore  *self,
                            gint64       now_us,
                            guint        limit,
                            GError     **error)
{
  g_autoptr(StoreStatement) stmt = NULL;

  g_return_val_if_fail (EIDER_IS_STORE (self), NULL);

  /* Each state through its index, in id order, stopping at the limit: the
   * cost does not grow with the files already uploaded. Failed files
   * through their retry times (files_retry, named: SQLite would rather
   * walk every failed file in id order), so that those waiting for a
   * later retry are not read. The states are written out, not bound: a
   * bound value that SQLite compares with a partial index's WHERE makes it
   * prepare the statement again each time it is bound (0 and 1 are
   * EIDER_FILE_PENDING and EIDER_FILE_WORKING). */
#define DUE_IN_STATE(index, state, extra) \
  "SELECT * FROM (SELECT f.id FROM files f " index " JOIN watches w ON w.id = f.watch_id " \
  "WHERE w.paused = 0 AND f.state = " state extra " ORDER BY f.id LIMIT ?5)"
  stmt = store_prepare (self,
                        "SELECT " FILE_COLUMNS " FROM files f WHERE f.id IN ("
                        DUE_IN_STATE ("", "0", "") " UNION ALL "
                        DUE_IN_STATE ("", "1", "") " UNION ALL "
                        DUE_IN_STATE ("INDEXED BY files_retry", "4", " AND f.next_retry <= ?4") ") "
                        "ORDER BY f.id LIMIT ?5",
                        "Could not list the files to work on", error);
#undef DUE_IN_STATE
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 4, now_us);
  sqlite3_bind_int64 (stmt, 5, limit > 0 ? (gint64) limit : -1);

  return collect_files (self, stmt, "Could not list the files to work on", error);
}

/**
 * eider_store_list_files_in_state:
 * @self: a store
 * @state: a state
 * @error: return location for an error
 *
 * Returns: (transfer container) (element-type EiderFileRecord): every file
 *   in @state, in any watch, by id
 */
GPtrArray *
eider_store_list_files_in_state (EiderStore      *self,
                                 EiderFileState   state,
                                 GError         **error)
{
  g_autoptr(StoreStatement) stmt = NULL;

  g_return_val_if_fail (EIDER_IS_STORE (self), NULL);

  stmt = store_prepare (self,
                        "SELECT " FILE_COLUMNS " FROM files f WHERE f.state = ?1 ORDER BY f.id",
                        "Could not list the files", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int (stmt, 1, state);

  return collect_files (self, stmt, "Could not list the files", error);
}

/**
 * eider_store_list_files_page:
 * @self: a store
 * @state: a state
 * @offset: how many files to pass over
 * @limit: how many to return at most
 * @error: return location for an error
 *
 * One page of the files in @state, in path order, so that a client can
 * show a long list without loading it at once.
 *
 * Returns: (transfer container) (element-type EiderFileRecord): the page
 */
GPtrArray *
eider_store_list_files_page (EiderStore      *self,
                             EiderFileState   state,
                             guint            offset,
                             guint            limit,
                             GError         **error)
{
  g_autoptr(StoreStatement) stmt = NULL;

  g_return_val_if_fail (EIDER_IS_STORE (self), NULL);

  stmt = store_prepare (self,
                        "SELECT " FILE_COLUMNS " FROM files f WHERE f.state = ?1 "
                        "ORDER BY f.path LIMIT ?2 OFFSET ?3",
                        "Could not list the files", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int (stmt, 1, state);
  sqlite3_bind_int64 (stmt, 2, limit);
  sqlite3_bind_int64 (stmt, 3, offset);

  return collect_files (self, stmt, "Could not list the files", error);
}

/**
 * eider_store_list_uploading_files:
 * @self: a store
 * @hash: the content's hash, as an upload records it
 * @error: return location for an error
 *
 * The files with an upload in flight of content @hash as a new Ente file
 * (not new content for an existing one), in every state, oldest first.
 * Ente's dedupe takes such a file as the one that sends those bytes: it
 * may already have sent them, even if its process died before it knew.
 *
 * Returns: (transfer container) (element-type EiderFileRecord): the files,
 *   or %NULL with @error set
 */
GPtrArray *
eider_store_list_uploading_files (EiderStore  *self,
                                  const char  *hash,
                                  GError     **error)
{
  g_autoptr(StoreStatement) stmt = NULL;

  g_return_val_if_fail (EIDER_IS_STORE (self), NULL);
  g_return_val_if_fail (hash != NULL, NULL);

  /* From the uploads in flight (few) to their files: CROSS JOIN keeps
   * SQLite from walking every file in id order to save the sort. */
  stmt = store_prepare (self,
                        "SELECT " FILE_COLUMNS " FROM uploads u CROSS JOIN files f ON f.id = u.file_id "
                        "WHERE u.hash = ?1 AND u.replaces_id = 0 ORDER BY f.id",
                        "Could not list the uploads in flight", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, hash, -1, SQLITE_TRANSIENT);

  return collect_files (self, stmt, "Could not list the uploads in flight", error);
}

/**
 * eider_store_retry_failed:
 * @self: a store
 * @error: return location for an error
 *
 * Puts every failed file back to pending, with its attempts and retry time
 * reset. On error, 0 is returned with @error set.
 *
 * Returns: how many files were failed
 */
guint
eider_store_retry_failed (EiderStore  *self,
                          GError     **error)
{
  g_autoptr(StoreStatement) stmt = NULL;
  guint n;

  g_return_val_if_fail (EIDER_IS_STORE (self), 0);

  if (!file_transition_allowed (EIDER_FILE_FAILED, EIDER_FILE_PENDING))
    {
      set_transition_error (error, "Could not retry the failed files", EIDER_FILE_FAILED,
                            EIDER_FILE_PENDING);
      return 0;
    }

  stmt = store_prepare (self,
                        "UPDATE files SET state = ?1, reason_code = 0, reason_details = NULL, attempts = 0, "
                        "next_retry = 0, updated_at = ?3 WHERE state = ?2",
                        "Could not retry the failed files", error);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_int (stmt, 1, EIDER_FILE_PENDING);
  sqlite3_bind_int (stmt, 2, EIDER_FILE_FAILED);
  sqlite3_bind_int64 (stmt, 3, g_get_real_time ());
  if (!store_step_done (self, stmt, "Could not retry the failed files", error))
    return 0;
  n = (guint) sqlite3_changes (self->db);
  if (!eider_store_flush (self, error))
    return 0;

  return n;
}

/**
 * eider_store_get_counts:
 * @self: a store
 * @counts: (out caller-allocates): the counts
 * @error: return location for an error
 *
 * Counts the files of all watches per state, and the bytes left to upload
 * (the sizes of pending, working and failed files).
 *
 * Returns: %TRUE on success
 */
gboolean
eider_store_get_counts (EiderStore        *self,
                        EiderStoreCounts  *counts,
                        GError           **error)
{
  g_return_val_if_fail (EIDER_IS_STORE (self), FALSE);
  g_return_val_if_fail (counts != NULL, FALSE);

  memset (counts, 0, sizeof *counts);

  /* Called on every file's start and end: the tally, not a scan. */
  if (!store_counts_refresh (self, error))
    return FALSE;

  for (guint state = EIDER_FILE_PENDING; state <= EIDER_FILE_FAILED; state++)
    counts->n_by_state[state] = (guint) self->n_files[state];
  counts->bytes_left = self->n_bytes[EIDER_FILE_PENDING] + self->n_bytes[EIDER_FILE_WORKING] +
                       self->n_bytes[EIDER_FILE_FAILED];

  return TRUE;
}

/**
 * eider_store_get_watch_counts:
 * @self: a store
 * @watch_id: a watched folder
 * @counts: (out caller-allocates): the counts
 * @error: return location for an error
 *
 * Counts the files of one watched folder per state, and its bytes left to
 * upload, as eider_store_get_counts() does for all (a query on the
 * files_watch index, not a tally).
 *
 * Returns: %TRUE on success
 */
gboolean
eider_store_get_watch_counts (EiderStore        *self,
                              gint64             watch_id,
                              EiderStoreCounts  *counts,
                              GError           **error)
{
  g_autoptr(StoreStatement) stmt = NULL;
  int rc;

  g_return_val_if_fail (EIDER_IS_STORE (self), FALSE);
  g_return_val_if_fail (counts != NULL, FALSE);

  memset (counts, 0, sizeof *counts);
  stmt = store_prepare (self, "SELECT state, COUNT(*), TOTAL(size) FROM files WHERE watch_id = ? "
                        "GROUP BY state", "Could not count the folder's files", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, watch_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      int state = sqlite3_column_int (stmt, 0);

      if (state < EIDER_FILE_PENDING || state > EIDER_FILE_FAILED)
        continue;
      counts->n_by_state[state] = (guint) sqlite3_column_int64 (stmt, 1);
      if (state != EIDER_FILE_UPLOADED && state != EIDER_FILE_SKIPPED)
        counts->bytes_left += (gint64) sqlite3_column_double (stmt, 2);
    }
  if (rc != SQLITE_DONE)
    return set_sqlite_error (self, error, "Could not count the folder's files");

  return TRUE;
}

/* Uploads in flight */

#define UPLOAD_COLUMNS \
  "file_id, collection_id, hash, plain_size, mtime_ns, encrypted_key, key_nonce, file_header, " \
  "encrypted_size, object_key, part_size, part_md5s, part_urls, complete_url, urls_expire_us, " \
  "etags, file_done, thumb_data, thumb_object_key, thumb_header, thumb_size, thumb_done, " \
  "metadata_data, metadata_header, pubmm_data, pubmm_header, pubmm_count, replaces_id"

/* Every column but the key and updated_at: an unchanged record is not
 * written again. */
#define UPLOAD_DATA_COLUMNS \
  "uploads.collection_id, uploads.hash, uploads.plain_size, " \
  "uploads.mtime_ns, uploads.encrypted_key, uploads.key_nonce, " \
  "uploads.file_header, uploads.encrypted_size, uploads.object_key, " \
  "uploads.part_size, uploads.part_md5s, uploads.part_urls, " \
  "uploads.complete_url, uploads.urls_expire_us, uploads.etags, " \
  "uploads.file_done, uploads.thumb_data, uploads.thumb_object_key, " \
  "uploads.thumb_header, uploads.thumb_size, uploads.thumb_done, " \
  "uploads.metadata_data, uploads.metadata_header, uploads.pubmm_data, " \
  "uploads.pubmm_header, uploads.pubmm_count, uploads.replaces_id"
#define UPLOAD_EXCLUDED_COLUMNS \
  "excluded.collection_id, excluded.hash, excluded.plain_size, " \
  "excluded.mtime_ns, excluded.encrypted_key, excluded.key_nonce, " \
  "excluded.file_header, excluded.encrypted_size, excluded.object_key, " \
  "excluded.part_size, excluded.part_md5s, excluded.part_urls, " \
  "excluded.complete_url, excluded.urls_expire_us, excluded.etags, " \
  "excluded.file_done, excluded.thumb_data, excluded.thumb_object_key, " \
  "excluded.thumb_header, excluded.thumb_size, excluded.thumb_done, " \
  "excluded.metadata_data, excluded.metadata_header, excluded.pubmm_data, " \
  "excluded.pubmm_header, excluded.pubmm_count, excluded.replaces_id"

static gboolean
store_save_upload (EiderStore               *self,
                   const EiderUploadRecord  *record,
                   gboolean                  durable,
                   GError                  **error)
{
  g_autoptr(StoreStatement) stmt = NULL;
  g_autofree char *what = NULL;
  int i = 1;

  what = g_strdup_printf ("Could not save the upload of file %" G_GINT64_FORMAT, record->file_id);
  /* A record saved again unchanged (the engine saves it, then the
   * uploader) writes nothing: no page, no commit. */
  stmt = store_prepare (self,
                        "INSERT INTO uploads (" UPLOAD_COLUMNS ", updated_at) VALUES "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT (file_id) DO UPDATE SET "
                        "collection_id = excluded.collection_id, hash = excluded.hash, "
                        "plain_size = excluded.plain_size, mtime_ns = excluded.mtime_ns, "
                        "encrypted_key = excluded.encrypted_key, key_nonce = excluded.key_nonce, "
                        "file_header = excluded.file_header, "
                        "encrypted_size = excluded.encrypted_size, "
                        "object_key = excluded.object_key, part_size = excluded.part_size, "
                        "part_md5s = excluded.part_md5s, part_urls = excluded.part_urls, "
                        "complete_url = excluded.complete_url, "
                        "urls_expire_us = excluded.urls_expire_us, etags = excluded.etags, "
                        "file_done = excluded.file_done, thumb_data = excluded.thumb_data, "
                        "thumb_object_key = excluded.thumb_object_key, "
                        "thumb_header = excluded.thumb_header, thumb_size = excluded.thumb_size, "
                        "thumb_done = excluded.thumb_done, "
                        "metadata_data = excluded.metadata_data, "
                        "metadata_header = excluded.metadata_header, "
                        "pubmm_data = excluded.pubmm_data, pubmm_header = excluded.pubmm_header, "
                        "pubmm_count = excluded.pubmm_count, replaces_id = excluded.replaces_id, "
                        "updated_at = excluded.updated_at "
                        "WHERE (" UPLOAD_DATA_COLUMNS ") IS NOT "
                        "(" UPLOAD_EXCLUDED_COLUMNS ")",
                        what, error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, i++, record->file_id);
  sqlite3_bind_int64 (stmt, i++, record->collection_id);
  bind_text (stmt, i++, record->hash);
  sqlite3_bind_int64 (stmt, i++, record->plain_size);
  sqlite3_bind_int64 (stmt, i++, record->mtime_ns);
  bind_text (stmt, i++, record->encrypted_key);
  bind_text (stmt, i++, record->key_nonce);
  bind_text (stmt, i++, record->file_header);
  sqlite3_bind_int64 (stmt, i++, record->encrypted_size);
  bind_text (stmt, i++, record->object_key);
  sqlite3_bind_int64 (stmt, i++, record->part_size);
  bind_strv (stmt, i++, (const char * const *) record->part_md5s);
  bind_strv (stmt, i++, (const char * const *) record->part_urls);
  bind_text (stmt, i++, record->complete_url);
  sqlite3_bind_int64 (stmt, i++, record->urls_expire_us);
  bind_strv (stmt, i++, (const char * const *) record->etags);
  sqlite3_bind_int (stmt, i++, record->file_done ? 1 : 0);
  if (record->thumb_data == NULL)
    sqlite3_bind_null (stmt, i++);
  else if (g_bytes_get_size (record->thumb_data) == 0)
    sqlite3_bind_zeroblob (stmt, i++, 0);
  else
    sqlite3_bind_blob64 (stmt, i++, g_bytes_get_data (record->thumb_data, NULL),
                         g_bytes_get_size (record->thumb_data), SQLITE_STATIC);
  bind_text (stmt, i++, record->thumb_object_key);
  bind_text (stmt, i++, record->thumb_header);
  sqlite3_bind_int64 (stmt, i++, record->thumb_size);
  sqlite3_bind_int (stmt, i++, record->thumb_done ? 1 : 0);
  bind_text (stmt, i++, record->metadata_data);
  bind_text (stmt, i++, record->metadata_header);
  bind_text (stmt, i++, record->pubmm_data);
  bind_text (stmt, i++, record->pubmm_header);
  sqlite3_bind_int (stmt, i++, record->pubmm_count);
  sqlite3_bind_int64 (stmt, i++, record->replaces_id);
  sqlite3_bind_int64 (stmt, i++, g_get_real_time ());
  g_assert (i - 1 == sqlite3_bind_parameter_count (stmt));

  if (!store_step_done (self, stmt, what, error))
    return FALSE;

  /* Durable before any byte is sent: once it has its URLs (before that,
   * nothing was sent and a crash only means preparing it again). */
  if (durable && record->object_key != NULL && sqlite3_changes (self->db) > 0)
    return eider_store_flush (self, error);

  return TRUE;
}

/**
 * eider_store_save_upload:
 * @self: a store
 * @record: the upload (its file_id names the file record)
 * @error: return location for an error
 *
 * Inserts or replaces the upload in flight of a file; committed at once
 * when it has its URLs (see eider_store_set_commit_delay()).
 *
 * Returns: %TRUE on success
 */
gboolean
eider_store_save_upload (EiderStore               *self,
                         const EiderUploadRecord  *record,
                         GError                  **error)
{
  g_return_val_if_fail (EIDER_IS_STORE (self), FALSE);
  g_return_val_if_fail (record != NULL, FALSE);

  return store_save_upload (self, record, TRUE, error);
}

/**
 * eider_store_save_upload_progress:
 * @self: a store
 * @record: the upload
 * @error: return location for an error
 *
 * As eider_store_save_upload(), for a step resumption can do without:
 * committed with the group. After a crash that loses it the step is
 * done again (a single PUT sent again to its URL with the same bytes, a
 * thumbnail sent again).
 *
 * Returns: %TRUE on success
 */
gboolean
eider_store_save_upload_progress (EiderStore               *self,
                                  const EiderUploadRecord  *record,
                                  GError                  **error)
{
  g_return_val_if_fail (EIDER_IS_STORE (self), FALSE);
  g_return_val_if_fail (record != NULL, FALSE);

  return store_save_upload (self, record, FALSE, error);
}

static EiderUploadRecord *
upload_from_row (sqlite3_stmt  *stmt,
                 GError       **error)
{
  g_autoptr(EiderUploadRecord) record = g_new0 (EiderUploadRecord, 1);
  int i = 0;

  record->file_id = sqlite3_column_int64 (stmt, i++);
  record->collection_id = sqlite3_column_int64 (stmt, i++);
  record->hash = column_dup (stmt, i++);
  record->plain_size = sqlite3_column_int64 (stmt, i++);
  record->mtime_ns = sqlite3_column_int64 (stmt, i++);
  record->encrypted_key = column_dup (stmt, i++);
  record->key_nonce = column_dup (stmt, i++);
  record->file_header = column_dup (stmt, i++);
  record->encrypted_size = sqlite3_column_int64 (stmt, i++);
  record->object_key = column_dup (stmt, i++);
  record->part_size = sqlite3_column_int64 (stmt, i++);
  if (!column_strv (stmt, i++, &record->part_md5s, error))
    return NULL;
  if (!column_strv (stmt, i++, &record->part_urls, error))
    return NULL;
  record->complete_url = column_dup (stmt, i++);
  record->urls_expire_us = sqlite3_column_int64 (stmt, i++);
  if (!column_strv (stmt, i++, &record->etags, error))
    return NULL;
  record->file_done = sqlite3_column_int (stmt, i++) != 0;
  if (sqlite3_column_type (stmt, i) != SQLITE_NULL)
    record->thumb_data = g_bytes_new (sqlite3_column_blob (stmt, i), sqlite3_column_bytes (stmt, i));
  i++;
  record->thumb_object_key = column_dup (stmt, i++);
  record->thumb_header = column_dup (stmt, i++);
  record->thumb_size = sqlite3_column_int64 (stmt, i++);
  record->thumb_done = sqlite3_column_int (stmt, i++) != 0;
  record->metadata_data = column_dup (stmt, i++);
  record->metadata_header = column_dup (stmt, i++);
  record->pubmm_data = column_dup (stmt, i++);
  record->pubmm_header = column_dup (stmt, i++);
  record->pubmm_count = sqlite3_column_int (stmt, i++);
  record->replaces_id = sqlite3_column_int64 (stmt, i++);
  g_assert (i == sqlite3_column_count (stmt));

  return g_steal_pointer (&record);
}

static EiderUploadRecord *
upload_lookup (EiderStore  *self,
               gint64       file_id,
               GError     **error)
{
  g_autoptr(StoreStatement) stmt = NULL;
  g_autoptr(GError) local_error = NULL;
  EiderUploadRecord *record;
  int rc;

  stmt = store_prepare (self, "SELECT " UPLOAD_COLUMNS " FROM uploads WHERE file_id = ?1",
                        "Could not read an upload in flight", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, file_id);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_NOT_FOUND,
                   "There is no upload in flight for file %" G_GINT64_FORMAT, file_id);
      return NULL;
    }
  if (rc != SQLITE_ROW)
    {
      set_sqlite_error (self, error, "Could not read an upload in flight");
      return NULL;
    }

  record = upload_from_row (stmt, &local_error);
  if (record == NULL)
    g_set_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_FAILED,
                 "The upload in flight of file %" G_GINT64_FORMAT " is damaged: %s",
                 file_id, local_error->message);

  return record;
}

/**
 * eider_store_get_upload:
 * @self: a store
 * @file_id: a file record id
 *
 * Returns: (transfer full) (nullable): the file's upload in flight, or %NULL
 */
EiderUploadRecord *
eider_store_get_upload (EiderStore *self,
                        gint64      file_id)
{
  g_autoptr(GError) error = NULL;
  EiderUploadRecord *record;

  g_return_val_if_fail (EIDER_IS_STORE (self), NULL);

  record = upload_lookup (self, file_id, &error);
  if (record == NULL && !g_error_matches (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_NOT_FOUND))
    g_warning ("%s", error->message);

  return record;
}

/**
 * eider_store_set_part_etag:
 * @self: a store
 * @file_id: a file record id
 * @part_index: the part, from 0
 * @etag: the ETag S3 returned for it
 * @error: return location for an error
 *
 * Records that a part was acknowledged. The etags list grows (with "") up
 * to the number of parts when it is shorter.
 *
 * Returns: %TRUE on success
 */
gboolean
eider_store_set_part_etag (EiderStore  *self,
                           gint64       file_id,
                           guint        part_index,
                           const char  *etag,
                           GError     **error)
{
  g_autoptr(EiderUploadRecord) record = NULL;
  g_autoptr(StoreStatement) stmt = NULL;
  g_autofree char *what = NULL;
  guint n_parts;
  guint n_etags;

  g_return_val_if_fail (EIDER_IS_STORE (self), FALSE);
  g_return_val_if_fail (etag != NULL, FALSE);

  what = g_strdup_printf ("Could not save the ETag of part %u of file %" G_GINT64_FORMAT,
                          part_index + 1, file_id);

  if (!eider_store_begin (self, error))
    return FALSE;

  record = upload_lookup (self, file_id, error);
  if (record == NULL)
    {
      g_prefix_error (error, "%s: ", what);
      goto fail;
    }

  n_etags = record->etags != NULL ? g_strv_length (record->etags) : 0;
  n_parts = record->part_md5s != NULL ? g_strv_length (record->part_md5s) : 0;
  n_parts = MAX (n_parts, n_etags);
  if (part_index >= n_parts)
    {
      g_set_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_NOT_FOUND,
                   "%s: the upload has %u parts", what, n_parts);
      goto fail;
    }

  if (n_etags < n_parts)
    {
      record->etags = g_renew (char *, record->etags, n_parts + 1);
      for (guint i = n_etags; i < n_parts; i++)
        record->etags[i] = g_strdup ("");
      record->etags[n_parts] = NULL;
    }
  g_free (record->etags[part_index]);
  record->etags[part_index] = g_strdup (etag);

  stmt = store_prepare (self, "UPDATE uploads SET etags = ?2, updated_at = ?3 WHERE file_id = ?1",
                        what, error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, file_id);
  bind_strv (stmt, 2, (const char * const *) record->etags);
  sqlite3_bind_int64 (stmt, 3, g_get_real_time ());
  /* An acknowledged part stays acknowledged: durable at once. */
  if (!store_step_done (self, stmt, what, error) || !eider_store_flush (self, error))
    goto fail;

  return eider_store_commit (self, error);

fail:
  eider_store_rollback (self);
  return FALSE;
}

/**
 * eider_store_delete_upload:
 * @self: a store
 * @file_id: a file record id
 * @error: return location for an error
 *
 * Forgets a file's upload in flight; no upload is not an error.
 *
 * Returns: %TRUE on success
 */
gboolean
eider_store_delete_upload (EiderStore  *self,
                           gint64       file_id,
                           GError     **error)
{
  g_autoptr(StoreStatement) stmt = NULL;

  g_return_val_if_fail (EIDER_IS_STORE (self), FALSE);

  stmt = store_prepare (self, "DELETE FROM uploads WHERE file_id = ?1",
                        "Could not forget an upload in flight", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, file_id);

  return store_step_done (self, stmt, "Could not forget an upload in flight", error);
}

/* Remote index */

#define COLLECTION_COLUMNS \
  "id, owner_id, type, name, encrypted_key, key_nonce, is_deleted, updation_time, files_since"

static EiderCollectionRecord *
collection_from_row (sqlite3_stmt *stmt)
{
  EiderCollectionRecord *record = g_new0 (EiderCollectionRecord, 1);

  record->id = sqlite3_column_int64 (stmt, 0);
  record->owner_id = sqlite3_column_int64 (stmt, 1);
  record->type = column_dup (stmt, 2);
  record->name = column_dup (stmt, 3);
  record->encrypted_key = column_dup (stmt, 4);
  record->key_nonce = column_dup (stmt, 5);
  record->is_deleted = sqlite3_column_int (stmt, 6) != 0;
  record->updation_time = sqlite3_column_int64 (stmt, 7);
  record->files_since = sqlite3_column_int64 (stmt, 8);

  return record;
}

/**
 * eider_store_upsert_collection:
 * @self: a store
 * @record: the collection as the server describes it
 * @error: return location for an error
 *
 * Inserts or updates a collection. The diff cursor of a known collection
 * never goes back here (the larger of the stored and the given one is
 * kept, so that a record built from a collection listing, with
 * files_since 0, does not reset it); eider_store_set_collection_cursor()
 * sets it to any value.
 *
 * Returns: %TRUE on success
 */
gboolean
eider_store_upsert_collection (EiderStore                   *self,
                               const EiderCollectionRecord  *record,
                               GError                      **error)
{
  g_autoptr(StoreStatement) stmt = NULL;
  g_autofree char *what = NULL;

  g_return_val_if_fail (EIDER_IS_STORE (self), FALSE);
  g_return_val_if_fail (record != NULL, FALSE);

  what = g_strdup_printf ("Could not save collection %" G_GINT64_FORMAT, record->id);
  stmt = store_prepare (self,
                        "INSERT INTO collections (" COLLECTION_COLUMNS ") "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                        "ON CONFLICT (id) DO UPDATE SET owner_id = excluded.owner_id, "
                        "type = excluded.type, name = excluded.name, "
                        "encrypted_key = excluded.encrypted_key, key_nonce = excluded.key_nonce, "
                        "is_deleted = excluded.is_deleted, updation_time = excluded.updation_time, "
                        "files_since = MAX (files_since, excluded.files_since)",
                        what, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, record->id);
  sqlite3_bind_int64 (stmt, 2, record->owner_id);
  bind_text (stmt, 3, record->type);
  bind_text (stmt, 4, record->name);
  bind_text (stmt, 5, record->encrypted_key);
  bind_text (stmt, 6, record->key_nonce);
  sqlite3_bind_int (stmt, 7, record->is_deleted ? 1 : 0);
  sqlite3_bind_int64 (stmt, 8, record->updation_time);
  sqlite3_bind_int64 (stmt, 9, record->files_since);

  return store_step_done (self, stmt, what, error);
}

/**
 * eider_store_delete_collection:
 * @self: a store
 * @collection_id: a collection id
 * @error: return location for an error
 *
 * Forgets a collection and its files from the remote index. An unknown
 * collection is not an error.
 *
 * Returns: %TRUE on success
 */
gboolean
eider_store_delete_collection (EiderStore  *self,
                               gint64       collection_id,
                               GError     **error)
{
  g_autoptr(StoreStatement) files = NULL;
  g_autoptr(StoreStatement) collection = NULL;
  g_autofree char *what = NULL;

  g_return_val_if_fail (EIDER_IS_STORE (self), FALSE);

  what = g_strdup_printf ("Could not forget collection %" G_GINT64_FORMAT, collection_id);

  if (!eider_store_begin (self, error))
    return FALSE;

  files = store_prepare (self, "DELETE FROM remote_files WHERE collection_id = ?1", what, error);
  if (files == NULL)
    goto fail;
  sqlite3_bind_int64 (files, 1, collection_id);
  if (!store_step_done (self, files, what, error))
    goto fail;

  collection = store_prepare (self, "DELETE FROM collections WHERE id = ?1", what, error);
  if (collection == NULL)
    goto fail;
  sqlite3_bind_int64 (collection, 1, collection_id);
  if (!store_step_done (self, collection, what, error))
    goto fail;

  return eider_store_commit (self, error);

fail:
  eider_store_rollback (self);
  return FALSE;
}

/**
 * eider_store_get_collection:
 * @self: a store
 * @collection_id: a collection id
 *
 * Returns: (transfer full) (nullable): the collection, or %NULL
 */
EiderCollectionRecord *
eider_store_get_collection (EiderStore *self,
                            gint64      collection_id)
{
  g_autoptr(StoreStatement) stmt = NULL;
  g_autoptr(GError) error = NULL;
  int rc;

  g_return_val_if_fail (EIDER_IS_STORE (self), NULL);

  stmt = store_prepare (self, "SELECT " COLLECTION_COLUMNS " FROM collections WHERE id = ?1",
                        "Could not read a collection", &error);
  if (stmt == NULL)
    {
      g_warning ("%s", error->message);
      return NULL;
    }
  sqlite3_bind_int64 (stmt, 1, collection_id);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return collection_from_row (stmt);
  if (rc != SQLITE_DONE)
    g_warning ("Could not read collection %" G_GINT64_FORMAT ": %s",
               collection_id, sqlite3_errmsg (self->db));

  return NULL;
}

/**
 * eider_store_list_collections:
 * @self: a store
 * @error: return location for an error
 *
 * Returns: (transfer container) (element-type EiderCollectionRecord): every
 *   known collection (deleted ones included), by id
 */
GPtrArray *
eider_store_list_collections (EiderStore  *self,
                              GError     **error)
{
  g_autoptr(StoreStatement) stmt = NULL;
  g_autoptr(GPtrArray) collections = NULL;
  int rc;

  g_return_val_if_fail (EIDER_IS_STORE (self), NULL);

  stmt = store_prepare (self, "SELECT " COLLECTION_COLUMNS " FROM collections ORDER BY id",
                        "Could not list the collections", error);
  if (stmt == NULL)
    return NULL;

  collections = g_ptr_array_new_with_free_func ((GDestroyNotify) eider_collection_record_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (collections, collection_from_row (stmt));
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (self, error, "Could not list the collections");
      return NULL;
    }

  return g_steal_pointer (&collections);
}

gboolean
eider_store_set_collection_cursor (EiderStore  *self,
                                   gint64       collection_id,
                                   gint64       files_since,
                                   GError     **error)
{
  g_autoptr(StoreStatement) stmt = NULL;
  g_autofree char *what = NULL;

  g_return_val_if_fail (EIDER_IS_STORE (self), FALSE);

  what = g_strdup_printf ("Could not save the diff cursor of collection %" G_GINT64_FORMAT, collection_id);
  stmt = store_prepare (self, "UPDATE collections SET files_since = ?2 WHERE id = ?1", what, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, collection_id);
  sqlite3_bind_int64 (stmt, 2, files_since);

  return store_change_one (self, stmt, what, "collection", collection_id, error);
}

#define REMOTE_FILE_COLUMNS \
  "id, collection_id, title, file_type, hash, encrypted_key, key_nonce, file_header, " \
  "file_size, creation_time, updation_time, pubmm_version, pubmm_json"

static EiderRemoteFileRecord *
remote_file_from_row (sqlite3_stmt *stmt)
{
  EiderRemoteFileRecord *record = g_new0 (EiderRemoteFileRecord, 1);

  record->id = sqlite3_column_int64 (stmt, 0);
  record->collection_id = sqlite3_column_int64 (stmt, 1);
  record->title = column_dup (stmt, 2);
  record->file_type = sqlite3_column_int (stmt, 3);
  record->hash = column_dup (stmt, 4);
  record->encrypted_key = column_dup (stmt, 5);
  record->key_nonce = column_dup (stmt, 6);
  record->file_header = column_dup (stmt, 7);
  record->file_size = sqlite3_column_int64 (stmt, 8);
  record->creation_time = sqlite3_column_int64 (stmt, 9);
  record->updation_time = sqlite3_column_int64 (stmt, 10);
  record->pubmm_version = sqlite3_column_int64 (stmt, 11);
  record->pubmm_json = column_dup (stmt, 12);

  return record;
}

/**
 * eider_store_upsert_remote_file:
 * @self: a store
 * @record: a file in a collection, as the server describes it
 * @error: return location for an error
 *
 * Inserts or updates the entry of (record->id, record->collection_id): one
 * file in several collections has one entry in each.
 *
 * Returns: %TRUE on success
 */
gboolean
eider_store_upsert_remote_file (EiderStore                   *self,
                                const EiderRemoteFileRecord  *record,
                                GError                      **error)
{
  g_autoptr(StoreStatement) stmt = NULL;
  g_autofree char *what = NULL;

  g_return_val_if_fail (EIDER_IS_STORE (self), FALSE);
  g_return_val_if_fail (record != NULL, FALSE);

  what = g_strdup_printf ("Could not save remote file %" G_GINT64_FORMAT " of collection %"
                          G_GINT64_FORMAT, record->id, record->collection_id);
  /* An entry the server describes as the store holds it already (the
   * first diff after an upload repeats every file it recorded) is not
   * written again. */
  stmt = store_prepare (self,
                        "INSERT INTO remote_files (" REMOTE_FILE_COLUMNS ") "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
                        "ON CONFLICT (id, collection_id) DO UPDATE SET "
                        "title = excluded.title, file_type = excluded.file_type, "
                        "hash = excluded.hash, encrypted_key = excluded.encrypted_key, "
                        "key_nonce = excluded.key_nonce, file_header = excluded.file_header, "
                        "file_size = excluded.file_size, creation_time = excluded.creation_time, "
                        "updation_time = excluded.updation_time, "
                        "pubmm_version = excluded.pubmm_version, pubmm_json = excluded.pubmm_json "
                        "WHERE (title, file_type, hash, encrypted_key, key_nonce, file_header, "
                        "file_size, creation_time, updation_time, pubmm_version, pubmm_json) IS NOT "
                        "(excluded.title, excluded.file_type, excluded.hash, excluded.encrypted_key, "
                        "excluded.key_nonce, excluded.file_header, excluded.file_size, "
                        "excluded.creation_time, excluded.updation_time, excluded.pubmm_version, "
                        "excluded.pubmm_json)",
                        what, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, record->id);
  sqlite3_bind_int64 (stmt, 2, record->collection_id);
  bind_text (stmt, 3, record->title);
  sqlite3_bind_int (stmt, 4, record->file_type);
  bind_text (stmt, 5, record->hash);
  bind_text (stmt, 6, record->encrypted_key);
  bind_text (stmt, 7, record->key_nonce);
  bind_text (stmt, 8, record->file_header);
  sqlite3_bind_int64 (stmt, 9, record->file_size);
  sqlite3_bind_int64 (stmt, 10, record->creation_time);
  sqlite3_bind_int64 (stmt, 11, record->updation_time);
  sqlite3_bind_int64 (stmt, 12, record->pubmm_version);
  bind_text (stmt, 13, record->pubmm_json);

  return store_step_done (self, stmt, what, error);
}

/**
 * eider_store_update_remote_file:
 * @self: a store
 * @record: the file's new description (its id names it; collection_id is
 *   ignored)
 * @error: return location for an error
 *
 * A file changed in Ente (new content, renamed): every collection's entry
 * of it takes the new title, hash, header, sizes, times and public magic
 * metadata. Its keys stay (they are per collection).
 *
 * Returns: %TRUE on success
 */
gboolean
eider_store_update_remote_file (EiderStore                   *self,
                                const EiderRemoteFileRecord  *record,
                                GError                      **error)
{
  g_autoptr(StoreStatement) stmt = NULL;
  g_autofree char *what = NULL;

  g_return_val_if_fail (EIDER_IS_STORE (self), FALSE);
  g_return_val_if_fail (record != NULL, FALSE);

  what = g_strdup_printf ("Could not update remote file %" G_GINT64_FORMAT, record->id);
  stmt = store_prepare (self,
                        "UPDATE remote_files SET title = ?2, hash = ?3, file_header = ?4, "
                        "file_size = ?5, creation_time = ?6, updation_time = ?7, "
                        "pubmm_version = ?8, pubmm_json = ?9 WHERE id = ?1",
                        what, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, record->id);
  bind_text (stmt, 2, record->title);
  bind_text (stmt, 3, record->hash);
  bind_text (stmt, 4, record->file_header);
  sqlite3_bind_int64 (stmt, 5, record->file_size);
  sqlite3_bind_int64 (stmt, 6, record->creation_time);
  sqlite3_bind_int64 (stmt, 7, record->updation_time);
  sqlite3_bind_int64 (stmt, 8, record->pubmm_version);
  bind_text (stmt, 9, record->pubmm_json);

  return store_step_done (self, stmt, what, error);
}

/**
 * eider_store_get_remote_file:
 * @self: a store
 * @file_id: a remote file id
 * @collection_id: one of its collections, or 0 for any
 *
 * Returns: (transfer full) (nullable): the entry, or %NULL
 */
EiderRemoteFileRecord *
eider_store_get_remote_file (EiderStore *self,
                             gint64      file_id,
                             gint64      collection_id)
{
  g_autoptr(StoreStatement) stmt = NULL;
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail (EIDER_IS_STORE (self), NULL);

  stmt = store_prepare (self,
                        "SELECT " REMOTE_FILE_COLUMNS " FROM remote_files "
                        "WHERE id = ?1 AND (?2 = 0 OR collection_id = ?2) "
                        "ORDER BY collection_id LIMIT 1",
                        "Could not look up the remote index", &error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, file_id);
  sqlite3_bind_int64 (stmt, 2, collection_id);

  return sqlite3_step (stmt) == SQLITE_ROW ? remote_file_from_row (stmt) : NULL;
}

/**
 * eider_store_list_remote_file_entries:
 * @self: a store
 * @file_id: a remote file id
 *
 * Returns: (transfer container) (element-type EiderRemoteFileRecord): the
 *   file's entry in each collection that holds it, by collection
 */
GPtrArray *
eider_store_list_remote_file_entries (EiderStore *self,
                                      gint64      file_id)
{
  g_autoptr(StoreStatement) stmt = NULL;
  GPtrArray *files;

  g_return_val_if_fail (EIDER_IS_STORE (self), NULL);

  files = g_ptr_array_new_with_free_func ((GDestroyNotify) eider_remote_file_record_free);
  stmt = store_prepare (self,
                        "SELECT " REMOTE_FILE_COLUMNS " FROM remote_files WHERE id = ?1 "
                        "ORDER BY collection_id",
                        "Could not look up the remote index", NULL);
  if (stmt == NULL)
    return files;
  sqlite3_bind_int64 (stmt, 1, file_id);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (files, remote_file_from_row (stmt));

  return files;
}

/**
 * eider_store_remote_file_in_use:
 * @self: a store
 * @remote_file_id: a remote file id
 * @collection_id: the collection, or 0 for any
 * @except_file_id: a local file record to leave out
 *
 * Whether another local file (uploaded) stands for this remote file in
 * this collection: e.g. a file moved inside one album, or the same photo
 * in two watched folders.
 *
 * Returns: %TRUE if one does
 */
gboolean
eider_store_remote_file_in_use (EiderStore *self,
                                gint64      remote_file_id,
                                gint64      collection_id,
                                gint64      except_file_id)
{
  g_autoptr(StoreStatement) stmt = NULL;
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail (EIDER_IS_STORE (self), FALSE);

  /* No Ente file (a file not uploaded yet): nothing stands for it, and
   * remote_file_id 0 is every such file, the whole table at the start. */
  if (remote_file_id <= 0)
    return FALSE;

  /* Through files_remote: one statement per form (an "(?2 = 0 OR …)"
   * hides the plan), and "+state" so that SQLite does not walk the state
   * index instead (every uploaded file). */
  if (collection_id != 0)
    stmt = store_prepare (self,
                          "SELECT 1 FROM files WHERE remote_file_id = ?1 AND remote_file_id != 0 "
                          "AND +collection_id = ?2 "
                          "AND id != ?3 AND +state = ?4 LIMIT 1",
                          "Could not look up the local files", &error);
  else
    stmt = store_prepare (self,
                          "SELECT 1 FROM files WHERE remote_file_id = ?1 AND remote_file_id != 0 "
                          "AND id != ?3 AND +state = ?4 LIMIT 1",
                          "Could not look up the local files", &error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, remote_file_id);
  if (collection_id != 0)
    sqlite3_bind_int64 (stmt, 2, collection_id);
  sqlite3_bind_int64 (stmt, 3, except_file_id);
  sqlite3_bind_int (stmt, 4, EIDER_FILE_UPLOADED);

  return sqlite3_step (stmt) == SQLITE_ROW;
}

/**
 * eider_store_delete_remote_file:
 * @self: a store
 * @file_id: a remote file id
 * @collection_id: the collection it is removed from
 * @error: return location for an error
 *
 * An unknown entry is not an error (diffs repeat deletions).
 *
 * Returns: %TRUE on success
 */
gboolean
eider_store_delete_remote_file (EiderStore  *self,
                                gint64       file_id,
                                gint64       collection_id,
                                GError     **error)
{
  g_autoptr(StoreStatement) stmt = NULL;
  g_autofree char *what = NULL;

  g_return_val_if_fail (EIDER_IS_STORE (self), FALSE);

  what = g_strdup_printf ("Could not forget remote file %" G_GINT64_FORMAT " of collection %"
                          G_GINT64_FORMAT, file_id, collection_id);
  stmt = store_prepare (self, "DELETE FROM remote_files WHERE id = ?1 AND collection_id = ?2",
                        what, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, file_id);
  sqlite3_bind_int64 (stmt, 2, collection_id);

  return store_step_done (self, stmt, what, error);
}

/**
 * eider_store_find_remote_files:
 * @self: a store
 * @title: the file's title
 * @file_type: its file type
 * @hash: its hash
 * @error: return location for an error
 *
 * Ente's desktop de-duplication key: every entry, in any collection, with
 * this title, file type and hash, ordered by collection then file id.
 *
 * Returns: (transfer container) (element-type EiderRemoteFileRecord): the
 *   matches (possibly none)
 */
GPtrArray *
eider_store_find_remote_files (EiderStore  *self,
                               const char  *title,
                               gint         file_type,
                               const char  *hash,
                               GError     **error)
{
  g_autoptr(StoreStatement) stmt = NULL;
  g_autoptr(GPtrArray) files = NULL;
  int rc;

  g_return_val_if_fail (EIDER_IS_STORE (self), NULL);
  g_return_val_if_fail (title != NULL, NULL);
  g_return_val_if_fail (hash != NULL, NULL);

  stmt = store_prepare (self,
                        "SELECT " REMOTE_FILE_COLUMNS " FROM remote_files "
                        "WHERE title = ?1 AND file_type = ?2 AND hash = ?3 "
                        "ORDER BY collection_id, id",
                        "Could not look up the remote index", error);
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, title);
  sqlite3_bind_int (stmt, 2, file_type);
  bind_text (stmt, 3, hash);

  files = g_ptr_array_new_with_free_func ((GDestroyNotify) eider_remote_file_record_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (files, remote_file_from_row (stmt));
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (self, error, "Could not look up the remote index");
      return NULL;
    }

  return g_steal_pointer (&files);
}
