/* test-watcher.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * EiderWatcher over real inotify in temporary folders: finished files only,
 * batches, moves, removals, a root that goes away and comes back, the
 * fall-back to polling, and no timer at all while idle.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "eider-watcher.h"
#include "eider-test-server-harness.h"

#define QUIET_MS 500

typedef struct
{
  EiderWatcher *watcher;
  char         *tmp;          /* holds root/, outside/ */
  char         *root;
  char         *outside;
  GHashTable   *ready;        /* path → count */
  GHashTable   *ready_size;   /* path → size when it was reported */
  GHashTable   *ready_time;   /* path → monotonic µs when it was reported */
  GHashTable   *removed;      /* path → count */
  GPtrArray    *moves;        /* "from -> to" */
  GArray       *availability; /* gboolean */
  GPtrArray    *rescans;      /* reasons */
  guint         ready_emissions;
  guint         removed_emissions;
} Fixture;

/* Warnings of the watcher we expect (the watch-limit one) are counted here
 * instead of aborting the test. */
static guint limit_warnings;

static GLogWriterOutput
log_writer (GLogLevelFlags   log_level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  const char *domain = NULL;
  const char *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
        domain = fields[i].value;
      else if (g_str_equal (fields[i].key, "MESSAGE"))
        message = fields[i].value;
    }

  if ((log_level & G_LOG_LEVEL_WARNING) && g_strcmp0 (domain, "eider-watcher") == 0 &&
      message != NULL && strstr (message, "is rescanned every") != NULL)
    {
      limit_warnings++;
      return G_LOG_WRITER_HANDLED;
    }

  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

static void
count (GHashTable *table,
       const char *path)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (table, path));

  g_hash_table_insert (table, g_strdup (path), GUINT_TO_POINTER (n + 1));
}

static guint
count_of (GHashTable *table,
          const char *path)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (table, path));
}

static void
on_files_ready (EiderWatcher       *watcher,
                gint64              watch_id,
                const char * const *paths,
                Fixture            *f)
{
  g_assert_cmpint (watch_id, >=, 1);
  g_assert_nonnull (paths);
  g_assert_nonnull (paths[0]);
  f->ready_emissions++;

  for (guint i = 0; paths[i] != NULL; i++)
    {
      struct stat st;

      count (f->ready, paths[i]);
      if (stat (paths[i], &st) == 0)
        g_hash_table_insert (f->ready_size, g_strdup (paths[i]), GSIZE_TO_POINTER ((gsize) st.st_size));
      g_hash_table_insert (f->ready_time, g_strdup (paths[i]),
                           g_memdup2 (&(gint64) { g_get_monotonic_time () }, sizeof (gint64)));
    }
}

static void
on_files_removed (EiderWatcher       *watcher,
                  gint64              watch_id,
                  const char * const *paths,
                  Fixture            *f)
{
  g_assert_nonnull (paths[0]);
  f->removed_emissions++;

  for (guint i = 0; paths[i] != NULL; i++)
    count (f->removed, paths[i]);
}

static void
on_file_moved (EiderWatcher *watcher,
               gint64        watch_id,
               const char   *from,
               const char   *to,
               Fixture      *f)
{
  g_ptr_array_add (f->moves, g_strdup_printf ("%s -> %s", from, to));
}

static void
on_root_availability (EiderWatcher *watcher,
                      gint64        watch_id,
                      gboolean      available,
                      Fixture      *f)
{
  g_array_append_val (f->availability, available);
}

static void
on_rescan_needed (EiderWatcher *watcher,
                  gint64        watch_id,
                  const char   *reason,
                  Fixture      *f)
{
  g_assert_nonnull (reason);
  g_ptr_array_add (f->rescans, g_strdup (reason));
}

static void
fixture_connect (Fixture      *f,
                 EiderWatcher *watcher)
{
  g_signal_connect (watcher, "files-ready", G_CALLBACK (on_files_ready), f);
  g_signal_connect (watcher, "files-removed", G_CALLBACK (on_files_removed), f);
  g_signal_connect (watcher, "file-moved", G_CALLBACK (on_file_moved), f);
  g_signal_connect (watcher, "root-availability", G_CALLBACK (on_root_availability), f);
  g_signal_connect (watcher, "rescan-needed", G_CALLBACK (on_rescan_needed), f);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->tmp = test_make_tmpdir ("eider-watcher-XXXXXX");
  f->root = g_build_filename (f->tmp, "root", NULL);
  f->outside = g_build_filename (f->tmp, "outside", NULL);
  g_assert_cmpint (g_mkdir (f->root, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (f->outside, 0755), ==, 0);

  f->ready = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  f->ready_size = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  f->ready_time = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  f->removed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  f->moves = g_ptr_array_new_with_free_func (g_free);
  f->availability = g_array_new (FALSE, FALSE, sizeof (gboolean));
  f->rescans = g_ptr_array_new_with_free_func (g_free);

  f->watcher = eider_watcher_new ();
  eider_watcher_set_quiet_ms (f->watcher, QUIET_MS);
  fixture_connect (f, f->watcher);

  /* Tests that need files before the root is added add it themselves. */
  if (data == NULL)
    {
      g_assert_true (eider_watcher_add_root (f->watcher, 1, f->root, &error));
      g_assert_no_error (error);
    }
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_object (&f->watcher);
  /* Nothing of the watcher may be left on the main context. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->root);
  g_free (f->outside);
  g_hash_table_unref (f->ready);
  g_hash_table_unref (f->ready_size);
  g_hash_table_unref (f->ready_time);
  g_hash_table_unref (f->removed);
  g_ptr_array_unref (f->moves);
  g_array_unref (f->availability);
  g_ptr_array_unref (f->rescans);
}

static char *
path_in (const char *dir,
         const char *rel)
{
  return g_build_filename (dir, rel, NULL);
}

static void
write_file (const char *dir,
            const char *rel,
            const char *contents)
{
  g_autofree char *path = path_in (dir, rel);
  g_autofree char *parent = g_path_get_dirname (path);
  int fd;

  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, contents, strlen (contents)), ==, (gssize) strlen (contents));
  g_assert_cmpint (close (fd), ==, 0);
}

/* Runs the main loop until @cond holds, failing after @timeout_ms. */
#define RUN_UNTIL(cond, timeout_ms)                                             \
  G_STMT_START {                                                                \
    gint64 deadline_ = g_get_monotonic_time () + (timeout_ms) * G_TIME_SPAN_MILLISECOND; \
    while (!(cond))                                                             \
      {                                                                         \
        if (g_get_monotonic_time () > deadline_)                                \
          g_error ("timed out waiting for %s", #cond);                          \
        g_main_context_iteration (NULL, FALSE);                                 \
        g_usleep (2000);                                                        \
      }                                                                         \
  } G_STMT_END

/* Runs the main loop for @ms, so that late (wrong) signals would arrive. */
static void
settle (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
}

static gboolean
has_move (Fixture    *f,
          const char *from,
          const char *to)
{
  g_autofree char *entry = g_strdup_printf ("%s -> %s", from, to);

  for (guint i = 0; i < f->moves->len; i++)
    if (g_str_equal (g_ptr_array_index (f->moves, i), entry))
      return TRUE;

  return FALSE;
}

/* Tests ------------------------------------------------------------------ */

static void
test_new_file (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *path = path_in (f->root, "IMG_0001.jpg");
  gint64 written;

  g_assert_cmpstr (eider_watcher_get_mode (f->watcher, 1), ==, "inotify");
  g_assert_true (eider_watcher_get_available (f->watcher, 1));
  g_assert_cmpuint (eider_watcher_get_n_monitors (f->watcher), ==, 1);

  /* g_file_set_contents() writes a temporary file and renames it. */
  g_assert_true (g_file_set_contents (path, "\xff\xd8\xff new photo", -1, NULL));
  written = g_get_monotonic_time ();

  RUN_UNTIL (count_of (f->ready, path) == 1, 10000);
  /* Not before the quiet period, and not much after it. */
  g_assert_cmpint (*(gint64 *) g_hash_table_lookup (f->ready_time, path) - written, >=,
                   QUIET_MS * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpint (*(gint64 *) g_hash_table_lookup (f->ready_time, path) - written, <,
                   2 * G_TIME_SPAN_SECOND);

  settle (2 * QUIET_MS + 500);
  g_assert_cmpuint (count_of (f->ready, path), ==, 1);
  g_assert_cmpuint (g_hash_table_size (f->ready), ==, 1);   /* not the temporary */
  g_assert_cmpuint (g_hash_table_size (f->removed), ==, 0);
  g_assert_cmpuint (f->moves->len, ==, 0);

  /* Opened for writing and closed unchanged (CHANGES_DONE_HINT, same size
   * and mtime): not a change. */
  {
    int fd = open (path, O_WRONLY | O_CLOEXEC);

    g_assert_cmpint (fd, >=, 0);
    g_assert_cmpint (close (fd), ==, 0);
    settle (2 * QUIET_MS + 500);
    g_assert_cmpuint (count_of (f->ready, path), ==, 1);
  }

  /* An edit is a change: reported again, once. */
  g_assert_true (g_file_set_contents (path, "\xff\xd8\xff edited photo", -1, NULL));
  RUN_UNTIL (count_of (f->ready, path) == 2, 10000);
  settle (2 * QUIET_MS);
  g_assert_cmpuint (count_of (f->ready, path), ==, 2);
  g_assert_cmpuint (g_hash_table_size (f->removed), ==, 0);
}

typedef struct
{
  char   *path;
  gint64  last_write;
  gsize   size;
} SlowWrite;

static gpointer
slow_writer (gpointer data)
{
  SlowWrite *sw = data;
  char chunk[64 * 1024];
  int fd;

  memset (chunk, 'x', sizeof chunk);
  fd = open (sw->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  g_assert_cmpint (fd, >=, 0);
  for (guint i = 0; i < 5; i++)
    {
      if (i > 0)
        g_usleep (600 * G_TIME_SPAN_MILLISECOND);   /* longer than the quiet period */
      g_assert_cmpint (write (fd, chunk, sizeof chunk), ==, sizeof chunk);
      sw->size += sizeof chunk;
    }
  sw->last_write = g_get_monotonic_time ();
  g_assert_cmpint (close (fd), ==, 0);

  return NULL;
}

static void
test_slow_write (Fixture       *f,
                 gconstpointer  data)
{
  SlowWrite sw = { path_in (f->root, "slow.mov"), 0, 0 };
  GThread *thread = g_thread_new ("slow-writer", slow_writer, &sw);
  gint64 ready_at;

  RUN_UNTIL (count_of (f->ready, sw.path) == 1, 20000);
  g_thread_join (thread);

  ready_at = *(gint64 *) g_hash_table_lookup (f->ready_time, sw.path);
  g_assert_cmpint (sw.last_write, >, 0);
  g_assert_cmpint (ready_at, >, sw.last_write);
  g_assert_cmpuint (GPOINTER_TO_SIZE (g_hash_table_lookup (f->ready_size, sw.path)), ==, 5 * 64 * 1024);

  settle (3 * QUIET_MS);
  g_assert_cmpuint (count_of (f->ready, sw.path), ==, 1);
  g_free (sw.path);
}

typedef struct
{
  const char *root;
  guint       n;
} Burst;

static gpointer
burst_writer (gpointer data)
{
  Burst *b = data;

  for (guint i = 0; i < b->n; i++)
    {
      char rel[64];

      g_snprintf (rel, sizeof rel, "burst/%02u/IMG_%05u.jpg", i % 10, i);
      write_file (b->root, rel, "\xff\xd8\xff burst");
    }

  return NULL;
}

static void
test_burst (Fixture       *f,
            gconstpointer  data)
{
  Burst b = { f->root, 10000 };
  GThread *thread = g_thread_new ("burst", burst_writer, &b);

  RUN_UNTIL (g_hash_table_size (f->ready) >= b.n, 120000);
  g_thread_join (thread);
  settle (3 * QUIET_MS);

  g_assert_cmpuint (g_hash_table_size (f->ready), ==, b.n);
  for (guint i = 0; i < b.n; i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/burst/%02u/IMG_%05u.jpg", f->root, i % 10, i);

      g_assert_cmpuint (count_of (f->ready, path), ==, 1);
    }
  g_test_message ("%u files in %u emissions", b.n, f->ready_emissions);
  g_assert_cmpuint (f->ready_emissions, <, 100);
  g_assert_cmpuint (eider_watcher_get_n_monitors (f->watcher), ==, 1 + 1 + 10);
}

static void
test_new_tree (Fixture       *f,
               gconstpointer  data)
{
  const char *rels[] = { "a/top.jpg", "a/b/mid.jpg", "a/b/c/deep.jpg", "a/b/c/.hidden.jpg" };
  const char *copied[] = { "one.jpg", "sub/two.jpg", "sub/deeper/three.heic" };
  g_autofree char *tree = path_in (f->outside, "tree");
  g_autofree char *abc = path_in (f->root, "a/b/c");
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) cp = NULL;

  /* mkdir -p a/b/c, then files in every level, as fast as possible. */
  g_assert_cmpint (g_mkdir_with_parents (abc, 0755), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (rels); i++)
    write_file (f->root, rels[i], "\xff\xd8\xff tree");

  for (guint i = 0; i < G_N_ELEMENTS (rels); i++)
    {
      g_autofree char *path = path_in (f->root, rels[i]);

      RUN_UNTIL (count_of (f->ready, path) == 1, 10000);
    }

  /* cp -r of a tree made elsewhere. */
  for (guint i = 0; i < G_N_ELEMENTS (copied); i++)
    write_file (tree, copied[i], "\xff\xd8\xff copied");
  cp = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, "cp", "-r", tree, f->root, NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_wait_check (cp, NULL, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (copied); i++)
    {
      g_autofree char *rel = g_build_filename ("tree", copied[i], NULL);
      g_autofree char *path = path_in (f->root, rel);

      RUN_UNTIL (count_of (f->ready, path) == 1, 10000);
    }

  settle (3 * QUIET_MS);
  g_assert_cmpuint (g_hash_table_size (f->ready), ==, G_N_ELEMENTS (rels) + G_N_ELEMENTS (copied));
  g_assert_cmpuint (eider_watcher_get_n_monitors (f->watcher), ==, 1 + 3 + 3);
}

/* A file made and reported before the test goes on. */
static char *
ready_file (Fixture    *f,
            const char *rel)
{
  char *path = path_in (f->root, rel);

  write_file (f->root, rel, "\xff\xd8\xff photo");
  RUN_UNTIL (count_of (f->ready, path) == 1, 10000);

  return path;
}

static void
test_rename (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *a = ready_file (f, "a.jpg");
  g_autofree char *in_sub = ready_file (f, "sub/x.jpg");
  g_autofree char *b = path_in (f->root, "b.jpg");
  g_autofree char *c = path_in (f->root, "sub/c.jpg");
  g_autofree char *sub = path_in (f->root, "sub");
  g_autofree char *renamed = path_in (f->root, "renamed");
  g_autofree char *in_renamed = path_in (f->root, "renamed/x.jpg");
  g_autofree char *c_renamed = path_in (f->root, "renamed/c.jpg");
  guint ready_before = g_hash_table_size (f->ready);

  /* Same directory: RENAMED. */
  g_assert_cmpint (g_rename (a, b), ==, 0);
  RUN_UNTIL (has_move (f, a, b), 5000);

  /* Another directory of the same root: MOVED_OUT + MOVED_IN, once. */
  g_assert_cmpint (g_rename (b, c), ==, 0);
  RUN_UNTIL (has_move (f, b, c), 5000);

  /* A directory: every file in it. */
  g_assert_cmpint (g_rename (sub, renamed), ==, 0);
  RUN_UNTIL (has_move (f, in_sub, in_renamed) && has_move (f, c, c_renamed), 5000);

  settle (3 * QUIET_MS);
  g_assert_cmpuint (f->moves->len, ==, 4);
  g_assert_cmpuint (g_hash_table_size (f->removed), ==, 0);
  g_assert_cmpuint (g_hash_table_size (f->ready), ==, ready_before);

  /* The renamed directory is watched under its new name. */
  {
    g_autofree char *fresh = ready_file (f, "renamed/fresh.jpg");

    g_assert_cmpuint (count_of (f->ready, fresh), ==, 1);
  }
}

static void
test_move_out_and_delete (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *a = ready_file (f, "a.jpg");
  g_autofree char *b = ready_file (f, "b.jpg");
  g_autofree char *d1 = ready_file (f, "dir/one.jpg");
  g_autofree char *d2 = ready_file (f, "dir/deep/two.jpg");
  g_autofree char *dir = path_in (f->root, "dir");
  g_autofree char *a_out = path_in (f->outside, "a.jpg");
  g_autofree char *dir_out = path_in (f->outside, "dir");

  g_assert_cmpint (g_rename (a, a_out), ==, 0);
  RUN_UNTIL (count_of (f->removed, a) == 1, 5000);

  g_assert_cmpint (g_unlink (b), ==, 0);
  RUN_UNTIL (count_of (f->removed, b) == 1, 5000);

  g_assert_cmpint (g_rename (dir, dir_out), ==, 0);
  RUN_UNTIL (count_of (f->removed, d1) == 1 && count_of (f->removed, d2) == 1, 5000);

  settle (3 * QUIET_MS);
  g_assert_cmpuint (g_hash_table_size (f->removed), ==, 4);
  g_assert_cmpuint (f->moves->len, ==, 0);
  g_assert_cmpuint (g_hash_table_size (f->ready), ==, 4);
  g_assert_cmpuint (eider_watcher_get_n_monitors (f->watcher), ==, 1);

  /* Moved back in: new again. */
  g_assert_cmpint (g_rename (dir_out, dir), ==, 0);
  RUN_UNTIL (count_of (f->ready, d1) == 2 && count_of (f->ready, d2) == 2, 5000);
}

static void
test_rm_rf_subdir (Fixture       *f,
            gconstpointer  data)
{
  g_autofree char *dir = path_in (f->root, "album");
  g_autofree char *keep = ready_file (f, "keep.jpg");
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < 30; i++)
    {
      g_autofree char *rel = g_strdup_printf ("album/%u/IMG_%u.jpg", i % 3, i);

      write_file (f->root, rel, "\xff\xd8\xff album");
      g_ptr_array_add (files, path_in (f->root, rel));
    }
  RUN_UNTIL (g_hash_table_size (f->ready) == 31, 10000);

  test_rm_rf (dir);
  RUN_UNTIL (g_hash_table_size (f->removed) == 30, 5000);
  settle (3 * QUIET_MS);

  for (guint i = 0; i < files->len; i++)
    g_assert_cmpuint (count_of (f->removed, g_ptr_array_index (files, i)), ==, 1);
  g_assert_cmpuint (count_of (f->removed, keep), ==, 0);
  g_assert_cmpuint (f->removed_emissions, <, 30);   /* batched */
  g_assert_cmpuint (eider_watcher_get_n_monitors (f->watcher), ==, 1);
  g_ptr_array_unref (files);
}

static void
test_root_away (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *a = ready_file (f, "a.jpg");
  g_autofree char *b = ready_file (f, "sub/b.jpg");
  g_autofree char *away = path_in (f->tmp, "root-renamed");
  g_autofree char *c = NULL;

  g_assert_cmpint (g_rename (f->root, away), ==, 0);
  RUN_UNTIL (f->availability->len == 1, 5000);
  g_assert_false (g_array_index (f->availability, gboolean, 0));
  g_assert_false (eider_watcher_get_available (f->watcher, 1));
  g_assert_cmpuint (eider_watcher_get_n_monitors (f->watcher), ==, 0);

  /* Changes inside the renamed folder are not the root's. */
  write_file (away, "while-away.jpg", "\xff\xd8\xff away");
  settle (3 * QUIET_MS);
  g_assert_cmpuint (g_hash_table_size (f->removed), ==, 0);
  g_assert_cmpuint (g_hash_table_size (f->ready), ==, 2);
  g_assert_cmpuint (eider_watcher_get_n_pending (f->watcher), ==, 0);
  /* Only the slow check for its return ("poll-seconds") is left. */
  g_assert_false (eider_watcher_is_idle (f->watcher));

  g_assert_cmpint (g_rename (away, f->root), ==, 0);
  RUN_UNTIL (f->availability->len == 2, 5000);
  g_assert_true (g_array_index (f->availability, gboolean, 1));
  g_assert_true (eider_watcher_get_available (f->watcher, 1));
  g_assert_cmpuint (eider_watcher_get_n_monitors (f->watcher), ==, 2);
  g_assert_true (eider_watcher_is_idle (f->watcher));

  /* Watched again, subdirectories included; nothing was removed. */
  c = ready_file (f, "sub/c.jpg");
  settle (2 * QUIET_MS);
  g_assert_cmpuint (g_hash_table_size (f->removed), ==, 0);
  g_assert_cmpuint (count_of (f->ready, c), ==, 1);

  /* Replaced at once by another folder of the same name: away and back,
   * and the new folder is the one watched. */
  {
    g_autofree char *old = path_in (f->tmp, "root-old");
    g_autofree char *d = NULL;

    g_assert_cmpint (g_rename (f->root, old), ==, 0);
    g_assert_cmpint (g_mkdir (f->root, 0755), ==, 0);
    RUN_UNTIL (f->availability->len == 4, 5000);
    g_assert_false (g_array_index (f->availability, gboolean, 2));
    g_assert_true (g_array_index (f->availability, gboolean, 3));
    d = ready_file (f, "d.jpg");
    write_file (old, "old-one.jpg", "\xff\xd8\xff old");
    settle (3 * QUIET_MS);
    g_assert_cmpuint (g_hash_table_size (f->ready), ==, 4);
    g_assert_cmpuint (g_hash_table_size (f->removed), ==, 0);
  }
}

static void
test_root_appears (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *later = path_in (f->tmp, "later");
  g_autoptr(GError) error = NULL;

  g_assert_true (eider_watcher_add_root (f->watcher, 7, later, &error));
  g_assert_no_error (error);
  g_assert_false (eider_watcher_get_available (f->watcher, 7));
  g_assert_false (eider_watcher_is_idle (f->watcher));   /* its return is polled for */

  g_assert_cmpint (g_mkdir (later, 0755), ==, 0);
  RUN_UNTIL (f->availability->len == 1, 5000);
  g_assert_true (g_array_index (f->availability, gboolean, 0));
  g_assert_true (eider_watcher_get_available (f->watcher, 7));
  g_assert_true (eider_watcher_is_idle (f->watcher));

  /* Errors. */
  g_assert_false (eider_watcher_add_root (f->watcher, 7, f->outside, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_false (eider_watcher_add_root (f->watcher, 8, "relative/path", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  write_file (f->outside, "file", "x");
  {
    g_autofree char *file = path_in (f->outside, "file");

    g_assert_false (eider_watcher_add_root (f->watcher, 8, file, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY);
  }
  g_assert_null (eider_watcher_get_mode (f->watcher, 8));
}

static void
test_between_roots (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *a = path_in (f->root, "a.jpg");
  g_autofree char *in_other = path_in (f->outside, "a.jpg");
  g_autoptr(GError) error = NULL;

  g_assert_true (eider_watcher_add_root (f->watcher, 2, f->outside, &error));
  g_assert_no_error (error);

  g_free (ready_file (f, "a.jpg"));
  g_assert_cmpint (g_rename (a, in_other), ==, 0);
  RUN_UNTIL (count_of (f->removed, a) == 1 && count_of (f->ready, in_other) == 1, 5000);
  settle (2 * QUIET_MS);
  g_assert_cmpuint (f->moves->len, ==, 0);

  /* Removing a root: nothing more about it. */
  g_assert_true (eider_watcher_remove_root (f->watcher, 2));
  g_assert_false (eider_watcher_remove_root (f->watcher, 2));
  write_file (f->outside, "b.jpg", "\xff\xd8\xff b");
  settle (3 * QUIET_MS);
  g_assert_cmpuint (g_hash_table_size (f->ready), ==, 2);
}

static void
test_idle (Fixture       *f,
           gconstpointer  data)
{
  for (guint i = 0; i < 20; i++)
    {
      g_autofree char *rel = g_strdup_printf ("d%u/f%u.jpg", i % 4, i);

      write_file (f->root, rel, "\xff\xd8\xff idle");
    }
  RUN_UNTIL (g_hash_table_size (f->ready) == 20, 10000);
  g_assert_cmpuint (eider_watcher_get_n_pending (f->watcher), ==, 0);

  /* Settled: no timer, and nothing at all ready on the main context. */
  settle (100);
  g_assert_true (eider_watcher_is_idle (f->watcher));
  g_assert_false (g_main_context_pending (NULL));
  g_assert_false (g_main_context_iteration (NULL, FALSE));

  /* Work brings the timer; its end takes it away again. */
  write_file (f->root, "d0/again.jpg", "\xff\xd8\xff again");
  RUN_UNTIL (eider_watcher_get_n_pending (f->watcher) == 1, 5000);
  g_assert_false (eider_watcher_is_idle (f->watcher));
  RUN_UNTIL (g_hash_table_size (f->ready) == 21, 5000);
  settle (50);
  g_assert_true (eider_watcher_is_idle (f->watcher));
  g_assert_false (g_main_context_iteration (NULL, FALSE));
}

static void
test_watch_limit (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint warnings = limit_warnings;

  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *rel = g_strdup_printf ("d%u/f.jpg", i);

      write_file (f->root, rel, "\xff\xd8\xff");
    }

  eider_watcher_set_max_monitors (f->watcher, 3);
  eider_watcher_set_poll_seconds (f->watcher, 1);
  g_assert_true (eider_watcher_add_root (f->watcher, 1, f->root, &error));
  g_assert_no_error (error);

  /* Said once, then rescans instead of events; no monitor is kept. */
  g_assert_cmpstr (eider_watcher_get_mode (f->watcher, 1), ==, "polling");
  g_assert_cmpuint (limit_warnings, ==, warnings + 1);
  g_assert_cmpuint (eider_watcher_get_n_monitors (f->watcher), ==, 0);
  g_assert_cmpuint (f->rescans->len, ==, 0);   /* not from inside add_root() */
  RUN_UNTIL (f->rescans->len == 1, 2000);
  g_assert_nonnull (strstr (g_ptr_array_index (f->rescans, 0), "limit of 3 directory monitors"));
  RUN_UNTIL (f->rescans->len >= 3, 5000);
  g_assert_nonnull (strstr (g_ptr_array_index (f->rescans, 2), "periodic rescan"));
  g_assert_cmpuint (limit_warnings, ==, warnings + 1);

  /* A polled root that vanishes is unavailable, not emptied. */
  {
    g_autofree char *away = path_in (f->tmp, "away");

    g_assert_cmpint (g_rename (f->root, away), ==, 0);
    RUN_UNTIL (f->availability->len == 1, 5000);
    g_assert_false (g_array_index (f->availability, gboolean, 0));
    g_assert_cmpuint (g_hash_table_size (f->removed), ==, 0);
  }

  g_assert_true (eider_watcher_remove_root (f->watcher, 1));
  g_assert_true (eider_watcher_is_idle (f->watcher));
}

/* The kernel's limit, for real: in a user namespace of our own the limit
 * of inotify watches can be lowered without privileges, and this test runs
 * its other half (kernel-limit-child) there. */
static void
test_kernel_limit (void)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *self_exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *out = NULL;
  g_autofree char *unshare = g_find_program_in_path ("unshare");

  if (unshare == NULL || self_exe == NULL)
    {
      g_test_skip ("no unshare(1)");
      return;
    }

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_setenv (launcher, "EIDER_WATCHER_KERNEL_LIMIT_CHILD", "1", TRUE);
  child = g_subprocess_launcher_spawn (launcher, &error, unshare, "-Ur", "sh", "-c",
                                       "echo 40 > /proc/sys/user/max_inotify_watches || exit 77; "
                                       "exec \"$0\" -p /watcher/kernel-limit-child",
                                       self_exe, NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (child, NULL, NULL, &out, NULL, &error));
  g_assert_no_error (error);

  if (g_subprocess_get_if_exited (child) && g_subprocess_get_exit_status (child) != 0 &&
      (strstr (out, "unshare failed") != NULL || g_subprocess_get_exit_status (child) == 77))
    {
      g_test_skip ("user namespaces are not available here");
      return;
    }

  g_test_message ("child: %s", out);
  g_assert_true (g_subprocess_get_if_exited (child));
  g_assert_cmpint (g_subprocess_get_exit_status (child), ==, 0);
  g_assert_nonnull (strstr (out, "ok 1 /watcher/kernel-limit-child"));
}

static void
test_kernel_limit_child (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint warnings = limit_warnings;

  if (g_getenv ("EIDER_WATCHER_KERNEL_LIMIT_CHILD") == NULL)
    {
      g_test_skip ("runs inside /watcher/kernel-limit");
      return;
    }

  for (guint i = 0; i < 60; i++)
    {
      g_autofree char *rel = g_strdup_printf ("d%02u/f.jpg", i);

      write_file (f->root, rel, "\xff\xd8\xff");
    }

  eider_watcher_set_poll_seconds (f->watcher, 1);
  g_assert_true (eider_watcher_add_root (f->watcher, 1, f->root, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (eider_watcher_get_mode (f->watcher, 1), ==, "polling");
  g_assert_cmpuint (eider_watcher_get_n_monitors (f->watcher), ==, 0);
  g_assert_cmpuint (limit_warnings, ==, warnings + 1);
  RUN_UNTIL (f->rescans->len == 1, 2000);
  g_assert_nonnull (strstr (g_ptr_array_index (f->rescans, 0), "fs.inotify.max_user_watches"));
  /* Its monitors were given back: a smaller root elsewhere is watched live. */
  g_assert_true (eider_watcher_add_root (f->watcher, 2, f->outside, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (eider_watcher_get_mode (f->watcher, 2), ==, "inotify");
  g_assert_cmpuint (eider_watcher_get_n_monitors (f->watcher), ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_log_set_writer_func (log_writer, NULL, NULL);
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func, data) \
  g_test_add ("/watcher/" name, Fixture, data, fixture_set_up, func, fixture_tear_down)

  ADD ("new-file", test_new_file, NULL);
  ADD ("slow-write", test_slow_write, NULL);
  ADD ("burst", test_burst, NULL);
  ADD ("new-tree", test_new_tree, NULL);
  ADD ("rename", test_rename, NULL);
  ADD ("move-out-and-delete", test_move_out_and_delete, NULL);
  ADD ("rm-rf", test_rm_rf_subdir, NULL);
  ADD ("root-away", test_root_away, NULL);
  ADD ("root-appears", test_root_appears, "no root");
  ADD ("between-roots", test_between_roots, NULL);
  ADD ("idle", test_idle, NULL);
  ADD ("watch-limit", test_watch_limit, "no root");
  g_test_add_func ("/watcher/kernel-limit", test_kernel_limit);
  ADD ("kernel-limit-child", test_kernel_limit_child, "no root");

  return g_test_run ();
}
