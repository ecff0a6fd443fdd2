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
#include "eider-service.h"
#include "eider-reason.h"
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

/* A folder as a host describes it, in the store's terms. */
static EiderWatch *
watch_from_variant (GVariant *folder)
{
  EiderWatch *watch = g_new0 (EiderWatch, 1);
  const char *text = NULL;
  const char *path = NULL;

  g_variant_lookup (folder, "id", "x", &watch->id);
  g_variant_lookup (folder, "path", "^&ay", &path);
  watch->path = g_strdup (path != NULL ? path : "");
  if (g_variant_lookup (folder, "mapping", "&s", &text))
    watch->mapping = g_str_equal (text, "album-per-folder") ? EIDER_MAPPING_ALBUM_PER_FOLDER
                                                             : EIDER_MAPPING_ONE_ALBUM;
  if (g_variant_lookup (folder, "album", "&s", &text) && *text != '\0')
    watch->album_name = g_strdup (text);
  if (g_variant_lookup (folder, "on-edit", "&s", &text))
    watch->keep_edits = g_str_equal (text, "keep-both");
  if (g_variant_lookup (folder, "on-delete", "&s", &text))
    watch->keep_deleted = g_str_equal (text, "keep");
  g_variant_lookup (folder, "paused", "b", &watch->paused);

  return watch;
}

/* The folders: as the running host sees them, else as the store and the
 * file system say (paused, there or not). NULL on failure (said). */
static GVariant *
list_folders (EiderctlGlobals  *globals,
              EiderDBusEngine1 *engine)
{
  g_autoptr(EiderStore) store = NULL;
  g_autoptr(GPtrArray) watches = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("aa{sv}"));
  GVariant *folders = NULL;

  if (engine != NULL)
    {
      if (!eider_dbus_engine1_call_list_folders_sync (engine, &folders, NULL, &error))
        eiderctl_host_error ("Could not list the folders", error);
      return folders;
    }

  if ((store = eiderctl_open_store (globals, &error)) == NULL ||
      (watches = eider_store_list_watches (store, &error)) == NULL)
    {
      eiderctl_error ("%s", error->message);
      return NULL;
    }

  for (guint i = 0; i < watches->len; i++)
    {
      EiderWatch *watch = g_ptr_array_index (watches, i);

      g_variant_builder_add_value (&builder,
                                   eider_folder_to_variant (watch, g_file_test (watch->path, G_FILE_TEST_IS_DIR),
                                                            FALSE, NULL, 0, NULL));
    }

  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

static GVariant *
folder_options (const char *on_edit,
                const char *on_delete,
                const char *mapping,
                const char *album)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

  if (on_edit != NULL)
    g_variant_builder_add (&builder, "{sv}", "on-edit", g_variant_new_string (on_edit));
  if (on_delete != NULL)
    g_variant_builder_add (&builder, "{sv}", "on-delete", g_variant_new_string (on_delete));
  if (mapping != NULL)
    g_variant_builder_add (&builder, "{sv}", "mapping", g_variant_new_string (mapping));
  if (album != NULL)
    g_variant_builder_add (&builder, "{sv}", "album", g_variant_new_string (album));

  return g_variant_builder_end (&builder);
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
  g_autoptr(EiderDBusEngine1) engine = NULL;
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
  gboolean failed;
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

  /* A running host adds it and starts watching it at once. */
  engine = eiderctl_connect (globals, &failed);
  if (failed)
    return EIDERCTL_EXIT_FAILED;
  if (engine != NULL)
    {
      g_autoptr(GVariant) folder = NULL;

      if (!eider_dbus_engine1_call_add_folder_sync (engine, real,
                                                    folder_options (on_edit, on_delete,
                                                                    per_folder ? "album-per-folder" : "one-album",
                                                                    album),
                                                    &folder, NULL, &error))
        {
          eiderctl_host_error ("Could not watch the folder", error);
          return EIDERCTL_EXIT_FAILED;
        }
      watch = watch_from_variant (folder);
    }
  else
    {
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
    }

  g_print ("Watching %s → %s%s.\n", watch->path, mapping_text (watch, &text), options_text (watch));
  return EIDERCTL_EXIT_OK;
}

static int
watch_list (EiderctlGlobals  *globals,
            int               argc,
            char            **argv)
{
  g_autoptr(EiderDBusEngine1) engine = NULL;
  g_autoptr(GVariant) folders = NULL;
  gboolean failed;

  engine = eiderctl_connect (globals, &failed);
  if (failed || (folders = list_folders (globals, engine)) == NULL)
    return EIDERCTL_EXIT_FAILED;

  if (g_variant_n_children (folders) == 0)
    g_print ("No folders are watched. Add one with “eiderctl watch add PATH”.\n");

  for (gsize i = 0; i < g_variant_n_children (folders); i++)
    {
      g_autoptr(GVariant) folder = g_variant_get_child_value (folders, i);
      g_autoptr(EiderWatch) watch = watch_from_variant (folder);
      g_autofree char *text = NULL;
      gboolean available = TRUE;

      g_variant_lookup (folder, "available", "b", &available);
      g_print ("%s → %s%s%s%s\n", watch->path, mapping_text (watch, &text), options_text (watch),
               watch->paused ? " (paused)" : "", available ? "" : " (unavailable)");
    }

  return EIDERCTL_EXIT_OK;
}

static int
watch_remove (EiderctlGlobals  *globals,
              int               argc,
              char            **argv)
{
  g_autoptr(EiderDBusEngine1) engine = NULL;
  g_autoptr(EiderStore) store = NULL;
  g_autoptr(EiderWatch) watch = NULL;
  g_autoptr(GError) error = NULL;
  gboolean failed;

  if (argc != 2)
    {
      g_printerr ("eiderctl watch remove: give the watched folder\n");
      return EIDERCTL_EXIT_USAGE;
    }

  engine = eiderctl_connect (globals, &failed);
  if (failed)
    return EIDERCTL_EXIT_FAILED;
  if (engine != NULL)
    {
      g_autofree char *real = realpath (argv[1], NULL);

      if (!eider_dbus_engine1_call_remove_folder_sync (engine, real != NULL ? real : argv[1], NULL, &error))
        {
          eiderctl_host_error ("Could not stop watching the folder", error);
          return EIDERCTL_EXIT_FAILED;
        }
      g_print ("Stopped watching %s. Nothing in Ente was changed.\n", real != NULL ? real : argv[1]);
      return EIDERCTL_EXIT_OK;
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
  return EIDERCTL_EXIT_OK;
}

/* watch set PATH --on-edit … --on-delete …: a folder's choices. */
static int
watch_set (EiderctlGlobals  *globals,
           int               argc,
           char            **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("PATH");
  g_autoptr(EiderDBusEngine1) engine = NULL;
  g_autoptr(EiderStore) store = NULL;
  g_autoptr(EiderWatch) watch = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *on_edit = NULL;
  g_autofree char *on_delete = NULL;
  g_autofree char *text = NULL;
  gboolean keep_edits = FALSE;
  gboolean keep_deleted = FALSE;
  gboolean failed;
  GOptionEntry entries[] = {
    FOLDER_OPTION_ENTRIES (on_edit, on_delete),
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 2 ||
      (on_edit == NULL && on_delete == NULL) ||
      !parse_folder_options (on_edit, on_delete, &keep_edits, &keep_deleted))
    {
      g_printerr ("eiderctl watch set: %s\n", error != NULL ? error->message
                  : "give one watched folder and --on-edit replace|keep-both and/or --on-delete leave-album|keep");
      return EIDERCTL_EXIT_USAGE;
    }

  engine = eiderctl_connect (globals, &failed);
  if (failed)
    return EIDERCTL_EXIT_FAILED;
  if (engine != NULL)
    {
      g_autofree char *real = realpath (argv[1], NULL);
      g_autoptr(GVariant) folder = NULL;

      if (!eider_dbus_engine1_call_set_folder_options_sync (engine, real != NULL ? real : argv[1],
                                                            folder_options (on_edit, on_delete, NULL, NULL),
                                                            &folder, NULL, &error))
        {
          eiderctl_host_error ("Could not change the folder", error);
          return EIDERCTL_EXIT_FAILED;
        }
      watch = watch_from_variant (folder);
    }
  else
    {
      if ((store = eiderctl_open_store (globals, &error)) == NULL)
        {
          eiderctl_error ("%s", error->message);
          return EIDERCTL_EXIT_FAILED;
        }
      if ((watch = eiderctl_find_watch (store, argv[1])) == NULL)
        return EIDERCTL_EXIT_FAILED;

      parse_folder_options (on_edit, on_delete, &watch->keep_edits, &watch->keep_deleted);
      if (!eider_store_set_watch_options (store, watch->id, watch->keep_edits, watch->keep_deleted, &error))
        {
          eiderctl_error ("%s", error->message);
          return EIDERCTL_EXIT_FAILED;
        }
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
  GMainLoop *loop;
  GVariant  *result;     /* BackupNow's (uploaded, skipped, failed) */
  GError    *error;
} Attached;

static void
backup_now_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  Attached *attached = user_data;

  attached->result = g_dbus_proxy_call_finish (G_DBUS_PROXY (object), result, &attached->error);
  g_main_loop_quit (attached->loop);
}

/* A host runs: it backs up now, and this follows until it is done. */
static int
backup_attached (EiderDBusEngine1 *engine)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  EiderctlPrinter *printer;
  Attached attached = { loop, NULL, NULL };
  guint n_uploaded, n_skipped, n_failed;

  if (eider_dbus_engine1_get_one_time (engine))
    {
      eiderctl_error ("A one-time backup (pid %u) is already running with this state directory",
                      eider_dbus_engine1_get_pid (engine));
      return EIDERCTL_EXIT_FAILED;
    }
  if (g_str_equal (eider_dbus_engine1_get_state (engine), "paused"))
    {
      eiderctl_error ("The running Eider (pid %u) is paused: “eiderctl resume” continues",
                      eider_dbus_engine1_get_pid (engine));
      return EIDERCTL_EXIT_FAILED;
    }

  printer = eiderctl_printer_new (engine, isatty (STDERR_FILENO));
  g_dbus_proxy_call (G_DBUS_PROXY (engine), "BackupNow", NULL, G_DBUS_CALL_FLAGS_NONE, G_MAXINT,
                     NULL, backup_now_cb, &attached);
  g_main_loop_run (loop);
  eiderctl_printer_finish (printer, &n_uploaded, &n_skipped, &n_failed);

  if (attached.result == NULL)
    {
      eiderctl_host_error ("The running Eider did not back up", attached.error);
      g_error_free (attached.error);
      return EIDERCTL_EXIT_FAILED;
    }

  g_variant_get (attached.result, "(uuu)", &n_uploaded, &n_skipped, &n_failed);
  g_variant_unref (attached.result);
  g_print ("%u uploaded, %u skipped, %u failed.\n", n_uploaded, n_skipped, n_failed);
  if (n_failed > 0)
    {
      eiderctl_error ("%u file%s could not be backed up", n_failed, n_failed == 1 ? "" : "s");
      g_printerr ("See “eiderctl failures”; “eiderctl retry” tries them again.\n");
      return EIDERCTL_EXIT_FAILED;
    }

  return EIDERCTL_EXIT_OK;
}

static void
once_stopped_cb (EiderService *service,
                 GMainLoop    *loop)
{
  g_main_loop_quit (loop);
}

static int
eiderctl_backup (EiderctlGlobals  *globals,
                 int               argc,
                 char            **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(EiderDBusEngine1) engine = NULL;
  g_autoptr(EiderService) service = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  EiderctlPrinter *printer;
  guint n_uploaded, n_skipped, n_failed;
  gboolean once = FALSE;
  gboolean failed;
  int jobs = 0;
  GOptionEntry entries[] = {
    { "once", 0, 0, G_OPTION_ARG_NONE, &once, "Back up everything now, then exit (0 when every file is in Ente or skipped with a reason)", NULL },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Files uploaded at once (default 4; small files, up to 4 MiB: up to 16 unless N is 1)", "N" },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 1 || !once || jobs < 0)
    {
      g_printerr ("eiderctl backup: %s\n", error != NULL ? error->message : "use --once");
      return EIDERCTL_EXIT_USAGE;
    }

  /* One engine per state directory: beside a running host, ask it. */
  engine = eiderctl_connect (globals, &failed);
  if (failed)
    return EIDERCTL_EXIT_FAILED;
  if (engine != NULL)
    return backup_attached (engine);

  service = eider_service_new (globals->config_dir, globals->data_dir, EIDER_SERVICE_MODE_ONE_TIME);
  eider_service_set_jobs (service, jobs);
  loop = g_main_loop_new (NULL, FALSE);
  g_signal_connect (service, "stopped", G_CALLBACK (once_stopped_cb), loop);
  printer = eiderctl_printer_new (eider_service_get_interface (service), isatty (STDERR_FILENO));

  if (!eider_service_start (service, &error))
    {
      eiderctl_printer_finish (printer, &n_uploaded, &n_skipped, &n_failed);
      eiderctl_error ("%s", error->message);
      if (g_error_matches (error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_RUNNING))
        g_printerr ("It backs up by itself; “eiderctl status” shows how far it is.\n");
      return EIDERCTL_EXIT_FAILED;
    }
  g_main_loop_run (loop);
  eiderctl_printer_finish (printer, &n_uploaded, &n_skipped, &n_failed);

  g_print ("%u uploaded, %u skipped, %u failed.\n", n_uploaded, n_skipped, n_failed);
  if (!eider_service_get_result (service, &error))
    {
      eiderctl_error ("%s", error->message);
      if (g_error_matches (error, EIDER_ENGINE_ERROR, EIDER_ENGINE_ERROR_INCOMPLETE))
        g_printerr ("See “eiderctl failures”; “eiderctl retry” tries them again.\n");
      return EIDERCTL_EXIT_FAILED;
    }

  return EIDERCTL_EXIT_OK;
}

/* status, failures, retry */

/* What status says of a folder (see ListFolders). */
typedef struct
{
  const char *display;
  const char *poll_reason;   /* "" when watched live or not watched */
  gboolean    paused;
  gboolean    available;
  gboolean    live;
  guint       poll_seconds;
} FolderState;

static void
folder_state (GVariant    *folder,
              FolderState *state)
{
  *state = (FolderState) { "", "", FALSE, TRUE, FALSE, 0 };
  g_variant_lookup (folder, "display-path", "&s", &state->display);
  g_variant_lookup (folder, "poll-reason", "&s", &state->poll_reason);
  g_variant_lookup (folder, "paused", "b", &state->paused);
  g_variant_lookup (folder, "available", "b", &state->available);
  g_variant_lookup (folder, "live", "b", &state->live);
  g_variant_lookup (folder, "poll-seconds", "u", &state->poll_seconds);
}

static void
print_folders (GVariant *folders)
{
  gsize n = g_variant_n_children (folders);

  g_print (n == 0 ? "Folders: none (“eiderctl watch add PATH” adds one)\n" : "Folders:\n");
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) folder = g_variant_get_child_value (folders, i);
      FolderState state;

      folder_state (folder, &state);
      g_print ("  %s", state.display);
      if (state.paused)
        g_print (" — paused");
      if (!state.available)
        g_print (" — unavailable: nothing in it counts as deleted until it is back");
      else if (*state.poll_reason != '\0')
        {
          g_autofree char *every = eider_format_interval (state.poll_seconds);

          g_print (" — not watched live (%s): checked every %s", state.poll_reason, every);
        }
      else if (state.live)
        g_print (" — watched live");
      g_print ("\n");
    }
}

static void
add_folders_json (JsonBuilder *builder,
                  GVariant    *folders)
{
  json_builder_begin_array (builder);
  for (gsize i = 0; i < g_variant_n_children (folders); i++)
    {
      g_autoptr(GVariant) folder = g_variant_get_child_value (folders, i);
      FolderState state;

      folder_state (folder, &state);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "path");
      json_builder_add_string_value (builder, state.display);
      json_builder_set_member_name (builder, "paused");
      json_builder_add_boolean_value (builder, state.paused);
      json_builder_set_member_name (builder, "available");
      json_builder_add_boolean_value (builder, state.available);
      json_builder_set_member_name (builder, "live");
      json_builder_add_boolean_value (builder, state.live);
      json_builder_set_member_name (builder, "pollReason");
      if (*state.poll_reason != '\0')
        json_builder_add_string_value (builder, state.poll_reason);
      else
        json_builder_add_null_value (builder);
      json_builder_set_member_name (builder, "pollSeconds");
      json_builder_add_int_value (builder, state.poll_seconds);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

/* What status shows, from the running host or from the store. */
typedef struct
{
  guint       pid;
  gboolean    one_time;
  gboolean    paused;
  char       *gate;
  gint64      override_until;   /* as BackUpAnywayUntil */
  guint       n_by_state[EIDER_FILE_FAILED + 1];
  guint64     bytes_left;
  GPtrArray  *working;          /* display paths */
  GVariant   *folders;
} Status;

static void
status_clear (Status *status)
{
  g_free (status->gate);
  g_clear_pointer (&status->working, g_ptr_array_unref);
  g_clear_pointer (&status->folders, g_variant_unref);
}

/* Files of @state, page by page, from the host: (display path, reason for
 * people, attempts) as the callback wants them. */
typedef void (*EachFile) (const char *display,
                          const char *reason,
                          guint       attempts,
                          gpointer    user_data);

static gboolean
host_each_file (EiderDBusEngine1  *engine,
                EiderFileState     state,
                EachFile           callback,
                gpointer           user_data)
{
  const int page = 1000;

  for (int offset = 0;; offset += page)
    {
      g_autoptr(GVariant) files = NULL;
      g_autoptr(GError) error = NULL;
      GVariantIter iter;
      const char *display, *reason, *details;
      gint64 id, size;
      guint attempts, total;

      if (!eider_dbus_engine1_call_list_files_sync (engine, eider_file_state_to_string (state), offset, page,
                                                    &files, &total, NULL, &error))
        {
          eiderctl_host_error ("Could not list the files", error);
          return FALSE;
        }

      g_variant_iter_init (&iter, files);
      while (g_variant_iter_next (&iter, "(x^&ay&sxu&s&s)", &id, NULL, &display, &size, &attempts,
                                  &reason, &details))
        {
          g_autofree char *text = eider_reason_describe_nick (reason, details);

          callback (display, text, attempts, user_data);
        }

      if (offset + page >= (int) total)
        return TRUE;
    }
}

static void
add_working_cb (const char *display,
                const char *reason,
                guint       attempts,
                gpointer    user_data)
{
  g_ptr_array_add (user_data, g_strdup (display));
}

static gboolean
status_from_host (EiderDBusEngine1 *engine,
                  Status           *status)
{
  GVariant *counts = eider_dbus_engine1_get_counts (engine);
  const char *state = eider_dbus_engine1_get_state (engine);

  status->pid = eider_dbus_engine1_get_pid (engine);
  status->one_time = eider_dbus_engine1_get_one_time (engine);
  status->paused = eider_dbus_engine1_get_paused (engine);
  if (g_str_equal (state, "waiting") || g_str_equal (state, "offline"))
    status->gate = g_strdup (eider_dbus_engine1_get_state_reason (engine));
  status->override_until = eider_dbus_engine1_get_back_up_anyway_until (engine);
  for (guint s = EIDER_FILE_PENDING; s <= EIDER_FILE_FAILED; s++)
    if (counts != NULL)
      g_variant_lookup (counts, eider_file_state_to_string (s), "u", &status->n_by_state[s]);
  status->bytes_left = eider_dbus_engine1_get_bytes_left (engine);

  status->working = g_ptr_array_new_with_free_func (g_free);
  if (!eider_dbus_engine1_call_list_folders_sync (engine, &status->folders, NULL, NULL) ||
      !host_each_file (engine, EIDER_FILE_WORKING, add_working_cb, status->working))
    return FALSE;

  return TRUE;
}

static gboolean
status_from_store (EiderctlGlobals *globals,
                   Status          *status)
{
  g_autoptr(EiderStore) store = NULL;
  g_autoptr(GPtrArray) working = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *paused = NULL;
  EiderStoreCounts counts = { { 0 } };

  if ((store = eiderctl_open_store (globals, &error)) == NULL ||
      !eider_store_get_counts (store, &counts, &error) ||
      (working = eider_store_list_files_in_state (store, EIDER_FILE_WORKING, &error)) == NULL)
    {
      eiderctl_error ("%s", error->message);
      return FALSE;
    }

  paused = eider_store_get_meta (store, "paused");
  status->paused = g_strcmp0 (paused, "1") == 0;
  memcpy (status->n_by_state, counts.n_by_state, sizeof status->n_by_state);
  status->bytes_left = counts.bytes_left;
  status->working = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < working->len; i++)
    g_ptr_array_add (status->working,
                     g_filename_display_name (((EiderFileRecord *) g_ptr_array_index (working, i))->path));

  return (status->folders = list_folders (globals, NULL)) != NULL;
}

static void
print_status_json (EiderAccount *account,
                   Status       *status)
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
  json_builder_add_boolean_value (builder, status->pid > 0 && !status->one_time);
  json_builder_set_member_name (builder, "oneTime");
  json_builder_add_boolean_value (builder, status->one_time);
  json_builder_set_member_name (builder, "pid");
  json_builder_add_int_value (builder, status->pid);
  json_builder_set_member_name (builder, "paused");
  json_builder_add_boolean_value (builder, status->paused);
  json_builder_set_member_name (builder, "gate");
  if (status->gate != NULL)
    json_builder_add_string_value (builder, status->gate);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "override");
  json_builder_add_boolean_value (builder, status->override_until != 0);
  json_builder_set_member_name (builder, "overrideUntil");
  json_builder_add_int_value (builder, MAX (status->override_until, 0));
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "watches");
  add_folders_json (builder, status->folders);
  json_builder_set_member_name (builder, "files");
  json_builder_begin_object (builder);
  for (guint s = EIDER_FILE_PENDING; s <= EIDER_FILE_FAILED; s++)
    {
      json_builder_set_member_name (builder, eider_file_state_to_string (s));
      json_builder_add_int_value (builder, status->n_by_state[s]);
    }
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "bytesLeft");
  json_builder_add_int_value (builder, status->bytes_left);
  json_builder_set_member_name (builder, "current");
  json_builder_begin_array (builder);
  for (guint i = 0; i < status->working->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (status->working, i));
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  text = json_to_string (root, TRUE);
  g_print ("%s\n", text);
}

static void
print_status (EiderAccount *account,
              Status       *status)
{
  g_autofree char *left = g_format_size (status->bytes_left);

  g_print ("Account: %s\n", eider_account_get_state_name (account));
  if (status->one_time)
    g_print ("Daemon: not running; a one-time backup is running (pid %u)\n", status->pid);
  else if (status->pid > 0)
    g_print ("Daemon: running (pid %u)%s\n", status->pid,
             status->paused ? ", paused (“eiderctl resume” continues)" : "");
  else
    g_print ("Daemon: not running%s\n", status->paused ? "; the backup is paused (“eiderctl resume” continues)" : "");
  if (status->gate != NULL)
    g_print ("Uploads wait: %s (“eiderctl resume --force” backs up anyway)\n", status->gate);
  if (status->override_until > 0)
    {
      g_autoptr(GDateTime) until = g_date_time_new_from_unix_local (status->override_until);
      g_autofree char *when = g_date_time_format (until, "%Y-%m-%d %H:%M");

      g_print ("Backing up anyway until %s\n", when);
    }
  else if (status->override_until < 0)
    g_print ("Backing up anyway until the conditions change\n");
  /* Nobody works on a file while no Eider runs: it was interrupted. */
  g_print ("Files: %u uploaded, %u pending, %u %s, %u skipped, %u failed\n",
           status->n_by_state[EIDER_FILE_UPLOADED], status->n_by_state[EIDER_FILE_PENDING],
           status->n_by_state[EIDER_FILE_WORKING], status->pid > 0 ? "in progress" : "interrupted",
           status->n_by_state[EIDER_FILE_SKIPPED], status->n_by_state[EIDER_FILE_FAILED]);
  g_print ("Left to back up: %s\n", left);
  print_folders (status->folders);
  for (guint i = 0; i < status->working->len; i++)
    {
      const char *display = g_ptr_array_index (status->working, i);

      if (status->pid > 0)
        g_print ("  working on %s\n", display);
      else
        g_print ("  interrupted: %s (continues where it stopped when Eider next runs)\n", display);
    }
}

static int
eiderctl_status (EiderctlGlobals  *globals,
                 int               argc,
                 char            **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(EiderAccount) account = NULL;
  g_autoptr(EiderDBusEngine1) engine = NULL;
  g_autoptr(GError) error = NULL;
  Status status = { 0 };
  gboolean json = FALSE;
  gboolean failed;
  gboolean ok;
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

  /* As the running Eider says, else as stored. */
  engine = eiderctl_connect (globals, &failed);
  if (failed)
    return EIDERCTL_EXIT_FAILED;
  ok = engine != NULL ? status_from_host (engine, &status) : status_from_store (globals, &status);
  if (ok)
    {
      if (json)
        print_status_json (account, &status);
      else
        print_status (account, &status);
    }
  status_clear (&status);

  return ok ? EIDERCTL_EXIT_OK : EIDERCTL_EXIT_FAILED;
}

typedef struct
{
  const char *what;
  guint       n;
} Failures;

static void
print_failure_cb (const char *display,
                  const char *reason,
                  guint       attempts,
                  gpointer    user_data)
{
  Failures *failures = user_data;

  failures->n++;
  if (g_str_equal (failures->what, "failed"))
    g_print ("failed\t%s\t%s (%u attempt%s)\n", display, reason, attempts, attempts == 1 ? "" : "s");
  else
    g_print ("%s\t%s\t%s\n", failures->what, display, reason);
}

static gboolean
store_each_file (EiderStore     *store,
                 EiderFileState  state,
                 EachFile        callback,
                 gpointer        user_data)
{
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(GError) error = NULL;

  if ((records = eider_store_list_files_in_state (store, state, &error)) == NULL)
    {
      eiderctl_error ("%s", error->message);
      return FALSE;
    }

  for (guint i = 0; i < records->len; i++)
    {
      EiderFileRecord *record = g_ptr_array_index (records, i);
      g_autofree char *display = g_filename_display_name (record->path);
      g_autofree char *text = eider_reason_describe (record->reason_code, record->reason_details);

      callback (display, text != NULL ? text : "", MAX (record->attempts, 0), user_data);
    }

  return TRUE;
}

static int
eiderctl_failures (EiderctlGlobals  *globals,
                   int               argc,
                   char            **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(EiderDBusEngine1) engine = NULL;
  g_autoptr(EiderStore) store = NULL;
  g_autoptr(GError) error = NULL;
  Failures failed = { "failed", 0 };
  Failures skipped = { "skipped", 0 };
  gboolean with_skipped = FALSE;
  gboolean host_failed;
  gboolean ok;
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

  engine = eiderctl_connect (globals, &host_failed);
  if (host_failed)
    return EIDERCTL_EXIT_FAILED;
  if (engine == NULL && (store = eiderctl_open_store (globals, &error)) == NULL)
    {
      eiderctl_error ("%s", error->message);
      return EIDERCTL_EXIT_FAILED;
    }

  ok = engine != NULL ? host_each_file (engine, EIDER_FILE_FAILED, print_failure_cb, &failed)
                      : store_each_file (store, EIDER_FILE_FAILED, print_failure_cb, &failed);
  if (ok && with_skipped)
    ok = engine != NULL ? host_each_file (engine, EIDER_FILE_SKIPPED, print_failure_cb, &skipped)
                        : store_each_file (store, EIDER_FILE_SKIPPED, print_failure_cb, &skipped);
  if (!ok)
    return EIDERCTL_EXIT_FAILED;

  if (failed.n == 0 && skipped.n == 0)
    g_print ("No failures.\n");

  return EIDERCTL_EXIT_OK;
}

static int
eiderctl_retry (EiderctlGlobals  *globals,
                int               argc,
                char            **argv)
{
  g_autoptr(EiderDBusEngine1) engine = NULL;
  g_autoptr(EiderStore) store = NULL;
  g_autoptr(GError) error = NULL;
  gboolean failed;
  guint n;

  engine = eiderctl_connect (globals, &failed);
  if (failed)
    return EIDERCTL_EXIT_FAILED;
  if (engine != NULL)
    {
      if (!eider_dbus_engine1_call_retry_failed_sync (engine, &n, NULL, &error))
        {
          eiderctl_host_error ("Could not retry the failed files", error);
          return EIDERCTL_EXIT_FAILED;
        }
      g_print ("%u failed file%s will be tried again now.\n", n, n == 1 ? "" : "s");
      return EIDERCTL_EXIT_OK;
    }

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
