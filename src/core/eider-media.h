/* eider-media.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

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

EiderFileType eider_media_classify         (const guint8  *head,
                                            gsize          len,
                                            const char    *name);

typedef struct
{
  EiderFileType file_type;
  char         *title;                /* UTF-8 file name with extension */
  gint64        creation_time;        /* µs */
  gint64        modification_time;    /* µs */
  char         *hash;
  gboolean      has_static_thumbnail;
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

G_END_DECLS
