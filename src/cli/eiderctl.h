/* eiderctl.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "eider-client.h"
#include "eider-store.h"

G_BEGIN_DECLS

/* Shared by eiderctl's commands. Exit codes: 0 success, 1 failure, 2 usage,
 * 3 (daemon) not logged in. */

#define EIDERCTL_EXIT_OK      0
#define EIDERCTL_EXIT_FAILED  1
#define EIDERCTL_EXIT_USAGE   2
/* eiderctl daemon: the account is not logged in (the window shows how to log in). */
#define EIDERCTL_EXIT_NOT_LOGGED_IN 3

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

/* The host running for the state directory (a proxy of its interface), or
 * NULL when none runs (nothing said) or it cannot be reached (said on
 * stderr, *failed set). */
EiderDBusEngine1 *eiderctl_connect (EiderctlGlobals  *globals,
                                    gboolean         *failed);
/* Says a host's refusal or failure on stderr. */
void          eiderctl_host_error  (const char      *what,
                                    const GError    *error);

/* Prints what a host does, as it happens: "uploaded|skipped|failed\tPATH
 * [\tREASON]" lines, or on a terminal one progress line. Works the same on
 * the host's own interface object and on a client's proxy. */
typedef struct _EiderctlPrinter EiderctlPrinter;

EiderctlPrinter *eiderctl_printer_new  (EiderDBusEngine1 *engine,
                                        gboolean          tty);
void          eiderctl_printer_finish  (EiderctlPrinter  *printer,
                                        guint            *uploaded,
                                        guint            *skipped,
                                        guint            *failed);

/* config get|set|reset */
int           eiderctl_config      (EiderctlGlobals *globals,
                                    int              argc,
                                    char           **argv);

G_END_DECLS
