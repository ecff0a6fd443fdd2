/* eider-scanner.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <sys/stat.h>

#include "eider-reason.h"
#include "eider-store.h"

G_BEGIN_DECLS

/* Walks a watched tree and says, for every file, which album it belongs to
 * or why it is skipped — with stat() only: no file is opened, so a rescan
 * of an unchanged library costs nothing but stats. The rules are Ente
 * desktop's (spec/ente-upload.md §12.2–12.3): dot-files and the known
 * non-media extensions are skipped; FIFOs, sockets and devices are never
 * opened; symbolic links are not followed unless asked (and never in a
 * loop); empty files and files of 10 GiB or more are skipped.
 *
 * Thread contract: eider_scan_tree() is a pure function for worker threads;
 * eider_scanner_scan_async() runs it in one and returns on the main context.
 */

#define EIDER_MAX_FILE_SIZE (10 * (gint64) 1024 * 1024 * 1024)

typedef struct
{
  char        *path;          /* absolute, file-system encoding */
  EiderStat    stat;
  char        *album_name;    /* UTF-8 */
  EiderReason  skip_reason;   /* EIDER_REASON_NONE: eligible; else why not */
  char        *skip_details;  /* what goes with it (an unreadable folder's error) */
} EiderScanEntry;

void eider_scan_entry_free (EiderScanEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EiderScanEntry, eider_scan_entry_free)

typedef enum
{
  EIDER_SCAN_NONE            = 0,
  EIDER_SCAN_FOLLOW_SYMLINKS = 1 << 0,
} EiderScanFlags;

/* The album a file goes to under a watch's mapping (UTF-8). */
char      *eider_scan_album_for_path (const EiderWatch  *watch,
                                      const char        *path);
/* Why Ente would not upload a file with this name (EIDER_REASON_NONE: it
 * might). */
EiderReason eider_scan_skip_reason_for_name (const char *basename);
/* … with this name and lstat() (stat() when links are followed); not for
 * folders. */
EiderReason eider_scan_skip_reason_for_stat (const char        *basename,
                                             const struct stat *st);

GPtrArray *eider_scan_tree           (const EiderWatch  *watch,
                                      EiderScanFlags     flags,
                                      GCancellable      *cancellable,
                                      GError           **error);

void       eider_scanner_scan_async  (const EiderWatch    *watch,
                                      EiderScanFlags       flags,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data);
GPtrArray *eider_scanner_scan_finish (GAsyncResult        *result,
                                      GError             **error);

G_END_DECLS
