/* eider-suspend-inhibitor.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-inhibitor"
#include "config.h"

#include <unistd.h>
#include <gio/gunixfdlist.h>

#include "eider-suspend-inhibitor.h"

struct _EiderSuspendInhibitor
{
  GObject       parent_instance;

  char         *why;
  gboolean      active;
  int           fd;            /* the inhibitor logind gave; -1: none */
  GCancellable *pending;       /* a call to Inhibit under way */
};

G_DEFINE_FINAL_TYPE (EiderSuspendInhibitor, eider_suspend_inhibitor, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_ACTIVE,
  PROP_HELD,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
release (EiderSuspendInhibitor *self)
{
  if (self->pending != NULL)
    {
      g_cancellable_cancel (self->pending);
      g_clear_object (&self->pending);
    }

  if (self->fd >= 0)
    {
      close (self->fd);
      self->fd = -1;
      g_debug ("Suspend is allowed again");
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HELD]);
    }
}

static void
inhibit_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(EiderSuspendInhibitor) self = user_data;
  g_autoptr(GUnixFDList) fds = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  gint32 handle;
  int fd;

  reply = g_dbus_connection_call_with_unix_fd_list_finish (G_DBUS_CONNECTION (object), &fds, result, &error);
  if (reply == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_debug ("Could not keep the computer awake: %s", error->message);
          g_clear_object (&self->pending);
        }
      return;
    }
  g_clear_object (&self->pending);

  g_variant_get (reply, "(h)", &handle);
  if (fds == NULL || (fd = g_unix_fd_list_get (fds, handle, &error)) < 0)
    {
      g_debug ("logind gave no inhibitor: %s", error != NULL ? error->message : "no descriptor");
      return;
    }

  /* Let go in between: not needed any more. */
  if (!self->active || self->fd >= 0)
    {
      close (fd);
      return;
    }

  self->fd = fd;
  g_debug ("Suspend is inhibited: %s", self->why);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HELD]);
}

static void
bus_cb (GObject      *object,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(EiderSuspendInhibitor) self = user_data;
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GError) error = NULL;

  if ((bus = g_bus_get_finish (result, &error)) == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_debug ("No system bus to keep the computer awake: %s", error->message);
          g_clear_object (&self->pending);
        }
      return;
    }

  if (self->pending == NULL || g_cancellable_is_cancelled (self->pending))
    return;

  g_dbus_connection_call_with_unix_fd_list (bus, "org.freedesktop.login1", "/org/freedesktop/login1",
                                            "org.freedesktop.login1.Manager", "Inhibit",
                                            g_variant_new ("(ssss)", "sleep", "Eider", self->why, "block"),
                                            G_VARIANT_TYPE ("(h)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                            self->pending, inhibit_cb, g_object_ref (self));
}

static void
eider_suspend_inhibitor_dispose (GObject *object)
{
  EiderSuspendInhibitor *self = EIDER_SUSPEND_INHIBITOR (object);

  release (self);

  G_OBJECT_CLASS (eider_suspend_inhibitor_parent_class)->dispose (object);
}

static void
eider_suspend_inhibitor_finalize (GObject *object)
{
  EiderSuspendInhibitor *self = EIDER_SUSPEND_INHIBITOR (object);

  g_free (self->why);

  G_OBJECT_CLASS (eider_suspend_inhibitor_parent_class)->finalize (object);
}

static void
eider_suspend_inhibitor_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  EiderSuspendInhibitor *self = EIDER_SUSPEND_INHIBITOR (object);

  switch (prop_id)
    {
    case PROP_ACTIVE:
      g_value_set_boolean (value, self->active);
      break;
    case PROP_HELD:
      g_value_set_boolean (value, self->fd >= 0);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
eider_suspend_inhibitor_set_property (GObject      *object,
                                      guint         prop_id,
                                      const GValue *value,
                                      GParamSpec   *pspec)
{
  EiderSuspendInhibitor *self = EIDER_SUSPEND_INHIBITOR (object);

  switch (prop_id)
    {
    case PROP_ACTIVE:
      eider_suspend_inhibitor_set_active (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
eider_suspend_inhibitor_class_init (EiderSuspendInhibitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = eider_suspend_inhibitor_dispose;
  object_class->finalize = eider_suspend_inhibitor_finalize;
  object_class->get_property = eider_suspend_inhibitor_get_property;
  object_class->set_property = eider_suspend_inhibitor_set_property;

  properties[PROP_ACTIVE] =
    g_param_spec_boolean ("active", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_HELD] =
    g_param_spec_boolean ("held", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
eider_suspend_inhibitor_init (EiderSuspendInhibitor *self)
{
  self->fd = -1;
}

EiderSuspendInhibitor *
eider_suspend_inhibitor_new (const char *why)
{
  EiderSuspendInhibitor *self = g_object_new (EIDER_TYPE_SUSPEND_INHIBITOR, NULL);

  self->why = g_strdup (why);

  return self;
}

void
eider_suspend_inhibitor_set_active (EiderSuspendInhibitor *self,
                                    gboolean               active)
{
  g_return_if_fail (EIDER_IS_SUSPEND_INHIBITOR (self));

  active = !!active;
  if (self->active == active)
    return;

  self->active = active;
  if (active && self->fd < 0 && self->pending == NULL)
    {
      self->pending = g_cancellable_new ();
      g_bus_get (G_BUS_TYPE_SYSTEM, self->pending, bus_cb, g_object_ref (self));
    }
  else if (!active)
    release (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACTIVE]);
}

gboolean
eider_suspend_inhibitor_get_active (EiderSuspendInhibitor *self)
{
  g_return_val_if_fail (EIDER_IS_SUSPEND_INHIBITOR (self), FALSE);

  return self->active;
}

gboolean
eider_suspend_inhibitor_get_held (EiderSuspendInhibitor *self)
{
  g_return_val_if_fail (EIDER_IS_SUSPEND_INHIBITOR (self), FALSE);

  return self->fd >= 0;
}
