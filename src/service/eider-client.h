/* eider-client.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "eider-dbus-generated.h"

G_BEGIN_DECLS

/* Reaching the engine host of a state directory: over its peer-to-peer
 * socket (<state_dir>/eider.sock), or over the session bus by name (which
 * starts the host by D-Bus activation). The host raises, and clients
 * receive, errors of EIDER_HOST_ERROR (registered with GDBus, so a
 * client's GError has the domain and code the host raised).
 *
 * Thread contract: main-thread only (the proxies deliver their signals on
 * the thread-default main context of the thread that made them).
 */

#define EIDER_HOST_OBJECT_PATH  "/io/github/eiderapp/Eider/Engine"
#define EIDER_HOST_BUS_NAME     "io.github.eiderapp.Eider.Engine"
#define EIDER_HOST_SOCKET_NAME  "eider.sock"

#define EIDER_HOST_ERROR (eider_host_error_quark ())

typedef enum
{
  EIDER_HOST_ERROR_FAILED,
  EIDER_HOST_ERROR_NOT_FOUND,      /* no such folder or file */
  EIDER_HOST_ERROR_INVALID_ARGS,   /* a bad value: an unknown option, a negative page size… */
  EIDER_HOST_ERROR_EXISTS,         /* already watched, or inside or around a watched folder */
  EIDER_HOST_ERROR_NOT_LOGGED_IN,
  EIDER_HOST_ERROR_ONE_TIME,       /* a one-time backup takes no changes */
  EIDER_HOST_ERROR_NOT_RUNNING,    /* client side: no host for that state directory */
} EiderHostError;

GQuark            eider_host_error_quark     (void);

/* <state_dir>/eider.sock */
char             *eider_client_socket_path   (const char    *state_dir);
/* The host of @state_dir over its socket, or EIDER_HOST_ERROR_NOT_RUNNING. */
EiderDBusEngine1 *eider_client_connect_sync  (const char    *state_dir,
                                              GCancellable  *cancellable,
                                              GError       **error);
/* The host on the session bus; the first call starts it by activation. */
EiderDBusEngine1 *eider_client_connect_bus_sync (GCancellable  *cancellable,
                                                 GError       **error);

G_END_DECLS
