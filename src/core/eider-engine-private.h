/* eider-engine-private.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What the files of the engine share: its instance struct, a job (one
 * file, or one live photo, on its way to Ente), and the functions one of
 * them calls in another (named _eider_engine_*):
 *
 *   eider-engine.c        the GObject and its public API; the scheduler:
 *                         runs, the pump, retries
 *   eider-engine-job.c    the steps of one file's life, in reading order
 *   eider-engine-live.c   live photos: pairing an image and a video
 *   eider-engine-scan.c   the remote index, then the scans, applied
 *   eider-engine-moves.c  removals, moves and renames
 */
#pragma once

#include "eider-engine.h"
#include "eider-media.h"
#include "eider-remote.h"
#include "eider-scanner.h"
#include "eider-uploader.h"

G_BEGIN_DECLS

struct _EiderEngine
{
  GObject        parent_instance;

  EiderAccount  *account;
  EiderStore    *store;
  EiderRemote   *remote;
  EiderUploader *uploader;

  guint          max_jobs;
  guint          retry_base_ms;
  guint          max_attempts;

  /* the current run */
  GTask         *run;
  GCancellable  *cancellable;
  GPtrArray     *watches;
  gboolean       active;
  gboolean       continuous;
  gboolean       user_paused;
  char          *own_reason;   /* a pause the engine took itself (account problems) */
  char          *gate_reason;  /* a condition set by the front end (network, battery…) */
  gboolean       busy;
  guint64        bandwidth_limit;
  GTask         *stop_task;
  guint          n_scans;      /* the sync and the scans in flight */
  guint          n_jobs;
  guint          n_parked;     /* jobs waiting for a dedupe key (no slot taken) */
  GHashTable    *busy_files;   /* file id → the job */
  GHashTable    *busy_keys;    /* dedupe key → Claim */
  GHashTable    *run_attempts; /* file id → attempts within this run */
  GHashTable    *moves;        /* new path → old path, until the new one is backed up */
  GHashTable    *held;         /* paths that wait for their rename in Ente */
  GHashTable    *gone;         /* identity_key () → Gone: removals in their grace period */
  guint          gone_source;
  guint          retry_source;
  char          *pause_reason;
  gboolean       stopping;
};

/* A file that left a watched folder, in its grace period (see
 * eider_engine_note_removed). */
typedef struct
{
  char   *path;
  gint64  due;     /* monotonic µs */
} Gone;

/* Jobs: one file through the pipeline */

typedef struct
{
  EiderEngine       *engine;
  EiderFileRecord   *record;
  EiderStat          stat;
  char              *title;
  gint64             collection_id;
  EiderSecret       *collection_key;
  EiderUploadRecord *upload;
  GBytes            *content;      /* the plaintext (≤ 16 MiB), until described */
  GBytes            *body;         /* its ciphertext, sent as it is */
  char              *hash;
  gint               file_type;
  char              *dedupe_key;
  gboolean           resuming;     /* the upload is planned already: only to be sent */
  gboolean           placeholder;
  gint64             creation_time;  /* µs, as the metadata says */
  EiderRemoteFileRecord *replace;  /* an edit: the Ente file whose content it replaces */
  EiderSecret       *file_key;     /* … and that file's key */
  GCancellable      *cancellable;  /* cancelled with the run, or alone (folder paused) */
  GCancellable      *run_cancellable;
  gulong             cancel_handler;

  /* A live photo (spec/ente-upload.md §7): @record is the image, @partner
   * the video; both are busy with this job. Until @paired is set the two
   * are only candidates, and a "no" gives the partner back. */
  EiderFileRecord   *partner;
  EiderStat          partner_stat;
  gboolean           paired;
  gboolean           swapped;      /* the job was started for the video */
  char              *zip_path;     /* the body: image and video in one zip */
  EiderUploadRecord *resume;       /* the pair's upload in flight, to check first */
  gboolean           had_resume;
  EiderMediaMetadata *live_md;     /* the image, read while pairing */
  GBytes            *live_thumb;
} Job;

/* Ente's modificationTime: the mtime in whole milliseconds, × 1000. */
static inline gint64
_eider_engine_mtime_ms_us (const EiderStat *stat)
{
  return stat->mtime_ns / 1000000 * 1000;
}

static inline gboolean
_eider_engine_same_stat (const EiderStat *a,
                         const EiderStat *b)
{
  return a->dev == b->dev && a->inode == b->inode && a->size == b->size &&
         a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

/* eider-engine.c */
void        _eider_engine_pump                (EiderEngine        *self);
void        _eider_engine_finish_run          (EiderEngine        *self,
                                               GError             *error);
void        _eider_engine_set_pause_reason    (EiderEngine        *self,
                                               const char         *reason);
void        _eider_engine_update_busy         (EiderEngine        *self);
void        _eider_engine_add_scans           (EiderEngine        *self,
                                               int                 delta);
void        _eider_engine_log_store_error     (GError             *error);
EiderWatch *_eider_engine_find_watch          (EiderEngine        *self,
                                               gint64              watch_id);
gint64      _eider_engine_retry_delay_us      (EiderEngine        *self,
                                               gint                attempts);
void        _eider_engine_emit_file_started   (EiderEngine        *self,
                                               gint64              file_id,
                                               const char         *path,
                                               gint64              size);
void        _eider_engine_emit_file_finished  (EiderEngine        *self,
                                               gint64              file_id,
                                               const char         *path,
                                               EiderFileState      state,
                                               EiderReason         reason,
                                               const char         *details,
                                               gint64              size);

/* eider-engine-job.c */
void        _eider_engine_job_start           (EiderEngine        *self,
                                               EiderFileRecord    *record);
void        _eider_engine_job_continue        (Job                *job);
void        _eider_engine_job_find_album      (Job                *job);
void        _eider_engine_job_resume          (Job                *job);
void        _eider_engine_job_error           (Job                *job,
                                               GError             *error);
void        _eider_engine_claim_free          (gpointer            claim);
void        _eider_engine_release_claims      (EiderEngine        *self,
                                               gint64              file_id,
                                               gboolean            settled);
void        _eider_engine_end_parked          (EiderEngine        *self,
                                               gboolean            requeue);

/* eider-engine-live.c */
gboolean    _eider_engine_claim_live_partner  (Job                *job);
void        _eider_engine_start_pair_check    (Job                *job);
gboolean    _eider_engine_prepare_live_photo  (Job                *job,
                                               GCancellable       *cancellable,
                                               GError            **error);
EiderReason _eider_engine_live_partner_reason (Job                *job,
                                               EiderFileState      state,
                                               EiderReason         reason,
                                               const char         *details,
                                               char              **partner_details);
void        _eider_engine_live_md_free        (EiderMediaMetadata *md);

/* eider-engine-scan.c */
void        _eider_engine_start_pass          (EiderEngine        *self);
void        _eider_engine_scan_watch          (EiderEngine        *self,
                                               EiderWatch         *watch);
void        _eider_engine_note_paths          (EiderEngine        *self,
                                               gint64              watch_id,
                                               const char * const *paths);

/* eider-engine-moves.c */
void        _eider_engine_gone_free           (Gone               *gone);
Gone       *_eider_engine_take_gone           (EiderEngine        *self,
                                               const EiderStat    *st,
                                               const char         *path);
void        _eider_engine_note_gone           (EiderEngine        *self,
                                               const char * const *paths);
void        _eider_engine_handle_move         (EiderEngine        *self,
                                               gint64              watch_id,
                                               const char         *from,
                                               const char         *to);
void        _eider_engine_settle_missing      (EiderEngine        *self,
                                               EiderWatch         *watch,
                                               GPtrArray          *entries,
                                               GHashTable         *seen);
void        _eider_engine_finish_move         (EiderEngine        *self,
                                               const char         *path);
EiderReason _eider_engine_moved_reason        (EiderEngine        *self,
                                               const char         *path,
                                               EiderReason         otherwise);

G_END_DECLS
