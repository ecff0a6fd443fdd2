/* eider-test-server-harness.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <fcntl.h>
#include <glib/gstdio.h>

#include "eider-test-server-harness.h"

char *
test_make_tmpdir (const char *template)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp (template, &error);

  g_assert_no_error (error);

  return dir;
}

void
test_rm_rf (const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileEnumerator) children = NULL;

  children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  if (children != NULL)
    {
      GFileInfo *info;

      while ((info = g_file_enumerator_next_file (children, NULL, NULL)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, g_file_info_get_name (info), NULL);

          test_rm_rf (child);
          g_object_unref (info);
        }
    }

  g_file_delete (file, NULL, NULL);
}

void
test_die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
spawn (TestServer         *server,
       const char * const *extra_args)
{
  const char *binary = g_getenv ("EIDER_TEST_SERVER");
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (binary);

  g_ptr_array_add (argv, g_strdup (binary));
  g_ptr_array_add (argv, g_strdup ("--listen"));
  g_ptr_array_add (argv, g_strdup_printf ("127.0.0.1:%u", server->port));
  g_ptr_array_add (argv, g_strdup ("--data-dir"));
  g_ptr_array_add (argv, g_strdup (server->data_dir));
  /* "--random-ott" (ours, not the server's) leaves codes random, as a real
   * server's are; otherwise every emailed code is 123456. */
  if (extra_args == NULL || extra_args[0] == NULL || !g_str_equal (extra_args[0], "--random-ott"))
    {
      g_ptr_array_add (argv, g_strdup ("--fixed-ott"));
      g_ptr_array_add (argv, g_strdup ("123456"));
    }
  else
    extra_args++;
  g_ptr_array_add (argv, g_strdup ("--log-requests"));
  for (guint i = 0; extra_args != NULL && extra_args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (extra_args[i]));
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  /* A test that dies takes its server along. */
  g_subprocess_launcher_set_child_setup (launcher, test_die_with_parent, NULL, NULL);
  /* Appends: a restarted server adds to the same log. */
  {
    int fd = open (server->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

    g_assert_cmpint (fd, >=, 0);
    g_subprocess_launcher_take_stderr_fd (launcher, fd);
  }
  server->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata,
                                                  &error);
  g_assert_no_error (error);

  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line (out, NULL, NULL, &error);

      g_assert_no_error (error);
      g_assert_nonnull (line);   /* the server died before it was ready */
      if (g_str_has_prefix (line, "listening on "))
        {
          const char *colon;

          g_free (server->url);
          server->url = g_strdup (line + strlen ("listening on "));
          colon = strrchr (server->url, ':');
          server->port = (guint16) g_ascii_strtoull (colon + 1, NULL, 10);
          break;
        }
    }
}

TestServer *
test_server_start (const char * const *extra_args)
{
  TestServer *server = g_new0 (TestServer, 1);

  server->data_dir = test_make_tmpdir ("eider-ets-XXXXXX");
  server->log_path = g_build_filename (server->data_dir, "server.log", NULL);
  spawn (server, extra_args);

  return server;
}

static void
terminate (TestServer *server)
{
  g_subprocess_send_signal (server->process, SIGTERM);
  g_subprocess_wait (server->process, NULL, NULL);
  g_clear_object (&server->process);
}

void
test_server_restart (TestServer         *server,
                     const char * const *extra_args)
{
  terminate (server);
  spawn (server, extra_args);
}

void
test_server_stop (TestServer *server)
{
  if (server == NULL)
    return;

  terminate (server);
  test_rm_rf (server->data_dir);
  g_free (server->data_dir);
  g_free (server->log_path);
  g_free (server->url);
  g_free (server);
}

guint
test_server_count_log_lines (TestServer *server,
                             const char *line)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GPatternSpec) pattern = g_pattern_spec_new (line);
  guint n = 0;

  if (!g_file_get_contents (server->log_path, &contents, NULL, NULL))
    return 0;

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_pattern_spec_match_string (pattern, lines[i]))
      n++;

  return n;
}

void
test_result_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

GAsyncResult *
test_wait (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *slot;
}

/* Whether any regular file under @dir holds @needle. */
gboolean
test_dir_contains (const char   *dir,
                   const guint8 *needle,
                   gsize         len)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return FALSE;

  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *contents = NULL;
      gsize size = 0;

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          if (test_dir_contains (path, needle, len))
            return TRUE;
          continue;
        }

      if (g_file_get_contents (path, &contents, &size, NULL) &&
          size >= len && memmem (contents, size, needle, len) != NULL)
        return TRUE;
    }

  return FALSE;
}

gboolean
test_run_tool (const char * const *argv)
{
  g_autofree char *program = g_find_program_in_path (argv[0]);
  g_autofree char *err = NULL;
  int status = 0;

  if (program == NULL)
    {
      g_test_skip_printf ("%s is not installed", argv[0]);
      return FALSE;
    }

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH |
                               G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err, &status, NULL));
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s failed: %s", argv[0], err);

  return TRUE;
}
