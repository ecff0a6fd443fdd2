/* eider-engine.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "eider-account.h"
#include "eider-store.h"

G_BEGIN_DECLS

/* The scheduler of the backup: pull the remote index, scan the watched
 * folders (stats only), then take every due file through classify → hash
 * and encrypt plan → Ente's dedupe → thumbnail and metadata → resumable
 * upload → POST /files, a bounded number at a time. Every step ends in a
 * state written to the store before the next begins.
 *
 * Errors end where they belong: a session ended by the server or a full
 * account pauses the whole engine with a reason; a transient failure is
 * retried with exponential back-off and jitter; a file that cannot be
 * uploaded is skipped or failed with a reason a person can read.
 *
 * Thread contract: main-thread only; signals are emitted on the main
 * context. CPU and disk work runs in worker threads.
 */

/* Signals, emitted on the main context:
 *  - file-started (gint64 file_id, const char *path, gint64 size)
 *  - file-progress (gint64 file_id, gint64 done, gint64 total)
 *  - file-finished (gint64 file_id, const char *path, int state,
 *    int reason_code, const char *reason_details, gint64 size): @state is
 *    an EiderFileState, @reason_code an EiderReason — why the file was
 *    skipped or failed, or how it got to Ente — and @reason_details what
 *    goes with it (nullable); eider_reason_describe() makes the text for
 *    people.
 */

#define EIDER_ENGINE_ERROR (eider_engine_error_quark ())

typedef enum
{
  EIDER_ENGINE_ERROR_NOT_LOGGED_IN,
  EIDER_ENGINE_ERROR_PAUSED,
  EIDER_ENGINE_ERROR_INCOMPLETE,
  EIDER_ENGINE_ERROR_BUSY,
} EiderEngineError;

GQuark eider_engine_error_quark (void);

#define EIDER_TYPE_ENGINE (eider_engine_get_type ())
G_DECLARE_FINAL_TYPE (EiderEngine, eider_engine, EIDER, ENGINE, GObject)

EiderEngine *eider_engine_new                (EiderAccount        *account,
                                              EiderStore          *store);
EiderStore  *eider_engine_get_store          (EiderEngine         *self);
guint        eider_engine_get_max_jobs       (EiderEngine         *self);
void         eider_engine_set_max_jobs       (EiderEngine         *self,
                                              guint                max_jobs);
/* Base of the retry back-off (default 2 s; tests make it short). */
void         eider_engine_set_retry_base_ms  (EiderEngine         *self,
                                              guint                base_ms);
/* How many attempts a file gets within one run before the run gives up on
 * it (it stays failed, and is retried by the next run). */
void         eider_engine_set_max_attempts   (EiderEngine         *self,
                                              guint                attempts);
const char  *eider_engine_get_pause_reason   (EiderEngine         *self);

/* One full pass: sync, scan, upload everything due (retrying transient
 * failures within the pass). finish returns TRUE when every file is
 * uploaded or skipped with a reason. */
void         eider_engine_run_once_async     (EiderEngine         *self,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean     eider_engine_run_once_finish    (EiderEngine         *self,
                                              GAsyncResult        *result,
                                              GError             **error);

/* Continuous mode (the daemon, the GUI): after the first pass the engine
 * stays up; files reported by a watcher are stat-ed, recorded and uploaded;
 * failed files are retried when their time comes. No timer runs while
 * there is nothing to do. */
void         eider_engine_start              (EiderEngine         *self);
/* Stops after the files in flight reach a resumable state (their parts
 * already acknowledged stay acknowledged). */
void         eider_engine_stop_async         (EiderEngine         *self,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean     eider_engine_stop_finish        (EiderEngine         *self,
                                              GAsyncResult        *result,
                                              GError             **error);
gboolean     eider_engine_get_running        (EiderEngine         *self);
/* Paths under watch @watch_id that appeared or changed (finished writing). */
void         eider_engine_note_paths         (EiderEngine         *self,
                                              gint64               watch_id,
                                              const char * const  *paths);
/* Files gone from a watch. Deleting locally never deletes from Ente: as
 * Ente desktop does, each uploaded file leaves the watched album — kept in
 * another album of the user that holds it, else moved to Uncategorized. */
void         eider_engine_note_removed       (EiderEngine         *self,
                                              gint64               watch_id,
                                              const char * const  *paths);
/* A file moved or renamed inside a watch: its new place is backed up first
 * (Ente's dedupe links a file whose name is unchanged without sending its
 * bytes again), then its old place is removed by the rule above. */
void         eider_engine_note_moved         (EiderEngine         *self,
                                              gint64               watch_id,
                                              const char          *from,
                                              const char          *to);
/* Walks one watch again (stat only), e.g. when its disk comes back. */
void         eider_engine_rescan_watch       (EiderEngine         *self,
                                              gint64               watch_id);
/* Pauses or resumes everything; the reason is shown in status. Files in
 * flight stop resumably. */
void         eider_engine_set_user_paused    (EiderEngine         *self,
                                              gboolean             paused);
/* Uploads wait while a condition holds (metered network, battery,
 * schedule…): @reason is shown in status; %NULL lifts it. Files in flight
 * stop resumably. The user's pause and the engine's own (account) come
 * first in the pause reason. */
void         eider_engine_set_gate           (EiderEngine         *self,
                                              const char          *reason);
const char  *eider_engine_get_gate           (EiderEngine         *self);
/* Upload bandwidth cap in bytes per second over all uploads; 0 = none. */
void         eider_engine_set_bandwidth_limit (EiderEngine        *self,
                                               guint64             bytes_per_second);
/* Pauses or resumes one folder (the caller records it in the store): its
 * files in flight stop resumably; a resumed folder is walked again. */
void         eider_engine_set_watch_paused   (EiderEngine         *self,
                                              gint64               watch_id,
                                              gboolean             paused);
/* "busy": files are in flight. */
gboolean     eider_engine_get_busy           (EiderEngine         *self);
/* "scanning": the remote index is being read or folders walked. */
gboolean     eider_engine_get_scanning       (EiderEngine         *self);

G_END_DECLS
