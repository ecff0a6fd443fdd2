/* test-daemon.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * eiderctl daemon against a real eider-test-server: it uploads what is
 * there and keeps running; one engine per state directory (a second daemon
 * refuses, naming the first one's pid; a killed one leaves nothing that
 * blocks the next); pause and resume, of everything or of one folder,
 * reach a running daemon and survive restarts; SIGTERM stops it cleanly,
 * also in the middle of an upload, which the next start resumes.
 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include "eider-account.h"
#include "eider-instance.h"
#include "eider-signup.h"
#include "eider-store.h"
#include "eider-test-daemon.h"
#include "eider-test-fixture.h"

#define MiB TEST_MiB

/* Waits until the daemon answers on its control socket. */
static void
daemon_wait_ready (TestDaemon  *d,
                   TestFixture *fx)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  for (;;)
    {
      g_autofree char *reply = NULL;

      if (eider_instance_send (fx->data, "status", &reply, NULL))
        {
          g_autoptr(JsonNode) root = json_from_string (reply, NULL);

          g_assert_cmpint (json_object_get_int_member (json_node_get_object (root), "pid"), ==, d->pid);
          return;
        }
      if (d->exited && !d->reading)
        g_error ("The daemon exited before it listened:\n%s", d->log->str);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      test_iterate_for (20000);
    }
}

static char *
store_meta (TestFixture    *fx,
            const char *key)
{
  g_autofree char *db = g_build_filename (fx->data, "eider.db", NULL);
  g_autoptr(EiderStore) store = NULL;
  g_autoptr(GError) error = NULL;

  /* A second connection, next to the daemon's (WAL). */
  store = eider_store_open (db, &error);
  g_assert_no_error (error);

  return eider_store_get_meta (store, key);
}

static guint
posted_files (TestFixture *fx)
{
  return test_server_count_log_lines (fx->server, "request POST /files 200");
}

static void
assert_contains (const char *haystack,
                 const char *needle)
{
  if (strstr (haystack, needle) == NULL)
    g_error ("“%s” not found in:\n%s", needle, haystack);
}

/* It uploads the existing tree, keeps running, shows up in status, and
 * leaves on SIGTERM with 0, quickly, taking its socket along. */
static void
test_daemon_runs (void)
{
  TestFixture fx = { 0 };
  g_autoptr(TestDaemon) d = NULL;
  g_autofree char *out = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *sock = NULL;
  g_autofree char *lock = NULL;
  g_autofree char *lock_contents = NULL;
  gint64 took;

  test_fixture_set_up (&fx, NULL);
  test_write_photo (fx.tree, "a.jpg", 320, 200);
  test_write_photo (fx.tree, "2024/b.jpg", 200, 300);
  test_write_photo (fx.tree, "2024/c.jpg", 100, 100);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, NULL), ==, 0);

  d = test_daemon_spawn (&fx, NULL);
  expected = g_strdup_printf ("Eider is running (pid %d) for %s, watching 1 folder.", d->pid, fx.email);
  test_daemon_wait_lines (d, expected, 1, 30);
  test_daemon_wait_lines (d, "uploaded\t", 3, 120);
  g_assert_cmpuint (posted_files (&fx), ==, 3);

  /* The lock file names it, and it is only the user's. */
  lock = g_build_filename (fx.data, "eider.lock", NULL);
  sock = g_build_filename (fx.data, "control.sock", NULL);
  g_assert_true (g_file_get_contents (lock, &lock_contents, NULL, NULL));
  g_assert_cmpint (atoi (lock_contents), ==, d->pid);
  {
    struct stat st;

    g_assert_cmpint (g_stat (sock, &st), ==, 0);
    g_assert_true (S_ISSOCK (st.st_mode));
    g_assert_cmpint (st.st_mode & 0777, ==, 0600);
    g_assert_cmpint (g_stat (lock, &st), ==, 0);
    g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  }

  /* Done with the tree, and still there. */
  test_iterate_for (1 * G_USEC_PER_SEC);
  g_assert_false (d->exited);

  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("Daemon: running (pid %d)\n", d->pid);
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "status", NULL), ==, 0);
  assert_contains (out, expected);
  assert_contains (out, "Files: 3 uploaded, 0 pending");
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "status", "--json", NULL), ==, 0);
  assert_contains (out, "\"running\" : true");

  took = test_daemon_stop (d, SIGTERM, 10);
  g_assert_cmpint (took, <, 5 * G_USEC_PER_SEC);
  g_assert_true (g_subprocess_get_if_exited (d->proc));
  g_assert_cmpint (g_subprocess_get_exit_status (d->proc), ==, 0);
  assert_contains (d->log->str, "Stopped: 3 uploaded, 0 skipped, 0 failed.");
  g_assert_false (g_file_test (sock, G_FILE_TEST_EXISTS));

  g_clear_pointer (&out, g_free);
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "status", NULL), ==, 0);
  assert_contains (out, "Daemon: not running\n");

  test_fixture_tear_down (&fx);
}

typedef struct
{
  const char *state_dir;
  const char *command;
  char       *reply;
  GError     *error;
  gboolean    ok;
  gint        done;
} SendJob;

static gpointer
send_worker (gpointer data)
{
  SendJob *job = data;

  job->ok = eider_instance_send (job->state_dir, job->command, &job->reply, &job->error);
  g_atomic_int_set (&job->done, TRUE);

  return NULL;
}

/* While it runs, files written into the watched folder (also into a new
 * subfolder) are uploaded without anyone asking. */
static void
test_daemon_watches (void)
{
  TestFixture fx = { 0 };
  g_autoptr(TestDaemon) d = NULL;
  g_autofree char *expected = NULL;

  test_fixture_set_up (&fx, NULL);
  test_write_photo (fx.tree, "old.jpg", 64, 64);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, "--album-per-folder", NULL), ==, 0);

  d = test_daemon_spawn (&fx, NULL);
  test_daemon_wait_lines (d, "uploaded\t", 1, 60);

  test_write_photo (fx.tree, "new.jpg", 70, 70);
  expected = g_strdup_printf ("uploaded\t%s/new.jpg", fx.tree);
  test_daemon_wait_lines (d, expected, 1, 60);

  test_write_photo (fx.tree, "2025/Summer/beach.jpg", 80, 80);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("uploaded\t%s/2025/Summer/beach.jpg", fx.tree);
  test_daemon_wait_lines (d, expected, 1, 60);

  g_assert_cmpuint (test_count_lines (d->log->str, "uploaded\t"), ==, 3);
  g_assert_cmpuint (posted_files (&fx), ==, 3);

  /* A folder added while it runs is walked and watched at once. */
  {
    g_autofree char *other = g_build_filename (fx.home, "Other", NULL);
    g_autofree char *out = NULL;

    test_write_photo (other, "there.jpg", 90, 60);
    g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "watch", "add", other, NULL), ==, 0);
    g_clear_pointer (&expected, g_free);
    expected = g_strdup_printf ("uploaded\t%s/there.jpg", other);
    test_daemon_wait_lines (d, expected, 1, 60);

    test_write_photo (other, "later.jpg", 91, 61);
    g_clear_pointer (&expected, g_free);
    expected = g_strdup_printf ("uploaded\t%s/later.jpg", other);
    test_daemon_wait_lines (d, expected, 1, 60);
    g_assert_cmpuint (posted_files (&fx), ==, 5);
  }

  g_assert_cmpint (test_daemon_stop (d, SIGTERM, 10), <, 5 * G_USEC_PER_SEC);
  g_assert_cmpint (g_subprocess_get_exit_status (d->proc), ==, 0);

  test_fixture_tear_down (&fx);
}

/* One engine per state directory: a second daemon refuses, naming the
 * first; so does the API. A daemon killed with SIGKILL leaves a socket and
 * a lock file behind, and neither blocks the next one. */
static void
test_daemon_single_instance (void)
{
  TestFixture fx = { 0 };
  g_autoptr(TestDaemon) first = NULL;
  g_autoptr(TestDaemon) third = NULL;
  g_autoptr(EiderInstance) instance = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *reply = NULL;
  g_autofree char *sock = NULL;

  test_fixture_set_up (&fx, NULL);
  test_write_photo (fx.tree, "a.jpg", 64, 64);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, NULL), ==, 0);

  first = test_daemon_spawn (&fx, NULL);
  daemon_wait_ready (first, &fx);

  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "daemon", NULL), ==, 1);
  expected = g_strdup_printf ("Another Eider (pid %d) is already running with this state directory (%s)",
                              first->pid, fx.data);
  assert_contains (out, expected);

  /* Nor does a one-time backup run beside it. */
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "backup", "--once", NULL), ==, 1);
  assert_contains (out, expected);
  assert_contains (out, "It backs up by itself; “eiderctl status” shows how far it is.\n");

  instance = eider_instance_acquire (fx.data, &error);
  g_assert_error (error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_RUNNING);
  g_assert_null (instance);
  assert_contains (error->message, expected);
  g_clear_error (&error);

  /* Nonsense on the socket is answered, not obeyed. */
  g_assert_false (eider_instance_send (fx.data, "format-disk", &reply, &error));
  g_assert_error (error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_REFUSED);
  assert_contains (error->message, "Unknown command “format-disk”");
  g_clear_error (&error);
  g_assert_false (eider_instance_send (fx.data, "pause-watch 999", &reply, &error));
  g_assert_error (error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_REFUSED);
  assert_contains (error->message, "No watched folder has the id 999");
  g_clear_error (&error);
  g_assert_false (eider_instance_send (fx.data, "pause-watch one", &reply, &error));
  g_assert_error (error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_REFUSED);
  g_clear_error (&error);
  g_assert_false (eider_instance_send (fx.data, "pause now", &reply, &error));
  g_assert_error (error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_REFUSED);
  g_clear_error (&error);
  g_assert_null (reply);

  /* The refused one changed nothing: the first still runs and answers. */
  g_assert_false (first->exited);
  g_assert_true (eider_instance_send (fx.data, "status", &reply, &error));
  g_assert_no_error (error);
  assert_contains (reply, "\"ok\":true");
  g_clear_pointer (&reply, g_free);

  /* A hard kill: the socket file stays, but nobody listens. */
  test_daemon_stop (first, SIGKILL, 10);
  sock = g_build_filename (fx.data, "control.sock", NULL);
  g_assert_true (g_file_test (sock, G_FILE_TEST_EXISTS));
  g_assert_false (eider_instance_send (fx.data, "status", &reply, &error));
  g_assert_error (error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_NOT_RUNNING);
  g_clear_error (&error);

  g_clear_pointer (&out, g_free);
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "status", NULL), ==, 0);
  assert_contains (out, "Daemon: not running\n");

  third = test_daemon_spawn (&fx, NULL);
  daemon_wait_ready (third, &fx);
  g_assert_cmpint (test_daemon_stop (third, SIGINT, 10), <, 5 * G_USEC_PER_SEC);
  g_assert_cmpint (g_subprocess_get_exit_status (third->proc), ==, 0);
  g_assert_false (g_file_test (sock, G_FILE_TEST_EXISTS));

  /* And once it is gone, the directory can be taken again. */
  instance = eider_instance_acquire (fx.data, &error);
  g_assert_no_error (error);
  g_assert_nonnull (instance);
  {
    /* It answers on this thread's main context; ask from another one. */
    SendJob job = { .state_dir = fx.data, .command = "status" };
    GThread *thread = g_thread_new ("send", send_worker, &job);

    while (!g_atomic_int_get (&job.done))
      test_iterate_for (5000);
    g_thread_join (thread);
    g_assert_false (job.ok);
    g_assert_error (job.error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_REFUSED);
    assert_contains (job.error->message, "Not ready for commands yet");
    g_clear_error (&job.error);
  }
  g_clear_object (&instance);
  g_assert_false (eider_instance_send (fx.data, "status", &reply, &error));
  g_assert_error (error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_NOT_RUNNING);
  g_clear_error (&error);

  test_fixture_tear_down (&fx);
}

/* Pause and resume through the CLI while the daemon runs: acknowledged,
 * persisted, kept across a restart, and undone by resume. Then the same
 * for one folder. */
static void
test_daemon_pause_resume (void)
{
  TestFixture fx = { 0 };
  g_autoptr(TestDaemon) d = NULL;
  g_autofree char *out = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *meta = NULL;
  g_autofree char *reply = NULL;
  g_autoptr(GError) error = NULL;

  test_fixture_set_up (&fx, NULL);
  test_write_photo (fx.tree, "first.jpg", 64, 64);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, NULL), ==, 0);

  d = test_daemon_spawn (&fx, NULL);
  test_daemon_wait_lines (d, "uploaded\t", 1, 60);

  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "pause", NULL), ==, 0);
  expected = g_strdup_printf ("Paused the backup; the running Eider (pid %d) applied it.\n", d->pid);
  assert_contains (out, expected);
  test_daemon_wait_lines (d, "Pausing on request.", 1, 10);
  meta = store_meta (&fx, "paused");
  g_assert_cmpstr (meta, ==, "1");

  g_clear_pointer (&out, g_free);
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "status", NULL), ==, 0);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("Daemon: running (pid %d), paused", d->pid);
  assert_contains (out, expected);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "status", "--json", NULL), ==, 0);
  assert_contains (out, "\"paused\" : true");

  /* Paused survives a restart: what appeared meanwhile is found and
   * recorded, but not uploaded. */
  g_assert_cmpint (test_daemon_stop (d, SIGTERM, 10), <, 5 * G_USEC_PER_SEC);
  g_assert_cmpint (g_subprocess_get_exit_status (d->proc), ==, 0);
  g_clear_pointer (&d, test_daemon_free);
  test_write_photo (fx.tree, "while-paused.jpg", 80, 80);

  d = test_daemon_spawn (&fx, NULL);
  test_daemon_wait_lines (d, "Eider is running", 1, 30);
  assert_contains (d->log->str, "paused (“eiderctl resume” continues).");
  daemon_wait_ready (d, &fx);
  {
    gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

    for (;;)
      {
        g_clear_pointer (&out, g_free);
        g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "status", NULL), ==, 0);
        if (strstr (out, "1 pending") != NULL)
          break;
        g_assert_cmpint (g_get_monotonic_time (), <, deadline);
        test_iterate_for (100000);
      }
  }
  test_iterate_for (2 * G_USEC_PER_SEC);
  g_assert_cmpuint (test_count_lines (d->log->str, "uploaded\t"), ==, 0);
  g_assert_cmpuint (posted_files (&fx), ==, 1);

  g_clear_pointer (&out, g_free);
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "resume", NULL), ==, 0);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("Resumed the backup; the running Eider (pid %d) applied it.\n", d->pid);
  assert_contains (out, expected);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("uploaded\t%s/while-paused.jpg", fx.tree);
  test_daemon_wait_lines (d, expected, 1, 60);
  g_assert_cmpuint (posted_files (&fx), ==, 2);
  g_clear_pointer (&meta, g_free);
  meta = store_meta (&fx, "paused");
  g_assert_cmpstr (meta, ==, "0");

  /* One folder: paused in the store and in the running daemon. */
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "pause", fx.tree, NULL), ==, 0);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("Paused %s; the running Eider (pid %d) applied it.\n", fx.tree, d->pid);
  assert_contains (out, expected);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "watch", "list", NULL), ==, 0);
  assert_contains (out, "(paused)");
  g_assert_true (eider_instance_send (fx.data, "status", &reply, &error));
  g_assert_no_error (error);
  {
    g_autoptr(JsonNode) root = json_from_string (reply, NULL);
    JsonObject *status = json_node_get_object (root);
    JsonObject *folder = json_array_get_object_element (json_object_get_array_member (status, "watches"), 0);

    g_assert_false (json_object_get_boolean_member (status, "paused"));
    g_assert_cmpstr (json_object_get_string_member (folder, "path"), ==, fx.tree);
    g_assert_true (json_object_get_boolean_member (folder, "paused"));
    g_assert_true (json_object_get_boolean_member (folder, "live"));
  }
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "status", NULL), ==, 0);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("  %s — paused — watched live\n", fx.tree);
  assert_contains (out, expected);

  /* Its new file waits across a restart, then resume picks it up. */
  g_assert_cmpint (test_daemon_stop (d, SIGTERM, 10), <, 5 * G_USEC_PER_SEC);
  g_clear_pointer (&d, test_daemon_free);
  test_write_photo (fx.tree, "folder-paused.jpg", 90, 90);
  d = test_daemon_spawn (&fx, NULL);
  test_daemon_wait_lines (d, "Eider is running", 1, 30);
  assert_contains (d->log->str, "watching 1 folder (1 paused).");
  daemon_wait_ready (d, &fx);
  test_iterate_for (2 * G_USEC_PER_SEC);
  g_assert_cmpuint (test_count_lines (d->log->str, "uploaded\t"), ==, 0);
  g_assert_cmpuint (posted_files (&fx), ==, 2);

  g_clear_pointer (&out, g_free);
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "resume", fx.tree, NULL), ==, 0);
  assert_contains (out, "; the running Eider");
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("uploaded\t%s/folder-paused.jpg", fx.tree);
  test_daemon_wait_lines (d, expected, 1, 60);
  g_assert_cmpuint (posted_files (&fx), ==, 3);

  g_assert_cmpint (test_daemon_stop (d, SIGTERM, 10), <, 5 * G_USEC_PER_SEC);
  g_assert_cmpint (g_subprocess_get_exit_status (d->proc), ==, 0);

  /* Without a daemon: persisted, and said so. */
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "pause", NULL), ==, 0);
  assert_contains (out, "Paused the backup. Eider is not running: this will apply when it next starts.");
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "status", NULL), ==, 0);
  assert_contains (out, "Daemon: not running; the backup is paused");
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "pause", fx.home, NULL), ==, 1);
  assert_contains (out, "is not watched");

  test_fixture_tear_down (&fx);
}

/* SIGTERM in the middle of a multipart upload: out within seconds with 0,
 * and the next start finishes the file without sending acknowledged parts
 * again. */
static void
test_daemon_sigterm_mid_upload (void)
{
  TestFixture fx = { 0 };
  g_autoptr(TestDaemon) d = NULL;
  g_autoptr(GPtrArray) acked = NULL;
  g_autofree char *expected = NULL;

  test_fixture_set_up (&fx, NULL);
  test_write_video (fx.tree, "big.mp4", 60 * MiB + 7);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, NULL), ==, 0);

  d = test_daemon_spawn (&fx, (const char *[]) { "--jobs", "1", NULL });
  test_wait_acknowledged_part (&fx, 60);

  g_assert_cmpint (test_daemon_stop (d, SIGTERM, 10), <, 5 * G_USEC_PER_SEC);
  g_assert_true (g_subprocess_get_if_exited (d->proc));
  g_assert_cmpint (g_subprocess_get_exit_status (d->proc), ==, 0);
  assert_contains (d->log->str, "Stopping…");
  g_assert_cmpuint (test_count_lines (d->log->str, "failed\t"), ==, 0);
  g_assert_cmpuint (posted_files (&fx), ==, 0);

  acked = test_acknowledged_parts (&fx);
  g_assert_cmpuint (acked->len, >=, 1);
  g_clear_pointer (&d, test_daemon_free);

  d = test_daemon_spawn (&fx, NULL);
  expected = g_strdup_printf ("uploaded\t%s/big.mp4", fx.tree);
  test_daemon_wait_lines (d, expected, 1, 120);
  g_assert_cmpuint (posted_files (&fx), ==, 1);

  test_assert_parts_sent_once (&fx, acked);

  g_assert_cmpint (test_daemon_stop (d, SIGTERM, 10), <, 5 * G_USEC_PER_SEC);
  g_assert_cmpint (g_subprocess_get_exit_status (d->proc), ==, 0);

  test_fixture_tear_down (&fx);
}

/* The same video in five watched folders under a running daemon: while
 * one copy is sent the others wait for it without a slot, a SIGTERM then
 * stops the daemon at once with nothing failed, and the next start sends
 * the bytes once (resuming) and links the four other copies. */
static void
test_daemon_dedupe_stop (void)
{
  static const char * const folders[] = { "A", "B", "C", "D", "E", NULL };
  TestFixture fx = { 0 };
  g_autoptr(TestDaemon) d = NULL;
  g_autofree char *hash = NULL;

  test_fixture_set_up (&fx, NULL);
  g_setenv ("GSETTINGS_BACKEND", "keyfile", TRUE);
  test_write_video (fx.tree, "A/same.mp4", 45 * MiB);
  hash = test_watch_copies (&fx, folders, "same.mp4");
  /* Slow enough that the copies are hashed and waiting long before the
   * upload ends. */
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "config", "set", "bandwidth-limit", "8192",
                                  NULL), ==, 0);

  d = test_daemon_spawn (&fx, NULL);
  test_wait_acknowledged_part (&fx, 60);
  g_assert_cmpint (test_daemon_stop (d, SIGTERM, 10), <, 5 * G_USEC_PER_SEC);
  g_assert_true (g_subprocess_get_if_exited (d->proc));
  g_assert_cmpint (g_subprocess_get_exit_status (d->proc), ==, 0);
  g_assert_cmpuint (test_count_lines (d->log->str, "failed\t"), ==, 0);
  g_assert_cmpuint (posted_files (&fx), ==, 0);
  g_clear_pointer (&d, test_daemon_free);

  d = test_daemon_spawn (&fx, NULL);
  test_daemon_wait_lines (d, "uploaded\t", 5, 120);
  g_assert_cmpuint (test_count_lines (d->log->str, "failed\t"), ==, 0);
  g_assert_cmpuint (posted_files (&fx), ==, 1);
  g_assert_cmpint (test_daemon_stop (d, SIGTERM, 10), <, 5 * G_USEC_PER_SEC);

  g_unsetenv ("GSETTINGS_BACKEND");
  test_fixture_tear_down (&fx);
}

/* Without an account there is nothing to run: a clear message, exit 1,
 * and the state directory is not taken. */
static void
test_daemon_not_logged_in (void)
{
  TestFixture fx = { 0 };
  g_autofree char *out = NULL;
  g_autofree char *lock = NULL;

  fx.home = test_make_tmpdir ("eider-daemon-XXXXXX");
  fx.config = g_build_filename (fx.home, "config", NULL);
  fx.data = g_build_filename (fx.home, "data", NULL);

  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "daemon", NULL), ==, 1);
  assert_contains (out, "Not logged in: log in with “eiderctl account login” first");
  lock = g_build_filename (fx.data, "eider.lock", NULL);
  g_assert_false (g_file_test (lock, G_FILE_TEST_EXISTS));

  g_clear_pointer (&out, g_free);
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "daemon", "extra", NULL), ==, 2);

  test_fixture_tear_down (&fx);
}

static guint
count_part_puts (TestFixture *fx)
{
  return test_server_count_log_lines (fx->server, "request PUT /s3/*?partNumber=* 200");
}

/* Object bodies sent to S3, single or in parts. */
static guint
count_object_puts (TestFixture *fx)
{
  return test_server_count_log_lines (fx->server, "request PUT /s3/* 200");
}

/* Writes @path in ten pieces, half a second apart, through one open
 * descriptor, as a slow copy does. */
static void
write_slowly (const char *path,
              GBytes     *bytes)
{
  gsize size = g_bytes_get_size (bytes);
  const guint8 *data = g_bytes_get_data (bytes, NULL);
  gsize step = (size + 9) / 10;
  int fd;

  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  g_assert_cmpint (fd, >=, 0);
  for (gsize done = 0; done < size; done += step)
    {
      gsize n = MIN (step, size - done);

      g_assert_cmpint (write (fd, data + done, n), ==, (gssize) n);
      test_iterate_for (G_USEC_PER_SEC / 2);
    }
  g_assert_cmpint (close (fd), ==, 0);
}

/* What the daemon does with what happens in a watched folder, seen only
 * through real inotify: a file written slowly is uploaded once, complete;
 * an edit replaces the Ente file; a rename and a move send no bytes; a
 * deletion leaves Ente's copy (moved to Uncategorized, nothing trashed);
 * the watched folder renamed away and back is "unavailable", not deleted,
 * and what changed meanwhile is caught up. */
static void
test_daemon_live_changes (void)
{
  TestFixture fx = { 0 };
  g_autoptr(TestDaemon) d = NULL;
  g_autoptr(EiderStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) slow_bytes = NULL;
  g_autofree char *db = NULL;
  g_autofree char *display = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *edit = NULL, *edit_hash = NULL;
  g_autofree char *ren_from = NULL, *ren_to = NULL, *ren_hash = NULL;
  g_autofree char *mv_from = NULL, *mv_to = NULL, *mv_hash = NULL;
  g_autofree char *gone = NULL;
  g_autofree char *slow = NULL, *slow_hash = NULL;
  g_autofree char *away = NULL;
  g_autofree char *keep = NULL, *keep_hash = NULL;
  g_autofree char *later = NULL, *later_hash = NULL;
  guint posts, puts, moves;

  test_fixture_set_up (&fx, NULL);
  test_write_photo (fx.tree, "edit.jpg", 200, 100);
  test_write_photo (fx.tree, "rename-me.jpg", 180, 120);
  test_write_photo (fx.tree, "move-me.jpg", 160, 120);
  test_write_photo (fx.tree, "delete-me.jpg", 150, 100);
  test_write_photo (fx.tree, "keep.jpg", 140, 100);
  edit = g_build_filename (fx.tree, "edit.jpg", NULL);
  ren_from = g_build_filename (fx.tree, "rename-me.jpg", NULL);
  ren_to = g_build_filename (fx.tree, "renamed.jpg", NULL);
  mv_from = g_build_filename (fx.tree, "move-me.jpg", NULL);
  mv_to = g_build_filename (fx.tree, "2024", "move-me.jpg", NULL);
  gone = g_build_filename (fx.tree, "delete-me.jpg", NULL);
  slow = g_build_filename (fx.tree, "slow.jpg", NULL);
  keep = g_build_filename (fx.tree, "keep.jpg", NULL);
  later = g_build_filename (fx.tree, "while-away.jpg", NULL);
  ren_hash = test_hash_of (ren_from);
  mv_hash = test_hash_of (mv_from);
  keep_hash = test_hash_of (keep);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, NULL), ==, 0);

  d = test_daemon_spawn (&fx, NULL);
  test_daemon_wait_lines (d, "uploaded\t", 5, 60);
  db = g_build_filename (fx.data, "eider.db", NULL);
  store = eider_store_open (db, &error);
  g_assert_no_error (error);
  posts = posted_files (&fx);
  puts = count_object_puts (&fx);
  g_assert_cmpuint (posts, ==, 5);
  g_assert_cmpuint (puts, ==, 10);   /* a body and a thumbnail each */

  /* Written over five seconds: taken once it is complete, uploaded once. */
  {
    g_autofree char *source = g_build_filename (fx.home, "slow-source", NULL);
    g_autofree char *contents = NULL;
    gsize len = 0;

    test_write_photo (source, "slow.jpg", 1200, 900);
    g_clear_pointer (&source, g_free);
    source = g_build_filename (fx.home, "slow-source", "slow.jpg", NULL);
    g_assert_true (g_file_get_contents (source, &contents, &len, NULL));
    slow_bytes = g_bytes_new_take (g_steal_pointer (&contents), len);
  }
  write_slowly (slow, slow_bytes);
  slow_hash = test_hash_of (slow);
  expected = g_strdup_printf ("uploaded\t%s", slow);
  test_daemon_wait_lines (d, expected, 1, 60);
  test_wait_uploaded_as (store, slow, slow_hash);
  g_assert_cmpuint (posted_files (&fx), ==, posts + 1);
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request PUT /files/update 200"), ==, 0);
  posts++;
  puts += 2;
  g_assert_cmpuint (count_object_puts (&fx), ==, puts);

  /* Edited in place (same inode): the Ente file gets the new content. */
  {
    g_autoptr(GBytes) bytes = NULL;
    g_autofree char *source = g_build_filename (fx.home, "edit-source", NULL);
    g_autofree char *contents = NULL;
    gsize len = 0;

    test_write_photo (source, "edit.jpg", 240, 120);
    g_clear_pointer (&source, g_free);
    source = g_build_filename (fx.home, "edit-source", "edit.jpg", NULL);
    g_assert_true (g_file_get_contents (source, &contents, &len, NULL));
    bytes = g_bytes_new_take (g_steal_pointer (&contents), len);
    write_slowly (edit, bytes);
  }
  edit_hash = test_hash_of (edit);
  test_wait_uploaded_as (store, edit, edit_hash);
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request PUT /files/update 200"), ==, 1);
  g_assert_cmpuint (posted_files (&fx), ==, posts);
  puts += 2;

  /* Renamed: a new name in Ente; moved into a subfolder made a moment
   * before (its monitor may not exist yet: then the watcher sees a removal
   * and a new file, which the engine pairs by identity), in one album for
   * the whole tree: it stays in the album and never passes through
   * Uncategorized. No bytes for either. */
  moves = test_server_count_log_lines (fx.server, "request POST /collections/move-files 200");
  g_assert_cmpint (g_rename (ren_from, ren_to), ==, 0);
  test_wait_forgotten (store, ren_from);
  test_wait_uploaded_as (store, ren_to, ren_hash);
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request PUT /files/public-magic-metadata 200"), ==, 1);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("uploaded\t%s\trenamed in Ente; nothing sent", ren_to);
  test_daemon_wait_lines (d, expected, 1, 10);

  {
    g_autofree char *dir = g_path_get_dirname (mv_to);

    g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  }
  g_assert_cmpint (g_rename (mv_from, mv_to), ==, 0);
  test_wait_forgotten (store, mv_from);
  test_wait_uploaded_as (store, mv_to, mv_hash);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("uploaded\t%s\tmoved; nothing sent", mv_to);
  test_daemon_wait_lines (d, expected, 1, 10);
  g_assert_cmpuint (posted_files (&fx), ==, posts);
  g_assert_cmpuint (count_object_puts (&fx), ==, puts);

  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request POST /collections/move-files 200"), ==, moves);
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request POST /collections/add-files 200"), ==, 0);

  /* Deleted: Ente keeps it, in Uncategorized; nothing is trashed. */
  g_assert_cmpint (g_unlink (gone), ==, 0);
  test_wait_forgotten (store, gone);
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request POST /collections/move-files 200"), ==, moves + 1);
  moves++;

  /* The watched folder goes away (renamed, as an unmounted disk would):
   * unavailable, and nothing in it counts as deleted. */
  away = g_strconcat (fx.tree, ".away", NULL);
  display = g_filename_display_name (fx.tree);
  g_assert_cmpint (g_rename (fx.tree, away), ==, 0);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("%s is unavailable", display);
  test_daemon_wait_lines (d, expected, 1, 30);
  {
    g_autoptr(EiderFileRecord) record = eider_store_find_file (store, keep);

    g_assert_nonnull (record);
    g_assert_cmpint (record->state, ==, EIDER_FILE_UPLOADED);
  }

  /* Changed while it was away: a new file. */
  test_write_photo (away, "while-away.jpg", 120, 90);
  {
    g_autofree char *there = g_build_filename (away, "while-away.jpg", NULL);

    later_hash = test_hash_of (there);
  }
  test_iterate_for (2 * G_USEC_PER_SEC);
  g_assert_cmpuint (posted_files (&fx), ==, posts);
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request POST /collections/move-files 200"), ==, moves);

  /* Back: caught up (the new file), and the others are still there. */
  g_assert_cmpint (g_rename (away, fx.tree), ==, 0);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("%s is back", display);
  test_daemon_wait_lines (d, expected, 1, 30);
  test_wait_uploaded_as (store, later, later_hash);
  test_wait_uploaded_as (store, keep, keep_hash);
  test_wait_uploaded_as (store, ren_to, ren_hash);
  g_assert_cmpuint (posted_files (&fx), ==, posts + 1);
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request POST /collections/move-files 200"), ==, moves);

  /* Still watched live after coming back. */
  test_write_photo (fx.tree, "after.jpg", 110, 80);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("uploaded\t%s/after.jpg", fx.tree);
  test_daemon_wait_lines (d, expected, 1, 60);

  /* Nothing was ever trashed, and each local file is one Ente file. */
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request POST /files/trash *"), ==, 0);
  g_assert_cmpuint (posted_files (&fx), ==, posts + 2);

  test_daemon_stop (d, SIGTERM, 30);
  g_assert_cmpint (g_subprocess_get_exit_status (d->proc), ==, 0);
  test_fixture_tear_down (&fx);
}

/* Over the kernel's inotify watch limit (in a user namespace whose limit
 * is 40 watches, for a tree of 60 folders) the folder is checked every
 * "poll-seconds" instead of live: the daemon says so once, status shows
 * it with the reason, and a new file is still found and uploaded. */
static void
test_daemon_watch_limit (void)
{
  TestFixture fx = { 0 };
  g_autoptr(TestDaemon) d = NULL;
  g_autofree char *unshare = g_find_program_in_path ("unshare");
  g_autofree char *out = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *display = NULL;
  int status = 0;
  const char *prefix[] = {
    NULL, "-Ur", "sh", "-c",
    "echo 40 > /proc/sys/user/max_inotify_watches || exit 77; exec \"$0\" \"$@\"",
    NULL
  };

  prefix[0] = unshare;
  if (unshare == NULL ||
      !g_spawn_sync (NULL, (char *[]) { unshare, (char *) "-Ur", (char *) "sh", (char *) "-c",
                                        (char *) "echo 40 > /proc/sys/user/max_inotify_watches", NULL },
                     NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                     &status, NULL) ||
      !g_spawn_check_wait_status (status, NULL))
    {
      g_test_skip ("no user namespaces with their own inotify limit here (unshare -Ur)");
      return;
    }

  test_fixture_set_up (&fx, NULL);
  g_setenv ("GSETTINGS_BACKEND", "keyfile", TRUE);
  for (guint i = 0; i < 60; i++)
    {
      g_autofree char *dir = g_strdup_printf ("%s/d%02u", fx.tree, i);

      g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
    }
  test_write_photo (fx.tree, "d00/first.jpg", 64, 64);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, NULL), ==, 0);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "config", "set", "poll-seconds", "10", NULL), ==, 0);

  d = test_daemon_spawn_under (&fx, prefix, NULL);
  display = g_filename_display_name (fx.tree);
  expected = g_strdup_printf ("%s is not watched live: the inotify watch limit is reached", display);
  test_daemon_wait_lines (d, expected, 1, 30);
  test_daemon_wait_lines (d, "uploaded\t", 1, 60);

  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "status", NULL), ==, 0);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("  %s — not watched live (the inotify watch limit is reached", display);
  assert_contains (out, expected);
  assert_contains (out, "): checked every 10 seconds\n");

  /* Found by the next check, not by inotify. */
  test_write_photo (fx.tree, "d59/later.jpg", 70, 70);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("uploaded\t%s/d59/later.jpg", fx.tree);
  test_daemon_wait_lines (d, expected, 1, 60);

  /* Said once, though the folder was walked again since. */
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("%s is not watched live", display);
  g_assert_cmpuint (test_count_lines (d->log->str, expected), ==, 1);

  test_daemon_stop (d, SIGTERM, 30);
  g_assert_cmpint (g_subprocess_get_exit_status (d->proc), ==, 0);
  g_unsetenv ("GSETTINGS_BACKEND");
  test_fixture_tear_down (&fx);
}

/* Pausing a folder stops its file in flight at once; the parts already
 * sent stay sent, and resuming finishes the file without sending them
 * again. The daemon runs under a bandwidth cap so that a part takes a
 * few seconds. */
static void
test_daemon_folder_pause_mid_file (void)
{
  TestFixture fx = { 0 };
  g_autoptr(TestDaemon) d = NULL;
  g_autoptr(GPtrArray) acked = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *display = NULL;
  guint puts;

  test_fixture_set_up (&fx, NULL);
  g_setenv ("GSETTINGS_BACKEND", "keyfile", TRUE);
  test_write_video (fx.tree, "big.mp4", 45 * MiB);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, NULL), ==, 0);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "config", "set", "bandwidth-limit", "8192", NULL), ==, 0);

  d = test_daemon_spawn (&fx, NULL);
  test_wait_acknowledged_part (&fx, 120);

  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "pause", fx.tree, NULL), ==, 0);
  display = g_filename_display_name (fx.tree);
  expected = g_strdup_printf ("Pausing %s on request.", display);
  test_daemon_wait_lines (d, expected, 1, 10);
  test_iterate_for (1 * G_USEC_PER_SEC);
  acked = test_acknowledged_parts (&fx);
  puts = count_part_puts (&fx);
  g_assert_cmpuint (acked->len, <, 3);

  /* A part takes ~2.5 s at 8 MiB/s: in 4 s nothing more arrives. */
  test_iterate_for (4 * G_USEC_PER_SEC);
  g_assert_cmpuint (count_part_puts (&fx), ==, puts);
  g_assert_cmpuint (posted_files (&fx), ==, 0);

  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "resume", fx.tree, NULL), ==, 0);
  test_daemon_wait_lines (d, "uploaded\t", 1, 120);
  test_assert_parts_sent_once (&fx, acked);
  g_assert_cmpuint (posted_files (&fx), ==, 1);
  test_daemon_stop (d, SIGTERM, 30);

  g_unsetenv ("GSETTINGS_BACKEND");
  test_fixture_tear_down (&fx);
}

/* 10,000 files created at once in a watched folder: coalesced, and each
 * uploaded exactly once. */
static void
test_daemon_ten_thousand (void)
{
  TestFixture fx = { 0 };
  g_autoptr(TestDaemon) d = NULL;
  g_autofree char *burst = NULL;
  g_autofree char *expected = NULL;
  const guint n = 10000;

  test_fixture_set_up (&fx, NULL);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, NULL), ==, 0);
  burst = g_build_filename (fx.tree, "burst", NULL);
  g_assert_cmpint (g_mkdir_with_parents (burst, 0755), ==, 0);

  d = test_daemon_spawn (&fx, NULL);
  daemon_wait_ready (d, &fx);
  expected = g_strdup_printf ("Eider is running (pid %d)", d->pid);
  test_daemon_wait_lines (d, expected, 1, 30);

  /* Small JPEG-signed files, each with different bytes. */
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/IMG_%05u.jpg", burst, i);
      guint8 data[64] = { 0xff, 0xd8, 0xff, 0xe0 };
      int fd;

      g_snprintf ((char *) data + 4, sizeof data - 4, "eider burst file %u", i);
      fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      g_assert_cmpint (fd, >=, 0);
      g_assert_cmpint (write (fd, data, sizeof data), ==, sizeof data);
      close (fd);
    }

  test_daemon_wait_lines (d, "uploaded\t", n, 1800);
  g_assert_cmpuint (posted_files (&fx), ==, n);

  /* Nothing more comes. */
  test_iterate_for (2 * G_USEC_PER_SEC);
  g_assert_cmpuint (posted_files (&fx), ==, n);
  test_daemon_stop (d, SIGTERM, 30);
  g_assert_cmpint (g_subprocess_get_exit_status (d->proc), ==, 0);

  test_fixture_tear_down (&fx);
}

int
main (int   argc,
      char *argv[])
{
  g_assert_true (eider_crypto_init (NULL));
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/daemon/not-logged-in", test_daemon_not_logged_in);
  g_test_add_func ("/daemon/runs", test_daemon_runs);
  g_test_add_func ("/daemon/watches", test_daemon_watches);
  g_test_add_func ("/daemon/single-instance", test_daemon_single_instance);
  g_test_add_func ("/daemon/pause-resume", test_daemon_pause_resume);
  g_test_add_func ("/daemon/sigterm-mid-upload", test_daemon_sigterm_mid_upload);
  g_test_add_func ("/daemon/dedupe-stop", test_daemon_dedupe_stop);
  g_test_add_func ("/daemon/folder-pause-mid-file", test_daemon_folder_pause_mid_file);
  g_test_add_func ("/daemon/live-changes", test_daemon_live_changes);
  g_test_add_func ("/daemon/watch-limit", test_daemon_watch_limit);
  g_test_add_func ("/daemon/ten-thousand", test_daemon_ten_thousand);

  return g_test_run ();
}
