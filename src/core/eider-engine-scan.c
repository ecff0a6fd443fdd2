/* eider-engine-scan.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A pass: the remote index is pulled, then every watch is walked (stat
 * only) and what was found is recorded, one transaction per watch; what
 * vanished is left to eider-engine-moves.c. Files the watcher reports are
 * recorded the same way.
 */
#define G_LOG_DOMAIN "eider-engine"
#include "config.h"

#include <sys/stat.h>

#include "eider-engine-private.h"
#include "eider-media-names.h"

static void sync_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data);

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
      _eider_engine_log_store_error (error);
      return;
    }

  if (changed && entry->skip_reason != EIDER_REASON_NONE)
    {
      if (!eider_store_set_file_state (self->store, id, EIDER_FILE_SKIPPED, entry->skip_reason,
                                       entry->skip_details, &error))
        _eider_engine_log_store_error (error);
      _eider_engine_emit_file_finished (self, id, entry->path, EIDER_FILE_SKIPPED,
                                        entry->skip_reason, entry->skip_details, entry->stat.size);
    }
}

static void
apply_scan (EiderEngine *self,
            EiderWatch  *watch,
            GPtrArray   *entries)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GError) error = NULL;

  if (!eider_store_begin (self->store, &error))
    {
      _eider_engine_log_store_error (error);
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
      _eider_engine_log_store_error (error);
      return;
    }

  _eider_engine_settle_missing (self, watch, entries, seen);
}

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
  entries = eider_scanner_scan_finish (result, &error);

  if (entries == NULL)
    {
      /* An unavailable folder (unmounted disk) is not "all files deleted". */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_message ("Skipping %s for now: %s", watch->path, error->message);
    }
  else if (self->active && !self->stopping)
    apply_scan (self, watch, entries);

  /* Over once its files are in the store ("scanning" watchers count them). */
  _eider_engine_add_scans (self, -1);
  _eider_engine_pump (self);
}

/* Takes @watch. */
void
_eider_engine_scan_watch (EiderEngine *self,
                          EiderWatch  *watch)
{
  ScanCtx *ctx = g_new0 (ScanCtx, 1);

  ctx->self = g_object_ref (self);
  ctx->watch = watch;
  _eider_engine_add_scans (self, 1);
  eider_scanner_scan_async (watch, EIDER_SCAN_NONE, self->cancellable, scan_cb, ctx);
}

/* A full stat pass: the remote index first, then every watch. */
void
_eider_engine_start_pass (EiderEngine *self)
{
  _eider_engine_add_scans (self, 1);
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
      _eider_engine_finish_run (self, g_steal_pointer (&error));
      return;
    }

  /* Count them all first, so a fast first scan cannot start the uploads
   * of a pass before the others are recorded. */
  for (guint i = 0; i < watches->len; i++)
    if (!((EiderWatch *) g_ptr_array_index (watches, i))->paused)
      _eider_engine_add_scans (self, 1);

  for (guint i = 0; i < watches->len; i++)
    {
      EiderWatch *watch = g_ptr_array_index (watches, i);

      if (watch->paused)
        continue;

      _eider_engine_add_scans (self, -1);
      g_ptr_array_index (watches, i) = NULL;
      _eider_engine_scan_watch (self, watch);
    }

  _eider_engine_pump (self);
}

static void
sync_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(EiderEngine) self = user_data;
  g_autoptr(GError) error = NULL;

  _eider_engine_add_scans (self, -1);
  if (!self->active)
    return;

  if (!eider_remote_sync_finish (EIDER_REMOTE (object), result, &error))
    {
      if (g_error_matches (error, EIDER_API_ERROR, EIDER_API_ERROR_UNAUTHORIZED))
        _eider_engine_set_pause_reason (self, "The Ente session has ended: log in again");

      if (self->stopping)
        _eider_engine_pump (self);
      else
        _eider_engine_finish_run (self, g_steal_pointer (&error));
      return;
    }

  scan_all (self);
}

/* What the watcher saw appear or change: stat-ed and recorded here, in
 * one transaction; a file that just left another place is a move. */
void
_eider_engine_note_paths (EiderEngine        *self,
                          gint64              watch_id,
                          const char * const *paths)
{
  g_autoptr(EiderWatch) watch = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) moves = g_ptr_array_new ();   /* Gone, new path, … */
  Gone *gone;

  watch = _eider_engine_find_watch (self, watch_id);
  if (watch == NULL || paths == NULL)
    return;

  if (!eider_store_begin (self->store, &error))
    {
      _eider_engine_log_store_error (error);
      return;
    }

  for (guint i = 0; paths[i] != NULL; i++)
    {
      g_autofree char *base = g_path_get_basename (paths[i]);
      EiderScanEntry entry = { 0 };
      struct stat st;

      /* Dot-files are ignored silently, as the scanner does. */
      if (base[0] == '.' || lstat (paths[i], &st) != 0 || S_ISDIR (st.st_mode))
        continue;

      entry.stat.dev = st.st_dev;
      entry.stat.inode = st.st_ino;
      entry.stat.size = st.st_size;
      entry.stat.mtime_ns = (gint64) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
      entry.stat.ctime_ns = (gint64) st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;

      /* A file that just left another place: it moved here. */
      if (S_ISREG (st.st_mode) && (gone = _eider_engine_take_gone (self, &entry.stat, paths[i])) != NULL)
        {
          g_ptr_array_add (moves, gone);
          g_ptr_array_add (moves, g_strdup (paths[i]));
          continue;
        }

      entry.path = (char *) paths[i];
      entry.album_name = eider_scan_album_for_path (watch, paths[i]);
      entry.skip_reason = eider_scan_skip_reason_for_stat (base, &st);
      note_entry (self, watch_id, &entry);
      g_free (entry.album_name);
    }

  if (!eider_store_commit (self->store, &error))
    {
      eider_store_rollback (self->store);
      _eider_engine_log_store_error (error);
    }

  for (guint i = 0; i + 1 < moves->len; i += 2)
    {
      Gone *moved = g_ptr_array_index (moves, i);

      _eider_engine_handle_move (self, watch_id, moved->path, g_ptr_array_index (moves, i + 1));
      _eider_engine_gone_free (moved);
      g_free (g_ptr_array_index (moves, i + 1));
    }

  /* New work: start now, without waiting for a retry timer. */
  g_clear_handle_id (&self->retry_source, g_source_remove);
  _eider_engine_pump (self);
}
