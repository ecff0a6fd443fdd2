/* eider-reason.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Why a file was skipped or failed, or how it got to Ente: a code, kept in
 * the store with optional details (a server's message, the name of the
 * other half of a live photo), and turned into translated text for people
 * only at the edge (eiderctl, the window) by eider_reason_describe().
 *
 * Thread contract: pure functions, safe in any thread.
 */

/* The values are stored in the database: never renumber one, append. */
typedef enum
{
  EIDER_REASON_NONE = 0,               /* nothing to say (a plain upload) */
  EIDER_REASON_OTHER = 1,              /* details: the text (from before codes) */

  /* Skipped */
  EIDER_REASON_HIDDEN = 2,             /* a dot-file */
  EIDER_REASON_SIDECAR_XMP = 3,
  EIDER_REASON_SIDECAR_JSON = 4,
  EIDER_REASON_NOT_MEDIA = 5,          /* not a photo or video */
  EIDER_REASON_EMPTY = 6,
  EIDER_REASON_TOO_LARGE = 7,          /* Ente stores files under 10 GiB */
  EIDER_REASON_NOT_REGULAR = 8,
  EIDER_REASON_PIPE = 9,
  EIDER_REASON_SOCKET = 10,
  EIDER_REASON_DEVICE = 11,
  EIDER_REASON_SYMLINK = 12,           /* not followed */
  EIDER_REASON_BROKEN_SYMLINK = 13,
  EIDER_REASON_FOLDER_UNREADABLE = 14, /* details: the error */
  EIDER_REASON_GONE = 15,              /* no longer on disk */

  /* Failed (tried again later) */
  EIDER_REASON_CHANGED = 16,           /* changed while being uploaded */
  EIDER_REASON_NETWORK = 17,           /* details: the error */
  EIDER_REASON_SERVER_ERROR = 18,      /* details: the server's message */
  EIDER_REASON_IO_ERROR = 19,          /* details: the error */
  EIDER_REASON_ERROR = 20,             /* anything else; details: the error */
  EIDER_REASON_NO_FILE_ID = 21,        /* the server's answer has no file id */

  /* Uploaded: how */
  EIDER_REASON_ALREADY_IN_ENTE = 22,   /* in this album already: nothing sent */
  EIDER_REASON_LINKED = 23,            /* in another album: added to this one */
  EIDER_REASON_REPLACED = 24,          /* new content of the same Ente file */
  EIDER_REASON_RENAMED = 25,           /* renamed here and in Ente: nothing sent */
  EIDER_REASON_MOVED = 26,             /* moved here: nothing sent */
  EIDER_REASON_LIVE_PHOTO_PART = 27,   /* details: the live photo's image (its name) */

  /* Failed (added later) */
  EIDER_REASON_DUPLICATE_NOT_UPLOADED = 28, /* waited for the same content from
                                             * another file (details: its name),
                                             * which was not uploaded */
} EiderReason;

char        *eider_reason_describe  (EiderReason   code,
                                     const char   *details);
/* The code for an error that made a file fail (server, network, I/O…). */
EiderReason  eider_reason_for_error (const GError *error);
char        *eider_reason_describe_nick (const char *nick,
                                         const char *details);

G_END_DECLS
