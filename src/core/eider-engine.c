/* eider-engine.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The engine's GObject, its public API and its scheduler: runs (one pass,
 * or continuous), the pump that starts due files a bounded number at a
 * time, and retries. What happens to one file is in eider-engine-job.c;
 * see eider-engine-private.h for the other files.
 */
#define G_LOG_DOMAIN "eider-engine"
#include "config.h"

#include "eider-engine-private.h"

G_DEFINE_QUARK (eider-engine-error-quark, eider_engine_error)

#define DEFAULT_MAX_JOBS      4
#define DEFAULT_RETRY_BASE_MS 2000
#define DEFAULT_MAX_ATTEMPTS  5
#define MAX_RETRY_DELAY_MS    (5 * 60 * 1000)
/* How long a run waits for a failed file's retry before giving up on it. */
#define MAX_RUN_WAIT_MS       (2 * 60 * 1000)
/* How long the store may hold writes resumption does not need before it
 * commits them (eider_store_set_commit_delay()). */
#define STORE_COMMIT_DELAY_MS 500

G_DEFINE_FINAL_TYPE (EiderEngine, eider_engine, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_PAUSE_REASON,
  PROP_BUSY,
  PROP_SCANNING,
  PROP_GATE,
  PROP_MAX_JOBS,
  PROP_BANDWIDTH_LIMIT,
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

static void
eider_engine_dispose (GObject *object)
{
  EiderEngine *self = (EiderEngine *) object;

  g_clear_handle_id (&self->retry_source, g_source_remove);
  g_clear_handle_id (&self->gone_source, g_source_remove);
  g_clear_object (&self->uploader);
  g_clear_object (&self->remote);
  /* The store may outlive the engine: its grouped writes go now. */
  if (self->store != NULL)
    eider_store_set_commit_delay (self->store, 0);
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

    case PROP_SCANNING:
      g_value_set_boolean (value, self->n_scans > 0);
      break;

    case PROP_BUSY:
      g_value_set_boolean (value, self->busy);
      break;

    case PROP_GATE:
      g_value_set_string (value, self->gate_reason);
      break;

    case PROP_MAX_JOBS:
      g_value_set_uint (value, self->max_jobs);
      break;

    case PROP_BANDWIDTH_LIMIT:
      g_value_set_uint64 (value, self->bandwidth_limit);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
eider_engine_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  EiderEngine *self = EIDER_ENGINE (object);

  switch (prop_id)
    {
    case PROP_GATE:
      eider_engine_set_gate (self, g_value_get_string (value));
      break;

    case PROP_MAX_JOBS:
      eider_engine_set_max_jobs (self, g_value_get_uint (value));
      break;

    case PROP_BANDWIDTH_LIMIT:
      eider_engine_set_bandwidth_limit (self, g_value_get_uint64 (value));
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
  object_class->set_property = eider_engine_set_property;

  properties[PROP_PAUSE_REASON] =
    g_param_spec_string ("pause-reason", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* Files are in flight (e.g. to keep the machine awake meanwhile). */
  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* The remote index is being read or folders walked. */
  properties[PROP_SCANNING] =
    g_param_spec_boolean ("scanning", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* What the front end binds: a condition that holds uploads back (why,
   * for people; %NULL lifts it), the files uploaded at once, and the
   * bandwidth cap in bytes per second over all uploads (0: none). */
  properties[PROP_GATE] =
    g_param_spec_string ("gate", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_JOBS] =
    g_param_spec_uint ("max-jobs", NULL, NULL, 1, 16, DEFAULT_MAX_JOBS,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_BANDWIDTH_LIMIT] =
    g_param_spec_uint64 ("bandwidth-limit", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
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
   * @reason_code: an EiderReason: why it was skipped or failed, or how it
   *   got to Ente (%EIDER_REASON_NONE: nothing to say)
   * @reason_details: (nullable): what goes with @reason_code (an error's
   *   message, the live photo's name); people read
   *   eider_reason_describe (@reason_code, @reason_details)
   * @size: the file's size
   *
   * Emitted when a file's work ends (uploaded, skipped, failed; pending or
   * working when stopped), as recorded in the store.
   */
  signals[FILE_FINISHED] =
    g_signal_new ("file-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 6, G_TYPE_INT64, G_TYPE_STRING, G_TYPE_INT, G_TYPE_INT,
                  G_TYPE_STRING, G_TYPE_INT64);

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
  self->gone = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) _eider_engine_gone_free);
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
  /* A file's steps (working, its hash, uploaded, the remote index) are
   * committed in groups, not one transaction each; the store still makes
   * an upload's record durable before its bytes are sent. */
  eider_store_set_commit_delay (store, STORE_COMMIT_DELAY_MS);

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

  max_jobs = CLAMP (max_jobs, 1, 16);
  if (self->max_jobs == max_jobs)
    return;

  self->max_jobs = max_jobs;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_JOBS]);
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
void
_eider_engine_set_pause_reason (EiderEngine *self,
                                const char  *reason)
{
  g_free (self->own_reason);
  self->own_reason = g_strdup (reason);
  update_pause_reason (self);
}

/* The sync and the walks in flight; "scanning" follows. */
void
_eider_engine_add_scans (EiderEngine *self,
                         int          delta)
{
  gboolean was = self->n_scans > 0;

  self->n_scans += delta;
  if (was != (self->n_scans > 0))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SCANNING]);
}

void
_eider_engine_update_busy (EiderEngine *self)
{
  gboolean busy = self->active && self->n_jobs > 0;

  if (self->busy == busy)
    return;

  self->busy = busy;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

void
_eider_engine_log_store_error (GError *error)
{
  if (error != NULL)
    g_warning ("Could not record a file's state: %s", error->message);
}

/* The signals, for the engine's other files. */
void
_eider_engine_emit_file_started (EiderEngine *self,
                                 gint64       file_id,
                                 const char  *path,
                                 gint64       size)
{
  g_signal_emit (self, signals[FILE_STARTED], 0, file_id, path, size);
}

void
_eider_engine_emit_file_finished (EiderEngine    *self,
                                  gint64          file_id,
                                  const char     *path,
                                  EiderFileState  state,
                                  EiderReason     reason,
                                  const char     *details,
                                  gint64          size)
{
  g_signal_emit (self, signals[FILE_FINISHED], 0, file_id, path, (int) state, (int) reason,
                 details, size);
}

EiderWatch *
_eider_engine_find_watch (EiderEngine *self,
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

gint64
_eider_engine_retry_delay_us (EiderEngine *self,
                              gint         attempts)
{
  guint64 delay = (guint64) self->retry_base_ms << MIN (attempts, 16);

  delay = MIN (delay, MAX_RETRY_DELAY_MS);
  /* ±25 % jitter, so retries of many files do not arrive together. */
  delay = delay * g_random_int_range (75, 126) / 100;

  return (gint64) delay * 1000;
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
  _eider_engine_update_busy (self);

  if (stop != NULL)
    g_task_return_boolean (stop, TRUE);
}

void
_eider_engine_finish_run (EiderEngine *self,
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
  _eider_engine_pump (self);

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
      _eider_engine_end_parked (self, FALSE);
      return;
    }

  if (n_failed > 0)
    _eider_engine_finish_run (self, g_error_new (EIDER_ENGINE_ERROR, EIDER_ENGINE_ERROR_INCOMPLETE,
                                                 g_dngettext (NULL, "%u file could not be uploaded",
                                                              "%u files could not be uploaded", n_failed),
                                                 n_failed));
  else
    _eider_engine_finish_run (self, NULL);
}

/* How many files may be in flight. The max-jobs setting (the policy's
 * "jobs", 1 under power saver) bounds the files in flight when they are
 * large: those are limited by bandwidth and CPU, and more of them at once
 * only splits both. A small file (up to SMALL_FILE_SIZE) is limited by
 * round trips instead (each costs a few requests one after another, so at
 * 50 ms from the server 4 files in flight make about 12 files/s), so small
 * files may fill up to MAX_SMALL_JOBS slots, as long as no large file
 * waits for a slot (the queue's order is kept: see _eider_engine_pump).
 * Never when one job at a time was asked for (jobs = 1 or power saver:
 * both mean "one at a time") or under a bandwidth cap (then bandwidth is
 * the limit, and more files in flight would only hold more memory). */
#define SMALL_FILE_SIZE  (4 * 1024 * 1024)
#define MAX_SMALL_JOBS   16

static guint
jobs_allowed (EiderEngine *self,
              gint64       size)
{
  if (self->max_jobs <= 1 || self->bandwidth_limit > 0 || size > SMALL_FILE_SIZE)
    return self->max_jobs;
  return MAX (self->max_jobs, MAX_SMALL_JOBS);
}

void
_eider_engine_pump (EiderEngine *self)
{
  g_autoptr(GPtrArray) due = NULL;
  g_autoptr(GError) error = NULL;
  guint limit;

  if (!self->active)
    return;

  if (self->stopping)
    {
      if (self->n_jobs == 0 && self->n_parked > 0)
        _eider_engine_end_parked (self, TRUE);
      else if (self->n_jobs == 0 && self->n_scans == 0)
        _eider_engine_finish_run (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                             "The backup was stopped"));
      return;
    }

  /* A pass uploads once its scans are done; continuous mode at any time. */
  if (self->retry_source != 0 || (!self->continuous && self->n_scans > 0))
    return;

  if (self->pause_reason != NULL || g_cancellable_is_cancelled (self->cancellable))
    {
      if (self->n_jobs == 0 && self->n_parked > 0 && !self->continuous)
        _eider_engine_end_parked (self, TRUE);
      else if (self->n_jobs == 0 && !self->continuous)
        {
          if (self->pause_reason != NULL)
            _eider_engine_finish_run (self, g_error_new (EIDER_ENGINE_ERROR, EIDER_ENGINE_ERROR_PAUSED,
                                                         "Paused: %s", self->pause_reason));
          else
            _eider_engine_finish_run (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                                 "The backup was stopped"));
        }
      return;
    }

  if (self->n_jobs >= jobs_allowed (self, 0))
    return;

  /* Enough rows to fill the free slots past the busy files and the ones
   * this run gave up on. */
  limit = jobs_allowed (self, 0) + g_hash_table_size (self->busy_files) +
          g_hash_table_size (self->run_attempts);
  due = eider_store_list_due_files (self->store, g_get_real_time (), limit, &error);
  if (due == NULL)
    {
      _eider_engine_finish_run (self, g_steal_pointer (&error));
      return;
    }

  for (guint i = 0; i < due->len && self->n_jobs < jobs_allowed (self, 0); i++)
    {
      EiderFileRecord *record = g_ptr_array_index (due, i);
      guint tries = GPOINTER_TO_UINT (g_hash_table_lookup (self->run_attempts, &record->id));

      if (g_hash_table_contains (self->busy_files, &record->id) ||
          g_hash_table_contains (self->held, record->path) ||
          (!self->continuous && record->state == EIDER_FILE_FAILED && tries >= self->max_attempts))
        continue;

      /* A large file waits for one of the max-jobs slots; the small ones
       * after it wait with it, so it is not passed over for good. */
      if (self->n_jobs >= jobs_allowed (self, record->stat.size))
        break;

      g_ptr_array_index (due, i) = NULL;
      _eider_engine_job_start (self, record);
      if (!self->active)
        return;
    }
  _eider_engine_update_busy (self);

  if (self->n_jobs == 0)
    wait_or_finish (self);
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
                                               _eider_engine_claim_free);
    }

  g_clear_pointer (&self->run_attempts, g_hash_table_unref);
  self->run_attempts = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->active = TRUE;
  self->stopping = FALSE;
  /* Paused from the start: scans still record what is there, uploads wait. */
  _eider_engine_set_pause_reason (self, NULL);
  self->cancellable = cancellable != NULL ? g_object_ref (cancellable) : g_cancellable_new ();
  _eider_engine_start_pass (self);

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
  _eider_engine_pump (self);
}

gboolean
eider_engine_stop_finish (EiderEngine   *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
eider_engine_note_paths (EiderEngine        *self,
                         gint64              watch_id,
                         const char * const *paths)
{
  g_return_if_fail (EIDER_IS_ENGINE (self));

  _eider_engine_note_paths (self, watch_id, paths);
}

void
eider_engine_rescan_watch (EiderEngine *self,
                           gint64       watch_id)
{
  EiderWatch *watch;

  g_return_if_fail (EIDER_IS_ENGINE (self));

  if (!self->active || self->stopping)
    return;

  watch = _eider_engine_find_watch (self, watch_id);
  if (watch != NULL && !watch->paused)
    _eider_engine_scan_watch (self, watch);
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
  _eider_engine_set_pause_reason (self, NULL);
  if (self->active && !self->stopping && self->pause_reason == NULL)
    {
      renew_cancellable (self);
      /* Anything missed while paused is found by a stat pass. */
      _eider_engine_start_pass (self);
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
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_GATE]);
  update_pause_reason (self);

  /* Lifted: what waited is still recorded as due; no new pass is needed. */
  if (self->active && !self->stopping && self->pause_reason == NULL)
    {
      renew_cancellable (self);
      _eider_engine_pump (self);
    }
}

const char *
eider_engine_get_gate (EiderEngine *self)
{
  g_return_val_if_fail (EIDER_IS_ENGINE (self), NULL);

  return self->gate_reason;
}

gboolean
eider_engine_get_scanning (EiderEngine *self)
{
  g_return_val_if_fail (EIDER_IS_ENGINE (self), FALSE);

  return self->n_scans > 0;
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

  if (self->bandwidth_limit == bytes_per_second)
    return;

  self->bandwidth_limit = bytes_per_second;
  if (self->uploader != NULL)
    eider_uploader_set_bandwidth_limit (self->uploader, bytes_per_second);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BANDWIDTH_LIMIT]);
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

void
eider_engine_note_removed (EiderEngine        *self,
                           gint64              watch_id,
                           const char * const *paths)
{
  g_return_if_fail (EIDER_IS_ENGINE (self));

  if (!self->active || self->stopping || paths == NULL)
    return;

  _eider_engine_note_gone (self, paths);
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

  _eider_engine_handle_move (self, watch_id, from, to);
}
