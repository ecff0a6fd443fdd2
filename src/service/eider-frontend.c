/* eider-frontend.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-frontend"
#include "config.h"

#include "eider-frontend.h"
#include "eider-settings.h"
#include "eider-store.h"
#include "eider-suspend-inhibitor.h"
#include "eider-upower.h"

/* The engine is between two files for a moment: the inhibitor is kept
 * this long after it goes idle. */
#define IDLE_GRACE_MS 2000

struct _EiderFrontend
{
  GObject                parent_instance;

  EiderEngine           *engine;
  EiderPolicy           *policy;
  GSettings             *settings;
  GNetworkMonitor       *network;
  GPowerProfileMonitor  *power_profile;
  EiderUPower           *upower;
  EiderSuspendInhibitor *inhibitor;
  GPtrArray             *bindings;
  GDBusConnection       *system_bus;
  GCancellable          *cancellable;
  guint                  sleep_subscription;
  guint                  idle_grace_id;
  gboolean               first_backup_done;
};

G_DEFINE_FINAL_TYPE (EiderFrontend, eider_frontend, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_FIRST_BACKUP_DONE,
  PROP_INHIBITING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The first backup keeps the computer awake */

static gboolean
nothing_left (EiderFrontend *self)
{
  EiderStoreCounts counts = { 0 };
  g_autoptr(GError) error = NULL;

  if (!eider_store_get_counts (eider_engine_get_store (self->engine), &counts, &error))
    {
      g_debug ("Could not count the files: %s", error->message);
      return FALSE;
    }

  return counts.n_by_state[EIDER_FILE_PENDING] == 0 && counts.n_by_state[EIDER_FILE_WORKING] == 0;
}

/* After the engine worked and went idle, unpaused, with nothing left to
 * upload, the first backup is done. */
static void
check_first_backup_done (EiderFrontend *self)
{
  if (self->first_backup_done || eider_engine_get_busy (self->engine) ||
      eider_engine_get_pause_reason (self->engine) != NULL || !nothing_left (self))
    return;

  self->first_backup_done = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FIRST_BACKUP_DONE]);
}

static gboolean
idle_grace_cb (gpointer user_data)
{
  EiderFrontend *self = user_data;

  self->idle_grace_id = 0;
  check_first_backup_done (self);
  if (!eider_engine_get_busy (self->engine))
    eider_suspend_inhibitor_set_active (self->inhibitor, FALSE);

  return G_SOURCE_REMOVE;
}

static void
update_inhibitor (EiderFrontend *self)
{
  gboolean busy = eider_engine_get_busy (self->engine);
  gboolean paused = eider_engine_get_pause_reason (self->engine) != NULL;
  gboolean wanted = g_settings_get_boolean (self->settings, "inhibit-suspend") && !self->first_backup_done;

  if (!wanted || paused)
    {
      g_clear_handle_id (&self->idle_grace_id, g_source_remove);
      eider_suspend_inhibitor_set_active (self->inhibitor, FALSE);
    }
  else if (busy)
    {
      g_clear_handle_id (&self->idle_grace_id, g_source_remove);
      eider_suspend_inhibitor_set_active (self->inhibitor, TRUE);
    }
  else if (eider_suspend_inhibitor_get_active (self->inhibitor) && self->idle_grace_id == 0)
    {
      /* Idle and unpaused: between two files, or done. One timer decides. */
      self->idle_grace_id = g_timeout_add (IDLE_GRACE_MS, idle_grace_cb, self);
    }
}

static void
engine_state_cb (EiderEngine   *engine,
                 GParamSpec    *pspec,
                 EiderFrontend *self)
{
  update_inhibitor (self);
}

static void
inhibit_changed_cb (GSettings     *settings,
                    const char    *key,
                    EiderFrontend *self)
{
  update_inhibitor (self);
}

static void
inhibitor_held_cb (EiderSuspendInhibitor *inhibitor,
                   GParamSpec            *pspec,
                   EiderFrontend         *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INHIBITING]);
}

/* After a suspend, the policy's timer is late: look at the clock. */

static void
prepare_for_sleep_cb (GDBusConnection *connection,
                      const char      *sender,
                      const char      *path,
                      const char      *interface,
                      const char      *signal,
                      GVariant        *parameters,
                      gpointer         user_data)
{
  EiderFrontend *self = user_data;
  gboolean going_to_sleep = FALSE;

  if (g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(b)")))
    g_variant_get (parameters, "(b)", &going_to_sleep);
  if (!going_to_sleep)
    eider_policy_reevaluate (self->policy);
}

static void
system_bus_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(EiderFrontend) self = user_data;
  g_autoptr(GError) error = NULL;
  GDBusConnection *bus = g_bus_get_finish (result, &error);

  if (bus == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("No system bus: %s", error->message);
      return;
    }
  if (g_cancellable_is_cancelled (self->cancellable))
    {
      g_object_unref (bus);
      return;
    }

  self->system_bus = bus;
  self->sleep_subscription =
    g_dbus_connection_signal_subscribe (bus, "org.freedesktop.login1", "org.freedesktop.login1.Manager",
                                        "PrepareForSleep", "/org/freedesktop/login1", NULL,
                                        G_DBUS_SIGNAL_FLAGS_NONE, prepare_for_sleep_cb, self, NULL);
}

/* GObject */

static void
eider_frontend_dispose (GObject *object)
{
  EiderFrontend *self = EIDER_FRONTEND (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->idle_grace_id, g_source_remove);

  if (self->bindings != NULL)
    {
      for (guint i = 0; i < self->bindings->len; i++)
        g_binding_unbind (g_ptr_array_index (self->bindings, i));
      g_clear_pointer (&self->bindings, g_ptr_array_unref);
    }
  if (self->system_bus != NULL && self->sleep_subscription != 0)
    g_dbus_connection_signal_unsubscribe (self->system_bus, self->sleep_subscription);
  self->sleep_subscription = 0;
  g_clear_object (&self->system_bus);

  if (self->settings != NULL)
    {
      g_settings_unbind (self->policy, "pause-on-metered");
      g_settings_unbind (self->policy, "pause-on-battery-below");
      g_settings_unbind (self->policy, "pause-on-power-saver");
      g_settings_unbind (self->policy, "schedule");
      g_settings_unbind (self->engine, "bandwidth-limit");
      g_signal_handlers_disconnect_by_data (self->settings, self);
    }
  if (self->policy != NULL)
    g_signal_handlers_disconnect_by_data (self->policy, self);
  if (self->engine != NULL)
    g_signal_handlers_disconnect_by_data (self->engine, self);

  g_clear_object (&self->inhibitor);
  g_clear_object (&self->upower);
  g_clear_object (&self->power_profile);
  g_clear_object (&self->network);
  g_clear_object (&self->settings);
  g_clear_object (&self->policy);
  g_clear_object (&self->engine);

  G_OBJECT_CLASS (eider_frontend_parent_class)->dispose (object);
}

static void
eider_frontend_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  EiderFrontend *self = EIDER_FRONTEND (object);

  switch (prop_id)
    {
    case PROP_FIRST_BACKUP_DONE:
      g_value_set_boolean (value, self->first_backup_done);
      break;
    case PROP_INHIBITING:
      g_value_set_boolean (value, eider_frontend_get_inhibiting (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
eider_frontend_class_init (EiderFrontendClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = eider_frontend_dispose;
  object_class->get_property = eider_frontend_get_property;

  properties[PROP_FIRST_BACKUP_DONE] =
    g_param_spec_boolean ("first-backup-done", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_INHIBITING] =
    g_param_spec_boolean ("inhibiting", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
eider_frontend_init (EiderFrontend *self)
{
  self->bindings = g_ptr_array_new ();
  self->cancellable = g_cancellable_new ();
}

static void
bind (EiderFrontend *self,
      gpointer       source,
      const char    *source_property,
      gpointer       target,
      const char    *target_property)
{
  g_ptr_array_add (self->bindings,
                   g_object_bind_property (source, source_property, target, target_property,
                                           G_BINDING_SYNC_CREATE));
}

/**
 * eider_frontend_new:
 * @engine: the engine
 * @policy: a policy; its "jobs" becomes the engine's present max jobs
 * @settings: the settings (eider_settings_new())
 * @first_backup_done: whether a first backup already finished
 *
 * Binds everything at once; the engine's gate is set before this returns.
 *
 * Returns: (transfer full): the bindings, alive as long as this object
 */
EiderFrontend *
eider_frontend_new (EiderEngine *engine,
                    EiderPolicy *policy,
                    GSettings   *settings,
                    gboolean     first_backup_done)
{
  EiderFrontend *self;

  g_return_val_if_fail (EIDER_IS_ENGINE (engine), NULL);
  g_return_val_if_fail (EIDER_IS_POLICY (policy), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (EIDER_TYPE_FRONTEND, NULL);
  self->engine = g_object_ref (engine);
  self->policy = g_object_ref (policy);
  self->settings = g_object_ref (settings);
  self->first_backup_done = first_backup_done;

  /* The settings */
  g_object_set (policy, "jobs", eider_engine_get_max_jobs (engine), NULL);
  g_settings_bind (settings, "pause-on-metered", policy, "pause-on-metered", G_SETTINGS_BIND_GET);
  g_settings_bind (settings, "pause-on-battery-below", policy, "pause-on-battery-below", G_SETTINGS_BIND_GET);
  g_settings_bind (settings, "pause-on-power-saver", policy, "pause-on-power-saver", G_SETTINGS_BIND_GET);
  g_settings_bind (settings, "upload-window", policy, "schedule", G_SETTINGS_BIND_GET);
  eider_settings_bind_bandwidth_limit (settings, engine);
  g_signal_connect (settings, "changed::inhibit-suspend", G_CALLBACK (inhibit_changed_cb), self);

  /* The machine */
  self->network = g_object_ref (g_network_monitor_get_default ());
  bind (self, self->network, "network-available", policy, "network-available");
  bind (self, self->network, "network-metered", policy, "network-metered");
  self->power_profile = g_power_profile_monitor_dup_default ();
  bind (self, self->power_profile, "power-saver-enabled", policy, "power-saver");
  self->upower = eider_upower_new ();
  bind (self, self->upower, "on-battery", policy, "on-battery");
  bind (self, self->upower, "battery-percentage", policy, "battery-percentage");

  /* The policy → the engine */
  bind (self, policy, "reason", engine, "gate");
  bind (self, policy, "max-jobs", engine, "max-jobs");

  /* Staying awake */
  self->inhibitor = eider_suspend_inhibitor_new ("Backing up photos and videos for the first time");
  g_signal_connect (self->inhibitor, "notify::held", G_CALLBACK (inhibitor_held_cb), self);
  g_signal_connect (engine, "notify::busy", G_CALLBACK (engine_state_cb), self);
  g_signal_connect (engine, "notify::pause-reason", G_CALLBACK (engine_state_cb), self);
  update_inhibitor (self);

  g_bus_get (G_BUS_TYPE_SYSTEM, self->cancellable, system_bus_cb, g_object_ref (self));

  return self;
}

EiderPolicy *
eider_frontend_get_policy (EiderFrontend *self)
{
  g_return_val_if_fail (EIDER_IS_FRONTEND (self), NULL);

  return self->policy;
}

gboolean
eider_frontend_get_first_backup_done (EiderFrontend *self)
{
  g_return_val_if_fail (EIDER_IS_FRONTEND (self), FALSE);

  return self->first_backup_done;
}

gboolean
eider_frontend_get_inhibiting (EiderFrontend *self)
{
  g_return_val_if_fail (EIDER_IS_FRONTEND (self), FALSE);

  return self->inhibitor != NULL && eider_suspend_inhibitor_get_held (self->inhibitor);
}
