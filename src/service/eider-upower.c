/* eider-upower.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-upower"
#include "config.h"

#include "eider-upower.h"

#define UPOWER_NAME         "org.freedesktop.UPower"
#define UPOWER_PATH         "/org/freedesktop/UPower"
#define UPOWER_IFACE        "org.freedesktop.UPower"
#define DISPLAY_DEVICE_PATH "/org/freedesktop/UPower/devices/DisplayDevice"
#define DEVICE_IFACE        "org.freedesktop.UPower.Device"

struct _EiderUPower
{
  GObject       parent_instance;

  GCancellable *cancellable;
  GDBusProxy   *manager;
  GDBusProxy   *display;
  gboolean      on_battery;
  double        percentage;
};

G_DEFINE_FINAL_TYPE (EiderUPower, eider_upower, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_ON_BATTERY,
  PROP_BATTERY_PERCENTAGE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
sync_state (EiderUPower *self)
{
  g_autoptr(GVariant) on_battery = NULL;
  g_autoptr(GVariant) percentage = NULL;
  g_autofree char *owner = NULL;
  gboolean new_on_battery = FALSE;
  double new_percentage = 100;

  /* Cached properties outlive their owner: only trust a running UPower. */
  if (self->manager != NULL && (owner = g_dbus_proxy_get_name_owner (self->manager)) != NULL)
    {
      on_battery = g_dbus_proxy_get_cached_property (self->manager, "OnBattery");
      if (on_battery != NULL && g_variant_is_of_type (on_battery, G_VARIANT_TYPE_BOOLEAN))
        new_on_battery = g_variant_get_boolean (on_battery);

      if (self->display != NULL)
        percentage = g_dbus_proxy_get_cached_property (self->display, "Percentage");
      if (percentage != NULL && g_variant_is_of_type (percentage, G_VARIANT_TYPE_DOUBLE))
        new_percentage = CLAMP (g_variant_get_double (percentage), 0, 100);
    }

  g_object_freeze_notify (G_OBJECT (self));
  if (new_on_battery != self->on_battery)
    {
      self->on_battery = new_on_battery;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ON_BATTERY]);
    }
  if (new_percentage != self->percentage)
    {
      self->percentage = new_percentage;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BATTERY_PERCENTAGE]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

static void
properties_changed_cb (GDBusProxy  *proxy,
                       GVariant    *changed,
                       GStrv        invalidated,
                       EiderUPower *self)
{
  sync_state (self);
}

static void
name_owner_cb (GObject     *proxy,
               GParamSpec  *pspec,
               EiderUPower *self)
{
  sync_state (self);
}

static void
proxy_ready_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(EiderUPower) self = user_data;
  g_autoptr(GError) error = NULL;
  GDBusProxy *proxy = g_dbus_proxy_new_for_bus_finish (result, &error);

  if (proxy == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("No UPower: the computer counts as plugged in (%s)", error->message);
      return;
    }

  if (g_str_equal (g_dbus_proxy_get_interface_name (proxy), UPOWER_IFACE))
    self->manager = proxy;
  else
    self->display = proxy;

  g_signal_connect_object (proxy, "g-properties-changed", G_CALLBACK (properties_changed_cb), self, 0);
  g_signal_connect_object (proxy, "notify::g-name-owner", G_CALLBACK (name_owner_cb), self, 0);
  sync_state (self);
}

static void
eider_upower_dispose (GObject *object)
{
  EiderUPower *self = EIDER_UPOWER (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->manager);
  g_clear_object (&self->display);

  G_OBJECT_CLASS (eider_upower_parent_class)->dispose (object);
}

static void
eider_upower_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  EiderUPower *self = EIDER_UPOWER (object);

  switch (prop_id)
    {
    case PROP_ON_BATTERY:
      g_value_set_boolean (value, self->on_battery);
      break;
    case PROP_BATTERY_PERCENTAGE:
      g_value_set_double (value, self->percentage);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
eider_upower_class_init (EiderUPowerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = eider_upower_dispose;
  object_class->get_property = eider_upower_get_property;

  properties[PROP_ON_BATTERY] =
    g_param_spec_boolean ("on-battery", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_BATTERY_PERCENTAGE] =
    g_param_spec_double ("battery-percentage", NULL, NULL, 0, 100, 100,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
eider_upower_init (EiderUPower *self)
{
  self->percentage = 100;
  self->cancellable = g_cancellable_new ();
}

/**
 * eider_upower_new:
 *
 * Returns: (transfer full): an object that follows UPower from now on
 */
EiderUPower *
eider_upower_new (void)
{
  EiderUPower *self = g_object_new (EIDER_TYPE_UPOWER, NULL);
  const GDBusProxyFlags flags = G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START_AT_CONSTRUCTION;

  g_dbus_proxy_new_for_bus (G_BUS_TYPE_SYSTEM, flags, NULL, UPOWER_NAME, UPOWER_PATH, UPOWER_IFACE,
                            self->cancellable, proxy_ready_cb, g_object_ref (self));
  g_dbus_proxy_new_for_bus (G_BUS_TYPE_SYSTEM, flags, NULL, UPOWER_NAME, DISPLAY_DEVICE_PATH, DEVICE_IFACE,
                            self->cancellable, proxy_ready_cb, g_object_ref (self));

  return self;
}

gboolean
eider_upower_get_on_battery (EiderUPower *self)
{
  g_return_val_if_fail (EIDER_IS_UPOWER (self), FALSE);

  return self->on_battery;
}

double
eider_upower_get_battery_percentage (EiderUPower *self)
{
  g_return_val_if_fail (EIDER_IS_UPOWER (self), 100);

  return self->percentage;
}
