/* eiderctl-daemon.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * eiderctl daemon, pause, resume: the engine without a window, and the
 * commands that steer it while it runs.
 */
#define G_LOG_DOMAIN "eiderctl"
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <glib-unix.h>

#include "eider-account.h"
#include "eider-engine.h"
#include "eider-frontend.h"
#include "eider-instance.h"
#include "eider-policy.h"
#include "eider-settings.h"
#include "eider-store.h"
#include "eider-watcher.h"
#include "eiderctl.h"

/* Store meta keys: "1" while the user has paused the whole backup; the end
 * (unix seconds) of "back up anyway for N hours"; "1" once a first backup
 * finished (the computer is no longer kept awake for it). */
#define META_PAUSED            "paused"
#define META_OVERRIDE_UNTIL    "override-until"
#define META_FIRST_BACKUP_DONE "first-backup-done"

static EiderWatch *
find_watch_by_id (EiderStore  *store,
                  gint64       watch_id,
                  GError     **error)
{
  g_autoptr(GPtrArray) watches = eider_store_list_watches (store, error);

  if (watches == NULL)
    return NULL;

  for (guint i = 0; i < watches->len; i++)
    {
      EiderWatch *watch = g_ptr_array_index (watches, i);

      if (watch->id == watch_id)
        return g_ptr_array_steal_index (watches, i);
    }

  g_set_error (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_NOT_FOUND,
               "No watched folder has the id %" G_GINT64_FORMAT, watch_id);
  return NULL;
}

/* daemon */

typedef struct
{
  EiderStore    *store;
  EiderEngine   *engine;
  EiderPolicy   *policy;
  EiderFrontend *frontend;
  EiderInstance *instance;
  EiderWatcher  *watcher;
  GMainLoop     *loop;
  gboolean       user_paused;
  gboolean       stopping;
  int            status;
  guint          n_uploaded;
  guint          n_skipped;
  guint          n_failed;
  GHashTable    *watched;      /* ids of the watches given to the watcher →
                                * why it polls that folder, as last said */
} Daemon;

static void
daemon_file_finished_cb (EiderEngine *engine,
                         gint64       file_id,
                         const char  *path,
                         int          state,
                         int          reason_code,
                         const char  *reason_details,
                         gint64       size,
                         Daemon      *daemon)
{
  g_autofree char *display = g_filename_display_name (path);
  g_autofree char *reason = eider_reason_describe (reason_code, reason_details);
  const char *what;

  switch (state)
    {
    case EIDER_FILE_UPLOADED:
      daemon->n_uploaded++;
      what = "uploaded";
      break;
    case EIDER_FILE_SKIPPED:
      daemon->n_skipped++;
      what = "skipped";
      break;
    case EIDER_FILE_FAILED:
      daemon->n_failed++;
      what = "failed";
      break;
    default:
      return;
    }

  if (reason != NULL)
    g_print ("%s\t%s\t%s\n", what, display, reason);
  else
    g_print ("%s\t%s\n", what, display);
}

static void
daemon_pause_reason_cb (EiderEngine *engine,
                        GParamSpec  *pspec,
                        Daemon      *daemon)
{
  const char *reason = eider_engine_get_pause_reason (engine);

  /* A pause on request was logged with the request; a condition (network,
   * battery, schedule…) says itself what it is. */
  if (reason != NULL && !daemon->user_paused)
    {
      if (g_strcmp0 (reason, eider_engine_get_gate (engine)) == 0)
        g_print ("%s.\n", reason);
      else
        g_print ("Paused: %s\n", reason);
    }
  else if (reason == NULL)
    g_print ("Running.\n");
}

static void
daemon_first_backup_done_cb (EiderFrontend *frontend,
                             GParamSpec    *pspec,
                             Daemon        *daemon)
{
  g_autoptr(GError) error = NULL;

  if (!eider_frontend_get_first_backup_done (frontend))
    return;

  g_print ("The first backup is done.\n");
  if (!eider_store_set_meta (daemon->store, META_FIRST_BACKUP_DONE, "1", &error))
    g_printerr ("Could not record that the first backup is done: %s\n", error->message);
}

static void
daemon_inhibiting_cb (EiderFrontend *frontend,
                      GParamSpec    *pspec,
                      Daemon        *daemon)
{
  if (eider_frontend_get_inhibiting (frontend))
    g_print ("Keeping the computer awake during the first backup.\n");
  else
    g_print ("The computer may suspend again.\n");
}

static void
daemon_override_cb (EiderPolicy *policy,
                    GParamSpec  *pspec,
                    Daemon      *daemon)
{
  g_autoptr(GError) error = NULL;

  if (eider_policy_get_override_active (policy))
    return;

  g_print ("No longer backing up anyway.\n");
  if (!eider_store_set_meta (daemon->store, META_OVERRIDE_UNTIL, "0", &error))
    g_printerr ("Could not record the end of “back up anyway”: %s\n", error->message);
}

/* The watcher: finished files go to the engine; a root that comes back, or
 * one the watcher cannot vouch for, is walked again (stat only). */

static void
daemon_files_ready_cb (EiderWatcher       *watcher,
                       gint64              watch_id,
                       const char * const *paths,
                       Daemon             *daemon)
{
  if (!daemon->stopping)
    eider_engine_note_paths (daemon->engine, watch_id, paths);
}

static void
daemon_file_moved_cb (EiderWatcher *watcher,
                      gint64        watch_id,
                      const char   *from,
                      const char   *to,
                      Daemon       *daemon)
{
  /* The new place is backed up first (a move that keeps the name is linked
   * by Ente's dedupe without sending bytes), then the old one leaves its
   * album by the deletion rule. */
  if (!daemon->stopping)
    eider_engine_note_moved (daemon->engine, watch_id, from, to);
}

static void
daemon_files_removed_cb (EiderWatcher *watcher,
                         gint64        watch_id,
                         GStrv         paths,
                         Daemon       *daemon)
{
  if (!daemon->stopping)
    eider_engine_note_removed (daemon->engine, watch_id, (const char * const *) paths);
}

static void
daemon_root_availability_cb (EiderWatcher *watcher,
                             gint64        watch_id,
                             gboolean      available,
                             Daemon       *daemon)
{
  g_autoptr(EiderWatch) watch = find_watch_by_id (daemon->store, watch_id, NULL);
  g_autofree char *display = watch != NULL ? g_filename_display_name (watch->path) : NULL;

  if (available)
    g_print ("%s is back: looking for changes.\n", display != NULL ? display : "A watched folder");
  else
    g_print ("%s is unavailable: nothing in it counts as deleted until it is back.\n",
             display != NULL ? display : "A watched folder");

  if (g_hash_table_contains (daemon->watched, &watch_id))
    g_hash_table_insert (daemon->watched, g_memdup2 (&watch_id, sizeof watch_id), NULL);
  if (available && !daemon->stopping)
    eider_engine_rescan_watch (daemon->engine, watch_id);
}

/* A folder that is not watched live (the inotify watch limit, a network
 * file system) is said once, and again only when the reason changes. */
static void
daemon_rescan_needed_cb (EiderWatcher *watcher,
                         gint64        watch_id,
                         const char   *reason,
                         Daemon       *daemon)
{
  const char *poll_reason = eider_watcher_get_poll_reason (watcher, watch_id);

  g_debug ("Walking watch %" G_GINT64_FORMAT " again: %s", watch_id, reason);
  if (poll_reason != NULL && g_hash_table_contains (daemon->watched, &watch_id) &&
      g_strcmp0 (g_hash_table_lookup (daemon->watched, &watch_id), poll_reason) != 0)
    {
      g_autoptr(EiderWatch) watch = find_watch_by_id (daemon->store, watch_id, NULL);
      g_autofree char *display = watch != NULL ? g_filename_display_name (watch->path) : NULL;
      g_autofree char *every = eiderctl_format_interval (eider_watcher_get_poll_seconds (watcher));

      g_print ("%s is not watched live: %s. It is checked for changes every %s instead.\n",
               display != NULL ? display : "A watched folder", poll_reason, every);
      g_hash_table_insert (daemon->watched, g_memdup2 (&watch_id, sizeof watch_id), g_strdup (poll_reason));
    }

  if (!daemon->stopping)
    eider_engine_rescan_watch (daemon->engine, watch_id);
}

/* GLib drops the kernel's word that its event queue overflowed, so a
 * burst can lose an event unseen: every few hours each folder that is
 * there is walked again (stat only; nothing is read that did not change). */
#define FULL_RESCAN_SECONDS (6 * 60 * 60)

static gboolean
daemon_full_rescan_cb (gpointer user_data)
{
  Daemon *daemon = user_data;
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, daemon->watched);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (eider_watcher_get_available (daemon->watcher, *(gint64 *) key))
      eider_engine_rescan_watch (daemon->engine, *(gint64 *) key);

  return G_SOURCE_CONTINUE;
}

static void
daemon_watch_roots (Daemon    *daemon,
                    GPtrArray *watches)
{
  for (guint i = 0; i < watches->len; i++)
    {
      EiderWatch *watch = g_ptr_array_index (watches, i);
      g_autoptr(GError) error = NULL;

      g_hash_table_insert (daemon->watched, g_memdup2 (&watch->id, sizeof watch->id), NULL);
      if (!eider_watcher_add_root (daemon->watcher, watch->id, watch->path, &error))
        {
          g_autofree char *display = g_filename_display_name (watch->path);

          /* Still backed up at start and on resume, just not as it changes. */
          g_print ("Cannot watch %s for changes: %s\n", display, error->message);
        }
    }
}

/* `eiderctl watch add|remove` while the daemon runs: follow the store. */
static JsonObject *
daemon_watches_changed (Daemon  *daemon,
                        GError **error)
{
  g_autoptr(GPtrArray) watches = eider_store_list_watches (daemon->store, error);
  g_autoptr(GHashTable) current = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GPtrArray) added = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;
  guint n_removed = 0;

  if (watches == NULL)
    return NULL;

  for (guint i = 0; i < watches->len; i++)
    {
      EiderWatch *watch = g_ptr_array_index (watches, i);

      g_hash_table_add (current, &watch->id);
      if (!g_hash_table_contains (daemon->watched, &watch->id))
        g_ptr_array_add (added, watch);
    }

  g_hash_table_iter_init (&iter, daemon->watched);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (current, key))
      {
        eider_watcher_remove_root (daemon->watcher, *(gint64 *) key);
        g_hash_table_iter_remove (&iter);
        n_removed++;
      }

  daemon_watch_roots (daemon, added);
  for (guint i = 0; i < added->len; i++)
    {
      EiderWatch *watch = g_ptr_array_index (added, i);
      g_autofree char *display = g_filename_display_name (watch->path);

      g_print ("Now watching %s.\n", display);
      eider_engine_rescan_watch (daemon->engine, watch->id);
    }

  {
    JsonObject *reply = json_object_new ();

    json_object_set_int_member (reply, "added", added->len);
    json_object_set_int_member (reply, "removed", n_removed);
    return reply;
  }
}

static gboolean
daemon_set_paused (Daemon    *daemon,
                   gboolean   paused,
                   GError   **error)
{
  /* Persisted first, so that what the engine does survives a restart. */
  if (!eider_store_set_meta (daemon->store, META_PAUSED, paused ? "1" : "0", error))
    return FALSE;

  if (daemon->user_paused != paused)
    {
      daemon->user_paused = paused;
      g_print ("%s on request.\n", paused ? "Pausing" : "Resuming");
      eider_engine_set_user_paused (daemon->engine, paused);
    }

  return TRUE;
}

static JsonObject *
daemon_set_watch_paused (Daemon    *daemon,
                         gint64     watch_id,
                         gboolean   paused,
                         GError   **error)
{
  g_autoptr(EiderWatch) watch = NULL;
  g_autofree char *display = NULL;
  JsonObject *reply;

  if ((watch = find_watch_by_id (daemon->store, watch_id, error)) == NULL ||
      !eider_store_set_watch_paused (daemon->store, watch_id, paused, error))
    return NULL;

  /* eiderctl has stored it already (for a daemon started later): the
   * request itself is what is reported. */
  display = g_filename_display_name (watch->path);
  g_print ("%s %s on request.\n", paused ? "Pausing" : "Resuming", display);

  /* A paused folder's files are no longer due (the store leaves them out)
   * and those in flight stop resumably; a resumed one is walked again so
   * that its files are picked up. */
  eider_engine_set_watch_paused (daemon->engine, watch_id, paused);

  reply = json_object_new ();
  json_object_set_string_member (reply, "watch", display);
  json_object_set_boolean_member (reply, "paused", paused);

  return reply;
}

static JsonObject *
daemon_status (Daemon  *daemon,
               GError **error)
{
  g_autoptr(GPtrArray) watches = eider_store_list_watches (daemon->store, error);
  g_autoptr(JsonObject) reply = NULL;
  JsonArray *watch_states;
  const char *reason;

  if (watches == NULL)
    return NULL;

  reply = json_object_new ();
  reason = eider_engine_get_pause_reason (daemon->engine);
  json_object_set_boolean_member (reply, "paused", daemon->user_paused);
  if (reason != NULL)
    json_object_set_string_member (reply, "pauseReason", reason);
  else
    json_object_set_null_member (reply, "pauseReason");
  json_object_set_boolean_member (reply, "running", eider_engine_get_running (daemon->engine));
  json_object_set_boolean_member (reply, "stopping", daemon->stopping);
  json_object_set_int_member (reply, "uploaded", daemon->n_uploaded);
  json_object_set_int_member (reply, "skipped", daemon->n_skipped);
  json_object_set_int_member (reply, "failed", daemon->n_failed);
  if (eider_policy_get_reason (daemon->policy) != NULL)
    json_object_set_string_member (reply, "gate", eider_policy_get_reason (daemon->policy));
  else
    json_object_set_null_member (reply, "gate");
  json_object_set_boolean_member (reply, "override", eider_policy_get_override_active (daemon->policy));
  json_object_set_int_member (reply, "overrideUntil", eider_policy_get_override_until (daemon->policy));
  json_object_set_boolean_member (reply, "inhibiting", eider_frontend_get_inhibiting (daemon->frontend));

  /* Each folder: paused, there, and watched live or checked now and then
   * (one just added may not be the watcher's yet). */
  watch_states = json_array_new ();
  for (guint i = 0; i < watches->len; i++)
    {
      EiderWatch *watch = g_ptr_array_index (watches, i);
      const char *poll_reason = eider_watcher_get_poll_reason (daemon->watcher, watch->id);
      gboolean known = eider_watcher_get_mode (daemon->watcher, watch->id) != NULL;
      gboolean available = known ? eider_watcher_get_available (daemon->watcher, watch->id)
                                 : g_file_test (watch->path, G_FILE_TEST_IS_DIR);

      json_array_add_object_element (watch_states,
                                     eiderctl_watch_state_new (watch, available,
                                                               known && available && poll_reason == NULL,
                                                               poll_reason,
                                                               eider_watcher_get_poll_seconds (daemon->watcher)));
    }
  json_object_set_array_member (reply, "watches", watch_states);

  return g_steal_pointer (&reply);
}

/* "Back up anyway": until the conditions change (@seconds 0), or for
 * @seconds, which a restart keeps. */
static JsonObject *
daemon_override (Daemon  *daemon,
                 gint64   seconds,
                 GError **error)
{
  g_autofree char *lifted = g_strdup (eider_policy_get_reason (daemon->policy));
  JsonObject *reply;

  if (seconds == 0)
    {
      gboolean overridden = eider_policy_override_until_change (daemon->policy);

      if (overridden)
        g_print ("Backing up anyway until the conditions change (%s).\n", lifted);
      reply = json_object_new ();
      json_object_set_boolean_member (reply, "overridden", overridden);
    }
  else
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_local ();
      g_autoptr(GDateTime) until = g_date_time_add_seconds (now, (double) seconds);
      g_autofree char *until_text = g_strdup_printf ("%" G_GINT64_FORMAT, g_date_time_to_unix (until));
      g_autofree char *when = g_date_time_format (until, "%H:%M");

      if (!eider_store_set_meta (daemon->store, META_OVERRIDE_UNTIL, until_text, error))
        return NULL;
      eider_policy_override_until (daemon->policy, g_date_time_to_unix (until));
      g_print ("Backing up anyway until %s.\n", when);
      reply = json_object_new ();
      json_object_set_boolean_member (reply, "overridden", TRUE);
      json_object_set_int_member (reply, "overrideUntil", g_date_time_to_unix (until));
    }

  if (lifted != NULL)
    json_object_set_string_member (reply, "lifted", lifted);
  else
    json_object_set_null_member (reply, "lifted");
  if (eider_policy_get_reason (daemon->policy) != NULL)
    json_object_set_string_member (reply, "gate", eider_policy_get_reason (daemon->policy));
  else
    json_object_set_null_member (reply, "gate");

  return reply;
}

static JsonObject *
daemon_command_cb (EiderInstanceCommand   command,
                   gint64                 watch_id,
                   gpointer               user_data,
                   GError               **error)
{
  Daemon *daemon = user_data;
  JsonObject *reply;

  switch (command)
    {
    case EIDER_INSTANCE_COMMAND_PAUSE:
    case EIDER_INSTANCE_COMMAND_RESUME:
      if (!daemon_set_paused (daemon, command == EIDER_INSTANCE_COMMAND_PAUSE, error))
        return NULL;
      reply = json_object_new ();
      json_object_set_boolean_member (reply, "paused", daemon->user_paused);
      return reply;

    case EIDER_INSTANCE_COMMAND_PAUSE_WATCH:
    case EIDER_INSTANCE_COMMAND_RESUME_WATCH:
      return daemon_set_watch_paused (daemon, watch_id,
                                      command == EIDER_INSTANCE_COMMAND_PAUSE_WATCH, error);

    case EIDER_INSTANCE_COMMAND_STATUS:
      return daemon_status (daemon, error);

    case EIDER_INSTANCE_COMMAND_WATCHES_CHANGED:
      return daemon_watches_changed (daemon, error);

    case EIDER_INSTANCE_COMMAND_OVERRIDE:
      return daemon_override (daemon, watch_id, error);

    case EIDER_INSTANCE_COMMAND_CANCEL_OVERRIDE:
      if (!eider_store_set_meta (daemon->store, META_OVERRIDE_UNTIL, "0", error))
        return NULL;
      eider_policy_cancel_override (daemon->policy);
      return json_object_new ();

    default:
      g_assert_not_reached ();
    }
}

static void
daemon_stopped_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Daemon *daemon = user_data;
  g_autoptr(GError) error = NULL;

  if (!eider_engine_stop_finish (EIDER_ENGINE (object), result, &error))
    {
      eiderctl_error ("Could not stop cleanly: %s", error->message);
      daemon->status = EIDERCTL_EXIT_FAILED;
    }

  g_main_loop_quit (daemon->loop);
}

static gboolean
daemon_signal_cb (gpointer user_data)
{
  Daemon *daemon = user_data;

  if (daemon->stopping)
    {
      /* Asked twice: what is in flight stays resumable in the store. */
      g_print ("Stopping now, without waiting for the files in flight.\n");
      daemon->status = EIDERCTL_EXIT_FAILED;
      g_main_loop_quit (daemon->loop);
      return G_SOURCE_CONTINUE;
    }

  daemon->stopping = TRUE;
  g_print ("Stopping…\n");
  eider_engine_stop_async (daemon->engine, NULL, daemon_stopped_cb, daemon);

  return G_SOURCE_CONTINUE;
}

static int
eiderctl_daemon (EiderctlGlobals  *globals,
                 int               argc,
                 char            **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(EiderAccount) account = NULL;
  g_autoptr(EiderStore) store = NULL;
  g_autoptr(EiderEngine) engine = NULL;
  g_autoptr(EiderInstance) instance = NULL;
  g_autoptr(EiderWatcher) watcher = NULL;
  g_autoptr(GSettings) settings = NULL;
  g_autoptr(EiderPolicy) policy = NULL;
  g_autoptr(EiderFrontend) frontend = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GPtrArray) watches = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *paused = NULL;
  g_autofree char *override_until = NULL;
  g_autofree char *first_done = NULL;
  Daemon daemon = { NULL };
  guint n_paused_watches = 0;
  guint sigterm_id, sigint_id, rescan_id;
  int jobs = 0;
  GOptionEntry entries[] = {
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Files uploaded at once (default 4)", "N" },
    { NULL }
  };

  g_option_context_set_summary (context,
                                "Backs up the watched folders and keeps them backed up, without a window,\n"
                                "until SIGTERM or SIGINT. One Eider runs per data directory.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 1 || jobs < 0)
    {
      g_printerr ("eiderctl daemon: %s\n", error != NULL ? error->message : "no arguments expected");
      return EIDERCTL_EXIT_USAGE;
    }

  account = eider_account_new (globals->config_dir);
  if (!eider_account_load (account, &error))
    {
      eiderctl_error ("%s", error->message);
      return EIDERCTL_EXIT_FAILED;
    }
  if (eider_account_get_state (account) != EIDER_ACCOUNT_STATE_LOGGED_IN)
    {
      eiderctl_error (eider_account_get_state (account) == EIDER_ACCOUNT_STATE_NEEDS_LOGIN
                      ? "The Ente session has ended: log in again with “eiderctl account login”"
                      : "Not logged in: log in with “eiderctl account login” first");
      return EIDERCTL_EXIT_FAILED;
    }

  /* The directory is taken before the store is opened: a second daemon
   * must not touch the state of the first. */
  if (!eiderctl_ensure_state_dir (globals, &error) ||
      (instance = eider_instance_acquire (globals->data_dir, &error)) == NULL ||
      (store = eiderctl_open_store (globals, &error)) == NULL ||
      (watches = eider_store_list_watches (store, &error)) == NULL)
    {
      eiderctl_error ("%s", error->message);
      return EIDERCTL_EXIT_FAILED;
    }

  engine = eider_engine_new (account, store);
  if (jobs > 0)
    eider_engine_set_max_jobs (engine, jobs);
  if (g_getenv ("EIDER_RETRY_BASE_MS") != NULL)
    eider_engine_set_retry_base_ms (engine, atoi (g_getenv ("EIDER_RETRY_BASE_MS")));

  /* The settings and the machine's state decide when uploads run. */
  if ((settings = eider_settings_new (globals->config_dir, &error)) == NULL)
    {
      eiderctl_error ("%s", error->message);
      return EIDERCTL_EXIT_FAILED;
    }
  policy = eider_policy_new ();
  override_until = eider_store_get_meta (store, META_OVERRIDE_UNTIL);
  if (override_until != NULL && g_ascii_strtoll (override_until, NULL, 10) > g_get_real_time () / G_USEC_PER_SEC)
    eider_policy_override_until (policy, g_ascii_strtoll (override_until, NULL, 10));
  first_done = eider_store_get_meta (store, META_FIRST_BACKUP_DONE);

  loop = g_main_loop_new (NULL, FALSE);
  watcher = eider_watcher_new ();
  g_settings_bind (settings, "poll-seconds", watcher, "poll-seconds", G_SETTINGS_BIND_GET);
  daemon.store = store;
  daemon.engine = engine;
  daemon.policy = policy;
  daemon.instance = instance;
  daemon.watcher = watcher;
  daemon.loop = loop;
  daemon.status = EIDERCTL_EXIT_OK;
  daemon.watched = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);

  /* What was paused before the last stop stays paused. Paused folders
   * need nothing here: the store leaves their files out. */
  paused = eider_store_get_meta (store, META_PAUSED);
  daemon.user_paused = g_strcmp0 (paused, "1") == 0;
  if (daemon.user_paused)
    eider_engine_set_user_paused (engine, TRUE);
  for (guint i = 0; i < watches->len; i++)
    if (((EiderWatch *) g_ptr_array_index (watches, i))->paused)
      n_paused_watches++;

  g_signal_connect (engine, "file-finished", G_CALLBACK (daemon_file_finished_cb), &daemon);
  g_signal_connect (engine, "notify::pause-reason", G_CALLBACK (daemon_pause_reason_cb), &daemon);
  frontend = eider_frontend_new (engine, policy, settings, g_strcmp0 (first_done, "1") == 0);
  daemon.frontend = frontend;
  g_signal_connect (frontend, "notify::first-backup-done", G_CALLBACK (daemon_first_backup_done_cb), &daemon);
  g_signal_connect (frontend, "notify::inhibiting", G_CALLBACK (daemon_inhibiting_cb), &daemon);
  g_signal_connect (policy, "notify::override-active", G_CALLBACK (daemon_override_cb), &daemon);
  g_signal_connect (watcher, "files-ready", G_CALLBACK (daemon_files_ready_cb), &daemon);
  g_signal_connect (watcher, "file-moved", G_CALLBACK (daemon_file_moved_cb), &daemon);
  g_signal_connect (watcher, "files-removed", G_CALLBACK (daemon_files_removed_cb), &daemon);
  g_signal_connect (watcher, "root-availability", G_CALLBACK (daemon_root_availability_cb), &daemon);
  g_signal_connect (watcher, "rescan-needed", G_CALLBACK (daemon_rescan_needed_cb), &daemon);
  eider_instance_set_handler (instance, daemon_command_cb, &daemon, NULL);
  sigterm_id = g_unix_signal_add (SIGTERM, daemon_signal_cb, &daemon);
  sigint_id = g_unix_signal_add (SIGINT, daemon_signal_cb, &daemon);

  g_print ("Eider is running (pid %d) for %s, watching %u folder%s",
           (int) getpid (), eider_account_get_email (account), watches->len,
           watches->len == 1 ? "" : "s");
  if (n_paused_watches > 0)
    g_print (" (%u paused)", n_paused_watches);
  g_print ("%s.\n", daemon.user_paused ? "; paused (“eiderctl resume” continues)" : "");

  /* Watching starts before the first pass, so that nothing written
   * during it is missed. */
  daemon_watch_roots (&daemon, watches);
  eider_engine_start (engine);
  rescan_id = g_timeout_add_seconds (FULL_RESCAN_SECONDS, daemon_full_rescan_cb, &daemon);
  g_main_loop_run (loop);

  g_source_remove (rescan_id);
  g_source_remove (sigterm_id);
  g_source_remove (sigint_id);
  eider_instance_set_handler (instance, NULL, NULL, NULL);
  g_signal_handlers_disconnect_by_data (engine, &daemon);
  g_signal_handlers_disconnect_by_data (watcher, &daemon);
  g_signal_handlers_disconnect_by_data (frontend, &daemon);
  g_signal_handlers_disconnect_by_data (policy, &daemon);
  /* The bindings go before the engine: nothing steers it any more. */
  g_clear_object (&frontend);

  g_print ("Stopped: %u uploaded, %u skipped, %u failed.\n", daemon.n_uploaded, daemon.n_skipped,
           daemon.n_failed);
  g_hash_table_unref (daemon.watched);

  return daemon.status;
}

/* pause, resume */

/* resume --force [--hours N]: back up anyway, despite a metered network,
 * the battery, power saver or the upload window. */
static int
resume_force (EiderctlGlobals *globals,
              EiderStore      *store,
              int              hours)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *command = g_strdup_printf ("override %" G_GINT64_FORMAT, (gint64) hours * 3600);
  g_autofree char *reply = NULL;

  if (eider_instance_send (globals->data_dir, command, &reply, &error))
    {
      g_autoptr(JsonNode) root = json_from_string (reply, NULL);
      JsonObject *object = json_node_get_object (root);
      const char *lifted = json_object_get_string_member_with_default (object, "lifted", NULL);
      const char *gate = json_object_get_string_member_with_default (object, "gate", NULL);

      if (!json_object_get_boolean_member_with_default (object, "overridden", FALSE))
        {
          if (gate != NULL)
            g_print ("Nothing to back up anyway: %s.\n", gate);
          else
            g_print ("Nothing holds the backup back.\n");
          return EIDERCTL_EXIT_OK;
        }

      if (hours > 0)
        {
          g_autoptr(GDateTime) until =
            g_date_time_new_from_unix_local (json_object_get_int_member_with_default (object, "overrideUntil", 0));
          g_autofree char *when = g_date_time_format (until, "%Y-%m-%d %H:%M");

          g_print ("Backing up anyway until %s", when);
        }
      else
        g_print ("Backing up anyway until the conditions change");
      if (lifted != NULL)
        g_print (" (it was: %s)", lifted);
      g_print (".\n");
      if (gate != NULL)
        g_print ("Still waiting: %s.\n", gate);
      return EIDERCTL_EXIT_OK;
    }

  if (!g_error_matches (error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_NOT_RUNNING))
    {
      eiderctl_error ("The running Eider did not back up anyway: %s", error->message);
      return EIDERCTL_EXIT_FAILED;
    }

  /* Not running: a timed override waits for the next start. */
  if (hours > 0)
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_local ();
      g_autoptr(GDateTime) until = g_date_time_add_hours (now, hours);
      g_autofree char *until_text = g_strdup_printf ("%" G_GINT64_FORMAT, g_date_time_to_unix (until));
      g_autofree char *when = g_date_time_format (until, "%Y-%m-%d %H:%M");

      g_clear_error (&error);
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
  g_autoptr(EiderStore) store = NULL;
  g_autoptr(EiderWatch) watch = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *command = NULL;
  g_autofree char *reply = NULL;
  g_autofree char *what = NULL;
  const char *name = pause ? "pause" : "resume";
  gboolean force = FALSE;
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

  if ((store = eiderctl_open_store (globals, &error)) == NULL)
    {
      eiderctl_error ("%s", error->message);
      return EIDERCTL_EXIT_FAILED;
    }

  /* Persisted first: a daemon that starts later reads it from the store. */
  if (argc == 2)
    {
      if ((watch = eiderctl_find_watch (store, argv[1])) == NULL)
        return EIDERCTL_EXIT_FAILED;
      if (!eider_store_set_watch_paused (store, watch->id, pause, &error))
        {
          eiderctl_error ("%s", error->message);
          return EIDERCTL_EXIT_FAILED;
        }
      command = g_strdup_printf ("%s-watch %" G_GINT64_FORMAT, name, watch->id);
      {
        g_autofree char *display = g_filename_display_name (watch->path);

        what = g_strdup_printf ("%s %s", pause ? "Paused" : "Resumed", display);
      }
    }
  else
    {
      if (!eider_store_set_meta (store, META_PAUSED, pause ? "1" : "0", &error))
        {
          eiderctl_error ("%s", error->message);
          return EIDERCTL_EXIT_FAILED;
        }
      command = g_strdup (name);
      what = g_strdup (pause ? "Paused the backup" : "Resumed the backup");
    }

  if (eider_instance_send (globals->data_dir, command, &reply, &error))
    {
      g_autoptr(JsonNode) root = json_from_string (reply, NULL);
      gint64 pid = json_object_get_int_member_with_default (json_node_get_object (root), "pid", 0);

      g_print ("%s; the running Eider (pid %" G_GINT64_FORMAT ") applied it.\n", what, pid);
      return force ? resume_force (globals, store, MAX (hours, 0)) : EIDERCTL_EXIT_OK;
    }

  if (g_error_matches (error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_NOT_RUNNING))
    {
      g_print ("%s. Eider is not running: this will apply when it next starts.\n", what);
      return force ? resume_force (globals, store, MAX (hours, 0)) : EIDERCTL_EXIT_OK;
    }

  eiderctl_error ("%s in the settings, but the running Eider did not apply it: %s", what,
                  error->message);
  return EIDERCTL_EXIT_FAILED;
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
