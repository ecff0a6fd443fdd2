/* eider-instance.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* One engine per state directory. Whoever hosts the engine (EiderService,
 * run by eiderctl daemon or eiderctl backup --once) first acquires the
 * directory: an exclusive flock on <state_dir>/eider.lock that holds its
 * pid, released when the instance is finalized or the process exits.
 * Clients reach the holder through its D-Bus interface (see EiderService).
 *
 * Thread contract: main-thread only.
 */

#define EIDER_INSTANCE_ERROR (eider_instance_error_quark ())

typedef enum
{
  EIDER_INSTANCE_ERROR_FAILED,
  EIDER_INSTANCE_ERROR_RUNNING,       /* another process holds the directory */
} EiderInstanceError;

GQuark eider_instance_error_quark (void);

#define EIDER_TYPE_INSTANCE (eider_instance_get_type ())
G_DECLARE_FINAL_TYPE (EiderInstance, eider_instance, EIDER, INSTANCE, GObject)

/* Takes the state directory (which must exist). Fails
 * with EIDER_INSTANCE_ERROR_RUNNING, naming the holder's pid, when another
 * process has it. */
EiderInstance *eider_instance_acquire     (const char            *state_dir,
                                           GError               **error);
const char    *eider_instance_get_state_dir (EiderInstance       *self);

G_END_DECLS
