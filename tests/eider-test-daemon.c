/* eider-test-daemon.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "eider-client.h"
#include "eider-test-server-harness.h"
#include "eider-reason.h"
#include "eider-test-daemon.h"

/* A file the daemon finished, or listed in a state. */
typedef struct
{
  char *path;     /* display path */
  char *state;
  char *details;
} TestFinished;

static void
finished_free (TestFinished *f)
{
  g_free (f->path);
  g_free (f->state);
  g_free (f->details);
  g_free (f);
}

static void
finished_add (TestDaemon *d,
              const char *path,
              const char *state,
              const char *details)
{
  TestFinished *f = g_new0 (TestFinished, 1);

  f->path = g_strdup (path);
  f->state = g_strdup (state);
  f->details = g_strdup (details);
  g_ptr_array_add (d->finished, f);
}

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
  d->state_dir = g_strdup (fx->data);
  d->finished = g_ptr_array_new_with_free_func ((GDestroyNotify) finished_free);
  d->states = g_ptr_array_new_with_free_func (g_free);
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

/* What was seen so far, for a failure's message. */
static char *
seen (TestDaemon *d)
{
  GString *text = g_string_new (NULL);

  g_string_append (text, "States seen:\n");
  for (guint i = 0; i < d->states->len; i++)
    g_string_append_printf (text, "  %s\n", (char *) g_ptr_array_index (d->states, i));
  g_string_append_printf (text, "The daemon's output:\n%s", d->log->str);

  return g_string_free (text, FALSE);
}

typedef gboolean (*TestDaemonCheck) (TestDaemon   *d,
                                     gconstpointer data);

/* Runs the main context until @check holds; the seconds it took. */
static double
wait_until (TestDaemon     *d,
            TestDaemonCheck check,
            gconstpointer   data,
            double          seconds,
            const char     *what)
{
  gint64 start = g_get_monotonic_time ();
  gint64 deadline = start + (gint64) (seconds * G_USEC_PER_SEC);

  while (!check (d, data))
    {
      if (d->exited && !d->reading)
        g_error ("The daemon exited before %s.\n%s", what, seen (d));
      if (g_get_monotonic_time () > deadline)
        g_error ("Not %s within %.0f s.\n%s", what, seconds, seen (d));
      test_iterate_for (10000);
    }

  return (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
}

static void
note_state (TestDaemon *d)
{
  g_autofree char *now = g_strdup_printf ("%s: %s", eider_dbus_engine1_get_state (d->engine),
                                          eider_dbus_engine1_get_state_reason (d->engine));

  if (d->states->len == 0 || !g_str_equal (g_ptr_array_index (d->states, d->states->len - 1), now))
    g_ptr_array_add (d->states, g_steal_pointer (&now));
}

static void
properties_changed_cb (GDBusProxy         *proxy,
                       GVariant           *changed,
                       const char * const *invalidated,
                       TestDaemon         *d)
{
  note_state (d);
}

static void
file_finished_cb (EiderDBusEngine1 *engine,
                  gint64            id,
                  const char       *path,
                  const char       *state,
                  const char       *reason,
                  const char       *details,
                  TestDaemon       *d)
{
  g_autofree char *text = eider_reason_describe_nick (reason, details);

  if (g_test_verbose ())
    g_printerr ("daemon %d finished: %s %s %s\n", d->pid, state, path, text);
  finished_add (d, path, state, text);
}

/* Runs the main context until @result is set. */
static void
wait_result (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
}

/* Connects to the daemon's socket as eider_client_connect_sync () does,
 * but with the main context running: a daemon that is starting may be
 * waiting for this process (the fake system services of
 * test-conditions). */
static gboolean
answers (TestDaemon   *d,
         gconstpointer data)
{
  g_autofree char *path = eider_client_socket_path (d->state_dir);
  g_autofree char *escaped = g_dbus_address_escape_value (path);
  g_autofree char *address = g_strconcat ("unix:path=", escaped, NULL);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) proxied = NULL;
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return FALSE;
  g_dbus_connection_new_for_address (address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL, NULL,
                                     test_result_cb, &result);
  wait_result (&result);
  connection = g_dbus_connection_new_for_address_finish (result, &error);
  if (connection == NULL)
    {
      /* Not listening yet, or a socket left by a daemon that died. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
      return FALSE;
    }

  /* Its errors come back in their domain. */
  eider_host_error_quark ();
  eider_dbus_engine1_proxy_new (connection, G_DBUS_PROXY_FLAGS_NONE, NULL, EIDER_HOST_OBJECT_PATH, NULL,
                                test_result_cb, &proxied);
  wait_result (&proxied);
  d->engine = eider_dbus_engine1_proxy_new_finish (proxied, &error);
  g_assert_no_error (error);

  return TRUE;
}

EiderDBusEngine1 *
test_daemon_engine (TestDaemon *d)
{
  if (d->engine != NULL)
    return d->engine;

  wait_until (d, answers, NULL, 30, "listening");
  g_assert_cmpuint (eider_dbus_engine1_get_pid (d->engine), ==, d->pid);
  g_signal_connect (d->engine, "g-properties-changed", G_CALLBACK (properties_changed_cb), d);
  g_signal_connect (d->engine, "file-finished", G_CALLBACK (file_finished_cb), d);
  note_state (d);

  return d->engine;
}

guint
test_daemon_count (TestDaemon *d,
                   const char *state)
{
  GVariant *counts = eider_dbus_engine1_get_counts (test_daemon_engine (d));
  guint n = 0;

  if (counts != NULL)
    g_variant_lookup (counts, state, "u", &n);

  return n;
}

/* What a wait waits for. */
typedef struct
{
  const char *state;
  const char *reason;   /* nullable */
  const char *path;     /* display path */
  guint       n;
} Wanted;

static gboolean
counted (TestDaemon   *d,
         gconstpointer data)
{
  const Wanted *w = data;

  return test_daemon_count (d, w->state) >= w->n;
}

double
test_daemon_wait_counts (TestDaemon *d,
                         const char *state,
                         guint       n,
                         double      seconds)
{
  Wanted w = { .state = state, .n = n };
  g_autofree char *what = g_strdup_printf ("%u %s", n, state);

  return wait_until (d, counted, &w, seconds, what);
}

static gboolean
in_state (TestDaemon   *d,
          gconstpointer data)
{
  const Wanted *w = data;
  EiderDBusEngine1 *engine = test_daemon_engine (d);

  return g_strcmp0 (eider_dbus_engine1_get_state (engine), w->state) == 0 &&
         (w->reason == NULL || g_strcmp0 (eider_dbus_engine1_get_state_reason (engine), w->reason) == 0);
}

double
test_daemon_wait_state (TestDaemon *d,
                        const char *state,
                        const char *reason,
                        double      seconds)
{
  Wanted w = { .state = state, .reason = reason };
  g_autofree char *what = g_strdup_printf ("%s (%s)", state, reason != NULL ? reason : "any reason");

  return wait_until (d, in_state, &w, seconds, what);
}

static gboolean
running (TestDaemon   *d,
         gconstpointer data)
{
  const char *state = eider_dbus_engine1_get_state (test_daemon_engine (d));

  return g_strv_contains ((const char * const[]) { "idle", "scanning", "uploading", NULL }, state);
}

double
test_daemon_wait_running (TestDaemon *d,
                          double      seconds)
{
  return wait_until (d, running, NULL, seconds, "running");
}

void
test_daemon_mark (TestDaemon *d)
{
  test_daemon_engine (d);
  d->mark = d->states->len;
}

guint
test_daemon_count_states (TestDaemon *d,
                          const char *state,
                          const char *reason)
{
  g_autofree char *prefix = g_strdup_printf ("%s: %s", state, reason != NULL ? reason : "");
  guint n = 0;

  test_daemon_engine (d);
  for (guint i = d->mark; i < d->states->len; i++)
    {
      const char *seen_state = g_ptr_array_index (d->states, i);

      if (reason != NULL ? g_str_equal (seen_state, prefix) : g_str_has_prefix (seen_state, prefix))
        n++;
    }

  return n;
}

static TestFinished *
find_finished (TestDaemon *d,
               const char *display,
               const char *state)
{
  for (guint i = 0; i < d->finished->len; i++)
    {
      TestFinished *f = g_ptr_array_index (d->finished, i);

      if (g_str_equal (f->path, display) && g_str_equal (f->state, state))
        return f;
    }

  return NULL;
}

/* Looks for @display among the files ListFiles shows in @state, and notes
 * it as finished when it is there. */
static void
find_listed (TestDaemon *d,
             const char *display,
             const char *state)
{
  const int page = 1000;

  for (int offset = 0;; offset += page)
    {
      g_autoptr(GVariant) files = NULL;
      g_autoptr(GError) error = NULL;
      GVariantIter iter;
      const char *shown, *reason, *details;
      guint total;

      g_assert_true (eider_dbus_engine1_call_list_files_sync (test_daemon_engine (d), state, offset, page,
                                                              &files, &total, NULL, &error));
      g_assert_no_error (error);
      g_variant_iter_init (&iter, files);
      while (g_variant_iter_next (&iter, "(x^&ay&sxu&s&s)", NULL, NULL, &shown, NULL, NULL, &reason, &details))
        if (g_str_equal (shown, display))
          {
            g_autofree char *text = eider_reason_describe_nick (reason, details);

            finished_add (d, display, state, text);
            return;
          }
      if (offset + page >= (int) total)
        return;
    }
}

static gboolean
file_in_state (TestDaemon   *d,
               gconstpointer data)
{
  const Wanted *w = data;

  return find_finished (d, w->path, w->state) != NULL;
}

const char *
test_daemon_wait_file (TestDaemon *d,
                       const char *path,
                       const char *state,
                       double      seconds)
{
  g_autofree char *display = g_filename_display_name (path);
  g_autofree char *what = g_strdup_printf ("%s %s", display, state);
  Wanted w = { .state = state, .path = display };

  /* Finished before the interface was connected: listed. Later: heard. */
  if (find_finished (d, display, state) == NULL)
    find_listed (d, display, state);
  wait_until (d, file_in_state, &w, seconds, what);

  return find_finished (d, display, state)->details;
}

GVariant *
test_daemon_call (TestDaemon *d,
                  const char *method,
                  GVariant   *parameters)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GVariant *reply;

  g_dbus_proxy_call (G_DBUS_PROXY (test_daemon_engine (d)), method, parameters, G_DBUS_CALL_FLAGS_NONE, -1,
                     NULL, test_result_cb, &result);
  wait_result (&result);
  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (d->engine), result, &error);
  if (reply == NULL)
    g_error ("%s failed: %s\n%s", method, error->message, seen (d));

  return reply;
}

typedef struct
{
  const char *name;
  GVariant   *value;
} Property;

static gboolean
property_is (TestDaemon   *d,
             gconstpointer data)
{
  const Property *p = data;
  g_autoptr(GVariant) now = g_dbus_proxy_get_cached_property (G_DBUS_PROXY (test_daemon_engine (d)), p->name);

  return now != NULL && g_variant_equal (now, p->value);
}

double
test_daemon_wait_property (TestDaemon *d,
                           const char *name,
                           GVariant   *value,
                           double      seconds)
{
  Property p = { name, g_variant_ref_sink (value) };
  g_autofree char *shown = g_variant_print (value, FALSE);
  g_autofree char *what = g_strdup_printf ("%s = %s", name, shown);
  double took = wait_until (d, property_is, &p, seconds, what);

  g_variant_unref (p.value);
  return took;
}

typedef struct
{
  const char *path;
  const char *key;
  gboolean    value;
} FolderFlag;

static gboolean
folder_flag_is (TestDaemon   *d,
                gconstpointer data)
{
  const FolderFlag *want = data;
  g_autoptr(GVariant) reply = test_daemon_call (d, "ListFolders", NULL);
  g_autoptr(GVariant) folders = g_variant_get_child_value (reply, 0);
  GVariantIter iter;
  GVariant *folder;

  g_variant_iter_init (&iter, folders);
  while ((folder = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr(GVariant) owned = folder;
      const char *path = NULL;
      gboolean value = FALSE;

      if (g_variant_lookup (folder, "path", "^&ay", &path) && g_str_equal (path, want->path))
        {
          g_assert_true (g_variant_lookup (folder, want->key, "b", &value));
          return value == want->value;
        }
    }

  g_error ("%s is not among the watched folders", want->path);
}

double
test_daemon_wait_folder (TestDaemon *d,
                         const char *path,
                         const char *key,
                         gboolean    value,
                         double      seconds)
{
  FolderFlag want = { path, key, value };
  g_autofree char *what = g_strdup_printf ("%s of %s %s", key, path, value ? "true" : "false");

  return wait_until (d, folder_flag_is, &want, seconds, what);
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
  /* Its interface left with it. */
  g_clear_object (&d->engine);
  /* A clean stop says nothing is wrong (stderr is in the log). */
  if (sig != SIGKILL && strstr (d->log->str, "-CRITICAL **") != NULL)
    g_error ("The daemon reported a critical error:\n%s", d->log->str);
  /* Under ASan: what it leaked (an object still held at exit, such as a
   * store whose last writes were never committed). */
  if (sig != SIGKILL && strstr (d->log->str, "LeakSanitizer") != NULL)
    g_error ("The daemon leaked:\n%s", d->log->str);

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
  g_free (d->state_dir);
  g_ptr_array_unref (d->finished);
  g_ptr_array_unref (d->states);
  g_free (d);
}
