/* eider-test-daemon.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>

#include "eider-test-daemon.h"

static void read_line (TestDaemon *d);

static void
line_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  TestDaemon *d = user_data;
  g_autofree char *line = NULL;

  line = g_data_input_stream_read_line_finish_utf8 (d->out, result, NULL, NULL);
  if (line == NULL)
    {
      d->reading = FALSE;
      return;
    }

  if (g_test_verbose ())
    g_printerr ("daemon %d: %s\n", d->pid, line);
  g_string_append (d->log, line);
  g_string_append_c (d->log, '\n');
  read_line (d);
}

static void
read_line (TestDaemon *d)
{
  d->reading = TRUE;
  g_data_input_stream_read_line_async (d->out, G_PRIORITY_DEFAULT, NULL, line_cb, d);
}

static void
exited_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  TestDaemon *d = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  d->exited = TRUE;
}

TestDaemon *
test_daemon_spawn (TestFixture        *fx,
                   const char * const *args)
{
  return test_daemon_spawn_under (fx, NULL, args);
}

TestDaemon *
test_daemon_spawn_under (TestFixture        *fx,
                         const char * const *prefix,
                         const char * const *args)
{
  TestDaemon *d = g_new0 (TestDaemon, 1);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, (gpointer) "daemon");
  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  d->proc = test_eiderctl_spawn (fx, prefix, (const char * const *) argv->pdata);
  d->pid = atoi (g_subprocess_get_identifier (d->proc));
  d->log = g_string_new (NULL);
  d->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (d->proc));
  read_line (d);
  g_subprocess_wait_async (d->proc, NULL, exited_cb, d);

  return d;
}

void
test_iterate_for (gint64 us)
{
  gint64 until = g_get_monotonic_time () + us;

  while (g_get_monotonic_time () < until)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (5000);
    }
}

guint
test_count_lines (const char *text,
                  const char *prefix)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  guint n = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      n++;

  return n;
}

double
test_daemon_wait_lines (TestDaemon *d,
                        const char *prefix,
                        guint       n,
                        double      seconds)
{
  gint64 start = g_get_monotonic_time ();
  gint64 deadline = start + (gint64) (seconds * G_USEC_PER_SEC);

  while (test_count_lines (d->log->str, prefix) < n)
    {
      if (d->exited && !d->reading)
        g_error ("The daemon exited before printing %u × “%s”:\n%s", n, prefix, d->log->str);
      if (g_get_monotonic_time () > deadline)
        g_error ("No %u × “%s” from the daemon within %.0f s:\n%s", n, prefix, seconds, d->log->str);
      test_iterate_for (10000);
    }

  return (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
}

gint64
test_daemon_stop (TestDaemon *d,
                  int         sig,
                  guint       seconds)
{
  gint64 started = g_get_monotonic_time ();

  if (!d->exited)
    kill (d->pid, sig);
  while (!d->exited || d->reading)
    {
      if (g_get_monotonic_time () - started > (gint64) seconds * G_USEC_PER_SEC)
        g_error ("The daemon did not exit within %u s of signal %d:\n%s", seconds, sig, d->log->str);
      test_iterate_for (10000);
    }

  return g_get_monotonic_time () - started;
}

void
test_daemon_free (TestDaemon *d)
{
  if (!d->exited)
    test_daemon_stop (d, SIGKILL, 30);
  while (d->reading)
    test_iterate_for (10000);
  g_clear_object (&d->out);
  g_clear_object (&d->proc);
  g_string_free (d->log, TRUE);
  g_free (d);
}
