/* eiderctl-daemon.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * eiderctl daemon, pause, resume: the engine host without a window, and the
 * commands that steer it while it runs (over its D-Bus interface) or the
 * stored state while it does not.
 */
#define G_LOG_DOMAIN "eiderctl"
#include "config.h"

#include <signal.h>
#include <unistd.h>
#include <glib-unix.h>

#include "eider-service.h"
#include "eider-store.h"
#include "eiderctl.h"

/* Store meta keys, as the host keeps them: "1" while the whole backup is
 * paused; the end (unix seconds) of "back up anyway for N hours". */
#define META_PAUSED            "paused"
#define META_OVERRIDE_UNTIL    "override-until"

/* daemon */

typedef struct
{
  EiderService *service;
  GMainLoop    *loop;
} Daemon;

static void
daemon_stopped_cb (EiderService *service,
                   Daemon       *daemon)
{
  g_main_loop_quit (daemon->loop);
}

static gboolean
daemon_signal_cb (gpointer user_data)
{
  Daemon *daemon = user_data;

  g_print ("Stopping…\n");
  eider_service_stop (daemon->service);

  return G_SOURCE_CONTINUE;
}

static int
eiderctl_daemon (EiderctlGlobals  *globals,
                 int               argc,
                 char            **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(EiderService) service = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  EiderctlPrinter *printer;
  Daemon daemon = { NULL };
  guint sigterm_id, sigint_id;
  guint n_uploaded, n_skipped, n_failed;
  int jobs = 0;
  GOptionEntry entries[] = {
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Files uploaded at once (default 4; small files, up to 4 MiB: up to 16 unless N is 1)", "N" },
    { NULL }
  };

  g_option_context_set_summary (context,
                                "Backs up the watched folders and keeps them backed up, without a window,\n"
                                "until SIGTERM, SIGINT or a client's Quit. One Eider runs per data directory.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 1 || jobs < 0)
    {
      g_printerr ("eiderctl daemon: %s\n", error != NULL ? error->message : "no arguments expected");
      return EIDERCTL_EXIT_USAGE;
    }

  service = eider_service_new (globals->config_dir, globals->data_dir, EIDER_SERVICE_MODE_DAEMON);
  eider_service_set_jobs (service, jobs);
  loop = g_main_loop_new (NULL, FALSE);
  daemon.service = service;
  daemon.loop = loop;
  printer = eiderctl_printer_new (eider_service_get_interface (service), FALSE);
  g_signal_connect (service, "stopped", G_CALLBACK (daemon_stopped_cb), &daemon);

  if (!eider_service_start (service, &error))
    {
      eiderctl_printer_finish (printer, &n_uploaded, &n_skipped, &n_failed);
      eiderctl_error ("%s", error->message);
      return g_error_matches (error, EIDER_HOST_ERROR, EIDER_HOST_ERROR_NOT_LOGGED_IN)
             ? EIDERCTL_EXIT_NOT_LOGGED_IN : EIDERCTL_EXIT_FAILED;
    }

  sigterm_id = g_unix_signal_add (SIGTERM, daemon_signal_cb, &daemon);
  sigint_id = g_unix_signal_add (SIGINT, daemon_signal_cb, &daemon);
  g_main_loop_run (loop);
  g_source_remove (sigterm_id);
  g_source_remove (sigint_id);

  eiderctl_printer_finish (printer, &n_uploaded, &n_skipped, &n_failed);
  g_print ("Stopped: %u uploaded, %u skipped, %u failed.\n", n_uploaded, n_skipped, n_failed);
  if (!eider_service_get_result (service, &error))
    {
      eiderctl_error ("%s", error->message);
      return EIDERCTL_EXIT_FAILED;
    }

  return EIDERCTL_EXIT_OK;
}

/* pause, resume */

/* resume --force [--hours N]: back up anyway, despite a metered network,
 * the battery, power saver or the upload window. */
static int
resume_force_host (EiderDBusEngine1 *engine,
                   guint             hours)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *lifted = NULL;
  const char *gate;
  gboolean overridden;
  gint64 until;

  if (!eider_dbus_engine1_call_back_up_anyway_sync (engine, hours, &overridden, &lifted, &until,
                                                    NULL, &error))
    {
      eiderctl_host_error ("The running Eider did not back up anyway", error);
      return EIDERCTL_EXIT_FAILED;
    }

  gate = eider_dbus_engine1_get_state_action (engine);
  gate = g_str_equal (gate, "back-up-anyway") || g_str_equal (eider_dbus_engine1_get_state (engine), "offline")
         ? eider_dbus_engine1_get_state_reason (engine) : NULL;
  if (!overridden)
    {
      if (gate != NULL)
        g_print ("Nothing to back up anyway: %s.\n", gate);
      else
        g_print ("Nothing holds the backup back.\n");
      return EIDERCTL_EXIT_OK;
    }

  if (until > 0)
    {
      g_autoptr(GDateTime) end = g_date_time_new_from_unix_local (until);
      g_autofree char *when = g_date_time_format (end, "%Y-%m-%d %H:%M");

      g_print ("Backing up anyway until %s", when);
    }
  else
    g_print ("Backing up anyway until the conditions change");
  if (*lifted != '\0')
    g_print (" (it was: %s)", lifted);
  g_print (".\n");
  if (gate != NULL)
    g_print ("Still waiting: %s.\n", gate);

  return EIDERCTL_EXIT_OK;
}

/* Not running: a timed override waits for the next start. */
static int
resume_force_stored (EiderStore *store,
                     guint       hours)
{
  g_autoptr(GError) error = NULL;

  if (hours > 0)
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_local ();
      g_autoptr(GDateTime) until = g_date_time_add_hours (now, hours);
      g_autofree char *until_text = g_strdup_printf ("%" G_GINT64_FORMAT, g_date_time_to_unix (until));
      g_autofree char *when = g_date_time_format (until, "%Y-%m-%d %H:%M");

      if (!eider_store_set_meta (store, META_OVERRIDE_UNTIL, until_text, &error))
        {
          eiderctl_error ("%s", error->message);
          return EIDERCTL_EXIT_FAILED;
        }
      g_print ("Eider will back up anyway until %s when it starts.\n", when);
      return EIDERCTL_EXIT_OK;
    }

  g_print ("Eider is not running: nothing holds the backup back now (give --hours N to back up "
           "anyway once it starts).\n");
  return EIDERCTL_EXIT_OK;
}

static int
eiderctl_pause_resume (EiderctlGlobals  *globals,
                       gboolean          pause,
                       int               argc,
                       char            **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("[FOLDER]");
  g_autoptr(EiderDBusEngine1) engine = NULL;
  g_autoptr(EiderStore) store = NULL;
  g_autoptr(EiderWatch) watch = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *what = NULL;
  const char *name = pause ? "pause" : "resume";
  gboolean force = FALSE;
  gboolean failed;
  int hours = -1;
  GOptionEntry resume_entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force,
      "Back up anyway despite a metered network, a low battery, power saver or the upload window, "
      "until they change", NULL },
    { "hours", 0, 0, G_OPTION_ARG_INT, &hours, "With --force: for N hours instead (kept across restarts)", "N" },
    { NULL }
  };

  g_option_context_set_summary (context, pause
                                ? "Pauses the backup, or one watched folder's. It stays paused across restarts."
                                : "Resumes the backup, or one watched folder's.");
  if (!pause)
    g_option_context_add_main_entries (context, resume_entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc > 2 ||
      (hours >= 0 && !force) || hours == 0 || hours > 24 * 365 || (force && argc == 2))
    {
      g_printerr ("eiderctl %s: %s\n", name,
                  error != NULL ? error->message
                  : argc > 2 ? "give at most one watched folder"
                  : force && argc == 2 ? "--force applies to the whole backup, not one folder"
                  : "--hours N (1 to 8760) goes with --force");
      return EIDERCTL_EXIT_USAGE;
    }
  hours = MAX (hours, 0);

  /* A running host applies and keeps it; only it writes the store. */
  engine = eiderctl_connect (globals, &failed);
  if (failed)
    return EIDERCTL_EXIT_FAILED;
  if (engine != NULL)
    {
      g_autofree char *real = argc == 2 ? realpath (argv[1], NULL) : NULL;
      const char *path = argc == 2 ? (real != NULL ? real : argv[1]) : "";
      gboolean ok = pause ? eider_dbus_engine1_call_pause_sync (engine, path, NULL, &error)
                          : eider_dbus_engine1_call_resume_sync (engine, path, NULL, &error);

      if (!ok)
        {
          eiderctl_host_error (pause ? "Could not pause" : "Could not resume", error);
          return EIDERCTL_EXIT_FAILED;
        }
      if (argc == 2)
        {
          g_autofree char *display = g_filename_display_name (path);

          g_print ("%s %s; the running Eider (pid %u) applied it.\n", pause ? "Paused" : "Resumed",
                   display, eider_dbus_engine1_get_pid (engine));
        }
      else
        g_print ("%s; the running Eider (pid %u) applied it.\n",
                 pause ? "Paused the backup" : "Resumed the backup", eider_dbus_engine1_get_pid (engine));
      return force ? resume_force_host (engine, hours) : EIDERCTL_EXIT_OK;
    }

  /* Not running: stored, for the next start. */
  if ((store = eiderctl_open_store (globals, &error)) == NULL)
    {
      eiderctl_error ("%s", error->message);
      return EIDERCTL_EXIT_FAILED;
    }

  if (argc == 2)
    {
      g_autofree char *display = NULL;

      if ((watch = eiderctl_find_watch (store, argv[1])) == NULL)
        return EIDERCTL_EXIT_FAILED;
      if (!eider_store_set_watch_paused (store, watch->id, pause, &error))
        {
          eiderctl_error ("%s", error->message);
          return EIDERCTL_EXIT_FAILED;
        }
      display = g_filename_display_name (watch->path);
      what = g_strdup_printf ("%s %s", pause ? "Paused" : "Resumed", display);
    }
  else
    {
      if (!eider_store_set_meta (store, META_PAUSED, pause ? "1" : "0", &error))
        {
          eiderctl_error ("%s", error->message);
          return EIDERCTL_EXIT_FAILED;
        }
      what = g_strdup (pause ? "Paused the backup" : "Resumed the backup");
    }

  g_print ("%s. Eider is not running: this will apply when it next starts.\n", what);
  return force ? resume_force_stored (store, hours) : EIDERCTL_EXIT_OK;
}

int
eiderctl_daemon_command (EiderctlGlobals  *globals,
                         int               argc,
                         char            **argv)
{
  const char *command = argv[0];

  if (g_str_equal (command, "daemon"))
    return eiderctl_daemon (globals, argc, argv);
  if (g_str_equal (command, "pause"))
    return eiderctl_pause_resume (globals, TRUE, argc, argv);
  if (g_str_equal (command, "resume"))
    return eiderctl_pause_resume (globals, FALSE, argc, argv);

  return -1;
}
