/* eider-watcher.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-watcher"
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <gio/gunixmounts.h>

#include "eider-watcher.h"

/* How the pieces fit:
 *
 * Root: one watched folder. `dirs` maps every directory under it (the root
 * included) to a Dir: its GFileMonitor and the names of the files the
 * engine knows in it. `pending` maps a file in its quiet period to when it
 * is due and the size/mtime it had then.
 *
 * One timer (self->timer_id) serves every pending file of every root and
 * the removals waiting to be batched; it is attached only while there is
 * something to do. Signal emissions are queued while the tables are being
 * changed and delivered at the end of each entry point (monitor event,
 * timer, mount change, poll), so a handler may call back into the watcher.
 */

#define DEFAULT_QUIET_MS     1000
#define DEFAULT_POLL_SECONDS 300
/* Removals are held this long, so that rm -rf becomes one emission. */
#define REMOVED_DELAY_US     (50 * G_TIME_SPAN_MILLISECOND)
/* A file whose writer never said it was done (no CHANGES_DONE_HINT) is
 * taken as finished after this many quiet periods without a change. */
#define UNCLOSED_ROUNDS      3
/* How long the first half of a move waits for its second. */
#define HALF_MOVE_SECONDS    10

/* statfs f_type of file systems where inotify sees only local changes. */
#define FS_NFS   0x6969u
#define FS_SMB   0x517Bu
#define FS_CIFS  0xFF534D42u
#define FS_SMB2  0xFE534D42u
#define FS_FUSE  0x65735546u
#define FS_V9FS  0x01021997u
#define FS_CEPH  0x00C36400u

typedef struct _Root Root;

typedef struct
{
  Root         *root;
  char         *path;     /* owned by root->dirs as its key */
  GFileMonitor *monitor;
  GHashTable   *files;    /* basename known to the engine → its fingerprint
                           * when reported (NULL: found by a walk) */
} Dir;

typedef struct
{
  gint64   due;           /* monotonic µs */
  gint64   size;
  gint64   mtime_ns;
  guint    rounds;
  gboolean done;          /* the writer closed it (or nobody writes it) */
} Pending;

struct _Root
{
  EiderWatcher *watcher;
  gint64        id;
  guint64       serial;
  char         *path;
  char         *parent_path;     /* NULL for "/" */
  GHashTable   *dirs;            /* path → Dir */
  GHashTable   *pending;         /* path → Pending */
  GPtrArray    *removed;         /* paths not yet emitted */
  gint64        removed_due;
  GFileMonitor *parent_monitor;  /* only while unavailable */
  char         *limit_reason;
  guint         available : 1;
  guint         remote : 1;
  guint         limit_hit : 1;     /* fell back to polling: limit_reason */
  guint         mount_point : 1;
  guint         mount_point_known : 1;
};

typedef enum
{
  EMIT_READY,
  EMIT_REMOVED,
  EMIT_MOVED,
  EMIT_AVAILABILITY,
  EMIT_RESCAN,
} EmitKind;

typedef struct
{
  EmitKind  kind;
  gint64    id;
  guint64   serial;
  char    **paths;
  char     *a;
  char     *b;
  gboolean  flag;
} Emission;

struct _EiderWatcher
{
  GObject              parent_instance;

  GHashTable          *roots;          /* &id → Root */
  guint64              next_serial;
  guint                quiet_ms;
  guint                poll_seconds;
  guint                max_monitors;
  guint                n_monitors;

  guint                timer_id;
  gint64               timer_due;
  gint64               last_fire;
  guint                poll_id;

  GQueue               emissions;
  gboolean             delivering;
  GHashTable          *half_moves;     /* "from\nto" → monotonic µs */

  GUnixMountMonitor   *mount_monitor;
  int                  probe_fd;
  gboolean             warned_limit;
};

G_DEFINE_FINAL_TYPE (EiderWatcher, eider_watcher, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_QUIET_MS,
  PROP_POLL_SECONDS,
  PROP_MAX_MONITORS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  FILES_READY,
  FILES_REMOVED,
  FILE_MOVED,
  ROOT_AVAILABILITY,
  RESCAN_NEEDED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void root_watch_tree     (Root       *root,
                                 const char *top,
                                 gboolean    report,
                                 GHashTable *expect);
static void update_poll_timer   (EiderWatcher *self);
static void reschedule          (EiderWatcher *self);

/* Paths ------------------------------------------------------------------ */

static gboolean
path_is_under (const char *path,
               const char *dir)
{
  size_t len = strlen (dir);

  if (len == 1 && dir[0] == '/')
    return path[0] == '/' && path[1] != '\0';

  return strncmp (path, dir, len) == 0 && path[len] == '/';
}

static gboolean
fs_type_is_remote (const char *path)
{
  struct statfs sfs;

  if (statfs (path, &sfs) != 0)
    return FALSE;

  switch ((guint32) sfs.f_type)
    {
    case FS_NFS:
    case FS_SMB:
    case FS_CIFS:
    case FS_SMB2:
    case FS_FUSE:
    case FS_V9FS:
    case FS_CEPH:
      return TRUE;
    default:
      return FALSE;
    }
}

/* Emissions -------------------------------------------------------------- */

static void
emission_free (Emission *e)
{
  g_strfreev (e->paths);
  g_free (e->a);
  g_free (e->b);
  g_free (e);
}

static Emission *
queue_emission (Root     *root,
                EmitKind  kind)
{
  Emission *e = g_new0 (Emission, 1);

  e->kind = kind;
  e->id = root->id;
  e->serial = root->serial;
  g_queue_push_tail (&root->watcher->emissions, e);

  return e;
}

/* Removals go out before anything else about the same root. */
static void
flush_removed (Root *root)
{
  Emission *e;

  if (root->removed->len == 0)
    return;

  g_ptr_array_add (root->removed, NULL);
  e = queue_emission (root, EMIT_REMOVED);
  e->paths = (char **) g_ptr_array_free (g_steal_pointer (&root->removed), FALSE);
  root->removed = g_ptr_array_new_with_free_func (g_free);
  root->removed_due = 0;
}

static void
queue_moved (Root       *root,
             const char *from,
             const char *to)
{
  Emission *e;

  flush_removed (root);
  e = queue_emission (root, EMIT_MOVED);
  e->a = g_strdup (from);
  e->b = g_strdup (to);
}

static void
queue_availability (Root     *root,
                    gboolean  available)
{
  flush_removed (root);
  queue_emission (root, EMIT_AVAILABILITY)->flag = available;
}

static void
queue_rescan (Root       *root,
              const char *reason)
{
  flush_removed (root);
  queue_emission (root, EMIT_RESCAN)->a = g_strdup (reason);
}

static void
deliver (EiderWatcher *self)
{
  Emission *e;

  if (self->delivering)
    return;

  self->delivering = TRUE;
  g_object_ref (self);

  while ((e = g_queue_pop_head (&self->emissions)) != NULL)
    {
      Root *root = g_hash_table_lookup (self->roots, &e->id);

      if (root != NULL && root->serial == e->serial)
        switch (e->kind)
          {
          case EMIT_READY:
            g_signal_emit (self, signals[FILES_READY], 0, e->id, e->paths);
            break;
          case EMIT_REMOVED:
            g_signal_emit (self, signals[FILES_REMOVED], 0, e->id, e->paths);
            break;
          case EMIT_MOVED:
            g_signal_emit (self, signals[FILE_MOVED], 0, e->id, e->a, e->b);
            break;
          case EMIT_AVAILABILITY:
            g_signal_emit (self, signals[ROOT_AVAILABILITY], 0, e->id, e->flag);
            break;
          case EMIT_RESCAN:
            g_signal_emit (self, signals[RESCAN_NEEDED], 0, e->id, e->a);
            break;
          default:
            g_assert_not_reached ();
          }

      emission_free (e);
    }

  self->delivering = FALSE;
  g_object_unref (self);
}

/* The one timer ---------------------------------------------------------- */

static gint64
coalesce_us (EiderWatcher *self)
{
  return CLAMP (self->quiet_ms / 4, 10, 250) * G_TIME_SPAN_MILLISECOND;
}

static gboolean on_timer (gpointer data);

static void
schedule (EiderWatcher *self,
          gint64        due)
{
  gint64 now;
  gint64 ms;

  due = MAX (due, self->last_fire + coalesce_us (self));
  if (self->timer_id != 0 && self->timer_due <= due)
    return;

  g_clear_handle_id (&self->timer_id, g_source_remove);
  now = g_get_monotonic_time ();
  ms = due > now ? (due - now + 999) / 1000 : 0;
  self->timer_due = due;
  self->timer_id = g_timeout_add_full (G_PRIORITY_DEFAULT, (guint) ms, on_timer, self, NULL);
  g_source_set_name_by_id (self->timer_id, "[eider] watcher quiet period");
}

/* Attaches the timer for the earliest thing due, or none. */
static void
reschedule (EiderWatcher *self)
{
  GHashTableIter iter;
  gpointer value;
  gint64 next = G_MAXINT64;

  g_hash_table_iter_init (&iter, self->roots);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Root *root = value;
      GHashTableIter piter;
      gpointer pvalue;

      if (root->removed->len > 0)
        next = MIN (next, root->removed_due);
      g_hash_table_iter_init (&piter, root->pending);
      while (g_hash_table_iter_next (&piter, NULL, &pvalue))
        next = MIN (next, ((Pending *) pvalue)->due);
    }

  if (next == G_MAXINT64)
    g_clear_handle_id (&self->timer_id, g_source_remove);
  else if (self->timer_id == 0 || self->timer_due != MAX (next, self->last_fire + coalesce_us (self)))
    {
      g_clear_handle_id (&self->timer_id, g_source_remove);
      schedule (self, next);
    }
}

/* Known files and pending files ------------------------------------------ */

static Dir *
root_dir_of (Root       *root,
             const char *path)
{
  g_autofree char *dirname = g_path_get_dirname (path);

  return g_hash_table_lookup (root->dirs, dirname);
}

static gboolean
root_knows_file (Root       *root,
                 const char *path)
{
  Dir *dir = root_dir_of (root, path);
  g_autofree char *name = NULL;

  if (dir == NULL)
    return FALSE;

  name = g_path_get_basename (path);
  return g_hash_table_contains (dir->files, name);
}

static gboolean
root_tracks (Root       *root,
             const char *path)
{
  return g_hash_table_contains (root->dirs, path) ||
         g_hash_table_contains (root->pending, path) ||
         root_knows_file (root, path);
}

/* The size and mtime of a file, folded into a pointer-sized value that is
 * never NULL: a file reported again with the same one has not changed (a
 * late CHANGES_DONE_HINT, an open and close without a write). */
static gpointer
stat_fingerprint (const struct stat *st)
{
  guint64 fp = (guint64) st->st_size * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15) ^
               (guint64) st->st_mtim.tv_sec * G_GUINT64_CONSTANT (1000000000) ^
               (guint64) st->st_mtim.tv_nsec;

  fp ^= fp >> 32;
  return GSIZE_TO_POINTER ((gsize) fp != 0 ? (gsize) fp : 1);
}

static void
root_know_file (Root       *root,
                const char *path,
                gpointer    fingerprint)
{
  Dir *dir = root_dir_of (root, path);

  if (dir != NULL)
    g_hash_table_insert (dir->files, g_path_get_basename (path), fingerprint);
}

/* The root whose tree holds directory @dir_path. */
static Root *
root_for_dir (EiderWatcher *self,
              const char   *dir_path)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->roots);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Root *root = value;

      if (root->available && g_hash_table_contains (root->dirs, dir_path))
        return root;
    }

  return NULL;
}

static Root *
root_for_file (EiderWatcher *self,
               const char   *path)
{
  g_autofree char *dirname = g_path_get_dirname (path);

  return root_for_dir (self, dirname);
}

/* A file was written to, closed, created or moved in: (re)start its quiet
 * period. */
static void
pending_touch (Root       *root,
               const char *path,
               gboolean    done)
{
  EiderWatcher *self = root->watcher;
  struct stat st;
  Pending *p;

  if (lstat (path, &st) != 0 || !S_ISREG (st.st_mode) || root_dir_of (root, path) == NULL)
    {
      g_hash_table_remove (root->pending, path);
      return;
    }

  p = g_hash_table_lookup (root->pending, path);
  if (p == NULL)
    {
      p = g_new0 (Pending, 1);
      g_hash_table_insert (root->pending, g_strdup (path), p);
    }

  p->size = st.st_size;
  p->mtime_ns = (gint64) st.st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000) + st.st_mtim.tv_nsec;
  p->rounds = 0;
  p->done = done;
  p->due = g_get_monotonic_time () + (gint64) self->quiet_ms * G_TIME_SPAN_MILLISECOND;
  schedule (self, p->due);
}

static void
root_add_removed (Root       *root,
                  const char *path)
{
  if (root->removed->len == 0)
    {
      root->removed_due = g_get_monotonic_time () + MIN (REMOVED_DELAY_US, coalesce_us (root->watcher));
      schedule (root->watcher, root->removed_due);
    }
  g_ptr_array_add (root->removed, g_strdup (path));
}

/* Directories ------------------------------------------------------------ */

static void on_dir_changed (GFileMonitor      *monitor,
                            GFile             *file,
                            GFile             *other,
                            GFileMonitorEvent  event,
                            gpointer           user_data);

static void
dir_free (Dir *dir)
{
  if (dir->monitor != NULL)
    {
      g_signal_handlers_disconnect_by_data (dir->monitor, dir);
      g_file_monitor_cancel (dir->monitor);
      g_clear_object (&dir->monitor);
      dir->root->watcher->n_monitors--;
    }
  g_hash_table_unref (dir->files);
  g_free (dir->path);
  g_free (dir);
}

/* Would the kernel accept one more inotify watch? GLib does not say when
 * inotify_add_watch() fails (it then polls the directory every few seconds
 * as "missing"), so ask the kernel with a watch of our own that is removed
 * at once. Returns 0, or the errno. */
static int
probe_watch (EiderWatcher *self,
             const char   *path)
{
  char buffer[4096];
  int wd;

  if (self->probe_fd < 0)
    self->probe_fd = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
  if (self->probe_fd < 0)
    return 0;   /* out of inotify instances: GLib's own will tell */

  wd = inotify_add_watch (self->probe_fd, path, IN_ONLYDIR | IN_DELETE_SELF);
  if (wd < 0)
    return errno;

  inotify_rm_watch (self->probe_fd, wd);
  /* Drop the IN_IGNORED event the removal queued. */
  while (read (self->probe_fd, buffer, sizeof buffer) > 0)
    ;

  return 0;
}

static void root_enter_polling (Root       *root,
                                const char *reason);

/* Gives @dir its monitor. FALSE if the root had to fall back to polling
 * (then @dir is gone) or the directory cannot be watched. */
static gboolean
dir_watch (Dir *dir)
{
  Root *root = dir->root;
  EiderWatcher *self = root->watcher;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = NULL;
  int err;

  if (self->max_monitors != 0 && self->n_monitors >= self->max_monitors)
    {
      reason = g_strdup_printf ("the watcher's limit of %u directory monitors is reached",
                                self->max_monitors);
      root_enter_polling (root, reason);
      return FALSE;
    }

  err = probe_watch (self, dir->path);
  if (err == ENOSPC)
    {
      g_autofree char *max = NULL;

      g_file_get_contents ("/proc/sys/fs/inotify/max_user_watches", &max, NULL, NULL);
      reason = g_strdup_printf ("the inotify watch limit is reached "
                                "(fs.inotify.max_user_watches = %s); "
                                "raise it with sysctl to watch this folder live",
                                max != NULL ? g_strstrip (max) : "?");
      root_enter_polling (root, reason);
      return FALSE;
    }
  if (err != 0)
    return FALSE;   /* gone already, or unreadable: nothing to watch */

  file = g_file_new_for_path (dir->path);
  dir->monitor = g_file_monitor_directory (file, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
  if (dir->monitor == NULL)
    {
      reason = g_strdup_printf ("cannot watch %s: %s", dir->path, error->message);
      root_enter_polling (root, reason);
      return FALSE;
    }

  self->n_monitors++;
  g_signal_connect (dir->monitor, "changed", G_CALLBACK (on_dir_changed), dir);

  return TRUE;
}

/* Every directory of @root at or under @top (NULL: all). */
static GPtrArray *
root_dirs_under (Root       *root,
                 const char *top)
{
  GPtrArray *result = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, root->dirs);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (top == NULL || g_str_equal (key, top) || path_is_under (key, top))
      g_ptr_array_add (result, key);

  return result;
}

/* Forgets @top and everything under it. @removed: where to put the paths
 * of the known files (NULL: nowhere). @pending_out: where to move pending
 * entries (NULL: dropped). */
static void
root_forget_tree (Root       *root,
                  const char *top,
                  GPtrArray  *removed,
                  GHashTable *pending_out)
{
  g_autoptr(GPtrArray) dirs = root_dirs_under (root, top);
  GHashTableIter iter;
  gpointer key, value;

  for (guint i = 0; i < dirs->len; i++)
    {
      const char *dir_path = g_ptr_array_index (dirs, i);
      Dir *dir = g_hash_table_lookup (root->dirs, dir_path);

      if (removed != NULL)
        {
          g_hash_table_iter_init (&iter, dir->files);
          while (g_hash_table_iter_next (&iter, &key, NULL))
            g_ptr_array_add (removed, g_build_filename (dir_path, key, NULL));
        }
      g_hash_table_remove (root->dirs, dir_path);
    }

  g_hash_table_iter_init (&iter, root->pending);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (top == NULL || path_is_under (key, top))
      {
        if (pending_out != NULL)
          {
            g_hash_table_insert (pending_out, key, value);
            g_hash_table_iter_steal (&iter);
          }
        else
          g_hash_table_iter_remove (&iter);
      }
}

static void
root_forget_all (Root *root)
{
  g_hash_table_remove_all (root->dirs);
  g_hash_table_remove_all (root->pending);
}

static void
root_enter_polling (Root       *root,
                    const char *reason)
{
  EiderWatcher *self = root->watcher;
  g_autofree char *message = NULL;

  if (root->limit_hit)
    return;

  root->limit_hit = TRUE;
  g_free (root->limit_reason);
  root->limit_reason = g_strdup (reason);
  flush_removed (root);
  root_forget_all (root);

  message = g_strdup_printf ("%s; %s is rescanned every %u s instead",
                             reason, root->path, self->poll_seconds);
  if (!self->warned_limit)
    {
      self->warned_limit = TRUE;
      g_warning ("%s", message);
    }
  queue_rescan (root, message);
  schedule (self, g_get_monotonic_time ());
  update_poll_timer (self);
}

/* Adds @top (a directory) and every directory under it, each with its
 * monitor created *before* it is read, so no file can slip between. Files
 * found: @report FALSE: known as they are; TRUE: pending, unless already
 * known or in @expect (files that were moved here, known as they are). */
static void
root_watch_tree (Root       *root,
                 const char *top,
                 gboolean    report,
                 GHashTable *expect)
{
  g_autoptr(GPtrArray) stack = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (stack, g_strdup (top));

  while (stack->len > 0 && root->available && !root->limit_hit)
    {
      g_autofree char *dir_path = g_ptr_array_steal_index (stack, stack->len - 1);
      Dir *dir;
      DIR *d;
      struct dirent *entry;

      if (g_hash_table_contains (root->dirs, dir_path))
        continue;

      dir = g_new0 (Dir, 1);
      dir->root = root;
      dir->path = g_strdup (dir_path);
      dir->files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_hash_table_insert (root->dirs, dir->path, dir);

      if (!dir_watch (dir))
        {
          if (root->limit_hit)
            return;
          g_hash_table_remove (root->dirs, dir_path);
          continue;
        }

      d = opendir (dir_path);
      if (d == NULL)
        continue;

      while ((entry = readdir (d)) != NULL)
        {
          const char *name = entry->d_name;
          unsigned char type = entry->d_type;
          g_autofree char *child = NULL;

          if (g_str_equal (name, ".") || g_str_equal (name, ".."))
            continue;

          if (type == DT_UNKNOWN)
            {
              struct stat st;

              if (fstatat (dirfd (d), name, &st, AT_SYMLINK_NOFOLLOW) != 0)
                continue;
              type = S_ISDIR (st.st_mode) ? DT_DIR : S_ISREG (st.st_mode) ? DT_REG : DT_UNKNOWN;
            }

          child = g_build_filename (dir_path, name, NULL);
          if (type == DT_DIR)
            g_ptr_array_add (stack, g_steal_pointer (&child));
          else if (type != DT_REG)
            continue;
          else if (!report || (expect != NULL && g_hash_table_contains (expect, child)))
            g_hash_table_insert (dir->files, g_strdup (name), NULL);
          else if (!g_hash_table_contains (dir->files, name))
            pending_touch (root, child, TRUE);
        }

      closedir (d);
    }
}

/* Roots ------------------------------------------------------------------ */

static void
root_free (Root *root)
{
  if (root->parent_monitor != NULL)
    {
      g_signal_handlers_disconnect_by_data (root->parent_monitor, root);
      g_file_monitor_cancel (root->parent_monitor);
      g_clear_object (&root->parent_monitor);
    }
  g_hash_table_unref (root->dirs);
  g_hash_table_unref (root->pending);
  g_ptr_array_unref (root->removed);
  g_free (root->path);
  g_free (root->parent_path);
  g_free (root->limit_reason);
  g_free (root);
}

/* Is the root there? For a root that was a mount point, an empty
 * directory left by the unmount is not the root. */
static gboolean
root_check_present (Root *root)
{
  struct stat st, parent_st;

  if (stat (root->path, &st) != 0 || !S_ISDIR (st.st_mode))
    return FALSE;

  if (root->parent_path != NULL && stat (root->parent_path, &parent_st) == 0)
    {
      gboolean mount_point = st.st_dev != parent_st.st_dev;

      if (!root->mount_point_known)
        {
          root->mount_point = mount_point;
          root->mount_point_known = TRUE;
        }
      else if (root->mount_point && !mount_point)
        return FALSE;
    }

  return TRUE;
}

static void on_parent_changed (GFileMonitor      *monitor,
                               GFile             *file,
                               GFile             *other,
                               GFileMonitorEvent  event,
                               gpointer           user_data);

static void
root_set_available (Root *root)
{
  EiderWatcher *self = root->watcher;

  if (root->parent_monitor != NULL)
    {
      g_signal_handlers_disconnect_by_data (root->parent_monitor, root);
      g_file_monitor_cancel (root->parent_monitor);
      g_clear_object (&root->parent_monitor);
    }

  root->available = TRUE;
  root->limit_hit = FALSE;
  g_clear_pointer (&root->limit_reason, g_free);
  root->remote = fs_type_is_remote (root->path);
  root_watch_tree (root, root->path, FALSE, NULL);
  update_poll_timer (self);
}

static void
root_set_unavailable (Root *root)
{
  EiderWatcher *self = root->watcher;

  root->available = FALSE;
  flush_removed (root);
  root_forget_all (root);

  if (root->parent_path != NULL && root->parent_monitor == NULL)
    {
      g_autoptr(GFile) parent = g_file_new_for_path (root->parent_path);

      root->parent_monitor = g_file_monitor_directory (parent, G_FILE_MONITOR_WATCH_MOVES, NULL, NULL);
      if (root->parent_monitor != NULL)
        g_signal_connect (root->parent_monitor, "changed", G_CALLBACK (on_parent_changed), root);
    }

  update_poll_timer (self);
  reschedule (self);
}

/* Compares what the root is with what it was, and says so. */
static void
root_recheck (Root *root)
{
  gboolean present = root_check_present (root);

  if (present && !root->available)
    {
      root_set_available (root);
      queue_availability (root, TRUE);
    }
  else if (!present && root->available)
    {
      root_set_unavailable (root);
      queue_availability (root, FALSE);
    }
}

/* Events ----------------------------------------------------------------- */

/* @path appeared in @root (created, or moved in from outside). */
static void
root_appeared (Root       *root,
               const char *path,
               gboolean    done)
{
  struct stat st;

  if (root_dir_of (root, path) == NULL || lstat (path, &st) != 0)
    return;

  if (S_ISDIR (st.st_mode))
    root_watch_tree (root, path, TRUE, NULL);
  else if (S_ISREG (st.st_mode))
    pending_touch (root, path, done);
}

/* @path is gone from @root: deleted or moved away. */
static void
root_gone (Root       *root,
           const char *path)
{
  if (g_hash_table_contains (root->dirs, path))
    {
      g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func (g_free);

      root_forget_tree (root, path, removed, NULL);
      for (guint i = 0; i < removed->len; i++)
        root_add_removed (root, g_ptr_array_index (removed, i));
    }
  else
    {
      Dir *dir = root_dir_of (root, path);
      g_autofree char *name = g_path_get_basename (path);

      g_hash_table_remove (root->pending, path);
      if (dir != NULL && g_hash_table_remove (dir->files, name))
        root_add_removed (root, path);
    }
}

/* A directory moved inside its root: its files keep their identity. */
static void
root_moved_dir (Root       *root,
                const char *from,
                const char *to)
{
  g_autoptr(GPtrArray) old_files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) old_pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) expect = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  size_t from_len = strlen (from);
  GHashTableIter iter;
  gpointer key, value;

  root_forget_tree (root, from, old_files, old_pending);
  for (guint i = 0; i < old_files->len; i++)
    {
      const char *old = g_ptr_array_index (old_files, i);

      g_hash_table_add (expect, g_strconcat (to, old + from_len, NULL));
    }

  root_watch_tree (root, to, TRUE, expect);
  if (root->limit_hit)
    return;

  for (guint i = 0; i < old_files->len; i++)
    {
      const char *old = g_ptr_array_index (old_files, i);
      g_autofree char *new = g_strconcat (to, old + from_len, NULL);

      if (root_knows_file (root, new))
        queue_moved (root, old, new);
      else
        root_add_removed (root, old);
    }

  /* Files in their quiet period stay in it, under their new name. */
  g_hash_table_iter_init (&iter, old_pending);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_autofree char *new = g_strconcat (to, (char *) key + from_len, NULL);

      pending_touch (root, new, ((Pending *) value)->done);
    }
}

/* @from moved to @to; either may be NULL (outside every watched folder). */
static void
handle_move (EiderWatcher *self,
             const char   *from,
             const char   *to)
{
  Root *from_root = from != NULL ? root_for_file (self, from) : NULL;
  Root *to_root = to != NULL ? root_for_file (self, to) : NULL;

  if (from_root == NULL || !root_tracks (from_root, from))
    {
      /* From outside (or a file gone before it was seen): new content
       * at @to, replacing what was there. */
      if (to_root != NULL)
        root_appeared (to_root, to, TRUE);
      return;
    }

  if (to_root != from_root)
    {
      root_gone (from_root, from);
      if (to_root != NULL)
        root_appeared (to_root, to, TRUE);
      return;
    }

  if (g_hash_table_contains (from_root->dirs, from))
    {
      root_moved_dir (from_root, from, to);
      return;
    }

  if (root_knows_file (from_root, from))
    {
      Dir *dir = root_dir_of (from_root, from);
      g_autofree char *name = g_path_get_basename (from);
      Pending *p = g_hash_table_lookup (from_root->pending, from);
      gboolean was_pending = p != NULL;
      gboolean done = p == NULL || p->done;
      gpointer fingerprint = g_hash_table_lookup (dir->files, name);

      g_hash_table_remove (dir->files, name);
      g_hash_table_remove (from_root->pending, from);
      g_hash_table_remove (from_root->pending, to);
      root_know_file (from_root, to, fingerprint);
      queue_moved (from_root, from, to);
      if (was_pending)
        pending_touch (from_root, to, done);
      return;
    }

  /* Never reported (e.g. a temporary file renamed into place): it simply
   * continues its quiet period under the new name. */
  g_hash_table_remove (from_root->pending, from);
  pending_touch (from_root, to, TRUE);
}

/* A move between two directories comes as MOVED_OUT to the monitor of
 * the one and MOVED_IN to the monitor of the other, in no set order, each
 * naming both paths. The first one handles it; this says whether @from →
 * @to is the second one (and forgets it). A half whose other half never
 * comes (its monitor was made a moment too late) is forgotten after a
 * while. */
static gboolean
half_move_seen (EiderWatcher *self,
                const char   *from,
                const char   *to)
{
  g_autofree char *key = NULL;
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  gpointer value;

  if (from == NULL || to == NULL)
    return FALSE;

  key = g_strconcat (from, "\n", to, NULL);
  if (g_hash_table_remove (self->half_moves, key))
    return TRUE;

  /* Only if both directories are watched will the other half come. */
  if (root_for_file (self, from) == NULL || root_for_file (self, to) == NULL)
    return FALSE;

  g_hash_table_iter_init (&iter, self->half_moves);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (GPOINTER_TO_SIZE (value) / G_USEC_PER_SEC + HALF_MOVE_SECONDS < (gsize) (now / G_USEC_PER_SEC))
      g_hash_table_iter_remove (&iter);

  g_hash_table_insert (self->half_moves, g_steal_pointer (&key), GSIZE_TO_POINTER ((gsize) now));

  return FALSE;
}

static void
on_dir_changed (GFileMonitor      *monitor,
                GFile             *file,
                GFile             *other,
                GFileMonitorEvent  event,
                gpointer           user_data)
{
  Dir *dir = user_data;
  Root *root = dir->root;
  EiderWatcher *self = root->watcher;
  g_autofree char *path = g_file_get_path (file);
  g_autofree char *other_path = other != NULL ? g_file_get_path (other) : NULL;
  gboolean is_self = path != NULL && g_str_equal (path, dir->path);

  if (path == NULL)
    return;

  switch (event)
    {
    case G_FILE_MONITOR_EVENT_CREATED:
      if (!is_self)
        root_appeared (root, path, FALSE);
      break;

    case G_FILE_MONITOR_EVENT_CHANGED:
    case G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT:
      if (!is_self && !g_hash_table_contains (root->dirs, path))
        pending_touch (root, path, event == G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT);
      break;

    case G_FILE_MONITOR_EVENT_DELETED:
      /* A directory's own DELETED also means "moved away": its parent's
       * monitor tells which. Only the root's own matters here. */
      if (is_self)
        {
          /* The root's directory itself went: away for now, even if
           * another one already took its name (then it is back at once,
           * and watched anew: these monitors follow the old one). */
          if (g_str_equal (path, root->path) && root->available)
            {
              root_set_unavailable (root);
              queue_availability (root, FALSE);
              root_recheck (root);
            }
        }
      else
        root_gone (root, path);
      break;

    case G_FILE_MONITOR_EVENT_UNMOUNTED:
      root_recheck (root);
      if (root->available && g_hash_table_contains (root->dirs, path))
        {
          g_autofree char *reason = NULL;

          /* A file system mounted inside the root went away: its files
           * are not deleted, but are not there either. */
          root_forget_tree (root, path, NULL, NULL);
          root_watch_tree (root, path, FALSE, NULL);
          reason = g_strdup_printf ("%s was unmounted", path);
          queue_rescan (root, reason);
        }
      break;

    case G_FILE_MONITOR_EVENT_MOVED_IN:
      if (!half_move_seen (self, other_path, path))
        handle_move (self, other_path, path);
      break;

    case G_FILE_MONITOR_EVENT_MOVED_OUT:
      if (!half_move_seen (self, path, other_path))
        handle_move (self, path, other_path);
      break;

    case G_FILE_MONITOR_EVENT_RENAMED:
      handle_move (self, path, other_path);
      break;

    case G_FILE_MONITOR_EVENT_ATTRIBUTE_CHANGED:
    case G_FILE_MONITOR_EVENT_PRE_UNMOUNT:
    case G_FILE_MONITOR_EVENT_MOVED:
    default:
      break;
    }

  /* Removals and moves go out with the next tick, batched. */
  if (!g_queue_is_empty (&self->emissions))
    schedule (self, g_get_monotonic_time ());
}

static void
on_parent_changed (GFileMonitor      *monitor,
                   GFile             *file,
                   GFile             *other,
                   GFileMonitorEvent  event,
                   gpointer           user_data)
{
  Root *root = user_data;
  EiderWatcher *self = root->watcher;
  g_autofree char *path = g_file_get_path (file);
  g_autofree char *other_path = other != NULL ? g_file_get_path (other) : NULL;

  if (root->available)
    return;

  if ((path != NULL && (g_str_equal (path, root->path) || g_str_equal (path, root->parent_path))) ||
      (other_path != NULL && g_str_equal (other_path, root->path)))
    {
      root_recheck (root);
      deliver (self);
    }
}

static void
on_mounts_changed (GUnixMountMonitor *monitor,
                   gpointer           user_data)
{
  EiderWatcher *self = user_data;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->roots);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    root_recheck (value);

  deliver (self);
}

static gboolean
on_timer (gpointer data)
{
  EiderWatcher *self = data;
  gint64 now = g_get_monotonic_time ();
  gint64 quiet_us = (gint64) self->quiet_ms * G_TIME_SPAN_MILLISECOND;
  GHashTableIter iter;
  gpointer value;

  self->timer_id = 0;
  self->last_fire = now;

  g_hash_table_iter_init (&iter, self->roots);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Root *root = value;
      g_autoptr(GPtrArray) ready = g_ptr_array_new_with_free_func (g_free);
      GHashTableIter piter;
      gpointer key, pvalue;

      if (root->removed->len > 0 && root->removed_due <= now)
        flush_removed (root);

      g_hash_table_iter_init (&piter, root->pending);
      while (g_hash_table_iter_next (&piter, &key, &pvalue))
        {
          Pending *p = pvalue;
          struct stat st;
          gint64 mtime_ns;
          Dir *dir;

          if (p->due > now)
            continue;

          if (lstat (key, &st) != 0 || !S_ISREG (st.st_mode))
            {
              g_hash_table_iter_remove (&piter);
              continue;
            }

          mtime_ns = (gint64) st.st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000) + st.st_mtim.tv_nsec;
          if (st.st_size != p->size || mtime_ns != p->mtime_ns)
            {
              p->size = st.st_size;
              p->mtime_ns = mtime_ns;
              p->rounds = 0;
              p->due = now + quiet_us;
              continue;
            }

          if (!p->done && ++p->rounds < UNCLOSED_ROUNDS)
            {
              p->due = now + quiet_us;
              continue;
            }

          dir = root_dir_of (root, key);
          if (dir != NULL)
            {
              g_autofree char *name = g_path_get_basename (key);
              gpointer fingerprint = stat_fingerprint (&st);

              if (g_hash_table_lookup (dir->files, name) != fingerprint)
                {
                  g_hash_table_insert (dir->files, g_steal_pointer (&name), fingerprint);
                  g_ptr_array_add (ready, g_strdup (key));
                }
            }
          g_hash_table_iter_remove (&piter);
        }

      if (ready->len > 0)
        {
          Emission *e;

          flush_removed (root);
          g_ptr_array_add (ready, NULL);
          e = queue_emission (root, EMIT_READY);
          e->paths = (char **) g_ptr_array_free (g_steal_pointer (&ready), FALSE);
        }
    }

  reschedule (self);
  deliver (self);

  return G_SOURCE_REMOVE;
}

/* Polling ---------------------------------------------------------------- */

static gboolean
root_needs_poll (Root *root)
{
  return !root->available || root->limit_hit || root->remote;
}

static gboolean
on_poll (gpointer data)
{
  EiderWatcher *self = data;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->roots);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Root *root = value;
      gboolean was_available = root->available;

      if (!root_needs_poll (root))
        continue;

      root_recheck (root);
      if (!was_available || !root->available)
        continue;

      if (root->limit_hit || root->remote)
        {
          g_autofree char *reason = g_strdup_printf ("periodic rescan: %s",
                                                     eider_watcher_get_poll_reason (self, root->id));

          queue_rescan (root, reason);
        }
    }

  deliver (self);

  g_hash_table_iter_init (&iter, self->roots);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (root_needs_poll (value))
      return G_SOURCE_CONTINUE;

  self->poll_id = 0;
  return G_SOURCE_REMOVE;
}

static void
update_poll_timer (EiderWatcher *self)
{
  GHashTableIter iter;
  gpointer value;
  gboolean needed = FALSE;

  g_hash_table_iter_init (&iter, self->roots);
  while (!needed && g_hash_table_iter_next (&iter, NULL, &value))
    needed = root_needs_poll (value);

  if (needed && self->poll_id == 0)
    {
      self->poll_id = g_timeout_add_seconds (self->poll_seconds, on_poll, self);
      g_source_set_name_by_id (self->poll_id, "[eider] watcher poll");
    }
  else if (!needed)
    g_clear_handle_id (&self->poll_id, g_source_remove);
}

/* GObject ---------------------------------------------------------------- */

static void
eider_watcher_dispose (GObject *object)
{
  EiderWatcher *self = (EiderWatcher *) object;

  g_clear_handle_id (&self->timer_id, g_source_remove);
  g_clear_handle_id (&self->poll_id, g_source_remove);
  if (self->mount_monitor != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->mount_monitor, self);
      g_clear_object (&self->mount_monitor);
    }
  if (self->roots != NULL)
    g_hash_table_remove_all (self->roots);
  g_queue_clear_full (&self->emissions, (GDestroyNotify) emission_free);

  G_OBJECT_CLASS (eider_watcher_parent_class)->dispose (object);
}

static void
eider_watcher_finalize (GObject *object)
{
  EiderWatcher *self = (EiderWatcher *) object;

  g_clear_pointer (&self->roots, g_hash_table_unref);
  g_clear_pointer (&self->half_moves, g_hash_table_unref);
  if (self->probe_fd >= 0)
    close (self->probe_fd);

  G_OBJECT_CLASS (eider_watcher_parent_class)->finalize (object);
}

static void
eider_watcher_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  EiderWatcher *self = EIDER_WATCHER (object);

  switch (prop_id)
    {
    case PROP_QUIET_MS:
      g_value_set_uint (value, self->quiet_ms);
      break;
    case PROP_POLL_SECONDS:
      g_value_set_uint (value, self->poll_seconds);
      break;
    case PROP_MAX_MONITORS:
      g_value_set_uint (value, self->max_monitors);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
eider_watcher_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  EiderWatcher *self = EIDER_WATCHER (object);

  switch (prop_id)
    {
    case PROP_QUIET_MS:
      eider_watcher_set_quiet_ms (self, g_value_get_uint (value));
      break;
    case PROP_POLL_SECONDS:
      eider_watcher_set_poll_seconds (self, g_value_get_uint (value));
      break;
    case PROP_MAX_MONITORS:
      eider_watcher_set_max_monitors (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
eider_watcher_class_init (EiderWatcherClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = eider_watcher_dispose;
  object_class->finalize = eider_watcher_finalize;
  object_class->get_property = eider_watcher_get_property;
  object_class->set_property = eider_watcher_set_property;

  properties[PROP_QUIET_MS] =
    g_param_spec_uint ("quiet-ms", NULL, NULL,
                       0, 60 * 60 * 1000, DEFAULT_QUIET_MS,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_POLL_SECONDS] =
    g_param_spec_uint ("poll-seconds", NULL, NULL,
                       1, 24 * 60 * 60, DEFAULT_POLL_SECONDS,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_MONITORS] =
    g_param_spec_uint ("max-monitors", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * EiderWatcher::files-ready:
   * @watch_id: the root
   * @paths: (array zero-terminated=1): files that appeared or changed and
   *   are finished (unchanged for "quiet-ms" after their last write)
   */
  signals[FILES_READY] =
    g_signal_new ("files-ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_INT64, G_TYPE_STRV | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * EiderWatcher::files-removed:
   * @watch_id: the root
   * @paths: (array zero-terminated=1): files deleted or moved out of the
   *   root; for a directory, every file known under it
   */
  signals[FILES_REMOVED] =
    g_signal_new ("files-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_INT64, G_TYPE_STRV | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * EiderWatcher::file-moved:
   * @watch_id: the root
   * @from: the file's old path
   * @to: its new path, in the same root (a file there is replaced)
   */
  signals[FILE_MOVED] =
    g_signal_new ("file-moved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_INT64,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * EiderWatcher::root-availability:
   * @watch_id: the root
   * @available: FALSE: the root itself is gone (nothing under it is to be
   *   treated as deleted); TRUE: it is back, rescan it
   */
  signals[ROOT_AVAILABILITY] =
    g_signal_new ("root-availability", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_INT64, G_TYPE_BOOLEAN);

  /**
   * EiderWatcher::rescan-needed:
   * @watch_id: the root
   * @reason: why, for people
   */
  signals[RESCAN_NEEDED] =
    g_signal_new ("rescan-needed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_INT64, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
eider_watcher_init (EiderWatcher *self)
{
  self->roots = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, (GDestroyNotify) root_free);
  self->quiet_ms = DEFAULT_QUIET_MS;
  self->poll_seconds = DEFAULT_POLL_SECONDS;
  self->probe_fd = -1;
  self->half_moves = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_queue_init (&self->emissions);

  self->mount_monitor = g_unix_mount_monitor_get ();
  g_signal_connect (self->mount_monitor, "mounts-changed", G_CALLBACK (on_mounts_changed), self);
}

/* API -------------------------------------------------------------------- */

EiderWatcher *
eider_watcher_new (void)
{
  return g_object_new (EIDER_TYPE_WATCHER, NULL);
}

gboolean
eider_watcher_add_root (EiderWatcher  *self,
                        gint64         watch_id,
                        const char    *path,
                        GError       **error)
{
  struct stat st;
  Root *root;

  g_return_val_if_fail (EIDER_IS_WATCHER (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!g_path_is_absolute (path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Not an absolute path: %s", path);
      return FALSE;
    }
  if (g_hash_table_contains (self->roots, &watch_id))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   "Watch %" G_GINT64_FORMAT " is already watched", watch_id);
      return FALSE;
    }
  if (stat (path, &st) == 0 && !S_ISDIR (st.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY,
                   "Not a folder: %s", path);
      return FALSE;
    }

  root = g_new0 (Root, 1);
  root->watcher = self;
  root->id = watch_id;
  root->serial = ++self->next_serial;
  root->path = g_canonicalize_filename (path, NULL);
  if (!g_str_equal (root->path, "/"))
    root->parent_path = g_path_get_dirname (root->path);
  root->dirs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) dir_free);
  root->pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  root->removed = g_ptr_array_new_with_free_func (g_free);
  g_hash_table_insert (self->roots, &root->id, root);

  if (root_check_present (root))
    root_set_available (root);
  else
    root_set_unavailable (root);

  /* Anything this queued (a fall-back to polling) goes out on the main
   * loop, not from inside this call. */
  if (!g_queue_is_empty (&self->emissions))
    schedule (self, g_get_monotonic_time ());

  return TRUE;
}

gboolean
eider_watcher_remove_root (EiderWatcher *self,
                           gint64        watch_id)
{
  g_return_val_if_fail (EIDER_IS_WATCHER (self), FALSE);

  if (!g_hash_table_remove (self->roots, &watch_id))
    return FALSE;

  update_poll_timer (self);
  reschedule (self);

  return TRUE;
}

const char *
eider_watcher_get_mode (EiderWatcher *self,
                        gint64        watch_id)
{
  g_return_val_if_fail (EIDER_IS_WATCHER (self), NULL);

  if (!g_hash_table_contains (self->roots, &watch_id))
    return NULL;

  return eider_watcher_get_poll_reason (self, watch_id) != NULL ? "polling" : "inotify";
}

const char *
eider_watcher_get_poll_reason (EiderWatcher *self,
                               gint64        watch_id)
{
  Root *root;

  g_return_val_if_fail (EIDER_IS_WATCHER (self), NULL);

  root = g_hash_table_lookup (self->roots, &watch_id);
  if (root == NULL)
    return NULL;
  if (root->limit_hit)
    return root->limit_reason;
  if (root->remote)
    return "on a network or FUSE file system, changes made elsewhere are not seen live";

  return NULL;
}

gboolean
eider_watcher_get_available (EiderWatcher *self,
                             gint64        watch_id)
{
  Root *root;

  g_return_val_if_fail (EIDER_IS_WATCHER (self), FALSE);

  root = g_hash_table_lookup (self->roots, &watch_id);

  return root != NULL && root->available;
}

guint
eider_watcher_get_quiet_ms (EiderWatcher *self)
{
  g_return_val_if_fail (EIDER_IS_WATCHER (self), 0);

  return self->quiet_ms;
}

void
eider_watcher_set_quiet_ms (EiderWatcher *self,
                            guint         quiet_ms)
{
  g_return_if_fail (EIDER_IS_WATCHER (self));

  if (self->quiet_ms == quiet_ms)
    return;

  self->quiet_ms = quiet_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_QUIET_MS]);
}

guint
eider_watcher_get_poll_seconds (EiderWatcher *self)
{
  g_return_val_if_fail (EIDER_IS_WATCHER (self), 0);

  return self->poll_seconds;
}

void
eider_watcher_set_poll_seconds (EiderWatcher *self,
                                guint         poll_seconds)
{
  g_return_if_fail (EIDER_IS_WATCHER (self));
  g_return_if_fail (poll_seconds > 0);

  if (self->poll_seconds == poll_seconds)
    return;

  self->poll_seconds = poll_seconds;
  g_clear_handle_id (&self->poll_id, g_source_remove);
  update_poll_timer (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POLL_SECONDS]);
}

guint
eider_watcher_get_max_monitors (EiderWatcher *self)
{
  g_return_val_if_fail (EIDER_IS_WATCHER (self), 0);

  return self->max_monitors;
}

void
eider_watcher_set_max_monitors (EiderWatcher *self,
                                guint         max_monitors)
{
  g_return_if_fail (EIDER_IS_WATCHER (self));

  if (self->max_monitors == max_monitors)
    return;

  self->max_monitors = max_monitors;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_MONITORS]);
}

guint
eider_watcher_get_n_monitors (EiderWatcher *self)
{
  g_return_val_if_fail (EIDER_IS_WATCHER (self), 0);

  return self->n_monitors;
}

guint
eider_watcher_get_n_pending (EiderWatcher *self)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_return_val_if_fail (EIDER_IS_WATCHER (self), 0);

  g_hash_table_iter_init (&iter, self->roots);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    n += g_hash_table_size (((Root *) value)->pending);

  return n;
}

gboolean
eider_watcher_is_idle (EiderWatcher *self)
{
  g_return_val_if_fail (EIDER_IS_WATCHER (self), FALSE);

  return self->timer_id == 0 && self->poll_id == 0 &&
         g_queue_is_empty (&self->emissions) &&
         eider_watcher_get_n_pending (self) == 0;
}
