/* eider-video.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

G_BEGIN_DECLS

/* What Ente's uploaders read from a video (spec/ente-upload.md §3, §4.2,
 * §4.5): the container's creation time and ISO 6709 location, the duration
 * rounded up to whole seconds, the picture size, and a frame for the
 * thumbnail. GStreamer does the work; every call is bounded by its
 * @timeout_ms, so a broken or hostile file gives an error, never a hang.
 *
 * Thread contract: all functions are thread-safe and may run in several
 * worker threads at once; none touches the caller's main context.
 */

#define EIDER_VIDEO_ERROR (eider_video_error_quark ())

typedef enum
{
  EIDER_VIDEO_ERROR_FAILED,      /* GStreamer could not read or decode the file */
  EIDER_VIDEO_ERROR_TIMED_OUT,   /* the work did not finish within the timeout */
  EIDER_VIDEO_ERROR_NO_VIDEO,    /* the file has no video stream */
} EiderVideoError;

GQuark eider_video_error_quark (void);

typedef struct
{
  gint64   creation_time;   /* µs since the epoch (UTC); 0 when the container has none */
  gboolean has_location;
  double   latitude;        /* decimal degrees (ISO 6709 in the container) */
  double   longitude;
  gint64   duration;        /* whole seconds, rounded up (Ente's rule); 0 when unknown */
  int      width;
  int      height;
  /* Public magic metadata dateTime/offsetTime (spec §4.2, §5.2), set with
   * creation_time: the wall clock as written ("YYYY-MM-DDTHH:MM:SS.sss",
   * no offset) and the offset as written ("+0530", "-04:00"; "Z" for the
   * movie header's UTC time); empty strings when unknown. */
  char     date_time[24];
  char     offset_time[8];
} EiderVideoInfo;

/* Container metadata via GStreamer, never longer than @timeout_ms; FALSE with
 * a clear error for broken files. */
gboolean   eider_video_probe     (const char      *path,
                                  guint            timeout_ms,
                                  EiderVideoInfo  *info,
                                  GError         **error);

/* A decoded frame at 1 s (at 0 s for clips shorter than 1 s), scaled so that
 * the longest side is ≤ @max_side, never longer than @timeout_ms.
 * Returns: (transfer full): an RGB pixbuf, or NULL with @error set. */
GdkPixbuf *eider_video_thumbnail (const char      *path,
                                  int              max_side,
                                  guint            timeout_ms,
                                  GError         **error);

/* Parses an ISO 6709 point ("+48.8577+002.2950+035/" and the like): the
 * first two signed decimals, as Ente's web uploader reads them. */
gboolean   eider_video_parse_iso6709 (const char  *text,
                                      double      *latitude,
                                      double      *longitude);

G_END_DECLS
