/* eider-test-fixture.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include "eider-account.h"
#include "eider-signup.h"
#include "eider-store.h"
#include "eider-test-fixture.h"

void
test_write_bytes (const char   *path,
                  const guint8 *data,
                  gsize         len)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_file_set_contents (path, (const char *) data, len, &error);
  g_assert_no_error (error);
}

void
test_write_text (const char *root,
                 const char *rel,
                 const char *data,
                 gsize       len)
{
  g_autofree char *path = g_build_filename (root, rel, NULL);

  test_write_bytes (path, (const guint8 *) data, len);
}

void
test_write_photo (const char *root,
                  const char *rel,
                  int         width,
                  int         height)
{
  g_autofree char *path = g_build_filename (root, rel, NULL);
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  g_autofree char *buffer = NULL;
  gsize size = 0;

  gdk_pixbuf_fill (pixbuf, g_random_int () | 0xff);
  g_assert_true (gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &size, "jpeg", NULL, NULL));
  test_write_bytes (path, (const guint8 *) buffer, size);
}

void
test_write_video (const char *root,
                  const char *rel,
                  gsize       size)
{
  g_autofree char *path = g_build_filename (root, rel, NULL);
  g_autofree guint8 *data = g_malloc (size + 4);

  for (gsize i = 0; i < size; i += 4)
    {
      guint32 r = g_random_int ();

      memcpy (data + i, &r, 4);
    }
  memcpy (data, "\x00\x00\x00\x20" "ftypisom", 12);
  test_write_bytes (path, data, size);
}

void
test_fixture_set_up (TestFixture        *fx,
                     const char * const *server_args)
{
  g_autoptr(EiderSignup) signup = NULL;
  g_autoptr(EiderSession) session = NULL;
  g_autoptr(EiderAccount) account = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  fx->server = test_server_start (server_args);
  fx->home = test_make_tmpdir ("eider-test-XXXXXX");
  fx->config = g_build_filename (fx->home, "config", NULL);
  fx->data = g_build_filename (fx->home, "data", NULL);
  fx->tree = g_build_filename (fx->home, "Photos", NULL);
  fx->email = g_strdup_printf ("test-%u@example.org", g_random_int ());
  g_assert_cmpint (g_mkdir_with_parents (fx->tree, 0755), ==, 0);

  signup = eider_signup_new (fx->server->url, fx->email);
  eider_signup_request_code_async (signup, NULL, test_result_cb, &result);
  g_assert_true (eider_signup_request_code_finish (signup, test_wait (&result), &error));
  g_clear_object (&result);
  eider_signup_complete_async (signup, "123456", TEST_PASSWORD, NULL, test_result_cb, &result);
  g_assert_true (eider_signup_complete_finish (signup, test_wait (&result), &error));
  g_assert_no_error (error);

  session = eider_signup_steal_session (signup);
  account = eider_account_new (fx->config);
  g_assert_true (eider_account_set_session (account, session, EIDER_SECRET_BACKEND_FILE, &error));
  g_assert_no_error (error);
}

void
test_fixture_tear_down (TestFixture *fx)
{
  if (fx->server != NULL)
    test_server_stop (fx->server);
  test_rm_rf (fx->home);
  g_free (fx->home);
  g_free (fx->config);
  g_free (fx->data);
  g_free (fx->tree);
  g_free (fx->email);
}

GSubprocess *
test_eiderctl_spawn (TestFixture        *fx,
                     const char * const *prefix,
                     const char * const *args)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  GSubprocess *proc;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  /* A test that dies takes its eiderctl along (a daemon left behind would
   * hold meson's output pipe until the timeout). */
  g_subprocess_launcher_set_child_setup (launcher, test_die_with_parent, NULL, NULL);
  g_subprocess_launcher_setenv (launcher, "EIDER_CONFIG_DIR", fx->config, TRUE);
  g_subprocess_launcher_setenv (launcher, "EIDER_DATA_DIR", fx->data, TRUE);
  g_subprocess_launcher_setenv (launcher, "EIDER_RETRY_BASE_MS", "100", TRUE);
  /* A critical in eiderctl is a bug the test must not pass over. */
  g_subprocess_launcher_setenv (launcher, "G_DEBUG", "gc-friendly,fatal-criticals", TRUE);
  if (prefix != NULL)
    {
      /* LeakSanitizer cannot run under ptrace (strace). */
      g_autofree char *asan = g_strconcat (g_getenv ("ASAN_OPTIONS") != NULL ? g_getenv ("ASAN_OPTIONS") : "",
                                           ":detect_leaks=0", NULL);

      g_subprocess_launcher_setenv (launcher, "ASAN_OPTIONS", asan, TRUE);
    }

  for (guint i = 0; prefix != NULL && prefix[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) prefix[i]);
  g_ptr_array_add (argv, (gpointer) g_getenv ("EIDERCTL"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  proc = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);

  return proc;
}

int
test_eiderctl_argv (TestFixture        *fx,
                    const char * const *prefix,
                    const char * const *args,
                    char              **out)
{
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  proc = test_eiderctl_spawn (fx, prefix, args);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &text, NULL, &error);
  g_assert_no_error (error);
  if (g_test_verbose ())
    g_printerr ("eiderctl %s …\n%s", args[0], text);
  if (!g_subprocess_get_if_exited (proc))
    g_error ("eiderctl %s died of signal %d:\n%s", args[0], g_subprocess_get_term_sig (proc), text);
  if (out != NULL)
    *out = g_steal_pointer (&text);

  return g_subprocess_get_exit_status (proc);
}

int
test_eiderctl (TestFixture        *fx,
               const char * const *prefix,
               char              **out,
               const char         *first,
               ...)
{
  g_autoptr(GPtrArray) list = g_ptr_array_new ();
  va_list args;

  va_start (args, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (list, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (list, NULL);

  return test_eiderctl_argv (fx, prefix, (const char * const *) list->pdata, out);
}

EiderStore *
test_open_store (TestFixture *fx)
{
  g_autofree char *db = g_build_filename (fx->data, "eider.db", NULL);
  g_autoptr(GError) error = NULL;
  EiderStore *store = eider_store_open (db, &error);

  g_assert_no_error (error);
  return store;
}

char *
test_store_meta (TestFixture *fx,
                 const char  *key)
{
  g_autoptr(EiderStore) store = test_open_store (fx);

  return eider_store_get_meta (store, key);
}

GPtrArray *
test_acknowledged_parts (TestFixture *fx)
{
  g_autofree char *db = g_build_filename (fx->data, "eider.db", NULL);
  g_autoptr(EiderStore) store = NULL;
  g_autoptr(GPtrArray) working = NULL;
  GPtrArray *parts = g_ptr_array_new_with_free_func (g_free);

  if (!g_file_test (db, G_FILE_TEST_EXISTS) || (store = eider_store_open (db, NULL)) == NULL)
    return parts;

  working = eider_store_list_files_in_state (store, EIDER_FILE_WORKING, NULL);
  for (guint i = 0; working != NULL && i < working->len; i++)
    {
      EiderFileRecord *record = g_ptr_array_index (working, i);
      g_autoptr(EiderUploadRecord) upload = eider_store_get_upload (store, record->id);

      for (guint p = 0; upload != NULL && upload->etags != NULL && upload->etags[p] != NULL; p++)
        if (upload->etags[p][0] != '\0')
          g_ptr_array_add (parts, g_strdup_printf ("%u", p + 1));
    }

  return parts;
}

void
test_wait_acknowledged_part (TestFixture *fx,
                             guint        seconds)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;

  for (;;)
    {
      g_autoptr(GPtrArray) parts = test_acknowledged_parts (fx);

      if (parts->len > 0)
        return;
      if (g_get_monotonic_time () > deadline)
        g_error ("No part was acknowledged within %u s", seconds);
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (2000);
    }
}

void
test_assert_parts_sent_once (TestFixture *fx,
                             GPtrArray   *parts)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;

  g_assert_true (g_file_get_contents (fx->server->log_path, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);

  for (guint i = 0; i < parts->len; i++)
    {
      g_autofree char *suffix = g_strdup_printf ("?partNumber=%s 200", (char *) g_ptr_array_index (parts, i));
      guint n = 0;

      for (guint l = 0; lines[l] != NULL; l++)
        if (g_str_has_prefix (lines[l], "request PUT /s3/") && g_str_has_suffix (lines[l], suffix))
          n++;
      g_assert_cmpuint (n, ==, 1);
    }
}

char *
test_hash_of (const char *path)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));

  return eider_hash_data_base64 ((const guint8 *) contents, len);
}

char *
test_watch_copies (TestFixture        *fx,
                   const char * const *folders,
                   const char         *name)
{
  g_autofree char *first = g_build_filename (fx->tree, folders[0], name, NULL);
  g_autofree char *contents = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (first, &contents, &len, NULL));
  for (guint i = 0; folders[i] != NULL; i++)
    {
      g_autofree char *folder = g_build_filename (fx->tree, folders[i], NULL);
      g_autofree char *copy = g_build_filename (folder, name, NULL);

      if (i > 0)
        test_write_bytes (copy, (const guint8 *) contents, len);
      g_assert_cmpint (test_eiderctl (fx, NULL, NULL, "watch", "add", folder, NULL), ==, 0);
    }

  return test_hash_of (first);
}

char *
test_watch_slow_copies (TestFixture        *fx,
                        const char * const *folders)
{
  g_autofree char *rel = g_build_filename (folders[0], "same.mp4", NULL);
  char *hash;

  g_setenv ("GSETTINGS_BACKEND", "keyfile", TRUE);
  test_write_video (fx->tree, rel, 45 * TEST_MiB);
  hash = test_watch_copies (fx, folders, "same.mp4");
  g_assert_cmpint (test_eiderctl (fx, NULL, NULL, "config", "set", "bandwidth-limit", "8192",
                                  NULL), ==, 0);

  return hash;
}

static void
wait_for_record (EiderStore *store,
                 const char *path,
                 const char *hash)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  for (;;)
    {
      g_autoptr(EiderFileRecord) record = eider_store_find_file (store, path);

      if (hash == NULL ? record == NULL
                       : record != NULL && record->state == EIDER_FILE_UPLOADED &&
                         g_strcmp0 (record->hash, hash) == 0)
        return;
      if (g_get_monotonic_time () > deadline)
        g_error ("%s: waited 60 s for it to be %s%s", path, hash != NULL ? "uploaded as " : "forgotten",
                 hash != NULL ? hash : "");
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (2000);
    }
}

void
test_wait_uploaded_as (EiderStore *store,
                       const char *path,
                       const char *hash)
{
  g_assert_nonnull (hash);
  wait_for_record (store, path, hash);
}

void
test_wait_forgotten (EiderStore *store,
                     const char *path)
{
  wait_for_record (store, path, NULL);
}
