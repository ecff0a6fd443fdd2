/* eider-application.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "eider-application"

#include "config.h"

#include <glib/gi18n.h>

#include "eider-application.h"
#include "eider-preferences-window.h"
#include "eider-settings.h"
#include "eider-window.h"

struct _EiderApplication
{
  AdwApplication  parent_instance;

  /* The settings the engine host reads (the keyfile of the configuration
   * folder when there is no dconf), made when Preferences first opens. */
  GSettings      *host_settings;
};

G_DEFINE_FINAL_TYPE (EiderApplication, eider_application, ADW_TYPE_APPLICATION)

/**
 * eider_application_new:
 *
 * Creates the application object, registered under `APPLICATION_ID`.
 *
 * Returns: (transfer full): a new #EiderApplication
 */
EiderApplication *
eider_application_new (void)
{
  return g_object_new (EIDER_TYPE_APPLICATION,
                       "application-id", APPLICATION_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       /* Shared by both profiles: style.css and
                        * gtk/help-overlay.ui are found here. */
                       "resource-base-path", RESOURCE_BASE,
                       NULL);
}

static void
eider_application_activate (GApplication *app)
{
  GtkWindow *window;

  g_assert (EIDER_IS_APPLICATION (app));

  window = gtk_application_get_active_window (GTK_APPLICATION (app));
  if (window == NULL)
    window = GTK_WINDOW (eider_window_new (EIDER_APPLICATION (app)));

  gtk_window_present (window);
}

static void
eider_application_quit_action (GSimpleAction *action,
                               GVariant      *parameter,
                               gpointer       user_data)
{
  EiderApplication *self = user_data;
  g_autolist(GtkWindow) windows = NULL;

  g_assert (EIDER_IS_APPLICATION (self));

  /* Close the windows first, so that each one saves its state. */
  for (const GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
    windows = g_list_prepend (windows, g_object_ref (l->data));
  for (const GList *l = windows; l != NULL; l = l->next)
    gtk_window_close (l->data);

  g_application_quit (G_APPLICATION (self));
}

static void
eider_application_about_action (GSimpleAction *action,
                                GVariant      *parameter,
                                gpointer       user_data)
{
  static const char *developers[] = { "The Eider Authors", NULL };
  EiderApplication *self = user_data;
  GtkWindow *window;
  GtkWidget *about;

  g_assert (EIDER_IS_APPLICATION (self));

  window = gtk_application_get_active_window (GTK_APPLICATION (self));
  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", window,
                        "modal", TRUE,
                        "application-name", _("Eider"),
                        "application-icon", APPLICATION_ID,
                        "developer-name", _("The Eider Authors"),
                        "version", PACKAGE_VERSION,
                        "comments", _("Back up your photo folders to Ente, end-to-end encrypted."),
                        "developers", developers,
                        "copyright", "© 2026 The Eider Authors",
                        "license-type", GTK_LICENSE_GPL_3_0,
                        /* Translators: Replace "translator-credits" with your name(s), one per line */
                        "translator-credits", _("translator-credits"),
                        NULL);
  gtk_window_present (GTK_WINDOW (about));
}

/**
 * eider_application_dup_config_dir:
 *
 * Returns: (transfer full): the configuration folder eiderctl and the host
 *   use ($EIDER_CONFIG_DIR, or ~/.config/eider): settings and account
 */
char *
eider_application_dup_config_dir (void)
{
  const char *env = g_getenv ("EIDER_CONFIG_DIR");

  if (env != NULL && env[0] != '\0')
    return g_strdup (env);

  return g_build_filename (g_get_user_config_dir (), "eider", NULL);
}

static void
eider_application_preferences_action (GSimpleAction *action,
                                      GVariant      *parameter,
                                      gpointer       user_data)
{
  EiderApplication *self = user_data;
  EiderPreferencesWindow *preferences;
  GtkWindow *window;

  g_assert (EIDER_IS_APPLICATION (self));

  if (self->host_settings == NULL)
    {
      g_autofree char *config_dir = eider_application_dup_config_dir ();
      g_autoptr(GError) error = NULL;

      if ((self->host_settings = eider_settings_new (config_dir, &error)) == NULL)
        {
          g_critical ("Preferences cannot open the settings: %s", error->message);
          return;
        }
    }

  window = gtk_application_get_active_window (GTK_APPLICATION (self));
  if (EIDER_IS_PREFERENCES_WINDOW (window))
    {
      gtk_window_present (window);
      return;
    }

  preferences = eider_preferences_window_new (window, self->host_settings);
  gtk_window_present (GTK_WINDOW (preferences));
}

/* app.add-folder-path ("/a/folder"): backs up a folder without the file
 * chooser, for scripts and tests (the portal's chooser cannot be driven
 * there). */
static void
eider_application_add_folder_path_action (GSimpleAction *action,
                                          GVariant      *parameter,
                                          gpointer       user_data)
{
  EiderApplication *self = user_data;
  GtkWindow *window;

  g_assert (EIDER_IS_APPLICATION (self));

  g_application_activate (G_APPLICATION (self));
  window = gtk_application_get_active_window (GTK_APPLICATION (self));
  if (EIDER_IS_WINDOW (window))
    eider_window_add_folder_path (EIDER_WINDOW (window), g_variant_get_string (parameter, NULL));
}

static const GActionEntry app_actions[] = {
  { "quit", eider_application_quit_action },
  { "about", eider_application_about_action },
  { "preferences", eider_application_preferences_action },
  { "add-folder-path", eider_application_add_folder_path_action, "s" },
};

static void
eider_application_startup (GApplication *app)
{
  static const char *quit_accels[] = { "<primary>q", NULL };
  static const char *preferences_accels[] = { "<primary>comma", NULL };

  G_APPLICATION_CLASS (eider_application_parent_class)->startup (app);

  gtk_window_set_default_icon_name (APPLICATION_ID);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.preferences",
                                         preferences_accels);
}

static void
eider_application_dispose (GObject *object)
{
  EiderApplication *self = EIDER_APPLICATION (object);

  g_clear_object (&self->host_settings);

  G_OBJECT_CLASS (eider_application_parent_class)->dispose (object);
}

static void
eider_application_class_init (EiderApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = eider_application_dispose;
  app_class->activate = eider_application_activate;
  app_class->startup = eider_application_startup;
}

static void
eider_application_init (EiderApplication *self)
{
  g_action_map_add_action_entries (G_ACTION_MAP (self),
                                   app_actions,
                                   G_N_ELEMENTS (app_actions),
                                   self);
}
