/* eider-instance.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* One engine per state directory. Whoever runs the engine (eiderctl
 * daemon, the app) first acquires the directory: an exclusive flock on
 * <state_dir>/eider.lock that holds its pid, released when the instance is
 * finalized or the process exits. While it holds the lock it listens on
 * <state_dir>/control.sock (mode 0600) for one-line commands from other
 * processes of the same user:
 *
 *   pause | resume | pause-watch ID | resume-watch ID | status |
 *   watches-changed | override SECONDS | override-cancel
 *
 * (override: back up anyway, for SECONDS, or until the conditions that
 * hold change when SECONDS is 0.)
 *
 * and answers each with one line of JSON: {"ok":true,"pid":N,…} with the
 * members the command handler returned, or {"ok":false,"error":"…"}.
 *
 * Thread contract: main-thread only; the handler runs on the main context
 * of the thread that acquired the instance. eider_instance_send() is
 * synchronous and may be called from any thread.
 */

#define EIDER_INSTANCE_ERROR (eider_instance_error_quark ())

typedef enum
{
  EIDER_INSTANCE_ERROR_FAILED,
  EIDER_INSTANCE_ERROR_RUNNING,       /* another process holds the directory */
  EIDER_INSTANCE_ERROR_NOT_RUNNING,   /* nobody listens on the control socket */
  EIDER_INSTANCE_ERROR_REFUSED,       /* the running instance answered ok:false */
} EiderInstanceError;

GQuark eider_instance_error_quark (void);

typedef enum
{
  EIDER_INSTANCE_COMMAND_PAUSE,
  EIDER_INSTANCE_COMMAND_RESUME,
  EIDER_INSTANCE_COMMAND_PAUSE_WATCH,
  EIDER_INSTANCE_COMMAND_RESUME_WATCH,
  EIDER_INSTANCE_COMMAND_STATUS,
  EIDER_INSTANCE_COMMAND_WATCHES_CHANGED,
  EIDER_INSTANCE_COMMAND_OVERRIDE,
  EIDER_INSTANCE_COMMAND_CANCEL_OVERRIDE,
} EiderInstanceCommand;

/* Applies one command. @watch_id is the watch of the *_WATCH commands, the
 * seconds of OVERRIDE, and 0 otherwise. Returns the members to add to the reply (transfer full; may
 * be an empty object), or NULL and sets @error. */
typedef JsonObject *(*EiderInstanceHandler) (EiderInstanceCommand   command,
                                             gint64                 watch_id,
                                             gpointer               user_data,
                                             GError               **error);

#define EIDER_TYPE_INSTANCE (eider_instance_get_type ())
G_DECLARE_FINAL_TYPE (EiderInstance, eider_instance, EIDER, INSTANCE, GObject)

/* Takes the state directory (which must exist) and starts listening. Fails
 * with EIDER_INSTANCE_ERROR_RUNNING, naming the holder's pid, when another
 * process has it. */
EiderInstance *eider_instance_acquire     (const char            *state_dir,
                                           GError               **error);
const char    *eider_instance_get_state_dir (EiderInstance       *self);
/* Until a handler is set, every command is answered with an error. */
void           eider_instance_set_handler (EiderInstance         *self,
                                           EiderInstanceHandler   handler,
                                           gpointer               user_data,
                                           GDestroyNotify         destroy);

/* Client side: sends @command (one line, without the newline) to the
 * instance running on @state_dir and returns its JSON reply in @reply.
 * EIDER_INSTANCE_ERROR_NOT_RUNNING when nobody listens; _REFUSED with the
 * instance's message when it answered ok:false. */
gboolean       eider_instance_send        (const char            *state_dir,
                                           const char            *command,
                                           char                 **reply,
                                           GError               **error);

G_END_DECLS
