/* eider-folder-row.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "eider-folder-row"

#include "config.h"

#include <glib/gi18n.h>

#include "eider-folder-row.h"
#include "eider-format.h"

struct _EiderFolderRow
{
  AdwActionRow      parent_instance;

  GtkMenuButton    *menu_button;
  GtkImage         *icon;

  EiderDBusEngine1 *engine;
  char             *path;        /* the folder's path, bytes (not UTF-8 per se) */
  char             *name;        /* its display name */
};

G_DEFINE_FINAL_TYPE (EiderFolderRow, eider_folder_row, ADW_TYPE_ACTION_ROW)

static const char *
lookup_string (GVariant   *folder,
               const char *key)
{
  const char *value = NULL;

  if (!g_variant_lookup (folder, key, "&s", &value))
    return "";

  return value;
}

static gboolean
lookup_boolean (GVariant   *folder,
                const char *key)
{
  gboolean value = FALSE;

  g_variant_lookup (folder, key, "b", &value);

  return value;
}

/* "Watched live", "Checked every 5 minutes", "Paused", "Not available". */
static char *
describe_state (GVariant *folder)
{
  guint32 seconds = 0;

  if (!lookup_boolean (folder, "available"))
    return g_strdup (_("Not available: the folder is missing or its drive is not connected"));
  if (lookup_boolean (folder, "paused"))
    return g_strdup (_("Paused"));
  if (lookup_boolean (folder, "live"))
    return g_strdup (_("Watched live"));

  g_variant_lookup (folder, "poll-seconds", "u", &seconds);
  if (seconds >= 60)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Checked every minute", "Checked every %u minutes",
                                         seconds / 60),
                            seconds / 60);
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Checked every second", "Checked every %u seconds",
                                       seconds),
                          seconds);
}

/**
 * eider_folder_row_update:
 * @self: a #EiderFolderRow
 * @folder: the same folder's a{sv}, as ListFolders describes it now
 *
 * Shows the folder as it is now.
 */
void
eider_folder_row_update (EiderFolderRow *self,
                         GVariant       *folder)
{
  g_autofree char *state = describe_state (folder);
  g_autoptr(GVariant) counts = NULL;
  g_autofree char *counts_text = NULL;
  g_autofree char *where = NULL;
  g_autofree char *about = NULL;
  g_autofree char *subtitle = NULL;
  g_autofree char *menu_name = NULL;
  const char *display_path = lookup_string (folder, "display-path");
  const char *album = lookup_string (folder, "album");
  const char *path = NULL;
  gboolean paused = lookup_boolean (folder, "paused");

  g_return_if_fail (EIDER_IS_FOLDER_ROW (self));

  g_variant_lookup (folder, "path", "^&ay", &path);
  g_free (self->path);
  g_free (self->name);
  self->path = g_strdup (path != NULL ? path : "");
  self->name = g_path_get_basename (display_path);

  counts = g_variant_lookup_value (folder, "counts", G_VARIANT_TYPE ("a{su}"));
  counts_text = eider_format_counts (counts);
  where = eider_format_path (display_path);
  /* Translators: the album a folder goes to in Ente, then the folder's state. */
  if (album[0] != '\0')
    about = g_strdup_printf (_("To album “%s” · %s"), album, state);
  else
    about = g_strdup_printf (_("An album per folder · %s"), state);
  subtitle = g_strdup_printf ("%s\n%s\n%s", where, about, counts_text);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self), self->name);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self), subtitle);
  gtk_image_set_from_icon_name (self->icon, !lookup_boolean (folder, "available") ? "dialog-warning-symbolic"
                                            : paused ? "media-playback-pause-symbolic"
                                            : "folder-pictures-symbolic");

  /* Translators: the accessible name of a folder's menu button. */
  menu_name = g_strdup_printf (_("Folder Menu for %s"), self->name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->menu_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, menu_name,
                                  -1);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "folder.pause", !paused);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "folder.resume", paused);
}

/**
 * eider_folder_row_new:
 * @engine: the host's interface
 * @folder: one a{sv} of ListFolders
 *
 * Returns: (transfer floating): a new #EiderFolderRow
 */
GtkWidget *
eider_folder_row_new (EiderDBusEngine1 *engine,
                      GVariant         *folder)
{
  EiderFolderRow *self;

  g_return_val_if_fail (EIDER_DBUS_IS_ENGINE1 (engine), NULL);
  g_return_val_if_fail (g_variant_is_of_type (folder, G_VARIANT_TYPE_VARDICT), NULL);

  self = g_object_new (EIDER_TYPE_FOLDER_ROW, NULL);
  self->engine = g_object_ref (engine);
  eider_folder_row_update (self, folder);

  return GTK_WIDGET (self);
}

const char *
eider_folder_row_get_name (EiderFolderRow *self)
{
  g_return_val_if_fail (EIDER_IS_FOLDER_ROW (self), NULL);

  return self->name;
}

/* Every call's answer: errors go to the window's toast overlay, if any. */
static void
call_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GtkWidget) widget = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (object), result, &error);
  GtkWidget *overlay;

  if (reply != NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (g_dbus_error_is_remote_error (error))
    g_dbus_error_strip_remote_error (error);
  overlay = gtk_widget_get_ancestor (widget, ADW_TYPE_TOAST_OVERLAY);
  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (error->message));
  else
    g_message ("%s", error->message);
}

static void
call_with_path (EiderFolderRow *self,
                const char     *method)
{
  g_dbus_proxy_call (G_DBUS_PROXY (self->engine), method,
                     g_variant_new ("(^ay)", self->path),
                     G_DBUS_CALL_FLAGS_NONE, -1, NULL, call_done_cb, g_object_ref (self));
}

static void
pause_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  call_with_path (EIDER_FOLDER_ROW (widget), "Pause");
}

static void
resume_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  call_with_path (EIDER_FOLDER_ROW (widget), "Resume");
}

static void
backup_now_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  EiderFolderRow *self = EIDER_FOLDER_ROW (widget);

  /* BackupNow answers once everything is backed up: no timeout. */
  g_dbus_proxy_call (G_DBUS_PROXY (self->engine), "BackupNow", NULL, G_DBUS_CALL_FLAGS_NONE,
                     G_MAXINT, NULL, call_done_cb, g_object_ref (self));
}

static void
open_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  EiderFolderRow *self = EIDER_FOLDER_ROW (widget);
  g_autoptr(GFile) file = g_file_new_for_path (self->path);
  g_autofree char *uri = g_file_get_uri (file);
  g_autoptr(GAppLaunchContext) context = NULL;
  g_autoptr(GError) error = NULL;

  context = G_APP_LAUNCH_CONTEXT (gdk_display_get_app_launch_context (gtk_widget_get_display (widget)));
  if (!g_app_info_launch_default_for_uri (uri, context, &error))
    {
      GtkWidget *overlay = gtk_widget_get_ancestor (widget, ADW_TYPE_TOAST_OVERLAY);

      if (overlay != NULL)
        adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (error->message));
    }
}

static void
remove_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    gpointer          user_data)
{
  EiderFolderRow *self = user_data;

  if (g_str_equal (response, "stop"))
    call_with_path (self, "RemoveFolder");
}

static void
remove_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  EiderFolderRow *self = EIDER_FOLDER_ROW (widget);
  g_autofree char *heading = NULL;
  GtkWidget *dialog;

  /* Translators: %s is a folder's name. */
  heading = g_strdup_printf (_("Stop Backing Up “%s”?"), self->name);
  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)), heading,
                                   _("Eider stops watching this folder. Nothing is deleted: "
                                     "the photos already in Ente stay there, and the files "
                                     "on this computer are not touched."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "stop", _("_Stop Backing Up"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "stop",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (remove_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
eider_folder_row_dispose (GObject *object)
{
  EiderFolderRow *self = EIDER_FOLDER_ROW (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), EIDER_TYPE_FOLDER_ROW);
  g_clear_object (&self->engine);

  G_OBJECT_CLASS (eider_folder_row_parent_class)->dispose (object);
}

static void
eider_folder_row_finalize (GObject *object)
{
  EiderFolderRow *self = EIDER_FOLDER_ROW (object);

  g_free (self->path);
  g_free (self->name);

  G_OBJECT_CLASS (eider_folder_row_parent_class)->finalize (object);
}

static void
eider_folder_row_class_init (EiderFolderRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = eider_folder_row_dispose;
  object_class->finalize = eider_folder_row_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_BASE "/eider-folder-row.ui");
  gtk_widget_class_bind_template_child (widget_class, EiderFolderRow, menu_button);
  gtk_widget_class_bind_template_child (widget_class, EiderFolderRow, icon);

  gtk_widget_class_install_action (widget_class, "folder.pause", NULL, pause_action);
  gtk_widget_class_install_action (widget_class, "folder.resume", NULL, resume_action);
  gtk_widget_class_install_action (widget_class, "folder.backup-now", NULL, backup_now_action);
  gtk_widget_class_install_action (widget_class, "folder.open", NULL, open_action);
  gtk_widget_class_install_action (widget_class, "folder.remove", NULL, remove_action);
}

static void
eider_folder_row_init (EiderFolderRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
