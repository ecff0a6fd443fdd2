/* eider-test-daemon.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "eider-test-fixture.h"

G_BEGIN_DECLS

/* An "eiderctl daemon" running in the background for a test, its output
 * collected line by line as it comes. */
typedef struct
{
  GSubprocess      *proc;
  GDataInputStream *out;
  GString          *log;
  int               pid;
  gboolean          reading;
  gboolean          exited;
  gsize             mark;     /* free for the test: where the log stood */
} TestDaemon;

/* @args: what follows "daemon" (e.g. "--jobs", "1"), or %NULL. */
TestDaemon *test_daemon_spawn      (TestFixture        *fx,
                                    const char * const *args);
/* The same, run under @prefix (another program, nullable). */
TestDaemon *test_daemon_spawn_under (TestFixture        *fx,
                                     const char * const *prefix,
                                     const char * const *args);
/* Runs the main context for @us microseconds. */
void        test_iterate_for       (gint64              us);
guint       test_count_lines       (const char         *text,
                                    const char         *prefix);
/* Waits until @n lines start with @prefix; returns the seconds it took. */
double      test_daemon_wait_lines (TestDaemon         *d,
                                    const char         *prefix,
                                    guint               n,
                                    double              seconds);
/* Sends @sig and waits for the exit; returns how long it took (µs). */
gint64      test_daemon_stop       (TestDaemon         *d,
                                    int                 sig,
                                    guint               seconds);
void        test_daemon_free       (TestDaemon         *d);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestDaemon, test_daemon_free)

G_END_DECLS
