/* test-backup.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The backup core end to end, through eiderctl, against a real
 * eider-test-server: every file in the right album exactly once, bytes
 * that decrypt to the originals, a second run that reads nothing, a
 * kill -9 in the middle of a multipart upload, faults, and a full account.
 * What is in Ente is checked independently: a fresh remote index is pulled
 * and every file is downloaded and decrypted.
 */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <libsoup/soup.h>
#include <sqlite3.h>

#include "eider-account.h"
#include "eider-engine.h"
#include "eider-remote.h"
#include "eider-signup.h"
#include "eider-store.h"
#include "eider-test-fixture.h"

#define MiB TEST_MiB

/* What is in Ente, seen from the outside: a fresh index pulled from the
 * server into a throwaway store. */
typedef struct
{
  EiderAccount *account;
  EiderStore   *store;
  EiderRemote  *remote;
  char         *dir;
} RemoteView;

static void
remote_view_free (RemoteView *view)
{
  g_clear_object (&view->remote);
  g_clear_object (&view->store);
  g_clear_object (&view->account);
  test_rm_rf (view->dir);
  g_free (view->dir);
  g_free (view);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RemoteView, remote_view_free)

static RemoteView *
remote_view_new (TestFixture *fx)
{
  RemoteView *view = g_new0 (RemoteView, 1);
  g_autofree char *db = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  view->dir = test_make_tmpdir ("eider-view-XXXXXX");
  db = g_build_filename (view->dir, "view.db", NULL);
  view->account = eider_account_new (fx->config);
  g_assert_true (eider_account_load (view->account, &error));
  g_assert_cmpint (eider_account_get_state (view->account), ==, EIDER_ACCOUNT_STATE_LOGGED_IN);
  view->store = eider_store_open (db, &error);
  g_assert_no_error (error);
  view->remote = eider_remote_new (view->account, view->store);

  eider_remote_sync_async (view->remote, NULL, test_result_cb, &result);
  g_assert_true (eider_remote_sync_finish (view->remote, test_wait (&result), &error));
  g_assert_no_error (error);

  return view;
}

static EiderCollectionRecord *
find_album (RemoteView *view,
            const char *name)
{
  g_autoptr(GPtrArray) collections = eider_store_list_collections (view->store, NULL);
  EiderCollectionRecord *found = NULL;

  for (guint i = 0; i < collections->len; i++)
    {
      EiderCollectionRecord *c = g_ptr_array_index (collections, i);

      if (!c->is_deleted && g_strcmp0 (c->name, name) == 0)
        {
          g_assert_null (found);   /* one album per name */
          found = c;
        }
    }

  return found != NULL ? eider_store_get_collection (view->store, found->id) : NULL;
}

static GBytes *
download (TestFixture *fx,
          gint64   file_id)
{
  g_autoptr(EiderAccount) account = eider_account_new (fx->config);
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  GBytes *body;

  g_assert_true (eider_account_load (account, &error));
  url = g_strdup_printf ("%s/files/download/%" G_GINT64_FORMAT, fx->server->url, file_id);
  msg = soup_message_new ("GET", url);
  {
    /* The token is what the account's API sends; ask it for a header. */
    g_autoptr(EiderSecretStore) store = NULL;
    g_autoptr(EiderSecret) master = NULL;
    g_autoptr(EiderSecret) token = NULL;
    g_autofree char *secrets = g_build_filename (fx->config, "secrets.json", NULL);

    store = eider_secret_store_new (EIDER_SECRET_BACKEND_FILE, secrets);
    g_assert_true (eider_secret_store_load (store, fx->server->url, fx->email, &master, &token, &error));
    soup_message_headers_replace (soup_message_get_request_headers (msg), "X-Auth-Token",
                                  (const char *) eider_secret_peek (token));
  }
  body = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);

  return body;
}

/* Downloads a remote entry and decrypts it to the plaintext. */
static GBytes *
fetch_plain (TestFixture               *fx,
             RemoteView            *view,
             EiderRemoteFileRecord *file)
{
  g_autoptr(GBytes) encrypted = download (fx, file->id);
  g_autoptr(EiderSecret) collection_key = NULL;
  g_autoptr(EiderSecret) file_key = NULL;
  g_autoptr(GInputStream) in = NULL;
  g_autoptr(GOutputStream) out = NULL;
  g_autoptr(GError) error = NULL;
  guint8 header[EIDER_STREAM_HEADER_BYTES];

  collection_key = eider_remote_get_collection_key (view->remote, file->collection_id, &error);
  g_assert_no_error (error);
  file_key = eider_crypto_unwrap_key (file->encrypted_key, file->key_nonce, collection_key, &error);
  g_assert_no_error (error);
  g_assert_true (eider_base64_decode_exact (file->file_header, header, sizeof header, &error));

  in = g_memory_input_stream_new_from_bytes (encrypted);
  out = g_memory_output_stream_new_resizable ();
  g_assert_true (eider_crypto_decrypt_stream (in, out, file_key, header,
                                              g_bytes_get_size (encrypted), NULL, &error));
  g_assert_no_error (error);
  g_output_stream_close (out, NULL, NULL);

  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

/* The file at @rel is in album @album exactly once, under its name, and
 * decrypts to the same bytes. */
static void
assert_backed_up (TestFixture    *fx,
                  RemoteView *view,
                  const char *rel,
                  const char *album)
{
  g_autofree char *path = g_build_filename (fx->tree, rel, NULL);
  g_autofree char *title = g_filename_display_basename (path);
  g_autoptr(EiderCollectionRecord) collection = find_album (view, album);
  g_autoptr(GPtrArray) matches = NULL;
  g_autoptr(GBytes) plain = NULL;
  g_autoptr(GMappedFile) local = NULL;
  g_autofree char *hash = NULL;
  EiderRemoteFileRecord *in_album = NULL;

  g_assert_nonnull (collection);

  local = g_mapped_file_new (path, FALSE, NULL);
  g_assert_nonnull (local);
  hash = eider_hash_data_base64 ((const guint8 *) g_mapped_file_get_contents (local),
                                 g_mapped_file_get_length (local));

  matches = eider_remote_find_duplicates (view->remote, title,
                                          g_str_has_suffix (rel, ".mp4") ? 1 : 0, hash);
  for (guint i = 0; i < matches->len; i++)
    {
      EiderRemoteFileRecord *m = g_ptr_array_index (matches, i);

      if (m->collection_id == collection->id)
        {
          if (in_album != NULL)
            g_error ("%s is in album %s more than once", rel, album);
          in_album = m;
        }
    }

  if (in_album == NULL)
    g_error ("%s is not in album %s (%u entries elsewhere)", rel, album, matches->len);

  plain = fetch_plain (fx, view, in_album);
  g_assert_cmpuint (g_bytes_get_size (plain), ==, g_mapped_file_get_length (local));
  g_assert_true (memcmp (g_bytes_get_data (plain, NULL), g_mapped_file_get_contents (local),
                         g_bytes_get_size (plain)) == 0);
}

static guint
count_in_album (RemoteView *view,
                const char *album)
{
  g_autoptr(EiderCollectionRecord) collection = find_album (view, album);

  g_assert_nonnull (collection);

  /* Straight from the index's table: the store has no call for this. */
  {
    g_autofree char *db = g_build_filename (view->dir, "view.db", NULL);
    sqlite3 *conn = NULL;
    sqlite3_stmt *stmt = NULL;
    guint n;

    g_assert_cmpint (sqlite3_open_v2 (db, &conn, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_prepare_v2 (conn, "SELECT COUNT(*) FROM remote_files WHERE collection_id = ?",
                                         -1, &stmt, NULL), ==, SQLITE_OK);
    sqlite3_bind_int64 (stmt, 1, collection->id);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    n = sqlite3_column_int (stmt, 0);
    sqlite3_finalize (stmt);
    sqlite3_close (conn);

    return n;
  }
}

/* The generated tree of the issue. */
static void
make_tree (TestFixture *fx)
{
  g_autofree char *fifo = g_build_filename (fx->tree, "Other", "pipe.jpg", NULL);
  g_autofree char *latin1 = g_build_filename (fx->tree, "2024", "caf\xe9.jpg", NULL);
  g_autofree char *same_a = NULL;
  g_autofree char *same_b = NULL;
  g_autofree char *dup = NULL;
  g_autofree char *dup2 = NULL;
  g_autofree char *contents = NULL;
  gsize len;

  test_write_photo (fx->tree, "top.jpg", 320, 200);
  test_write_photo (fx->tree, "2024/Trip/a.jpg", 1600, 1200);
  test_write_photo (fx->tree, "2024/b.jpg", 200, 300);
  test_write_photo (fx->tree, "2024/Trip/same.jpg", 100, 100);
  test_write_photo (fx->tree, "Other/dup1.jpg", 150, 150);
  test_write_photo (fx->tree, "Other/Beach day 🌊.jpg", 64, 64);
  test_write_video (fx->tree, "2024/Trip/clip.mp4", 3 * MiB + 5);

  /* identical file in two folders */
  same_a = g_build_filename (fx->tree, "2024", "Trip", "same.jpg", NULL);
  same_b = g_build_filename (fx->tree, "Other", "same.jpg", NULL);
  g_assert_true (g_file_get_contents (same_a, &contents, &len, NULL));
  test_write_bytes (same_b, (const guint8 *) contents, len);
  g_clear_pointer (&contents, g_free);

  /* the same file twice in one folder, under two names */
  dup = g_build_filename (fx->tree, "Other", "dup1.jpg", NULL);
  dup2 = g_build_filename (fx->tree, "Other", "dup2.jpg", NULL);
  g_assert_true (g_file_get_contents (dup, &contents, &len, NULL));
  test_write_bytes (dup2, (const guint8 *) contents, len);

  test_write_bytes (latin1, (const guint8 *) "\xff\xd8\xff\xe0 tiny", 9);
  test_write_text (fx->tree, "empty.jpg", "", 0);
  test_write_text (fx->tree, ".hidden.jpg", "\xff\xd8\xff", 3);
  test_write_text (fx->tree, "notes.txt", "text", 4);
  test_write_text (fx->tree, "fake.jpg", "just some text\n", 15);
  g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
}

static void
test_backup_tree (void)
{
  TestFixture fx = { 0 };
  g_autoptr(RemoteView) view = NULL;
  g_autofree char *out = NULL;
  g_autofree char *strace_log = NULL;
  g_autofree char *trace = NULL;
  g_autofree char *tree_root = NULL;
  g_autofree char *root_album = NULL;
  int rc;

  test_fixture_set_up (&fx, NULL);
  make_tree (&fx);
  root_album = g_filename_display_basename (fx.tree);

  rc = test_eiderctl (&fx, NULL, &out, "watch", "add", fx.tree, "--album-per-folder", NULL);
  g_assert_cmpint (rc, ==, 0);

  g_clear_pointer (&out, g_free);
  rc = test_eiderctl (&fx, NULL, &out, "backup", "--once", NULL);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, "skipped\t"));
  g_assert_nonnull (strstr (out, "empty file"));
  g_assert_nonnull (strstr (out, "not a photo or video"));
  g_assert_nonnull (strstr (out, "not a regular file (a pipe)"));
  g_assert_null (strstr (out, ".hidden.jpg"));

  /* failures says the same, from the reason codes stored. */
  g_clear_pointer (&out, g_free);
  rc = test_eiderctl (&fx, NULL, &out, "failures", "--skipped", NULL);
  g_assert_cmpint (rc, ==, 0);
  {
    const char *lines[] = {
      "empty.jpg\tempty file\n",
      "notes.txt\tnot a photo or video\n",   /* by its name, in the scan */
      "fake.jpg\tnot a photo or video\n",    /* by its content, in its job */
      "Other/pipe.jpg\tnot a regular file (a pipe)\n",
    };

    for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
      {
        g_autofree char *line = g_strdup_printf ("skipped\t%s/%s", fx.tree, lines[i]);

        g_assert_nonnull (strstr (out, line));
      }
  }

  view = remote_view_new (&fx);
  assert_backed_up (&fx, view, "top.jpg", root_album);
  assert_backed_up (&fx, view, "2024/Trip/a.jpg", "Trip");
  assert_backed_up (&fx, view, "2024/Trip/clip.mp4", "Trip");
  assert_backed_up (&fx, view, "2024/Trip/same.jpg", "Trip");
  assert_backed_up (&fx, view, "2024/b.jpg", "2024");
  assert_backed_up (&fx, view, "2024/caf\xe9.jpg", "2024");
  assert_backed_up (&fx, view, "Other/same.jpg", "Other");
  assert_backed_up (&fx, view, "Other/dup1.jpg", "Other");
  assert_backed_up (&fx, view, "Other/dup2.jpg", "Other");
  assert_backed_up (&fx, view, "Other/Beach day 🌊.jpg", "Other");
  g_assert_cmpuint (count_in_album (view, root_album), ==, 1);
  g_assert_cmpuint (count_in_album (view, "Trip"), ==, 3);
  g_assert_cmpuint (count_in_album (view, "2024"), ==, 2);
  g_assert_cmpuint (count_in_album (view, "Other"), ==, 4);

  /* The same bytes in Trip and Other are one Ente file in two albums: the
   * second was linked with add-files, not uploaded again. */
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request POST /files 200"), ==, 9);

  /* A second run uploads nothing and opens no file of the tree (only its
   * folders, to list them). */
  strace_log = g_build_filename (fx.home, "strace.log", NULL);
  g_clear_pointer (&out, g_free);
  rc = test_eiderctl (&fx, (const char *[]) { "strace", "-f", "-qq", "-e", "trace=open,openat",
                                         "-o", strace_log, NULL },
                 &out, "backup", "--once", NULL);
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, "0 uploaded, 0 skipped, 0 failed"));
  g_assert_true (g_file_get_contents (strace_log, &trace, NULL, NULL));
  {
    g_auto(GStrv) lines = g_strsplit (trace, "\n", -1);

    tree_root = g_strconcat ("\"", fx.tree, "/", NULL);
    for (guint i = 0; lines[i] != NULL; i++)
      if (strstr (lines[i], tree_root) != NULL && strstr (lines[i], "O_DIRECTORY") == NULL)
        g_error ("The second run opened a file: %s", lines[i]);
  }
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request POST /files 200"), ==, 9);

  test_fixture_tear_down (&fx);
}

/* kill -9 in the middle of a 100 MiB multipart upload, then a restart:
 * acknowledged parts are not sent again, and there is one file record. */
static void
test_backup_kill_resume (void)
{
  TestFixture fx = { 0 };
  g_autoptr(RemoteView) view = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GPtrArray) acked = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *object_path = NULL;
  int rc;

  test_fixture_set_up (&fx, NULL);
  test_write_video (fx.tree, "big.mp4", 100 * MiB + 7);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, NULL), ==, 0);

  proc = test_eiderctl_spawn (&fx, NULL, (const char *[]) { "backup", "--once", NULL });

  /* Wait until at least one part is acknowledged. While it runs it holds
   * the state directory: a daemon refuses to start beside it (it is held
   * still meanwhile, so that it cannot finish). Then kill it hard. */
  test_wait_acknowledged_part (&fx, 60);
  kill (atoi (g_subprocess_get_identifier (proc)), SIGSTOP);
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "daemon", NULL), ==, 1);
  {
    g_autofree char *expected = g_strdup_printf ("Another Eider (pid %s) is already running",
                                                 g_subprocess_get_identifier (proc));

    g_assert_nonnull (strstr (out, expected));
    g_clear_pointer (&out, g_free);
  }
  kill (atoi (g_subprocess_get_identifier (proc)), SIGKILL);
  g_subprocess_wait (proc, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_signaled (proc));

  /* What the dead process had recorded as acknowledged. */
  acked = test_acknowledged_parts (&fx);
  g_assert_cmpuint (acked->len, >=, 1);
  g_assert_cmpuint (acked->len, <, 5);

  rc = test_eiderctl (&fx, NULL, &out, "backup", "--once", NULL);
  g_assert_cmpint (rc, ==, 0);

  /* Every part that was acknowledged before the kill went over the wire
   * exactly once. */
  test_assert_parts_sent_once (&fx, acked);

  view = remote_view_new (&fx);
  {
    g_autofree char *album = g_filename_display_basename (fx.tree);

    assert_backed_up (&fx, view, "big.mp4", album);
    g_assert_cmpuint (count_in_album (view, album), ==, 1);
  }

  test_fixture_tear_down (&fx);
}

/* A one-time backup keeps to the bandwidth cap: 4 MiB at 1 MiB/s cannot
 * take less than 3.75 s (the bucket holds a quarter second). */
static void
test_backup_once_bandwidth (void)
{
  TestFixture fx = { 0 };
  g_autofree char *out = NULL;
  gint64 start, took;

  test_fixture_set_up (&fx, NULL);
  g_setenv ("GSETTINGS_BACKEND", "keyfile", TRUE);
  test_write_video (fx.tree, "clip.mp4", 4 * MiB);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, NULL), ==, 0);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "config", "set", "bandwidth-limit", "1024", NULL), ==, 0);

  start = g_get_monotonic_time ();
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "backup", "--once", NULL), ==, 0);
  took = g_get_monotonic_time () - start;
  g_test_message ("4 MiB at 1 MiB/s: %.2f s", took / (double) G_USEC_PER_SEC);
  g_assert_cmpint (took, >=, 3750 * G_TIME_SPAN_MILLISECOND);
  g_assert_nonnull (strstr (out, "1 uploaded, 0 skipped, 0 failed."));

  g_unsetenv ("GSETTINGS_BACKEND");
  test_fixture_tear_down (&fx);
}

static gint64
stats_member (const char *path,
              const char *name)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *obj;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  obj = json_node_get_object (json_parser_get_root (parser));
  g_assert_true (json_object_has_member (obj, name));
  return json_object_get_int_member (obj, name);
}

/* Connections are kept alive and reused: N files (three requests each,
 * the thumbnail's beside the file's, and the URL pool's few) go over a
 * handful of connections, not one or more per request. One file at a time, so the bound does not depend
 * on how many run at once. */
static void
test_backup_connections_reused (void)
{
  TestFixture fx = { 0 };
  g_autofree char *out = NULL;
  g_autofree char *stats = NULL;
  const guint n_files = 20;
  gint64 requests, connections;

  test_fixture_set_up (&fx, NULL);
  for (guint i = 0; i < n_files; i++)
    {
      g_autofree char *rel = g_strdup_printf ("photo-%u.jpg", i);

      test_write_photo (fx.tree, rel, 160 + i, 120 + i);
    }
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, NULL), ==, 0);

  /* Count the backup's traffic alone: a server of its own on the same data. */
  stats = g_build_filename (fx.config, "server-stats.json", NULL);
  {
    const char *args[] = { "--stats-file", stats, NULL };

    test_server_restart (fx.server, args);
  }
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "backup", "--once", "--jobs", "1", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "20 uploaded, 0 skipped, 0 failed."));
  test_server_restart (fx.server, NULL);   /* writes the stats */

  requests = stats_member (stats, "requests");
  connections = stats_member (stats, "connections");
  g_test_message ("%u files: %" G_GINT64_FORMAT " requests over %" G_GINT64_FORMAT " connections",
                  n_files, requests, connections);
  g_assert_cmpint (requests, >=, 3 * n_files);
  g_assert_cmpint (connections, >=, 1);
  g_assert_cmpint (connections, <=, 4);

  test_fixture_tear_down (&fx);
}

/* Against museum's limit on upload-URL calls (500 a minute per user;
 * here 4), many small files still go up without one refusal: their URLs
 * come from the pool, a few calls for all of them, and every PUT still
 * carries its Content-MD5. */
static void
test_backup_upload_url_limit (void)
{
  TestFixture fx = { 0 };
  g_autofree char *out = NULL;
  const guint n_files = 40;

  test_fixture_set_up (&fx, (const char *[]) { "--upload-url-limit", "4", NULL });
  for (guint i = 0; i < n_files; i++)
    {
      g_autofree char *rel = g_strdup_printf ("photo-%u.jpg", i);

      test_write_photo (fx.tree, rel, 96 + i, 64 + i);
    }
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, NULL), ==, 0);
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "backup", "--once", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "40 uploaded, 0 skipped, 0 failed."));

  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request * 429"), ==, 0);
  /* 80 objects: two calls of 50 URLs each. */
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request GET /files/upload-urls 200"), ==, 2);
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request POST /files/upload-url *"), ==, 0);
  /* Two objects a file (the file and its thumbnail), each with its MD5. */
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request PUT /s3/* 200"), ==, 2 * n_files);
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request POST /files 200"), ==, n_files);

  test_fixture_tear_down (&fx);
}

/* With a fifth of the requests failing, everything still arrives once. */
static void
test_backup_faults (void)
{
  TestFixture fx = { 0 };
  g_autoptr(RemoteView) view = NULL;
  g_autofree char *out = NULL;
  g_autofree char *album = NULL;
  int rc;

  test_fixture_set_up (&fx, NULL);
  for (guint i = 0; i < 8; i++)
    {
      g_autofree char *rel = g_strdup_printf ("photo-%u.jpg", i);

      test_write_photo (fx.tree, rel, 200 + i, 100 + i);
    }
  test_write_video (fx.tree, "clip.mp4", 22 * MiB);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, NULL), ==, 0);

  test_server_restart (fx.server, (const char *[]) { "--fault-rate", "0.2", "--fault-seed", "7", NULL });
  rc = test_eiderctl (&fx, NULL, &out, "backup", "--once", NULL);
  if (rc != 0)
    {
      /* Faults can outlast one run's retries; the next run finishes it. */
      g_clear_pointer (&out, g_free);
      rc = test_eiderctl (&fx, NULL, &out, "backup", "--once", NULL);
    }
  g_assert_cmpint (rc, ==, 0);

  test_server_restart (fx.server, NULL);
  view = remote_view_new (&fx);
  album = g_filename_display_basename (fx.tree);
  for (guint i = 0; i < 8; i++)
    {
      g_autofree char *rel = g_strdup_printf ("photo-%u.jpg", i);

      assert_backed_up (&fx, view, rel, album);
    }
  assert_backed_up (&fx, view, "clip.mp4", album);
  g_assert_cmpuint (count_in_album (view, album), ==, 9);

  test_fixture_tear_down (&fx);
}

/* The five folders (five albums) of the dedupe tests, each holding the same
 * file under the same name. */
static const char * const copy_folders[] = { "A", "B", "C", "D", "E", NULL };
#define N_COPIES (G_N_ELEMENTS (copy_folders) - 1)

/* The copies went up once: one POST /files, and that one Ente file is in
 * every folder's album, once (the others are links). */
static void
assert_sent_once (TestFixture *fx,
                  const char  *label,
                  const char  *name,
                  gint         file_type,
                  const char  *hash)
{
  g_autoptr(RemoteView) view = NULL;
  g_autoptr(GPtrArray) copies = NULL;
  guint posts = test_server_count_log_lines (fx->server, "request POST /files 200");

  if (posts != 1)
    g_error ("%s: the file was uploaded %u times", label, posts);

  view = remote_view_new (fx);
  copies = eider_remote_find_duplicates (view->remote, name, file_type, hash);
  g_assert_cmpuint (copies->len, ==, N_COPIES);
  for (guint i = 0; i < copies->len; i++)
    g_assert_cmpint (((EiderRemoteFileRecord *) g_ptr_array_index (copies, i))->id, ==,
                     ((EiderRemoteFileRecord *) g_ptr_array_index (copies, 0))->id);
  for (guint i = 0; copy_folders[i] != NULL; i++)
    {
      g_autofree char *rel = g_build_filename (copy_folders[i], name, NULL);

      assert_backed_up (fx, view, rel, copy_folders[i]);
      g_assert_cmpuint (count_in_album (view, copy_folders[i]), ==, 1);
    }
}

/* One photo in five watched folders (five albums), with a tenth of the
 * requests failing: Ente's dedupe holds whatever fails and is retried —
 * the bytes go up once, and the four other albums get that same file by
 * add-files. Several seeds, each on a fresh server and state. */
static void
test_backup_dedupe_faults (void)
{
  static const char * const seeds[] = { "1", "2", "3", "4", "5" };

  for (guint s = 0; s < G_N_ELEMENTS (seeds); s++)
    {
      TestFixture fx = { 0 };
      g_autofree char *hash = NULL;
      g_autofree char *label = g_strdup_printf ("seed %s", seeds[s]);
      int rc = -1;

      test_fixture_set_up (&fx, NULL);
      test_write_photo (fx.tree, "A/same.jpg", 300, 200);
      hash = test_watch_copies (&fx, copy_folders, "same.jpg");

      test_server_restart (fx.server, (const char *[]) { "--fault-rate", "0.1",
                                                          "--fault-seed", seeds[s], NULL });
      /* Faults can outlast one run's retries; the next run finishes it. */
      for (guint run = 0; run < 4 && rc != 0; run++)
        rc = test_eiderctl (&fx, NULL, NULL, "backup", "--once", NULL);
      g_assert_cmpint (rc, ==, 0);
      test_server_restart (fx.server, NULL);

      assert_sent_once (&fx, label, "same.jpg", 0, hash);
      test_fixture_tear_down (&fx);
    }
}

/* The same video in five folders, and a kill -9 while the first copy's
 * parts are going up: the next run finishes that upload and links the
 * other copies — it does not send the bytes again from another copy while
 * the interrupted upload resumes. */
static void
test_backup_dedupe_kill (void)
{
  TestFixture fx = { 0 };
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *hash = NULL;

  test_fixture_set_up (&fx, NULL);
  hash = test_watch_slow_copies (&fx, copy_folders);

  proc = test_eiderctl_spawn (&fx, NULL, (const char *[]) { "backup", "--once", NULL });
  test_wait_acknowledged_part (&fx, 60);
  kill (atoi (g_subprocess_get_identifier (proc)), SIGKILL);
  g_subprocess_wait (proc, NULL, &error);
  g_assert_no_error (error);

  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "backup", "--once", NULL), ==, 0);
  assert_sent_once (&fx, "after the kill", "same.mp4", 1, hash);

  g_unsetenv ("GSETTINGS_BACKEND");
  test_fixture_tear_down (&fx);
}

/* A full account pauses the backup with a clear reason; more space, and
 * the next run finishes. */
static void
test_backup_quota (void)
{
  TestFixture fx = { 0 };
  g_autoptr(RemoteView) view = NULL;
  g_autofree char *out = NULL;
  g_autofree char *status = NULL;
  g_autofree char *album = NULL;
  int rc;

  /* Museum allows 50 MiB over the plan: a 1 MiB plan fills at ~51 MiB. */
  test_fixture_set_up (&fx, (const char *[]) { "--quota", "1048576", NULL });
  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *rel = g_strdup_printf ("clip-%u.mp4", i);

      test_write_video (fx.tree, rel, 20 * MiB);
    }
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, NULL), ==, 0);

  rc = test_eiderctl (&fx, NULL, &out, "backup", "--once", "--jobs", "1", NULL);
  g_assert_cmpint (rc, ==, 1);
  g_assert_nonnull (strstr (out, "storage is full"));

  rc = test_eiderctl (&fx, NULL, &status, "status", "--json", NULL);
  g_assert_cmpint (rc, ==, 0);
  g_assert_null (strstr (status, "\"pending\" : 0,"));

  test_server_restart (fx.server, (const char *[]) { "--quota", "10737418240", NULL });
  g_clear_pointer (&out, g_free);
  rc = test_eiderctl (&fx, NULL, &out, "backup", "--once", NULL);
  g_assert_cmpint (rc, ==, 0);

  view = remote_view_new (&fx);
  album = g_filename_display_basename (fx.tree);
  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *rel = g_strdup_printf ("clip-%u.mp4", i);

      assert_backed_up (&fx, view, rel, album);
    }
  g_assert_cmpuint (count_in_album (view, album), ==, 4);

  test_fixture_tear_down (&fx);
}

static guint
count_state (EiderStore     *store,
             EiderFileState  state)
{
  EiderStoreCounts counts = { { 0 } };

  g_assert_true (eider_store_get_counts (store, &counts, NULL));

  return counts.n_by_state[state];
}

/* Runs the main loop until @n files are uploaded, or fails after 60 s. */
static void
wait_uploaded (EiderStore *store,
               guint       n)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  while (count_state (store, EIDER_FILE_UPLOADED) < n)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("waited for %u uploaded files: %u uploaded, %u pending, %u working, %u failed, %u skipped",
                 n, count_state (store, EIDER_FILE_UPLOADED), count_state (store, EIDER_FILE_PENDING),
                 count_state (store, EIDER_FILE_WORKING), count_state (store, EIDER_FILE_FAILED),
                 count_state (store, EIDER_FILE_SKIPPED));
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

/* Continuous mode: the first pass, then files reported later (as the
 * watcher will), a user pause that holds them, a resume, a clean stop. */
static void
test_backup_continuous (void)
{
  TestFixture fx = { 0 };
  g_autoptr(EiderAccount) account = NULL;
  g_autoptr(EiderStore) store = NULL;
  g_autoptr(EiderEngine) engine = NULL;
  g_autoptr(EiderWatch) watch = NULL;
  g_autoptr(RemoteView) view = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *db = NULL;
  g_autofree char *album = NULL;
  g_autofree char *late = NULL;
  g_autofree char *paused = NULL;

  test_fixture_set_up (&fx, NULL);
  test_write_photo (fx.tree, "first.jpg", 300, 200);
  album = g_filename_display_basename (fx.tree);

  account = eider_account_new (fx.config);
  g_assert_true (eider_account_load (account, &error));
  db = g_build_filename (fx.data, "eider.db", NULL);
  store = eider_store_open (db, &error);
  g_assert_no_error (error);
  watch = eider_store_add_watch (store, fx.tree, EIDER_MAPPING_ONE_ALBUM, NULL, &error);
  g_assert_no_error (error);

  engine = eider_engine_new (account, store);
  eider_engine_set_retry_base_ms (engine, 100);
  eider_engine_start (engine);
  g_assert_true (eider_engine_get_running (engine));
  wait_uploaded (store, 1);

  /* A file that appears later is uploaded when reported. */
  test_write_photo (fx.tree, "later.jpg", 320, 240);
  late = g_build_filename (fx.tree, "later.jpg", NULL);
  eider_engine_note_paths (engine, watch->id, (const char *[]) { late, NULL });
  wait_uploaded (store, 2);

  /* Paused: recorded, not uploaded; resumed: uploaded. */
  eider_engine_set_user_paused (engine, TRUE);
  g_assert_cmpstr (eider_engine_get_pause_reason (engine), ==, "Paused");
  test_write_photo (fx.tree, "paused.jpg", 100, 100);
  paused = g_build_filename (fx.tree, "paused.jpg", NULL);
  eider_engine_note_paths (engine, watch->id, (const char *[]) { paused, NULL });
  for (guint i = 0; i < 200; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_cmpuint (count_state (store, EIDER_FILE_UPLOADED), ==, 2);
  g_assert_cmpuint (count_state (store, EIDER_FILE_PENDING), ==, 1);
  eider_engine_set_user_paused (engine, FALSE);
  wait_uploaded (store, 3);

  eider_engine_stop_async (engine, NULL, test_result_cb, &result);
  g_assert_true (eider_engine_stop_finish (engine, test_wait (&result), &error));
  g_assert_false (eider_engine_get_running (engine));

  view = remote_view_new (&fx);
  assert_backed_up (&fx, view, "first.jpg", album);
  assert_backed_up (&fx, view, "later.jpg", album);
  assert_backed_up (&fx, view, "paused.jpg", album);
  g_assert_cmpuint (count_in_album (view, album), ==, 3);

  test_fixture_tear_down (&fx);
}

static gboolean
in_album (RemoteView *view,
          const char *album,
          const char *title,
          const char *hash,
          gint        file_type)
{
  g_autoptr(EiderCollectionRecord) collection = find_album (view, album);
  g_autoptr(GPtrArray) matches = NULL;

  if (collection == NULL)
    return FALSE;

  matches = eider_remote_find_duplicates (view->remote, title, file_type, hash);
  for (guint i = 0; i < matches->len; i++)
    if (((EiderRemoteFileRecord *) g_ptr_array_index (matches, i))->collection_id == collection->id)
      return TRUE;

  return FALSE;
}

/* Deleting locally never deletes from Ente: a file leaves the watched album
 * for another album that holds it, else for Uncategorized; a move keeps
 * its bytes where they are. */
static void
test_backup_removals_and_moves (void)
{
  TestFixture fx = { 0 };
  g_autoptr(EiderAccount) account = NULL;
  g_autoptr(EiderStore) store = NULL;
  g_autoptr(EiderEngine) engine = NULL;
  g_autoptr(EiderWatch) watch = NULL;
  g_autoptr(RemoteView) view = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *db = NULL;
  g_autofree char *x = NULL;
  g_autofree char *same_a = NULL;
  g_autofree char *same_b = NULL;
  g_autofree char *y_from = NULL;
  g_autofree char *y_to = NULL;
  g_autofree char *x_hash = NULL;
  g_autofree char *same_hash = NULL;
  g_autofree char *y_hash = NULL;
  g_autofree char *contents = NULL;
  gsize len;
  guint posts;

  test_fixture_set_up (&fx, NULL);
  test_write_photo (fx.tree, "A/x.jpg", 200, 100);
  test_write_photo (fx.tree, "A/same.jpg", 120, 90);
  test_write_photo (fx.tree, "B/y.jpg", 100, 200);
  same_a = g_build_filename (fx.tree, "A", "same.jpg", NULL);
  same_b = g_build_filename (fx.tree, "B", "same.jpg", NULL);
  g_assert_true (g_file_get_contents (same_a, &contents, &len, NULL));
  test_write_bytes (same_b, (const guint8 *) contents, len);
  x = g_build_filename (fx.tree, "A", "x.jpg", NULL);
  y_from = g_build_filename (fx.tree, "B", "y.jpg", NULL);
  y_to = g_build_filename (fx.tree, "A", "y.jpg", NULL);
  x_hash = test_hash_of (x);
  same_hash = test_hash_of (same_a);
  y_hash = test_hash_of (y_from);

  account = eider_account_new (fx.config);
  g_assert_true (eider_account_load (account, &error));
  db = g_build_filename (fx.data, "eider.db", NULL);
  store = eider_store_open (db, &error);
  g_assert_no_error (error);
  watch = eider_store_add_watch (store, fx.tree, EIDER_MAPPING_ALBUM_PER_FOLDER, NULL, &error);
  g_assert_no_error (error);

  engine = eider_engine_new (account, store);
  eider_engine_start (engine);
  wait_uploaded (store, 4);
  posts = test_server_count_log_lines (fx.server, "request POST /files 200");
  g_assert_cmpuint (posts, ==, 3);   /* same.jpg is one file in two albums */

  /* Deleted, in no other album: to Uncategorized. */
  g_assert_cmpint (g_unlink (x), ==, 0);
  eider_engine_note_removed (engine, watch->id, (const char *[]) { x, NULL });
  test_wait_forgotten (store, x);

  /* Deleted from A, still in B: only leaves A. */
  g_assert_cmpint (g_unlink (same_a), ==, 0);
  eider_engine_note_removed (engine, watch->id, (const char *[]) { same_a, NULL });
  test_wait_forgotten (store, same_a);

  /* Moved from B to A: linked into A, then out of B; no bytes sent. */
  g_assert_cmpint (g_rename (y_from, y_to), ==, 0);
  eider_engine_note_moved (engine, watch->id, y_from, y_to);
  test_wait_forgotten (store, y_from);
  {
    /* The old place goes only once the new one is backed up. */
    g_autoptr(EiderFileRecord) moved = eider_store_find_file (store, y_to);

    g_assert_nonnull (moved);
    g_assert_cmpint (moved->state, ==, EIDER_FILE_UPLOADED);
  }

  eider_engine_stop_async (engine, NULL, test_result_cb, &result);
  g_assert_true (eider_engine_stop_finish (engine, test_wait (&result), &error));
  g_clear_object (&result);

  /* Deleted while Eider was stopped: found by the stat pass at start. */
  g_assert_cmpint (g_unlink (same_b), ==, 0);
  eider_engine_start (engine);
  test_wait_forgotten (store, same_b);
  eider_engine_stop_async (engine, NULL, test_result_cb, &result);
  g_assert_true (eider_engine_stop_finish (engine, test_wait (&result), &error));

  view = remote_view_new (&fx);
  g_assert_false (in_album (view, "B", "same.jpg", same_hash, 0));
  g_assert_true (in_album (view, "Uncategorized", "same.jpg", same_hash, 0));
  g_assert_false (in_album (view, "A", "x.jpg", x_hash, 0));
  g_assert_true (in_album (view, "Uncategorized", "x.jpg", x_hash, 0));
  g_assert_false (in_album (view, "A", "same.jpg", same_hash, 0));
  g_assert_true (in_album (view, "A", "y.jpg", y_hash, 0));
  g_assert_false (in_album (view, "B", "y.jpg", y_hash, 0));
  g_assert_false (in_album (view, "Uncategorized", "y.jpg", y_hash, 0));

  /* Nothing was uploaded again, nothing was trashed. */
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request POST /files 200"), ==, posts);
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request POST /files/trash 200"), ==, 0);

  test_fixture_tear_down (&fx);
}
static void
stop_engine (EiderEngine *engine)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  eider_engine_stop_async (engine, NULL, test_result_cb, &result);
  g_assert_true (eider_engine_stop_finish (engine, test_wait (&result), &error));
}

/* Edits replace the Ente file in place (PUT /files/update, one record);
 * a folder may keep both instead. Renames change the Ente file's name
 * (public magic metadata) without sending bytes, live or found at start;
 * a move inside one album keeps the file in it; a folder may keep deleted
 * files in their album. */
static void
test_backup_edits_and_renames (void)
{
  TestFixture fx = { 0 };
  g_autoptr(EiderAccount) account = NULL;
  g_autoptr(EiderStore) store = NULL;
  g_autoptr(EiderEngine) engine = NULL;
  g_autoptr(EiderWatch) watch = NULL;
  g_autoptr(EiderWatch) other = NULL;
  g_autoptr(RemoteView) view = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *db = NULL;
  g_autofree char *other_tree = NULL;
  g_autofree char *album = NULL;
  g_autofree char *edit = NULL;
  g_autofree char *edit_hash = NULL;
  g_autofree char *old_edit_hash = NULL;
  g_autofree char *kept = NULL;
  g_autofree char *kept_hash = NULL;
  g_autofree char *old_kept_hash = NULL;
  g_autofree char *ren_from = NULL;
  g_autofree char *ren_to = NULL;
  g_autofree char *ren_hash = NULL;
  g_autofree char *mv_from = NULL;
  g_autofree char *mv_to = NULL;
  g_autofree char *mv_hash = NULL;
  g_autofree char *late_from = NULL;
  g_autofree char *late_to = NULL;
  g_autofree char *late_hash = NULL;
  g_autofree char *gone = NULL;
  g_autofree char *gone_hash = NULL;
  guint posts;

  test_fixture_set_up (&fx, NULL);
  test_write_photo (fx.tree, "edit.jpg", 200, 100);
  test_write_photo (fx.tree, "rename-me.jpg", 180, 120);
  test_write_photo (fx.tree, "sub/moved.jpg", 160, 120);
  test_write_photo (fx.tree, "renamed-later.jpg", 150, 100);
  edit = g_build_filename (fx.tree, "edit.jpg", NULL);
  ren_from = g_build_filename (fx.tree, "rename-me.jpg", NULL);
  ren_to = g_build_filename (fx.tree, "renamed.jpg", NULL);
  mv_from = g_build_filename (fx.tree, "sub", "moved.jpg", NULL);
  mv_to = g_build_filename (fx.tree, "moved.jpg", NULL);
  late_from = g_build_filename (fx.tree, "renamed-later.jpg", NULL);
  late_to = g_build_filename (fx.tree, "renamed-while-stopped.jpg", NULL);
  ren_hash = test_hash_of (ren_from);
  mv_hash = test_hash_of (mv_from);
  late_hash = test_hash_of (late_from);
  album = g_filename_display_basename (fx.tree);

  /* A second folder that keeps both versions of an edit and keeps deleted
   * files in its album. */
  other_tree = g_build_filename (fx.home, "other", NULL);
  test_write_photo (other_tree, "kept.jpg", 140, 100);
  test_write_photo (other_tree, "gone.jpg", 130, 100);
  kept = g_build_filename (other_tree, "kept.jpg", NULL);
  gone = g_build_filename (other_tree, "gone.jpg", NULL);
  gone_hash = test_hash_of (gone);

  account = eider_account_new (fx.config);
  g_assert_true (eider_account_load (account, &error));
  db = g_build_filename (fx.data, "eider.db", NULL);
  store = eider_store_open (db, &error);
  g_assert_no_error (error);
  watch = eider_store_add_watch (store, fx.tree, EIDER_MAPPING_ONE_ALBUM, NULL, &error);
  g_assert_no_error (error);
  other = eider_store_add_watch (store, other_tree, EIDER_MAPPING_ONE_ALBUM, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (eider_store_set_watch_options (store, other->id, TRUE, TRUE, &error));

  engine = eider_engine_new (account, store);
  eider_engine_set_retry_base_ms (engine, 100);
  eider_engine_start (engine);
  wait_uploaded (store, 6);
  posts = test_server_count_log_lines (fx.server, "request POST /files 200");
  g_assert_cmpuint (posts, ==, 6);

  /* Edited: the same Ente file gets the new content. */
  old_edit_hash = test_hash_of (edit);
  test_write_photo (fx.tree, "edit.jpg", 240, 120);
  edit_hash = test_hash_of (edit);
  g_assert_cmpstr (edit_hash, !=, old_edit_hash);
  eider_engine_note_paths (engine, watch->id, (const char *[]) { edit, NULL });
  test_wait_uploaded_as (store, edit, edit_hash);
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request PUT /files/update 200"), ==, 1);

  /* Edited in a keep-both folder: a new file; the old one stays. */
  old_kept_hash = test_hash_of (kept);
  test_write_photo (other_tree, "kept.jpg", 150, 110);
  kept_hash = test_hash_of (kept);
  eider_engine_note_paths (engine, other->id, (const char *[]) { kept, NULL });
  test_wait_uploaded_as (store, kept, kept_hash);
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request POST /files 200"), ==, posts + 1);

  /* Renamed: a new name in Ente, no bytes. */
  g_assert_cmpint (g_rename (ren_from, ren_to), ==, 0);
  eider_engine_note_moved (engine, watch->id, ren_from, ren_to);
  test_wait_forgotten (store, ren_from);
  test_wait_uploaded_as (store, ren_to, ren_hash);

  /* Moved inside the album: it stays in the album. */
  g_assert_cmpint (g_rename (mv_from, mv_to), ==, 0);
  eider_engine_note_moved (engine, watch->id, mv_from, mv_to);
  test_wait_forgotten (store, mv_from);
  test_wait_uploaded_as (store, mv_to, mv_hash);

  /* Deleted in a folder that keeps deleted files: stays in its album. */
  g_assert_cmpint (g_unlink (gone), ==, 0);
  eider_engine_note_removed (engine, other->id, (const char *[]) { gone, NULL });
  test_wait_forgotten (store, gone);

  stop_engine (engine);

  /* Renamed while Eider was stopped: found by device and inode at start;
   * edited while stopped: replaced at start. */
  g_assert_cmpint (g_rename (late_from, late_to), ==, 0);
  g_clear_pointer (&edit_hash, g_free);
  test_write_photo (fx.tree, "edit.jpg", 260, 130);
  edit_hash = test_hash_of (edit);
  eider_engine_start (engine);
  test_wait_forgotten (store, late_from);
  test_wait_uploaded_as (store, late_to, late_hash);
  test_wait_uploaded_as (store, edit, edit_hash);
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request PUT /files/update 200"), ==, 2);
  stop_engine (engine);

  /* Deleted in Ente: not uploaded again while it is unchanged on disk. */
  {
    g_autoptr(EiderFileRecord) record = eider_store_find_file (store, mv_to);
    g_autoptr(JsonBuilder) builder = json_builder_new ();
    g_autoptr(JsonNode) body = NULL;
    g_autoptr(JsonNode) reply = NULL;
    g_autoptr(GAsyncResult) result = NULL;

    json_builder_begin_object (builder);
    json_builder_set_member_name (builder, "items");
    json_builder_begin_array (builder);
    json_builder_begin_object (builder);
    json_builder_set_member_name (builder, "fileID");
    json_builder_add_int_value (builder, record->remote_file_id);
    json_builder_set_member_name (builder, "collectionID");
    json_builder_add_int_value (builder, record->collection_id);
    json_builder_end_object (builder);
    json_builder_end_array (builder);
    json_builder_end_object (builder);
    body = json_builder_get_root (builder);
    eider_api_call_async (eider_account_get_api (account), "POST", "/files/trash", body,
                          EIDER_API_CALL_AUTH, NULL, test_result_cb, &result);
    reply = eider_api_call_finish (eider_account_get_api (account), test_wait (&result), &error);
    g_assert_no_error (error);
  }
  {
    g_autoptr(GAsyncResult) result = NULL;

    /* A whole pass: the index learns of the deletion, nothing is due. */
    eider_engine_run_once_async (engine, NULL, test_result_cb, &result);
    g_assert_true (eider_engine_run_once_finish (engine, test_wait (&result), &error));
  }

  view = remote_view_new (&fx);
  assert_backed_up (&fx, view, "edit.jpg", album);
  g_assert_false (in_album (view, album, "edit.jpg", old_edit_hash, 0));
  assert_backed_up (&fx, view, "renamed.jpg", album);
  g_assert_false (in_album (view, album, "rename-me.jpg", ren_hash, 0));
  assert_backed_up (&fx, view, "renamed-while-stopped.jpg", album);
  g_assert_false (in_album (view, album, "moved.jpg", mv_hash, 0));
  g_assert_false (in_album (view, "Uncategorized", "moved.jpg", mv_hash, 0));
  g_assert_false (in_album (view, "Uncategorized", "renamed.jpg", ren_hash, 0));
  g_assert_cmpuint (count_in_album (view, album), ==, 3);
  g_assert_true (in_album (view, "other", "kept.jpg", old_kept_hash, 0));
  g_assert_true (in_album (view, "other", "kept.jpg", kept_hash, 0));
  g_assert_true (in_album (view, "other", "gone.jpg", gone_hash, 0));

  /* One upload for the keep-both edit, two replacements, two renames; no
   * other bytes sent, nothing trashed but by the user in Ente. */
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request POST /files 200"), ==, posts + 1);
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request PUT /files/update 200"), ==, 2);
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request PUT /files/public-magic-metadata 200"), ==, 2);
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request POST /files/trash 200"), ==, 1);

  test_fixture_tear_down (&fx);
}

/* The same photo in two folders is one Ente file in two albums; editing
 * one copy must not replace the other's content: the edit becomes a file
 * of its own. */
static void
test_backup_shared_edit (void)
{
  TestFixture fx = { 0 };
  g_autoptr(EiderAccount) account = NULL;
  g_autoptr(EiderStore) store = NULL;
  g_autoptr(EiderEngine) engine = NULL;
  g_autoptr(EiderWatch) watch = NULL;
  g_autoptr(RemoteView) view = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *db = NULL;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  g_autofree char *old_hash = NULL;
  g_autofree char *new_hash = NULL;
  g_autofree char *contents = NULL;
  gsize len;

  test_fixture_set_up (&fx, NULL);
  test_write_photo (fx.tree, "A/same.jpg", 150, 100);
  a = g_build_filename (fx.tree, "A", "same.jpg", NULL);
  b = g_build_filename (fx.tree, "B", "same.jpg", NULL);
  g_assert_true (g_file_get_contents (a, &contents, &len, NULL));
  test_write_bytes (b, (const guint8 *) contents, len);
  old_hash = test_hash_of (a);

  account = eider_account_new (fx.config);
  g_assert_true (eider_account_load (account, &error));
  db = g_build_filename (fx.data, "eider.db", NULL);
  store = eider_store_open (db, &error);
  g_assert_no_error (error);
  watch = eider_store_add_watch (store, fx.tree, EIDER_MAPPING_ALBUM_PER_FOLDER, NULL, &error);
  g_assert_no_error (error);

  engine = eider_engine_new (account, store);
  eider_engine_set_retry_base_ms (engine, 100);
  eider_engine_start (engine);
  wait_uploaded (store, 2);
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request POST /files 200"), ==, 1);

  test_write_photo (fx.tree, "A/same.jpg", 160, 100);
  new_hash = test_hash_of (a);
  eider_engine_note_paths (engine, watch->id, (const char *[]) { a, NULL });
  test_wait_uploaded_as (store, a, new_hash);
  stop_engine (engine);

  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request PUT /files/update 200"), ==, 0);
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request POST /files 200"), ==, 2);
  view = remote_view_new (&fx);
  assert_backed_up (&fx, view, "A/same.jpg", "A");
  assert_backed_up (&fx, view, "B/same.jpg", "B");
  g_assert_true (in_album (view, "B", "same.jpg", old_hash, 0));

  test_fixture_tear_down (&fx);
}

int
main (int   argc,
      char *argv[])
{
  g_assert_true (eider_crypto_init (NULL));
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/backup/tree", test_backup_tree);
  g_test_add_func ("/backup/kill-resume", test_backup_kill_resume);
  g_test_add_func ("/backup/once-bandwidth", test_backup_once_bandwidth);
  g_test_add_func ("/backup/connections-reused", test_backup_connections_reused);
  g_test_add_func ("/backup/upload-url-limit", test_backup_upload_url_limit);
  g_test_add_func ("/backup/faults", test_backup_faults);
  g_test_add_func ("/backup/dedupe-faults", test_backup_dedupe_faults);
  g_test_add_func ("/backup/dedupe-kill", test_backup_dedupe_kill);
  g_test_add_func ("/backup/quota", test_backup_quota);
  g_test_add_func ("/backup/continuous", test_backup_continuous);
  g_test_add_func ("/backup/removals-and-moves", test_backup_removals_and_moves);
  g_test_add_func ("/backup/edits-and-renames", test_backup_edits_and_renames);
  g_test_add_func ("/backup/shared-edit", test_backup_shared_edit);

  return g_test_run ();
}
