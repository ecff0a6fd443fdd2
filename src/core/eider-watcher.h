/* eider-watcher.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Watches the folders of the backup (the "roots", each named by its watch
 * id) recursively with one GFileMonitor per directory, and tells the engine
 * about *finished* files, in batches.
 *
 * What it reports (paths are absolute, in the file-system encoding):
 *
 * - EiderWatcher::files-ready (gint64 watch_id, GStrv paths): regular files
 *   that appeared or changed and then stayed unchanged (size and mtime) for
 *   a quiet period ("quiet-ms") after the writer closed them. A file that
 *   is still being written is reported once, complete. Files found when a
 *   new directory appears (mkdir -p, cp -r, a tree moved in) are reported
 *   the same way. Files already there when a root is added (or comes back)
 *   are not: the engine scans the root itself then. Hidden files are
 *   reported too; the engine decides what to skip.
 * - EiderWatcher::files-removed (gint64 watch_id, GStrv paths): files that
 *   are gone: deleted, or moved out of the root. For a directory deleted or
 *   moved out, every file the watcher knew under it is listed (the watcher
 *   keeps the set of files of each root: those found when the root was
 *   added plus those it reported since). Files the watcher never reported
 *   (written and deleted within the quiet period) are not listed.
 * - EiderWatcher::file-moved (gint64 watch_id, const char *from,
 *   const char *to): a file renamed or moved inside the same root (for a
 *   directory, one emission per file under it). A file moved over another
 *   replaces it. A move between two roots is files-removed in one and
 *   files-ready in the other.
 * - EiderWatcher::root-availability (gint64 watch_id, gboolean available):
 *   the root itself vanished (renamed or deleted, its disk unmounted, a
 *   mount point left empty) or came back. Nothing under a vanished root is
 *   reported as removed; when it comes back the engine rescans it. While a
 *   root is away its parent directory is watched (and mount changes, and a
 *   check every "poll-seconds") to notice its return.
 * - EiderWatcher::rescan-needed (gint64 watch_id, const char *reason): the
 *   watcher cannot vouch for having seen every change: the inotify watch
 *   limit was reached (said once with g_warning; the root then falls back
 *   to a rescan every "poll-seconds"), a file system inside the root was
 *   unmounted, or the root is on a network or FUSE file system (NFS,
 *   SMB/CIFS, FUSE, 9P, Ceph) where changes made elsewhere raise no events:
 *   such roots are watched for local changes *and* rescanned every
 *   "poll-seconds". The reason is for people.
 *
 * Removals are emitted before any later file-moved, files-ready or
 * root-availability of the same root, so the engine may apply signals in
 * the order it gets them.
 *
 * Cost: no timer is attached while nothing is pending and every root is a
 * reachable local folder (eider_watcher_is_idle()); one timer serves every
 * file in its quiet period; a burst of thousands of files becomes a few
 * emissions.
 *
 * GLib reads inotify without telling its users about a queue overflow, so
 * the engine still rescans at start and now and then (STYLE.md B4).
 *
 * Thread contract: main thread only; signals are emitted on the main
 * context, never from inside eider_watcher_add_root() or _remove_root().
 */

#define EIDER_TYPE_WATCHER (eider_watcher_get_type ())
G_DECLARE_FINAL_TYPE (EiderWatcher, eider_watcher, EIDER, WATCHER, GObject)

EiderWatcher *eider_watcher_new              (void);

/* @path: an absolute directory. A root that does not exist yet is added as
 * unavailable, and root-availability TRUE is emitted when it appears.
 * Errors: G_IO_ERROR_INVALID_ARGUMENT (relative path), G_IO_ERROR_EXISTS
 * (the id is taken), G_IO_ERROR_NOT_DIRECTORY. */
gboolean      eider_watcher_add_root         (EiderWatcher  *self,
                                              gint64         watch_id,
                                              const char    *path,
                                              GError       **error);
/* Stops watching; nothing more is emitted for @watch_id. FALSE if unknown. */
gboolean      eider_watcher_remove_root      (EiderWatcher  *self,
                                              gint64         watch_id);

/* "inotify": changes are seen as they happen; "polling": rescan-needed is
 * emitted every "poll-seconds" (watch limit reached, or a network or FUSE
 * file system). NULL for an unknown id. */
const char   *eider_watcher_get_mode         (EiderWatcher  *self,
                                              gint64         watch_id);
/* Why a root in "polling" mode is not watched live, for people (the watch
 * limit, a network file system); NULL when it is watched live. */
const char   *eider_watcher_get_poll_reason  (EiderWatcher  *self,
                                              gint64         watch_id);
gboolean      eider_watcher_get_available    (EiderWatcher  *self,
                                              gint64         watch_id);

guint         eider_watcher_get_quiet_ms     (EiderWatcher  *self);
void          eider_watcher_set_quiet_ms     (EiderWatcher  *self,
                                              guint          quiet_ms);
guint         eider_watcher_get_poll_seconds (EiderWatcher  *self);
void          eider_watcher_set_poll_seconds (EiderWatcher  *self,
                                              guint          poll_seconds);
/* A cap on this watcher's directory monitors (0: none but the kernel's
 * fs.inotify.max_user_watches). Reaching it is handled like the kernel
 * limit: the root that needed one more falls back to polling. */
guint         eider_watcher_get_max_monitors (EiderWatcher  *self);
void          eider_watcher_set_max_monitors (EiderWatcher  *self,
                                              guint          max_monitors);

/* Directory monitors alive, over all roots. */
guint         eider_watcher_get_n_monitors   (EiderWatcher  *self);
/* Files waiting for their quiet period, over all roots. */
guint         eider_watcher_get_n_pending    (EiderWatcher  *self);
/* TRUE when nothing is pending and the watcher has no timer attached. */
gboolean      eider_watcher_is_idle          (EiderWatcher  *self);

G_END_DECLS
