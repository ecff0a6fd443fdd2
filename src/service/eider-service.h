/* eider-service.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "eider-dbus-generated.h"
#include "eider-store.h"

G_BEGIN_DECLS

/* The engine host: the one object that runs the engine for one state
 * directory. It takes the directory's lock, loads the account and its
 * keys, opens the store, and wires the engine to the watcher, the
 * conditions (settings, network, battery, power saver, logind) and the
 * stored pause and "back up anyway" state; it walks every folder again now
 * and then. It exports io.github.eiderapp.Eider.Engine1 (see the XML beside
 * this file) on <state_dir>/eider.sock and, when a session bus exists,
 * under io.github.eiderapp.Eider.Engine. Only the host writes the store.
 *
 * Two modes: DAEMON keeps the folders backed up until stopped or asked to
 * quit; ONE_TIME (eiderctl backup --once) backs everything up once, despite
 * the conditions (the bandwidth cap still holds), takes no changes, and
 * stops by itself.
 *
 * Thread contract: main-thread only; signals and property notifications
 * are emitted on the main context.
 */

typedef enum
{
  EIDER_ENGINE_STATE_IDLE,
  EIDER_ENGINE_STATE_SCANNING,
  EIDER_ENGINE_STATE_UPLOADING,
  EIDER_ENGINE_STATE_PAUSED,
  EIDER_ENGINE_STATE_WAITING,        /* a condition holds (metered, battery, …) */
  EIDER_ENGINE_STATE_OFFLINE,
  EIDER_ENGINE_STATE_NEEDS_LOGIN,
  EIDER_ENGINE_STATE_STORAGE_FULL,
} EiderEngineState;

typedef enum
{
  EIDER_SERVICE_MODE_DAEMON,
  EIDER_SERVICE_MODE_ONE_TIME,
} EiderServiceMode;

#define EIDER_TYPE_SERVICE (eider_service_get_type ())
G_DECLARE_FINAL_TYPE (EiderService, eider_service, EIDER, SERVICE, GObject)

EiderService     *eider_service_new           (const char        *config_dir,
                                               const char        *state_dir,
                                               EiderServiceMode   mode);
/* Files uploaded at once (0: the engine's default). Before start. */
void              eider_service_set_jobs      (EiderService      *self,
                                               guint              jobs);
/* Takes the directory, loads everything and starts backing up. Fails when
 * the account is not logged in, or another host has the directory (the
 * message names its pid). */
gboolean          eider_service_start         (EiderService      *self,
                                               GError           **error);
/* Stops: the files in flight reach a resumable state first; "stopped" is
 * emitted at the end. Asked again, it stops at once. */
void              eider_service_stop          (EiderService      *self);
/* After "stopped": TRUE when all went well (ONE_TIME: every file is in
 * Ente or skipped with a reason), else FALSE with @error. */
gboolean          eider_service_get_result    (EiderService      *self,
                                               GError           **error);
/* The exported interface object: the same properties and signals that
 * clients see through their proxies. */
EiderDBusEngine1 *eider_service_get_interface (EiderService      *self);
EiderEngineState  eider_service_get_state     (EiderService      *self);

GVariant         *eider_folder_to_variant     (const EiderWatch  *watch,
                                               gboolean           available,
                                               gboolean           live,
                                               const char        *poll_reason,
                                               guint              poll_seconds,
                                               const EiderStoreCounts *counts);

/* "5 minutes", "90 seconds", "1 hour": how the host and eiderctl say an
 * interval. */
char             *eider_format_interval       (guint              seconds);

G_END_DECLS
