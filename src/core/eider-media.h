/* eider-media.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "eider-core-enums.h"

G_BEGIN_DECLS

/* What Ente's apps need to know about a photo or video: its type (by
 * content, the extension only as a fallback), the metadata JSON, and a JPEG
 * thumbnail (spec/ente-upload.md §3–4).
 *
 * Thread contract: pure functions, safe in worker threads.
 */

typedef enum
{
  EIDER_FILE_TYPE_UNKNOWN = -1,
  EIDER_FILE_TYPE_IMAGE = 0,
  EIDER_FILE_TYPE_VIDEO = 1,
  EIDER_FILE_TYPE_LIVE_PHOTO = 2,
} EiderFileType;

/* How many leading bytes eider_media_classify() wants. */
#define EIDER_MEDIA_SNIFF_BYTES 64

/* Ente's thumbnail: longest side and target size in bytes (spec §3.1). */
#define EIDER_MEDIA_THUMBNAIL_MAX_SIDE  720
#define EIDER_MEDIA_THUMBNAIL_MAX_BYTES (100 * 1024)

EiderFileType eider_media_classify         (const guint8  *head,
                                            gsize          len,
                                            const char    *name);

typedef struct
{
  /* The metadata JSON (spec §4.1) */
  EiderFileType file_type;
  char         *title;                /* UTF-8 file name with extension */
  gint64        creation_time;        /* µs */
  gint64        modification_time;    /* µs */
  char         *hash;
  gboolean      has_location;
  double        latitude;             /* signed decimal degrees */
  double        longitude;
  gint64        duration;             /* whole seconds (videos), 0 when unknown */
  gboolean      has_static_thumbnail;

  /* The public magic metadata (spec §5.2); NULL / 0 when unknown */
  char         *date_time;            /* wall clock "YYYY-MM-DDTHH:MM:SS.sss", no offset */
  char         *offset_time;          /* "+05:30", "-0800", "Z" */
  int           width;                /* images only, as shown (orientation applied) */
  int           height;
  char         *camera_make;
  char         *camera_model;
  char         *caption;
} EiderMediaMetadata;

void          eider_media_metadata_clear   (EiderMediaMetadata *metadata);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (EiderMediaMetadata, eider_media_metadata_clear)

char         *eider_media_metadata_to_json (const EiderMediaMetadata *metadata);

/* A JPEG, longest side ≤ 720 px, EXIF orientation applied, stepped down in
 * quality to fit Ente's size target; or Ente's black placeholder, with
 * *is_placeholder set, when the content cannot be decoded. */
GBytes       *eider_media_thumbnail        (GBytes        *content,
                                            const char    *path,
                                            EiderFileType  file_type,
                                            gboolean      *is_placeholder);
GBytes       *eider_media_placeholder_thumbnail (void);

gboolean      eider_media_describe         (const char          *path,
                                            GBytes              *content,
                                            EiderFileType        file_type,
                                            gint64               mtime_us,
                                            EiderMediaMetadata  *md,
                                            GBytes             **thumbnail,
                                            GCancellable        *cancellable,
                                            GError             **error);

/* Whether @path has a Takeout sidecar, and the capture time it gives. */
gboolean      eider_media_sidecar_creation_time (const char *path,
                                                 gint64     *time_us);
char         *eider_media_public_magic_to_json (const EiderMediaMetadata *md,
                                                guint                    *count);

G_END_DECLS
