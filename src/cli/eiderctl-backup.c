/* eiderctl-backup.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * eiderctl watch add|list|remove, backup --once, status, failures, retry
 */
#define G_LOG_DOMAIN "eiderctl"
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eider-account.h"
#include "eider-engine.h"
#include "eider-instance.h"
#include "eider-scanner.h"
#include "eider-settings.h"
#include "eider-store.h"
#include "eiderctl.h"

static const char *
mapping_text (const EiderWatch *watch,
              char            **owned)
{
  g_autofree char *album = NULL;

  if (watch->mapping == EIDER_MAPPING_ALBUM_PER_FOLDER)
    return "one album per folder";

  album = watch->album_name != NULL ? g_strdup (watch->album_name)
                                    : g_filename_display_basename (watch->path);
  *owned = g_strdup_printf ("album “%s”", album);

  return *owned;
}

/* A running daemon follows watch add/remove at once; without one there is
 * nobody to tell, and the next start reads the store anyway. */
static void
tell_daemon (EiderctlGlobals *globals)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *reply = NULL;

  if (!eider_instance_send (globals->data_dir, "watches-changed", &reply, &error) &&
      !g_error_matches (error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_NOT_RUNNING))
    g_printerr ("The running Eider could not be told: %s\n", error->message);
}

/* watch */

/* --on-edit=replace|keep-both, --on-delete=leave-album|keep; NULL keeps the
 * current choice. */
static gboolean
parse_folder_options (const char  *on_edit,
                      const char  *on_delete,
                      gboolean    *keep_edits,
                      gboolean    *keep_deleted)
{
  if (on_edit != NULL)
    {
      if (g_str_equal (on_edit, "replace"))
        *keep_edits = FALSE;
      else if (g_str_equal (on_edit, "keep-both"))
        *keep_edits = TRUE;
      else
        return FALSE;
    }

  if (on_delete != NULL)
    {
      if (g_str_equal (on_delete, "leave-album"))
        *keep_deleted = FALSE;
      else if (g_str_equal (on_delete, "keep"))
        *keep_deleted = TRUE;
      else
        return FALSE;
    }

  return TRUE;
}

static const char *
options_text (const EiderWatch *watch)
{
  if (watch->keep_edits && watch->keep_deleted)
    return "; edits kept as new files, deleted files stay in the album";
  if (watch->keep_edits)
    return "; edits kept as new files";
  if (watch->keep_deleted)
    return "; deleted files stay in the album";
  return "";
}

#define FOLDER_OPTION_ENTRIES(on_edit, on_delete) \
  { "on-edit", 0, 0, G_OPTION_ARG_STRING, &on_edit, "An edited file: replace its copy in Ente (default) or keep-both", "replace|keep-both" }, \
  { "on-delete", 0, 0, G_OPTION_ARG_STRING, &on_delete, "A deleted file: leave-album (default: kept in another album or Uncategorized) or keep it in the album", "leave-album|keep" }

static int
watch_add (EiderctlGlobals  *globals,
           int               argc,
           char            **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("PATH");
  g_autoptr(EiderStore) store = NULL;
  g_autoptr(EiderWatch) watch = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *album = NULL;
  g_autofree char *real = NULL;
  g_autofree char *text = NULL;
  g_autofree char *on_edit = NULL;
  g_autofree char *on_delete = NULL;
  gboolean one_album = FALSE;
  gboolean per_folder = FALSE;
  gboolean keep_edits = FALSE;
  gboolean keep_deleted = FALSE;
  GOptionEntry entries[] = {
    { "one-album", 0, 0, G_OPTION_ARG_NONE, &one_album, "Put every file in one album named after the folder (default)", NULL },
    { "album-per-folder", 0, 0, G_OPTION_ARG_NONE, &per_folder, "One album per subfolder, named after the folder that holds the files", NULL },
    { "album", 0, 0, G_OPTION_ARG_STRING, &album, "The album's name, with --one-album (default: the folder's name)", "NAME" },
    FOLDER_OPTION_ENTRIES (on_edit, on_delete),
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 2 ||
      (one_album && per_folder) || (album != NULL && per_folder) ||
      !parse_folder_options (on_edit, on_delete, &keep_edits, &keep_deleted))
    {
      g_printerr ("eiderctl watch add: %s\n", error != NULL ? error->message
                  : "give one folder, at most one of --one-album / --album-per-folder (--album goes with --one-album), "
                    "--on-edit replace|keep-both, --on-delete leave-album|keep");
      return EIDERCTL_EXIT_USAGE;
    }

  real = realpath (argv[1], NULL);
  if (real == NULL || !g_file_test (real, G_FILE_TEST_IS_DIR))
    {
      eiderctl_error ("%s is not a folder", argv[1]);
      return EIDERCTL_EXIT_FAILED;
    }

  if ((store = eiderctl_open_store (globals, &error)) == NULL ||
      (watch = eider_store_add_watch (store, real,
                                      per_folder ? EIDER_MAPPING_ALBUM_PER_FOLDER : EIDER_MAPPING_ONE_ALBUM,
                                      album, &error)) == NULL ||
      !eider_store_set_watch_options (store, watch->id, keep_edits, keep_deleted, &error))
    {
      eiderctl_error ("%s", error->message);
      return EIDERCTL_EXIT_FAILED;
    }
  watch->keep_edits = keep_edits;
  watch->keep_deleted = keep_deleted;

  g_print ("Watching %s → %s%s.\n", watch->path, mapping_text (watch, &text), options_text (watch));
  tell_daemon (globals);
  return EIDERCTL_EXIT_OK;
}

static int
watch_list (EiderctlGlobals  *globals,
            int               argc,
            char            **argv)
{
  g_autoptr(EiderStore) store = NULL;
  g_autoptr(GPtrArray) watches = NULL;
  g_autoptr(GError) error = NULL;

  if ((store = eiderctl_open_store (globals, &error)) == NULL ||
      (watches = eider_store_list_watches (store, &error)) == NULL)
    {
      eiderctl_error ("%s", error->message);
      return EIDERCTL_EXIT_FAILED;
    }

  if (watches->len == 0)
    g_print ("No folders are watched. Add one with “eiderctl watch add PATH”.\n");

  for (guint i = 0; i < watches->len; i++)
    {
      EiderWatch *watch = g_ptr_array_index (watches, i);
      g_autofree char *text = NULL;

      g_print ("%s → %s%s%s%s\n", watch->path, mapping_text (watch, &text), options_text (watch),
               watch->paused ? " (paused)" : "",
               g_file_test (watch->path, G_FILE_TEST_IS_DIR) ? "" : " (unavailable)");
    }

  return EIDERCTL_EXIT_OK;
}

static int
watch_remove (EiderctlGlobals  *globals,
              int               argc,
              char            **argv)
{
  g_autoptr(EiderStore) store = NULL;
  g_autoptr(EiderWatch) watch = NULL;
  g_autoptr(GError) error = NULL;

  if (argc != 2)
    {
      g_printerr ("eiderctl watch remove: give the watched folder\n");
      return EIDERCTL_EXIT_USAGE;
    }

  if ((store = eiderctl_open_store (globals, &error)) == NULL)
    {
      eiderctl_error ("%s", error->message);
      return EIDERCTL_EXIT_FAILED;
    }

  if ((watch = eiderctl_find_watch (store, argv[1])) == NULL)
    return EIDERCTL_EXIT_FAILED;

  if (!eider_store_remove_watch (store, watch->id, &error))
    {
      eiderctl_error ("%s", error->message);
      return EIDERCTL_EXIT_FAILED;
    }

  g_print ("Stopped watching %s. Nothing in Ente was changed.\n", watch->path);
  tell_daemon (globals);
  return EIDERCTL_EXIT_OK;
}

/* watch set PATH --on-edit … --on-delete …: a folder's choices. */
static int
watch_set (EiderctlGlobals  *globals,
           int               argc,
           char            **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("PATH");
  g_autoptr(EiderStore) store = NULL;
  g_autoptr(EiderWatch) watch = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *on_edit = NULL;
  g_autofree char *on_delete = NULL;
  g_autofree char *text = NULL;
  GOptionEntry entries[] = {
    FOLDER_OPTION_ENTRIES (on_edit, on_delete),
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 2 ||
      (on_edit == NULL && on_delete == NULL))
    {
      g_printerr ("eiderctl watch set: %s\n", error != NULL ? error->message
                  : "give one watched folder and --on-edit replace|keep-both and/or --on-delete leave-album|keep");
      return EIDERCTL_EXIT_USAGE;
    }

  if ((store = eiderctl_open_store (globals, &error)) == NULL)
    {
      eiderctl_error ("%s", error->message);
      return EIDERCTL_EXIT_FAILED;
    }
  if ((watch = eiderctl_find_watch (store, argv[1])) == NULL)
    return EIDERCTL_EXIT_FAILED;

  if (!parse_folder_options (on_edit, on_delete, &watch->keep_edits, &watch->keep_deleted))
    {
      g_printerr ("eiderctl watch set: --on-edit takes replace or keep-both, --on-delete leave-album or keep\n");
      return EIDERCTL_EXIT_USAGE;
    }
  if (!eider_store_set_watch_options (store, watch->id, watch->keep_edits, watch->keep_deleted, &error))
    {
      eiderctl_error ("%s", error->message);
      return EIDERCTL_EXIT_FAILED;
    }

  g_print ("%s → %s%s.\n", watch->path, mapping_text (watch, &text), options_text (watch));
  return EIDERCTL_EXIT_OK;
}

static int
eiderctl_watch (EiderctlGlobals  *globals,
                int               argc,
                char            **argv)
{
  const char *command = argc > 1 ? argv[1] : NULL;

  if (g_strcmp0 (command, "add") == 0)
    return watch_add (globals, argc - 1, argv + 1);
  if (g_strcmp0 (command, "list") == 0)
    return watch_list (globals, argc - 1, argv + 1);
  if (g_strcmp0 (command, "remove") == 0)
    return watch_remove (globals, argc - 1, argv + 1);
  if (g_strcmp0 (command, "set") == 0)
    return watch_set (globals, argc - 1, argv + 1);

  g_printerr ("eiderctl watch: use add, list, set or remove\n");
  return EIDERCTL_EXIT_USAGE;
}

/* backup */

typedef struct
{
  gboolean  tty;
  guint     n_uploaded;
  guint     n_skipped;
  guint     n_failed;
  guint64   bytes_done;
  gint64    started_us;
  char     *current;
} Progress;

static void
progress_line (Progress   *progress,
               EiderStore *store)
{
  EiderStoreCounts counts = { { 0 } };
  g_autofree char *done = NULL;
  g_autofree char *left = NULL;
  g_autofree char *speed = NULL;
  double seconds = (g_get_monotonic_time () - progress->started_us) / 1e6;
  double rate = seconds > 0.5 ? progress->bytes_done / seconds : 0;

  eider_store_get_counts (store, &counts, NULL);
  done = g_format_size (progress->bytes_done);
  left = g_format_size (counts.bytes_left);
  speed = g_format_size ((guint64) rate);

  g_printerr ("\r\033[K%u uploaded, %u to go · %s done, %s left · %s/s",
              progress->n_uploaded, counts.n_by_state[EIDER_FILE_PENDING] + counts.n_by_state[EIDER_FILE_WORKING],
              done, left, speed);
  if (rate > 0 && counts.bytes_left > 0)
    {
      guint eta = (guint) (counts.bytes_left / rate);

      g_printerr (" · about %u:%02u left", eta / 60, eta % 60);
    }
  if (progress->current != NULL)
    g_printerr (" · %s", progress->current);
}

static void
file_started_cb (EiderEngine *engine,
                 gint64       file_id,
                 const char  *path,
                 gint64       size,
                 Progress    *progress)
{
  g_free (progress->current);
  progress->current = g_filename_display_basename (path);
  if (progress->tty)
    progress_line (progress, eider_engine_get_store (engine));
}

static void
file_finished_cb (EiderEngine *engine,
                  gint64       file_id,
                  const char  *path,
                  int          state,
                  int          reason_code,
                  const char  *reason_details,
                  gint64       size,
                  Progress    *progress)
{
  g_autofree char *display = g_filename_display_name (path);
  g_autofree char *reason = eider_reason_describe (reason_code, reason_details);
  const char *what;

  switch (state)
    {
    case EIDER_FILE_UPLOADED:
      progress->n_uploaded++;
      progress->bytes_done += size;
      what = "uploaded";
      break;
    case EIDER_FILE_SKIPPED:
      progress->n_skipped++;
      what = "skipped";
      break;
    case EIDER_FILE_FAILED:
      progress->n_failed++;
      what = "failed";
      break;
    default:
      return;
    }

  if (progress->tty)
    {
      if (state != EIDER_FILE_UPLOADED)
        g_printerr ("\r\033[K%s %s: %s\n", what, display, reason);
      progress_line (progress, eider_engine_get_store (engine));
    }
  else if (reason != NULL)
    g_print ("%s\t%s\t%s\n", what, display, reason);
  else
    g_print ("%s\t%s\n", what, display);
}

static EiderAccount *
load_account (EiderctlGlobals  *globals,
              GError          **error)
{
  g_autoptr(EiderAccount) account = eider_account_new (globals->config_dir);

  if (!eider_account_load (account, error))
    return NULL;

  return g_steal_pointer (&account);
}

/* While a one-time backup runs it holds the state directory, as the
 * daemon does: status finds it; pause and the like wait for the daemon. */
static JsonObject *
once_command_cb (EiderInstanceCommand   command,
                 gint64                 watch_id,
                 gpointer               user_data,
                 GError               **error)
{
  JsonObject *reply;

  switch (command)
    {
    case EIDER_INSTANCE_COMMAND_STATUS:
      reply = json_object_new ();
      json_object_set_boolean_member (reply, "oneTime", TRUE);
      return reply;
    case EIDER_INSTANCE_COMMAND_WATCHES_CHANGED:
      return json_object_new ();   /* the next run takes the change */
    default:
      g_set_error_literal (error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_FAILED,
                           "A one-time backup (eiderctl backup --once) is running: "
                           "stop it with Ctrl+C, or wait until it is done");
      return NULL;
    }
}

static int
eiderctl_backup (EiderctlGlobals  *globals,
                 int               argc,
                 char            **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(EiderAccount) account = NULL;
  g_autoptr(EiderStore) store = NULL;
  g_autoptr(EiderEngine) engine = NULL;
  g_autoptr(EiderInstance) instance = NULL;
  g_autoptr(GSettings) settings = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  Progress progress = { 0 };
  gboolean once = FALSE;
  int jobs = 0;
  gboolean ok;
  GOptionEntry entries[] = {
    { "once", 0, 0, G_OPTION_ARG_NONE, &once, "Back up everything now, then exit (0 when every file is in Ente or skipped with a reason)", NULL },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Files uploaded at once (default 4)", "N" },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 1 || !once)
    {
      g_printerr ("eiderctl backup: %s\n", error != NULL ? error->message : "use --once");
      return EIDERCTL_EXIT_USAGE;
    }

  /* One engine per state directory: not next to a running daemon. */
  if ((account = load_account (globals, &error)) == NULL ||
      (store = eiderctl_open_store (globals, &error)) == NULL ||
      (instance = eider_instance_acquire (globals->data_dir, &error)) == NULL)
    {
      eiderctl_error ("%s", error->message);
      if (g_error_matches (error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_RUNNING))
        g_printerr ("It backs up by itself; “eiderctl status” shows how far it is.\n");
      return EIDERCTL_EXIT_FAILED;
    }
  eider_instance_set_handler (instance, once_command_cb, NULL, NULL);

  /* A one-time backup is a request for now: the conditions the daemon
   * waits for (network kind, battery, power saver, upload window) do not
   * hold it back, but the bandwidth cap still spares the network. */
  if ((settings = eider_settings_new (globals->config_dir, &error)) == NULL)
    {
      eiderctl_error ("%s", error->message);
      return EIDERCTL_EXIT_FAILED;
    }

  engine = eider_engine_new (account, store);
  eider_engine_set_bandwidth_limit (engine, (guint64) g_settings_get_uint (settings, "bandwidth-limit") * 1024);
  if (jobs > 0)
    eider_engine_set_max_jobs (engine, jobs);
  if (g_getenv ("EIDER_RETRY_BASE_MS") != NULL)
    eider_engine_set_retry_base_ms (engine, atoi (g_getenv ("EIDER_RETRY_BASE_MS")));

  progress.tty = isatty (STDERR_FILENO);
  progress.started_us = g_get_monotonic_time ();
  g_signal_connect (engine, "file-started", G_CALLBACK (file_started_cb), &progress);
  g_signal_connect (engine, "file-finished", G_CALLBACK (file_finished_cb), &progress);

  eider_engine_run_once_async (engine, NULL, eiderctl_result_cb, &result);
  ok = eider_engine_run_once_finish (engine, eiderctl_wait (&result), &error);

  if (progress.tty)
    g_printerr ("\r\033[K");
  g_free (progress.current);

  g_print ("%u uploaded, %u skipped, %u failed.\n", progress.n_uploaded, progress.n_skipped,
           progress.n_failed);
  if (!ok)
    {
      eiderctl_error ("%s", error->message);
      if (g_error_matches (error, EIDER_ENGINE_ERROR, EIDER_ENGINE_ERROR_INCOMPLETE))
        g_printerr ("See “eiderctl failures”; “eiderctl retry” tries them again.\n");
      return EIDERCTL_EXIT_FAILED;
    }

  return EIDERCTL_EXIT_OK;
}

/* status, failures, retry */

/* What the Eider running on this data directory says of itself (its pid,
 * pause, gate, "back up anyway", folders), or NULL when none runs. */
static JsonObject *
daemon_state (EiderctlGlobals *globals)
{
  g_autofree char *reply = NULL;
  g_autoptr(JsonNode) root = NULL;

  if (!eider_instance_send (globals->data_dir, "status", &reply, NULL) ||
      (root = json_from_string (reply, NULL)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;

  return json_object_ref (json_node_get_object (root));
}

/* The folders as the running Eider sees them; without one, as the store
 * and the file system say (paused, there or not). */
static JsonArray *
watch_states (JsonObject *daemon,
              GPtrArray  *watches)
{
  JsonArray *states;

  if (daemon != NULL && json_object_has_member (daemon, "watches"))
    return json_array_ref (json_object_get_array_member (daemon, "watches"));

  states = json_array_new ();
  for (guint i = 0; i < watches->len; i++)
    {
      EiderWatch *watch = g_ptr_array_index (watches, i);

      json_array_add_object_element (states,
                                     eiderctl_watch_state_new (watch, g_file_test (watch->path, G_FILE_TEST_IS_DIR),
                                                               FALSE, NULL, 0));
    }

  return states;
}

static void
print_watch_states (JsonArray *states)
{
  guint n = json_array_get_length (states);

  g_print (n == 0 ? "Folders: none (“eiderctl watch add PATH” adds one)\n" : "Folders:\n");
  for (guint i = 0; i < n; i++)
    {
      JsonObject *state = json_array_get_object_element (states, i);
      const char *poll_reason = json_object_get_string_member_with_default (state, "pollReason", NULL);

      g_print ("  %s", json_object_get_string_member (state, "path"));
      if (json_object_get_boolean_member_with_default (state, "paused", FALSE))
        g_print (" — paused");
      if (!json_object_get_boolean_member_with_default (state, "available", TRUE))
        g_print (" — unavailable: nothing in it counts as deleted until it is back");
      else if (poll_reason != NULL)
        {
          g_autofree char *every =
            eiderctl_format_interval (json_object_get_int_member_with_default (state, "pollSeconds", 300));

          g_print (" — not watched live (%s): checked every %s", poll_reason, every);
        }
      else if (json_object_get_boolean_member_with_default (state, "live", FALSE))
        g_print (" — watched live");
      g_print ("\n");
    }
}

static int
eiderctl_status (EiderctlGlobals  *globals,
                 int               argc,
                 char            **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(EiderAccount) account = NULL;
  g_autoptr(EiderStore) store = NULL;
  g_autoptr(GPtrArray) working = NULL;
  g_autoptr(GError) error = NULL;
  EiderStoreCounts counts = { { 0 } };
  g_autoptr(JsonObject) daemon = NULL;
  g_autoptr(JsonArray) folders = NULL;
  g_autoptr(GPtrArray) watches = NULL;
  g_autofree char *stored_paused = NULL;
  const char *gate = NULL;
  gboolean json = FALSE;
  gboolean paused;
  gboolean overriding = FALSE;
  gint64 override_until = 0;
  gint64 daemon_pid = 0;
  gboolean one_time = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 1)
    {
      g_printerr ("eiderctl status: %s\n", error != NULL ? error->message : "no arguments expected");
      return EIDERCTL_EXIT_USAGE;
    }

  account = eider_account_new (globals->config_dir);
  eider_account_load (account, NULL);

  if ((store = eiderctl_open_store (globals, &error)) == NULL ||
      !eider_store_get_counts (store, &counts, &error) ||
      (working = eider_store_list_files_in_state (store, EIDER_FILE_WORKING, &error)) == NULL ||
      (watches = eider_store_list_watches (store, &error)) == NULL)
    {
      eiderctl_error ("%s", error->message);
      return EIDERCTL_EXIT_FAILED;
    }

  /* As the running Eider says, else as stored. */
  stored_paused = eider_store_get_meta (store, "paused");
  paused = g_strcmp0 (stored_paused, "1") == 0;
  if ((daemon = daemon_state (globals)) != NULL)
    {
      daemon_pid = json_object_get_int_member_with_default (daemon, "pid", 0);
      one_time = json_object_get_boolean_member_with_default (daemon, "oneTime", FALSE);
      paused = json_object_get_boolean_member_with_default (daemon, "paused", FALSE);
      gate = json_object_get_string_member_with_default (daemon, "gate", NULL);
      overriding = json_object_get_boolean_member_with_default (daemon, "override", FALSE);
      override_until = json_object_get_int_member_with_default (daemon, "overrideUntil", 0);
    }
  folders = watch_states (daemon, watches);

  if (json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *text = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "account");
      json_builder_add_string_value (builder, eider_account_get_state_name (account));
      json_builder_set_member_name (builder, "daemon");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "running");
      json_builder_add_boolean_value (builder, daemon_pid > 0 && !one_time);
      json_builder_set_member_name (builder, "oneTime");
      json_builder_add_boolean_value (builder, one_time);
      json_builder_set_member_name (builder, "pid");
      json_builder_add_int_value (builder, daemon_pid);
      json_builder_set_member_name (builder, "paused");
      json_builder_add_boolean_value (builder, paused);
      json_builder_set_member_name (builder, "gate");
      if (gate != NULL)
        json_builder_add_string_value (builder, gate);
      else
        json_builder_add_null_value (builder);
      json_builder_set_member_name (builder, "override");
      json_builder_add_boolean_value (builder, overriding);
      json_builder_set_member_name (builder, "overrideUntil");
      json_builder_add_int_value (builder, override_until);
      json_builder_end_object (builder);
      json_builder_set_member_name (builder, "watches");
      {
        g_autoptr(JsonNode) node = json_node_init_array (json_node_alloc (), folders);

        json_builder_add_value (builder, g_steal_pointer (&node));
      }
      json_builder_set_member_name (builder, "files");
      json_builder_begin_object (builder);
      for (guint s = EIDER_FILE_PENDING; s <= EIDER_FILE_FAILED; s++)
        {
          json_builder_set_member_name (builder, eider_file_state_to_string (s));
          json_builder_add_int_value (builder, counts.n_by_state[s]);
        }
      json_builder_end_object (builder);
      json_builder_set_member_name (builder, "bytesLeft");
      json_builder_add_int_value (builder, counts.bytes_left);
      json_builder_set_member_name (builder, "current");
      json_builder_begin_array (builder);
      for (guint i = 0; i < working->len; i++)
        {
          g_autofree char *display = g_filename_display_name (((EiderFileRecord *) g_ptr_array_index (working, i))->path);

          json_builder_add_string_value (builder, display);
        }
      json_builder_end_array (builder);
      json_builder_end_object (builder);

      root = json_builder_get_root (builder);
      text = json_to_string (root, TRUE);
      g_print ("%s\n", text);
      return EIDERCTL_EXIT_OK;
    }

  {
    g_autofree char *left = g_format_size (counts.bytes_left);

    g_print ("Account: %s\n", eider_account_get_state_name (account));
    if (one_time)
      g_print ("Daemon: not running; a one-time backup is running (pid %" G_GINT64_FORMAT ")\n", daemon_pid);
    else if (daemon_pid > 0)
      g_print ("Daemon: running (pid %" G_GINT64_FORMAT ")%s\n", daemon_pid,
               paused ? ", paused (“eiderctl resume” continues)" : "");
    else
      g_print ("Daemon: not running%s\n", paused ? "; the backup is paused (“eiderctl resume” continues)" : "");
    if (gate != NULL)
      g_print ("Uploads wait: %s (“eiderctl resume --force” backs up anyway)\n", gate);
    if (override_until > 0)
      {
        g_autoptr(GDateTime) until = g_date_time_new_from_unix_local (override_until);
        g_autofree char *when = g_date_time_format (until, "%Y-%m-%d %H:%M");

        g_print ("Backing up anyway until %s\n", when);
      }
    else if (overriding)
      g_print ("Backing up anyway until the conditions change\n");
    /* Nobody works on a file while no Eider runs: it was interrupted. */
    g_print ("Files: %u uploaded, %u pending, %u %s, %u skipped, %u failed\n",
             counts.n_by_state[EIDER_FILE_UPLOADED], counts.n_by_state[EIDER_FILE_PENDING],
             counts.n_by_state[EIDER_FILE_WORKING], daemon_pid > 0 ? "in progress" : "interrupted",
             counts.n_by_state[EIDER_FILE_SKIPPED], counts.n_by_state[EIDER_FILE_FAILED]);
    g_print ("Left to back up: %s\n", left);
    print_watch_states (folders);
    for (guint i = 0; i < working->len; i++)
      {
        g_autofree char *display = g_filename_display_name (((EiderFileRecord *) g_ptr_array_index (working, i))->path);

        if (daemon_pid > 0)
          g_print ("  working on %s\n", display);
        else
          g_print ("  interrupted: %s (continues where it stopped when Eider next runs)\n", display);
      }
  }

  return EIDERCTL_EXIT_OK;
}

static int
eiderctl_failures (EiderctlGlobals  *globals,
                   int               argc,
                   char            **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(EiderStore) store = NULL;
  g_autoptr(GPtrArray) failed = NULL;
  g_autoptr(GPtrArray) skipped = NULL;
  g_autoptr(GError) error = NULL;
  gboolean with_skipped = FALSE;
  GOptionEntry entries[] = {
    { "skipped", 0, 0, G_OPTION_ARG_NONE, &with_skipped, "Also list the skipped files and why", NULL },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 1)
    {
      g_printerr ("eiderctl failures: %s\n", error != NULL ? error->message : "no arguments expected");
      return EIDERCTL_EXIT_USAGE;
    }

  if ((store = eiderctl_open_store (globals, &error)) == NULL ||
      (failed = eider_store_list_files_in_state (store, EIDER_FILE_FAILED, &error)) == NULL ||
      (with_skipped &&
       (skipped = eider_store_list_files_in_state (store, EIDER_FILE_SKIPPED, &error)) == NULL))
    {
      eiderctl_error ("%s", error->message);
      return EIDERCTL_EXIT_FAILED;
    }

  if (failed->len == 0 && (skipped == NULL || skipped->len == 0))
    g_print ("No failures.\n");

  for (guint i = 0; i < failed->len; i++)
    {
      EiderFileRecord *record = g_ptr_array_index (failed, i);
      g_autofree char *display = g_filename_display_name (record->path);
      g_autofree char *reason = eider_reason_describe (record->reason_code, record->reason_details);

      g_print ("failed\t%s\t%s (%d attempt%s)\n", display, reason, record->attempts,
               record->attempts == 1 ? "" : "s");
    }

  for (guint i = 0; skipped != NULL && i < skipped->len; i++)
    {
      EiderFileRecord *record = g_ptr_array_index (skipped, i);
      g_autofree char *display = g_filename_display_name (record->path);
      g_autofree char *reason = eider_reason_describe (record->reason_code, record->reason_details);

      g_print ("skipped\t%s\t%s\n", display, reason);
    }

  return EIDERCTL_EXIT_OK;
}

static int
eiderctl_retry (EiderctlGlobals  *globals,
                int               argc,
                char            **argv)
{
  g_autoptr(EiderStore) store = NULL;
  g_autoptr(GError) error = NULL;
  guint n;

  if ((store = eiderctl_open_store (globals, &error)) == NULL)
    {
      eiderctl_error ("%s", error->message);
      return EIDERCTL_EXIT_FAILED;
    }

  n = eider_store_retry_failed (store, &error);
  if (error != NULL)
    {
      eiderctl_error ("%s", error->message);
      return EIDERCTL_EXIT_FAILED;
    }

  g_print ("%u failed file%s will be tried again at the next backup.\n", n, n == 1 ? "" : "s");
  return EIDERCTL_EXIT_OK;
}

int
eiderctl_backup_command (EiderctlGlobals  *globals,
                         int               argc,
                         char            **argv)
{
  const char *command = argv[0];

  if (g_str_equal (command, "watch"))
    return eiderctl_watch (globals, argc, argv);
  if (g_str_equal (command, "backup"))
    return eiderctl_backup (globals, argc, argv);
  if (g_str_equal (command, "status"))
    return eiderctl_status (globals, argc, argv);
  if (g_str_equal (command, "failures"))
    return eiderctl_failures (globals, argc, argv);
  if (g_str_equal (command, "retry"))
    return eiderctl_retry (globals, argc, argv);

  return -1;
}
