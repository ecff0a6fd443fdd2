/* eider-host-link.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "eider-dbus-generated.h"

G_BEGIN_DECLS

/* The window's link to the engine host of its state directory: connects to
 * its socket, starts `eiderctl daemon` when none runs, and notices when it
 * goes away.
 *
 * Thread contract: main-thread only. */

typedef enum
{
  EIDER_HOST_LINK_STATE_CONNECTING,    /* reaching a host that may run */
  EIDER_HOST_LINK_STATE_STARTING,      /* none ran: one was started, waiting for its socket */
  EIDER_HOST_LINK_STATE_CONNECTED,     /* the engine proxy is live */
  EIDER_HOST_LINK_STATE_LOST,          /* the host stopped or could not start (see message) */
  EIDER_HOST_LINK_STATE_NOT_LOGGED_IN, /* the host refused to start: no account logged in */
} EiderHostLinkState;

#define EIDER_TYPE_HOST_LINK (eider_host_link_get_type ())

G_DECLARE_FINAL_TYPE (EiderHostLink, eider_host_link, EIDER, HOST_LINK, GObject)

EiderHostLink      *eider_host_link_new                 (const char    *state_directory);
char               *eider_host_link_default_state_directory (void);
void                eider_host_link_start               (EiderHostLink *self);
EiderHostLinkState  eider_host_link_get_state           (EiderHostLink *self);
EiderDBusEngine1   *eider_host_link_get_engine          (EiderHostLink *self);
const char         *eider_host_link_get_message         (EiderHostLink *self);
const char         *eider_host_link_get_state_directory (EiderHostLink *self);

G_END_DECLS
