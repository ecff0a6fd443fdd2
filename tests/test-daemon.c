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
 * also in the middle of an upload, which the next start resumes; eiderctl
 * gives the same results with and without it. The tests drive and watch
 * the daemon through its interface (TestDaemon's proxy).
 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <json-glib/json-glib.h>

#include "eider-account.h"
#include "eider-client.h"
#include "eider-instance.h"
#include "eider-signup.h"
#include "eider-store.h"
#include "eider-test-daemon.h"
#include "eider-test-fixture.h"
#include "eider-test-server-harness.h"

#define MiB TEST_MiB

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

/* Waits until @dir/@name is uploaded, as the daemon's interface says. */
static const char *
wait_uploaded (TestDaemon *d,
               const char *dir,
               const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  return test_daemon_wait_file (d, path, "uploaded", 60);
}

/* It uploads the existing tree, keeps running, shows up in status, and
 * leaves on SIGTERM with 0, quickly, taking its socket along. What it
 * prints when it starts and stops is said here (the other tests watch its
 * interface). */
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
  test_daemon_wait_counts (d, "uploaded", 3, 120);
  g_assert_cmpuint (posted_files (&fx), ==, 3);

  /* The lock file names it, and it is only the user's. */
  lock = g_build_filename (fx.data, "eider.lock", NULL);
  sock = g_build_filename (fx.data, "eider.sock", NULL);
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
  test_daemon_wait_state (d, "idle", "", 10);
  test_iterate_for (1 * G_USEC_PER_SEC);
  g_assert_false (d->exited);
  g_assert_cmpstr (eider_dbus_engine1_get_state (test_daemon_engine (d)), ==, "idle");
  g_assert_cmpuint (test_daemon_count (d, "skipped"), ==, 0);
  g_assert_cmpuint (test_daemon_count (d, "failed"), ==, 0);

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
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("Eider is running (pid %d) for %s, watching 1 folder.\n", d->pid, fx.email);
  assert_contains (d->log->str, expected);
  assert_contains (d->log->str, "Stopped: 3 uploaded, 0 skipped, 0 failed.");
  g_assert_false (g_file_test (sock, G_FILE_TEST_EXISTS));

  g_clear_pointer (&out, g_free);
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "status", NULL), ==, 0);
  assert_contains (out, "Daemon: not running\n");

  test_fixture_tear_down (&fx);
}

/* While it runs, files written into the watched folder (also into a new
 * subfolder) are uploaded without anyone asking. */
static void
test_daemon_watches (void)
{
  TestFixture fx = { 0 };
  g_autoptr(TestDaemon) d = NULL;

  test_fixture_set_up (&fx, NULL);
  test_write_photo (fx.tree, "old.jpg", 64, 64);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, "--album-per-folder", NULL), ==, 0);

  d = test_daemon_spawn (&fx, NULL);
  test_daemon_wait_counts (d, "uploaded", 1, 60);

  test_write_photo (fx.tree, "new.jpg", 70, 70);
  wait_uploaded (d, fx.tree, "new.jpg");
  test_write_photo (fx.tree, "2025/Summer/beach.jpg", 80, 80);
  wait_uploaded (d, fx.tree, "2025/Summer/beach.jpg");

  g_assert_cmpuint (test_daemon_count (d, "uploaded"), ==, 3);
  g_assert_cmpuint (posted_files (&fx), ==, 3);

  /* A folder added while it runs is walked and watched at once. */
  {
    g_autofree char *other = g_build_filename (fx.home, "Other", NULL);
    g_autoptr(GVariant) added = NULL;

    test_write_photo (other, "there.jpg", 90, 60);
    added = test_daemon_call (d, "AddFolder", g_variant_new ("(^aya{sv})", other, NULL));
    wait_uploaded (d, other, "there.jpg");

    test_write_photo (other, "later.jpg", 91, 61);
    wait_uploaded (d, other, "later.jpg");
    g_assert_cmpuint (test_daemon_count (d, "uploaded"), ==, 5);
    g_assert_cmpuint (posted_files (&fx), ==, 5);
  }

  g_assert_cmpint (test_daemon_stop (d, SIGTERM, 10), <, 5 * G_USEC_PER_SEC);
  g_assert_cmpint (g_subprocess_get_exit_status (d->proc), ==, 0);

  test_fixture_tear_down (&fx);
}

static void
assert_host_error (GError     *error,
                   int         code,
                   const char *message)
{
  g_assert_error (error, EIDER_HOST_ERROR, code);
  assert_contains (error->message, message);
}

/* One engine per state directory: a second daemon refuses, naming the
 * first; a one-time backup beside it attaches and waits. Bad input over
 * the interface gets a clear D-Bus error and the host keeps running. A
 * daemon killed with SIGKILL leaves a socket and a lock file behind, and
 * neither blocks the next one. */
static void
test_daemon_single_instance (void)
{
  TestFixture fx = { 0 };
  g_autoptr(TestDaemon) first = NULL;
  g_autoptr(TestDaemon) third = NULL;
  g_autoptr(EiderInstance) instance = NULL;
  EiderDBusEngine1 *engine;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) folder = NULL;
  g_autoptr(GVariant) files = NULL;
  g_autofree char *out = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *sock = NULL;
  g_autofree char *inner = NULL;
  g_autofree char *missing = NULL;
  struct stat st;
  guint total;

  test_fixture_set_up (&fx, NULL);
  test_write_photo (fx.tree, "a.jpg", 64, 64);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, NULL), ==, 0);

  first = test_daemon_spawn (&fx, NULL);
  engine = test_daemon_engine (first);

  /* The socket is the user's alone. */
  sock = g_build_filename (fx.data, "eider.sock", NULL);
  g_assert_cmpint (g_stat (sock, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "daemon", NULL), ==, 1);
  expected = g_strdup_printf ("Another Eider (pid %d) is already running with this state directory (%s)",
                              first->pid, fx.data);
  assert_contains (out, expected);

  instance = eider_instance_acquire (fx.data, &error);
  g_assert_error (error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_RUNNING);
  g_assert_null (instance);
  assert_contains (error->message, expected);
  g_clear_error (&error);

  /* A one-time backup beside it asks it, waits, and is done. */
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "backup", "--once", NULL), ==, 0);
  assert_contains (out, " 0 failed.\n");

  /* Bad input is answered, not obeyed. */
  missing = g_build_filename (fx.tree, "no-such-folder", NULL);
  g_assert_false (eider_dbus_engine1_call_add_folder_sync (engine, missing, g_variant_new ("a{sv}", NULL),
                                                           &folder, NULL, &error));
  assert_host_error (error, EIDER_HOST_ERROR_NOT_FOUND, "is not a folder");
  g_clear_error (&error);

  inner = g_build_filename (fx.tree, "inner", NULL);
  g_assert_cmpint (g_mkdir (inner, 0700), ==, 0);
  g_assert_false (eider_dbus_engine1_call_add_folder_sync (engine, inner, g_variant_new ("a{sv}", NULL),
                                                           &folder, NULL, &error));
  assert_host_error (error, EIDER_HOST_ERROR_EXISTS, "watched");
  g_clear_error (&error);

  {
    GVariantBuilder builder;

    g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add (&builder, "{sv}", "on-edit", g_variant_new_string ("shred"));
    g_assert_false (eider_dbus_engine1_call_set_folder_options_sync (engine, fx.tree,
                                                                     g_variant_builder_end (&builder),
                                                                     &folder, NULL, &error));
    assert_host_error (error, EIDER_HOST_ERROR_INVALID_ARGS, "on-edit = “shred”");
    g_clear_error (&error);
  }

  g_assert_false (eider_dbus_engine1_call_retry_file_sync (engine, 999999, NULL, &error));
  assert_host_error (error, EIDER_HOST_ERROR_NOT_FOUND, "No file has the id 999999");
  g_clear_error (&error);

  g_assert_false (eider_dbus_engine1_call_list_files_sync (engine, "uploaded", 0, -5, &files, &total,
                                                           NULL, &error));
  assert_host_error (error, EIDER_HOST_ERROR_INVALID_ARGS, "limit -5");
  g_clear_error (&error);
  g_assert_false (eider_dbus_engine1_call_list_files_sync (engine, "lost", 0, 5, &files, &total,
                                                           NULL, &error));
  assert_host_error (error, EIDER_HOST_ERROR_INVALID_ARGS, "No file state is called “lost”");
  g_clear_error (&error);

  g_assert_false (eider_dbus_engine1_call_pause_sync (engine, missing, NULL, &error));
  assert_host_error (error, EIDER_HOST_ERROR_NOT_FOUND, "is not watched");
  g_clear_error (&error);

  /* The refused ones changed nothing: the first still runs and answers. */
  g_assert_false (first->exited);
  g_assert_true (eider_dbus_engine1_call_list_files_sync (engine, "uploaded", 0, 10, &files, &total,
                                                          NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (total, ==, 1);
  g_assert_cmpuint (g_variant_n_children (files), ==, 1);

  /* A hard kill: the socket file stays, but nobody listens. */
  test_daemon_stop (first, SIGKILL, 10);
  g_assert_true (g_file_test (sock, G_FILE_TEST_EXISTS));
  g_assert_null (eider_client_connect_sync (fx.data, NULL, &error));
  g_assert_error (error, EIDER_HOST_ERROR, EIDER_HOST_ERROR_NOT_RUNNING);
  g_clear_error (&error);

  g_clear_pointer (&out, g_free);
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "status", NULL), ==, 0);
  assert_contains (out, "Daemon: not running\n");

  third = test_daemon_spawn (&fx, NULL);
  test_daemon_engine (third);
  g_assert_cmpint (test_daemon_stop (third, SIGINT, 10), <, 5 * G_USEC_PER_SEC);
  g_assert_cmpint (g_subprocess_get_exit_status (third->proc), ==, 0);
  g_assert_false (g_file_test (sock, G_FILE_TEST_EXISTS));

  /* And once it is gone, the directory can be taken again. */
  instance = eider_instance_acquire (fx.data, &error);
  g_assert_no_error (error);
  g_assert_nonnull (instance);
  g_clear_object (&instance);

  test_fixture_tear_down (&fx);
}

/* Pause and resume through the CLI while the daemon runs: acknowledged,
 * applied, persisted, kept across a restart, and undone by resume. Then
 * the same for one folder. */
static void
test_daemon_pause_resume (void)
{
  TestFixture fx = { 0 };
  g_autoptr(TestDaemon) d = NULL;
  g_autofree char *out = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *meta = NULL;

  test_fixture_set_up (&fx, NULL);
  test_write_photo (fx.tree, "first.jpg", 64, 64);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, NULL), ==, 0);

  d = test_daemon_spawn (&fx, NULL);
  test_daemon_wait_counts (d, "uploaded", 1, 60);

  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "pause", NULL), ==, 0);
  expected = g_strdup_printf ("Paused the backup; the running Eider (pid %d) applied it.\n", d->pid);
  assert_contains (out, expected);
  test_daemon_wait_state (d, "paused", "Paused", 10);
  g_assert_true (eider_dbus_engine1_get_paused (test_daemon_engine (d)));
  g_assert_cmpstr (eider_dbus_engine1_get_state_action (test_daemon_engine (d)), ==, "resume");
  meta = test_store_meta (&fx, "paused");
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
  g_assert_true (eider_dbus_engine1_get_paused (test_daemon_engine (d)));
  test_daemon_wait_state (d, "paused", "Paused", 10);
  test_daemon_wait_counts (d, "pending", 1, 30);
  test_iterate_for (2 * G_USEC_PER_SEC);
  g_assert_cmpuint (test_daemon_count (d, "pending"), ==, 1);
  g_assert_cmpuint (test_daemon_count (d, "uploaded"), ==, 1);
  g_assert_cmpuint (posted_files (&fx), ==, 1);

  g_clear_pointer (&out, g_free);
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "resume", NULL), ==, 0);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("Resumed the backup; the running Eider (pid %d) applied it.\n", d->pid);
  assert_contains (out, expected);
  wait_uploaded (d, fx.tree, "while-paused.jpg");
  g_assert_false (eider_dbus_engine1_get_paused (test_daemon_engine (d)));
  g_assert_cmpuint (posted_files (&fx), ==, 2);
  g_clear_pointer (&meta, g_free);
  meta = test_store_meta (&fx, "paused");
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
  /* The same, seen through the interface. */
  g_assert_false (eider_dbus_engine1_get_paused (test_daemon_engine (d)));
  test_daemon_wait_folder (d, fx.tree, "paused", TRUE, 0);
  test_daemon_wait_folder (d, fx.tree, "live", TRUE, 0);
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
  test_daemon_wait_folder (d, fx.tree, "paused", TRUE, 0);
  test_iterate_for (2 * G_USEC_PER_SEC);
  g_assert_cmpuint (test_daemon_count (d, "uploaded"), ==, 2);
  g_assert_cmpuint (posted_files (&fx), ==, 2);

  g_clear_pointer (&out, g_free);
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "resume", fx.tree, NULL), ==, 0);
  assert_contains (out, "; the running Eider");
  test_daemon_wait_folder (d, fx.tree, "paused", FALSE, 0);
  wait_uploaded (d, fx.tree, "folder-paused.jpg");
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

  test_fixture_set_up (&fx, NULL);
  test_write_video (fx.tree, "big.mp4", 60 * MiB + 7);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, NULL), ==, 0);

  d = test_daemon_spawn (&fx, (const char *[]) { "--jobs", "1", NULL });
  test_wait_acknowledged_part (&fx, 60);

  g_assert_cmpint (test_daemon_stop (d, SIGTERM, 10), <, 5 * G_USEC_PER_SEC);
  g_assert_true (g_subprocess_get_if_exited (d->proc));
  g_assert_cmpint (g_subprocess_get_exit_status (d->proc), ==, 0);
  g_assert_cmpuint (posted_files (&fx), ==, 0);
  {
    /* Stopped, not failed: still to do. */
    g_autoptr(EiderStore) store = test_open_store (&fx);
    EiderStoreCounts counts = { { 0 } };

    g_assert_true (eider_store_get_counts (store, &counts, NULL));
    g_assert_cmpuint (counts.n_by_state[EIDER_FILE_FAILED], ==, 0);
    g_assert_cmpuint (counts.n_by_state[EIDER_FILE_PENDING] + counts.n_by_state[EIDER_FILE_WORKING], ==, 1);
  }

  acked = test_acknowledged_parts (&fx);
  g_assert_cmpuint (acked->len, >=, 1);
  g_clear_pointer (&d, test_daemon_free);

  d = test_daemon_spawn (&fx, NULL);
  {
    g_autofree char *big = g_build_filename (fx.tree, "big.mp4", NULL);

    test_daemon_wait_file (d, big, "uploaded", 120);
  }
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
  hash = test_watch_slow_copies (&fx, folders);

  d = test_daemon_spawn (&fx, NULL);
  test_wait_acknowledged_part (&fx, 60);
  g_assert_cmpint (test_daemon_stop (d, SIGTERM, 10), <, 5 * G_USEC_PER_SEC);
  g_assert_true (g_subprocess_get_if_exited (d->proc));
  g_assert_cmpint (g_subprocess_get_exit_status (d->proc), ==, 0);
  g_assert_cmpuint (test_count_lines (d->log->str, "failed\t"), ==, 0);
  g_assert_cmpuint (posted_files (&fx), ==, 0);
  g_clear_pointer (&d, test_daemon_free);

  d = test_daemon_spawn (&fx, NULL);
  test_daemon_wait_counts (d, "uploaded", 5, 120);
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

  /* 3: not logged in (the window tells it from a crash by this status). */
  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "daemon", NULL), ==, 3);
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
  g_autoptr(GBytes) slow_bytes = NULL;
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
  test_daemon_wait_counts (d, "uploaded", 5, 60);
  store = test_open_store (&fx);
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
  test_daemon_wait_file (d, slow, "uploaded", 60);
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
  g_assert_cmpstr (test_daemon_wait_file (d, ren_to, "uploaded", 10), ==, "renamed in Ente; nothing sent");

  {
    g_autofree char *dir = g_path_get_dirname (mv_to);

    g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  }
  g_assert_cmpint (g_rename (mv_from, mv_to), ==, 0);
  test_wait_forgotten (store, mv_from);
  test_wait_uploaded_as (store, mv_to, mv_hash);
  g_assert_cmpstr (test_daemon_wait_file (d, mv_to, "uploaded", 10), ==, "moved; nothing sent");
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
  g_assert_cmpint (g_rename (fx.tree, away), ==, 0);
  test_daemon_wait_folder (d, fx.tree, "available", FALSE, 30);
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
  test_daemon_wait_folder (d, fx.tree, "available", TRUE, 30);
  test_wait_uploaded_as (store, later, later_hash);
  test_wait_uploaded_as (store, keep, keep_hash);
  test_wait_uploaded_as (store, ren_to, ren_hash);
  g_assert_cmpuint (posted_files (&fx), ==, posts + 1);
  g_assert_cmpuint (test_server_count_log_lines (fx.server, "request POST /collections/move-files 200"), ==, moves);

  /* Still watched live after coming back. */
  test_write_photo (fx.tree, "after.jpg", 110, 80);
  wait_uploaded (d, fx.tree, "after.jpg");

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
  test_daemon_wait_folder (d, fx.tree, "live", FALSE, 30);
  test_daemon_wait_counts (d, "uploaded", 1, 60);

  g_assert_cmpint (test_eiderctl (&fx, NULL, &out, "status", NULL), ==, 0);
  expected = g_strdup_printf ("  %s — not watched live (the inotify watch limit is reached", display);
  assert_contains (out, expected);
  assert_contains (out, "): checked every 10 seconds\n");

  /* Found by the next check, not by inotify. */
  test_write_photo (fx.tree, "d59/later.jpg", 70, 70);
  wait_uploaded (d, fx.tree, "d59/later.jpg");

  /* Said once in its output, though the folder was walked again since. */
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
  g_autoptr(GVariant) reply = NULL;
  guint puts;

  test_fixture_set_up (&fx, NULL);
  g_setenv ("GSETTINGS_BACKEND", "keyfile", TRUE);
  test_write_video (fx.tree, "big.mp4", 45 * MiB);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, NULL), ==, 0);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "config", "set", "bandwidth-limit", "8192", NULL), ==, 0);

  d = test_daemon_spawn (&fx, NULL);
  test_wait_acknowledged_part (&fx, 120);

  reply = test_daemon_call (d, "Pause", g_variant_new ("(^ay)", fx.tree));
  test_daemon_wait_folder (d, fx.tree, "paused", TRUE, 0);
  test_iterate_for (1 * G_USEC_PER_SEC);
  acked = test_acknowledged_parts (&fx);
  puts = count_part_puts (&fx);
  g_assert_cmpuint (acked->len, <, 3);

  /* A part takes ~2.5 s at 8 MiB/s: in 4 s nothing more arrives. */
  test_iterate_for (4 * G_USEC_PER_SEC);
  g_assert_cmpuint (count_part_puts (&fx), ==, puts);
  g_assert_cmpuint (posted_files (&fx), ==, 0);

  g_clear_pointer (&reply, g_variant_unref);
  reply = test_daemon_call (d, "Resume", g_variant_new ("(^ay)", fx.tree));
  test_daemon_wait_counts (d, "uploaded", 1, 120);
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
  const guint n = 10000;

  test_fixture_set_up (&fx, NULL);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, NULL), ==, 0);
  burst = g_build_filename (fx.tree, "burst", NULL);
  g_assert_cmpint (g_mkdir_with_parents (burst, 0755), ==, 0);

  d = test_daemon_spawn (&fx, NULL);
  /* It answers once it watches. */
  test_daemon_engine (d);

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

  test_daemon_wait_counts (d, "uploaded", n, 1800);
  g_assert_cmpuint (posted_files (&fx), ==, n);

  /* Nothing more comes. */
  test_iterate_for (2 * G_USEC_PER_SEC);
  g_assert_cmpuint (posted_files (&fx), ==, n);
  test_daemon_stop (d, SIGTERM, 30);
  g_assert_cmpint (g_subprocess_get_exit_status (d->proc), ==, 0);

  test_fixture_tear_down (&fx);
}

/* Progress through the interface: a client subscribed while a 100 MiB file
 * uploads sees its bytes rise monotonically to its size, at most 4
 * batches a second, then the finished signal, after which the properties
 * show the same counts as the store. */
typedef struct
{
  GArray   *times;      /* gint64 µs of each batch */
  GArray   *done;       /* gint64 bytes done of the file, per batch it is in */
  guint64   total;
  gint64    finished_id;
  char     *finished_state;
  guint     batches_after_finished;
} Watched;

static void
progress_cb (EiderDBusEngine1 *engine,
             GVariant         *files,
             Watched          *w)
{
  GVariantIter iter;
  gint64 id;
  guint64 done, total;
  gint64 now = g_get_monotonic_time ();

  g_array_append_val (w->times, now);
  if (w->finished_state != NULL)
    w->batches_after_finished++;
  g_variant_iter_init (&iter, files);
  while (g_variant_iter_next (&iter, "(xtt)", &id, &done, &total))
    {
      gint64 d = (gint64) done;

      g_array_append_val (w->done, d);
      w->total = total;
    }
}

static void
finished_cb (EiderDBusEngine1 *engine,
             gint64            id,
             const char       *path,
             const char       *state,
             const char       *reason,
             const char       *details,
             Watched          *w)
{
  GVariant *counts = eider_dbus_engine1_get_counts (engine);
  guint uploaded = 0;

  w->finished_id = id;
  w->finished_state = g_strdup (state);
  /* The counts are current when the signal arrives. */
  g_assert_true (g_variant_lookup (counts, "uploaded", "u", &uploaded));
  g_assert_cmpuint (uploaded, ==, 1);
  g_assert_cmpuint (eider_dbus_engine1_get_files_left (engine), ==, 0);
}

static void
test_daemon_progress (void)
{
  TestFixture fx = { 0 };
  g_autoptr(TestDaemon) d = NULL;
  EiderDBusEngine1 *engine;
  g_autoptr(GError) error = NULL;
  g_autofree char *big = NULL;
  Watched w = { 0 };
  gint64 deadline;
  double seconds;

  test_fixture_set_up (&fx, NULL);
  big = g_build_filename (fx.tree, "big.mp4", NULL);
  test_write_video (fx.tree, "big.mp4", 100 * MiB);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, NULL), ==, 0);
  /* Paused until the client listens. */
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "pause", NULL), ==, 0);

  d = test_daemon_spawn (&fx, NULL);
  engine = test_daemon_engine (d);
  g_assert_cmpstr (eider_dbus_engine1_get_state (engine), ==, "paused");
  g_assert_cmpstr (eider_dbus_engine1_get_state_action (engine), ==, "resume");
  g_assert_cmpstr (eider_dbus_engine1_get_account_email (engine), ==, fx.email);
  g_assert_cmpstr (eider_dbus_engine1_get_state_directory (engine), ==, fx.data);

  w.times = g_array_new (FALSE, FALSE, sizeof (gint64));
  w.done = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_signal_connect (engine, "progress", G_CALLBACK (progress_cb), &w);
  g_signal_connect (engine, "file-finished", G_CALLBACK (finished_cb), &w);
  g_assert_true (eider_dbus_engine1_call_resume_sync (engine, "", NULL, &error));
  g_assert_no_error (error);

  deadline = g_get_monotonic_time () + 600 * G_USEC_PER_SEC;
  while (w.finished_state == NULL)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  g_assert_cmpstr (w.finished_state, ==, "uploaded");

  /* Rising to the file's size, never back. */
  g_assert_cmpuint (w.done->len, >=, 2);
  for (guint i = 1; i < w.done->len; i++)
    g_assert_cmpint (g_array_index (w.done, gint64, i), >=, g_array_index (w.done, gint64, i - 1));
  g_assert_cmpuint (w.total, ==, 100 * MiB);
  g_assert_cmpint (g_array_index (w.done, gint64, w.done->len - 1), ==, 100 * MiB);
  g_assert_cmpuint (w.batches_after_finished, ==, 0);

  /* At most 4 a second: n batches need at least (n - 1) / 4 seconds (a
   * little slack for delivery). */
  seconds = (g_array_index (w.times, gint64, w.times->len - 1) - g_array_index (w.times, gint64, 0)) / 1e6;
  g_test_message ("%u batches in %.2f s", w.times->len, seconds);
  g_assert_cmpfloat ((w.times->len - 1) / 4.0, <=, seconds + 0.3);

  g_assert_cmpint (test_daemon_stop (d, SIGTERM, 30), <, 10 * G_USEC_PER_SEC);
  g_array_unref (w.times);
  g_array_unref (w.done);
  g_free (w.finished_state);
  test_fixture_tear_down (&fx);
}

/* Without a session bus the clients still reach the host, through its
 * socket; and while it runs, they never open the store: the host alone
 * writes it (strace sees every file eiderctl opens). */
static void
test_daemon_socket_only (void)
{
  TestFixture fx = { 0 };
  g_autoptr(TestDaemon) d = NULL;
  g_autofree char *out = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *trace = NULL;
  g_autofree char *trace_text = NULL;
  g_autofree char *other = NULL;
  const char *no_bus[] = { "env", "-u", "DBUS_SESSION_BUS_ADDRESS", NULL };

  test_fixture_set_up (&fx, NULL);
  test_write_photo (fx.tree, "a.jpg", 64, 64);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, NULL), ==, 0);
  other = g_build_filename (fx.home, "Other", NULL);
  g_assert_cmpint (g_mkdir (other, 0700), ==, 0);

  d = test_daemon_spawn (&fx, NULL);
  test_daemon_wait_counts (d, "uploaded", 1, 60);

  g_assert_cmpint (test_eiderctl (&fx, no_bus, &out, "pause", NULL), ==, 0);
  expected = g_strdup_printf ("Paused the backup; the running Eider (pid %d) applied it.\n", d->pid);
  assert_contains (out, expected);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (test_eiderctl (&fx, no_bus, &out, "status", NULL), ==, 0);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("Daemon: running (pid %d), paused", d->pid);
  assert_contains (out, expected);
  assert_contains (out, "Files: 1 uploaded");
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (test_eiderctl (&fx, no_bus, &out, "resume", NULL), ==, 0);
  assert_contains (out, "Resumed the backup; the running Eider");

  trace = g_build_filename (fx.home, "strace.log", NULL);
  {
    const char *strace[] = { "strace", "-f", "-qq", "-e", "trace=open,openat,creat", "-o", trace, NULL };
    const char *commands[][6] = {
      { "status", NULL },
      { "status", "--json", NULL },
      { "failures", "--skipped", NULL },
      { "watch", "list", NULL },
      { "watch", "set", fx.tree, "--on-delete", "keep", NULL },
      { "watch", "add", other, NULL },
      { "watch", "remove", other, NULL },
      { "pause", NULL },
      { "resume", NULL },
      { "resume", "--force", NULL },
      { "retry", NULL },
    };

    for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
      {
        g_autofree char *text = NULL;

        if (test_eiderctl_argv (&fx, strace, commands[i], &text) != 0)
          g_error ("eiderctl %s failed:\n%s", commands[i][0], text);
        g_assert_true (g_file_get_contents (trace, &trace_text, NULL, NULL));
        if (strstr (trace_text, "eider.db") != NULL)
          g_error ("eiderctl %s opened the store beside a running host:\n%s", commands[i][0], trace_text);
        g_clear_pointer (&trace_text, g_free);
      }
  }

  g_assert_false (d->exited);
  g_assert_cmpint (test_daemon_stop (d, SIGTERM, 30), <, 10 * G_USEC_PER_SEC);
  test_fixture_tear_down (&fx);
}

/* What eiderctl printed, with only what must differ beside a running host
 * made alike: who applied a change. */
static char *
normalise (const char *out)
{
  g_autoptr(GRegex) applied = g_regex_new ("(; the running Eider \\(pid [0-9]+\\) applied it"
                                           "|\\. Eider is not running: this will apply when it next starts)\\.",
                                           0, 0, NULL);

  return g_regex_replace_literal (applied, out, -1, 0, " [applied].", 0, NULL);
}

/* The parts of "status --json" that are about the store: the files, the
 * bytes left and the folders, less what only a running watcher knows
 * (whether a folder is watched live, and how often it would be walked). */
static char *
status_parts (const char *json)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonNode) parts = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(JsonObject) kept = json_object_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *root;
  JsonArray *watches;

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  watches = json_object_get_array_member (root, "watches");
  for (guint i = 0; i < json_array_get_length (watches); i++)
    {
      json_object_remove_member (json_array_get_object_element (watches, i), "live");
      json_object_remove_member (json_array_get_object_element (watches, i), "pollSeconds");
    }
  json_object_set_member (kept, "files", json_node_copy (json_object_get_member (root, "files")));
  json_object_set_member (kept, "bytesLeft", json_node_copy (json_object_get_member (root, "bytesLeft")));
  json_object_set_member (kept, "watches", json_node_copy (json_object_get_member (root, "watches")));
  json_node_set_object (parts, kept);

  return json_to_string (parts, TRUE);
}

/* Runs each command of @commands; what each printed (normalised), and
 * how it exited. */
static GPtrArray *
run_commands (TestFixture       *fx,
              const char * const commands[][6],
              guint              n)
{
  GPtrArray *results = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *out = NULL;
      g_autofree char *shown = NULL;
      int status = test_eiderctl_argv (fx, NULL, commands[i], &out);

      shown = g_str_equal (commands[i][0], "status") ? status_parts (out) : normalise (out);
      g_ptr_array_add (results, g_strdup_printf ("eiderctl %s %s → %d\n%s", commands[i][0],
                                                 commands[i][1] != NULL ? commands[i][1] : "", status, shown));
    }

  return results;
}

/* Every eiderctl command gives the same result with and without a
 * running host, on the same store: one that backed up a small tree with
 * one skipped (empty) file. */
static void
test_daemon_same_results (void)
{
  TestFixture fx = { 0 };
  g_autoptr(TestDaemon) d = NULL;
  g_autoptr(GPtrArray) alone = NULL;
  g_autoptr(GPtrArray) hosted = NULL;
  g_autofree char *other = NULL;

  test_fixture_set_up (&fx, NULL);
  test_write_photo (fx.tree, "a.jpg", 64, 64);
  test_write_text (fx.tree, "2024/empty.jpg", "", 0);
  other = g_build_filename (fx.home, "Other", NULL);
  g_assert_cmpint (g_mkdir (other, 0700), ==, 0);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, NULL), ==, 0);
  d = test_daemon_spawn (&fx, NULL);
  test_daemon_wait_counts (d, "uploaded", 1, 60);
  test_daemon_wait_counts (d, "skipped", 1, 60);
  test_daemon_wait_state (d, "idle", "", 30);
  g_assert_cmpint (test_daemon_stop (d, SIGTERM, 30), <, 10 * G_USEC_PER_SEC);
  g_clear_pointer (&d, test_daemon_free);

  {
    const char * const commands[][6] = {
      { "watch", "list", NULL },
      { "status", "--json", NULL },
      { "failures", "--skipped", NULL },
      { "watch", "set", fx.tree, "--on-delete", "keep", NULL },
      { "watch", "set", fx.tree, "--on-delete", "leave-album", NULL },
      { "watch", "add", other, NULL },
      { "watch", "list", NULL },
      { "watch", "remove", other, NULL },
      { "pause", fx.tree, NULL },
      { "watch", "list", NULL },
      { "resume", fx.tree, NULL },
    };

    alone = run_commands (&fx, commands, G_N_ELEMENTS (commands));
    assert_contains (g_ptr_array_index (alone, 2), "empty.jpg");

    d = test_daemon_spawn (&fx, NULL);
    test_daemon_wait_state (d, "idle", "", 60);
    hosted = run_commands (&fx, commands, G_N_ELEMENTS (commands));
  }

  for (guint i = 0; i < alone->len; i++)
    g_assert_cmpstr (g_ptr_array_index (hosted, i), ==, g_ptr_array_index (alone, i));
  g_assert_cmpuint (test_daemon_count (d, "uploaded"), ==, 1);
  g_assert_cmpuint (test_daemon_count (d, "skipped"), ==, 1);
  g_assert_cmpuint (posted_files (&fx), ==, 1);

  g_assert_cmpint (test_daemon_stop (d, SIGTERM, 30), <, 10 * G_USEC_PER_SEC);
  test_fixture_tear_down (&fx);
}

/* With a session bus that knows the host's service file, a client's call
 * starts the host by D-Bus activation; Quit stops it. */
static void
test_daemon_activation (void)
{
  TestFixture fx = { 0 };
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) login = NULL;
  g_autoptr(GSubprocess) bus = NULL;
  g_autoptr(GDataInputStream) bus_out = NULL;
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(EiderDBusEngine1) engine = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *config = NULL;
  g_autofree char *services = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *conf_text = NULL;
  g_autofree char *service = NULL;
  g_autofree char *service_text = NULL;
  g_autofree char *address = NULL;
  g_autofree char *text = NULL;
  g_autofree char *sock = NULL;
  gint64 deadline;

  test_fixture_set_up (&fx, NULL);
  test_write_photo (fx.tree, "a.jpg", 64, 64);
  g_assert_cmpint (test_eiderctl (&fx, NULL, NULL, "watch", "add", fx.tree, NULL), ==, 0);

  /* The activated host has no keyring on that bus: its keys are in a file. */
  config = g_build_filename (fx.home, "activated-config", NULL);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_MERGE);
  login = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("EIDERCTL"), "--config-dir", config,
                                       "account", "login", "--endpoint", fx.server->url, "--email", fx.email,
                                       "--password-stdin", "--store-secrets-in-file", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (login, TEST_PASSWORD "\n", NULL, &text, NULL, &error);
  g_assert_no_error (error);
  if (g_subprocess_get_exit_status (login) != 0)
    g_error ("login failed:\n%s", text);

  services = g_build_filename (fx.home, "services", NULL);
  g_assert_cmpint (g_mkdir (services, 0700), ==, 0);
  service = g_build_filename (services, EIDER_HOST_BUS_NAME ".service", NULL);
  service_text = g_strdup_printf ("[D-BUS Service]\nName=" EIDER_HOST_BUS_NAME "\n"
                                  "Exec=/bin/sh -c \"exec %s --config-dir %s --data-dir %s daemon >%s/host.log 2>&1\"\n",
                                  g_getenv ("EIDERCTL"), config, fx.data, fx.home);
  g_assert_true (g_file_set_contents (service, service_text, -1, NULL));
  conf = g_build_filename (fx.home, "bus.conf", NULL);
  conf_text = g_strdup_printf ("<busconfig><type>session</type><listen>unix:tmpdir=%s</listen>"
                               "<servicedir>%s</servicedir><auth>EXTERNAL</auth>"
                               "<policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>"
                               "<allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>",
                               fx.home, services);
  g_assert_true (g_file_set_contents (conf, conf_text, -1, NULL));

  {
    g_autoptr(GSubprocessLauncher) bus_launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);

    /* The bus goes with the test, and takes the host it started along. */
    g_subprocess_launcher_set_child_setup (bus_launcher, test_die_with_parent, NULL, NULL);
    bus = g_subprocess_launcher_spawn (bus_launcher, &error, "dbus-daemon", "--nofork",
                                       "--print-address", "--config-file", conf, NULL);
  }
  g_assert_no_error (error);
  bus_out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (bus));
  address = g_data_input_stream_read_line (bus_out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (address);

  connection = g_dbus_connection_new_for_address_sync (address,
                                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                       G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                       NULL, NULL, &error);
  g_assert_no_error (error);
  /* Nobody runs yet: the proxy's first call starts the host. */
  sock = g_build_filename (fx.data, "eider.sock", NULL);
  g_assert_false (g_file_test (sock, G_FILE_TEST_EXISTS));
  engine = eider_dbus_engine1_proxy_new_sync (connection, G_DBUS_PROXY_FLAGS_NONE, EIDER_HOST_BUS_NAME,
                                              EIDER_HOST_OBJECT_PATH, NULL, &error);
  g_assert_no_error (error);
  {
    g_autoptr(GVariant) folders = NULL;

    g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (engine), 60000);
    g_assert_true (eider_dbus_engine1_call_list_folders_sync (engine, &folders, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (g_variant_n_children (folders), ==, 1);
  }
  g_assert_true (g_file_test (sock, G_FILE_TEST_EXISTS));

  g_assert_true (eider_dbus_engine1_call_quit_sync (engine, NULL, &error));
  g_assert_no_error (error);
  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (g_file_test (sock, G_FILE_TEST_EXISTS))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      test_iterate_for (50000);
    }

  g_clear_object (&engine);
  g_dbus_connection_close_sync (connection, NULL, NULL);
  g_subprocess_send_signal (bus, SIGTERM);
  g_subprocess_wait (bus, NULL, NULL);
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
  g_test_add_func ("/daemon/progress", test_daemon_progress);
  g_test_add_func ("/daemon/socket-only", test_daemon_socket_only);
  g_test_add_func ("/daemon/activation", test_daemon_activation);
  g_test_add_func ("/daemon/same-results", test_daemon_same_results);
  g_test_add_func ("/daemon/pause-resume", test_daemon_pause_resume);
  g_test_add_func ("/daemon/sigterm-mid-upload", test_daemon_sigterm_mid_upload);
  g_test_add_func ("/daemon/dedupe-stop", test_daemon_dedupe_stop);
  g_test_add_func ("/daemon/folder-pause-mid-file", test_daemon_folder_pause_mid_file);
  g_test_add_func ("/daemon/live-changes", test_daemon_live_changes);
  g_test_add_func ("/daemon/watch-limit", test_daemon_watch_limit);
  g_test_add_func ("/daemon/ten-thousand", test_daemon_ten_thousand);

  return g_test_run ();
}
