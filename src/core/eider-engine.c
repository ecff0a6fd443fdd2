/* eider-engine.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-engine"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gio/gunixinputstream.h>

#include <json-glib/json-glib.h>

#include "eider-crypto.h"
#include "eider-engine.h"
#include "eider-live-photo.h"
#include "eider-media.h"
#include "eider-media-names.h"
#include "eider-remote.h"
#include "eider-scanner.h"
#include "eider-uploader.h"
#include "eider-video.h"

G_DEFINE_QUARK (eider-engine-error-quark, eider_engine_error)

#define DEFAULT_MAX_JOBS      4
#define DEFAULT_RETRY_BASE_MS 2000
#define DEFAULT_MAX_ATTEMPTS  5
#define MAX_RETRY_DELAY_MS    (5 * 60 * 1000)
/* How long a video's container is read for a live photo's date. */
#define VIDEO_PROBE_TIMEOUT_MS (30 * 1000)
/* How long a run waits for a failed file's retry before giving up on it. */
#define MAX_RUN_WAIT_MS       (2 * 60 * 1000)

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

G_DEFINE_FINAL_TYPE (EiderEngine, eider_engine, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_PAUSE_REASON,
  PROP_BUSY,
  N_PROPS
};

enum {
  FILE_STARTED,
  FILE_FINISHED,
  FILE_PROGRESS,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void pump (EiderEngine *self);

/* A file that left a watched folder, in its grace period (see
 * eider_engine_note_removed). */
typedef struct
{
  char   *path;
  gint64  due;     /* monotonic µs */
} Gone;

static void
gone_free (Gone *gone)
{
  g_free (gone->path);
  g_free (gone);
}

static void handle_move (EiderEngine *self,
                         gint64       watch_id,
                         const char  *from,
                         const char  *to);
static Gone *take_gone   (EiderEngine     *self,
                          const EiderStat *st,
                          const char      *path);

static void
eider_engine_dispose (GObject *object)
{
  EiderEngine *self = (EiderEngine *) object;

  g_clear_handle_id (&self->retry_source, g_source_remove);
  g_clear_handle_id (&self->gone_source, g_source_remove);
  g_clear_object (&self->uploader);
  g_clear_object (&self->remote);
  g_clear_object (&self->store);
  g_clear_object (&self->account);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->watches, g_ptr_array_unref);
  g_clear_pointer (&self->busy_files, g_hash_table_unref);
  g_clear_pointer (&self->busy_keys, g_hash_table_unref);
  g_clear_pointer (&self->run_attempts, g_hash_table_unref);
  g_clear_pointer (&self->moves, g_hash_table_unref);
  g_clear_pointer (&self->gone, g_hash_table_unref);
  g_clear_pointer (&self->held, g_hash_table_unref);

  G_OBJECT_CLASS (eider_engine_parent_class)->dispose (object);
}

static void
eider_engine_finalize (GObject *object)
{
  EiderEngine *self = (EiderEngine *) object;

  g_free (self->pause_reason);
  g_free (self->own_reason);
  g_free (self->gate_reason);

  G_OBJECT_CLASS (eider_engine_parent_class)->finalize (object);
}

static void
eider_engine_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  EiderEngine *self = EIDER_ENGINE (object);

  switch (prop_id)
    {
    case PROP_PAUSE_REASON:
      g_value_set_string (value, self->pause_reason);
      break;

    case PROP_BUSY:
      g_value_set_boolean (value, self->busy);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
eider_engine_class_init (EiderEngineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = eider_engine_dispose;
  object_class->finalize = eider_engine_finalize;
  object_class->get_property = eider_engine_get_property;

  properties[PROP_PAUSE_REASON] =
    g_param_spec_string ("pause-reason", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* Files are in flight (e.g. to keep the machine awake meanwhile). */
  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * EiderEngine::file-started:
   * @path: the file's path
   */
  signals[FILE_STARTED] =
    g_signal_new ("file-started", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_INT64, G_TYPE_STRING, G_TYPE_INT64);

  /**
   * EiderEngine::file-finished:
   * @file_id: the store's id
   * @path: the file's path
   * @state: its EiderFileState now
   * @reason: (nullable): why it was skipped or failed, or how it got to Ente
   */
  signals[FILE_FINISHED] =
    g_signal_new ("file-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 5, G_TYPE_INT64, G_TYPE_STRING, G_TYPE_INT, G_TYPE_STRING,
                  G_TYPE_INT64);

  /**
   * EiderEngine::file-progress:
   * @file_id: the store's id
   * @done: bytes of the file sent (the encrypted bytes on their way, scaled
   *   to the file's size), rising to @total
   * @total: the file's size
   *
   * Emitted as an upload's bodies are written (at most once per MiB of
   * each file) and when parts the server already has are skipped.
   */
  signals[FILE_PROGRESS] =
    g_signal_new ("file-progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_INT64, G_TYPE_INT64, G_TYPE_INT64);
}

static void
eider_engine_init (EiderEngine *self)
{
  self->moves = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->gone = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) gone_free);
  self->held = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->max_jobs = DEFAULT_MAX_JOBS;
  self->retry_base_ms = DEFAULT_RETRY_BASE_MS;
  self->max_attempts = DEFAULT_MAX_ATTEMPTS;
}

EiderEngine *
eider_engine_new (EiderAccount *account,
                  EiderStore   *store)
{
  EiderEngine *self;

  g_return_val_if_fail (EIDER_IS_ACCOUNT (account), NULL);
  g_return_val_if_fail (EIDER_IS_STORE (store), NULL);

  self = g_object_new (EIDER_TYPE_ENGINE, NULL);
  self->account = g_object_ref (account);
  self->store = g_object_ref (store);

  return self;
}

EiderStore *
eider_engine_get_store (EiderEngine *self)
{
  g_return_val_if_fail (EIDER_IS_ENGINE (self), NULL);

  return self->store;
}

guint
eider_engine_get_max_jobs (EiderEngine *self)
{
  g_return_val_if_fail (EIDER_IS_ENGINE (self), 0);

  return self->max_jobs;
}

void
eider_engine_set_max_jobs (EiderEngine *self,
                           guint        max_jobs)
{
  g_return_if_fail (EIDER_IS_ENGINE (self));

  self->max_jobs = CLAMP (max_jobs, 1, 16);
}

void
eider_engine_set_retry_base_ms (EiderEngine *self,
                                guint        base_ms)
{
  g_return_if_fail (EIDER_IS_ENGINE (self));

  self->retry_base_ms = MAX (base_ms, 1);
  if (self->uploader != NULL)
    eider_uploader_set_retry_delay_ms (self->uploader, self->retry_base_ms);
}

void
eider_engine_set_max_attempts (EiderEngine *self,
                               guint        attempts)
{
  g_return_if_fail (EIDER_IS_ENGINE (self));

  self->max_attempts = MAX (attempts, 1);
}

const char *
eider_engine_get_pause_reason (EiderEngine *self)
{
  g_return_val_if_fail (EIDER_IS_ENGINE (self), NULL);

  return self->pause_reason;
}

static void
update_pause_reason (EiderEngine *self)
{
  const char *reason;

  /* The user's word first, then what the engine found, then conditions. */
  if (self->user_paused)
    reason = "Paused";
  else if (self->own_reason != NULL)
    reason = self->own_reason;
  else
    reason = self->gate_reason;

  if (g_strcmp0 (self->pause_reason, reason) == 0)
    return;

  g_free (self->pause_reason);
  self->pause_reason = g_strdup (reason);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAUSE_REASON]);

  /* Stop the files in flight: they keep their persisted state and resume
   * when the reason is gone. */
  if (reason != NULL && self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

/* A pause the engine takes itself: an ended session, a full account. */
static void
set_pause_reason (EiderEngine *self,
                  const char  *reason)
{
  g_free (self->own_reason);
  self->own_reason = g_strdup (reason);
  update_pause_reason (self);
}

static void
update_busy (EiderEngine *self)
{
  gboolean busy = self->active && self->n_jobs > 0;

  if (self->busy == busy)
    return;

  self->busy = busy;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static void
log_store_error (GError *error)
{
  if (error != NULL)
    g_warning ("Could not record a file's state: %s", error->message);
}

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
  GBytes            *content;
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

static void
live_md_free (EiderMediaMetadata *md)
{
  if (md == NULL)
    return;
  eider_media_metadata_clear (md);
  g_free (md);
}

static void
job_free (Job *job)
{
  g_clear_pointer (&job->record, eider_file_record_free);
  g_free (job->title);
  g_clear_pointer (&job->collection_key, eider_secret_free);
  g_clear_pointer (&job->upload, eider_upload_record_free);
  g_clear_pointer (&job->content, g_bytes_unref);
  g_free (job->hash);
  g_free (job->dedupe_key);
  g_clear_pointer (&job->replace, eider_remote_file_record_free);
  g_clear_pointer (&job->file_key, eider_secret_free);
  g_clear_pointer (&job->partner, eider_file_record_free);
  g_free (job->zip_path);
  g_clear_pointer (&job->resume, eider_upload_record_free);
  g_clear_pointer (&job->live_md, live_md_free);
  g_clear_pointer (&job->live_thumb, g_bytes_unref);
  if (job->run_cancellable != NULL)
    g_cancellable_disconnect (job->run_cancellable, job->cancel_handler);
  g_clear_object (&job->run_cancellable);
  g_clear_object (&job->cancellable);
  g_clear_object (&job->engine);
  g_free (job);
}

static void job_dedupe (Job *job);
static void job_continue (Job *job);
static gboolean claim_live_partner (Job *job);
static void start_pair_check (Job *job);
static EiderWatch *find_watch (EiderEngine *self,
                               gint64       watch_id);
static void handle_move (EiderEngine *self,
                         gint64       watch_id,
                         const char  *from,
                         const char  *to);
static void remove_path (EiderEngine *self,
                         const char  *path);
static void remove_record (EiderEngine     *self,
                           EiderFileRecord *record);
void _eider_engine_release_claims (EiderEngine *self,
                                   gint64       file_id,
                                   gboolean     settled);

/* Ente's dedupe key (type, hash, title) is held by the one file that sends
 * those bytes, for as long as it may still send them: from its dedupe
 * step until it is recorded or skipped, or no upload of those bytes is
 * left in the store — through failures, back-off, pauses and requeues.
 * Every other file with the key waits, parked (it takes no job slot), and
 * then dedupes again against what the owner became. */
typedef struct
{
  gint64     owner;        /* the file record that sends the bytes */
  char      *owner_path;
  char      *hash;
  GPtrArray *waiting;      /* parked Jobs */
} Claim;

static void
claim_free (Claim *claim)
{
  g_free (claim->owner_path);
  g_free (claim->hash);
  g_ptr_array_unref (claim->waiting);
  g_free (claim);
}

/* A claim for the job's key: the job's own, unless another file began an
 * upload of the same bytes (in an earlier run, or before a crash) — that
 * one goes first: it may have sent them already. */
static Claim *
claim_key (EiderEngine *self,
           Job         *job)
{
  g_autoptr(GPtrArray) uploading = NULL;
  g_autoptr(GError) error = NULL;
  Claim *claim = g_new0 (Claim, 1);

  claim->owner = job->record->id;
  claim->owner_path = g_strdup (job->record->path);
  claim->hash = g_strdup (job->hash);
  claim->waiting = g_ptr_array_new ();

  uploading = eider_store_list_uploading_files (self->store, job->hash, &error);
  if (uploading == NULL)
    log_store_error (error);
  for (guint i = 0; uploading != NULL && i < uploading->len; i++)
    {
      EiderFileRecord *other = g_ptr_array_index (uploading, i);
      g_autofree char *title = g_filename_display_basename (other->path);

      if (other->id == job->record->id || (job->partner != NULL && other->id == job->partner->id) ||
          other->state == EIDER_FILE_UPLOADED || other->state == EIDER_FILE_SKIPPED ||
          other->file_type != job->file_type || !g_str_equal (title, job->title))
        continue;

      claim->owner = other->id;
      g_free (claim->owner_path);
      claim->owner_path = g_strdup (other->path);
      break;
    }

  g_hash_table_insert (self->busy_keys, g_strdup (job->dedupe_key), claim);

  return claim;
}

/* The job waits for the claim's owner without a slot. */
static void
park_job (Job   *job,
          Claim *claim)
{
  EiderEngine *self = job->engine;

  g_debug ("%s: waits for %s", job->record->path, claim->owner_path);
  g_ptr_array_add (claim->waiting, job);
  self->n_jobs--;
  self->n_parked++;
  pump (self);
  update_busy (self);
}

/* Whether @file_id may still send the claim's bytes: an upload of them is
 * in the store. */
static gboolean
claim_stands (EiderEngine *self,
              Claim       *claim)
{
  g_autoptr(EiderUploadRecord) upload = eider_store_get_upload (self->store, claim->owner);

  return upload != NULL && upload->replaces_id == 0 && g_strcmp0 (upload->hash, claim->hash) == 0;
}

/* After the file @file_id's job (or its removal): its claims that no
 * longer stand — @settled (it is in Ente, skipped or gone), or no upload
 * of the bytes is left — let their waiters go on. Each dedupes again,
 * against what the owner became; one may become the owner. */
void
_eider_engine_release_claims (EiderEngine *self,
                              gint64       file_id,
                              gboolean     settled)
{
  g_autoptr(GPtrArray) released = g_ptr_array_new_with_free_func ((GDestroyNotify) claim_free);
  GHashTableIter iter;
  gpointer value;

  if (self->busy_keys == NULL)
    return;

  g_hash_table_iter_init (&iter, self->busy_keys);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Claim *claim = value;

      if (claim->owner != file_id || (!settled && claim_stands (self, claim)))
        continue;
      g_hash_table_iter_steal (&iter);
      g_ptr_array_add (released, claim);
    }

  for (guint i = 0; i < released->len; i++)
    {
      Claim *claim = g_ptr_array_index (released, i);

      for (guint j = 0; j < claim->waiting->len; j++)
        {
          Job *job = g_ptr_array_index (claim->waiting, j);

          self->n_parked--;
          self->n_jobs++;
          job_dedupe (job);
        }
      g_ptr_array_set_size (claim->waiting, 0);
    }
}

/* What the video of a live photo says about itself. */
static char *
live_partner_reason (Job            *job,
                     EiderFileState  state,
                     const char     *reason)
{
  g_autofree char *image = NULL;

  if (state != EIDER_FILE_UPLOADED)
    return g_strdup (reason);

  image = g_filename_display_basename (job->record->path);

  return g_strdup_printf ("part of the live photo %s", image);
}

static void
job_done (Job             *job,
          EiderFileState   state,
          const char      *reason)
{
  EiderEngine *self = job->engine;
  gint64 file_id = job->record->id;
  g_autofree char *partner_reason = NULL;

  g_signal_emit (self, signals[FILE_FINISHED], 0, file_id, job->record->path, (int) state,
                 reason, job->stat.size);
  if (job->partner != NULL)
    {
      partner_reason = live_partner_reason (job, state, reason);
      g_signal_emit (self, signals[FILE_FINISHED], 0, job->partner->id, job->partner->path,
                     (int) state, partner_reason, job->partner_stat.size);
    }

  /* A moved file is at its new place now: its old place can go. */
  if (state == EIDER_FILE_UPLOADED || state == EIDER_FILE_SKIPPED)
    {
      const char *paths[] = { job->record->path, job->partner != NULL ? job->partner->path : NULL };

      for (guint i = 0; i < G_N_ELEMENTS (paths) && paths[i] != NULL; i++)
        {
          g_autofree char *new_path = NULL;
          g_autofree char *old_path = NULL;

          if (g_hash_table_steal_extended (self->moves, paths[i], (gpointer *) &new_path,
                                           (gpointer *) &old_path))
            remove_path (self, old_path);
        }
    }

  _eider_engine_release_claims (self, file_id,
                                state == EIDER_FILE_UPLOADED || state == EIDER_FILE_SKIPPED);
  g_hash_table_remove (self->busy_files, &file_id);
  if (job->partner != NULL)
    g_hash_table_remove (self->busy_files, &job->partner->id);
  self->n_jobs--;
  job_free (job);
  pump (self);
  update_busy (self);
}

static gint64
retry_delay_us (EiderEngine *self,
                gint         attempts)
{
  guint64 delay = (guint64) self->retry_base_ms << MIN (attempts, 16);

  delay = MIN (delay, MAX_RETRY_DELAY_MS);
  /* ±25 % jitter, so retries of many files do not arrive together. */
  delay = delay * g_random_int_range (75, 126) / 100;

  return (gint64) delay * 1000;
}

static void
job_fail (Job        *job,
          const char *reason)
{
  EiderEngine *self = job->engine;
  g_autoptr(GError) error = NULL;
  gint64 next = g_get_real_time () + retry_delay_us (self, job->record->attempts);
  gint64 file_id = job->record->id;
  guint run_attempts = GPOINTER_TO_UINT (g_hash_table_lookup (self->run_attempts, &file_id));

  g_hash_table_insert (self->run_attempts, g_memdup2 (&file_id, sizeof file_id),
                       GUINT_TO_POINTER (run_attempts + 1));
  if (!eider_store_set_file_failed (self->store, file_id, reason, next, &error))
    log_store_error (error);
  if (job->partner != NULL)
    {
      /* The two halves are retried together: the same count, the same time. */
      g_hash_table_insert (self->run_attempts, g_memdup2 (&job->partner->id, sizeof (gint64)),
                           GUINT_TO_POINTER (run_attempts + 1));
      g_clear_error (&error);
      if (!eider_store_set_file_failed (self->store, job->partner->id, reason, next, &error))
        log_store_error (error);
    }
  job_done (job, EIDER_FILE_FAILED, reason);
}

static void
job_skip (Job        *job,
          const char *reason)
{
  g_autoptr(GError) error = NULL;

  eider_store_delete_upload (job->engine->store, job->record->id, NULL);
  if (!eider_store_set_file_state (job->engine->store, job->record->id, EIDER_FILE_SKIPPED,
                                   reason, &error))
    log_store_error (error);
  if (job->partner != NULL)
    {
      g_clear_error (&error);
      if (!eider_store_set_file_state (job->engine->store, job->partner->id, EIDER_FILE_SKIPPED,
                                       reason, &error))
        log_store_error (error);
    }
  if (job->zip_path != NULL)
    g_unlink (job->zip_path);
  job_done (job, EIDER_FILE_SKIPPED, reason);
}

/* Back to pending, untouched: the engine stopped or paused under it. */
static void
job_requeue (Job *job)
{
  g_autoptr(GError) error = NULL;

  if (!eider_store_set_file_state (job->engine->store, job->record->id, EIDER_FILE_PENDING,
                                   NULL, &error))
    log_store_error (error);
  if (job->partner != NULL)
    {
      g_clear_error (&error);
      if (!eider_store_set_file_state (job->engine->store, job->partner->id, EIDER_FILE_PENDING,
                                       NULL, &error))
        log_store_error (error);
    }
  job_done (job, EIDER_FILE_PENDING, NULL);
}

static void
job_uploaded (Job        *job,
              gint64      remote_file_id,
              const char *reason)
{
  EiderEngine *self = job->engine;
  g_autoptr(GError) error = NULL;
  g_autofree char *partner_reason = NULL;

  /* Both halves of a live photo stand for the one Ente file. */
  if (job->partner != NULL)
    partner_reason = live_partner_reason (job, EIDER_FILE_UPLOADED, reason);

  if (!eider_store_begin (self->store, &error))
    log_store_error (error);
  else if (!eider_store_set_file_uploaded (self->store, job->record->id, remote_file_id,
                                           job->collection_id, &error) ||
           (reason != NULL &&
            !eider_store_set_file_state (self->store, job->record->id, EIDER_FILE_UPLOADED,
                                         reason, &error)) ||
           !eider_store_delete_upload (self->store, job->record->id, &error) ||
           (job->partner != NULL &&
            (!eider_store_set_file_uploaded (self->store, job->partner->id, remote_file_id,
                                             job->collection_id, &error) ||
             !eider_store_set_file_state (self->store, job->partner->id, EIDER_FILE_UPLOADED,
                                          partner_reason, &error) ||
             !eider_store_delete_upload (self->store, job->partner->id, &error))) ||
           !eider_store_commit (self->store, &error))
    {
      eider_store_rollback (self->store);
      log_store_error (error);
    }

  /* Recorded: the zip is not needed any more. */
  if (job->zip_path != NULL)
    g_unlink (job->zip_path);

  job_done (job, EIDER_FILE_UPLOADED, reason);
}

/* One place decides what an error means for the file and for the run. */
static void
job_error (Job    *job,
           GError *error)
{
  EiderEngine *self = job->engine;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* Stopped: the file keeps its last persisted state. */
      job_done (job, EIDER_FILE_WORKING, NULL);
      return;
    }

  if (error->domain == EIDER_API_ERROR)
    {
      switch (error->code)
        {
        case EIDER_API_ERROR_UNAUTHORIZED:
          set_pause_reason (self, "The Ente session has ended: log in again");
          job_requeue (job);
          return;

        case EIDER_API_ERROR_STORAGE_FULL:
          set_pause_reason (self, "Your Ente storage is full: free up space or upgrade your plan");
          job_requeue (job);
          return;

        case EIDER_API_ERROR_PAYMENT_REQUIRED:
          set_pause_reason (self, "Your Ente subscription has expired");
          job_requeue (job);
          return;

        case EIDER_API_ERROR_TOO_LARGE:
          job_skip (job, "too large (Ente stores files under 10 GiB)");
          return;

        default:
          break;
        }
    }

  if (error->domain == EIDER_UPLOAD_ERROR)
    {
      switch (error->code)
        {
        case EIDER_UPLOAD_ERROR_EMPTY:
          job_skip (job, "empty file");
          return;

        case EIDER_UPLOAD_ERROR_TOO_LARGE:
          job_skip (job, "too large (Ente stores files under 10 GiB)");
          return;

        case EIDER_UPLOAD_ERROR_NOT_REGULAR:
          job_skip (job, "not a regular file");
          return;

        case EIDER_UPLOAD_ERROR_CHANGED:
          /* Not recorded against the old content: the next attempt reads
           * the new one. */
          eider_store_delete_upload (self->store, job->record->id, NULL);
          job_fail (job, "changed while being uploaded; will try again");
          return;

        default:
          break;
        }
    }

  job_fail (job, error->message);
}

/* Step 5: upload and register */

static void
upload_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  Job *job = user_data;
  EiderEngine *self = job->engine;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  gint64 remote_id;

  node = eider_uploader_upload_finish (EIDER_UPLOADER (object), result, &error);
  g_debug ("%s: uploaded (%s)", job->record->path, error != NULL ? error->message : "ok");
  if (node == NULL)
    {
      job_error (job, error);
      return;
    }

  remote_id = JSON_NODE_HOLDS_OBJECT (node)
              ? json_object_get_int_member_with_default (json_node_get_object (node), "id", 0) : 0;
  if (remote_id <= 0)
    {
      job_fail (job, "The server's answer to the upload has no file id");
      return;
    }

  if (job->replace != NULL)
    {
      EiderRemoteFileRecord *entry = job->replace;

      /* The same Ente file, in all its albums, with the new content. */
      g_free (entry->hash);
      entry->hash = g_strdup (job->upload->hash);
      g_free (entry->file_header);
      entry->file_header = g_strdup (job->upload->file_header);
      entry->file_size = job->upload->encrypted_size;
      entry->updation_time = json_object_get_int_member_with_default (json_node_get_object (node),
                                                                      "updationTime", 0);
      if (!eider_store_update_remote_file (self->store, entry, &error))
        g_warning ("Could not note a replaced file in the index: %s", error->message);
      job_uploaded (job, entry->id, "replaced the earlier version in Ente");
      return;
    }

  if (!eider_remote_note_uploaded (self->remote, job->collection_id, node, job->title,
                                   job->file_type,
                                   job->upload->hash,
                                   job->creation_time != 0 ? job->creation_time
                                                           : job->stat.mtime_ns / 1000,
                                   &error))
    g_warning ("Could not add an uploaded file to the index: %s", error->message);

  job_uploaded (job, remote_id, NULL);
}

static void
job_upload (Job *job)
{
  EiderEngine *self = job->engine;

  /* A live photo's body is its zip. */
  eider_uploader_upload_async (self->uploader, job->upload,
                               job->paired ? job->zip_path : job->record->path, job->content,
                               job->collection_key, job->cancellable, upload_cb, job);
}

/* Step 4: metadata and thumbnail (worker) */

/* Ente's modificationTime: the mtime in whole milliseconds, × 1000. */
static gint64
mtime_ms_us (const EiderStat *stat)
{
  return stat->mtime_ns / 1000000 * 1000;
}

static void
blobs_worker (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  Job *job = task_data;
  g_auto(EiderMediaMetadata) md = { 0 };
  g_autoptr(GBytes) thumbnail = NULL;
  g_autofree char *json = NULL;
  g_autofree char *pubmm = NULL;
  guint pubmm_count = 0;
  GError *error = NULL;

  /* Dates, place, camera and a thumbnail, as Ente's apps read them; a
   * live photo's come from its image (read already to pair it). */
  if (job->paired && job->live_md != NULL)
    {
      md = *job->live_md;
      g_clear_pointer (&job->live_md, g_free);
      thumbnail = g_steal_pointer (&job->live_thumb);
    }
  else if (!eider_media_describe (job->record->path, job->paired ? NULL : job->content,
                                  job->file_type, mtime_ms_us (&job->stat), &md, &thumbnail,
                                  cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  md.file_type = job->file_type;
  md.title = g_strdup (job->title);
  md.hash = g_strdup (job->hash);
  job->placeholder = md.has_static_thumbnail;
  job->creation_time = md.creation_time;
  json = eider_media_metadata_to_json (&md);
  /* New content of an Ente file leaves its public metadata alone (the
   * update endpoint does not take it, and the user may have edited it). */
  if (job->replace == NULL)
    pubmm = eider_media_public_magic_to_json (&md, &pubmm_count);

  if (!eider_upload_record_set_blobs (job->upload, job->collection_key, json, pubmm, pubmm_count,
                                      thumbnail, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
blobs_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  Job *job = user_data;
  g_autoptr(GError) error = NULL;

  g_debug ("%s: thumbnail and metadata ready", job->record->path);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      job_error (job, error);
      return;
    }

  /* Persist everything needed to resume before any byte is sent. */
  if (!eider_store_save_upload (job->engine->store, job->upload, &error))
    {
      job_fail (job, error->message);
      return;
    }

  job_upload (job);
}

/* What to say of a file found in Ente at its new local place: a rename or
 * a move made here (then nothing was sent), or @otherwise. */
static const char *
moved_reason (EiderEngine *self,
              const char  *path,
              const char  *otherwise)
{
  const char *from = g_hash_table_lookup (self->moves, path);
  g_autofree char *old_name = NULL;
  g_autofree char *new_name = NULL;

  if (from == NULL)
    return otherwise;

  old_name = g_path_get_basename (from);
  new_name = g_path_get_basename (path);

  return g_str_equal (old_name, new_name) ? "moved; nothing sent" : "renamed in Ente; nothing sent";
}

/* Step 3: Ente's dedupe (title + type + hash), on the main thread */

static void
add_files_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Job *job = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) dups = NULL;
  EiderRemoteFileRecord *dup;

  if (!eider_remote_add_files_finish (EIDER_REMOTE (object), result, &error))
    {
      job_error (job, error);
      return;
    }

  dups = eider_remote_find_duplicates (job->engine->remote, job->title, job->file_type, job->hash);
  dup = dups->len > 0 ? g_ptr_array_index (dups, 0) : NULL;
  job_uploaded (job, dup != NULL ? dup->id : 0,
                moved_reason (job->engine, job->record->path, "already in Ente; added to this album"));
}

/* Ente's dedupe key of the job's content, once its hash is known. */
static void
job_dedupe_key (Job *job)
{
  g_free (job->dedupe_key);
  job->dedupe_key = g_strdup_printf ("%d|%s|%s", job->file_type, job->hash, job->title);
}

/* An upload planned before (an interrupted one, whose plan is in
 * job->upload): new content for an Ente file goes on at once; a new file
 * goes through the dedupe again first — the same bytes may have reached
 * Ente from another file meanwhile, or be on their way from it. */
static void
job_resume (Job *job)
{
  if (job->replace != NULL)
    {
      job_upload (job);
      return;
    }

  job->resuming = TRUE;
  job_dedupe_key (job);
  job_dedupe (job);
}

static void
job_describe (Job *job)
{
  g_autoptr(GTask) task = g_task_new (NULL, job->cancellable, blobs_cb, job);

  g_task_set_task_data (task, job, NULL);
  g_task_run_in_thread (task, blobs_worker);
}

static void
job_dedupe (Job *job)
{
  EiderEngine *self = job->engine;
  g_autoptr(GPtrArray) dups = NULL;
  g_autoptr(GPtrArray) link = NULL;
  Claim *claim;

  dups = eider_remote_find_duplicates (self->remote, job->title, job->file_type, job->hash);
  for (guint i = 0; i < dups->len; i++)
    {
      EiderRemoteFileRecord *dup = g_ptr_array_index (dups, i);

      if (dup->collection_id == job->collection_id)
        {
          job_uploaded (job, dup->id, moved_reason (self, job->record->path, "already in Ente"));
          return;
        }
    }

  if (dups->len > 0)
    {
      link = g_ptr_array_new ();
      g_ptr_array_add (link, g_ptr_array_index (dups, 0));
      eider_remote_add_files_async (self->remote, job->collection_id, link, job->cancellable,
                                    add_files_cb, job);
      return;
    }

  /* Not in Ente yet. The same content may be on its way from another file
   * (the same photo in two folders), now or in a job that failed and waits
   * for its retry: wait for it, then dedupe against what it became. Only
   * the key's owner ever sends the bytes. */
  claim = g_hash_table_lookup (self->busy_keys, job->dedupe_key);
  if (claim == NULL)
    claim = claim_key (self, job);
  if (claim->owner != job->record->id)
    {
      park_job (job, claim);
      return;
    }

  if (job->resuming)
    job_upload (job);
  else
    job_describe (job);
}

/* Step 2: classify, hash and plan the encryption (worker) */

typedef enum
{
  PREPARE_OK,
  PREPARE_NOT_MEDIA,
} PrepareResult;

static gboolean
same_half (const struct stat *st,
           const EiderStat   *expected)
{
  return (gint64) st->st_size == expected->size &&
         (gint64) st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec == expected->mtime_ns &&
         (guint64) st->st_ino == expected->inode && (guint64) st->st_dev == expected->dev;
}

static void
set_half_changed (const char  *path,
                  GError     **error)
{
  g_autofree char *name = g_filename_display_name (path);

  g_set_error (error, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_CHANGED,
               "“%s” changed while reading", name);
}

/* BLAKE2b of one half of a live photo, which must still be what the job
 * saw when it started. (worker) */
static char *
hash_half (const char       *path,
           const EiderStat  *expected,
           GCancellable     *cancellable,
           GError          **error)
{
  g_autoptr(GInputStream) in = NULL;
  g_autofree char *hash = NULL;
  struct stat st;
  int fd;

  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    {
      set_half_changed (path, error);
      return NULL;
    }
  in = g_unix_input_stream_new (fd, TRUE);
  if (fstat (fd, &st) != 0 || !same_half (&st, expected))
    {
      set_half_changed (path, error);
      return NULL;
    }

  hash = eider_hash_stream_base64 (in, cancellable, error);
  if (hash == NULL)
    return NULL;

  if (fstat (fd, &st) != 0 || !same_half (&st, expected))
    {
      set_half_changed (path, error);
      return NULL;
    }

  return g_steal_pointer (&hash);
}

/* Packs the pair into the job's zip (deterministic: the same halves give
 * the same bytes) and returns Ente's hash of a live photo,
 * "<image hash>:<video hash>" of the two original files. (worker) */
static char *
pack_live_photo (Job           *job,
                 EiderStat     *zip_stat,
                 GCancellable  *cancellable,
                 GError       **error)
{
  g_autofree char *dir = g_path_get_dirname (job->zip_path);
  g_autofree char *image_hash = NULL;
  g_autofree char *video_hash = NULL;
  struct stat st;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Could not make a folder for live photos: %s", g_strerror (errsv));
      return NULL;
    }

  if (!eider_live_photo_pack (job->record->path, job->partner->path, job->zip_path, error))
    return NULL;

  image_hash = hash_half (job->record->path, &job->stat, cancellable, error);
  if (image_hash == NULL)
    return NULL;
  video_hash = hash_half (job->partner->path, &job->partner_stat, cancellable, error);
  if (video_hash == NULL)
    return NULL;

  if (stat (job->zip_path, &st) != 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Could not read a live photo's zip: %s", g_strerror (errsv));
      return NULL;
    }
  zip_stat->dev = st.st_dev;
  zip_stat->inode = st.st_ino;
  zip_stat->size = st.st_size;
  zip_stat->mtime_ns = (gint64) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
  zip_stat->ctime_ns = (gint64) st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;

  return g_strconcat (image_hash, ":", video_hash, NULL);
}

/* The zip encrypted like any file body, with the pair's hash. (worker) */
static gboolean
prepare_live_photo (Job           *job,
                    GCancellable  *cancellable,
                    GError       **error)
{
  g_autofree char *joint = NULL;
  g_autofree char *zip_hash = NULL;
  EiderStat zip_stat;

  joint = pack_live_photo (job, &zip_stat, cancellable, error);
  if (joint == NULL)
    return FALSE;

  if (!eider_upload_prepare_replacement (job->zip_path, &zip_stat, job->record->id,
                                         job->replace != NULL ? job->replace->id : 0,
                                         job->collection_id, job->collection_key, job->file_key,
                                         &job->upload, &zip_hash, &job->content,
                                         NULL, NULL, cancellable, error))
    return FALSE;

  g_free (job->upload->hash);
  job->upload->hash = g_strdup (joint);
  job->hash = g_steal_pointer (&joint);
  job->file_type = EIDER_FILE_TYPE_LIVE_PHOTO;

  return TRUE;
}

static void
prepare_worker (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  Job *job = task_data;
  guint8 head[EIDER_MEDIA_SNIFF_BYTES];
  gssize n;
  int fd;
  GError *error = NULL;

  if (job->paired)
    {
      if (!prepare_live_photo (job, cancellable, &error))
        g_task_return_error (task, error);
      else
        g_task_return_int (task, PREPARE_OK);
      return;
    }

  fd = open (job->record->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    {
      int errsv = errno;

      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (errsv),
                               "Could not read the file: %s", g_strerror (errsv));
      return;
    }
  n = read (fd, head, sizeof head);
  close (fd);
  if (n < 0)
    {
      int errsv = errno;

      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (errsv),
                               "Could not read the file: %s", g_strerror (errsv));
      return;
    }

  job->file_type = eider_media_classify (head, n, job->record->path);
  if (job->file_type == EIDER_FILE_TYPE_UNKNOWN)
    {
      g_task_return_int (task, PREPARE_NOT_MEDIA);
      return;
    }

  if (!eider_upload_prepare_replacement (job->record->path, &job->stat, job->record->id,
                                         job->replace != NULL ? job->replace->id : 0,
                                         job->collection_id, job->collection_key, job->file_key,
                                         &job->upload, &job->hash, &job->content,
                                         NULL, NULL, cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  g_task_return_int (task, PREPARE_OK);
}

static void
prepare_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Job *job = user_data;
  EiderEngine *self = job->engine;
  g_autoptr(GError) error = NULL;
  gssize outcome;

  outcome = g_task_propagate_int (G_TASK (result), &error);
  g_debug ("%s: prepared (%d)", job->record->path, (int) outcome);
  if (error != NULL)
    {
      job_error (job, error);
      return;
    }

  if (outcome == PREPARE_NOT_MEDIA)
    {
      job_skip (job, "not a photo or video");
      return;
    }

  if (!eider_store_set_file_hash (self->store, job->record->id, job->hash, job->file_type, &error))
    log_store_error (error);
  g_clear_error (&error);
  if (job->paired &&
      !eider_store_set_file_hash (self->store, job->partner->id, job->hash, job->file_type, &error))
    log_store_error (error);

  if (job->replace != NULL)
    {
      /* Touched but not changed: Ente has this content already. */
      if (g_strcmp0 (job->replace->hash, job->hash) == 0)
        {
          job_uploaded (job, job->replace->id, NULL);
          return;
        }
      /* Edited: new content for the same Ente file (no dedupe: it is
       * that file, whatever else holds the same bytes). */
      job_describe (job);
      return;
    }

  /* Any album: the same content in flight for another album is waited for
   * too, so it is linked with add-files instead of uploaded twice. */
  job_dedupe_key (job);
  job_dedupe (job);
}

/* Step 1: the album and its key */

/* A file backed up before whose content may have changed: by default its
 * Ente file gets the new content in place, as Ente's mobile app does
 * (albums, name and shares kept); a folder may keep both instead. */
static void
find_replaced (Job *job)
{
  EiderEngine *self = job->engine;
  g_autoptr(EiderWatch) watch = NULL;
  g_autoptr(EiderRemoteFileRecord) entry = NULL;
  g_autoptr(GError) error = NULL;
  EiderFileRecord *halves[] = { job->record, job->paired ? job->partner : NULL };

  watch = find_watch (self, job->record->watch_id);
  if (watch == NULL || watch->keep_edits)
    return;

  /* The same Ente file also stands for another local file (the same photo
   * in two folders, linked by the dedupe): replacing it would lose that
   * one's content. The edit becomes a file of its own. */
  if (eider_store_remote_file_in_use (self->store, job->record->remote_file_id, 0,
                                      job->record->id))
    return;

  /* A live photo replaces the live photo either half was part of; a
   * single file never replaces a live photo (nor a live photo a single
   * file): that one stays, and the new content is a new Ente file. */
  for (guint i = 0; i < G_N_ELEMENTS (halves) && entry == NULL; i++)
    {
      EiderFileRecord *half = halves[i];

      if (half == NULL || half->remote_file_id <= 0)
        continue;

      /* Gone from Ente (deleted there): it is backed up as a new file. */
      entry = eider_store_get_remote_file (self->store, half->remote_file_id, half->collection_id);
      if (entry == NULL)
        entry = eider_store_get_remote_file (self->store, half->remote_file_id, 0);
      if (entry != NULL && (entry->file_type == EIDER_FILE_TYPE_LIVE_PHOTO) != job->paired)
        g_clear_pointer (&entry, eider_remote_file_record_free);
    }
  if (entry == NULL)
    return;

  job->file_key = eider_remote_get_file_key (self->remote, entry->id, entry->collection_id, &error);
  if (job->file_key == NULL)
    {
      g_message ("%s is uploaded as a new file: %s", job->record->path, error->message);
      return;
    }

  job->replace = g_steal_pointer (&entry);
}

static void
album_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  Job *job = user_data;
  EiderEngine *self = job->engine;
  g_autoptr(GError) error = NULL;
  g_autoptr(GTask) task = NULL;

  job->collection_id = eider_remote_ensure_album_finish (EIDER_REMOTE (object), result, &error);
  g_debug ("%s: album %" G_GINT64_FORMAT, job->record->path, job->collection_id);
  if (job->collection_id == 0)
    {
      job_error (job, error);
      return;
    }

  job->collection_key = eider_remote_get_collection_key (self->remote, job->collection_id, &error);
  if (job->collection_key == NULL)
    {
      job_fail (job, error->message);
      return;
    }

  find_replaced (job);

  task = g_task_new (NULL, job->cancellable, prepare_cb, job);
  g_task_set_task_data (task, job, NULL);
  g_task_run_in_thread (task, prepare_worker);
}

static gboolean
same_stat (const EiderStat *a,
           const EiderStat *b)
{
  return a->dev == b->dev && a->inode == b->inode && a->size == b->size &&
         a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

static void
cancel_job_cb (GCancellable *run_cancellable,
               gpointer      job_cancellable)
{
  g_cancellable_cancel (job_cancellable);
}

/* Live photos (spec/ente-upload.md §7.1): an image and a video of one
 * folder whose names pair, each at most 20 MiB, captured less than a day
 * apart, are one Ente file. The other half is found through the store (the
 * folder's records whose names start with the same stem), whichever half
 * the engine picks up first. */

static void
swap_halves (Job *job)
{
  EiderFileRecord *record = job->record;
  EiderStat stat = job->stat;

  job->record = job->partner;
  job->stat = job->partner_stat;
  job->partner = record;
  job->partner_stat = stat;
  job->swapped = !job->swapped;
  /* A live photo is named after its image. */
  g_free (job->title);
  job->title = g_filename_display_basename (job->record->path);
}

/* What every name that could pair with @name starts with, in its folder:
 * the stem without a trailing "_3", "_HVEC" or ".<ext>" (taking off more
 * than Ente does only widens the search). NULL without an extension. */
static char *
live_photo_name_prefix (const char *name)
{
  const char *dot = strrchr (name, '.');
  char *stem;
  char *inner;
  gsize len;

  if (dot == NULL || dot == name)
    return NULL;

  stem = g_strndup (name, dot - name);
  len = strlen (stem);
  if (g_str_has_suffix (stem, "_3"))
    stem[len - 2] = '\0';
  else if (g_str_has_suffix (stem, "_HVEC") || g_str_has_suffix (stem, "_hvec"))
    stem[len - 5] = '\0';
  else if ((inner = strrchr (stem, '.')) != NULL && inner != stem)
    *inner = '\0';

  if (stem[0] == '\0')
    g_clear_pointer (&stem, g_free);

  return stem;
}

/* Whether @other may be the other half of @record's live photo now. */
static gboolean
live_partner_usable (EiderEngine     *self,
                     EiderFileRecord *record,
                     EiderFileRecord *other)
{
  guint tries;

  if (other->watch_id != record->watch_id ||
      g_strcmp0 (other->album_name, record->album_name) != 0 ||
      g_hash_table_contains (self->busy_files, &other->id) ||
      g_hash_table_contains (self->held, other->path))
    return FALSE;

  switch (other->state)
    {
    case EIDER_FILE_PENDING:
    case EIDER_FILE_WORKING:
      return TRUE;

    case EIDER_FILE_FAILED:
      tries = GPOINTER_TO_UINT (g_hash_table_lookup (self->run_attempts, &other->id));
      return self->continuous || tries < self->max_attempts;

    case EIDER_FILE_UPLOADED:
      /* The unchanged half of a live photo whose other half was edited;
       * never a file uploaded on its own. */
      return other->file_type == EIDER_FILE_TYPE_LIVE_PHOTO && other->remote_file_id > 0 &&
             other->remote_file_id == record->remote_file_id;

    case EIDER_FILE_SKIPPED:
    default:
      return FALSE;
    }
}

/* Finds and reserves the other half of the job's file, cheaply: names,
 * states and stat() only. The dates are read by pair_worker. */
static gboolean
claim_live_partner (Job *job)
{
  EiderEngine *self = job->engine;
  EiderFileRecord *record = job->record;
  g_autofree char *dir = g_path_get_dirname (record->path);
  g_autofree char *name = g_path_get_basename (record->path);
  g_autofree char *prefix = live_photo_name_prefix (name);
  g_autofree char *state_dir = NULL;
  g_autoptr(GPtrArray) candidates = NULL;
  g_autoptr(GError) error = NULL;
  gboolean record_is_image = FALSE;

  if (prefix == NULL || job->stat.size > EIDER_LIVE_PHOTO_MAX_ASSET_SIZE)
    return FALSE;

  candidates = eider_store_list_files_in_dir (self->store, dir, prefix, &error);
  if (candidates == NULL)
    {
      log_store_error (error);
      return FALSE;
    }

  for (guint i = 0; i < candidates->len && job->partner == NULL; i++)
    {
      EiderFileRecord *other = g_ptr_array_index (candidates, i);
      g_autofree char *other_name = NULL;
      EiderStat now;
      struct stat st;

      if (other->id == record->id)
        continue;

      other_name = g_path_get_basename (other->path);
      if (eider_media_live_photo_names_pair (name, other_name))
        record_is_image = TRUE;
      else if (eider_media_live_photo_names_pair (other_name, name))
        record_is_image = FALSE;
      else
        continue;

      if (!live_partner_usable (self, record, other) ||
          lstat (other->path, &st) != 0 || !S_ISREG (st.st_mode) ||
          st.st_size > EIDER_LIVE_PHOTO_MAX_ASSET_SIZE)
        continue;

      now.dev = st.st_dev;
      now.inode = st.st_ino;
      now.size = st.st_size;
      now.mtime_ns = (gint64) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
      now.ctime_ns = (gint64) st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
      if (!same_stat (&now, &other->stat))
        {
          gboolean changed = FALSE;

          /* Edited since the scan: its new content is what pairs. */
          if (eider_store_note_file (self->store, other->watch_id, other->path, other->album_name,
                                     &now, &changed, NULL) <= 0)
            continue;
          eider_store_delete_upload (self->store, other->id, NULL);
          other->stat = now;
          other->state = EIDER_FILE_PENDING;
          other->file_type = EIDER_FILE_TYPE_UNKNOWN;
          g_clear_pointer (&other->hash, g_free);
        }

      job->partner = g_ptr_array_steal_index (candidates, i);
      job->partner_stat = now;
    }

  if (job->partner == NULL)
    return FALSE;

  g_hash_table_insert (self->busy_files, g_memdup2 (&job->partner->id, sizeof (gint64)), job);
  if (!record_is_image)
    swap_halves (job);

  /* The zip lives with the engine's state, named after the image's record. */
  state_dir = g_path_get_dirname (eider_store_get_path (self->store));
  job->zip_path = g_strdup_printf ("%s" G_DIR_SEPARATOR_S "live-photos" G_DIR_SEPARATOR_S
                                   "%" G_GINT64_FORMAT ".zip", state_dir, job->record->id);

  return TRUE;
}

/* The pairing did not hold: the other half gets its own job later. */
static void
release_partner (Job *job)
{
  EiderEngine *self = job->engine;

  if (job->swapped)
    swap_halves (job);
  g_hash_table_remove (self->busy_files, &job->partner->id);
  g_clear_pointer (&job->partner, eider_file_record_free);
  g_clear_pointer (&job->zip_path, g_free);
  g_clear_pointer (&job->resume, eider_upload_record_free);
  g_clear_pointer (&job->live_md, live_md_free);
  g_clear_pointer (&job->live_thumb, g_bytes_unref);
  job->paired = FALSE;
}

/* Both halves are at work from now on. */
static void
confirm_pair (Job *job)
{
  EiderEngine *self = job->engine;
  EiderFileRecord *other = job->swapped ? job->record : job->partner;
  gint64 size = job->swapped ? job->stat.size : job->partner_stat.size;
  g_autoptr(GError) error = NULL;

  job->paired = TRUE;
  if (!eider_store_set_file_state (self->store, other->id, EIDER_FILE_WORKING, NULL, &error))
    log_store_error (error);
  g_signal_emit (self, signals[FILE_STARTED], 0, other->id, other->path, size);

  /* An upload of the video on its own is not what goes to Ente now. */
  eider_store_delete_upload (self->store, job->partner->id, NULL);
}

static EiderFileType
classify_file (const char *path)
{
  guint8 head[EIDER_MEDIA_SNIFF_BYTES];
  gssize n;
  int fd;

  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    return EIDER_FILE_TYPE_UNKNOWN;
  n = read (fd, head, sizeof head);
  close (fd);
  if (n < 0)
    return EIDER_FILE_TYPE_UNKNOWN;

  return eider_media_classify (head, n, path);
}

typedef enum
{
  PAIR_NO,
  PAIR_YES,
  PAIR_RESUME,
} PairResult;

/* Ente's test on what the two files hold (worker): an image and a video by
 * content, whose capture dates — the Takeout sidecar's, else the image's
 * Exif and the video's container time, never the modification time — are
 * less than a day apart; or, without both dates, exactly one with a
 * sidecar (Takeout has none for the video). An interrupted upload of the
 * pair is checked first: the zip packed again must be the same bytes. */
static void
pair_worker (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  Job *job = task_data;
  const char *image = job->record->path;
  const char *video = job->partner->path;
  g_auto(EiderMediaMetadata) md = { 0 };
  g_autoptr(GBytes) thumbnail = NULL;
  EiderVideoInfo info = { 0 };
  gint64 image_time = 0, video_time = 0;
  gboolean image_sidecar, video_sidecar, paired;
  GError *error = NULL;

  if (job->resume != NULL)
    {
      g_autofree char *joint = NULL;
      EiderStat zip_stat;

      joint = pack_live_photo (job, &zip_stat, cancellable, &error);
      if (joint != NULL && g_str_equal (joint, job->resume->hash) &&
          zip_stat.size == job->resume->plain_size)
        {
          struct timespec times[2] = {
            { .tv_sec = 0, .tv_nsec = UTIME_OMIT },
            { .tv_sec = job->resume->mtime_ns / 1000000000,
              .tv_nsec = job->resume->mtime_ns % 1000000000 },
          };

          /* The same bytes as before the interruption: the zip takes the
           * time the upload was planned with, so the uploader's checks
           * hold. */
          if (utimensat (AT_FDCWD, job->zip_path, times, 0) == 0)
            {
              g_task_return_int (task, PAIR_RESUME);
              return;
            }
        }
      if (error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, error);
          return;
        }
      g_clear_error (&error);
      g_clear_pointer (&job->resume, eider_upload_record_free);
      g_unlink (job->zip_path);
    }

  if (classify_file (image) != EIDER_FILE_TYPE_IMAGE ||
      classify_file (video) != EIDER_FILE_TYPE_VIDEO)
    {
      g_task_return_int (task, PAIR_NO);
      return;
    }

  image_sidecar = eider_media_sidecar_creation_time (image, &image_time);
  video_sidecar = eider_media_sidecar_creation_time (video, &video_time);

  /* The image is read once: its metadata and thumbnail are the pair's. */
  if (!eider_media_describe (image, NULL, EIDER_FILE_TYPE_LIVE_PHOTO, mtime_ms_us (&job->stat),
                             &md, &thumbnail, cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  /* pubMagicMetadata's dateTime is there only when the Exif date was used. */
  if (image_time == 0 && md.date_time != NULL)
    image_time = md.creation_time;
  if (video_time == 0 && eider_video_probe (video, VIDEO_PROBE_TIMEOUT_MS, &info, NULL))
    video_time = info.creation_time;

  if (g_task_return_error_if_cancelled (task))
    return;

  paired = eider_media_live_photo_pair (image, job->stat.size, image_time,
                                        video, job->partner_stat.size, video_time) ||
           (image_sidecar != video_sidecar &&
            eider_media_live_photo_pair (image, job->stat.size, 1,
                                         video, job->partner_stat.size, 1));
  if (!paired)
    {
      g_task_return_int (task, PAIR_NO);
      return;
    }

  job->live_md = g_new0 (EiderMediaMetadata, 1);
  *job->live_md = md;
  memset (&md, 0, sizeof md);
  job->live_thumb = g_steal_pointer (&thumbnail);
  g_task_return_int (task, PAIR_YES);
}

static void
pair_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Job *job = user_data;
  EiderEngine *self = job->engine;
  g_autoptr(GError) error = NULL;
  gssize outcome;

  outcome = g_task_propagate_int (G_TASK (result), &error);
  g_debug ("%s: live photo with %s: %d", job->record->path, job->partner->path, (int) outcome);
  if (error != NULL)
    {
      release_partner (job);
      job_error (job, error);
      return;
    }

  if (outcome == PAIR_RESUME)
    {
      confirm_pair (job);
      job->upload = g_steal_pointer (&job->resume);
      job->hash = g_strdup (job->upload->hash);
      job->file_type = EIDER_FILE_TYPE_LIVE_PHOTO;
      job_resume (job);
      return;
    }

  if (job->had_resume)
    {
      /* Not the same pair any more: everything starts again. */
      eider_store_delete_upload (self->store, job->record->id, NULL);
      g_clear_pointer (&job->collection_key, eider_secret_free);
      g_clear_pointer (&job->replace, eider_remote_file_record_free);
      job->collection_id = 0;
    }

  if (outcome == PAIR_NO)
    {
      release_partner (job);
      job_continue (job);
      return;
    }

  confirm_pair (job);
  eider_remote_ensure_album_async (self->remote, job->record->album_name, job->cancellable,
                                   album_cb, job);
}

static void
start_pair_check (Job *job)
{
  EiderEngine *self = job->engine;
  g_autoptr(EiderUploadRecord) upload = NULL;
  g_autoptr(GTask) task = NULL;

  /* An upload of this pair interrupted earlier (its hash is the pair's). */
  upload = eider_store_get_upload (self->store, job->record->id);
  if (upload != NULL && upload->hash != NULL && strchr (upload->hash, ':') != NULL &&
      upload->metadata_data != NULL)
    {
      g_autoptr(EiderSecret) key = NULL;
      g_autoptr(EiderRemoteFileRecord) replace = NULL;

      job->had_resume = TRUE;
      key = eider_remote_get_collection_key (self->remote, upload->collection_id, NULL);
      if (upload->replaces_id > 0)
        replace = eider_store_get_remote_file (self->store, upload->replaces_id, 0);
      if (key != NULL && (upload->replaces_id == 0 || replace != NULL))
        {
          job->collection_id = upload->collection_id;
          job->collection_key = g_steal_pointer (&key);
          job->replace = g_steal_pointer (&replace);
          job->resume = g_steal_pointer (&upload);
        }
    }

  task = g_task_new (NULL, job->cancellable, pair_cb, job);
  g_task_set_task_data (task, job, NULL);
  g_task_run_in_thread (task, pair_worker);
}

static void
job_start (EiderEngine     *self,
           EiderFileRecord *record)
{
  g_autoptr(GError) error = NULL;
  struct stat st;
  Job *job;

  job = g_new0 (Job, 1);
  job->engine = g_object_ref (self);
  job->record = record;
  job->title = g_filename_display_basename (record->path);
  job->cancellable = g_cancellable_new ();
  job->run_cancellable = g_object_ref (self->cancellable);
  job->cancel_handler = g_cancellable_connect (job->run_cancellable,
                                               G_CALLBACK (cancel_job_cb),
                                               job->cancellable, NULL);
  self->n_jobs++;
  g_hash_table_insert (self->busy_files, g_memdup2 (&record->id, sizeof record->id), job);

  if (lstat (record->path, &st) != 0)
    {
      /* Gone since the scan: nothing to back up, and nothing remote to
       * touch — deleting locally never deletes from Ente. */
      eider_store_delete_file (self->store, record->id, NULL);
      job_done (job, EIDER_FILE_SKIPPED, "no longer on disk");
      return;
    }

  job->stat.dev = st.st_dev;
  job->stat.inode = st.st_ino;
  job->stat.size = st.st_size;
  job->stat.mtime_ns = (gint64) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
  job->stat.ctime_ns = (gint64) st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;

  if (!S_ISREG (st.st_mode))
    {
      job_skip (job, "not a regular file");
      return;
    }

  if (!same_stat (&job->stat, &record->stat))
    {
      gboolean changed = FALSE;

      /* Edited since the scan: record the new stat, drop a stale upload. */
      eider_store_note_file (self->store, record->watch_id, record->path, record->album_name,
                             &job->stat, &changed, NULL);
      eider_store_delete_upload (self->store, record->id, NULL);
    }

  if (!eider_store_set_file_state (self->store, record->id, EIDER_FILE_WORKING, NULL, &error))
    log_store_error (error);
  g_signal_emit (self, signals[FILE_STARTED], 0, record->id, record->path, job->stat.size);

  /* The other half of a live photo, if there is one: the pair is one job. */
  if (claim_live_partner (job))
    {
      start_pair_check (job);
      return;
    }

  job_continue (job);
}

/* A single file: on to its album (or straight to an upload in flight). */
static void
job_continue (Job *job)
{
  EiderEngine *self = job->engine;
  EiderFileRecord *record = job->record;
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderUploadRecord) upload = NULL;

  /* An upload interrupted earlier continues where it stopped, if it is of
   * this very content. */
  upload = eider_store_get_upload (self->store, record->id);
  if (upload != NULL && upload->mtime_ns == job->stat.mtime_ns &&
      upload->plain_size == job->stat.size && upload->hash != NULL &&
      upload->metadata_data != NULL)
    {
      job->collection_id = upload->collection_id;
      job->collection_key = eider_remote_get_collection_key (self->remote, upload->collection_id,
                                                             &error);
      if (upload->replaces_id > 0)
        job->replace = eider_store_get_remote_file (self->store, upload->replaces_id, 0);
      if (job->collection_key != NULL && (upload->replaces_id == 0 || job->replace != NULL))
        {
          job->hash = g_strdup (upload->hash);
          job->file_type = record->file_type;
          job->upload = g_steal_pointer (&upload);
          job_resume (job);
          return;
        }
      g_clear_error (&error);
    }
  if (upload != NULL)
    eider_store_delete_upload (self->store, record->id, NULL);

  eider_remote_ensure_album_async (self->remote, record->album_name, job->cancellable,
                                   album_cb, job);
}

/* The run: one pass (run_once) or continuous (start … stop). */

static void
complete_stop (EiderEngine *self)
{
  g_autoptr(GTask) stop = g_steal_pointer (&self->stop_task);

  self->active = FALSE;
  self->continuous = FALSE;
  self->stopping = FALSE;
  g_clear_handle_id (&self->retry_source, g_source_remove);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->watches, g_ptr_array_unref);
  update_busy (self);

  if (stop != NULL)
    g_task_return_boolean (stop, TRUE);
}

static void
finish_run (EiderEngine *self,
            GError      *error)
{
  g_autoptr(GTask) run = g_steal_pointer (&self->run);

  if (self->continuous && !self->stopping)
    {
      /* Continuous mode does not end on an error: it says so and waits. */
      if (error != NULL)
        {
          if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_warning ("%s", error->message);
          g_error_free (error);
        }
      return;
    }

  complete_stop (self);

  if (run == NULL)
    {
      g_clear_error (&error);
      return;
    }

  if (error != NULL)
    g_task_return_error (run, error);
  else
    g_task_return_boolean (run, TRUE);
}

static gboolean
retry_timeout_cb (gpointer user_data)
{
  EiderEngine *self = user_data;

  self->retry_source = 0;
  pump (self);

  return G_SOURCE_REMOVE;
}

/* The earliest retry time of a failed file this run may still retry
 * (continuous mode: any), or G_MAXINT64. */
static gint64
next_retry_time (EiderEngine *self,
                 guint       *n_failed)
{
  g_autoptr(GPtrArray) failed = NULL;
  gint64 now = g_get_real_time ();
  gint64 earliest = G_MAXINT64;

  failed = eider_store_list_files_in_state (self->store, EIDER_FILE_FAILED, NULL);
  if (n_failed != NULL)
    *n_failed = failed != NULL ? failed->len : 0;

  for (guint i = 0; failed != NULL && i < failed->len; i++)
    {
      EiderFileRecord *record = g_ptr_array_index (failed, i);
      guint tries = GPOINTER_TO_UINT (g_hash_table_lookup (self->run_attempts, &record->id));

      if (self->continuous ||
          (tries < self->max_attempts && record->next_retry_us - now <= MAX_RUN_WAIT_MS * 1000))
        earliest = MIN (earliest, record->next_retry_us);
    }

  return earliest;
}

/* The run ends while jobs wait for a dedupe key: back to pending
 * (stopped, paused), or failed for this run when the key's owner will not
 * be tried again in it — never uploaded in its stead. Each job ends
 * through job_done, whose pump ends the run after the last one. */
static void
end_parked (EiderEngine *self,
            gboolean     requeue)
{
  g_autoptr(GPtrArray) parked = g_ptr_array_new ();
  g_autoptr(GPtrArray) reasons = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->busy_keys);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Claim *claim = value;
      g_autofree char *owner = g_filename_display_name (claim->owner_path);

      for (guint i = 0; i < claim->waiting->len; i++)
        {
          g_ptr_array_add (parked, g_ptr_array_index (claim->waiting, i));
          g_ptr_array_add (reasons, g_strdup_printf ("waits for the same photo or video from “%s”, "
                                                     "which was not uploaded", owner));
        }
      g_ptr_array_set_size (claim->waiting, 0);
    }

  self->n_jobs += parked->len;
  self->n_parked = 0;
  for (guint i = 0; i < parked->len; i++)
    {
      Job *job = g_ptr_array_index (parked, i);

      if (requeue)
        {
          job_requeue (job);
          continue;
        }

      /* Its last attempt in this run: the next run tries again. */
      g_hash_table_insert (self->run_attempts, g_memdup2 (&job->record->id, sizeof (gint64)),
                           GUINT_TO_POINTER (self->max_attempts - 1));
      job_fail (job, g_ptr_array_index (reasons, i));
    }
}

/* Nothing is due: wait for the earliest retry, or end the pass. A
 * continuous engine with nothing to retry simply stays idle: no timer. */
static void
wait_or_finish (EiderEngine *self)
{
  guint n_failed = 0;
  gint64 earliest = next_retry_time (self, &n_failed);

  if (earliest != G_MAXINT64)
    {
      gint64 wait_ms = MAX (0, (earliest - g_get_real_time ()) / 1000) + 10;

      self->retry_source = g_timeout_add ((guint) MIN (wait_ms, G_MAXUINT), retry_timeout_cb, self);
      return;
    }

  if (self->continuous)
    return;

  if (self->n_parked > 0)
    {
      end_parked (self, FALSE);
      return;
    }

  if (n_failed > 0)
    finish_run (self, g_error_new (EIDER_ENGINE_ERROR, EIDER_ENGINE_ERROR_INCOMPLETE,
                                   g_dngettext (NULL, "%u file could not be uploaded",
                                                "%u files could not be uploaded", n_failed),
                                   n_failed));
  else
    finish_run (self, NULL);
}

static void
pump (EiderEngine *self)
{
  g_autoptr(GPtrArray) due = NULL;
  g_autoptr(GError) error = NULL;
  guint limit;

  if (!self->active)
    return;

  if (self->stopping)
    {
      if (self->n_jobs == 0 && self->n_parked > 0)
        end_parked (self, TRUE);
      else if (self->n_jobs == 0 && self->n_scans == 0)
        finish_run (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                               "The backup was stopped"));
      return;
    }

  /* A pass uploads once its scans are done; continuous mode at any time. */
  if (self->retry_source != 0 || (!self->continuous && self->n_scans > 0))
    return;

  if (self->pause_reason != NULL || g_cancellable_is_cancelled (self->cancellable))
    {
      if (self->n_jobs == 0 && self->n_parked > 0 && !self->continuous)
        end_parked (self, TRUE);
      else if (self->n_jobs == 0 && !self->continuous)
        {
          if (self->pause_reason != NULL)
            finish_run (self, g_error_new (EIDER_ENGINE_ERROR, EIDER_ENGINE_ERROR_PAUSED,
                                           "Paused: %s", self->pause_reason));
          else
            finish_run (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                   "The backup was stopped"));
        }
      return;
    }

  if (self->n_jobs >= self->max_jobs)
    return;

  /* Enough rows to fill the free slots past the busy files and the ones
   * this run gave up on. */
  limit = self->max_jobs + g_hash_table_size (self->busy_files) + g_hash_table_size (self->run_attempts);
  due = eider_store_list_due_files (self->store, g_get_real_time (), limit, &error);
  if (due == NULL)
    {
      finish_run (self, g_steal_pointer (&error));
      return;
    }

  for (guint i = 0; i < due->len && self->n_jobs < self->max_jobs; i++)
    {
      EiderFileRecord *record = g_ptr_array_index (due, i);
      guint tries = GPOINTER_TO_UINT (g_hash_table_lookup (self->run_attempts, &record->id));

      if (g_hash_table_contains (self->busy_files, &record->id) ||
          g_hash_table_contains (self->held, record->path) ||
          (!self->continuous && record->state == EIDER_FILE_FAILED && tries >= self->max_attempts))
        continue;

      g_ptr_array_index (due, i) = NULL;
      job_start (self, record);
      if (!self->active)
        return;
    }
  update_busy (self);

  if (self->n_jobs == 0)
    wait_or_finish (self);
}

/* Scanning: stats only, results written in one transaction per watch. */

static void
note_entry (EiderEngine      *self,
            gint64            watch_id,
            EiderScanEntry   *entry)
{
  g_autoptr(GError) error = NULL;
  gboolean changed = FALSE;
  gint64 id;

  id = eider_store_note_file (self->store, watch_id, entry->path, entry->album_name,
                              &entry->stat, &changed, &error);
  if (id <= 0)
    {
      log_store_error (error);
      return;
    }

  if (changed && entry->skip_reason != NULL)
    {
      if (!eider_store_set_file_state (self->store, id, EIDER_FILE_SKIPPED, entry->skip_reason,
                                       &error))
        log_store_error (error);
      g_signal_emit (self, signals[FILE_FINISHED], 0, id, entry->path, (int) EIDER_FILE_SKIPPED,
                     entry->skip_reason, entry->stat.size);
    }
}

static guint
stat_inode_hash (gconstpointer key)
{
  const EiderStat *stat = key;

  return (guint) (stat->inode ^ (stat->inode >> 32) ^ (stat->dev * 31));
}

static gboolean
stat_inode_equal (gconstpointer a,
                  gconstpointer b)
{
  const EiderStat *x = a, *y = b;

  return x->dev == y->dev && x->inode == y->inode;
}

/* The scan's entries not backed up yet, by device and inode. */
static GHashTable *
index_new_entries (EiderEngine *self,
                   GPtrArray   *entries)
{
  GHashTable *index = g_hash_table_new (stat_inode_hash, stat_inode_equal);

  for (guint i = 0; i < entries->len; i++)
    {
      EiderScanEntry *entry = g_ptr_array_index (entries, i);
      g_autoptr(EiderFileRecord) record = NULL;

      if (entry->skip_reason != NULL)
        continue;
      record = eider_store_find_file (self->store, entry->path);
      if (record != NULL && record->state == EIDER_FILE_PENDING && record->remote_file_id == 0)
        g_hash_table_insert (index, &entry->stat, entry);
    }

  return index;
}

static EiderScanEntry *
find_same_file (GHashTable      *by_inode,
                const EiderStat *stat)
{
  EiderScanEntry *entry = g_hash_table_lookup (by_inode, stat);

  if (entry == NULL || entry->stat.size != stat->size || entry->stat.mtime_ns != stat->mtime_ns)
    return NULL;

  /* One new path per old one. */
  g_hash_table_remove (by_inode, stat);

  return entry;
}

static void
apply_scan (EiderEngine *self,
            EiderWatch  *watch,
            GPtrArray   *entries)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) by_inode = NULL;
  g_autoptr(GPtrArray) known = NULL;
  g_autoptr(GError) error = NULL;

  if (!eider_store_begin (self->store, &error))
    {
      log_store_error (error);
      return;
    }

  for (guint i = 0; i < entries->len; i++)
    {
      EiderScanEntry *entry = g_ptr_array_index (entries, i);

      g_hash_table_add (seen, entry->path);
      note_entry (self, watch->id, entry);
    }

  if (!eider_store_commit (self->store, &error))
    {
      eider_store_rollback (self->store);
      log_store_error (error);
      return;
    }

  /* Files gone from disk while nobody watched: renamed or moved if the
   * same file (device and inode, size and mtime) is at a new path, else
   * the same rule as a deletion seen live — they leave the watched album;
   * nothing is deleted in Ente. */
  known = eider_store_list_files (self->store, watch->id, &error);
  for (guint i = 0; known != NULL && i < known->len; i++)
    {
      EiderFileRecord *record = g_ptr_array_index (known, i);
      EiderScanEntry *moved;

      if (g_hash_table_contains (seen, record->path) ||
          g_hash_table_contains (self->busy_files, &record->id))
        continue;

      if (by_inode == NULL)
        by_inode = index_new_entries (self, entries);
      moved = find_same_file (by_inode, &record->stat);
      if (moved != NULL)
        handle_move (self, watch->id, record->path, moved->path);
      else
        remove_record (self, record);
    }
}

static void sync_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data);

typedef struct
{
  EiderEngine *self;
  EiderWatch  *watch;
} ScanCtx;

static void
scan_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  ScanCtx *ctx = user_data;
  g_autoptr(EiderEngine) self = ctx->self;
  g_autoptr(EiderWatch) watch = ctx->watch;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;

  g_free (ctx);
  self->n_scans--;
  entries = eider_scanner_scan_finish (result, &error);

  if (entries == NULL)
    {
      /* An unavailable folder (unmounted disk) is not "all files deleted". */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_message ("Skipping %s for now: %s", watch->path, error->message);
    }
  else if (self->active && !self->stopping)
    apply_scan (self, watch, entries);

  pump (self);
}

/* Takes @watch. */
static void
scan_watch (EiderEngine *self,
            EiderWatch  *watch)
{
  ScanCtx *ctx = g_new0 (ScanCtx, 1);

  ctx->self = g_object_ref (self);
  ctx->watch = watch;
  self->n_scans++;
  eider_scanner_scan_async (watch, EIDER_SCAN_NONE, self->cancellable, scan_cb, ctx);
}

/* A full stat pass: the remote index first, then every watch. */
static void
start_pass (EiderEngine *self)
{
  self->n_scans++;
  eider_remote_sync_async (self->remote, self->cancellable, sync_cb, g_object_ref (self));
}

static void
scan_all (EiderEngine *self)
{
  g_autoptr(GPtrArray) watches = NULL;
  g_autoptr(GError) error = NULL;

  watches = eider_store_list_watches (self->store, &error);
  if (watches == NULL)
    {
      finish_run (self, g_steal_pointer (&error));
      return;
    }

  /* Count them all first, so a fast first scan cannot start the uploads
   * of a pass before the others are recorded. */
  for (guint i = 0; i < watches->len; i++)
    if (!((EiderWatch *) g_ptr_array_index (watches, i))->paused)
      self->n_scans++;

  for (guint i = 0; i < watches->len; i++)
    {
      EiderWatch *watch = g_ptr_array_index (watches, i);

      if (watch->paused)
        continue;

      self->n_scans--;
      g_ptr_array_index (watches, i) = NULL;
      scan_watch (self, watch);
    }

  pump (self);
}

static void
sync_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(EiderEngine) self = user_data;
  g_autoptr(GError) error = NULL;

  self->n_scans--;
  if (!self->active)
    return;

  if (!eider_remote_sync_finish (EIDER_REMOTE (object), result, &error))
    {
      if (g_error_matches (error, EIDER_API_ERROR, EIDER_API_ERROR_UNAUTHORIZED))
        set_pause_reason (self, "The Ente session has ended: log in again");

      if (self->stopping)
        pump (self);
      else
        finish_run (self, g_steal_pointer (&error));
      return;
    }

  scan_all (self);
}

/* The uploader counts encrypted bytes (file and thumbnail); people think
 * in the file's size. */
static void
upload_progress_cb (EiderUploader *uploader,
                    gint64         file_id,
                    gint64         sent,
                    gint64         total,
                    EiderEngine   *self)
{
  Job *job = g_hash_table_lookup (self->busy_files, &file_id);
  gint64 size;

  if (job == NULL || total <= 0)
    return;

  size = job->stat.size;
  g_signal_emit (self, signals[FILE_PROGRESS], 0, file_id,
                 sent >= total ? size : (gint64) ((double) sent / total * size), size);
}

static gboolean
begin (EiderEngine   *self,
       GCancellable  *cancellable,
       GError       **error)
{
  if (self->active)
    {
      g_set_error_literal (error, EIDER_ENGINE_ERROR, EIDER_ENGINE_ERROR_BUSY,
                           "A backup is already running");
      return FALSE;
    }

  if (eider_account_get_state (self->account) != EIDER_ACCOUNT_STATE_LOGGED_IN)
    {
      g_set_error_literal (error, EIDER_ENGINE_ERROR, EIDER_ENGINE_ERROR_NOT_LOGGED_IN,
                           eider_account_get_state (self->account) == EIDER_ACCOUNT_STATE_NEEDS_LOGIN
                           ? "The Ente session has ended: log in again with “eiderctl account login”"
                           : "Not logged in: log in with “eiderctl account login”");
      return FALSE;
    }

  if (self->remote == NULL)
    {
      self->remote = eider_remote_new (self->account, self->store);
      self->uploader = eider_uploader_new (eider_account_get_api (self->account), self->store);
      eider_uploader_set_retry_delay_ms (self->uploader, self->retry_base_ms);
      eider_uploader_set_bandwidth_limit (self->uploader, self->bandwidth_limit);
      g_signal_connect_object (self->uploader, "progress", G_CALLBACK (upload_progress_cb), self, 0);
      self->busy_files = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
      self->busy_keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                               (GDestroyNotify) claim_free);
    }

  g_clear_pointer (&self->run_attempts, g_hash_table_unref);
  self->run_attempts = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->active = TRUE;
  self->stopping = FALSE;
  /* Paused from the start: scans still record what is there, uploads wait. */
  set_pause_reason (self, NULL);
  self->cancellable = cancellable != NULL ? g_object_ref (cancellable) : g_cancellable_new ();
  start_pass (self);

  return TRUE;
}

void
eider_engine_run_once_async (EiderEngine         *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (EIDER_IS_ENGINE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, eider_engine_run_once_async);

  self->continuous = FALSE;
  if (!begin (self, cancellable, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  self->run = g_steal_pointer (&task);
}

gboolean
eider_engine_run_once_finish (EiderEngine   *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
eider_engine_start (EiderEngine *self)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (EIDER_IS_ENGINE (self));

  self->continuous = TRUE;
  if (!begin (self, NULL, &error))
    {
      self->continuous = FALSE;
      g_warning ("Could not start the backup: %s", error->message);
    }
}

gboolean
eider_engine_get_running (EiderEngine *self)
{
  g_return_val_if_fail (EIDER_IS_ENGINE (self), FALSE);

  return self->active;
}

void
eider_engine_stop_async (EiderEngine         *self,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (EIDER_IS_ENGINE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, eider_engine_stop_async);

  if (!self->active || self->stop_task != NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  self->stop_task = g_steal_pointer (&task);
  self->stopping = TRUE;
  g_clear_handle_id (&self->retry_source, g_source_remove);
  /* Removals still in their grace period are found again by the next
   * start's stat pass. */
  g_clear_handle_id (&self->gone_source, g_source_remove);
  g_hash_table_remove_all (self->gone);
  /* Files in flight stop at their last persisted step: acknowledged parts
   * stay acknowledged and the next start resumes them. */
  g_cancellable_cancel (self->cancellable);
  pump (self);
}

gboolean
eider_engine_stop_finish (EiderEngine   *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static EiderWatch *
find_watch (EiderEngine *self,
            gint64       watch_id)
{
  g_autoptr(GPtrArray) watches = eider_store_list_watches (self->store, NULL);

  for (guint i = 0; watches != NULL && i < watches->len; i++)
    {
      EiderWatch *watch = g_ptr_array_index (watches, i);

      if (watch->id == watch_id)
        return g_ptr_array_steal_index (watches, i);
    }

  return NULL;
}

void
eider_engine_note_paths (EiderEngine        *self,
                         gint64              watch_id,
                         const char * const *paths)
{
  g_autoptr(EiderWatch) watch = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) moves = g_ptr_array_new ();   /* Gone, new path, … */
  Gone *gone;

  g_return_if_fail (EIDER_IS_ENGINE (self));

  watch = find_watch (self, watch_id);
  if (watch == NULL || paths == NULL)
    return;

  if (!eider_store_begin (self->store, &error))
    {
      log_store_error (error);
      return;
    }

  for (guint i = 0; paths[i] != NULL; i++)
    {
      g_autofree char *base = g_path_get_basename (paths[i]);
      const char *reason = eider_scan_skip_reason_for_name (base);
      EiderScanEntry entry = { 0 };
      struct stat st;

      /* Dot-files are ignored silently, as the scanner does. */
      if (base[0] == '.' || lstat (paths[i], &st) != 0 || S_ISDIR (st.st_mode))
        continue;

      if (reason == NULL && S_ISLNK (st.st_mode))
        reason = "symbolic link (not followed)";
      else if (reason == NULL && !S_ISREG (st.st_mode))
        reason = "not a regular file";
      else if (reason == NULL && st.st_size == 0)
        reason = "empty file";
      else if (reason == NULL && st.st_size >= EIDER_MAX_FILE_SIZE)
        reason = "too large (Ente stores files under 10 GiB)";

      entry.stat.dev = st.st_dev;
      entry.stat.inode = st.st_ino;
      entry.stat.size = st.st_size;
      entry.stat.mtime_ns = (gint64) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
      entry.stat.ctime_ns = (gint64) st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;

      /* A file that just left another place: it moved here. */
      if (S_ISREG (st.st_mode) && (gone = take_gone (self, &entry.stat, paths[i])) != NULL)
        {
          g_ptr_array_add (moves, gone);
          g_ptr_array_add (moves, g_strdup (paths[i]));
          continue;
        }

      entry.path = (char *) paths[i];
      entry.album_name = eider_scan_album_for_path (watch, paths[i]);
      entry.skip_reason = (char *) reason;
      note_entry (self, watch_id, &entry);
      g_free (entry.album_name);
    }

  if (!eider_store_commit (self->store, &error))
    {
      eider_store_rollback (self->store);
      log_store_error (error);
    }

  for (guint i = 0; i + 1 < moves->len; i += 2)
    {
      Gone *moved = g_ptr_array_index (moves, i);

      handle_move (self, watch_id, moved->path, g_ptr_array_index (moves, i + 1));
      gone_free (moved);
      g_free (g_ptr_array_index (moves, i + 1));
    }

  /* New work: start now, without waiting for a retry timer. */
  g_clear_handle_id (&self->retry_source, g_source_remove);
  pump (self);
}

void
eider_engine_rescan_watch (EiderEngine *self,
                           gint64       watch_id)
{
  EiderWatch *watch;

  g_return_if_fail (EIDER_IS_ENGINE (self));

  if (!self->active || self->stopping)
    return;

  watch = find_watch (self, watch_id);
  if (watch != NULL && !watch->paused)
    scan_watch (self, watch);
  else
    eider_watch_free (watch);
}

/* After a pause: the old cancellable stopped the old work; new work needs
 * a fresh one. */
static void
renew_cancellable (EiderEngine *self)
{
  if (self->cancellable != NULL && g_cancellable_is_cancelled (self->cancellable))
    {
      g_clear_object (&self->cancellable);
      self->cancellable = g_cancellable_new ();
    }
}

void
eider_engine_set_user_paused (EiderEngine *self,
                              gboolean     paused)
{
  g_return_if_fail (EIDER_IS_ENGINE (self));

  self->user_paused = !!paused;

  if (paused)
    {
      update_pause_reason (self);
      return;
    }

  /* Resuming also clears a pause the engine took itself (full account,
   * ended session): the next attempt says again if it still holds. */
  set_pause_reason (self, NULL);
  if (self->active && !self->stopping && self->pause_reason == NULL)
    {
      renew_cancellable (self);
      /* Anything missed while paused is found by a stat pass. */
      start_pass (self);
    }
}

void
eider_engine_set_gate (EiderEngine *self,
                       const char  *reason)
{
  g_return_if_fail (EIDER_IS_ENGINE (self));

  if (g_strcmp0 (self->gate_reason, reason) == 0)
    return;

  g_free (self->gate_reason);
  self->gate_reason = g_strdup (reason);
  update_pause_reason (self);

  /* Lifted: what waited is still recorded as due; no new pass is needed. */
  if (self->active && !self->stopping && self->pause_reason == NULL)
    {
      renew_cancellable (self);
      pump (self);
    }
}

const char *
eider_engine_get_gate (EiderEngine *self)
{
  g_return_val_if_fail (EIDER_IS_ENGINE (self), NULL);

  return self->gate_reason;
}

gboolean
eider_engine_get_busy (EiderEngine *self)
{
  g_return_val_if_fail (EIDER_IS_ENGINE (self), FALSE);

  return self->busy;
}

void
eider_engine_set_bandwidth_limit (EiderEngine *self,
                                  guint64      bytes_per_second)
{
  g_return_if_fail (EIDER_IS_ENGINE (self));

  self->bandwidth_limit = bytes_per_second;
  if (self->uploader != NULL)
    eider_uploader_set_bandwidth_limit (self->uploader, bytes_per_second);
}

void
eider_engine_set_watch_paused (EiderEngine *self,
                               gint64       watch_id,
                               gboolean     paused)
{
  GHashTableIter iter;
  gpointer value;

  g_return_if_fail (EIDER_IS_ENGINE (self));

  if (!self->active || self->stopping)
    return;

  if (!paused)
    {
      eider_engine_rescan_watch (self, watch_id);
      return;
    }

  /* The folder's files in flight stop where they are; their acknowledged
   * parts stay acknowledged for when it is resumed. */
  g_hash_table_iter_init (&iter, self->busy_files);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Job *job = value;

      if (job->record->watch_id == watch_id)
        g_cancellable_cancel (job->cancellable);
    }
}

/* Removals: Ente desktop's rule for a file deleted from a watched folder */

typedef struct
{
  EiderEngine           *self;
  gint64                 file_id;
  gint64                 from;
  EiderRemoteFileRecord *entry;   /* the file's entry in the watched album */
} Removal;

static void
removal_free (Removal *removal)
{
  g_clear_object (&removal->self);
  g_clear_pointer (&removal->entry, eider_remote_file_record_free);
  g_free (removal);
}

static void
removal_done (Removal *removal,
              GError  *error)
{
  /* The local record goes whatever the server said, as Ente desktop does:
   * a failed move is not retried forever, and nothing was deleted. */
  if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning ("Could not take file %" G_GINT64_FORMAT " out of its album: %s",
               removal->entry->id, error->message);
  eider_store_delete_file (removal->self->store, removal->file_id, NULL);
  removal_free (removal);
}

static void
removal_moved_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Removal *removal = user_data;
  g_autoptr(GError) error = NULL;

  eider_remote_move_files_finish (EIDER_REMOTE (object), result, &error);
  removal_done (removal, error);
}

static void
removal_move (Removal *removal,
              gint64   target)
{
  g_autoptr(GPtrArray) files = g_ptr_array_new ();

  g_ptr_array_add (files, removal->entry);
  eider_remote_move_files_async (removal->self->remote, removal->from, target, files,
                                 removal->self->cancellable, removal_moved_cb, removal);
}

static void
removal_uncategorized_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  Removal *removal = user_data;
  g_autoptr(GError) error = NULL;
  gint64 target;

  target = eider_remote_ensure_uncategorized_finish (EIDER_REMOTE (object), result, &error);
  if (target == 0)
    {
      removal_done (removal, error);
      return;
    }

  if (target == removal->from)
    {
      /* The watched album is Uncategorized itself: it stays there. */
      removal_done (removal, NULL);
      return;
    }

  removal_move (removal, target);
}

static void
remove_record (EiderEngine     *self,
               EiderFileRecord *record)
{
  g_autoptr(GPtrArray) dups = NULL;
  g_autoptr(EiderWatch) watch = NULL;
  Removal *removal;
  gint64 keep_in = 0;

  /* Only the local record goes when: nothing was uploaded; the folder keeps
   * deleted files in its album; or another local file still stands for
   * the same Ente file in that album (a move within the album). */
  /* Gone: it sends nothing any more; files waiting for it go on. */
  _eider_engine_release_claims (self, record->id, TRUE);

  watch = find_watch (self, record->watch_id);
  if (self->remote == NULL || record->state != EIDER_FILE_UPLOADED ||
      record->remote_file_id <= 0 || record->collection_id <= 0 || record->hash == NULL ||
      (watch != NULL && watch->keep_deleted) ||
      eider_store_remote_file_in_use (self->store, record->remote_file_id, record->collection_id,
                                      record->id))
    {
      eider_store_delete_file (self->store, record->id, NULL);
      return;
    }

  removal = g_new0 (Removal, 1);
  removal->self = g_object_ref (self);
  removal->file_id = record->id;
  removal->from = record->collection_id;

  /* Its entries, by id: the name may have changed in Ente since. */
  dups = eider_store_list_remote_file_entries (self->store, record->remote_file_id);
  for (guint i = 0; i < dups->len; i++)
    {
      EiderRemoteFileRecord *entry = g_ptr_array_index (dups, i);
      g_autoptr(EiderCollectionRecord) other = NULL;

      if (entry->collection_id == removal->from)
        continue;

      other = eider_store_get_collection (self->store, entry->collection_id);
      if (other != NULL && g_strcmp0 (other->type, "uncategorized") != 0)
        {
          keep_in = entry->collection_id;
          break;
        }
    }

  for (guint i = 0; i < dups->len && removal->entry == NULL; i++)
    {
      EiderRemoteFileRecord *entry = g_ptr_array_index (dups, i);

      if (entry->collection_id == removal->from)
        removal->entry = g_ptr_array_steal_index (dups, i);
    }

  if (removal->entry == NULL)
    {
      /* Not in that album any more (removed in Ente already). */
      removal_done (removal, NULL);
      return;
    }

  if (keep_in != 0)
    removal_move (removal, keep_in);   /* a plain removal from the watched album */
  else
    eider_remote_ensure_uncategorized_async (self->remote, self->cancellable,
                                             removal_uncategorized_cb, removal);
}

static void
remove_path (EiderEngine *self,
             const char  *path)
{
  g_autoptr(EiderFileRecord) record = eider_store_find_file (self->store, path);
  struct stat st;

  /* Back again (or never gone): nothing to do. */
  if (record == NULL || lstat (path, &st) == 0)
    return;

  if (g_hash_table_contains (self->busy_files, &record->id))
    return;   /* the job in flight finds it gone and forgets it */

  remove_record (self, record);
}

/* A file that left a watched folder is let go only after a grace period.
 * A move that the watcher could not pair (into a folder made a moment
 * before, whose monitor did not exist yet) comes as a removal and, a quiet
 * period later, a new file with the same identity: device, inode, size
 * and modification time (a new file that merely reuses the inode has
 * another mtime). eider_engine_note_paths() takes such a pair as a move. */
#define REMOVAL_GRACE_US (3 * G_USEC_PER_SEC)

static char *
identity_key (const EiderStat *st)
{
  return g_strdup_printf ("%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT ":%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT,
                          st->dev, st->inode, st->size, st->mtime_ns);
}

static gboolean gone_timeout_cb (gpointer user_data);

static void
schedule_gone (EiderEngine *self)
{
  GHashTableIter iter;
  gpointer value;
  gint64 next = G_MAXINT64;

  g_clear_handle_id (&self->gone_source, g_source_remove);

  g_hash_table_iter_init (&iter, self->gone);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    next = MIN (next, ((Gone *) value)->due);

  if (next != G_MAXINT64)
    {
      gint64 wait_ms = MAX (0, (next - g_get_monotonic_time () + 999) / 1000);

      self->gone_source = g_timeout_add ((guint) wait_ms, gone_timeout_cb, self);
      g_source_set_name_by_id (self->gone_source, "[eider] removal grace period");
    }
}

static gboolean
gone_timeout_cb (gpointer user_data)
{
  EiderEngine *self = user_data;
  g_autoptr(GPtrArray) due = g_ptr_array_new_with_free_func (g_free);
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  gpointer value;

  self->gone_source = 0;

  g_hash_table_iter_init (&iter, self->gone);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((Gone *) value)->due <= now)
      {
        g_ptr_array_add (due, g_strdup (((Gone *) value)->path));
        g_hash_table_iter_remove (&iter);
      }

  for (guint i = 0; i < due->len; i++)
    remove_path (self, g_ptr_array_index (due, i));

  schedule_gone (self);

  return G_SOURCE_REMOVE;
}

/* The file whose removal is in its grace period and that has @st's
 * identity, if any, now that it reappeared at @path (transfer full). */
static Gone *
take_gone (EiderEngine     *self,
           const EiderStat *st,
           const char      *path)
{
  g_autofree char *key = NULL;
  gpointer stolen_key = NULL;
  Gone *gone = NULL;

  if (g_hash_table_size (self->gone) == 0)
    return NULL;

  key = identity_key (st);
  if (!g_hash_table_steal_extended (self->gone, key, &stolen_key, (gpointer *) &gone))
    return NULL;
  g_free (stolen_key);

  /* Back where it was: not a move, and not gone either. */
  if (g_str_equal (gone->path, path))
    g_clear_pointer (&gone, gone_free);

  return gone;
}

void
eider_engine_note_removed (EiderEngine        *self,
                           gint64              watch_id,
                           const char * const *paths)
{
  g_return_if_fail (EIDER_IS_ENGINE (self));

  if (!self->active || self->stopping || paths == NULL)
    return;

  for (guint i = 0; paths[i] != NULL; i++)
    {
      g_autoptr(EiderFileRecord) record = eider_store_find_file (self->store, paths[i]);
      Gone *gone;

      if (record == NULL)
        continue;

      gone = g_new0 (Gone, 1);
      gone->path = g_strdup (paths[i]);
      gone->due = g_get_monotonic_time () + REMOVAL_GRACE_US;
      g_hash_table_replace (self->gone, identity_key (&record->stat), gone);
    }

  schedule_gone (self);
}

/* The new place is backed up (Ente's dedupe finds the file by name and
 * hash: no bytes are sent), then the old place is removed. */
static void
relink (EiderEngine *self,
        gint64       watch_id,
        const char  *from,
        const char  *to)
{
  g_autoptr(EiderFileRecord) moved = NULL;
  const char *paths[] = { to, NULL };

  eider_engine_note_paths (self, watch_id, paths);

  /* Remove the old place once the new one is backed up, so that the file
   * is found in its new album and only leaves the old one. */
  moved = eider_store_find_file (self->store, to);
  if (moved != NULL && (moved->state == EIDER_FILE_PENDING || moved->state == EIDER_FILE_WORKING ||
                        moved->state == EIDER_FILE_FAILED))
    g_hash_table_replace (self->moves, g_strdup (to), g_strdup (from));
  else
    remove_path (self, from);
}

typedef struct
{
  EiderEngine *self;
  gint64       watch_id;
  char        *from;
  char        *to;
} Rename;

static void
rename_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  Rename *rename = user_data;
  EiderEngine *self = rename->self;
  g_autoptr(GError) error = NULL;

  /* Not renamed (e.g. the server refused): the new name is backed up as a
   * file of its own rather than lost. */
  if (!eider_remote_rename_file_finish (EIDER_REMOTE (object), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning ("Could not rename %s in Ente: %s", rename->from, error->message);

  g_hash_table_remove (self->held, rename->to);
  if (self->active && !self->stopping)
    relink (self, rename->watch_id, rename->from, rename->to);
  pump (self);

  g_free (rename->from);
  g_free (rename->to);
  g_object_unref (rename->self);
  g_free (rename);
}

/* A file renamed on disk keeps its Ente file: the new name goes into the
 * file's public magic metadata (Ente's "editedName"), as when it is
 * renamed in Ente's apps. Until that is done its new path waits. */
static void
handle_move (EiderEngine *self,
             gint64       watch_id,
             const char  *from,
             const char  *to)
{
  g_autoptr(EiderFileRecord) old = eider_store_find_file (self->store, from);
  g_autoptr(EiderRemoteFileRecord) entry = NULL;
  g_autofree char *old_title = g_filename_display_basename (from);
  g_autofree char *new_title = g_filename_display_basename (to);
  Rename *rename;

  if (old != NULL && old->state == EIDER_FILE_UPLOADED && old->remote_file_id > 0 &&
      g_strcmp0 (old_title, new_title) != 0 && !g_hash_table_contains (self->held, to))
    entry = eider_store_get_remote_file (self->store, old->remote_file_id, old->collection_id);

  /* Renamed in Ente already (or not ours to rename): a plain move. */
  if (entry == NULL || g_strcmp0 (entry->title, old_title) != 0)
    {
      relink (self, watch_id, from, to);
      return;
    }

  rename = g_new0 (Rename, 1);
  rename->self = g_object_ref (self);
  rename->watch_id = watch_id;
  rename->from = g_strdup (from);
  rename->to = g_strdup (to);
  g_hash_table_add (self->held, g_strdup (to));
  eider_remote_rename_file_async (self->remote, old->remote_file_id, new_title, self->cancellable,
                                  rename_cb, rename);
}

void
eider_engine_note_moved (EiderEngine *self,
                         gint64       watch_id,
                         const char  *from,
                         const char  *to)
{
  g_return_if_fail (EIDER_IS_ENGINE (self));
  g_return_if_fail (from != NULL && to != NULL);

  if (!self->active)
    return;

  handle_move (self, watch_id, from, to);
}
