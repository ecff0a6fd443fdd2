/* eider-window.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "eider-window"

#include "config.h"

#include "eider-window.h"

struct _EiderWindow
{
  AdwApplicationWindow  parent_instance;

  GSettings            *settings;
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

  gtk_widget_dispose_template (GTK_WIDGET (self), EIDER_TYPE_WINDOW);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (eider_window_parent_class)->dispose (object);
}

static void
eider_window_class_init (EiderWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = eider_window_dispose;
  window_class->close_request = eider_window_close_request;

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_BASE "/eider-window.ui");
}

static void
eider_window_init (EiderWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

#if DEVELOPMENT_BUILD
  gtk_widget_add_css_class (GTK_WIDGET (self), "devel");
#endif

  self->settings = g_settings_new (EIDER_SETTINGS_SCHEMA_ID);
  eider_window_restore_state (self);
}
