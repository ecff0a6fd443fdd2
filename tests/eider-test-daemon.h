/* eider-test-daemon.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "eider-dbus-generated.h"
#include "eider-test-fixture.h"

G_BEGIN_DECLS

/* An "eiderctl daemon" running in the background for a test, its output
 * collected line by line as it comes, and, once its socket answers, its
 * interface: the tests drive and observe it through that. */
typedef struct
{
  GSubprocess      *proc;
  GDataInputStream *out;
  GString          *log;
  int               pid;
  gboolean          reading;
  gboolean          exited;
  char             *state_dir;
  EiderDBusEngine1 *engine;   /* see test_daemon_engine () */
  GPtrArray        *finished; /* TestFinished: each file seen finished */
  GPtrArray        *states;   /* "state: reason", each State seen */
  guint             mark;     /* see test_daemon_mark () */
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
/* Lines of @text that start with @prefix. */
guint       test_count_lines       (const char         *text,
                                    const char         *prefix);

/* The daemon's interface (owned by @d): connected at the first call, once
 * its socket answers (within 30 s), and checked to be this daemon's. From
 * then on the states it goes through and the files it finishes are
 * recorded. Property changes arrive while the main context runs: every
 * wait below runs it. */
EiderDBusEngine1 *test_daemon_engine (TestDaemon       *d);
/* Counts[@state] ("pending", "uploaded", …) as last heard. */
guint       test_daemon_count      (TestDaemon         *d,
                                    const char         *state);
/* Waits until Counts[@state] reaches @n; returns the seconds it took. */
double      test_daemon_wait_counts (TestDaemon        *d,
                                     const char        *state,
                                     guint              n,
                                     double             seconds);
/* Waits until State is @state, with StateReason @reason unless that is
 * %NULL; returns the seconds it took. */
double      test_daemon_wait_state (TestDaemon         *d,
                                    const char         *state,
                                    const char         *reason,
                                    double              seconds);
/* Waits until nothing holds the uploads back (State idle, scanning or
 * uploading); returns the seconds it took. */
double      test_daemon_wait_running (TestDaemon       *d,
                                      double            seconds);
/* Sets the mark: test_daemon_count_states () counts from here. */
void        test_daemon_mark       (TestDaemon         *d);
/* How often State became @state (with StateReason @reason unless %NULL)
 * since the mark. */
guint       test_daemon_count_states (TestDaemon       *d,
                                      const char       *state,
                                      const char       *reason);
/* Waits until @path is in @state ("uploaded", …): finished so since the
 * interface was connected (FileFinished), or listed so (ListFiles).
 * Returns the file's details (owned by @d). */
const char *test_daemon_wait_file  (TestDaemon         *d,
                                    const char         *path,
                                    const char         *state,
                                    double              seconds);
/* Calls @method (@parameters floating, nullable) with the main context
 * running; fails the test on an error. Returns the reply. */
GVariant   *test_daemon_call       (TestDaemon         *d,
                                    const char         *method,
                                    GVariant           *parameters);
/* Waits until the property @name equals @value (floating); returns the
 * seconds it took. */
double      test_daemon_wait_property (TestDaemon      *d,
                                       const char      *name,
                                       GVariant        *value,
                                       double           seconds);
/* Waits until ListFolders shows the boolean @key ("paused", "available",
 * "live") of the watched folder @path as @value; returns the seconds it
 * took. */
double      test_daemon_wait_folder (TestDaemon        *d,
                                     const char        *path,
                                     const char        *key,
                                     gboolean           value,
                                     double             seconds);

/* Sends @sig and waits for the exit; returns how long it took (µs). */
gint64      test_daemon_stop       (TestDaemon         *d,
                                    int                 sig,
                                    guint               seconds);
void        test_daemon_free       (TestDaemon         *d);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestDaemon, test_daemon_free)

G_END_DECLS
