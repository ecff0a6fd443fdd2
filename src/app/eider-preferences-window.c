/* eider-preferences-window.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The settings the engine host follows (the same GSettings keys as
 * `eiderctl config`), bound with g_settings_bind: the host reads them live,
 * so a change here reaches it without a call.
 */

#define G_LOG_DOMAIN "eider-preferences-window"

#include "config.h"

#include <glib/gi18n.h>

#include "eider-preferences-window.h"

/* The upload window offered here is in whole hours. */
#define DEFAULT_WINDOW_START 1
#define DEFAULT_WINDOW_END   7

struct _EiderPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  GSettings            *settings;

  GtkSwitch            *metered_switch;
  GtkSpinButton        *battery_spin;
  GtkSwitch            *power_saver_switch;
  GtkSpinButton        *bandwidth_spin;
  GtkSwitch            *window_switch;
  GtkSpinButton        *window_start_spin;
  GtkSpinButton        *window_end_spin;
  GtkSwitch            *inhibit_switch;
  GtkSwitch            *background_switch;
  GtkSwitch            *login_switch;

  /* TRUE while the upload window's widgets follow the setting. */
  gboolean              syncing_window;
};

G_DEFINE_FINAL_TYPE (EiderPreferencesWindow, eider_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

enum {
  PROP_0,
  PROP_SETTINGS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* "HH:MM-HH:MM" → whole hours; FALSE for "" or a form this page does not
 * offer. */
static gboolean
parse_window (const char *text,
              int        *start,
              int        *end)
{
  unsigned int sh, sm, eh, em;
  char tail;

  if (text == NULL || sscanf (text, "%u:%u-%u:%u%c", &sh, &sm, &eh, &em, &tail) != 4)
    return FALSE;
  if (sh > 23 || eh > 24 || sm > 59 || em > 59)
    return FALSE;

  *start = sh;
  *end = eh % 24;
  return TRUE;
}

static void
sync_window_from_settings (EiderPreferencesWindow *self)
{
  g_autofree char *text = g_settings_get_string (self->settings, "upload-window");
  int start, end;
  gboolean on;

  on = parse_window (text, &start, &end);
  self->syncing_window = TRUE;
  gtk_switch_set_active (self->window_switch, on);
  if (on)
    {
      gtk_spin_button_set_value (self->window_start_spin, start);
      gtk_spin_button_set_value (self->window_end_spin, end);
    }
  self->syncing_window = FALSE;
}

static void
store_window (EiderPreferencesWindow *self)
{
  g_autofree char *text = NULL;
  int start, end;

  if (self->syncing_window)
    return;

  start = gtk_spin_button_get_value_as_int (self->window_start_spin);
  end = gtk_spin_button_get_value_as_int (self->window_end_spin);

  /* An empty window is no window at all: the policy refuses it, so the
   * end moves one hour on. */
  if (start == end)
    {
      end = (start + 1) % 24;
      self->syncing_window = TRUE;
      gtk_spin_button_set_value (self->window_end_spin, end);
      self->syncing_window = FALSE;
    }

  if (gtk_switch_get_active (self->window_switch))
    text = g_strdup_printf ("%02d:00-%02d:00", start, end);
  else
    text = g_strdup ("");

  g_settings_set_string (self->settings, "upload-window", text);
}

static void
upload_window_changed_cb (EiderPreferencesWindow *self)
{
  sync_window_from_settings (self);
}

static void
window_switch_notify_cb (EiderPreferencesWindow *self)
{
  store_window (self);
}

static void
window_spin_changed_cb (EiderPreferencesWindow *self)
{
  store_window (self);
}

/* Spin buttons show hours as "01:00". */
static gboolean
hour_spin_output_cb (GtkSpinButton *spin,
                     gpointer       user_data)
{
  g_autofree char *text = g_strdup_printf ("%02d:00", gtk_spin_button_get_value_as_int (spin));

  gtk_editable_set_text (GTK_EDITABLE (spin), text);
  return TRUE;
}

static int
hour_spin_input_cb (GtkSpinButton *spin,
                    double        *new_value,
                    gpointer       user_data)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (spin));
  unsigned int hours, minutes = 0;

  if (sscanf (text, "%u:%u", &hours, &minutes) < 1 || hours > 23 || minutes > 59)
    return GTK_INPUT_ERROR;

  *new_value = hours;
  return TRUE;
}

static void
eider_preferences_window_constructed (GObject *object)
{
  EiderPreferencesWindow *self = EIDER_PREFERENCES_WINDOW (object);

  G_OBJECT_CLASS (eider_preferences_window_parent_class)->constructed (object);

  g_assert (G_IS_SETTINGS (self->settings));

  g_settings_bind (self->settings, "pause-on-metered", self->metered_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "pause-on-battery-below", self->battery_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "pause-on-power-saver", self->power_saver_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "bandwidth-limit", self->bandwidth_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "inhibit-suspend", self->inhibit_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "run-in-background", self->background_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "start-at-login", self->login_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);

  /* What the hours show until a window is set: not stored. */
  self->syncing_window = TRUE;
  gtk_spin_button_set_value (self->window_start_spin, DEFAULT_WINDOW_START);
  gtk_spin_button_set_value (self->window_end_spin, DEFAULT_WINDOW_END);
  self->syncing_window = FALSE;
  sync_window_from_settings (self);
  g_signal_connect_object (self->settings, "changed::upload-window",
                           G_CALLBACK (upload_window_changed_cb), self, G_CONNECT_SWAPPED);
}

static void
eider_preferences_window_dispose (GObject *object)
{
  EiderPreferencesWindow *self = EIDER_PREFERENCES_WINDOW (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), EIDER_TYPE_PREFERENCES_WINDOW);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (eider_preferences_window_parent_class)->dispose (object);
}

static void
eider_preferences_window_set_property (GObject      *object,
                                       guint         prop_id,
                                       const GValue *value,
                                       GParamSpec   *pspec)
{
  EiderPreferencesWindow *self = EIDER_PREFERENCES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
eider_preferences_window_class_init (EiderPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = eider_preferences_window_constructed;
  object_class->dispose = eider_preferences_window_dispose;
  object_class->set_property = eider_preferences_window_set_property;

  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                         G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE "/eider-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, EiderPreferencesWindow, metered_switch);
  gtk_widget_class_bind_template_child (widget_class, EiderPreferencesWindow, battery_spin);
  gtk_widget_class_bind_template_child (widget_class, EiderPreferencesWindow, power_saver_switch);
  gtk_widget_class_bind_template_child (widget_class, EiderPreferencesWindow, bandwidth_spin);
  gtk_widget_class_bind_template_child (widget_class, EiderPreferencesWindow, window_switch);
  gtk_widget_class_bind_template_child (widget_class, EiderPreferencesWindow, window_start_spin);
  gtk_widget_class_bind_template_child (widget_class, EiderPreferencesWindow, window_end_spin);
  gtk_widget_class_bind_template_child (widget_class, EiderPreferencesWindow, inhibit_switch);
  gtk_widget_class_bind_template_child (widget_class, EiderPreferencesWindow, background_switch);
  gtk_widget_class_bind_template_child (widget_class, EiderPreferencesWindow, login_switch);
  gtk_widget_class_bind_template_callback (widget_class, window_switch_notify_cb);
  gtk_widget_class_bind_template_callback (widget_class, window_spin_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, hour_spin_output_cb);
  gtk_widget_class_bind_template_callback (widget_class, hour_spin_input_cb);
}

static void
eider_preferences_window_init (EiderPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

/**
 * eider_preferences_window_new:
 * @transient_for: (nullable): the main window
 * @settings: the settings the host reads (eider_settings_new())
 *
 * Returns: (transfer full): a new preferences window, not yet shown
 */
EiderPreferencesWindow *
eider_preferences_window_new (GtkWindow *transient_for,
                              GSettings *settings)
{
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  return g_object_new (EIDER_TYPE_PREFERENCES_WINDOW,
                       "transient-for", transient_for,
                       "modal", transient_for != NULL,
                       "settings", settings,
                       NULL);
}
