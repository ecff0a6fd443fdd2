/* eider-engine-moves.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Removals, moves and renames: what a file that left its place means. Move
 * detection is here only — a removal and a new file with the same
 * identity seen live (a grace period), and a vanished path whose device
 * and inode turn up at a new path in a scan.
 */
#define G_LOG_DOMAIN "eider-engine"
#include "config.h"

#include <sys/stat.h>

#include "eider-engine-private.h"

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

  watch = _eider_engine_find_watch (self, record->watch_id);
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

static gboolean gone_timeout_cb (gpointer user_data);

static char *
identity_key (const EiderStat *st)
{
  return g_strdup_printf ("%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT ":%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT,
                          st->dev, st->inode, st->size, st->mtime_ns);
}

void
_eider_engine_gone_free (Gone *gone)
{
  g_free (gone->path);
  g_free (gone);
}

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

/* Files gone from a watch: each is let go after its grace period, unless
 * it turns up elsewhere meanwhile (a move). */
void
_eider_engine_note_gone (EiderEngine        *self,
                         const char * const *paths)
{
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

/* The file whose removal is in its grace period and that has @st's
 * identity, if any, now that it reappeared at @path (transfer full). */
Gone *
_eider_engine_take_gone (EiderEngine     *self,
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
    g_clear_pointer (&gone, _eider_engine_gone_free);

  return gone;
}

/* Moves made while nobody watched, found by a scan */

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

      if (entry->skip_reason != EIDER_REASON_NONE)
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

/* Files gone from disk while nobody watched: renamed or moved if the
 * same file (device and inode, size and mtime) is at a new path, else
 * the same rule as a deletion seen live — they leave the watched album;
 * nothing is deleted in Ente. @seen holds the paths the scan found. */
void
_eider_engine_settle_missing (EiderEngine *self,
                              EiderWatch  *watch,
                              GPtrArray   *entries,
                              GHashTable  *seen)
{
  g_autoptr(GHashTable) by_inode = NULL;
  g_autoptr(GPtrArray) known = NULL;
  g_autoptr(GError) error = NULL;

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
        _eider_engine_handle_move (self, watch->id, record->path, moved->path);
      else
        remove_record (self, record);
    }
}

/* Moves and renames */

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
  _eider_engine_pump (self);

  g_free (rename->from);
  g_free (rename->to);
  g_object_unref (rename->self);
  g_free (rename);
}

/* A file renamed on disk keeps its Ente file: the new name goes into the
 * file's public magic metadata (Ente's "editedName"), as when it is
 * renamed in Ente's apps. Until that is done its new path waits. */
void
_eider_engine_handle_move (EiderEngine *self,
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

/* A file at @path is backed up (or skipped) at its new place: if it got
 * there by a move, its old place can go now. */
void
_eider_engine_finish_move (EiderEngine *self,
                           const char  *path)
{
  g_autofree char *new_path = NULL;
  g_autofree char *old_path = NULL;

  if (g_hash_table_steal_extended (self->moves, path, (gpointer *) &new_path,
                                   (gpointer *) &old_path))
    remove_path (self, old_path);
}

/* What to say of a file found in Ente at its new local place: a rename or
 * a move made here (then nothing was sent), or @otherwise. */
EiderReason
_eider_engine_moved_reason (EiderEngine *self,
                            const char  *path,
                            EiderReason  otherwise)
{
  const char *from = g_hash_table_lookup (self->moves, path);
  g_autofree char *old_name = NULL;
  g_autofree char *new_name = NULL;

  if (from == NULL)
    return otherwise;

  old_name = g_path_get_basename (from);
  new_name = g_path_get_basename (path);

  return g_str_equal (old_name, new_name) ? EIDER_REASON_MOVED : EIDER_REASON_RENAMED;
}
