/* test-store.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "eider-media.h"
#include "eider-store.h"

typedef struct
{
  char       *dir;
  char       *path;
  EiderStore *store;
} Fixture;

static void
rm_rf (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);

        if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
          rm_rf (child);
        else
          g_unlink (child);
      }
  g_rmdir (path);
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("eider-store-XXXXXX", &error);
  g_assert_no_error (error);
  /* The folder of the database is created when missing. */
  fixture->path = g_build_filename (fixture->dir, "state", "eider.db", NULL);
  fixture->store = eider_store_open (fixture->path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fixture->store);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  if (fixture->store != NULL)
    g_assert_finalize_object (fixture->store);
  rm_rf (fixture->dir);
  g_free (fixture->path);
  g_free (fixture->dir);
}

static void
fixture_reopen (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;

  g_assert_finalize_object (fixture->store);
  fixture->store = eider_store_open (fixture->path, &error);
  g_assert_no_error (error);
}

/* A second, raw connection to look at what the store wrote. */
static sqlite3 *
raw_open (const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);

  return db;
}

static gint64
raw_int (sqlite3    *db,
         const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);

  return value;
}

static char *
raw_text (sqlite3    *db,
          const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  char *value;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);

  return value;
}

static void
raw_exec (sqlite3    *db,
          const char *sql)
{
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
}

static EiderWatch *
add_watch (EiderStore *store,
           const char *path)
{
  g_autoptr(GError) error = NULL;
  EiderWatch *watch = eider_store_add_watch (store, path, EIDER_MAPPING_ONE_ALBUM, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (watch);

  return watch;
}

static gint64
note (EiderStore *store,
      gint64      watch_id,
      const char *path,
      gint64      size)
{
  g_autoptr(GError) error = NULL;
  EiderStat stat = { 2049, 1000 + size, size, 1700000000000000000, 1700000000000000001 };
  gboolean changed = FALSE;
  gint64 id;

  id = eider_store_note_file (store, watch_id, path, "Album", &stat, &changed, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);

  return id;
}

/* A job starts on the file (only a file being worked on ends uploaded or
 * failed). */
static void
start (EiderStore *store,
       gint64      file_id)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (eider_store_set_file_state (store, file_id, EIDER_FILE_WORKING, EIDER_REASON_NONE, NULL,
                                             &error));
  g_assert_no_error (error);
}

static gboolean
ids_equal (GPtrArray    *files,
           const gint64 *ids,
           guint         n_ids)
{
  if (files->len != n_ids)
    return FALSE;
  for (guint i = 0; i < n_ids; i++)
    if (((EiderFileRecord *) g_ptr_array_index (files, i))->id != ids[i])
      return FALSE;
  return TRUE;
}

/* Opening and schema */

static void
test_open_schema (Fixture       *fixture,
                  gconstpointer  data)
{
  sqlite3 *db;
  g_autofree char *mode = NULL;

  g_assert_cmpstr (eider_store_get_path (fixture->store), ==, fixture->path);
  g_assert_cmpint (eider_store_get_schema_version (fixture->store), ==, 4);

  db = raw_open (fixture->path);
  g_assert_cmpint (raw_int (db, "PRAGMA user_version"), ==, 4);
  mode = raw_text (db, "PRAGMA journal_mode");
  g_assert_cmpstr (mode, ==, "wal");
  g_assert_cmpint (raw_int (db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                                "('meta', 'watches', 'files', 'uploads', 'collections', 'remote_files')"), ==, 6);
  g_assert_cmpint (raw_int (db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN "
                                "('files_path', 'files_retry', 'files_remote', 'remote_files_dedupe')"), ==, 4);
  sqlite3_close (db);
}

static void
test_reopen_keeps_data (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderWatch) watch = add_watch (fixture->store, "/photos");
  g_autoptr(EiderWatch) found = NULL;
  g_autoptr(EiderFileRecord) file = NULL;
  g_autofree char *value = NULL;
  gint64 id;

  g_assert_true (eider_store_set_meta (fixture->store, "cursor", "42", &error));
  g_assert_no_error (error);
  id = note (fixture->store, watch->id, "/photos/a.jpg", 10);

  fixture_reopen (fixture);
  g_assert_cmpint (eider_store_get_schema_version (fixture->store), ==, 4);
  value = eider_store_get_meta (fixture->store, "cursor");
  g_assert_cmpstr (value, ==, "42");
  found = eider_store_find_watch (fixture->store, "/photos");
  g_assert_nonnull (found);
  g_assert_cmpint (found->id, ==, watch->id);
  file = eider_store_get_file (fixture->store, id);
  g_assert_nonnull (file);
  g_assert_cmpstr (file->path, ==, "/photos/a.jpg");
}

/* Version 2 kept reasons as free text; version 3 keeps a code and
 * details, and an old text becomes code OTHER with the text as details. */
static void
test_migrate_reasons (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderWatch) watch = add_watch (fixture->store, "/photos");
  g_autoptr(EiderFileRecord) skipped = NULL;
  g_autoptr(EiderFileRecord) failed = NULL;
  g_autoptr(EiderFileRecord) plain = NULL;
  g_autofree char *text = NULL;
  gint64 a, b, c;
  sqlite3 *db;

  a = note (fixture->store, watch->id, "/photos/a.txt", 1);
  b = note (fixture->store, watch->id, "/photos/b.jpg", 2);
  c = note (fixture->store, watch->id, "/photos/c.jpg", 3);
  g_assert_true (eider_store_set_file_state (fixture->store, a, EIDER_FILE_SKIPPED, EIDER_REASON_NONE,
                                             NULL, &error));
  start (fixture->store, b);
  g_assert_true (eider_store_set_file_failed (fixture->store, b, EIDER_REASON_NONE, NULL, 0, &error));
  g_assert_no_error (error);
  g_clear_object (&fixture->store);

  /* The files table as version 2 had it, with reasons as text (and the
   * indexes of before version 4). */
  db = raw_open (fixture->path);
  raw_exec (db,
            "DROP INDEX files_retry;"
            "DROP INDEX files_remote;"
            "CREATE INDEX files_state_retry ON files (state, next_retry);"
            "CREATE INDEX files_remote ON files (remote_file_id);"
            "ALTER TABLE files ADD COLUMN reason TEXT;"
            "ALTER TABLE files DROP COLUMN reason_code;"
            "ALTER TABLE files DROP COLUMN reason_details;"
            "UPDATE files SET reason = 'not a photo or video' WHERE path = CAST('/photos/a.txt' AS BLOB);"
            "UPDATE files SET reason = 'HTTP 503: try later' WHERE path = CAST('/photos/b.jpg' AS BLOB);"
            "PRAGMA user_version = 2;");
  sqlite3_close (db);

  fixture->store = eider_store_open (fixture->path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (eider_store_get_schema_version (fixture->store), ==, 4);

  skipped = eider_store_get_file (fixture->store, a);
  g_assert_cmpint (skipped->state, ==, EIDER_FILE_SKIPPED);
  g_assert_cmpint (skipped->reason_code, ==, EIDER_REASON_OTHER);
  g_assert_cmpstr (skipped->reason_details, ==, "not a photo or video");
  text = eider_reason_describe (skipped->reason_code, skipped->reason_details);
  g_assert_cmpstr (text, ==, "not a photo or video");

  failed = eider_store_get_file (fixture->store, b);
  g_assert_cmpint (failed->state, ==, EIDER_FILE_FAILED);
  g_assert_cmpint (failed->reason_code, ==, EIDER_REASON_OTHER);
  g_assert_cmpstr (failed->reason_details, ==, "HTTP 503: try later");
  g_assert_cmpint (failed->attempts, ==, 1);

  plain = eider_store_get_file (fixture->store, c);
  g_assert_cmpint (plain->state, ==, EIDER_FILE_PENDING);
  g_assert_cmpint (plain->reason_code, ==, EIDER_REASON_NONE);
  g_assert_null (plain->reason_details);

  /* The text column is gone: no second copy of a reason. */
  db = raw_open (fixture->path);
  g_assert_cmpint (raw_int (db, "SELECT COUNT(*) FROM pragma_table_info('files') WHERE name = 'reason'"),
                   ==, 0);
  sqlite3_close (db);
}

static void
test_too_new (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderStore) store = NULL;
  sqlite3 *db;

  g_clear_object (&fixture->store);
  db = raw_open (fixture->path);
  raw_exec (db, "PRAGMA user_version = 999");
  sqlite3_close (db);

  store = eider_store_open (fixture->path, &error);
  g_assert_null (store);
  g_assert_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_TOO_NEW);
  g_assert_nonnull (strstr (error->message, "999"));
  g_assert_nonnull (strstr (error->message, "newer"));
}

static void
test_not_a_database (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderStore) store = NULL;
  g_autofree char *junk = g_build_filename (fixture->dir, "junk.db", NULL);
  g_autofree char *other = g_build_filename (fixture->dir, "other.db", NULL);
  sqlite3 *db;

  g_assert_true (g_file_set_contents (junk, "this is not an SQLite database, not at all......"
                                      "................................................", -1, NULL));
  store = eider_store_open (junk, &error);
  g_assert_null (store);
  g_assert_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "junk.db"));
  g_clear_error (&error);

  g_assert_cmpint (sqlite3_open (other, &db), ==, SQLITE_OK);
  raw_exec (db, "PRAGMA application_id = 1234; CREATE TABLE t (x)");
  sqlite3_close (db);
  store = eider_store_open (other, &error);
  g_assert_null (store);
  g_assert_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "another program"));
}

static void
test_state_strings (void)
{
  g_assert_cmpstr (eider_file_state_to_string (EIDER_FILE_PENDING), ==, "pending");
  g_assert_cmpstr (eider_file_state_to_string (EIDER_FILE_WORKING), ==, "working");
  g_assert_cmpstr (eider_file_state_to_string (EIDER_FILE_UPLOADED), ==, "uploaded");
  g_assert_cmpstr (eider_file_state_to_string (EIDER_FILE_SKIPPED), ==, "skipped");
  g_assert_cmpstr (eider_file_state_to_string (EIDER_FILE_FAILED), ==, "failed");
  g_assert_cmpstr (eider_file_state_to_string ((EiderFileState) 42), ==, "unknown");
  g_assert_cmpstr (eider_file_state_to_string ((EiderFileState) -1), ==, "unknown");

  /* The enums are GTypes (bindable properties, GSettings), named by nick. */
  {
    g_autoptr(GEnumClass) states = g_type_class_ref (EIDER_TYPE_FILE_STATE);
    g_autoptr(GEnumClass) mappings = g_type_class_ref (EIDER_TYPE_MAPPING);
    g_autoptr(GEnumClass) types = g_type_class_ref (EIDER_TYPE_FILE_TYPE);

    g_assert_cmpuint (states->n_values, ==, EIDER_FILE_FAILED + 1);
    for (guint i = 0; i < states->n_values; i++)
      g_assert_cmpstr (eider_file_state_to_string (states->values[i].value), ==,
                       states->values[i].value_nick);
    g_assert_cmpint (g_enum_get_value_by_nick (states, "uploaded")->value, ==, EIDER_FILE_UPLOADED);
    g_assert_cmpint (g_enum_get_value_by_nick (mappings, "one-album")->value, ==,
                     EIDER_MAPPING_ONE_ALBUM);
    g_assert_cmpint (g_enum_get_value_by_nick (mappings, "album-per-folder")->value, ==,
                     EIDER_MAPPING_ALBUM_PER_FOLDER);
    g_assert_cmpint (g_enum_get_value_by_nick (types, "unknown")->value, ==, EIDER_FILE_TYPE_UNKNOWN);
    g_assert_cmpint (g_enum_get_value_by_nick (types, "image")->value, ==, EIDER_FILE_TYPE_IMAGE);
    g_assert_cmpint (g_enum_get_value_by_nick (types, "video")->value, ==, EIDER_FILE_TYPE_VIDEO);
    g_assert_cmpint (g_enum_get_value_by_nick (types, "live-photo")->value, ==,
                     EIDER_FILE_TYPE_LIVE_PHOTO);
    g_assert_true (G_TYPE_IS_ENUM (EIDER_TYPE_STORE_ERROR));
  }

  /* Freeing NULL is fine. */
  eider_watch_free (NULL);
  eider_file_record_free (NULL);
  eider_upload_record_free (NULL);
  eider_collection_record_free (NULL);
  eider_remote_file_record_free (NULL);
}

/* Meta */

static void
test_meta (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  char *value;

  g_assert_null (eider_store_get_meta (fixture->store, "endpoint"));
  g_assert_true (eider_store_set_meta (fixture->store, "endpoint", "http://127.0.0.1:1", &error));
  g_assert_no_error (error);
  value = eider_store_get_meta (fixture->store, "endpoint");
  g_assert_cmpstr (value, ==, "http://127.0.0.1:1");
  g_free (value);

  g_assert_true (eider_store_set_meta (fixture->store, "endpoint", "", &error));
  value = eider_store_get_meta (fixture->store, "endpoint");
  g_assert_cmpstr (value, ==, "");
  g_free (value);

  g_assert_true (eider_store_set_meta (fixture->store, "endpoint", NULL, &error));
  g_assert_no_error (error);
  g_assert_null (eider_store_get_meta (fixture->store, "endpoint"));
}

/* Watches */

static void
test_watches (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderWatch) a = NULL;
  g_autoptr(EiderWatch) b = NULL;
  g_autoptr(EiderWatch) c = NULL;
  g_autoptr(EiderWatch) refused = NULL;
  g_autoptr(EiderWatch) found = NULL;
  g_autoptr(GPtrArray) watches = NULL;
  EiderWatch *w;

  a = eider_store_add_watch (fixture->store, "/home/u/Pictures/", EIDER_MAPPING_ONE_ALBUM, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (a->path, ==, "/home/u/Pictures");
  g_assert_cmpstr (a->album_name, ==, "Pictures");
  g_assert_cmpint (a->mapping, ==, EIDER_MAPPING_ONE_ALBUM);
  g_assert_false (a->paused);

  b = eider_store_add_watch (fixture->store, "/home/u/Camera", EIDER_MAPPING_ALBUM_PER_FOLDER, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (b->album_name);

  /* A name sharing a prefix is not "inside". */
  c = eider_store_add_watch (fixture->store, "/home/u/Pictures2", EIDER_MAPPING_ONE_ALBUM, "Holidays", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (c->album_name, ==, "Holidays");

  refused = eider_store_add_watch (fixture->store, "/home/u/Pictures", EIDER_MAPPING_ONE_ALBUM, NULL, &error);
  g_assert_null (refused);
  g_assert_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, "already watched"));
  g_clear_error (&error);

  refused = eider_store_add_watch (fixture->store, "/home/u/Pictures/2024/../2024", EIDER_MAPPING_ONE_ALBUM, NULL, &error);
  g_assert_null (refused);
  g_assert_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, "inside"));
  g_assert_nonnull (strstr (error->message, "/home/u/Pictures"));
  g_clear_error (&error);

  refused = eider_store_add_watch (fixture->store, "/home/u", EIDER_MAPPING_ONE_ALBUM, NULL, &error);
  g_assert_null (refused);
  g_assert_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, "contains"));
  g_clear_error (&error);

  refused = eider_store_add_watch (fixture->store, "relative/path", EIDER_MAPPING_ONE_ALBUM, NULL, &error);
  g_assert_null (refused);
  g_assert_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_FAILED);
  g_clear_error (&error);

  watches = eider_store_list_watches (fixture->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (watches->len, ==, 3);
  w = g_ptr_array_index (watches, 0);
  g_assert_cmpint (w->id, ==, a->id);
  g_assert_cmpstr (w->path, ==, "/home/u/Pictures");
  w = g_ptr_array_index (watches, 1);
  g_assert_cmpint (w->id, ==, b->id);
  g_assert_cmpint (w->mapping, ==, EIDER_MAPPING_ALBUM_PER_FOLDER);

  found = eider_store_find_watch (fixture->store, "/home/u/Pictures/");
  g_assert_nonnull (found);
  g_assert_cmpint (found->id, ==, a->id);
  g_clear_pointer (&found, eider_watch_free);
  g_assert_null (eider_store_find_watch (fixture->store, "/home/u/Pictures/2024"));
  g_assert_null (eider_store_find_watch (fixture->store, "/nowhere"));

  g_assert_true (eider_store_set_watch_paused (fixture->store, b->id, TRUE, &error));
  g_assert_no_error (error);
  found = eider_store_find_watch (fixture->store, "/home/u/Camera");
  g_assert_true (found->paused);
  g_clear_pointer (&found, eider_watch_free);
  g_assert_true (eider_store_set_watch_paused (fixture->store, b->id, FALSE, &error));
  found = eider_store_find_watch (fixture->store, "/home/u/Camera");
  g_assert_false (found->paused);
  g_clear_pointer (&found, eider_watch_free);

  g_assert_false (eider_store_set_watch_paused (fixture->store, 9999, TRUE, &error));
  g_assert_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (eider_store_remove_watch (fixture->store, a->id, &error));
  g_assert_no_error (error);
  g_assert_false (eider_store_remove_watch (fixture->store, a->id, &error));
  g_assert_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Once removed, a folder inside it may be watched. */
  refused = eider_store_add_watch (fixture->store, "/home/u/Pictures/2024", EIDER_MAPPING_ONE_ALBUM, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (refused);
}

/* Local files */

static void
test_note_file (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderWatch) watch = add_watch (fixture->store, "/photos");
  g_autoptr(EiderFileRecord) record = NULL;
  EiderStat stat = { 2049, 77, 1234, 1700000000123456789, 1700000000123456790 };
  gboolean changed = FALSE;
  gint64 id, id2, version, updated;
  sqlite3 *db;

  id = eider_store_note_file (fixture->store, watch->id, "/photos/a.jpg", "photos", &stat, &changed, &error);
  g_assert_no_error (error);
  g_assert_true (changed);

  record = eider_store_get_file (fixture->store, id);
  g_assert_cmpint (record->id, ==, id);
  g_assert_cmpint (record->watch_id, ==, watch->id);
  g_assert_cmpstr (record->path, ==, "/photos/a.jpg");
  g_assert_cmpstr (record->album_name, ==, "photos");
  g_assert_cmpuint (record->stat.dev, ==, 2049);
  g_assert_cmpuint (record->stat.inode, ==, 77);
  g_assert_cmpint (record->stat.size, ==, 1234);
  g_assert_cmpint (record->stat.mtime_ns, ==, 1700000000123456789);
  g_assert_cmpint (record->stat.ctime_ns, ==, 1700000000123456790);
  g_assert_cmpint (record->state, ==, EIDER_FILE_PENDING);
  g_assert_cmpint (record->reason_code, ==, EIDER_REASON_NONE);
  g_assert_null (record->reason_details);
  g_assert_null (record->hash);
  g_assert_cmpint (record->attempts, ==, 0);
  g_assert_cmpint (record->file_type, ==, -1);
  g_assert_cmpint (record->remote_file_id, ==, 0);
  g_clear_pointer (&record, eider_file_record_free);

  /* Uploaded, with a hash; then a failed attempt left a reason behind. */
  g_assert_true (eider_store_set_file_hash (fixture->store, id, "aGFzaA==", 0, &error));
  start (fixture->store, id);
  g_assert_true (eider_store_set_file_uploaded (fixture->store, id, 501, 77, EIDER_REASON_NONE,
                                                NULL, &error));
  g_assert_no_error (error);

  /* The same stat again writes nothing: another connection sees neither a
   * new data_version nor a new updated_at. */
  db = raw_open (fixture->path);
  version = raw_int (db, "PRAGMA data_version");
  updated = raw_int (db, "SELECT updated_at FROM files");
  g_usleep (2000);
  changed = TRUE;
  id2 = eider_store_note_file (fixture->store, watch->id, "/photos/a.jpg", "photos", &stat, &changed, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id2, ==, id);
  g_assert_false (changed);
  g_assert_cmpint (raw_int (db, "PRAGMA data_version"), ==, version);
  g_assert_cmpint (raw_int (db, "SELECT updated_at FROM files"), ==, updated);
  record = eider_store_get_file (fixture->store, id);
  g_assert_cmpint (record->state, ==, EIDER_FILE_UPLOADED);
  g_assert_cmpstr (record->hash, ==, "aGFzaA==");
  g_clear_pointer (&record, eider_file_record_free);

  /* Each stat field on its own counts as a change. */
  for (guint field = 0; field < 5; field++)
    {
      start (fixture->store, id);
      g_assert_true (eider_store_set_file_failed (fixture->store, id, EIDER_REASON_NETWORK,
                                                  "Network down",
                                                  G_MAXINT64, &error));
      g_assert_true (eider_store_set_file_hash (fixture->store, id, "aGFzaA==", 0, &error));
      g_assert_no_error (error);
      switch (field)
        {
        case 0: stat.dev++; break;
        case 1: stat.inode++; break;
        case 2: stat.size++; break;
        case 3: stat.mtime_ns++; break;
        case 4: stat.ctime_ns++; break;
        default: g_assert_not_reached ();
        }
      version = raw_int (db, "PRAGMA data_version");
      changed = FALSE;
      id2 = eider_store_note_file (fixture->store, watch->id, "/photos/a.jpg", "photos", &stat, &changed, &error);
      g_assert_no_error (error);
      g_assert_cmpint (id2, ==, id);
      g_assert_true (changed);
      g_assert_cmpint (raw_int (db, "PRAGMA data_version"), !=, version);

      record = eider_store_get_file (fixture->store, id);
      g_assert_cmpint (record->state, ==, EIDER_FILE_PENDING);
      g_assert_cmpint (record->attempts, ==, 0);
      g_assert_cmpint (record->reason_code, ==, EIDER_REASON_NONE);
      g_assert_null (record->reason_details);
      g_assert_null (record->hash);
      g_assert_cmpint (record->next_retry_us, ==, 0);
      g_assert_cmpint (record->file_type, ==, -1);
      /* The engine needs these to handle an edited file. */
      g_assert_cmpint (record->remote_file_id, ==, 501);
      g_assert_cmpint (record->collection_id, ==, 77);
      g_assert_true (memcmp (&record->stat, &stat, sizeof stat) == 0);
      g_clear_pointer (&record, eider_file_record_free);
    }
  sqlite3_close (db);

  /* A file of a watch that does not exist is refused. */
  id = eider_store_note_file (fixture->store, 9999, "/elsewhere/b.jpg", NULL, &stat, &changed, &error);
  g_assert_cmpint (id, ==, 0);
  g_assert_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "/elsewhere/b.jpg"));
  g_assert_false (changed);
}

static void
test_file_states (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderWatch) watch = add_watch (fixture->store, "/photos");
  g_autoptr(EiderWatch) other = add_watch (fixture->store, "/other");
  g_autoptr(EiderFileRecord) record = NULL;
  g_autoptr(GPtrArray) files = NULL;
  EiderStoreCounts counts;
  gint64 b, a, c, d, e, f;

  b = note (fixture->store, watch->id, "/photos/b.jpg", 100);
  a = note (fixture->store, watch->id, "/photos/a.jpg", 200);
  c = note (fixture->store, watch->id, "/photos/c.jpg", 400);
  d = note (fixture->store, watch->id, "/photos/d.jpg", 800);
  e = note (fixture->store, other->id, "/other/e.jpg", 1600);
  f = note (fixture->store, other->id, "/other/f.jpg", 3200);

  g_assert_true (eider_store_set_file_state (fixture->store, a, EIDER_FILE_WORKING, EIDER_REASON_NONE,
                                             NULL, &error));
  g_assert_true (eider_store_set_file_state (fixture->store, c, EIDER_FILE_SKIPPED, EIDER_REASON_EMPTY,
                                             NULL,
                                             &error));
  start (fixture->store, d);
  g_assert_true (eider_store_set_file_uploaded (fixture->store, d, 9001, 12, EIDER_REASON_NONE,
                                                NULL, &error));
  start (fixture->store, e);
  g_assert_true (eider_store_set_file_failed (fixture->store, e, EIDER_REASON_IO_ERROR,
                                              "Permission denied",
                                              5, &error));
  start (fixture->store, e);
  g_assert_true (eider_store_set_file_failed (fixture->store, e, EIDER_REASON_IO_ERROR,
                                              "Permission denied again", 6, &error));
  g_assert_true (eider_store_set_file_hash (fixture->store, f, "ZmZmZg==", 1, &error));
  g_assert_no_error (error);

  record = eider_store_find_file (fixture->store, "/photos/c.jpg");
  g_assert_cmpint (record->id, ==, c);
  g_assert_cmpint (record->state, ==, EIDER_FILE_SKIPPED);
  g_assert_cmpint (record->reason_code, ==, EIDER_REASON_EMPTY);
  g_assert_null (record->reason_details);
  g_clear_pointer (&record, eider_file_record_free);

  record = eider_store_get_file (fixture->store, d);
  g_assert_cmpint (record->state, ==, EIDER_FILE_UPLOADED);
  g_assert_cmpint (record->remote_file_id, ==, 9001);
  g_assert_cmpint (record->collection_id, ==, 12);
  g_clear_pointer (&record, eider_file_record_free);

  record = eider_store_get_file (fixture->store, e);
  g_assert_cmpint (record->state, ==, EIDER_FILE_FAILED);
  g_assert_cmpint (record->reason_code, ==, EIDER_REASON_IO_ERROR);
  g_assert_cmpstr (record->reason_details, ==, "Permission denied again");
  g_assert_cmpint (record->attempts, ==, 2);
  g_assert_cmpint (record->next_retry_us, ==, 6);
  g_clear_pointer (&record, eider_file_record_free);

  record = eider_store_get_file (fixture->store, f);
  g_assert_cmpstr (record->hash, ==, "ZmZmZg==");
  g_assert_cmpint (record->file_type, ==, 1);
  g_clear_pointer (&record, eider_file_record_free);

  g_assert_null (eider_store_get_file (fixture->store, 424242));
  g_assert_null (eider_store_find_file (fixture->store, "/photos/zzz.jpg"));

  /* Ordered by path, only this watch. */
  files = eider_store_list_files (fixture->store, watch->id, &error);
  g_assert_no_error (error);
  {
    const gint64 expected[] = { a, b, c, d };
    g_assert_true (ids_equal (files, expected, G_N_ELEMENTS (expected)));
  }
  g_clear_pointer (&files, g_ptr_array_unref);

  files = eider_store_list_files_in_state (fixture->store, EIDER_FILE_PENDING, &error);
  g_assert_no_error (error);
  {
    const gint64 expected[] = { b, f };
    g_assert_true (ids_equal (files, expected, G_N_ELEMENTS (expected)));
  }
  g_clear_pointer (&files, g_ptr_array_unref);

  g_assert_true (eider_store_get_counts (fixture->store, &counts, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (counts.n_by_state[EIDER_FILE_PENDING], ==, 2);
  g_assert_cmpuint (counts.n_by_state[EIDER_FILE_WORKING], ==, 1);
  g_assert_cmpuint (counts.n_by_state[EIDER_FILE_UPLOADED], ==, 1);
  g_assert_cmpuint (counts.n_by_state[EIDER_FILE_SKIPPED], ==, 1);
  g_assert_cmpuint (counts.n_by_state[EIDER_FILE_FAILED], ==, 1);
  /* pending b + f, working a, failed e */
  g_assert_cmpint (counts.bytes_left, ==, 100 + 3200 + 200 + 1600);

  g_assert_cmpuint (eider_store_retry_failed (fixture->store, &error), ==, 1);
  g_assert_no_error (error);
  record = eider_store_get_file (fixture->store, e);
  g_assert_cmpint (record->state, ==, EIDER_FILE_PENDING);
  g_assert_cmpint (record->attempts, ==, 0);
  g_assert_cmpint (record->next_retry_us, ==, 0);
  g_assert_cmpint (record->reason_code, ==, EIDER_REASON_NONE);
  g_assert_null (record->reason_details);
  g_clear_pointer (&record, eider_file_record_free);
  g_assert_cmpuint (eider_store_retry_failed (fixture->store, &error), ==, 0);
  g_assert_no_error (error);

  g_assert_true (eider_store_delete_file (fixture->store, b, &error));
  g_assert_no_error (error);
  g_assert_null (eider_store_get_file (fixture->store, b));
  g_assert_false (eider_store_delete_file (fixture->store, b, &error));
  g_assert_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (eider_store_get_counts (fixture->store, &counts, &error));
  g_assert_cmpuint (counts.n_by_state[EIDER_FILE_PENDING], ==, 2);
  g_assert_cmpuint (counts.n_by_state[EIDER_FILE_FAILED], ==, 0);
  g_assert_cmpint (counts.bytes_left, ==, 3200 + 200 + 1600);

  /* Unknown ids are errors that say so. */
  g_assert_false (eider_store_set_file_state (fixture->store, 4242, EIDER_FILE_WORKING, EIDER_REASON_NONE,
                                              NULL, &error));
  g_assert_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "4242"));
  g_clear_error (&error);
  g_assert_false (eider_store_set_file_failed (fixture->store, 4242, EIDER_REASON_SERVER_ERROR,
                                               "x", 0, &error));
  g_assert_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (eider_store_set_file_hash (fixture->store, 4242, "x", 0, &error));
  g_assert_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (eider_store_set_file_uploaded (fixture->store, 4242, 1, 1, EIDER_REASON_NONE,
                                                 NULL, &error));
  g_assert_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
}

/* A file brought to @state the way the engine brings it there. */
static gint64
file_in_state (EiderStore     *store,
               gint64          watch_id,
               const char     *path,
               EiderFileState  state)
{
  g_autoptr(GError) error = NULL;
  gint64 id = note (store, watch_id, path, 10);

  if (state == EIDER_FILE_WORKING || state == EIDER_FILE_UPLOADED || state == EIDER_FILE_FAILED)
    start (store, id);
  if (state == EIDER_FILE_UPLOADED)
    g_assert_true (eider_store_set_file_uploaded (store, id, 7, 3, EIDER_REASON_NONE, NULL, &error));
  else if (state == EIDER_FILE_FAILED)
    g_assert_true (eider_store_set_file_failed (store, id, EIDER_REASON_SERVER_ERROR,
                                                "first try", 99, &error));
  else if (state == EIDER_FILE_SKIPPED)
    g_assert_true (eider_store_set_file_state (store, id, EIDER_FILE_SKIPPED, EIDER_REASON_OTHER,
                                               "why", &error));
  g_assert_no_error (error);

  return id;
}

/* Each state change through the function meant for it. */
static gboolean
change_state (EiderStore      *store,
              gint64           id,
              EiderFileState   to,
              GError         **error)
{
  switch (to)
    {
    case EIDER_FILE_UPLOADED:
      return eider_store_set_file_uploaded (store, id, 8, 4, EIDER_REASON_NONE, NULL, error);
    case EIDER_FILE_FAILED:
      return eider_store_set_file_failed (store, id, EIDER_REASON_SERVER_ERROR, "again", 100, error);
    case EIDER_FILE_PENDING:
    case EIDER_FILE_WORKING:
    case EIDER_FILE_SKIPPED:
    default:
      return eider_store_set_file_state (store, id, to, EIDER_REASON_OTHER, "changed", error);
    }
}

/* Every column of a file's row, as text. */
static char *
raw_row (sqlite3 *db,
         gint64   id)
{
  g_autoptr(GString) row = g_string_new (NULL);
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT * FROM files WHERE id = ?1", -1, &stmt, NULL), ==,
                   SQLITE_OK);
  sqlite3_bind_int64 (stmt, 1, id);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  for (int i = 0; i < sqlite3_column_count (stmt); i++)
    g_string_append_printf (row, "%s=%s|", sqlite3_column_name (stmt, i),
                            sqlite3_column_type (stmt, i) == SQLITE_NULL
                            ? "NULL" : (const char *) sqlite3_column_text (stmt, i));
  sqlite3_finalize (stmt);

  return g_string_free (g_steal_pointer (&row), FALSE);
}

static void
test_transitions (Fixture       *fixture,
                  gconstpointer  data)
{
  /* What the engine and eiderctl do, written out here on its own:
   * allowed[from][to]. */
  static const gboolean allowed[EIDER_FILE_FAILED + 1][EIDER_FILE_FAILED + 1] = {
    /*                       pending working uploaded skipped failed */
    [EIDER_FILE_PENDING]  = { TRUE,   TRUE,   FALSE,   TRUE,   FALSE },
    [EIDER_FILE_WORKING]  = { TRUE,   TRUE,   TRUE,    TRUE,   TRUE  },
    [EIDER_FILE_UPLOADED] = { TRUE,   TRUE,   FALSE,   FALSE,  FALSE },
    [EIDER_FILE_SKIPPED]  = { TRUE,   FALSE,  FALSE,   FALSE,  FALSE },
    [EIDER_FILE_FAILED]   = { TRUE,   TRUE,   FALSE,   TRUE,   FALSE },
  };
  g_autoptr(EiderWatch) watch = add_watch (fixture->store, "/photos");
  sqlite3 *db = raw_open (fixture->path);
  guint n_refused = 0;

  for (EiderFileState from = EIDER_FILE_PENDING; from <= EIDER_FILE_FAILED; from++)
    for (EiderFileState to = EIDER_FILE_PENDING; to <= EIDER_FILE_FAILED; to++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(EiderFileRecord) record = NULL;
        g_autofree char *path = g_strdup_printf ("/photos/%s-%s.jpg", eider_file_state_to_string (from),
                                                 eider_file_state_to_string (to));
        g_autofree char *before = NULL;
        g_autofree char *after = NULL;
        gint64 id = file_in_state (fixture->store, watch->id, path, from);

        before = raw_row (db, id);
        g_usleep (1000);   /* a write would show in updated_at */
        if (allowed[from][to])
          {
            g_assert_true (change_state (fixture->store, id, to, &error));
            g_assert_no_error (error);
            record = eider_store_get_file (fixture->store, id);
            g_assert_cmpint (record->state, ==, to);
            continue;
          }

        n_refused++;
        g_assert_false (change_state (fixture->store, id, to, &error));
        g_assert_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_INVALID_TRANSITION);
        g_test_message ("%s", error->message);
        g_assert_nonnull (strstr (error->message, eider_file_state_to_string (from)));
        g_assert_nonnull (strstr (error->message, eider_file_state_to_string (to)));
        after = raw_row (db, id);
        g_assert_cmpstr (after, ==, before);
      }
  g_assert_cmpuint (n_refused, ==, 11);

  /* New content makes any file pending again. */
  for (EiderFileState from = EIDER_FILE_PENDING; from <= EIDER_FILE_FAILED; from++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(EiderFileRecord) record = NULL;
      g_autofree char *path = g_strdup_printf ("/photos/edited-%s.jpg", eider_file_state_to_string (from));
      EiderStat stat = { 1, 2, 3, 4, 5 };
      gboolean changed = FALSE;
      gint64 id = file_in_state (fixture->store, watch->id, path, from);

      g_assert_cmpint (eider_store_note_file (fixture->store, watch->id, path, "Album", &stat,
                                              &changed, &error), ==, id);
      g_assert_no_error (error);
      g_assert_true (changed);
      record = eider_store_get_file (fixture->store, id);
      g_assert_cmpint (record->state, ==, EIDER_FILE_PENDING);
    }

  sqlite3_close (db);
}

static void
test_due_files (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderWatch) watch = add_watch (fixture->store, "/photos");
  g_autoptr(EiderWatch) paused = add_watch (fixture->store, "/paused");
  g_autoptr(GPtrArray) due = NULL;
  const gint64 now = 1700000000000000;
  gint64 pending, working, uploaded, skipped, failed_past, failed_now, failed_future, in_paused;

  pending = note (fixture->store, watch->id, "/photos/1.jpg", 1);
  working = note (fixture->store, watch->id, "/photos/2.jpg", 2);
  uploaded = note (fixture->store, watch->id, "/photos/3.jpg", 3);
  skipped = note (fixture->store, watch->id, "/photos/4.jpg", 4);
  failed_past = note (fixture->store, watch->id, "/photos/5.jpg", 5);
  failed_now = note (fixture->store, watch->id, "/photos/6.jpg", 6);
  failed_future = note (fixture->store, watch->id, "/photos/7.jpg", 7);
  in_paused = note (fixture->store, paused->id, "/paused/8.jpg", 8);

  g_assert_true (eider_store_set_file_state (fixture->store, working, EIDER_FILE_WORKING, EIDER_REASON_NONE,
                                             NULL, &error));
  start (fixture->store, uploaded);
  g_assert_true (eider_store_set_file_uploaded (fixture->store, uploaded, 1, 1, EIDER_REASON_NONE,
                                                NULL, &error));
  g_assert_true (eider_store_set_file_state (fixture->store, skipped, EIDER_FILE_SKIPPED, EIDER_REASON_HIDDEN,
                                             NULL, &error));
  start (fixture->store, failed_past);
  start (fixture->store, failed_now);
  start (fixture->store, failed_future);
  g_assert_true (eider_store_set_file_failed (fixture->store, failed_past, EIDER_REASON_SERVER_ERROR,
                                              "503", now - 1, &error));
  g_assert_true (eider_store_set_file_failed (fixture->store, failed_now, EIDER_REASON_SERVER_ERROR,
                                              "429", now, &error));
  g_assert_true (eider_store_set_file_failed (fixture->store, failed_future, EIDER_REASON_SERVER_ERROR,
                                              "429", now + 1, &error));
  g_assert_true (eider_store_set_watch_paused (fixture->store, paused->id, TRUE, &error));
  g_assert_no_error (error);

  due = eider_store_list_due_files (fixture->store, now, 100, &error);
  g_assert_no_error (error);
  {
    const gint64 expected[] = { pending, working, failed_past, failed_now };
    g_assert_true (ids_equal (due, expected, G_N_ELEMENTS (expected)));
  }
  g_clear_pointer (&due, g_ptr_array_unref);

  /* limit: the oldest first */
  due = eider_store_list_due_files (fixture->store, now, 2, &error);
  {
    const gint64 expected[] = { pending, working };
    g_assert_true (ids_equal (due, expected, G_N_ELEMENTS (expected)));
  }
  g_clear_pointer (&due, g_ptr_array_unref);

  /* Time passes; the watch is resumed. 0 means no limit. */
  g_assert_true (eider_store_set_watch_paused (fixture->store, paused->id, FALSE, &error));
  due = eider_store_list_due_files (fixture->store, now + 1, 0, &error);
  g_assert_no_error (error);
  {
    const gint64 expected[] = { pending, working, failed_past, failed_now, failed_future, in_paused };
    g_assert_true (ids_equal (due, expected, G_N_ELEMENTS (expected)));
  }
}

/* Uploads in flight */

static EiderUploadRecord *
make_upload (gint64 file_id)
{
  EiderUploadRecord *record = g_new0 (EiderUploadRecord, 1);
  const char *md5s[] = { "bWQ1MQ==", "bWQ1Mg==", "bWQ1Mw==", NULL };
  const char *urls[] = { "http://127.0.0.1/p1?sig=1", "http://127.0.0.1/p2?sig=2", "http://127.0.0.1/p3?sig=3", NULL };
  const char *etags[] = { "", "", "", NULL };
  const guint8 thumb[] = { 0x00, 0xff, 0x10, 0x00, 0x7f, 0x80 };

  record->file_id = file_id;
  record->collection_id = 77;
  record->hash = g_strdup ("aGFzaA==");
  record->plain_size = 50 * 1024 * 1024;
  record->mtime_ns = 1700000000123456789;
  record->encrypted_key = g_strdup ("ZW5jcnlwdGVkIGtleQ==");
  record->key_nonce = g_strdup ("bm9uY2U=");
  record->file_header = g_strdup ("aGVhZGVy");
  record->encrypted_size = 50 * 1024 * 1024 + 13 * 17;
  record->object_key = g_strdup ("1/abc-def");
  record->part_size = 20 * 1024 * 1024;
  record->part_md5s = g_strdupv ((char **) md5s);
  record->part_urls = g_strdupv ((char **) urls);
  record->complete_url = g_strdup ("http://127.0.0.1/complete?uploadId=1");
  record->urls_expire_us = 1700000003600000000;
  record->etags = g_strdupv ((char **) etags);
  record->file_done = FALSE;
  record->thumb_data = g_bytes_new (thumb, sizeof thumb);
  record->thumb_object_key = g_strdup ("1/thumb");
  record->thumb_header = g_strdup ("dGh1bWIgaGVhZGVy");
  record->thumb_size = sizeof thumb;
  record->thumb_done = TRUE;
  record->metadata_data = g_strdup ("bWV0YWRhdGE=");
  record->metadata_header = g_strdup ("bWV0YSBoZWFkZXI=");
  record->pubmm_data = NULL;
  record->pubmm_header = NULL;
  record->pubmm_count = 0;

  return record;
}

static void
assert_uploads_equal (const EiderUploadRecord *a,
                      const EiderUploadRecord *b)
{
  g_assert_cmpint (a->file_id, ==, b->file_id);
  g_assert_cmpint (a->collection_id, ==, b->collection_id);
  g_assert_cmpstr (a->hash, ==, b->hash);
  g_assert_cmpint (a->plain_size, ==, b->plain_size);
  g_assert_cmpint (a->mtime_ns, ==, b->mtime_ns);
  g_assert_cmpstr (a->encrypted_key, ==, b->encrypted_key);
  g_assert_cmpstr (a->key_nonce, ==, b->key_nonce);
  g_assert_cmpstr (a->file_header, ==, b->file_header);
  g_assert_cmpint (a->encrypted_size, ==, b->encrypted_size);
  g_assert_cmpstr (a->object_key, ==, b->object_key);
  g_assert_cmpint (a->part_size, ==, b->part_size);
  g_assert_cmpstrv (a->part_md5s, b->part_md5s);
  g_assert_cmpstrv (a->part_urls, b->part_urls);
  g_assert_cmpstr (a->complete_url, ==, b->complete_url);
  g_assert_cmpint (a->urls_expire_us, ==, b->urls_expire_us);
  g_assert_cmpstrv (a->etags, b->etags);
  g_assert_cmpint (a->file_done, ==, b->file_done);
  g_assert_true ((a->thumb_data == NULL) == (b->thumb_data == NULL));
  if (a->thumb_data != NULL)
    g_assert_true (g_bytes_equal (a->thumb_data, b->thumb_data));
  g_assert_cmpstr (a->thumb_object_key, ==, b->thumb_object_key);
  g_assert_cmpstr (a->thumb_header, ==, b->thumb_header);
  g_assert_cmpint (a->thumb_size, ==, b->thumb_size);
  g_assert_cmpint (a->thumb_done, ==, b->thumb_done);
  g_assert_cmpstr (a->metadata_data, ==, b->metadata_data);
  g_assert_cmpstr (a->metadata_header, ==, b->metadata_header);
  g_assert_cmpstr (a->pubmm_data, ==, b->pubmm_data);
  g_assert_cmpstr (a->pubmm_header, ==, b->pubmm_header);
  g_assert_cmpint (a->pubmm_count, ==, b->pubmm_count);
}

static void
test_uploads (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderWatch) watch = add_watch (fixture->store, "/photos");
  g_autoptr(EiderUploadRecord) record = NULL;
  g_autoptr(EiderUploadRecord) copy = NULL;
  g_autoptr(EiderUploadRecord) stored = NULL;
  gint64 id = note (fixture->store, watch->id, "/photos/big.mp4", 50 * 1024 * 1024);
  gint64 other = note (fixture->store, watch->id, "/photos/small.jpg", 10);

  g_assert_null (eider_store_get_upload (fixture->store, id));

  record = make_upload (id);
  copy = eider_upload_record_copy (record);
  assert_uploads_equal (record, copy);
  g_assert_true (copy->part_md5s != record->part_md5s);
  g_assert_true (copy->hash != record->hash);

  g_assert_true (eider_store_save_upload (fixture->store, record, &error));
  g_assert_no_error (error);
  stored = eider_store_get_upload (fixture->store, id);
  g_assert_nonnull (stored);
  assert_uploads_equal (stored, record);
  g_clear_pointer (&stored, eider_upload_record_free);

  /* ETags as parts are acknowledged; survives a restart. */
  g_assert_true (eider_store_set_part_etag (fixture->store, id, 1, "\"etag-2\"", &error));
  g_assert_no_error (error);
  g_assert_true (eider_store_set_part_etag (fixture->store, id, 0, "\"etag-1\"", &error));
  g_assert_no_error (error);
  fixture_reopen (fixture);
  stored = eider_store_get_upload (fixture->store, id);
  {
    const char * const expected[] = { "\"etag-1\"", "\"etag-2\"", "", NULL };
    g_assert_cmpstrv (stored->etags, expected);
  }
  g_clear_pointer (&stored, eider_upload_record_free);

  g_assert_false (eider_store_set_part_etag (fixture->store, id, 3, "\"etag-4\"", &error));
  g_assert_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "3 parts"));
  g_clear_error (&error);
  g_assert_false (eider_store_set_part_etag (fixture->store, other, 0, "\"x\"", &error));
  g_assert_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Replacing: a single PUT, NULL lists, empty thumbnail, pubmm set. */
  g_clear_pointer (&record->part_urls, g_strfreev);
  g_clear_pointer (&record->etags, g_strfreev);
  g_clear_pointer (&record->object_key, g_free);
  g_clear_pointer (&record->complete_url, g_free);
  g_clear_pointer (&record->part_md5s, g_strfreev);
  record->part_md5s = g_new0 (char *, 1);
  g_bytes_unref (record->thumb_data);
  record->thumb_data = g_bytes_new (NULL, 0);
  record->part_size = 0;
  record->file_done = TRUE;
  record->pubmm_data = g_strdup ("cHVibW0=");
  record->pubmm_header = g_strdup ("cHViIGhlYWRlcg==");
  record->pubmm_count = 2;
  g_assert_true (eider_store_save_upload (fixture->store, record, &error));
  g_assert_no_error (error);
  stored = eider_store_get_upload (fixture->store, id);
  assert_uploads_equal (stored, record);
  g_assert_nonnull (stored->part_md5s);
  g_assert_cmpuint (g_strv_length (stored->part_md5s), ==, 0);
  g_assert_null (stored->etags);
  g_assert_nonnull (stored->thumb_data);
  g_assert_cmpuint (g_bytes_get_size (stored->thumb_data), ==, 0);
  g_clear_pointer (&stored, eider_upload_record_free);

  /* Without a thumbnail at all. */
  g_clear_pointer (&record->thumb_data, g_bytes_unref);
  g_assert_true (eider_store_save_upload (fixture->store, record, &error));
  stored = eider_store_get_upload (fixture->store, id);
  g_assert_null (stored->thumb_data);
  g_clear_pointer (&stored, eider_upload_record_free);

  /* An upload belongs to a file record. */
  record->file_id = 4242;
  g_assert_false (eider_store_save_upload (fixture->store, record, &error));
  g_assert_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "FOREIGN KEY"));
  g_clear_error (&error);
  record->file_id = id;

  g_assert_true (eider_store_delete_upload (fixture->store, id, &error));
  g_assert_no_error (error);
  g_assert_null (eider_store_get_upload (fixture->store, id));
  g_assert_true (eider_store_delete_upload (fixture->store, id, &error));
  g_assert_no_error (error);

  /* Forgetting the file forgets its upload. */
  g_assert_true (eider_store_save_upload (fixture->store, record, &error));
  g_assert_true (eider_store_delete_file (fixture->store, id, &error));
  g_assert_no_error (error);
  g_assert_null (eider_store_get_upload (fixture->store, id));
}

/* With grouped commits, an upload's record with its URLs is committed at
 * once; a step saved as progress waits for the group. */
static void
test_upload_progress_grouped (Fixture       *fixture,
                              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderWatch) watch = add_watch (fixture->store, "/photos");
  g_autoptr(EiderUploadRecord) record = NULL;
  gint64 id = note (fixture->store, watch->id, "/photos/small.jpg", 10);
  sqlite3 *db;

  eider_store_set_commit_delay (fixture->store, 60000);
  record = make_upload (id);
  g_assert_true (eider_store_save_upload (fixture->store, record, &error));
  g_assert_no_error (error);
  db = raw_open (fixture->path);
  g_assert_cmpint (raw_int (db, "SELECT COUNT(*) FROM uploads WHERE file_done = 0"), ==, 1);

  record->file_done = TRUE;
  g_assert_true (eider_store_save_upload_progress (fixture->store, record, &error));
  g_assert_no_error (error);
  g_assert_cmpint (raw_int (db, "SELECT COUNT(*) FROM uploads WHERE file_done = 1"), ==, 0);
  {
    g_autoptr(EiderUploadRecord) stored = eider_store_get_upload (fixture->store, id);

    g_assert_true (stored->file_done);
  }

  g_assert_true (eider_store_flush (fixture->store, &error));
  g_assert_cmpint (raw_int (db, "SELECT COUNT(*) FROM uploads WHERE file_done = 1"), ==, 1);
  sqlite3_close (db);
  eider_store_set_commit_delay (fixture->store, 0);
}

static void
test_etags_grow (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderWatch) watch = add_watch (fixture->store, "/photos");
  g_autoptr(EiderUploadRecord) record = NULL;
  g_autoptr(EiderUploadRecord) stored = NULL;
  gint64 id = note (fixture->store, watch->id, "/photos/big.mp4", 50);

  /* Saved before any part was sent: no etags list yet. */
  record = make_upload (id);
  g_clear_pointer (&record->etags, g_strfreev);
  g_assert_true (eider_store_save_upload (fixture->store, record, &error));
  g_assert_true (eider_store_set_part_etag (fixture->store, id, 2, "\"c\"", &error));
  g_assert_no_error (error);
  stored = eider_store_get_upload (fixture->store, id);
  {
    const char * const expected[] = { "", "", "\"c\"", NULL };
    g_assert_cmpstrv (stored->etags, expected);
  }
}

/* The files sending some content as a new Ente file: the uploads in
 * flight with that hash, not an edit's new content, nor other content. */
static void
test_uploading_files (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderWatch) watch = add_watch (fixture->store, "/photos");
  g_autoptr(GPtrArray) found = NULL;
  gint64 a = note (fixture->store, watch->id, "/photos/A/same.jpg", 50);
  gint64 b = note (fixture->store, watch->id, "/photos/B/same.jpg", 50);
  gint64 edit = note (fixture->store, watch->id, "/photos/C/same.jpg", 50);
  gint64 other = note (fixture->store, watch->id, "/photos/D/other.jpg", 50);
  gint64 idle = note (fixture->store, watch->id, "/photos/E/same.jpg", 50);
  gint64 ids[] = { b, a, edit, other };

  g_assert_cmpint (idle, >, 0);
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      g_autoptr(EiderUploadRecord) record = make_upload (ids[i]);

      if (ids[i] == edit)
        record->replaces_id = 4242;
      if (ids[i] == other)
        {
          g_free (record->hash);
          record->hash = g_strdup ("b3RoZXI=");
        }
      g_assert_true (eider_store_save_upload (fixture->store, record, &error));
      g_assert_no_error (error);
    }

  found = eider_store_list_uploading_files (fixture->store, "aGFzaA==", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 2);
  g_assert_cmpint (((EiderFileRecord *) g_ptr_array_index (found, 0))->id, ==, a);
  g_assert_cmpstr (((EiderFileRecord *) g_ptr_array_index (found, 0))->path, ==, "/photos/A/same.jpg");
  g_assert_cmpint (((EiderFileRecord *) g_ptr_array_index (found, 1))->id, ==, b);
  g_clear_pointer (&found, g_ptr_array_unref);

  /* Recorded (or given up): the upload is gone, and so is the file here. */
  g_assert_true (eider_store_delete_upload (fixture->store, a, &error));
  found = eider_store_list_uploading_files (fixture->store, "aGFzaA==", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 1);
  g_assert_cmpint (((EiderFileRecord *) g_ptr_array_index (found, 0))->id, ==, b);
  g_clear_pointer (&found, g_ptr_array_unref);

  found = eider_store_list_uploading_files (fixture->store, "bm9uZQ==", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 0);
}

/* Transactions */

static void
test_transactions (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  char *value;

  /* Nested commit: written once the outer one commits. */
  g_assert_true (eider_store_begin (fixture->store, &error));
  g_assert_true (eider_store_begin (fixture->store, &error));
  g_assert_true (eider_store_set_meta (fixture->store, "a", "1", &error));
  g_assert_true (eider_store_commit (fixture->store, &error));
  g_assert_true (eider_store_commit (fixture->store, &error));
  g_assert_no_error (error);
  value = eider_store_get_meta (fixture->store, "a");
  g_assert_cmpstr (value, ==, "1");
  g_free (value);

  /* Rollback undoes. */
  g_assert_true (eider_store_begin (fixture->store, &error));
  g_assert_true (eider_store_set_meta (fixture->store, "a", "2", &error));
  g_assert_true (eider_store_set_meta (fixture->store, "b", "2", &error));
  eider_store_rollback (fixture->store);
  value = eider_store_get_meta (fixture->store, "a");
  g_assert_cmpstr (value, ==, "1");
  g_free (value);
  g_assert_null (eider_store_get_meta (fixture->store, "b"));

  /* An inner rollback dooms the outer transaction. */
  g_assert_true (eider_store_begin (fixture->store, &error));
  g_assert_true (eider_store_set_meta (fixture->store, "a", "3", &error));
  g_assert_true (eider_store_begin (fixture->store, &error));
  g_assert_true (eider_store_set_meta (fixture->store, "c", "3", &error));
  eider_store_rollback (fixture->store);
  g_assert_false (eider_store_commit (fixture->store, &error));
  g_assert_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_FAILED);
  g_clear_error (&error);
  /* The commit ended it: the caller's rollback after it does nothing. */
  eider_store_rollback (fixture->store);
  value = eider_store_get_meta (fixture->store, "a");
  g_assert_cmpstr (value, ==, "1");
  g_free (value);
  g_assert_null (eider_store_get_meta (fixture->store, "c"));

  /* And the store is usable afterwards. */
  g_assert_true (eider_store_begin (fixture->store, &error));
  g_assert_true (eider_store_set_meta (fixture->store, "a", "4", &error));
  g_assert_true (eider_store_commit (fixture->store, &error));
  g_assert_no_error (error);
  value = eider_store_get_meta (fixture->store, "a");
  g_assert_cmpstr (value, ==, "4");
  g_free (value);
}

/* Remote index */

static EiderCollectionRecord *
make_collection (gint64      id,
                 const char *name)
{
  EiderCollectionRecord *record = g_new0 (EiderCollectionRecord, 1);

  record->id = id;
  record->owner_id = 5;
  record->type = g_strdup ("album");
  record->name = g_strdup (name);
  record->encrypted_key = g_strdup ("a2V5");
  record->key_nonce = g_strdup ("bm9uY2U=");
  record->updation_time = 1000 + id;

  return record;
}

static void
upsert_remote (EiderStore *store,
               gint64      id,
               gint64      collection_id,
               const char *title,
               gint        file_type,
               const char *hash)
{
  g_autoptr(GError) error = NULL;
  EiderRemoteFileRecord record = {
    .id = id,
    .collection_id = collection_id,
    .title = (char *) title,
    .file_type = file_type,
    .hash = (char *) hash,
    .encrypted_key = (char *) "ZmlsZSBrZXk=",
    .key_nonce = (char *) "bm9uY2U=",
    .file_header = (char *) "aGVhZGVy",
    .file_size = 4096 + id,
    .creation_time = 1600000000000000,
    .updation_time = 1700000000000000 + id,
  };

  g_assert_true (eider_store_upsert_remote_file (store, &record, &error));
  g_assert_no_error (error);
}

static void
test_collections (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderCollectionRecord) a = make_collection (10, "Holidays");
  g_autoptr(EiderCollectionRecord) b = make_collection (20, "Camera");
  g_autoptr(EiderCollectionRecord) stored = NULL;
  g_autoptr(GPtrArray) list = NULL;

  g_assert_null (eider_store_get_collection (fixture->store, 10));
  g_assert_true (eider_store_upsert_collection (fixture->store, b, &error));
  g_assert_true (eider_store_upsert_collection (fixture->store, a, &error));
  g_assert_no_error (error);

  stored = eider_store_get_collection (fixture->store, 10);
  g_assert_cmpint (stored->id, ==, 10);
  g_assert_cmpint (stored->owner_id, ==, 5);
  g_assert_cmpstr (stored->type, ==, "album");
  g_assert_cmpstr (stored->name, ==, "Holidays");
  g_assert_cmpstr (stored->encrypted_key, ==, "a2V5");
  g_assert_cmpstr (stored->key_nonce, ==, "bm9uY2U=");
  g_assert_false (stored->is_deleted);
  g_assert_cmpint (stored->updation_time, ==, 1010);
  g_assert_cmpint (stored->files_since, ==, 0);
  g_clear_pointer (&stored, eider_collection_record_free);

  g_assert_true (eider_store_set_collection_cursor (fixture->store, 10, 555, &error));
  g_assert_no_error (error);
  g_assert_false (eider_store_set_collection_cursor (fixture->store, 30, 1, &error));
  g_assert_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* A renamed collection from a listing (cursor 0) keeps its cursor. */
  g_free (a->name);
  a->name = g_strdup ("Summer");
  a->is_deleted = TRUE;
  a->updation_time = 2000;
  g_assert_true (eider_store_upsert_collection (fixture->store, a, &error));
  stored = eider_store_get_collection (fixture->store, 10);
  g_assert_cmpstr (stored->name, ==, "Summer");
  g_assert_true (stored->is_deleted);
  g_assert_cmpint (stored->updation_time, ==, 2000);
  g_assert_cmpint (stored->files_since, ==, 555);
  g_clear_pointer (&stored, eider_collection_record_free);

  /* The cursor moves forward through an upsert, and anywhere explicitly. */
  a->files_since = 777;
  g_assert_true (eider_store_upsert_collection (fixture->store, a, &error));
  stored = eider_store_get_collection (fixture->store, 10);
  g_assert_cmpint (stored->files_since, ==, 777);
  g_clear_pointer (&stored, eider_collection_record_free);
  g_assert_true (eider_store_set_collection_cursor (fixture->store, 10, 0, &error));
  stored = eider_store_get_collection (fixture->store, 10);
  g_assert_cmpint (stored->files_since, ==, 0);
  g_clear_pointer (&stored, eider_collection_record_free);

  list = eider_store_list_collections (fixture->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpint (((EiderCollectionRecord *) g_ptr_array_index (list, 0))->id, ==, 10);
  g_assert_cmpint (((EiderCollectionRecord *) g_ptr_array_index (list, 1))->id, ==, 20);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* Deleting a collection takes its files along, only its own. */
  upsert_remote (fixture->store, 1, 10, "a.jpg", 0, "aGFzaA==");
  upsert_remote (fixture->store, 1, 20, "a.jpg", 0, "aGFzaA==");
  upsert_remote (fixture->store, 2, 10, "b.jpg", 0, "Yg==");
  g_assert_true (eider_store_delete_collection (fixture->store, 10, &error));
  g_assert_no_error (error);
  g_assert_null (eider_store_get_collection (fixture->store, 10));
  list = eider_store_find_remote_files (fixture->store, "a.jpg", 0, "aGFzaA==", &error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpint (((EiderRemoteFileRecord *) g_ptr_array_index (list, 0))->collection_id, ==, 20);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = eider_store_find_remote_files (fixture->store, "b.jpg", 0, "Yg==", &error);
  g_assert_cmpuint (list->len, ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);
  /* An unknown collection is not an error. */
  g_assert_true (eider_store_delete_collection (fixture->store, 10, &error));
  g_assert_no_error (error);
}

static void
test_remote_dedupe (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) found = NULL;
  EiderRemoteFileRecord *r;

  upsert_remote (fixture->store, 100, 20, "IMG_1.jpg", 0, "aGFzaDE=");
  upsert_remote (fixture->store, 100, 10, "IMG_1.jpg", 0, "aGFzaDE=");
  upsert_remote (fixture->store, 101, 10, "IMG_1.jpg", 0, "aGFzaDI=");   /* other content */
  upsert_remote (fixture->store, 102, 10, "IMG_1.jpg", 1, "aGFzaDE=");   /* other type */
  upsert_remote (fixture->store, 103, 10, "IMG_2.jpg", 0, "aGFzaDE=");   /* other title */
  upsert_remote (fixture->store, 104, 30, "IMG_1.jpg", 0, "aGFzaDE=");

  found = eider_store_find_remote_files (fixture->store, "IMG_1.jpg", 0, "aGFzaDE=", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 3);
  r = g_ptr_array_index (found, 0);
  g_assert_cmpint (r->id, ==, 100);
  g_assert_cmpint (r->collection_id, ==, 10);
  g_assert_cmpstr (r->title, ==, "IMG_1.jpg");
  g_assert_cmpint (r->file_type, ==, 0);
  g_assert_cmpstr (r->hash, ==, "aGFzaDE=");
  g_assert_cmpstr (r->encrypted_key, ==, "ZmlsZSBrZXk=");
  g_assert_cmpstr (r->key_nonce, ==, "bm9uY2U=");
  g_assert_cmpstr (r->file_header, ==, "aGVhZGVy");
  g_assert_cmpint (r->file_size, ==, 4196);
  g_assert_cmpint (r->creation_time, ==, 1600000000000000);
  g_assert_cmpint (r->updation_time, ==, 1700000000000100);
  r = g_ptr_array_index (found, 1);
  g_assert_cmpint (r->id, ==, 100);
  g_assert_cmpint (r->collection_id, ==, 20);
  r = g_ptr_array_index (found, 2);
  g_assert_cmpint (r->id, ==, 104);
  g_clear_pointer (&found, g_ptr_array_unref);

  /* An upsert of the same (id, collection) replaces it. */
  upsert_remote (fixture->store, 100, 10, "IMG_1 edited.jpg", 0, "aGFzaDE=");
  found = eider_store_find_remote_files (fixture->store, "IMG_1.jpg", 0, "aGFzaDE=", &error);
  g_assert_cmpuint (found->len, ==, 2);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = eider_store_find_remote_files (fixture->store, "IMG_1 edited.jpg", 0, "aGFzaDE=", &error);
  g_assert_cmpuint (found->len, ==, 1);
  g_clear_pointer (&found, g_ptr_array_unref);

  /* Removed from one collection, still in the other. */
  g_assert_true (eider_store_delete_remote_file (fixture->store, 104, 30, &error));
  g_assert_no_error (error);
  g_assert_true (eider_store_delete_remote_file (fixture->store, 104, 30, &error));
  g_assert_no_error (error);
  found = eider_store_find_remote_files (fixture->store, "IMG_1.jpg", 0, "aGFzaDE=", &error);
  g_assert_cmpuint (found->len, ==, 1);
  g_assert_cmpint (((EiderRemoteFileRecord *) g_ptr_array_index (found, 0))->collection_id, ==, 20);
  g_clear_pointer (&found, g_ptr_array_unref);

  found = eider_store_find_remote_files (fixture->store, "nothing.jpg", 0, "aGFzaDE=", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 0);
}

/* Non-UTF-8 file names */

static void
test_non_utf8 (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const char *folder = "/photos/caf\xe9";                 /* Latin-1 "café" */
  const char *file = "/photos/caf\xe9/\xff\xfe photo.jpg";
  const char *album = "caf\xe9";
  g_autoptr(EiderWatch) watch = NULL;
  g_autoptr(EiderWatch) found = NULL;
  g_autoptr(EiderFileRecord) record = NULL;
  g_autoptr(GPtrArray) files = NULL;
  g_autoptr(GPtrArray) watches = NULL;
  EiderStat stat = { 1, 2, 3, 4, 5 };
  gboolean changed;
  gint64 id;

  g_assert_false (g_utf8_validate (file, -1, NULL));

  watch = eider_store_add_watch (fixture->store, folder, EIDER_MAPPING_ONE_ALBUM, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (watch->path, ==, folder);
  /* The default album name is for people (and Ente): valid UTF-8. */
  g_assert_true (g_utf8_validate (watch->album_name, -1, NULL));

  id = eider_store_note_file (fixture->store, watch->id, file, album, &stat, &changed, &error);
  g_assert_no_error (error);
  g_assert_true (changed);

  fixture_reopen (fixture);

  found = eider_store_find_watch (fixture->store, folder);
  g_assert_nonnull (found);
  g_assert_cmpstr (found->path, ==, folder);
  watches = eider_store_list_watches (fixture->store, &error);
  g_assert_cmpstr (((EiderWatch *) g_ptr_array_index (watches, 0))->path, ==, folder);

  record = eider_store_find_file (fixture->store, file);
  g_assert_nonnull (record);
  g_assert_cmpint (record->id, ==, id);
  g_assert_cmpstr (record->path, ==, file);
  g_assert_cmpstr (record->album_name, ==, album);
  g_clear_pointer (&record, eider_file_record_free);

  files = eider_store_list_files (fixture->store, watch->id, &error);
  g_assert_cmpuint (files->len, ==, 1);
  g_assert_cmpstr (((EiderFileRecord *) g_ptr_array_index (files, 0))->path, ==, file);

  /* Still the same file the second time. */
  id = eider_store_note_file (fixture->store, watch->id, file, album, &stat, &changed, &error);
  g_assert_no_error (error);
  g_assert_false (changed);

  /* A nearby, differently encoded name is another file. */
  g_assert_null (eider_store_find_file (fixture->store, "/photos/caf\xc3\xa9/\xff\xfe photo.jpg"));
}

/* Two connections */

static void
test_two_connections (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderStore) reader = NULL;
  g_autoptr(EiderWatch) watch = add_watch (fixture->store, "/photos");
  g_autoptr(EiderFileRecord) record = NULL;
  g_autoptr(GPtrArray) watches = NULL;
  EiderStoreCounts counts;
  gint64 a;

  reader = eider_store_open (fixture->path, &error);
  g_assert_no_error (error);

  a = note (fixture->store, watch->id, "/photos/a.jpg", 10);
  record = eider_store_get_file (reader, a);
  g_assert_nonnull (record);
  g_clear_pointer (&record, eider_file_record_free);

  /* The daemon holds a write transaction: eiderctl reads anyway (the last
   * committed state) instead of waiting or failing. */
  g_assert_true (eider_store_begin (fixture->store, &error));
  note (fixture->store, watch->id, "/photos/b.jpg", 20);
  g_assert_true (eider_store_set_file_state (fixture->store, a, EIDER_FILE_WORKING, EIDER_REASON_NONE,
                                             NULL, &error));

  g_assert_true (eider_store_get_counts (reader, &counts, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (counts.n_by_state[EIDER_FILE_PENDING], ==, 1);
  g_assert_cmpuint (counts.n_by_state[EIDER_FILE_WORKING], ==, 0);
  g_assert_null (eider_store_find_file (reader, "/photos/b.jpg"));
  watches = eider_store_list_watches (reader, &error);
  g_assert_cmpuint (watches->len, ==, 1);

  g_assert_true (eider_store_commit (fixture->store, &error));
  g_assert_no_error (error);

  g_assert_true (eider_store_get_counts (reader, &counts, &error));
  g_assert_cmpuint (counts.n_by_state[EIDER_FILE_PENDING], ==, 1);
  g_assert_cmpuint (counts.n_by_state[EIDER_FILE_WORKING], ==, 1);
  g_assert_cmpint (counts.bytes_left, ==, 30);
  record = eider_store_find_file (reader, "/photos/b.jpg");
  g_assert_nonnull (record);

  /* The other one may write too (eiderctl retry). */
  g_assert_true (eider_store_set_meta (reader, "from-ctl", "1", &error));
  g_assert_no_error (error);
  {
    g_autofree char *value = eider_store_get_meta (fixture->store, "from-ctl");
    g_assert_cmpstr (value, ==, "1");
  }

  g_assert_finalize_object (g_steal_pointer (&reader));
}

/* A second writer waits for the first (busy timeout) instead of failing. */

typedef struct
{
  const char *path;
  gint64      waited_us;
  GError     *error;
} WriterData;

static gpointer
second_writer_worker (gpointer user_data)
{
  WriterData *data = user_data;
  g_autoptr(EiderStore) store = eider_store_open (data->path, &data->error);
  gint64 start;

  if (store == NULL)
    return NULL;

  start = g_get_monotonic_time ();
  eider_store_set_meta (store, "second", "written", &data->error);
  data->waited_us = g_get_monotonic_time () - start;

  return NULL;
}

static void
test_busy_writer (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderStore) opened = NULL;
  WriterData writer = { fixture->path, 0, NULL };
  GThread *thread;
  char *value;

  g_assert_true (eider_store_begin (fixture->store, &error));
  g_assert_true (eider_store_set_meta (fixture->store, "first", "written", &error));

  /* Opening while a write transaction is open works (no migration due). */
  opened = eider_store_open (fixture->path, &error);
  g_assert_no_error (error);
  g_assert_null (eider_store_get_meta (opened, "first"));

  thread = g_thread_new ("second-writer", second_writer_worker, &writer);
  g_usleep (300 * 1000);
  g_assert_true (eider_store_commit (fixture->store, &error));
  g_assert_no_error (error);
  g_thread_join (thread);

  g_assert_no_error (writer.error);
  g_assert_cmpint (writer.waited_us, >=, 150 * 1000);
  value = eider_store_get_meta (fixture->store, "second");
  g_assert_cmpstr (value, ==, "written");
  g_free (value);
  value = eider_store_get_meta (opened, "first");
  g_assert_cmpstr (value, ==, "written");
  g_free (value);
}

/* Removing a watch */

static void
test_remove_watch (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderWatch) watch = add_watch (fixture->store, "/photos");
  g_autoptr(EiderWatch) other = add_watch (fixture->store, "/other");
  g_autoptr(EiderUploadRecord) upload = NULL;
  g_autoptr(EiderCollectionRecord) collection = make_collection (10, "photos");
  g_autoptr(GPtrArray) files = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(EiderUploadRecord) kept = NULL;
  gint64 a, b, c;
  sqlite3 *db;

  a = note (fixture->store, watch->id, "/photos/a.jpg", 10);
  b = note (fixture->store, watch->id, "/photos/b.jpg", 20);
  c = note (fixture->store, other->id, "/other/c.jpg", 30);
  upload = make_upload (b);
  g_assert_true (eider_store_save_upload (fixture->store, upload, &error));
  upload->file_id = c;
  g_assert_true (eider_store_save_upload (fixture->store, upload, &error));
  start (fixture->store, a);
  g_assert_true (eider_store_set_file_uploaded (fixture->store, a, 100, 10, EIDER_REASON_NONE,
                                                NULL, &error));
  g_assert_true (eider_store_upsert_collection (fixture->store, collection, &error));
  g_assert_no_error (error);
  upsert_remote (fixture->store, 100, 10, "a.jpg", 0, "aGFzaA==");

  g_assert_true (eider_store_remove_watch (fixture->store, watch->id, &error));
  g_assert_no_error (error);

  g_assert_null (eider_store_find_watch (fixture->store, "/photos"));
  g_assert_null (eider_store_get_file (fixture->store, a));
  g_assert_null (eider_store_get_file (fixture->store, b));
  g_assert_null (eider_store_get_upload (fixture->store, b));
  files = eider_store_list_files (fixture->store, watch->id, &error);
  g_assert_cmpuint (files->len, ==, 0);

  db = raw_open (fixture->path);
  g_assert_cmpint (raw_int (db, "SELECT COUNT(*) FROM files"), ==, 1);
  g_assert_cmpint (raw_int (db, "SELECT COUNT(*) FROM uploads"), ==, 1);
  sqlite3_close (db);

  /* The other watch is untouched, and so is the remote index. */
  {
    g_autoptr(EiderFileRecord) left = eider_store_get_file (fixture->store, c);
    g_assert_nonnull (left);
  }
  kept = eider_store_get_upload (fixture->store, c);
  g_assert_nonnull (kept);
  found = eider_store_find_remote_files (fixture->store, "a.jpg", 0, "aGFzaA==", &error);
  g_assert_cmpuint (found->len, ==, 1);
  {
    g_autoptr(EiderCollectionRecord) still = eider_store_get_collection (fixture->store, 10);
    g_assert_nonnull (still);
  }
}

/* A folder's files by name prefix: the folder's own files only, in every
 * state, whatever bytes the names hold. */
static void
test_files_in_dir (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderWatch) watch = add_watch (fixture->store, "/p");
  g_autoptr(GPtrArray) found = NULL;
  const char *paths[] = {
    "/p/IMG_0001.HEIC", "/p/IMG_0001.MOV", "/p/IMG_0001_3.mov", "/p/IMG_00012.jpg",
    "/p/IMG_0001/inside.jpg", "/p/IMG_0002.jpg", "/p/IMG_000.jpg", "/p/img_0001.jpg",
    "/p/sub/IMG_0001.jpg", "/pX/IMG_0001.jpg", "/p/\xff\xfe.jpg", "/p/\xff\xff",
    "/p/\xff\xff.jpg", "/p/\xff\xff/deeper.jpg",
  };
  gint64 ids[G_N_ELEMENTS (paths)];

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    ids[i] = note (fixture->store, watch->id, paths[i], 1000 + i);
  start (fixture->store, ids[1]);
  g_assert_true (eider_store_set_file_uploaded (fixture->store, ids[1], 9001, 7, EIDER_REASON_NONE,
                                                NULL, &error));
  g_assert_true (eider_store_set_file_state (fixture->store, ids[2], EIDER_FILE_SKIPPED, EIDER_REASON_OTHER,
                                             "why",
                                             &error));
  g_assert_no_error (error);

  found = eider_store_list_files_in_dir (fixture->store, "/p", "IMG_0001", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 4);
  g_assert_cmpstr (((EiderFileRecord *) found->pdata[0])->path, ==, "/p/IMG_0001.HEIC");
  g_assert_cmpstr (((EiderFileRecord *) found->pdata[1])->path, ==, "/p/IMG_0001.MOV");
  g_assert_cmpint (((EiderFileRecord *) found->pdata[1])->state, ==, EIDER_FILE_UPLOADED);
  g_assert_cmpint (((EiderFileRecord *) found->pdata[1])->remote_file_id, ==, 9001);
  g_assert_cmpstr (((EiderFileRecord *) found->pdata[2])->path, ==, "/p/IMG_00012.jpg");
  g_assert_cmpstr (((EiderFileRecord *) found->pdata[3])->path, ==, "/p/IMG_0001_3.mov");
  g_assert_cmpint (((EiderFileRecord *) found->pdata[3])->state, ==, EIDER_FILE_SKIPPED);
  g_clear_pointer (&found, g_ptr_array_unref);

  /* A trailing slash on the folder is the same folder. */
  found = eider_store_list_files_in_dir (fixture->store, "/p/", "IMG_0001.", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 2);
  g_clear_pointer (&found, g_ptr_array_unref);

  /* Bytes, not characters: case counts, and prefixes ending in 0xff. */
  found = eider_store_list_files_in_dir (fixture->store, "/p", "\xff", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 3);
  g_assert_cmpstr (((EiderFileRecord *) found->pdata[0])->path, ==, "/p/\xff\xfe.jpg");
  g_assert_cmpstr (((EiderFileRecord *) found->pdata[1])->path, ==, "/p/\xff\xff");
  g_assert_cmpstr (((EiderFileRecord *) found->pdata[2])->path, ==, "/p/\xff\xff.jpg");
  g_clear_pointer (&found, g_ptr_array_unref);
  found = eider_store_list_files_in_dir (fixture->store, "/p", "\xff\xff", &error);
  g_assert_cmpuint (found->len, ==, 2);
  g_clear_pointer (&found, g_ptr_array_unref);

  /* An empty prefix: the whole folder, nothing below it. */
  found = eider_store_list_files_in_dir (fixture->store, "/p", "", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 10);
  for (guint i = 0; i < found->len; i++)
    g_assert_null (strchr (((EiderFileRecord *) found->pdata[i])->path + 3, '/'));
  g_clear_pointer (&found, g_ptr_array_unref);

  found = eider_store_list_files_in_dir (fixture->store, "/nowhere", "IMG", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 0);
}

/* The write counters: a transaction of 100 inserts is one, reads and
 * writes that change nothing are none. */
static void
test_write_counts (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderWatch) watch = add_watch (fixture->store, "/p");
  g_autoptr(GPtrArray) files = NULL;
  guint64 tx0, pages0, tx, pages;
  gboolean changed = TRUE;
  gint64 first = 0;

  eider_store_get_write_counts (fixture->store, &tx0, &pages0);
  g_assert_cmpuint (tx0, >=, 1);   /* the watch, at least */
  g_assert_cmpuint (pages0, >=, 1);

  files = eider_store_list_files (fixture->store, watch->id, &error);
  g_assert_no_error (error);
  eider_store_get_write_counts (fixture->store, &tx, &pages);
  g_assert_cmpuint (tx, ==, tx0);
  g_assert_cmpuint (pages, ==, pages0);

  g_assert_true (eider_store_begin (fixture->store, &error));
  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *path = g_strdup_printf ("/p/IMG_%04u.jpg", i);
      EiderStat stat = { 1, 1000 + i, 200, 1700000000000000000 + i, 1700000000000000000 + i };
      gint64 id = eider_store_note_file (fixture->store, watch->id, path, "p", &stat, &changed, &error);

      g_assert_no_error (error);
      g_assert_true (changed);
      if (first == 0)
        first = id;
    }
  g_assert_true (eider_store_commit (fixture->store, &error));
  eider_store_get_write_counts (fixture->store, &tx, &pages);
  g_assert_cmpuint (tx, ==, tx0 + 1);
  /* A few pages of the table and of each index, not one per row. */
  g_assert_cmpuint (pages, >, pages0);
  g_assert_cmpuint (pages, <=, pages0 + 40);
  tx0 = tx;
  pages0 = pages;

  /* Noting a file whose stat is unchanged writes nothing. */
  {
    EiderStat stat = { 1, 1000, 200, 1700000000000000000, 1700000000000000000 };

    g_assert_cmpint (eider_store_note_file (fixture->store, watch->id, "/p/IMG_0000.jpg", "p", &stat,
                                            &changed, &error), ==, first);
    g_assert_no_error (error);
    g_assert_false (changed);
  }
  /* Nor does a refused change. */
  g_assert_false (eider_store_set_file_uploaded (fixture->store, first, 5, 6, EIDER_REASON_NONE, NULL,
                                                 &error));
  g_assert_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_INVALID_TRANSITION);
  g_clear_error (&error);
  eider_store_get_write_counts (fixture->store, &tx, &pages);
  g_assert_cmpuint (tx, ==, tx0);
  g_assert_cmpuint (pages, ==, pages0);

  /* One statement on its own is one transaction. */
  g_assert_true (eider_store_set_file_hash (fixture->store, first, "aGFzaA==", 0, &error));
  g_assert_no_error (error);
  eider_store_get_write_counts (fixture->store, &tx, &pages);
  g_assert_cmpuint (tx, ==, tx0 + 1);
  g_assert_cmpuint (pages, >, pages0);
}

/* The store's counts equal what the table holds, read afresh by another
 * connection, whatever changed them: inserts, state and size changes, a
 * rollback, another connection's commit, a removed watch's files. */
static void
assert_counts_match (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  EiderStoreCounts counts;
  sqlite3 *db = raw_open (fixture->path);
  gint64 bytes_left;

  g_assert_true (eider_store_get_counts (fixture->store, &counts, &error));
  g_assert_no_error (error);
  for (EiderFileState s = EIDER_FILE_PENDING; s <= EIDER_FILE_FAILED; s++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT COUNT(*) FROM files WHERE state = %d", s);

      g_assert_cmpint (counts.n_by_state[s], ==, raw_int (db, sql));
    }
  bytes_left = raw_int (db, "SELECT TOTAL(size) FROM files WHERE state IN (0, 1, 4)");
  g_assert_cmpint (counts.bytes_left, ==, bytes_left);
  sqlite3_close (db);
}

static void
test_counts_follow (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderWatch) watch = add_watch (fixture->store, "/p");
  EiderStoreCounts counts;
  gint64 ids[10];
  sqlite3 *db;

  assert_counts_match (fixture);
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      g_autofree char *path = g_strdup_printf ("/p/%u.jpg", i);

      ids[i] = note (fixture->store, watch->id, path, 100 * (i + 1));
    }
  assert_counts_match (fixture);

  start (fixture->store, ids[0]);
  g_assert_true (eider_store_set_file_uploaded (fixture->store, ids[0], 7, 8, EIDER_REASON_NONE, NULL, &error));
  start (fixture->store, ids[1]);
  g_assert_true (eider_store_set_file_failed (fixture->store, ids[1], EIDER_REASON_OTHER, "x", 0, &error));
  g_assert_true (eider_store_set_file_state (fixture->store, ids[2], EIDER_FILE_SKIPPED, EIDER_REASON_EMPTY,
                                             NULL, &error));
  start (fixture->store, ids[3]);
  g_assert_no_error (error);
  assert_counts_match (fixture);
  g_assert_true (eider_store_get_counts (fixture->store, &counts, &error));
  g_assert_cmpuint (counts.n_by_state[EIDER_FILE_PENDING], ==, 6);
  g_assert_cmpuint (counts.n_by_state[EIDER_FILE_UPLOADED], ==, 1);
  g_assert_cmpint (counts.bytes_left, ==, 5500 - 100 - 300);

  /* New content: a new size, pending again. */
  {
    EiderStat stat = { 1, 2, 12345, 3, 4 };
    gboolean changed = FALSE;

    eider_store_note_file (fixture->store, watch->id, "/p/0.jpg", NULL, &stat, &changed, &error);
    g_assert_no_error (error);
    g_assert_true (changed);
  }
  assert_counts_match (fixture);

  /* A transaction rolled back leaves the counts as they were. */
  g_assert_true (eider_store_begin (fixture->store, &error));
  note (fixture->store, watch->id, "/p/rolled-back.jpg", 999);
  g_assert_true (eider_store_delete_file (fixture->store, ids[4], &error));
  eider_store_rollback (fixture->store);
  assert_counts_match (fixture);

  /* Grouped writes count as soon as they are made, and after a rollback
   * inside the group. */
  eider_store_set_commit_delay (fixture->store, 60000);
  g_assert_true (eider_store_delete_file (fixture->store, ids[5], &error));
  g_assert_true (eider_store_get_counts (fixture->store, &counts, &error));
  g_assert_cmpuint (counts.n_by_state[EIDER_FILE_PENDING], ==, 6);
  g_assert_true (eider_store_begin (fixture->store, &error));
  g_assert_true (eider_store_delete_file (fixture->store, ids[6], &error));
  eider_store_rollback (fixture->store);
  g_assert_true (eider_store_get_counts (fixture->store, &counts, &error));
  g_assert_cmpuint (counts.n_by_state[EIDER_FILE_PENDING], ==, 6);
  g_assert_true (eider_store_flush (fixture->store, &error));
  eider_store_set_commit_delay (fixture->store, 0);
  assert_counts_match (fixture);

  /* Another connection's commit. */
  db = raw_open (fixture->path);
  raw_exec (db, "UPDATE files SET state = 3 WHERE path = CAST('/p/7.jpg' AS BLOB)");
  sqlite3_close (db);
  assert_counts_match (fixture);

  /* A removed watch's files go by ON DELETE CASCADE. */
  g_assert_true (eider_store_remove_watch (fixture->store, watch->id, &error));
  g_assert_no_error (error);
  assert_counts_match (fixture);
  g_assert_true (eider_store_get_counts (fixture->store, &counts, &error));
  for (EiderFileState s = EIDER_FILE_PENDING; s <= EIDER_FILE_FAILED; s++)
    g_assert_cmpuint (counts.n_by_state[s], ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  /* No G_TEST_OPTION_ISOLATE_DIRS: the store uses no XDG folder (every
   * test opens its own temporary folder), and GLib 2.74 leaks the
   * per-test folder strings it sets, which LeakSanitizer reports. */
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) \
  g_test_add ("/store/" name, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("open-schema", test_open_schema);
  ADD ("reopen-keeps-data", test_reopen_keeps_data);
  ADD ("migrate-reasons", test_migrate_reasons);
  ADD ("too-new", test_too_new);
  ADD ("not-a-database", test_not_a_database);
  g_test_add_func ("/store/state-strings", test_state_strings);
  ADD ("meta", test_meta);
  ADD ("watches", test_watches);
  ADD ("note-file", test_note_file);
  ADD ("file-states", test_file_states);
  ADD ("transitions", test_transitions);
  ADD ("due-files", test_due_files);
  ADD ("uploads", test_uploads);
  ADD ("upload-progress-grouped", test_upload_progress_grouped);
  ADD ("etags-grow", test_etags_grow);
  ADD ("uploading-files", test_uploading_files);
  ADD ("transactions", test_transactions);
  ADD ("collections", test_collections);
  ADD ("remote-dedupe", test_remote_dedupe);
  ADD ("non-utf8", test_non_utf8);
  ADD ("two-connections", test_two_connections);
  ADD ("busy-writer", test_busy_writer);
  ADD ("remove-watch", test_remove_watch);
  ADD ("files-in-dir", test_files_in_dir);
  ADD ("write-counts", test_write_counts);
  ADD ("counts-follow", test_counts_follow);

#undef ADD

  return g_test_run ();
}
