/* eider-service.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-service"
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <unistd.h>
#include <glib/gstdio.h>

#include "eider-account.h"
#include "eider-client.h"
#include "eider-core-enums.h"
#include "eider-reason.h"
#include "eider-engine.h"
#include "eider-frontend.h"
#include "eider-instance.h"
#include "eider-policy.h"
#include "eider-service.h"
#include "eider-service-enums.h"
#include "eider-settings.h"
#include "eider-store.h"
#include "eider-watcher.h"

/* Store meta keys: "1" while the user has paused the whole backup; the end
 * (unix seconds) of "back up anyway for N hours"; "1" once a first backup
 * finished (the computer is no longer kept awake for it). */
#define META_PAUSED            "paused"
#define META_OVERRIDE_UNTIL    "override-until"
#define META_FIRST_BACKUP_DONE "first-backup-done"

/* GLib drops the kernel's word that its event queue overflowed, so a
 * burst can lose an event unseen: every few hours each folder that is
 * there is walked again (stat only; nothing is read that did not change). */
#define FULL_RESCAN_SECONDS (6 * 60 * 60)
/* Progress goes out at most this often (4 batches a second). */
#define PROGRESS_INTERVAL_MS 250
/* The upload speed is the bytes sent over this long. */
#define SPEED_WINDOW_US (5 * G_USEC_PER_SEC)
/* ListFiles pages are at most this long. */
#define MAX_PAGE 10000

struct _EiderService
{
  GObject           parent_instance;

  char             *config_dir;
  char             *state_dir;
  EiderServiceMode  mode;
  guint             jobs;

  EiderInstance    *instance;
  EiderAccount     *account;
  EiderStore       *store;
  EiderEngine      *engine;
  GSettings        *settings;
  EiderPolicy      *policy;
  EiderFrontend    *frontend;
  EiderWatcher     *watcher;
  GHashTable       *watched;       /* ids of the watches given to the watcher →
                                    * why it polls that folder, as last said */
  guint             rescan_id;

  EiderDBusEngine1 *skeleton;
  GDBusServer      *server;
  char             *socket_path;
  GPtrArray        *connections;
  GDBusConnection  *session;
  guint             name_id;
  GCancellable     *cancellable;

  gboolean          user_paused;
  gboolean          reading_storage;
  gboolean          started;
  gboolean          stopping;
  gboolean          stopped;
  GError           *result;
  EiderEngineState  state;

  /* progress, batched */
  GHashTable       *progress;      /* file id → ProgressEntry */
  guint             flush_id;
  guint             trim_id;           /* memory given back after clients' calls */
  gboolean          counts_dirty;
  GQueue            speed_samples; /* SpeedSample, oldest first */

  /* BackupNow callers, answered once nothing is left to do */
  GPtrArray        *backup_now;
  guint             n_uploaded;
  guint             n_skipped;
  guint             n_failed;
};

G_DEFINE_FINAL_TYPE (EiderService, eider_service, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_STATE,
  N_PROPS
};

enum
{
  STOPPED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

typedef struct
{
  gint64 done;
  gint64 total;
  gint64 reported;   /* what went into the speed so far */
} ProgressEntry;

typedef struct
{
  gint64  time_us;
  guint64 bytes;
} SpeedSample;

static void update_state (EiderService *self);
static void finish (EiderService *self);
static void update_counts (EiderService *self);
static void schedule_flush (EiderService *self);

/* Errors */

static gboolean
return_error (GDBusMethodInvocation *invocation,
              GError                *error)
{
  /* Store and engine errors keep their message; the code says what kind. */
  if (error->domain != EIDER_HOST_ERROR)
    {
      int code = EIDER_HOST_ERROR_FAILED;

      if (g_error_matches (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_NOT_FOUND))
        code = EIDER_HOST_ERROR_NOT_FOUND;
      else if (g_error_matches (error, EIDER_STORE_ERROR, EIDER_STORE_ERROR_EXISTS))
        code = EIDER_HOST_ERROR_EXISTS;
      g_dbus_method_invocation_return_error_literal (invocation, EIDER_HOST_ERROR, code,
                                                     error->message);
    }
  else
    g_dbus_method_invocation_return_gerror (invocation, error);

  g_error_free (error);
  return TRUE;
}

static gboolean
refuse_one_time (EiderService          *self,
                 GDBusMethodInvocation *invocation)
{
  if (self->mode != EIDER_SERVICE_MODE_ONE_TIME)
    return FALSE;

  g_dbus_method_invocation_return_error_literal (invocation, EIDER_HOST_ERROR,
                                                 EIDER_HOST_ERROR_ONE_TIME,
                                                 "A one-time backup (eiderctl backup --once) is "
                                                 "running: stop it with Ctrl+C, or wait until it is done");
  return TRUE;
}

/* Folders */

static EiderWatch *
find_watch_by_id (EiderService  *self,
                  gint64         watch_id,
                  GError       **error)
{
  g_autoptr(GPtrArray) watches = eider_store_list_watches (self->store, error);

  if (watches == NULL)
    return NULL;

  for (guint i = 0; i < watches->len; i++)
    {
      EiderWatch *watch = g_ptr_array_index (watches, i);

      if (watch->id == watch_id)
        return g_ptr_array_steal_index (watches, i);
    }

  g_set_error (error, EIDER_HOST_ERROR, EIDER_HOST_ERROR_NOT_FOUND,
               "No watched folder has the id %" G_GINT64_FORMAT, watch_id);
  return NULL;
}

/* The watch of a folder a client named (it may be gone, one reason to stop
 * watching it). */
static EiderWatch *
find_watch_by_path (EiderService  *self,
                    const char    *path,
                    GError       **error)
{
  g_autofree char *real = realpath (path, NULL);
  EiderWatch *watch = eider_store_find_watch (self->store, real != NULL ? real : path);

  if (watch == NULL)
    {
      g_autofree char *display = g_filename_display_name (path);

      g_set_error (error, EIDER_HOST_ERROR, EIDER_HOST_ERROR_NOT_FOUND, "%s is not watched", display);
    }

  return watch;
}

static char *
watch_display (EiderService *self,
               gint64        watch_id)
{
  g_autoptr(EiderWatch) watch = find_watch_by_id (self, watch_id, NULL);

  return watch != NULL ? g_filename_display_name (watch->path) : g_strdup ("A watched folder");
}

/**
 * eider_folder_to_variant:
 * @watch: a watched folder
 * @available: whether it is there
 * @live: whether it is watched live
 * @poll_reason: (nullable): why it is walked now and then instead
 * @poll_seconds: how often
 * @counts: (nullable): its files per state
 *
 * A folder as ListFolders describes it (see the interface's XML).
 *
 * Returns: (transfer floating): an a{sv}
 */
GVariant *
eider_folder_to_variant (const EiderWatch *watch,
                         gboolean          available,
                         gboolean          live,
                         const char       *poll_reason,
                         guint             poll_seconds,
                         const EiderStoreCounts *counts)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autofree char *display = g_filename_display_name (watch->path);
  g_autofree char *album = watch->album_name != NULL ? g_strdup (watch->album_name)
                                                     : g_filename_display_basename (watch->path);

  g_variant_builder_add (&builder, "{sv}", "id", g_variant_new_int64 (watch->id));
  g_variant_builder_add (&builder, "{sv}", "path", g_variant_new_bytestring (watch->path));
  g_variant_builder_add (&builder, "{sv}", "display-path", g_variant_new_string (display));
  g_variant_builder_add (&builder, "{sv}", "mapping",
                         g_variant_new_string (watch->mapping == EIDER_MAPPING_ALBUM_PER_FOLDER
                                               ? "album-per-folder" : "one-album"));
  g_variant_builder_add (&builder, "{sv}", "album",
                         g_variant_new_string (watch->mapping == EIDER_MAPPING_ALBUM_PER_FOLDER ? "" : album));
  g_variant_builder_add (&builder, "{sv}", "on-edit",
                         g_variant_new_string (watch->keep_edits ? "keep-both" : "replace"));
  g_variant_builder_add (&builder, "{sv}", "on-delete",
                         g_variant_new_string (watch->keep_deleted ? "keep" : "leave-album"));
  g_variant_builder_add (&builder, "{sv}", "paused", g_variant_new_boolean (watch->paused));
  g_variant_builder_add (&builder, "{sv}", "available", g_variant_new_boolean (available));
  g_variant_builder_add (&builder, "{sv}", "live", g_variant_new_boolean (live));
  g_variant_builder_add (&builder, "{sv}", "poll-reason",
                         g_variant_new_string (poll_reason != NULL ? poll_reason : ""));
  g_variant_builder_add (&builder, "{sv}", "poll-seconds", g_variant_new_uint32 (poll_seconds));
  if (counts != NULL)
    {
      g_auto(GVariantBuilder) per_state = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{su}"));

      for (guint s = EIDER_FILE_PENDING; s <= EIDER_FILE_FAILED; s++)
        g_variant_builder_add (&per_state, "{su}", eider_file_state_to_string (s), counts->n_by_state[s]);
      g_variant_builder_add (&builder, "{sv}", "counts", g_variant_builder_end (&per_state));
    }

  return g_variant_builder_end (&builder);
}

static GVariant *
folder_to_variant (EiderService *self,
                   EiderWatch   *watch)
{
  g_autoptr(GError) error = NULL;
  EiderStoreCounts counts;
  const char *poll_reason = NULL;
  gboolean known = FALSE;
  gboolean available;

  if (self->watcher != NULL)
    {
      poll_reason = eider_watcher_get_poll_reason (self->watcher, watch->id);
      known = eider_watcher_get_mode (self->watcher, watch->id) != NULL;
    }
  /* One just added may not be the watcher's yet. */
  available = known ? eider_watcher_get_available (self->watcher, watch->id)
                    : g_file_test (watch->path, G_FILE_TEST_IS_DIR);

  /* A folder whose files cannot be counted is still listed, without. */
  if (self->store != NULL && !eider_store_get_watch_counts (self->store, watch->id, &counts, &error))
    g_warning ("Could not count the files of %s: %s", watch->path, error->message);

  return eider_folder_to_variant (watch, available, known && available && poll_reason == NULL,
                                  poll_reason,
                                  self->watcher != NULL ? eider_watcher_get_poll_seconds (self->watcher) : 0,
                                  error == NULL && self->store != NULL ? &counts : NULL);
}

static void
folders_changed (EiderService *self)
{
  update_counts (self);
  eider_dbus_engine1_emit_folders_changed (self->skeleton);
}

static void
watch_roots (EiderService *self,
             GPtrArray    *watches)
{
  for (guint i = 0; i < watches->len; i++)
    {
      EiderWatch *watch = g_ptr_array_index (watches, i);
      g_autoptr(GError) error = NULL;

      g_hash_table_insert (self->watched, g_memdup2 (&watch->id, sizeof watch->id), NULL);
      if (!eider_watcher_add_root (self->watcher, watch->id, watch->path, &error))
        {
          g_autofree char *display = g_filename_display_name (watch->path);

          /* Still backed up at start and on resume, just not as it changes. */
          g_print ("Cannot watch %s for changes: %s\n", display, error->message);
        }
    }
}

/* The watcher: finished files go to the engine; a root that comes back, or
 * one the watcher cannot vouch for, is walked again (stat only). */

static void
files_ready_cb (EiderWatcher       *watcher,
                gint64              watch_id,
                const char * const *paths,
                EiderService       *self)
{
  if (!self->stopping)
    eider_engine_note_paths (self->engine, watch_id, paths);
  self->counts_dirty = TRUE;
  schedule_flush (self);
}

static void
file_moved_cb (EiderWatcher *watcher,
               gint64        watch_id,
               const char   *from,
               const char   *to,
               EiderService *self)
{
  /* The new place is backed up first (a move that keeps the name is linked
   * by Ente's dedupe without sending bytes), then the old one leaves its
   * album by the deletion rule. */
  if (!self->stopping)
    eider_engine_note_moved (self->engine, watch_id, from, to);
}

static void
files_removed_cb (EiderWatcher *watcher,
                  gint64        watch_id,
                  GStrv         paths,
                  EiderService *self)
{
  if (!self->stopping)
    eider_engine_note_removed (self->engine, watch_id, (const char * const *) paths);
  self->counts_dirty = TRUE;
  schedule_flush (self);
}

static void
root_availability_cb (EiderWatcher *watcher,
                      gint64        watch_id,
                      gboolean      available,
                      EiderService *self)
{
  g_autofree char *display = watch_display (self, watch_id);

  if (available)
    g_print ("%s is back: looking for changes.\n", display);
  else
    g_print ("%s is unavailable: nothing in it counts as deleted until it is back.\n", display);

  if (g_hash_table_contains (self->watched, &watch_id))
    g_hash_table_insert (self->watched, g_memdup2 (&watch_id, sizeof watch_id), NULL);
  if (available && !self->stopping)
    eider_engine_rescan_watch (self->engine, watch_id);
  folders_changed (self);
}

/* A folder that is not watched live (the inotify watch limit, a network
 * file system) is said once, and again only when the reason changes. */
static void
rescan_needed_cb (EiderWatcher *watcher,
                  gint64        watch_id,
                  const char   *reason,
                  EiderService *self)
{
  const char *poll_reason = eider_watcher_get_poll_reason (watcher, watch_id);

  g_debug ("Walking watch %" G_GINT64_FORMAT " again: %s", watch_id, reason);
  if (poll_reason != NULL && g_hash_table_contains (self->watched, &watch_id) &&
      g_strcmp0 (g_hash_table_lookup (self->watched, &watch_id), poll_reason) != 0)
    {
      g_autofree char *display = watch_display (self, watch_id);
      g_autofree char *every = eider_format_interval (eider_watcher_get_poll_seconds (watcher));

      g_print ("%s is not watched live: %s. It is checked for changes every %s instead.\n",
               display, poll_reason, every);
      g_hash_table_insert (self->watched, g_memdup2 (&watch_id, sizeof watch_id), g_strdup (poll_reason));
      folders_changed (self);
    }

  if (!self->stopping)
    eider_engine_rescan_watch (self->engine, watch_id);
}

static gboolean
full_rescan_cb (gpointer user_data)
{
  EiderService *self = user_data;
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, self->watched);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (eider_watcher_get_available (self->watcher, *(gint64 *) key))
      eider_engine_rescan_watch (self->engine, *(gint64 *) key);

  return G_SOURCE_CONTINUE;
}

/* State */

/* The interface's State is the nick of the host's "state". */
static gboolean
state_to_nick (GBinding     *binding,
               const GValue *from,
               GValue       *to,
               gpointer      user_data)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (EIDER_TYPE_ENGINE_STATE);
  GEnumValue *value = g_enum_get_value (klass, g_value_get_enum (from));

  g_value_set_string (to, value != NULL ? value->value_nick : "");
  return TRUE;
}

/* glibc keeps what is freed for later: after a walk of 100,000 files,
 * 56 MB taken from the system for 10 MB in use (malloc_stats), which
 * malloc_trim() hands back (see eider_service_start()). */
static void
release_memory_cb (gpointer user_data)
{
#ifdef __GLIBC__
  malloc_trim (0);
#endif
}

static void
trim_after_calls_cb (gpointer user_data)
{
  EiderService *self = user_data;

  self->trim_id = 0;
  release_memory_cb (NULL);
}

/* Every call a client makes (a status over 100,000 files leaves a few
 * MB behind): while idle, memory goes back a little after the last one,
 * a wake-up per burst of calls, none without clients. */
static gboolean
authorize_method_cb (GDBusInterfaceSkeleton *skeleton,
                     GDBusMethodInvocation  *invocation,
                     EiderService           *self)
{
  if (self->state == EIDER_ENGINE_STATE_IDLE)
    {
      g_clear_handle_id (&self->trim_id, g_source_remove);
      self->trim_id = g_timeout_add_once (2000, trim_after_calls_cb, self);
    }

  return TRUE;
}

static void
update_state (EiderService *self)
{
  EiderEngineState state;
  const char *pause_reason = eider_engine_get_pause_reason (self->engine);
  const char *gate = eider_engine_get_gate (self->engine);
  const char *reason = "";
  const char *action = "";

  if (self->user_paused)
    {
      state = EIDER_ENGINE_STATE_PAUSED;
      reason = "Paused";
      action = "resume";
    }
  else if (eider_account_get_state (self->account) != EIDER_ACCOUNT_STATE_LOGGED_IN)
    {
      state = EIDER_ENGINE_STATE_NEEDS_LOGIN;
      reason = pause_reason != NULL ? pause_reason : "The Ente session has ended: log in again";
      action = "log-in";
    }
  else if (pause_reason != NULL && g_strcmp0 (pause_reason, gate) != 0)
    {
      /* The engine paused itself, logged in: the account is full (or its
       * subscription ended). */
      state = EIDER_ENGINE_STATE_STORAGE_FULL;
      reason = pause_reason;
      action = "free-up-space";
    }
  else if (gate != NULL)
    {
      gboolean online = TRUE;

      if (self->policy != NULL)
        g_object_get (self->policy, "network-available", &online, NULL);

      state = online ? EIDER_ENGINE_STATE_WAITING : EIDER_ENGINE_STATE_OFFLINE;
      reason = gate;
      action = online ? "back-up-anyway" : "";
    }
  else if (eider_engine_get_busy (self->engine))
    state = EIDER_ENGINE_STATE_UPLOADING;
  else if (eider_engine_get_scanning (self->engine))
    state = EIDER_ENGINE_STATE_SCANNING;
  else
    state = EIDER_ENGINE_STATE_IDLE;

  eider_dbus_engine1_set_state_reason (self->skeleton, reason);
  eider_dbus_engine1_set_state_action (self->skeleton, action);
  eider_dbus_engine1_set_paused (self->skeleton, self->user_paused);

  if (state != self->state)
    {
      /* Work done: what the walk and the uploads freed goes back to the
       * system (once, not on a timer). */
      if (state == EIDER_ENGINE_STATE_IDLE &&
          (self->state == EIDER_ENGINE_STATE_SCANNING || self->state == EIDER_ENGINE_STATE_UPLOADING))
        g_idle_add_once (release_memory_cb, NULL);
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
}

static void
update_counts (EiderService *self)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{su}"));
  EiderStoreCounts counts = { { 0 } };
  g_autoptr(GError) error = NULL;

  self->counts_dirty = FALSE;
  if (!eider_store_get_counts (self->store, &counts, &error))
    {
      g_warning ("Could not count the files: %s", error->message);
      return;
    }

  for (guint s = EIDER_FILE_PENDING; s <= EIDER_FILE_FAILED; s++)
    g_variant_builder_add (&builder, "{su}", eider_file_state_to_string (s), counts.n_by_state[s]);
  eider_dbus_engine1_set_counts (self->skeleton, g_variant_builder_end (&builder));
  eider_dbus_engine1_set_files_left (self->skeleton,
                                     counts.n_by_state[EIDER_FILE_PENDING] +
                                     counts.n_by_state[EIDER_FILE_WORKING]);
  eider_dbus_engine1_set_bytes_left (self->skeleton, counts.bytes_left);
}

static void
update_override (EiderService *self)
{
  gint64 until = 0;

  if (self->policy != NULL && eider_policy_get_override_active (self->policy))
    until = eider_policy_get_override_until (self->policy) > 0
            ? eider_policy_get_override_until (self->policy) : -1;
  eider_dbus_engine1_set_back_up_anyway_until (self->skeleton, until);
}

/* BackupNow callers hear back once nothing is left: the engine idle, no
 * walk under way, nothing pending. */
static void
answer_backup_now (EiderService *self)
{
  EiderStoreCounts counts = { { 0 } };

  if (self->backup_now == NULL || self->backup_now->len == 0 || eider_engine_get_busy (self->engine) ||
      eider_engine_get_scanning (self->engine) ||
      !eider_store_get_counts (self->store, &counts, NULL) ||
      counts.n_by_state[EIDER_FILE_PENDING] + counts.n_by_state[EIDER_FILE_WORKING] > 0)
    return;

  for (guint i = 0; i < self->backup_now->len; i++)
    {
      GDBusMethodInvocation *invocation = g_ptr_array_index (self->backup_now, i);
      guint *start = g_object_get_data (G_OBJECT (invocation), "eider-counts");

      eider_dbus_engine1_complete_backup_now (self->skeleton, invocation,
                                              self->n_uploaded - start[0],
                                              self->n_skipped - start[1],
                                              self->n_failed - start[2]);
    }
  g_ptr_array_set_size (self->backup_now, 0);
}

static void
engine_state_cb (GObject      *object,
                 GParamSpec   *pspec,
                 EiderService *self)
{
  /* A walk that ended may have found files. */
  if (!eider_engine_get_scanning (self->engine))
    update_counts (self);
  update_state (self);
  if (!eider_engine_get_busy (self->engine))
    {
      /* Nothing in flight (files stopped by a pause are not finished). */
      g_hash_table_remove_all (self->progress);
      g_queue_clear_full (&self->speed_samples, g_free);
      eider_dbus_engine1_set_upload_speed (self->skeleton, 0);
    }
  answer_backup_now (self);
}

static void
pause_reason_cb (EiderEngine  *engine,
                 GParamSpec   *pspec,
                 EiderService *self)
{
  const char *reason = eider_engine_get_pause_reason (engine);

  /* A pause on request was logged with the request; a condition (network,
   * battery, schedule…) says itself what it is. */
  if (self->mode == EIDER_SERVICE_MODE_DAEMON)
    {
      if (reason != NULL && !self->user_paused)
        {
          if (g_strcmp0 (reason, eider_engine_get_gate (engine)) == 0)
            g_print ("%s.\n", reason);
          else
            g_print ("Paused: %s\n", reason);
        }
      else if (reason == NULL)
        g_print ("Running.\n");
    }

  update_state (self);
}

/* Progress */

static void
update_speed (EiderService *self,
              guint64       bytes)
{
  gint64 now = g_get_monotonic_time ();
  SpeedSample *sample = g_new (SpeedSample, 1);
  SpeedSample *oldest;
  guint64 sum = 0;
  gint64 span;

  sample->time_us = now;
  sample->bytes = bytes;
  g_queue_push_tail (&self->speed_samples, sample);
  while ((oldest = g_queue_peek_head (&self->speed_samples)) != NULL &&
         now - oldest->time_us > SPEED_WINDOW_US)
    g_free (g_queue_pop_head (&self->speed_samples));

  for (GList *l = self->speed_samples.head; l != NULL; l = l->next)
    sum += ((SpeedSample *) l->data)->bytes;
  /* At least a second, so that the first batch does not boast. */
  oldest = g_queue_peek_head (&self->speed_samples);
  span = MAX (now - oldest->time_us + PROGRESS_INTERVAL_MS * 1000, G_USEC_PER_SEC);
  eider_dbus_engine1_set_upload_speed (self->skeleton, (guint64) ((double) sum * G_USEC_PER_SEC / span));
}

static gboolean
flush_progress_cb (gpointer user_data)
{
  EiderService *self = user_data;
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(xtt)"));
  GHashTableIter iter;
  gpointer key, value;
  guint64 sent = 0;

  self->flush_id = 0;
  if (self->counts_dirty)
    update_counts (self);
  if (g_hash_table_size (self->progress) == 0)
    return G_SOURCE_REMOVE;

  g_hash_table_iter_init (&iter, self->progress);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      ProgressEntry *entry = value;

      g_variant_builder_add (&builder, "(xtt)", *(gint64 *) key, (guint64) entry->done,
                             (guint64) entry->total);
      if (entry->done > entry->reported)
        sent += entry->done - entry->reported;
      entry->reported = entry->done;
    }

  update_speed (self, sent);
  eider_dbus_engine1_emit_progress (self->skeleton, g_variant_builder_end (&builder));

  return G_SOURCE_REMOVE;
}

/* One timer at a time: at most one batch per interval, and none while
 * nothing happens. */
static void
schedule_flush (EiderService *self)
{
  if (self->flush_id == 0)
    self->flush_id = g_timeout_add (PROGRESS_INTERVAL_MS, flush_progress_cb, self);
}

static void
file_progress_cb (EiderEngine  *engine,
                  gint64        file_id,
                  gint64        done,
                  gint64        total,
                  EiderService *self)
{
  ProgressEntry *entry = g_hash_table_lookup (self->progress, &file_id);

  if (entry == NULL)
    {
      entry = g_new0 (ProgressEntry, 1);
      /* A resumed upload starts with what the server has: not sent now. */
      entry->reported = done;
      g_hash_table_insert (self->progress, g_memdup2 (&file_id, sizeof file_id), entry);
    }
  entry->done = MAX (entry->done, done);
  entry->total = total;

  schedule_flush (self);
}

static void
file_started_cb (EiderEngine  *engine,
                 gint64        file_id,
                 const char   *path,
                 gint64        size,
                 EiderService *self)
{
  g_autofree char *display = g_filename_display_name (path);

  update_counts (self);
  eider_dbus_engine1_emit_file_started (self->skeleton, file_id, display, MAX (size, 0));
}

/* Reasons cross the interface as codes (their nicks) and details; each
 * client says them in its own language (eider_reason_describe). */
static const char *
reason_nick (int code)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (EIDER_TYPE_REASON);
  GEnumValue *value = g_enum_get_value (klass, code);

  return value != NULL && code != EIDER_REASON_NONE ? value->value_nick : "";
}

static void
file_finished_cb (EiderEngine  *engine,
                  gint64        file_id,
                  const char   *path,
                  int           state,
                  int           reason_code,
                  const char   *reason_details,
                  gint64        size,
                  EiderService *self)
{
  g_autofree char *display = g_filename_display_name (path);

  switch (state)
    {
    case EIDER_FILE_UPLOADED:
      self->n_uploaded++;
      break;
    case EIDER_FILE_SKIPPED:
      self->n_skipped++;
      break;
    case EIDER_FILE_FAILED:
      self->n_failed++;
      break;
    default:
      break;
    }

  /* The last progress of the file goes out before it is finished, and the
   * counts are current when the signal arrives. */
  if (g_hash_table_contains (self->progress, &file_id))
    {
      g_clear_handle_id (&self->flush_id, g_source_remove);
      flush_progress_cb (self);
      g_hash_table_remove (self->progress, &file_id);
    }
  update_counts (self);
  g_dbus_interface_skeleton_flush (G_DBUS_INTERFACE_SKELETON (self->skeleton));
  eider_dbus_engine1_emit_file_finished (self->skeleton, file_id, display,
                                         eider_file_state_to_string (state),
                                         reason_nick (reason_code),
                                         reason_details != NULL ? reason_details : "");
  answer_backup_now (self);
}

/* The account's storage, read at start and whenever the engine goes idle. */

static void
details_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(EiderService) self = user_data;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *details, *subscription;

  self->reading_storage = FALSE;
  node = eider_api_call_finish (EIDER_API (object), result, &error);
  if (self->stopping)
    {
      /* It waited for this answer (see finish ()). */
      finish (self);
      return;
    }
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("Could not read the account's storage: %s", error->message);
      return;
    }

  details = json_node_get_object (node);
  eider_dbus_engine1_set_storage_used (self->skeleton,
                                       MAX (json_object_get_int_member_with_default (details, "usage", 0), 0));
  subscription = json_object_has_member (details, "subscription")
                 ? json_object_get_object_member (details, "subscription") : NULL;
  if (subscription != NULL)
    eider_dbus_engine1_set_storage_quota (self->skeleton,
                                          MAX (json_object_get_int_member_with_default (subscription, "storage", 0)
                                               + json_object_get_int_member_with_default (details, "storageBonus", 0), 0));
}

static void
read_storage (EiderService *self)
{
  if (self->reading_storage || self->stopping ||
      eider_account_get_state (self->account) != EIDER_ACCOUNT_STATE_LOGGED_IN)
    return;

  self->reading_storage = TRUE;
  eider_api_call_async (eider_account_get_api (self->account), "GET",
                        "/users/details/v2?memoryCount=false", NULL, EIDER_API_CALL_AUTH,
                        self->cancellable, details_cb, g_object_ref (self));
}

static void
busy_cb (EiderEngine  *engine,
         GParamSpec   *pspec,
         EiderService *self)
{
  if (!eider_engine_get_busy (engine))
    read_storage (self);
}

static void
update_account (EiderService *self)
{
  eider_dbus_engine1_set_account_email (self->skeleton,
                                        eider_account_get_email (self->account) != NULL
                                        ? eider_account_get_email (self->account) : "");
  eider_dbus_engine1_set_account_server (self->skeleton,
                                         eider_account_get_endpoint (self->account) != NULL
                                         ? eider_account_get_endpoint (self->account) : "");
}

/* Pause, resume, back up anyway */

static gboolean
set_paused (EiderService  *self,
            gboolean       paused,
            GError       **error)
{
  /* Persisted first, so that what the engine does survives a restart. */
  if (!eider_store_set_meta (self->store, META_PAUSED, paused ? "1" : "0", error))
    return FALSE;

  if (self->user_paused != paused)
    {
      self->user_paused = paused;
      g_print ("%s on request.\n", paused ? "Pausing" : "Resuming");
      eider_engine_set_user_paused (self->engine, paused);
    }
  update_state (self);

  return TRUE;
}

static gboolean
set_watch_paused (EiderService  *self,
                  const char    *path,
                  gboolean       paused,
                  GError       **error)
{
  g_autoptr(EiderWatch) watch = NULL;
  g_autofree char *display = NULL;

  if ((watch = find_watch_by_path (self, path, error)) == NULL ||
      !eider_store_set_watch_paused (self->store, watch->id, paused, error))
    return FALSE;

  display = g_filename_display_name (watch->path);
  g_print ("%s %s on request.\n", paused ? "Pausing" : "Resuming", display);

  /* A paused folder's files are no longer due (the store leaves them out)
   * and those in flight stop resumably; a resumed one is walked again so
   * that its files are picked up. */
  eider_engine_set_watch_paused (self->engine, watch->id, paused);
  folders_changed (self);

  return TRUE;
}

static void
override_cb (EiderPolicy  *policy,
             GParamSpec   *pspec,
             EiderService *self)
{
  g_autoptr(GError) error = NULL;

  update_override (self);
  if (eider_policy_get_override_active (policy))
    return;

  g_print ("No longer backing up anyway.\n");
  if (!eider_store_set_meta (self->store, META_OVERRIDE_UNTIL, "0", &error))
    g_printerr ("Could not record the end of “back up anyway”: %s\n", error->message);
}

/* "Back up anyway": until the conditions change (@hours 0), or for @hours,
 * which a restart keeps. */
static gboolean
back_up_anyway (EiderService  *self,
                guint          hours,
                gboolean      *overridden,
                char         **lifted,
                GError       **error)
{
  *lifted = g_strdup (eider_policy_get_reason (self->policy));

  if (hours == 0)
    {
      *overridden = eider_policy_override_until_change (self->policy);
      if (*overridden)
        g_print ("Backing up anyway until the conditions change (%s).\n", *lifted);
    }
  else
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_local ();
      g_autoptr(GDateTime) until = g_date_time_add_hours (now, hours);
      g_autofree char *until_text = g_strdup_printf ("%" G_GINT64_FORMAT, g_date_time_to_unix (until));
      g_autofree char *when = g_date_time_format (until, "%H:%M");

      if (!eider_store_set_meta (self->store, META_OVERRIDE_UNTIL, until_text, error))
        return FALSE;
      eider_policy_override_until (self->policy, g_date_time_to_unix (until));
      g_print ("Backing up anyway until %s.\n", when);
      *overridden = TRUE;
    }

  update_override (self);
  return TRUE;
}

/* Method handlers */

static gboolean
parse_folder_options (GVariant      *options,
                      EiderWatch    *watch,
                      gboolean       adding,
                      GError       **error)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_iter_init (&iter, options);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      const char *text = g_variant_is_of_type (value, G_VARIANT_TYPE_STRING)
                         ? g_variant_get_string (value, NULL) : NULL;

      if (text == NULL)
        {
          g_set_error (error, EIDER_HOST_ERROR, EIDER_HOST_ERROR_INVALID_ARGS,
                       "The option “%s” takes a string", key);
          return FALSE;
        }

      if (g_str_equal (key, "on-edit") && (g_str_equal (text, "replace") || g_str_equal (text, "keep-both")))
        watch->keep_edits = g_str_equal (text, "keep-both");
      else if (g_str_equal (key, "on-delete") && (g_str_equal (text, "leave-album") || g_str_equal (text, "keep")))
        watch->keep_deleted = g_str_equal (text, "keep");
      else if (adding && g_str_equal (key, "mapping") &&
               (g_str_equal (text, "one-album") || g_str_equal (text, "album-per-folder")))
        watch->mapping = g_str_equal (text, "one-album") ? EIDER_MAPPING_ONE_ALBUM
                                                         : EIDER_MAPPING_ALBUM_PER_FOLDER;
      else if (adding && g_str_equal (key, "album") && *text != '\0')
        {
          g_free (watch->album_name);
          watch->album_name = g_strdup (text);
        }
      else
        {
          g_set_error (error, EIDER_HOST_ERROR, EIDER_HOST_ERROR_INVALID_ARGS,
                       "Unknown folder option or value: %s = “%s” (on-edit: replace | keep-both; "
                       "on-delete: leave-album | keep%s)", key, text,
                       adding ? "; mapping: one-album | album-per-folder; album: a name" : "");
          return FALSE;
        }
    }

  if (watch->album_name != NULL && watch->mapping == EIDER_MAPPING_ALBUM_PER_FOLDER)
    {
      g_set_error_literal (error, EIDER_HOST_ERROR, EIDER_HOST_ERROR_INVALID_ARGS,
                           "An album name goes with one album for the folder, not one per folder");
      return FALSE;
    }

  return TRUE;
}

static gboolean
handle_add_folder_cb (EiderDBusEngine1      *skeleton,
                      GDBusMethodInvocation *invocation,
                      const char            *path,
                      GVariant              *options,
                      EiderService          *self)
{
  g_autoptr(EiderWatch) wanted = g_new0 (EiderWatch, 1);
  g_autoptr(EiderWatch) watch = NULL;
  g_autofree char *real = NULL;
  g_autofree char *display = g_filename_display_name (path);
  GError *error = NULL;

  if (refuse_one_time (self, invocation))
    return TRUE;

  if (!parse_folder_options (options, wanted, TRUE, &error))
    return return_error (invocation, error);

  real = realpath (path, NULL);
  if (real == NULL || !g_file_test (real, G_FILE_TEST_IS_DIR))
    return return_error (invocation, g_error_new (EIDER_HOST_ERROR, EIDER_HOST_ERROR_NOT_FOUND,
                                                  "%s is not a folder", display));

  if (!eider_store_begin (self->store, &error))
    return return_error (invocation, error);
  if ((watch = eider_store_add_watch (self->store, real, wanted->mapping, wanted->album_name, &error)) == NULL ||
      !eider_store_set_watch_options (self->store, watch->id, wanted->keep_edits, wanted->keep_deleted, &error) ||
      !eider_store_commit (self->store, &error))
    {
      eider_store_rollback (self->store);
      return return_error (invocation, error);
    }
  watch->keep_edits = wanted->keep_edits;
  watch->keep_deleted = wanted->keep_deleted;

  {
    g_autoptr(GPtrArray) added = g_ptr_array_new ();
    g_autofree char *shown = g_filename_display_name (watch->path);

    g_ptr_array_add (added, watch);
    watch_roots (self, added);
    g_print ("Now watching %s.\n", shown);
  }
  eider_engine_rescan_watch (self->engine, watch->id);
  folders_changed (self);

  eider_dbus_engine1_complete_add_folder (skeleton, invocation, folder_to_variant (self, watch));
  return TRUE;
}

static gboolean
handle_remove_folder_cb (EiderDBusEngine1      *skeleton,
                         GDBusMethodInvocation *invocation,
                         const char            *path,
                         EiderService          *self)
{
  g_autoptr(EiderWatch) watch = NULL;
  g_autofree char *display = NULL;
  GError *error = NULL;

  if (refuse_one_time (self, invocation))
    return TRUE;

  if ((watch = find_watch_by_path (self, path, &error)) == NULL ||
      !eider_store_remove_watch (self->store, watch->id, &error))
    return return_error (invocation, error);

  eider_watcher_remove_root (self->watcher, watch->id);
  g_hash_table_remove (self->watched, &watch->id);
  display = g_filename_display_name (watch->path);
  g_print ("Stopped watching %s.\n", display);
  folders_changed (self);

  eider_dbus_engine1_complete_remove_folder (skeleton, invocation);
  return TRUE;
}

static gboolean
handle_set_folder_options_cb (EiderDBusEngine1      *skeleton,
                              GDBusMethodInvocation *invocation,
                              const char            *path,
                              GVariant              *options,
                              EiderService          *self)
{
  g_autoptr(EiderWatch) watch = NULL;
  GError *error = NULL;

  if (refuse_one_time (self, invocation))
    return TRUE;

  if ((watch = find_watch_by_path (self, path, &error)) == NULL ||
      !parse_folder_options (options, watch, FALSE, &error) ||
      !eider_store_set_watch_options (self->store, watch->id, watch->keep_edits,
                                      watch->keep_deleted, &error))
    return return_error (invocation, error);

  folders_changed (self);
  eider_dbus_engine1_complete_set_folder_options (skeleton, invocation, folder_to_variant (self, watch));
  return TRUE;
}

static gboolean
handle_list_folders_cb (EiderDBusEngine1      *skeleton,
                        GDBusMethodInvocation *invocation,
                        EiderService          *self)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("aa{sv}"));
  g_autoptr(GPtrArray) watches = NULL;
  GError *error = NULL;

  if ((watches = eider_store_list_watches (self->store, &error)) == NULL)
    return return_error (invocation, error);

  for (guint i = 0; i < watches->len; i++)
    g_variant_builder_add_value (&builder, folder_to_variant (self, g_ptr_array_index (watches, i)));

  eider_dbus_engine1_complete_list_folders (skeleton, invocation, g_variant_builder_end (&builder));
  return TRUE;
}

static gboolean
handle_pause_resume (EiderService          *self,
                     GDBusMethodInvocation *invocation,
                     const char            *path,
                     gboolean               pause)
{
  GError *error = NULL;

  if (refuse_one_time (self, invocation))
    return TRUE;

  if (*path == '\0' ? !set_paused (self, pause, &error)
                    : !set_watch_paused (self, path, pause, &error))
    return return_error (invocation, error);

  g_dbus_method_invocation_return_value (invocation, NULL);
  return TRUE;
}

static gboolean
handle_pause_cb (EiderDBusEngine1      *skeleton,
                 GDBusMethodInvocation *invocation,
                 const char            *path,
                 EiderService          *self)
{
  return handle_pause_resume (self, invocation, path, TRUE);
}

static gboolean
handle_resume_cb (EiderDBusEngine1      *skeleton,
                  GDBusMethodInvocation *invocation,
                  const char            *path,
                  EiderService          *self)
{
  return handle_pause_resume (self, invocation, path, FALSE);
}

static gboolean
handle_back_up_anyway_cb (EiderDBusEngine1      *skeleton,
                          GDBusMethodInvocation *invocation,
                          guint                  hours,
                          EiderService          *self)
{
  g_autofree char *lifted = NULL;
  gboolean overridden = FALSE;
  GError *error = NULL;

  if (refuse_one_time (self, invocation))
    return TRUE;

  if (hours > 24 * 365)
    return return_error (invocation, g_error_new_literal (EIDER_HOST_ERROR, EIDER_HOST_ERROR_INVALID_ARGS,
                                                          "Back up anyway for at most 8760 hours (a year)"));

  if (!back_up_anyway (self, hours, &overridden, &lifted, &error))
    return return_error (invocation, error);

  eider_dbus_engine1_complete_back_up_anyway (skeleton, invocation, overridden,
                                              lifted != NULL ? lifted : "",
                                              eider_dbus_engine1_get_back_up_anyway_until (skeleton));
  return TRUE;
}

static gboolean
handle_cancel_back_up_anyway_cb (EiderDBusEngine1      *skeleton,
                                 GDBusMethodInvocation *invocation,
                                 EiderService          *self)
{
  GError *error = NULL;

  if (refuse_one_time (self, invocation))
    return TRUE;

  if (!eider_store_set_meta (self->store, META_OVERRIDE_UNTIL, "0", &error))
    return return_error (invocation, error);
  eider_policy_cancel_override (self->policy);
  update_override (self);

  eider_dbus_engine1_complete_cancel_back_up_anyway (skeleton, invocation);
  return TRUE;
}

static void
rescan_all (EiderService *self)
{
  g_autoptr(GPtrArray) watches = eider_store_list_watches (self->store, NULL);

  for (guint i = 0; watches != NULL && i < watches->len; i++)
    eider_engine_rescan_watch (self->engine, ((EiderWatch *) g_ptr_array_index (watches, i))->id);
}

static gboolean
handle_rescan_cb (EiderDBusEngine1      *skeleton,
                  GDBusMethodInvocation *invocation,
                  const char            *path,
                  EiderService          *self)
{
  g_autoptr(EiderWatch) watch = NULL;
  GError *error = NULL;

  if (refuse_one_time (self, invocation))
    return TRUE;

  if (*path == '\0')
    rescan_all (self);
  else if ((watch = find_watch_by_path (self, path, &error)) == NULL)
    return return_error (invocation, error);
  else
    eider_engine_rescan_watch (self->engine, watch->id);

  eider_dbus_engine1_complete_rescan (skeleton, invocation);
  return TRUE;
}

static gboolean
handle_backup_now_cb (EiderDBusEngine1      *skeleton,
                      GDBusMethodInvocation *invocation,
                      EiderService          *self)
{
  guint *start;

  if (refuse_one_time (self, invocation))
    return TRUE;

  /* A request for now, as a one-time backup alone would be: the
   * conditions that hold are lifted until they change. */
  if (eider_policy_get_reason (self->policy) != NULL &&
      eider_policy_override_until_change (self->policy))
    g_print ("Backing up anyway until the conditions change (a backup was asked for).\n");
  update_override (self);

  start = g_new (guint, 3);
  start[0] = self->n_uploaded;
  start[1] = self->n_skipped;
  start[2] = self->n_failed;
  g_object_set_data_full (G_OBJECT (invocation), "eider-counts", start, g_free);
  /* The array's reference; the call's own goes with its answer. */
  g_ptr_array_add (self->backup_now, g_object_ref (invocation));

  rescan_all (self);
  answer_backup_now (self);
  return TRUE;
}

/* Failed files are tried again at once: back to pending, and handed to
 * the engine as if they had just changed. */
static void
note_retried (EiderService *self,
              GPtrArray    *records)
{
  for (guint i = 0; i < records->len; i++)
    {
      EiderFileRecord *record = g_ptr_array_index (records, i);
      const char *paths[] = { record->path, NULL };

      eider_engine_note_paths (self->engine, record->watch_id, paths);
    }
  update_counts (self);
}

static gboolean
handle_retry_file_cb (EiderDBusEngine1      *skeleton,
                      GDBusMethodInvocation *invocation,
                      gint64                 file_id,
                      EiderService          *self)
{
  g_autoptr(EiderFileRecord) record = NULL;
  g_autoptr(GPtrArray) records = g_ptr_array_new ();
  GError *error = NULL;

  if (refuse_one_time (self, invocation))
    return TRUE;

  record = eider_store_get_file (self->store, file_id);
  if (record == NULL)
    return return_error (invocation, g_error_new (EIDER_HOST_ERROR, EIDER_HOST_ERROR_NOT_FOUND,
                                                  "No file has the id %" G_GINT64_FORMAT, file_id));
  if (record->state != EIDER_FILE_FAILED)
    return return_error (invocation, g_error_new (EIDER_HOST_ERROR, EIDER_HOST_ERROR_INVALID_ARGS,
                                                  "File %" G_GINT64_FORMAT " has not failed (it is %s)",
                                                  file_id, eider_file_state_to_string (record->state)));

  if (!eider_store_set_file_state (self->store, file_id, EIDER_FILE_PENDING, EIDER_REASON_NONE, NULL, &error))
    return return_error (invocation, error);

  g_ptr_array_add (records, record);
  note_retried (self, records);
  eider_dbus_engine1_complete_retry_file (skeleton, invocation);
  return TRUE;
}

static gboolean
handle_retry_failed_cb (EiderDBusEngine1      *skeleton,
                        GDBusMethodInvocation *invocation,
                        EiderService          *self)
{
  g_autoptr(GPtrArray) failed = NULL;
  GError *error = NULL;
  guint n;

  if (refuse_one_time (self, invocation))
    return TRUE;

  if ((failed = eider_store_list_files_in_state (self->store, EIDER_FILE_FAILED, &error)) == NULL)
    return return_error (invocation, error);
  n = eider_store_retry_failed (self->store, &error);
  if (error != NULL)
    return return_error (invocation, error);

  note_retried (self, failed);
  eider_dbus_engine1_complete_retry_failed (skeleton, invocation, n);
  return TRUE;
}

static gboolean
handle_list_files_cb (EiderDBusEngine1      *skeleton,
                      GDBusMethodInvocation *invocation,
                      const char            *state_nick,
                      int                    offset,
                      int                    limit,
                      EiderService          *self)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(xaysxuss)"));
  g_autoptr(GPtrArray) page = NULL;
  EiderStoreCounts counts = { { 0 } };
  GError *error = NULL;
  int state = -1;

  for (guint s = EIDER_FILE_PENDING; s <= EIDER_FILE_FAILED; s++)
    if (g_strcmp0 (state_nick, eider_file_state_to_string (s)) == 0)
      state = s;

  if (state < 0)
    return return_error (invocation, g_error_new (EIDER_HOST_ERROR, EIDER_HOST_ERROR_INVALID_ARGS,
                                                  "No file state is called “%s” (pending, working, "
                                                  "uploaded, skipped, failed)", state_nick));
  if (offset < 0 || limit < 0 || limit > MAX_PAGE)
    return return_error (invocation, g_error_new (EIDER_HOST_ERROR, EIDER_HOST_ERROR_INVALID_ARGS,
                                                  "A page starts at 0 or later and holds 0 to %d files "
                                                  "(asked: offset %d, limit %d)", MAX_PAGE, offset, limit));

  if (!eider_store_get_counts (self->store, &counts, &error) ||
      (page = eider_store_list_files_page (self->store, state, offset, limit, &error)) == NULL)
    return return_error (invocation, error);

  for (guint i = 0; i < page->len; i++)
    {
      EiderFileRecord *record = g_ptr_array_index (page, i);
      g_autofree char *display = g_filename_display_name (record->path);

      g_variant_builder_add (&builder, "(x^aysxuss)", record->id, record->path, display,
                             record->stat.size, (guint32) MAX (record->attempts, 0),
                             reason_nick (record->reason_code),
                             record->reason_details != NULL ? record->reason_details : "");
    }

  eider_dbus_engine1_complete_list_files (skeleton, invocation, g_variant_builder_end (&builder),
                                          counts.n_by_state[state]);
  return TRUE;
}

static void
restarted_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(EiderService) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!eider_engine_stop_finish (EIDER_ENGINE (object), result, &error))
    g_warning ("Could not stop the engine to log in again: %s", error->message);
  if (!self->stopping)
    eider_engine_start (self->engine);
}

static gboolean
handle_reload_account_cb (EiderDBusEngine1      *skeleton,
                          GDBusMethodInvocation *invocation,
                          EiderService          *self)
{
  gboolean was_logged_in = eider_account_get_state (self->account) == EIDER_ACCOUNT_STATE_LOGGED_IN;
  GError *error = NULL;

  if (refuse_one_time (self, invocation))
    return TRUE;

  if (!eider_account_load (self->account, &error))
    return return_error (invocation, error);

  update_account (self);
  if (eider_account_get_state (self->account) != EIDER_ACCOUNT_STATE_LOGGED_IN)
    {
      update_state (self);
      return return_error (invocation, g_error_new_literal (EIDER_HOST_ERROR, EIDER_HOST_ERROR_NOT_LOGGED_IN,
                                                            "The account is not logged in: log in first"));
    }

  /* A new session: the engine starts over with it (what was in flight
   * stays resumable). */
  if (!was_logged_in || eider_engine_get_pause_reason (self->engine) != NULL)
    {
      g_print ("Logged in again: backing up.\n");
      eider_engine_stop_async (self->engine, NULL, restarted_cb, g_object_ref (self));
    }
  read_storage (self);
  update_state (self);

  eider_dbus_engine1_complete_reload_account (skeleton, invocation);
  return TRUE;
}

static void
quit_flushed_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(EiderService) self = user_data;

  g_dbus_connection_flush_finish (G_DBUS_CONNECTION (object), result, NULL);
  eider_service_stop (self);
}

static gboolean
handle_quit_cb (EiderDBusEngine1      *skeleton,
                GDBusMethodInvocation *invocation,
                EiderService          *self)
{
  g_autoptr(GDBusConnection) connection = g_object_ref (g_dbus_method_invocation_get_connection (invocation));

  /* The answer leaves before the host does. */
  eider_dbus_engine1_complete_quit (skeleton, invocation);
  g_dbus_connection_flush (connection, NULL, quit_flushed_cb, g_object_ref (self));
  return TRUE;
}

/* Transports */

static void
connection_closed_cb (GDBusConnection *connection,
                      gboolean         remote_peer_vanished,
                      GError          *error,
                      EiderService    *self)
{
  g_dbus_interface_skeleton_unexport_from_connection (G_DBUS_INTERFACE_SKELETON (self->skeleton),
                                                      connection);
  g_signal_handlers_disconnect_by_data (connection, self);
  g_ptr_array_remove (self->connections, connection);
}

static gboolean
new_connection_cb (GDBusServer     *server,
                   GDBusConnection *connection,
                   EiderService    *self)
{
  g_autoptr(GError) error = NULL;

  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->skeleton), connection,
                                         EIDER_HOST_OBJECT_PATH, &error))
    {
      g_warning ("Could not serve a client: %s", error->message);
      return FALSE;
    }

  g_ptr_array_add (self->connections, g_object_ref (connection));
  g_signal_connect (connection, "closed", G_CALLBACK (connection_closed_cb), self);

  return TRUE;
}

static gboolean
listen_on_socket (EiderService  *self,
                  GError       **error)
{
  g_autofree char *guid = g_dbus_generate_guid ();
  g_autofree char *escaped = NULL;
  g_autofree char *address = NULL;

  self->socket_path = eider_client_socket_path (self->state_dir);
  /* We hold the directory's lock: a socket there is a dead host's. */
  g_unlink (self->socket_path);

  escaped = g_dbus_address_escape_value (self->socket_path);
  address = g_strdup_printf ("unix:path=%s", escaped);
  self->server = g_dbus_server_new_sync (address,
                                         G_DBUS_SERVER_FLAGS_AUTHENTICATION_REQUIRE_SAME_USER,
                                         guid, NULL, NULL, error);
  if (self->server == NULL)
    {
      g_prefix_error (error, "Could not listen on %s: ", self->socket_path);
      return FALSE;
    }

  if (g_chmod (self->socket_path, 0600) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "Could not protect %s: %s",
                   self->socket_path, g_strerror (saved));
      return FALSE;
    }

  g_signal_connect (self->server, "new-connection", G_CALLBACK (new_connection_cb), self);
  g_dbus_server_start (self->server);

  return TRUE;
}

static void
name_lost_cb (GDBusConnection *connection,
              const char      *name,
              gpointer         user_data)
{
  if (connection != NULL)
    g_print ("Another Eider has the name %s on the session bus: this one is reached through its "
             "socket only.\n", name);
}

/* The session bus, when there is one: the same object, under a name that
 * activation knows. Without DBUS_SESSION_BUS_ADDRESS or a user bus in
 * XDG_RUNTIME_DIR there is none: GLib's fallback would start a bus for
 * X11, which a host on a server must not do. */
static void
export_on_session_bus (EiderService *self)
{
  g_autofree char *user_bus = g_build_filename (g_get_user_runtime_dir (), "bus", NULL);
  g_autoptr(GError) error = NULL;

  if (g_getenv ("DBUS_SESSION_BUS_ADDRESS") == NULL && !g_file_test (user_bus, G_FILE_TEST_EXISTS))
    return;

  self->session = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (self->session == NULL ||
      !g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->skeleton), self->session,
                                         EIDER_HOST_OBJECT_PATH, &error))
    {
      g_debug ("Not on the session bus: %s", error->message);
      g_clear_object (&self->session);
      return;
    }

  self->name_id = g_bus_own_name_on_connection (self->session, EIDER_HOST_BUS_NAME,
                                                G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                                NULL, name_lost_cb, NULL, NULL);
}

/* Running */

/* Off every transport. The socket goes before the lock: once the lock is
 * free, the path may belong to the next host. */
static void
withdraw (EiderService *self)
{
  for (guint i = 0; self->backup_now != NULL && i < self->backup_now->len; i++)
    g_dbus_method_invocation_return_error_literal (g_ptr_array_index (self->backup_now, i),
                                                   EIDER_HOST_ERROR, EIDER_HOST_ERROR_FAILED,
                                                   "Eider stopped before the backup was done");
  g_clear_pointer (&self->backup_now, g_ptr_array_unref);
  g_clear_handle_id (&self->name_id, g_bus_unown_name);
  if (self->skeleton != NULL &&
      g_dbus_interface_skeleton_get_connection (G_DBUS_INTERFACE_SKELETON (self->skeleton)) != NULL)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->skeleton));
  for (guint i = 0; self->connections != NULL && i < self->connections->len; i++)
    {
      GDBusConnection *connection = g_ptr_array_index (self->connections, i);

      g_signal_handlers_disconnect_by_data (connection, self);
      g_dbus_connection_close (connection, NULL, NULL, NULL);
    }
  g_clear_pointer (&self->connections, g_ptr_array_unref);
  if (self->server != NULL)
    {
      g_dbus_server_stop (self->server);
      g_clear_object (&self->server);
      /* The socket goes before the lock: once the lock is free, the path
       * may belong to the next host. */
      g_unlink (self->socket_path);
    }
  g_clear_object (&self->session);
}

static void
finish (EiderService *self)
{
  if (self->stopped)
    return;

  /* Nothing of the host's may be left in flight: a request still out is
   * cancelled, and its answer finishes. */
  self->stopping = TRUE;
  g_cancellable_cancel (self->cancellable);
  if (self->reading_storage)
    return;

  self->stopped = TRUE;
  /* Stopped means written: the grouped writes go now, whatever may still
   * hold the store (and any later write commits at once). */
  if (self->store != NULL)
    eider_store_set_commit_delay (self->store, 0);
  withdraw (self);
  g_signal_emit (self, signals[STOPPED], 0);
}

static void
run_once_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(EiderService) self = user_data;

  eider_engine_run_once_finish (EIDER_ENGINE (object), result, &self->result);
  finish (self);
}

static void
engine_stopped_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(EiderService) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!eider_engine_stop_finish (EIDER_ENGINE (object), result, &error) && self->result == NULL)
    self->result = g_error_new (EIDER_HOST_ERROR, EIDER_HOST_ERROR_FAILED,
                                "Could not stop cleanly: %s", error->message);
  else if (self->mode == EIDER_SERVICE_MODE_ONE_TIME && self->result == NULL)
    self->result = g_error_new_literal (EIDER_HOST_ERROR, EIDER_HOST_ERROR_FAILED,
                                        "Stopped before the backup was done");
  finish (self);
}

static void
first_backup_done_cb (EiderFrontend *frontend,
                      GParamSpec    *pspec,
                      EiderService  *self)
{
  g_autoptr(GError) error = NULL;

  if (!eider_frontend_get_first_backup_done (frontend))
    return;

  g_print ("The first backup is done.\n");
  if (!eider_store_set_meta (self->store, META_FIRST_BACKUP_DONE, "1", &error))
    g_printerr ("Could not record that the first backup is done: %s\n", error->message);
}

static void
inhibiting_cb (EiderFrontend *frontend,
               GParamSpec    *pspec,
               EiderService  *self)
{
  if (eider_frontend_get_inhibiting (frontend))
    g_print ("Keeping the computer awake during the first backup.\n");
  else
    g_print ("The computer may suspend again.\n");
}

static void
gate_cb (EiderPolicy  *policy,
         GParamSpec   *pspec,
         EiderService *self)
{
  update_state (self);
}

/* The daemon: the conditions decide when uploads run, and the watcher
 * reports changes as they happen. */
static gboolean
start_daemon (EiderService  *self,
              GPtrArray     *watches,
              GError       **error)
{
  g_autofree char *paused = NULL;
  g_autofree char *override_until = NULL;
  g_autofree char *first_done = NULL;
  guint n_paused_watches = 0;

  self->policy = eider_policy_new ();
  override_until = eider_store_get_meta (self->store, META_OVERRIDE_UNTIL);
  if (override_until != NULL &&
      g_ascii_strtoll (override_until, NULL, 10) > g_get_real_time () / G_USEC_PER_SEC)
    eider_policy_override_until (self->policy, g_ascii_strtoll (override_until, NULL, 10));
  first_done = eider_store_get_meta (self->store, META_FIRST_BACKUP_DONE);

  self->watcher = eider_watcher_new ();
  g_settings_bind (self->settings, "poll-seconds", self->watcher, "poll-seconds", G_SETTINGS_BIND_GET);

  /* What was paused before the last stop stays paused. Paused folders
   * need nothing here: the store leaves their files out. */
  paused = eider_store_get_meta (self->store, META_PAUSED);
  self->user_paused = g_strcmp0 (paused, "1") == 0;
  if (self->user_paused)
    eider_engine_set_user_paused (self->engine, TRUE);
  for (guint i = 0; i < watches->len; i++)
    if (((EiderWatch *) g_ptr_array_index (watches, i))->paused)
      n_paused_watches++;

  self->frontend = eider_frontend_new (self->engine, self->policy, self->settings,
                                       g_strcmp0 (first_done, "1") == 0);
  g_signal_connect (self->frontend, "notify::first-backup-done", G_CALLBACK (first_backup_done_cb), self);
  g_signal_connect (self->frontend, "notify::inhibiting", G_CALLBACK (inhibiting_cb), self);
  g_signal_connect (self->policy, "notify::override-active", G_CALLBACK (override_cb), self);
  g_signal_connect (self->policy, "notify::reason", G_CALLBACK (gate_cb), self);
  g_signal_connect (self->policy, "notify::network-available", G_CALLBACK (gate_cb), self);
  g_signal_connect (self->watcher, "files-ready", G_CALLBACK (files_ready_cb), self);
  g_signal_connect (self->watcher, "file-moved", G_CALLBACK (file_moved_cb), self);
  g_signal_connect (self->watcher, "files-removed", G_CALLBACK (files_removed_cb), self);
  g_signal_connect (self->watcher, "root-availability", G_CALLBACK (root_availability_cb), self);
  g_signal_connect (self->watcher, "rescan-needed", G_CALLBACK (rescan_needed_cb), self);

  g_print ("Eider is running (pid %d) for %s, watching %u folder%s",
           (int) getpid (), eider_account_get_email (self->account), watches->len,
           watches->len == 1 ? "" : "s");
  if (n_paused_watches > 0)
    g_print (" (%u paused)", n_paused_watches);
  g_print ("%s.\n", self->user_paused ? "; paused (“eiderctl resume” continues)" : "");

  /* Watching starts before the first pass, so that nothing written
   * during it is missed. */
  watch_roots (self, watches);
  update_override (self);
  update_state (self);
  eider_engine_start (self->engine);
  self->rescan_id = g_timeout_add_seconds (FULL_RESCAN_SECONDS, full_rescan_cb, self);

  return TRUE;
}

gboolean
eider_service_start (EiderService  *self,
                     GError       **error)
{
  g_autofree char *db_path = NULL;
  g_autoptr(GPtrArray) watches = NULL;
  const char *retry_base = g_getenv ("EIDER_RETRY_BASE_MS");

  g_return_val_if_fail (EIDER_IS_SERVICE (self), FALSE);
  g_return_val_if_fail (!self->started, FALSE);

  self->started = TRUE;
#ifdef __GLIBC__
  /* One malloc arena for the whole host, before any thread makes its
   * own: malloc_trim() cannot give back the free top of another thread's
   * arena, which after a walk of 100,000 files kept 19 MB with 9 KB in use.
   * With one, the idle host over that tree uses 31 MB instead of 74. */
  mallopt (M_ARENA_MAX, 1);
#endif
  self->account = eider_account_new (self->config_dir);
  if (!eider_account_load (self->account, error))
    return FALSE;
  if (eider_account_get_state (self->account) != EIDER_ACCOUNT_STATE_LOGGED_IN)
    {
      g_set_error_literal (error, EIDER_HOST_ERROR, EIDER_HOST_ERROR_NOT_LOGGED_IN,
                           eider_account_get_state (self->account) == EIDER_ACCOUNT_STATE_NEEDS_LOGIN
                           ? "The Ente session has ended: log in again with “eiderctl account login”"
                           : "Not logged in: log in with “eiderctl account login” first");
      return FALSE;
    }

  /* The directory is taken before the store is opened: a second host must
   * not touch the state of the first. */
  if (g_mkdir_with_parents (self->state_dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "Could not create %s: %s",
                   self->state_dir, g_strerror (saved));
      return FALSE;
    }
  db_path = g_build_filename (self->state_dir, "eider.db", NULL);
  if ((self->instance = eider_instance_acquire (self->state_dir, error)) == NULL ||
      (self->store = eider_store_open (db_path, error)) == NULL ||
      (watches = eider_store_list_watches (self->store, error)) == NULL ||
      (self->settings = eider_settings_new (self->config_dir, error)) == NULL)
    return FALSE;

  self->engine = eider_engine_new (self->account, self->store);
  if (self->jobs > 0)
    eider_engine_set_max_jobs (self->engine, self->jobs);
  if (retry_base != NULL)
    eider_engine_set_retry_base_ms (self->engine, atoi (retry_base));

  eider_dbus_engine1_set_pid (self->skeleton, getpid ());
  eider_dbus_engine1_set_state_directory (self->skeleton, self->state_dir);
  eider_dbus_engine1_set_one_time (self->skeleton, self->mode == EIDER_SERVICE_MODE_ONE_TIME);
  update_account (self);
  update_counts (self);
  g_signal_connect (self->engine, "notify::pause-reason", G_CALLBACK (pause_reason_cb), self);
  g_signal_connect (self->engine, "notify::busy", G_CALLBACK (engine_state_cb), self);
  g_signal_connect (self->engine, "notify::scanning", G_CALLBACK (engine_state_cb), self);
  g_signal_connect (self->engine, "notify::busy", G_CALLBACK (busy_cb), self);
  g_signal_connect (self->engine, "file-started", G_CALLBACK (file_started_cb), self);
  g_signal_connect (self->engine, "file-finished", G_CALLBACK (file_finished_cb), self);
  g_signal_connect (self->engine, "file-progress", G_CALLBACK (file_progress_cb), self);

  if (!listen_on_socket (self, error))
    return FALSE;
  export_on_session_bus (self);
  read_storage (self);

  if (self->mode == EIDER_SERVICE_MODE_DAEMON)
    return start_daemon (self, watches, error);

  /* A one-time backup is a request for now: the conditions the daemon
   * waits for (network kind, battery, power saver, upload window) do not
   * hold it back, but the bandwidth cap still spares the network. */
  eider_settings_bind_bandwidth_limit (self->settings, self->engine);
  update_state (self);
  eider_engine_run_once_async (self->engine, NULL, run_once_cb, g_object_ref (self));

  return TRUE;
}

void
eider_service_stop (EiderService *self)
{
  g_return_if_fail (EIDER_IS_SERVICE (self));

  if (self->stopped)
    return;

  if (self->stopping || self->engine == NULL)
    {
      /* Asked twice: what is in flight stays resumable in the store. */
      if (self->result == NULL)
        self->result = g_error_new_literal (EIDER_HOST_ERROR, EIDER_HOST_ERROR_FAILED,
                                            "Stopped without waiting for the files in flight");
      finish (self);
      return;
    }

  self->stopping = TRUE;
  eider_engine_stop_async (self->engine, NULL, engine_stopped_cb, g_object_ref (self));
}

gboolean
eider_service_get_result (EiderService  *self,
                          GError       **error)
{
  g_return_val_if_fail (EIDER_IS_SERVICE (self), FALSE);

  if (self->result != NULL)
    {
      g_propagate_error (error, g_error_copy (self->result));
      return FALSE;
    }

  return TRUE;
}

EiderDBusEngine1 *
eider_service_get_interface (EiderService *self)
{
  g_return_val_if_fail (EIDER_IS_SERVICE (self), NULL);

  return self->skeleton;
}

char *
eider_format_interval (guint seconds)
{
  if (seconds >= 3600 && seconds % 3600 == 0)
    return g_strdup_printf (seconds == 3600 ? "%u hour" : "%u hours", seconds / 3600);
  if (seconds >= 60 && seconds % 60 == 0)
    return g_strdup_printf (seconds == 60 ? "%u minute" : "%u minutes", seconds / 60);

  return g_strdup_printf (seconds == 1 ? "%u second" : "%u seconds", seconds);
}

EiderEngineState
eider_service_get_state (EiderService *self)
{
  g_return_val_if_fail (EIDER_IS_SERVICE (self), EIDER_ENGINE_STATE_IDLE);

  return self->state;
}

/* GObject */

static void
eider_service_dispose (GObject *object)
{
  EiderService *self = EIDER_SERVICE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->rescan_id, g_source_remove);
  g_clear_handle_id (&self->flush_id, g_source_remove);
  g_clear_handle_id (&self->trim_id, g_source_remove);


  withdraw (self);

  if (self->engine != NULL)
    g_signal_handlers_disconnect_by_data (self->engine, self);
  if (self->watcher != NULL)
    g_signal_handlers_disconnect_by_data (self->watcher, self);
  if (self->frontend != NULL)
    g_signal_handlers_disconnect_by_data (self->frontend, self);
  if (self->policy != NULL)
    g_signal_handlers_disconnect_by_data (self->policy, self);
  /* The bindings go before the engine: nothing steers it any more. */
  g_clear_object (&self->frontend);
  g_clear_object (&self->watcher);
  g_clear_object (&self->engine);
  g_clear_object (&self->policy);
  g_clear_object (&self->settings);
  g_clear_object (&self->store);
  g_clear_object (&self->account);
  g_clear_object (&self->skeleton);
  g_clear_object (&self->instance);

  G_OBJECT_CLASS (eider_service_parent_class)->dispose (object);
}

static void
eider_service_finalize (GObject *object)
{
  EiderService *self = EIDER_SERVICE (object);

  g_clear_pointer (&self->watched, g_hash_table_unref);
  g_clear_pointer (&self->progress, g_hash_table_unref);
  g_queue_clear_full (&self->speed_samples, g_free);
  g_clear_error (&self->result);
  g_clear_object (&self->cancellable);
  g_free (self->socket_path);
  g_free (self->config_dir);
  g_free (self->state_dir);

  G_OBJECT_CLASS (eider_service_parent_class)->finalize (object);
}

static void
eider_service_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  EiderService *self = EIDER_SERVICE (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
eider_service_class_init (EiderServiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = eider_service_dispose;
  object_class->finalize = eider_service_finalize;
  object_class->get_property = eider_service_get_property;

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       EIDER_TYPE_ENGINE_STATE, EIDER_ENGINE_STATE_IDLE,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * EiderService::stopped:
   *
   * The host stopped (asked to, or a one-time backup is over);
   * eider_service_get_result() tells how it went.
   */
  signals[STOPPED] =
    g_signal_new ("stopped", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
eider_service_init (EiderService *self)
{
  self->watched = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  self->progress = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  self->connections = g_ptr_array_new_with_free_func (g_object_unref);
  self->backup_now = g_ptr_array_new_with_free_func (g_object_unref);
  self->cancellable = g_cancellable_new ();
  g_queue_init (&self->speed_samples);
  self->skeleton = eider_dbus_engine1_skeleton_new ();
  g_object_bind_property_full (self, "state", self->skeleton, "state", G_BINDING_SYNC_CREATE,
                               state_to_nick, NULL, NULL, NULL);

  g_signal_connect (self->skeleton, "handle-add-folder", G_CALLBACK (handle_add_folder_cb), self);
  g_signal_connect (self->skeleton, "handle-remove-folder", G_CALLBACK (handle_remove_folder_cb), self);
  g_signal_connect (self->skeleton, "handle-set-folder-options", G_CALLBACK (handle_set_folder_options_cb), self);
  g_signal_connect (self->skeleton, "g-authorize-method", G_CALLBACK (authorize_method_cb), self);
  g_signal_connect (self->skeleton, "handle-list-folders", G_CALLBACK (handle_list_folders_cb), self);
  g_signal_connect (self->skeleton, "handle-pause", G_CALLBACK (handle_pause_cb), self);
  g_signal_connect (self->skeleton, "handle-resume", G_CALLBACK (handle_resume_cb), self);
  g_signal_connect (self->skeleton, "handle-back-up-anyway", G_CALLBACK (handle_back_up_anyway_cb), self);
  g_signal_connect (self->skeleton, "handle-cancel-back-up-anyway", G_CALLBACK (handle_cancel_back_up_anyway_cb), self);
  g_signal_connect (self->skeleton, "handle-rescan", G_CALLBACK (handle_rescan_cb), self);
  g_signal_connect (self->skeleton, "handle-backup-now", G_CALLBACK (handle_backup_now_cb), self);
  g_signal_connect (self->skeleton, "handle-retry-file", G_CALLBACK (handle_retry_file_cb), self);
  g_signal_connect (self->skeleton, "handle-retry-failed", G_CALLBACK (handle_retry_failed_cb), self);
  g_signal_connect (self->skeleton, "handle-list-files", G_CALLBACK (handle_list_files_cb), self);
  g_signal_connect (self->skeleton, "handle-reload-account", G_CALLBACK (handle_reload_account_cb), self);
  g_signal_connect (self->skeleton, "handle-quit", G_CALLBACK (handle_quit_cb), self);
}

EiderService *
eider_service_new (const char       *config_dir,
                   const char       *state_dir,
                   EiderServiceMode  mode)
{
  EiderService *self;

  g_return_val_if_fail (config_dir != NULL, NULL);
  g_return_val_if_fail (state_dir != NULL, NULL);

  self = g_object_new (EIDER_TYPE_SERVICE, NULL);
  self->config_dir = g_strdup (config_dir);
  self->state_dir = g_strdup (state_dir);
  self->mode = mode;

  return self;
}

void
eider_service_set_jobs (EiderService *self,
                        guint         jobs)
{
  g_return_if_fail (EIDER_IS_SERVICE (self));

  self->jobs = jobs;
}
