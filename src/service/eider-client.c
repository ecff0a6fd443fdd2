/* eider-client.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-client"
#include "config.h"

#include "eider-client.h"

static const GDBusErrorEntry host_error_entries[] = {
  { EIDER_HOST_ERROR_FAILED, "io.github.eiderapp.Eider.Error.Failed" },
  { EIDER_HOST_ERROR_NOT_FOUND, "io.github.eiderapp.Eider.Error.NotFound" },
  { EIDER_HOST_ERROR_INVALID_ARGS, "io.github.eiderapp.Eider.Error.InvalidArgs" },
  { EIDER_HOST_ERROR_EXISTS, "io.github.eiderapp.Eider.Error.Exists" },
  { EIDER_HOST_ERROR_NOT_LOGGED_IN, "io.github.eiderapp.Eider.Error.NotLoggedIn" },
  { EIDER_HOST_ERROR_ONE_TIME, "io.github.eiderapp.Eider.Error.OneTime" },
  { EIDER_HOST_ERROR_NOT_RUNNING, "io.github.eiderapp.Eider.Error.NotRunning" },
};

GQuark
eider_host_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("eider-host-error-quark", &quark, host_error_entries,
                                      G_N_ELEMENTS (host_error_entries));
  return (GQuark) quark;
}

char *
eider_client_socket_path (const char *state_dir)
{
  g_return_val_if_fail (state_dir != NULL, NULL);

  return g_build_filename (state_dir, EIDER_HOST_SOCKET_NAME, NULL);
}

static EiderDBusEngine1 *
proxy_new (GDBusConnection  *connection,
           const char       *name,
           GCancellable     *cancellable,
           GError          **error)
{
  /* Registered before the first call: the host's errors come back in
   * their domain. */
  eider_host_error_quark ();

  return eider_dbus_engine1_proxy_new_sync (connection, G_DBUS_PROXY_FLAGS_NONE, name,
                                            EIDER_HOST_OBJECT_PATH, cancellable, error);
}

EiderDBusEngine1 *
eider_client_connect_sync (const char    *state_dir,
                           GCancellable  *cancellable,
                           GError       **error)
{
  g_autofree char *path = NULL;
  g_autofree char *address = NULL;
  g_autofree char *escaped = NULL;
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (state_dir != NULL, NULL);

  path = eider_client_socket_path (state_dir);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, EIDER_HOST_ERROR, EIDER_HOST_ERROR_NOT_RUNNING,
                   "Eider is not running for %s", state_dir);
      return NULL;
    }

  escaped = g_dbus_address_escape_value (path);
  address = g_strdup_printf ("unix:path=%s", escaped);
  connection = g_dbus_connection_new_for_address_sync (address,
                                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT,
                                                       NULL, cancellable, &local_error);
  if (connection == NULL)
    {
      /* A socket left by a host that died: nobody listens. */
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
          g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        g_set_error (error, EIDER_HOST_ERROR, EIDER_HOST_ERROR_NOT_RUNNING,
                     "Eider is not running for %s", state_dir);
      else
        g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                    "Could not reach the running Eider: ");
      return NULL;
    }

  return proxy_new (connection, NULL, cancellable, error);
}

EiderDBusEngine1 *
eider_client_connect_bus_sync (GCancellable  *cancellable,
                               GError       **error)
{
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, cancellable, error);

  if (bus == NULL)
    return NULL;

  return proxy_new (bus, EIDER_HOST_BUS_NAME, cancellable, error);
}
