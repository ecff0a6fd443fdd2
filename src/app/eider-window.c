/* eider-window.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "eider-window"

#include "config.h"

#include <glib/gi18n.h>

#include "eider-account-page.h"
#include "eider-folder-row.h"
#include "eider-format.h"
#include "eider-host-link.h"
#include "eider-reason.h"
#include "eider-window.h"

/* The Failed and Skipped sections show the first page of ListFiles. */
#define LIST_PAGE_SIZE 100

/* Refreshes that follow the host's chatter are coalesced to this. */
#define REFRESH_DELAY_MS 500

typedef struct
{
  GtkWidget      *row;
  GtkProgressBar *bar;
} InFlight;

typedef enum
{
  REFRESH_FOLDERS = 1 << 0,
  REFRESH_LISTS   = 1 << 1,
} RefreshFlags;

struct _EiderWindow
{
  AdwApplicationWindow  parent_instance;

  AdwToastOverlay      *toast_overlay;
  GtkStack             *main_stack;
  AdwStatusPage        *connecting_page;
  AdwStatusPage        *lost_page;
  GtkRevealer          *banner_revealer;
  GtkLabel             *banner_label;
  GtkButton            *banner_button;
  AdwViewStack         *view_stack;
  AdwViewSwitcherTitle *switcher_title;
  GtkStack             *folders_stack;
  AdwPreferencesGroup  *folders_group;
  AdwActionRow         *total_row;
  AdwPreferencesGroup  *uploading_group;
  AdwPreferencesGroup  *failed_group;
  AdwPreferencesGroup  *skipped_group;
  EiderAccountPage     *account_page;

  GSettings            *settings;
  EiderHostLink        *link;
  EiderDBusEngine1     *engine;         /* the link's, while connected */
  GCancellable         *cancellable;    /* calls to that engine */

  GHashTable           *folder_rows;    /* folder id (gint64) → EiderFolderRow */
  GHashTable           *in_flight;      /* file id (gint64) → InFlight */
  GPtrArray            *failed_rows;
  GPtrArray            *skipped_rows;
  char                 *banner_action;  /* what the banner's button does */
  char                 *pending_path;   /* a folder to add once connected */
  GPtrArray            *paused_folders; /* paths (bytes) of the folders paused one by one */
  char                 *paused_name;    /* the display name of the first of them */
  guint                 refresh_id;
  RefreshFlags          refresh_what;
};

G_DEFINE_FINAL_TYPE (EiderWindow, eider_window, ADW_TYPE_APPLICATION_WINDOW)

/**
 * eider_window_new:
 * @application: the #EiderApplication that owns the window
 *
 * Creates the main window, sized and maximized as it was last closed.
 *
 * Returns: (transfer full): a new #EiderWindow
 */
EiderWindow *
eider_window_new (EiderApplication *application)
{
  g_return_val_if_fail (EIDER_IS_APPLICATION (application), NULL);

  return g_object_new (EIDER_TYPE_WINDOW,
                       "application", application,
                       NULL);
}

static void
eider_window_restore_state (EiderWindow *self)
{
  int width;
  int height;

  width = g_settings_get_int (self->settings, "window-width");
  height = g_settings_get_int (self->settings, "window-height");
  gtk_window_set_default_size (GTK_WINDOW (self), width, height);

  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
}

static void
eider_window_save_state (EiderWindow *self)
{
  int width;
  int height;

  /* The default size follows the window while it is not maximized, so
   * this is the size to come back to after unmaximizing. */
  gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);

  g_settings_delay (self->settings);
  if (width > 0 && height > 0)
    {
      g_settings_set_int (self->settings, "window-width", width);
      g_settings_set_int (self->settings, "window-height", height);
    }
  g_settings_set_boolean (self->settings, "window-maximized",
                          gtk_window_is_maximized (GTK_WINDOW (self)));
  g_settings_apply (self->settings);
}

static void
toast_error (EiderWindow  *self,
             const char   *what,
             GError       *error)
{
  g_autofree char *text = NULL;

  if (g_dbus_error_is_remote_error (error))
    g_dbus_error_strip_remote_error (error);
  /* Translators: what failed, then why. */
  text = g_strdup_printf (_("%s: %s"), what, error->message);
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (text));
}

/* Calls without an answer worth showing: errors become a toast. */
static void
call_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(EiderWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (object), result, &error);

  if (reply == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    toast_error (self, _("Eider could not do that"), error);
}

static void
engine_call (EiderWindow *self,
             const char  *method,
             GVariant    *parameters)
{
  if (self->engine == NULL)
    {
      if (parameters != NULL)
        g_variant_unref (g_variant_ref_sink (parameters));
      return;
    }

  g_dbus_proxy_call (G_DBUS_PROXY (self->engine), method, parameters, G_DBUS_CALL_FLAGS_NONE,
                     -1, self->cancellable, call_done_cb, g_object_ref (self));
}

/* Sections */

static void
clear_rows (AdwPreferencesGroup *group,
            GPtrArray           *rows)
{
  for (guint i = 0; i < rows->len; i++)
    adw_preferences_group_remove (group, g_ptr_array_index (rows, i));
  g_ptr_array_set_size (rows, 0);
}

static void
clear_folder_rows (EiderWindow *self)
{
  GHashTableIter iter;
  gpointer row;

  g_hash_table_iter_init (&iter, self->folder_rows);
  while (g_hash_table_iter_next (&iter, NULL, &row))
    adw_preferences_group_remove (self->folders_group, row);
  g_hash_table_remove_all (self->folder_rows);
  gtk_stack_set_visible_child_name (self->folders_stack, "empty");
}

static void
clear_in_flight (EiderWindow *self)
{
  GHashTableIter iter;
  InFlight *flight;

  g_hash_table_iter_init (&iter, self->in_flight);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &flight))
    adw_preferences_group_remove (self->uploading_group, flight->row);
  g_hash_table_remove_all (self->in_flight);
  gtk_widget_set_visible (GTK_WIDGET (self->uploading_group), FALSE);
}

static void update_banner (EiderWindow *self);

/* Folders */

static void
list_folders_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(EiderWindow) self = user_data;
  g_autoptr(GVariant) folders = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) seen = NULL;
  GHashTableIter iter;
  gpointer key, row;
  GVariantIter folder_iter;
  GVariant *folder;

  if (!eider_dbus_engine1_call_list_folders_finish (EIDER_DBUS_ENGINE1 (object), &folders,
                                                    result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        toast_error (self, _("Could not list the folders"), error);
      return;
    }
  if (self->engine == NULL)
    return;

  /* Rows are kept and updated in place (an open menu stays open); rows
   * of folders gone are removed. */
  seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_ptr_array_set_size (self->paused_folders, 0);
  g_clear_pointer (&self->paused_name, g_free);
  g_variant_iter_init (&folder_iter, folders);
  while ((folder = g_variant_iter_next_value (&folder_iter)) != NULL)
    {
      gboolean paused = FALSE;
      const char *path = NULL;
      gint64 id = 0;

      g_variant_lookup (folder, "id", "x", &id);
      g_variant_lookup (folder, "paused", "b", &paused);
      if (paused && g_variant_lookup (folder, "path", "^&ay", &path))
        {
          g_ptr_array_add (self->paused_folders, g_strdup (path));
          if (self->paused_name == NULL)
            self->paused_name = g_filename_display_basename (path);
        }
      row = g_hash_table_lookup (self->folder_rows, &id);
      if (row != NULL)
        eider_folder_row_update (row, folder);
      else
        {
          row = eider_folder_row_new (self->engine, folder);
          adw_preferences_group_add (self->folders_group, row);
          g_hash_table_insert (self->folder_rows, g_memdup2 (&id, sizeof id), row);
        }
      g_hash_table_add (seen, g_memdup2 (&id, sizeof id));
      g_variant_unref (folder);
    }

  g_hash_table_iter_init (&iter, self->folder_rows);
  while (g_hash_table_iter_next (&iter, &key, &row))
    if (!g_hash_table_contains (seen, key))
      {
        adw_preferences_group_remove (self->folders_group, row);
        g_hash_table_iter_remove (&iter);
      }

  gtk_stack_set_visible_child_name (self->folders_stack,
                                    g_hash_table_size (self->folder_rows) > 0 ? "list" : "empty");
  update_banner (self);
}

static void
refresh_folders (EiderWindow *self)
{
  if (self->engine != NULL)
    eider_dbus_engine1_call_list_folders (self->engine, self->cancellable, list_folders_cb,
                                          g_object_ref (self));
}

/* Failed and skipped files */

typedef struct
{
  EiderWindow *self;
  gboolean     failed;
} ListRequest;

static GtkWidget *
file_row_new (const char *display_path,
              const char *reason,
              const char *details)
{
  g_autofree char *name = g_path_get_basename (display_path);
  g_autofree char *why = eider_reason_describe_nick (reason, details);
  g_autofree char *subtitle = NULL;
  GtkWidget *row = adw_action_row_new ();

  g_autofree char *where = eider_format_path (display_path);

  if (why != NULL && why[0] != '\0')
    {
      /* The reasons are phrases ("not a photo or video"): a line of their
       * own starts with a capital. */
      g_autofree char *first = g_utf8_substring (why, 0, 1);
      g_autofree char *capital = g_utf8_strup (first, -1);

      /* Translators: why a file failed or was skipped (its first letter,
       * then the rest), then where it is. */
      subtitle = g_strdup_printf (_("%s%s\n%s"), capital, g_utf8_next_char (why), where);
    }
  else
    subtitle = g_strdup (where);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 4);

  return row;
}

static void
list_files_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  ListRequest *request = user_data;
  g_autoptr(EiderWindow) self = request->self;
  gboolean failed = request->failed;
  g_autoptr(GVariant) files = NULL;
  g_autoptr(GError) error = NULL;
  AdwPreferencesGroup *group = failed ? self->failed_group : self->skipped_group;
  GPtrArray *rows = failed ? self->failed_rows : self->skipped_rows;
  g_autofree char *description = NULL;
  GVariantIter iter;
  const char *display_path, *reason, *details;
  gint64 id;
  guint total = 0;

  g_free (request);
  if (!eider_dbus_engine1_call_list_files_finish (EIDER_DBUS_ENGINE1 (object), &files, &total,
                                                  result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        toast_error (self, _("Could not list the files"), error);
      return;
    }
  if (self->engine == NULL)
    return;

  clear_rows (group, rows);
  g_variant_iter_init (&iter, files);
  while (g_variant_iter_next (&iter, "(x^&ay&sxu&s&s)", &id, NULL, &display_path, NULL, NULL,
                              &reason, &details))
    {
      GtkWidget *row = file_row_new (display_path, reason, details);

      if (failed)
        {
          g_autofree char *name = g_path_get_basename (display_path);
          /* Translators: the accessible name of a failed file's Retry button. */
          g_autofree char *label = g_strdup_printf (_("Retry %s"), name);
          GtkWidget *button = gtk_button_new_from_icon_name ("view-refresh-symbolic");

          gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
          gtk_widget_add_css_class (button, "flat");
          gtk_widget_set_tooltip_text (button, _("Retry"));
          gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                          GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                          -1);
          gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "win.retry-file");
          gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button), g_variant_new_int64 (id));
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
        }
      adw_preferences_group_add (group, row);
      g_ptr_array_add (rows, row);
    }

  if (total > rows->len)
    /* Translators: shown when a list is longer than what the window shows. */
    description = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "The first %u of %u file",
                                                "The first %u of %u files", total),
                                   rows->len, total);
  adw_preferences_group_set_description (group, description);
  gtk_widget_set_visible (GTK_WIDGET (group), total > 0);
}

static void
refresh_list (EiderWindow *self,
              gboolean     failed)
{
  ListRequest *request;

  if (self->engine == NULL)
    return;

  request = g_new0 (ListRequest, 1);
  request->self = g_object_ref (self);
  request->failed = failed;
  eider_dbus_engine1_call_list_files (self->engine, failed ? "failed" : "skipped", 0,
                                      LIST_PAGE_SIZE, self->cancellable, list_files_cb, request);
}

/* What the host's chatter asks to list again, coalesced. */
static gboolean
refresh_cb (gpointer user_data)
{
  EiderWindow *self = user_data;
  RefreshFlags what = self->refresh_what;

  self->refresh_id = 0;
  self->refresh_what = 0;
  if (what & REFRESH_FOLDERS)
    refresh_folders (self);
  if (what & REFRESH_LISTS)
    {
      refresh_list (self, TRUE);
      refresh_list (self, FALSE);
    }

  return G_SOURCE_REMOVE;
}

static void
queue_refresh (EiderWindow  *self,
               RefreshFlags  what)
{
  self->refresh_what |= what;
  if (self->refresh_id == 0)
    self->refresh_id = g_timeout_add (REFRESH_DELAY_MS, refresh_cb, self);
}

/* Files in flight */

static void
in_flight_free (gpointer data)
{
  g_free (data);
}

static InFlight *
add_in_flight (EiderWindow *self,
               gint64       id,
               const char  *display_path)
{
  g_autofree char *name = g_path_get_basename (display_path);
  g_autofree char *path = g_path_get_dirname (display_path);
  g_autofree char *dir = eider_format_path (path);
  InFlight *flight = g_hash_table_lookup (self->in_flight, &id);

  if (flight != NULL)
    return flight;

  flight = g_new0 (InFlight, 1);
  flight->row = adw_action_row_new ();
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (flight->row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (flight->row), name);
  adw_action_row_set_title_lines (ADW_ACTION_ROW (flight->row), 1);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (flight->row), dir);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (flight->row), 1);
  flight->bar = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  gtk_widget_set_valign (GTK_WIDGET (flight->bar), GTK_ALIGN_CENTER);
  gtk_widget_set_size_request (GTK_WIDGET (flight->bar), 96, -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (flight->bar),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, name,
                                  -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (flight->row), GTK_WIDGET (flight->bar));
  adw_preferences_group_add (self->uploading_group, flight->row);
  g_hash_table_insert (self->in_flight, g_memdup2 (&id, sizeof id), flight);
  gtk_widget_set_visible (GTK_WIDGET (self->uploading_group), TRUE);

  return flight;
}

static void
remove_in_flight (EiderWindow *self,
                  gint64       id)
{
  InFlight *flight = g_hash_table_lookup (self->in_flight, &id);

  if (flight == NULL)
    return;

  adw_preferences_group_remove (self->uploading_group, flight->row);
  g_hash_table_remove (self->in_flight, &id);
  gtk_widget_set_visible (GTK_WIDGET (self->uploading_group),
                          g_hash_table_size (self->in_flight) > 0);
}

static void
list_working_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(EiderWindow) self = user_data;
  g_autoptr(GVariant) files = NULL;
  g_autoptr(GError) error = NULL;
  GVariantIter iter;
  const char *display_path;
  gint64 id;

  if (!eider_dbus_engine1_call_list_files_finish (EIDER_DBUS_ENGINE1 (object), &files, NULL,
                                                  result, &error))
    return;
  if (self->engine == NULL)
    return;

  g_variant_iter_init (&iter, files);
  while (g_variant_iter_next (&iter, "(x^&ay&sxu&s&s)", &id, NULL, &display_path, NULL, NULL,
                              NULL, NULL))
    add_in_flight (self, id, display_path);
}

static void
file_started_cb (EiderDBusEngine1 *engine,
                 gint64            id,
                 const char       *path,
                 guint64           size,
                 EiderWindow      *self)
{
  add_in_flight (self, id, path);
}

static void
file_finished_cb (EiderDBusEngine1 *engine,
                  gint64            id,
                  const char       *path,
                  const char       *state,
                  const char       *reason,
                  const char       *details,
                  EiderWindow      *self)
{
  remove_in_flight (self, id);
  if (g_str_equal (state, "failed") || g_str_equal (state, "skipped"))
    queue_refresh (self, REFRESH_LISTS);
}

static void
progress_cb (EiderDBusEngine1 *engine,
             GVariant         *files,
             EiderWindow      *self)
{
  GVariantIter iter;
  guint64 done, total;
  gint64 id;

  g_variant_iter_init (&iter, files);
  while (g_variant_iter_next (&iter, "(xtt)", &id, &done, &total))
    {
      InFlight *flight = g_hash_table_lookup (self->in_flight, &id);

      if (flight != NULL && total > 0)
        gtk_progress_bar_set_fraction (flight->bar, MIN (1.0, (double) done / (double) total));
    }
  queue_refresh (self, REFRESH_FOLDERS);
}

static void
folders_changed_cb (EiderDBusEngine1 *engine,
                    EiderWindow      *self)
{
  refresh_folders (self);
}

/* Totals and the banner */

static void
update_totals (EiderWindow *self)
{
  g_autofree char *summary = eider_format_counts (eider_dbus_engine1_get_counts (self->engine));
  guint files_left = eider_dbus_engine1_get_files_left (self->engine);

  adw_preferences_group_set_description (self->folders_group, summary);

  if (files_left > 0)
    {
      g_autofree char *files = NULL;
      g_autofree char *bytes = g_format_size (eider_dbus_engine1_get_bytes_left (self->engine));
      guint64 speed = eider_dbus_engine1_get_upload_speed (self->engine);
      g_autofree char *speed_text = g_format_size (speed);
      g_autofree char *title = NULL;

      files = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u file left", "%u files left", files_left),
                               files_left);
      if (speed > 0)
        /* Translators: files left · bytes left · speed, e.g. "3 files left · 4.2 MB · 1.1 MB/s". */
        title = g_strdup_printf (_("%s · %s · %s/s"), files, bytes, speed_text);
      else
        /* Translators: files left · bytes left, e.g. "3 files left · 4.2 MB". */
        title = g_strdup_printf (_("%s · %s"), files, bytes);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->total_row), title);
    }
  else
    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->total_row), _("Up to Date"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->total_row), summary);
}

static void
update_banner (EiderWindow *self)
{
  const char *state = eider_dbus_engine1_get_state (self->engine);
  const char *reason = eider_dbus_engine1_get_state_reason (self->engine);
  const char *action = eider_dbus_engine1_get_state_action (self->engine);
  g_autofree char *paused_label = NULL;
  const char *label = NULL;
  const char *button = NULL;

  if (eider_dbus_engine1_get_paused (self->engine))
    {
      label = _("Paused");
      button = _("_Resume");
      action = "resume";
    }
  else if (g_strcmp0 (state, "waiting") == 0 || g_strcmp0 (state, "offline") == 0 ||
           g_strcmp0 (state, "needs-login") == 0 || g_strcmp0 (state, "storage-full") == 0 ||
           g_strcmp0 (state, "paused") == 0)
    {
      if (reason != NULL && reason[0] != '\0')
        label = reason;
      else if (g_str_equal (state, "offline"))
        label = _("Offline");
      else if (g_str_equal (state, "needs-login"))
        label = _("The Ente session has ended: log in again with `eiderctl account login`");
      else if (g_str_equal (state, "storage-full"))
        label = _("Your Ente storage is full");
      else
        label = _("Waiting");

      if (g_strcmp0 (action, "back-up-anyway") == 0)
        button = _("_Back Up Anyway");
      else if (g_strcmp0 (action, "resume") == 0)
        button = _("_Resume");
    }
  else if (self->paused_folders->len > 0)
    {
      if (self->paused_folders->len == 1)
        /* Translators: %s is a folder's name. */
        label = paused_label = g_strdup_printf (_("“%s” is paused"), self->paused_name);
      else
        label = paused_label = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u folder is paused",
                                                             "%u folders are paused",
                                                             self->paused_folders->len),
                                                self->paused_folders->len);
      button = _("_Resume");
      action = "resume-folders";
    }

  g_free (self->banner_action);
  self->banner_action = button != NULL ? g_strdup (action) : NULL;
  if (label != NULL)
    gtk_label_set_label (self->banner_label, label);
  gtk_widget_set_visible (GTK_WIDGET (self->banner_button), button != NULL);
  if (button != NULL)
    gtk_button_set_label (self->banner_button, button);
  gtk_button_set_use_underline (self->banner_button, TRUE);
  gtk_revealer_set_reveal_child (self->banner_revealer, label != NULL);
}

/* Once hidden, the banner says nothing: a screen reader (GTK 4.8 still
 * presents an unrevealed child) must not read a stale state. */
static void
banner_child_revealed_cb (GtkRevealer *revealer,
                          GParamSpec  *pspec,
                          EiderWindow *self)
{
  if (!gtk_revealer_get_child_revealed (revealer) && !gtk_revealer_get_reveal_child (revealer))
    {
      gtk_label_set_label (self->banner_label, "");
      gtk_widget_set_visible (GTK_WIDGET (self->banner_button), FALSE);
    }
}

/* Which page: the host's state, then the account. */
static void
update_page (EiderWindow *self)
{
  EiderHostLinkState state = eider_host_link_get_state (self->link);
  const char *page = "connecting";

  switch (state)
    {
    case EIDER_HOST_LINK_STATE_CONNECTING:
      adw_status_page_set_title (self->connecting_page, _("Connecting…"));
      break;
    case EIDER_HOST_LINK_STATE_STARTING:
      adw_status_page_set_title (self->connecting_page, _("Starting Eider…"));
      break;
    case EIDER_HOST_LINK_STATE_LOST:
      adw_status_page_set_description (self->lost_page, eider_host_link_get_message (self->link));
      page = "lost";
      break;
    case EIDER_HOST_LINK_STATE_NOT_LOGGED_IN:
      page = "login";
      break;
    case EIDER_HOST_LINK_STATE_CONNECTED:
      {
        const char *email = self->engine ? eider_dbus_engine1_get_account_email (self->engine) : NULL;

        page = email == NULL || email[0] == '\0' ? "login" : "main";
      }
      break;
    default:
      g_assert_not_reached ();
    }

  gtk_stack_set_visible_child_name (self->main_stack, page);
  /* The pages' switcher only where the pages are. */
  adw_view_switcher_title_set_view_switcher_enabled (self->switcher_title, g_str_equal (page, "main"));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.add-folder", g_str_equal (page, "main"));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.start-host",
                                 state == EIDER_HOST_LINK_STATE_LOST ||
                                 state == EIDER_HOST_LINK_STATE_NOT_LOGGED_IN);
}

static void
engine_properties_changed_cb (GDBusProxy  *proxy,
                              GVariant    *changed,
                              GStrv        invalidated,
                              EiderWindow *self)
{
  if (g_variant_lookup (changed, "AccountEmail", "&s", NULL))
    update_page (self);
  if (g_variant_lookup (changed, "Counts", "@a{su}", NULL))
    queue_refresh (self, REFRESH_FOLDERS);
  update_totals (self);
  update_banner (self);
}

static void
detach_engine (EiderWindow *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  self->refresh_what = 0;
  if (self->engine != NULL)
    g_signal_handlers_disconnect_by_data (self->engine, self);
  g_clear_object (&self->engine);

  /* Nothing stale stays on screen as if it were live. */
  eider_account_page_set_engine (self->account_page, NULL);
  clear_folder_rows (self);
  g_ptr_array_set_size (self->paused_folders, 0);
  clear_in_flight (self);
  clear_rows (self->failed_group, self->failed_rows);
  clear_rows (self->skipped_group, self->skipped_rows);
  gtk_widget_set_visible (GTK_WIDGET (self->failed_group), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->skipped_group), FALSE);
  gtk_revealer_set_reveal_child (self->banner_revealer, FALSE);
}

static void
attach_engine (EiderWindow      *self,
               EiderDBusEngine1 *engine)
{
  detach_engine (self);
  self->engine = g_object_ref (engine);
  self->cancellable = g_cancellable_new ();

  g_signal_connect (engine, "g-properties-changed", G_CALLBACK (engine_properties_changed_cb), self);
  g_signal_connect (engine, "folders-changed", G_CALLBACK (folders_changed_cb), self);
  g_signal_connect (engine, "file-started", G_CALLBACK (file_started_cb), self);
  g_signal_connect (engine, "file-finished", G_CALLBACK (file_finished_cb), self);
  g_signal_connect (engine, "progress", G_CALLBACK (progress_cb), self);
  eider_account_page_set_engine (self->account_page, engine);

  update_totals (self);
  update_banner (self);
  refresh_folders (self);
  refresh_list (self, TRUE);
  refresh_list (self, FALSE);
  eider_dbus_engine1_call_list_files (self->engine, "working", 0, LIST_PAGE_SIZE,
                                      self->cancellable, list_working_cb, g_object_ref (self));
  if (self->pending_path != NULL)
    {
      g_autofree char *path = g_steal_pointer (&self->pending_path);

      eider_window_add_folder_path (self, path);
    }
}

static void
link_state_cb (EiderHostLink *link,
               GParamSpec    *pspec,
               EiderWindow   *self)
{
  EiderDBusEngine1 *engine = eider_host_link_get_engine (link);

  if (eider_host_link_get_state (link) == EIDER_HOST_LINK_STATE_CONNECTED && engine != NULL)
    {
      if (engine != self->engine)
        attach_engine (self, engine);
    }
  else
    {
      detach_engine (self);
      /* A folder asked for while connecting is not added by a later start. */
      if (eider_host_link_get_state (link) == EIDER_HOST_LINK_STATE_LOST ||
          eider_host_link_get_state (link) == EIDER_HOST_LINK_STATE_NOT_LOGGED_IN)
        g_clear_pointer (&self->pending_path, g_free);
    }

  update_page (self);
}

/* Actions */

static void
add_folder_done_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(EiderWindow) self = user_data;
  g_autoptr(GVariant) folder = NULL;
  g_autoptr(GError) error = NULL;

  if (!eider_dbus_engine1_call_add_folder_finish (EIDER_DBUS_ENGINE1 (object), &folder, result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        toast_error (self, _("Could not add the folder"), error);
      return;
    }

  adw_view_stack_set_visible_child_name (self->view_stack, "folders");
  refresh_folders (self);
}

/**
 * eider_window_add_folder_path:
 * @self: a #EiderWindow
 * @path: a folder, in the file-name encoding
 *
 * Asks the host to back up @path (AddFolder with the default options).
 */
void
eider_window_add_folder_path (EiderWindow *self,
                              const char  *path)
{
  g_auto(GVariantDict) options = G_VARIANT_DICT_INIT (NULL);

  g_return_if_fail (EIDER_IS_WINDOW (self));
  g_return_if_fail (path != NULL);

  if (self->engine == NULL)
    {
      EiderHostLinkState state = eider_host_link_get_state (self->link);

      /* Asked for before the host is reached (app.add-folder-path at
       * start): added once it is. */
      if (state == EIDER_HOST_LINK_STATE_CONNECTING || state == EIDER_HOST_LINK_STATE_STARTING)
        {
          g_free (self->pending_path);
          self->pending_path = g_strdup (path);
        }
      else
        adw_toast_overlay_add_toast (self->toast_overlay,
                                     adw_toast_new (_("Eider is not running: start it again first")));
      return;
    }

  eider_dbus_engine1_call_add_folder (self->engine, path, g_variant_dict_end (&options),
                                      self->cancellable, add_folder_done_cb, g_object_ref (self));
}

static void
chooser_response_cb (GtkNativeDialog *chooser,
                     int              response,
                     gpointer         user_data)
{
  EiderWindow *self = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      if (path != NULL)
        eider_window_add_folder_path (self, path);
    }
  g_object_unref (chooser);
}

static void
add_folder_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  EiderWindow *self = EIDER_WINDOW (widget);
  GtkFileChooserNative *chooser;

  chooser = gtk_file_chooser_native_new (_("Add Folder"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                         _("_Add"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
start_host_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  eider_host_link_start (EIDER_WINDOW (widget)->link);
}

static void
banner_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  EiderWindow *self = EIDER_WINDOW (widget);

  if (g_strcmp0 (self->banner_action, "resume") == 0)
    engine_call (self, "Resume", g_variant_new ("(^ay)", ""));
  else if (g_strcmp0 (self->banner_action, "resume-folders") == 0)
    for (guint i = 0; i < self->paused_folders->len; i++)
      engine_call (self, "Resume", g_variant_new ("(^ay)", g_ptr_array_index (self->paused_folders, i)));
  else if (g_strcmp0 (self->banner_action, "back-up-anyway") == 0)
    engine_call (self, "BackUpAnyway", g_variant_new ("(u)", 0));
}

static void
retry_failed_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  EiderWindow *self = EIDER_WINDOW (widget);

  engine_call (self, "RetryFailed", NULL);
  queue_refresh (self, REFRESH_LISTS);
}

static void
retry_file_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  EiderWindow *self = EIDER_WINDOW (widget);

  engine_call (self, "RetryFile", g_variant_new ("(x)", g_variant_get_int64 (parameter)));
  queue_refresh (self, REFRESH_LISTS);
}

/* The window */

static gboolean
eider_window_close_request (GtkWindow *window)
{
  EiderWindow *self = EIDER_WINDOW (window);

  eider_window_save_state (self);

  return GTK_WINDOW_CLASS (eider_window_parent_class)->close_request (window);
}

static void
eider_window_dispose (GObject *object)
{
  EiderWindow *self = EIDER_WINDOW (object);

  if (self->link != NULL)
    g_signal_handlers_disconnect_by_data (self->link, self);
  if (self->engine != NULL)
    g_signal_handlers_disconnect_by_data (self->engine, self);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->engine);
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  self->refresh_what = 0;
  g_signal_handlers_disconnect_by_data (self->banner_revealer, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), EIDER_TYPE_WINDOW);
  g_clear_object (&self->link);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->folder_rows, g_hash_table_unref);
  g_clear_pointer (&self->in_flight, g_hash_table_unref);
  g_clear_pointer (&self->failed_rows, g_ptr_array_unref);
  g_clear_pointer (&self->skipped_rows, g_ptr_array_unref);
  g_clear_pointer (&self->paused_folders, g_ptr_array_unref);

  G_OBJECT_CLASS (eider_window_parent_class)->dispose (object);
}

static void
eider_window_finalize (GObject *object)
{
  EiderWindow *self = EIDER_WINDOW (object);

  g_free (self->banner_action);
  g_free (self->paused_name);
  g_free (self->pending_path);

  G_OBJECT_CLASS (eider_window_parent_class)->finalize (object);
}

static void
eider_window_class_init (EiderWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = eider_window_dispose;
  object_class->finalize = eider_window_finalize;
  window_class->close_request = eider_window_close_request;

  g_type_ensure (EIDER_TYPE_ACCOUNT_PAGE);
  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_BASE "/eider-window.ui");
  gtk_widget_class_bind_template_child (widget_class, EiderWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, EiderWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, EiderWindow, connecting_page);
  gtk_widget_class_bind_template_child (widget_class, EiderWindow, lost_page);
  gtk_widget_class_bind_template_child (widget_class, EiderWindow, banner_revealer);
  gtk_widget_class_bind_template_child (widget_class, EiderWindow, banner_label);
  gtk_widget_class_bind_template_child (widget_class, EiderWindow, banner_button);
  gtk_widget_class_bind_template_child (widget_class, EiderWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, EiderWindow, switcher_title);
  gtk_widget_class_bind_template_child (widget_class, EiderWindow, folders_stack);
  gtk_widget_class_bind_template_child (widget_class, EiderWindow, folders_group);
  gtk_widget_class_bind_template_child (widget_class, EiderWindow, total_row);
  gtk_widget_class_bind_template_child (widget_class, EiderWindow, uploading_group);
  gtk_widget_class_bind_template_child (widget_class, EiderWindow, failed_group);
  gtk_widget_class_bind_template_child (widget_class, EiderWindow, skipped_group);
  gtk_widget_class_bind_template_child (widget_class, EiderWindow, account_page);

  gtk_widget_class_install_action (widget_class, "win.add-folder", NULL, add_folder_action);
  gtk_widget_class_install_action (widget_class, "win.start-host", NULL, start_host_action);
  gtk_widget_class_install_action (widget_class, "win.banner-action", NULL, banner_action);
  gtk_widget_class_install_action (widget_class, "win.retry-failed", NULL, retry_failed_action);
  gtk_widget_class_install_action (widget_class, "win.retry-file", "x", retry_file_action);
}

static void
eider_window_init (EiderWindow *self)
{
  g_autofree char *state_directory = eider_host_link_default_state_directory ();

  gtk_widget_init_template (GTK_WIDGET (self));

#if DEVELOPMENT_BUILD
  gtk_widget_add_css_class (GTK_WIDGET (self), "devel");
#endif

  self->settings = g_settings_new (EIDER_SETTINGS_SCHEMA_ID);
  eider_window_restore_state (self);

  self->folder_rows = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->in_flight = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, in_flight_free);
  self->failed_rows = g_ptr_array_new ();
  self->skipped_rows = g_ptr_array_new ();
  self->paused_folders = g_ptr_array_new_with_free_func (g_free);

  g_signal_connect (self->banner_revealer, "notify::child-revealed",
                    G_CALLBACK (banner_child_revealed_cb), self);

  self->link = eider_host_link_new (state_directory);
  g_signal_connect (self->link, "notify::state", G_CALLBACK (link_state_cb), self);
  update_page (self);
  eider_host_link_start (self->link);
}
