/* eider-test-server-harness.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Starts a real eider-test-server (path in $EIDER_TEST_SERVER) on loopback
 * for one test binary, and waits for async results in tests.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  GSubprocess *process;
  char        *url;
  char        *data_dir;
  char        *log_path;   /* the server's stderr: "request …" and "ott …" lines */
  guint16      port;
} TestServer;

TestServer   *test_server_start    (const char * const *extra_args);
/* Stops the server and starts it again on the same address and data
 * directory (state survives), with other options. */
void          test_server_restart  (TestServer         *server,
                                    const char * const *extra_args);
void          test_server_stop     (TestServer         *server);
/* How many lines of the server's log match @line, a glob (* any text,
 * ? any one character): without those, lines equal to it. */
guint         test_server_count_log_lines (TestServer  *server,
                                           const char  *line);
GAsyncResult *test_wait            (GAsyncResult      **slot);
void          test_result_cb       (GObject            *object,
                                    GAsyncResult       *result,
                                    gpointer            user_data);
char         *test_make_tmpdir     (const char         *template);
void          test_rm_rf           (const char         *path);
gboolean      test_dir_contains    (const char         *dir,
                                    const guint8       *needle,
                                    gsize               len);
/* A GSubprocessLauncher child setup: the child is killed when the test
 * process dies, so that nothing it started outlives a failed test. */
void          test_die_with_parent (gpointer            user_data);
/* Runs a tool (exiftool, convert, heif-enc…) that must succeed; FALSE, with
 * the test marked skipped, when it is not installed. */
gboolean      test_run_tool        (const char * const *argv);

G_END_DECLS
