/* eiderctl.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "eider-store.h"

G_BEGIN_DECLS

/* Shared by eiderctl's commands. Exit codes: 0 success, 1 failure, 2 usage. */

#define EIDERCTL_EXIT_OK      0
#define EIDERCTL_EXIT_FAILED  1
#define EIDERCTL_EXIT_USAGE   2

typedef struct
{
  char *config_dir;
  char *data_dir;
} EiderctlGlobals;

/* Runs the main context until *result is set by eiderctl_result_cb. */
void          eiderctl_result_cb   (GObject       *object,
                                    GAsyncResult  *result,
                                    gpointer       user_data);
GAsyncResult *eiderctl_wait        (GAsyncResult **slot);

gboolean      eiderctl_is_tty      (void);
char         *eiderctl_prompt      (const char    *question,
                                    gboolean       secret);
char         *eiderctl_read_stdin_line (GError   **error);
void          eiderctl_error       (const char    *format,
                                    ...) G_GNUC_PRINTF (1, 2);
/* "5 minutes", "90 seconds", "1 hour". */
char         *eiderctl_format_interval (guint        seconds);

int           eiderctl_account     (EiderctlGlobals *globals,
                                    int              argc,
                                    char           **argv);
/* watch, backup, status, failures, retry; -1 when argv[0] is none of them */
int           eiderctl_backup_command (EiderctlGlobals *globals,
                                       int              argc,
                                       char           **argv);

/* daemon, pause, resume; -1 when argv[0] is none of them */
int           eiderctl_daemon_command (EiderctlGlobals *globals,
                                       int              argc,
                                       char           **argv);

/* The state folder (created 0700) and its store. */
gboolean      eiderctl_ensure_state_dir (EiderctlGlobals  *globals,
                                         GError          **error);
EiderStore   *eiderctl_open_store  (EiderctlGlobals  *globals,
                                    GError          **error);
/* The watch of the folder the user named, or NULL (said on stderr). */
EiderWatch   *eiderctl_find_watch  (EiderStore       *store,
                                    const char       *arg);

/* One folder's state as status shows it ("path", "paused", "available",
 * "live", "pollReason", "pollSeconds"); @poll_reason NULL when it is
 * watched live or not watched at all. */
JsonObject   *eiderctl_watch_state_new (EiderWatch  *watch,
                                        gboolean     available,
                                        gboolean     live,
                                        const char  *poll_reason,
                                        guint        poll_seconds);

/* config get|set|reset */
int           eiderctl_config      (EiderctlGlobals *globals,
                                    int              argc,
                                    char           **argv);

G_END_DECLS
