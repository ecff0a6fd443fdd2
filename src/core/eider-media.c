/* eider-media.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-media"
#include "config.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <json-glib/json-glib.h>

#include "eider-core-resources.h"
#include "eider-exif.h"
#include "eider-heif.h"
#include "eider-media-names.h"
#include "eider-media.h"
#include "eider-raw.h"
#include "eider-video.h"

#define THUMBNAIL_MAX_SIDE  EIDER_MEDIA_THUMBNAIL_MAX_SIDE
#define THUMBNAIL_MAX_BYTES EIDER_MEDIA_THUMBNAIL_MAX_BYTES

static const char * const image_extensions[] = {
  "jpg", "jpeg", "jpe", "png", "gif", "webp", "heic", "heif", "avif", "jxl", "tif", "tiff",
  "bmp", "dng", "cr2", "cr3", "crw", "nef", "nrw", "arw", "srf", "sr2", "raf", "orf", "rw2",
  "pef", "srw", "x3f", "3fr", "erf", "kdc", "mrw", "raw", "rwl", "iiq",
};

static const char * const video_extensions[] = {
  "mp4", "m4v", "mov", "qt", "mkv", "webm", "avi", "3gp", "3g2", "mts", "m2ts", "mpg",
  "mpeg", "wmv", "flv", "ogv",
};

/* Formats whose files always begin with a signature classify_* knows. */
static const char * const signed_extensions[] = {
  "jpg", "jpeg", "jpe", "png", "gif", "webp", "heic", "heif", "avif", "jxl", "bmp", "tif",
  "tiff", "mp4", "m4v", "mov", "qt", "mkv", "webm", "avi", "3gp", "3g2",
};

/* Camera RAW formats, read through libraw. */
static const char * const raw_extensions[] = {
  "dng", "cr2", "cr3", "crw", "nef", "nrw", "arw", "srf", "sr2", "raf", "orf", "rw2", "pef",
  "srw", "x3f", "3fr", "erf", "kdc", "mrw", "raw", "rwl", "iiq",
};

static gboolean
has_extension (const char         *name,
               const char * const *list,
               gsize               n)
{
  const char *dot = name != NULL ? strrchr (name, '.') : NULL;
  g_autofree char *ext = NULL;

  if (dot == NULL)
    return FALSE;

  ext = g_ascii_strdown (dot + 1, -1);
  for (gsize i = 0; i < n; i++)
    if (g_str_equal (ext, list[i]))
      return TRUE;

  return FALSE;
}

/* ISO base media "ftyp" brands. */
static EiderFileType
classify_ftyp (const guint8 *head,
               gsize         len)
{
  static const char * const image_brands[] = { "heic", "heix", "heim", "heis", "hevc", "hevx",
                                               "hevm", "hevs", "mif1", "mif2", "msf1", "avif",
                                               "avis", "avio", "jxl ", "crx " };
  char brand[5] = { 0 };

  if (len < 12)
    return EIDER_FILE_TYPE_UNKNOWN;

  memcpy (brand, head + 8, 4);
  for (guint i = 0; i < G_N_ELEMENTS (image_brands); i++)
    if (g_str_equal (brand, image_brands[i]))
      return EIDER_FILE_TYPE_IMAGE;

  /* isom, mp41, mp42, qt, 3gp4, M4V, … */
  return EIDER_FILE_TYPE_VIDEO;
}

/**
 * eider_media_classify:
 * @head: the file's first bytes (up to %EIDER_MEDIA_SNIFF_BYTES)
 * @name: (nullable): the file name, for the extension fallback
 */
EiderFileType
eider_media_classify (const guint8 *head,
                      gsize         len,
                      const char   *name)
{
#define STARTS(magic) (len >= sizeof (magic) - 1 && memcmp (head, magic, sizeof (magic) - 1) == 0)
  if (STARTS ("\xff\xd8\xff") || STARTS ("\x89PNG\r\n\x1a\n") || STARTS ("GIF87a") ||
      STARTS ("GIF89a") || STARTS ("BM") || STARTS ("\xff\x0a") ||
      STARTS ("\x00\x00\x00\x0cJXL ") || STARTS ("FUJIFILMCCD-RAW") ||
      STARTS ("II*\x00") || STARTS ("MM\x00*") || STARTS ("IIRO") || STARTS ("IIRS") ||
      STARTS ("MMOR") || STARTS ("IIU\x00") || STARTS ("II\x1a\x00\x00\x00HEAPCCDR") ||
      STARTS ("FOVb") || STARTS ("\x00MRM"))
    return EIDER_FILE_TYPE_IMAGE;

  if (len >= 12 && memcmp (head, "RIFF", 4) == 0)
    {
      if (memcmp (head + 8, "WEBP", 4) == 0)
        return EIDER_FILE_TYPE_IMAGE;
      if (memcmp (head + 8, "AVI ", 4) == 0)
        return EIDER_FILE_TYPE_VIDEO;
    }

  if (len >= 12 && memcmp (head + 4, "ftyp", 4) == 0)
    return classify_ftyp (head, len);

  /* Older QuickTime files start straight with an atom other than ftyp. */
  if (len >= 8 && (memcmp (head + 4, "moov", 4) == 0 || memcmp (head + 4, "mdat", 4) == 0 ||
                   memcmp (head + 4, "wide", 4) == 0 || memcmp (head + 4, "pnot", 4) == 0 ||
                   memcmp (head + 4, "skip", 4) == 0 || memcmp (head + 4, "free", 4) == 0))
    return EIDER_FILE_TYPE_VIDEO;

  if (STARTS ("\x1a\x45\xdf\xa3") || STARTS ("OggS") || STARTS ("\x00\x00\x01\xba") ||
      STARTS ("FLV") || STARTS ("\x30\x26\xb2\x75\x8e\x66\xcf\x11"))
    return EIDER_FILE_TYPE_VIDEO;

  /* No known signature. Formats that always carry one (listed below) are
   * not taken on their name's word: a text file called .jpg is not a photo.
   * Formats without a dependable signature at offset 0 (MPEG transport
   * streams, some RAW variants) fall back to the extension, as Ente's web
   * client does. */
  if (has_extension (name, signed_extensions, G_N_ELEMENTS (signed_extensions)))
    return EIDER_FILE_TYPE_UNKNOWN;
  if (has_extension (name, image_extensions, G_N_ELEMENTS (image_extensions)))
    return EIDER_FILE_TYPE_IMAGE;
  if (has_extension (name, video_extensions, G_N_ELEMENTS (video_extensions)))
    return EIDER_FILE_TYPE_VIDEO;

  return EIDER_FILE_TYPE_UNKNOWN;
#undef STARTS
}

void
eider_media_metadata_clear (EiderMediaMetadata *metadata)
{
  g_clear_pointer (&metadata->title, g_free);
  g_clear_pointer (&metadata->hash, g_free);
  g_clear_pointer (&metadata->date_time, g_free);
  g_clear_pointer (&metadata->offset_time, g_free);
  g_clear_pointer (&metadata->camera_make, g_free);
  g_clear_pointer (&metadata->camera_model, g_free);
  g_clear_pointer (&metadata->caption, g_free);
}

/* The web client's key order; integers for times, no fractions. */
char *
eider_media_metadata_to_json (const EiderMediaMetadata *metadata)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  g_return_val_if_fail (metadata != NULL, NULL);
  g_return_val_if_fail (metadata->title != NULL && metadata->hash != NULL, NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "fileType");
  json_builder_add_int_value (builder, metadata->file_type);
  json_builder_set_member_name (builder, "title");
  json_builder_add_string_value (builder, metadata->title);
  json_builder_set_member_name (builder, "creationTime");
  json_builder_add_int_value (builder, metadata->creation_time);
  json_builder_set_member_name (builder, "modificationTime");
  json_builder_add_int_value (builder, metadata->modification_time);
  json_builder_set_member_name (builder, "hash");
  json_builder_add_string_value (builder, metadata->hash);
  if (metadata->has_location && isfinite (metadata->latitude) && isfinite (metadata->longitude))
    {
      json_builder_set_member_name (builder, "latitude");
      json_builder_add_double_value (builder, metadata->latitude);
      json_builder_set_member_name (builder, "longitude");
      json_builder_add_double_value (builder, metadata->longitude);
    }
  if (metadata->duration > 0)
    {
      json_builder_set_member_name (builder, "duration");
      json_builder_add_int_value (builder, metadata->duration);
    }
  if (metadata->has_static_thumbnail)
    {
      json_builder_set_member_name (builder, "hasStaticThumbnail");
      json_builder_add_boolean_value (builder, TRUE);
    }
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);

  return json_to_string (root, FALSE);
}

/**
 * eider_media_public_magic_to_json:
 * @count: (out): the number of keys, Ente's "count"
 *
 * The pubMagicMetadata plaintext (spec §5.2): dateTime, offsetTime, w, h,
 * caption, cameraMake, cameraModel, each only when known.
 *
 * Returns: (transfer full) (nullable): the JSON, or %NULL (and 0) when
 *   there is nothing to say, in which case no pubMagicMetadata is sent
 */
char *
eider_media_public_magic_to_json (const EiderMediaMetadata *md,
                                  guint                    *count)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  const struct { const char *key; const char *value; } strings[] = {
    { "caption", md->caption },
    { "cameraMake", md->camera_make },
    { "cameraModel", md->camera_model },
  };
  guint n = 0;

  g_return_val_if_fail (md != NULL, NULL);
  g_return_val_if_fail (count != NULL, NULL);

  json_builder_begin_object (builder);
  if (md->date_time != NULL && md->date_time[0] != '\0')
    {
      json_builder_set_member_name (builder, "dateTime");
      json_builder_add_string_value (builder, md->date_time);
      n++;
      if (md->offset_time != NULL && md->offset_time[0] != '\0')
        {
          json_builder_set_member_name (builder, "offsetTime");
          json_builder_add_string_value (builder, md->offset_time);
          n++;
        }
    }
  if (md->width > 0 && md->height > 0)
    {
      json_builder_set_member_name (builder, "w");
      json_builder_add_int_value (builder, md->width);
      json_builder_set_member_name (builder, "h");
      json_builder_add_int_value (builder, md->height);
      n += 2;
    }
  for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
    if (strings[i].value != NULL && strings[i].value[0] != '\0')
      {
        json_builder_set_member_name (builder, strings[i].key);
        json_builder_add_string_value (builder, strings[i].value);
        n++;
      }
  json_builder_end_object (builder);

  *count = n;
  if (n == 0)
    return NULL;

  root = json_builder_get_root (builder);

  return json_to_string (root, FALSE);
}

GBytes *
eider_media_placeholder_thumbnail (void)
{
  return g_resource_lookup_data (eider_core_get_resource (),
                                 "/io/github/eiderapp/Eider/core/data/black-placeholder.jpg",
                                 G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
}

/* ---- Reading a file: in memory, or bounded reads from disk ---------------- */

/* Whole-file reads (the decoders' input) go in chunks of this size. */
#define READ_CHUNK      (256 * 1024)
/* How much of a file's start holds the Exif of JPEG and TIFF-based files. */
#define EXIF_HEAD_BYTES (4 * 1024 * 1024)
#define MAX_CHUNK_EXIF  (1024 * 1024)
#define MAX_SIDECAR     (1024 * 1024)

typedef struct
{
  GBytes *content;   /* the whole file, or NULL */
  int     fd;        /* else the open file */
  goffset size;
} Source;

static void
source_close (Source *src)
{
  g_clear_pointer (&src->content, g_bytes_unref);
  if (src->fd >= 0)
    g_close (src->fd, NULL);
  src->fd = -1;
}

static gboolean
source_open (Source      *src,
             const char  *path,
             GBytes      *content,
             GError     **error)
{
  src->content = NULL;
  src->fd = -1;
  src->size = 0;

  if (content != NULL)
    {
      src->content = g_bytes_ref (content);
      src->size = g_bytes_get_size (content);
      return TRUE;
    }

  src->fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (src->fd < 0 || (src->size = lseek (src->fd, 0, SEEK_END)) < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "Cannot read %s: %s",
                   path, g_strerror (saved));
      source_close (src);
      return FALSE;
    }

  return TRUE;
}

/* Up to @len bytes at @offset; fewer at the end of the file. */
static gsize
source_read (Source  *src,
             goffset  offset,
             guint8  *buf,
             gsize    len)
{
  gsize done = 0;

  if (offset < 0 || offset >= src->size)
    return 0;
  len = MIN (len, (gsize) (src->size - offset));

  if (src->content != NULL)
    {
      memcpy (buf, (const guint8 *) g_bytes_get_data (src->content, NULL) + offset, len);
      return len;
    }

  while (done < len)
    {
      gssize n = pread (src->fd, buf + done, len - done, offset + done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      done += n;
    }

  return done;
}

/* The bytes [offset, offset + len), clipped to the file. */
static GBytes *
source_bytes (Source  *src,
              goffset  offset,
              gsize    len)
{
  guint8 *buf;
  gsize n;

  if (offset < 0 || offset >= src->size)
    return g_bytes_new (NULL, 0);
  len = MIN (len, (gsize) (src->size - offset));

  if (src->content != NULL)
    return g_bytes_new_from_bytes (src->content, offset, len);

  buf = g_malloc (len);
  n = source_read (src, offset, buf, len);

  return g_bytes_new_take (buf, n);
}

static guint32
be16 (const guint8 *p)
{
  return (guint32) p[0] << 8 | p[1];
}

static guint32
be32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

static guint32
le16 (const guint8 *p)
{
  return (guint32) p[1] << 8 | p[0];
}

static guint32
le24 (const guint8 *p)
{
  return (guint32) p[2] << 16 | (guint32) p[1] << 8 | p[0];
}

static guint32
le32 (const guint8 *p)
{
  return (guint32) p[3] << 24 | (guint32) p[2] << 16 | (guint32) p[1] << 8 | p[0];
}

/* ---- What the content is -------------------------------------------------- */

typedef enum
{
  KIND_NONE,
  KIND_JPEG,
  KIND_PNG,
  KIND_GIF,
  KIND_BMP,
  KIND_WEBP,
  KIND_TIFF,
  KIND_HEIF,
  KIND_RAW,
} ImageKind;

static ImageKind
image_kind (const guint8 *head,
            gsize         len,
            const char   *name)
{
  gboolean raw_name = has_extension (name, raw_extensions, G_N_ELEMENTS (raw_extensions));

#define STARTS(magic) (len >= sizeof (magic) - 1 && memcmp (head, magic, sizeof (magic) - 1) == 0)
  if (STARTS ("\xff\xd8\xff"))
    return KIND_JPEG;
  if (STARTS ("\x89PNG\r\n\x1a\n"))
    return KIND_PNG;
  if (STARTS ("GIF87a") || STARTS ("GIF89a"))
    return KIND_GIF;
  if (STARTS ("BM"))
    return KIND_BMP;
  if (len >= 12 && memcmp (head, "RIFF", 4) == 0 && memcmp (head + 8, "WEBP", 4) == 0)
    return KIND_WEBP;
  if (len >= 12 && memcmp (head + 4, "ftyp", 4) == 0)
    {
      if (memcmp (head + 8, "crx ", 4) == 0)
        return KIND_RAW;
      return eider_media_classify (head, len, NULL) == EIDER_FILE_TYPE_IMAGE ? KIND_HEIF : KIND_NONE;
    }
  if (STARTS ("II*\x00") || STARTS ("MM\x00*"))
    return raw_name ? KIND_RAW : KIND_TIFF;
  if (STARTS ("IIRO") || STARTS ("IIRS") || STARTS ("MMOR") || STARTS ("IIU\x00") ||
      STARTS ("FUJIFILMCCD-RAW") || STARTS ("II\x1a\x00\x00\x00HEAPCCDR") || STARTS ("FOVb") ||
      STARTS ("\x00MRM"))
    return KIND_RAW;
#undef STARTS

  /* No signature libraw needs: its own parser decides. */
  return raw_name ? KIND_RAW : KIND_NONE;
}

static const char *
kind_loader (ImageKind kind)
{
  switch (kind)
    {
    case KIND_JPEG: return "jpeg";
    case KIND_PNG: return "png";
    case KIND_GIF: return "gif";
    case KIND_BMP: return "bmp";
    case KIND_WEBP: return "webp";
    case KIND_TIFF: return "tiff";
    case KIND_NONE:
    case KIND_HEIF:
    case KIND_RAW:
    default:
      return NULL;
    }
}

/* JPEG: the first SOFn segment. */
static gboolean
jpeg_size (Source *src,
           int    *width,
           int    *height)
{
  goffset pos = 2;
  guint8 b[9];

  /* Markers live in the first segments; 16 MiB of them is already absurd. */
  while (pos < MIN (src->size, 16 * 1024 * 1024))
    {
      guint8 marker;

      if (source_read (src, pos, b, 2) < 2 || b[0] != 0xff)
        return FALSE;
      marker = b[1];
      if (marker == 0xff)
        {
          pos++;
          continue;
        }
      if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd8))
        {
          pos += 2;
          continue;
        }
      if (marker == 0xd9 || marker == 0xda)
        return FALSE;
      if (source_read (src, pos + 2, b, 7) < 7 || be16 (b) < 2)
        return FALSE;
      if (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc)
        {
          *height = be16 (b + 3);
          *width = be16 (b + 5);
          return *width > 0 && *height > 0;
        }
      pos += 2 + be16 (b);
    }

  return FALSE;
}

/* One entry of a TIFF's IFD0 (at most its first 512 are looked at). */
typedef struct
{
  gboolean le;
  guint32  type;
  guint32  count;
  guint8   value[4];   /* the value itself, or its offset */
} TiffEntry;

static gboolean
tiff_ifd0_entry (Source    *src,
                 guint16    tag,
                 TiffEntry *entry)
{
  guint8 b[12];
  guint32 ifd;
  guint32 n;

  if (source_read (src, 0, b, 8) < 8)
    return FALSE;
  entry->le = b[0] == 'I';
  ifd = entry->le ? le32 (b + 4) : be32 (b + 4);
  if (source_read (src, ifd, b, 2) < 2)
    return FALSE;
  n = entry->le ? le16 (b) : be16 (b);

  for (guint32 i = 0; i < MIN (n, 512); i++)
    {
      if (source_read (src, (goffset) ifd + 2 + 12 * i, b, 12) < 12)
        return FALSE;
      if ((entry->le ? le16 (b) : be16 (b)) != tag)
        continue;
      entry->type = entry->le ? le16 (b + 2) : be16 (b + 2);
      entry->count = entry->le ? le32 (b + 4) : be32 (b + 4);
      memcpy (entry->value, b + 8, 4);
      return TRUE;
    }

  return FALSE;
}

/* A SHORT or LONG entry's value, 0 when it is neither. */
static guint32
tiff_entry_uint (const TiffEntry *entry)
{
  if (entry->type == 3)
    return entry->le ? le16 (entry->value) : be16 (entry->value);
  if (entry->type == 4)
    return entry->le ? le32 (entry->value) : be32 (entry->value);
  return 0;
}

/* TIFF: ImageWidth and ImageLength of IFD0. */
static gboolean
tiff_size (Source *src,
           int    *width,
           int    *height)
{
  TiffEntry entry;
  guint32 w = 0;
  guint32 h = 0;

  if (tiff_ifd0_entry (src, 256, &entry))
    w = tiff_entry_uint (&entry);
  if (tiff_ifd0_entry (src, 257, &entry))
    h = tiff_entry_uint (&entry);

  if (w == 0 || h == 0 || w > G_MAXINT || h > G_MAXINT)
    return FALSE;
  *width = (int) w;
  *height = (int) h;

  return TRUE;
}

/* The image's stored size from the file's own header, as web reads it
 * first (spec §4.5): JPEG SOF, PNG IHDR, GIF, BMP, WebP, TIFF IFD0. */
static gboolean
header_size (Source    *src,
             ImageKind  kind,
             int       *width,
             int       *height)
{
  guint8 b[30] = { 0 };
  gsize n = source_read (src, 0, b, sizeof b);
  gint64 w = 0;
  gint64 h = 0;

  switch (kind)
    {
    case KIND_JPEG:
      return jpeg_size (src, width, height);
    case KIND_TIFF:
      return tiff_size (src, width, height);
    case KIND_PNG:
      if (n < 24 || memcmp (b + 12, "IHDR", 4) != 0)
        return FALSE;
      w = be32 (b + 16);
      h = be32 (b + 20);
      break;
    case KIND_GIF:
      if (n < 10)
        return FALSE;
      w = le16 (b + 6);
      h = le16 (b + 8);
      break;
    case KIND_BMP:
      if (n < 26)
        return FALSE;
      if (le32 (b + 14) == 12)
        {
          w = le16 (b + 18);
          h = le16 (b + 20);
        }
      else
        {
          w = (gint32) le32 (b + 18);
          h = ABS ((gint64) (gint32) le32 (b + 22));
        }
      break;
    case KIND_WEBP:
      if (n < 30)
        return FALSE;
      if (memcmp (b + 12, "VP8 ", 4) == 0)
        {
          w = le16 (b + 26) & 0x3fff;
          h = le16 (b + 28) & 0x3fff;
        }
      else if (memcmp (b + 12, "VP8L", 4) == 0)
        {
          w = 1 + (b[21] | (b[22] & 0x3f) << 8);
          h = 1 + (b[22] >> 6 | b[23] << 2 | (b[24] & 0x0f) << 10);
        }
      else if (memcmp (b + 12, "VP8X", 4) == 0)
        {
          w = 1 + (gint64) le24 (b + 24);
          h = 1 + (gint64) le24 (b + 27);
        }
      break;
    case KIND_NONE:
    case KIND_HEIF:
    case KIND_RAW:
    default:
      return FALSE;
    }

  if (w <= 0 || h <= 0 || w > G_MAXINT || h > G_MAXINT)
    return FALSE;
  *width = (int) w;
  *height = (int) h;

  return TRUE;
}

/* Calls @visit with each chunk of a PNG, or of a RIFF (WebP) file, walking
 * the chunk headers only, until it returns a block. */
typedef GBytes *(*ChunkVisit) (Source       *src,
                               const guint8  type[4],
                               goffset       data,
                               guint32       size);

static GBytes *
walk_chunks (Source     *src,
             ImageKind   kind,
             ChunkVisit  visit)
{
  goffset pos = kind == KIND_PNG ? 8 : 12;
  guint8 b[8];

  for (guint i = 0; i < 100000 && pos + 8 <= src->size; i++)
    {
      const guint8 *type = kind == KIND_PNG ? b + 4 : b;
      GBytes *block;
      guint32 n;

      if (source_read (src, pos, b, 8) < 8)
        return NULL;
      n = kind == KIND_PNG ? be32 (b) : le32 (b + 4);
      if (kind == KIND_PNG && memcmp (type, "IEND", 4) == 0)
        return NULL;
      if ((block = visit (src, type, pos + 8, n)) != NULL)
        return block;
      pos += kind == KIND_PNG ? 12 + (goffset) n : 8 + (goffset) n + (n & 1);
    }

  return NULL;
}

/* A PNG eXIf or WebP EXIF chunk. */
static GBytes *
exif_chunk (Source       *src,
            const guint8  type[4],
            goffset       data,
            guint32       size)
{
  if ((memcmp (type, "eXIf", 4) == 0 || memcmp (type, "EXIF", 4) == 0) && size <= MAX_CHUNK_EXIF)
    return source_bytes (src, data, size);

  return NULL;
}

/* ---- XMP and IPTC blocks -------------------------------------------------- */

#define MAX_XMP (4 * 1024 * 1024)

static const char xmp_app1[] = "http://ns.adobe.com/xap/1.0/";   /* with its NUL */
static const char photoshop_app13[] = "Photoshop 3.0";            /* with its NUL */

/* A JPEG's XMP (APP1) and Photoshop IPTC (APP13) segments, before the scan. */
static void
jpeg_xmp_iptc (Source  *src,
               GBytes **xmp,
               GBytes **iptc)
{
  goffset pos = 2;
  guint8 b[4];

  for (guint i = 0; i < 10000 && pos < MIN (src->size, 16 * 1024 * 1024); i++)
    {
      guint8 marker;
      guint32 len;
      guint8 sig[sizeof xmp_app1];

      if (source_read (src, pos, b, 2) < 2 || b[0] != 0xff)
        return;
      marker = b[1];
      if (marker == 0xff)
        {
          pos++;
          continue;
        }
      if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd8))
        {
          pos += 2;
          continue;
        }
      if (marker == 0xd9 || marker == 0xda)
        return;
      if (source_read (src, pos + 2, b, 2) < 2 || be16 (b) < 2)
        return;
      len = be16 (b) - 2;
      if (marker == 0xe1 && *xmp == NULL && len > sizeof xmp_app1 &&
          source_read (src, pos + 4, sig, sizeof xmp_app1) == sizeof xmp_app1 &&
          memcmp (sig, xmp_app1, sizeof xmp_app1) == 0)
        *xmp = source_bytes (src, pos + 4 + sizeof xmp_app1, len - sizeof xmp_app1);
      else if (marker == 0xed && *iptc == NULL && len > sizeof photoshop_app13 &&
               source_read (src, pos + 4, sig, sizeof photoshop_app13) == sizeof photoshop_app13 &&
               memcmp (sig, photoshop_app13, sizeof photoshop_app13) == 0)
        *iptc = source_bytes (src, pos + 4, len);
      pos += 4 + (goffset) len;
    }
}

/* A PNG iTXt "XML:com.adobe.xmp" (uncompressed) or WebP "XMP " chunk. */
static GBytes *
xmp_chunk (Source       *src,
           const guint8  type[4],
           goffset       data,
           guint32       n)
{
  static const char keyword[] = "XML:com.adobe.xmp";   /* with its NUL */
  g_autoptr(GBytes) chunk = NULL;
  const guint8 *d, *lang, *translated;
  gsize size;

  if (memcmp (type, "XMP ", 4) == 0)
    return n <= MAX_XMP ? source_bytes (src, data, n) : NULL;
  if (memcmp (type, "iTXt", 4) != 0 || n <= sizeof keyword + 2 || n > MAX_XMP)
    return NULL;

  /* keyword\0, compression flag 0, method, language\0, translated\0, text */
  chunk = source_bytes (src, data, n);
  d = g_bytes_get_data (chunk, &size);
  if (size == n && memcmp (d, keyword, sizeof keyword) == 0 &&
      d[sizeof keyword] == 0 &&
      (lang = memchr (d + sizeof keyword + 2, 0, n - sizeof keyword - 2)) != NULL &&
      (translated = memchr (lang + 1, 0, d + n - (lang + 1))) != NULL)
    return g_bytes_new_from_bytes (chunk, translated + 1 - d, d + n - (translated + 1));

  return NULL;
}

/* A TIFF (or TIFF-structured RAW such as DNG) IFD0's XMP, tag 700. */
static GBytes *
tiff_xmp (Source *src)
{
  TiffEntry entry;
  guint32 offset;

  if (!tiff_ifd0_entry (src, 700, &entry) ||
      (entry.type != 1 && entry.type != 7) || entry.count == 0 || entry.count > MAX_XMP)
    return NULL;
  if (entry.count <= 4)
    return g_bytes_new (entry.value, entry.count);
  offset = entry.le ? le32 (entry.value) : be32 (entry.value);
  if ((goffset) offset + entry.count > src->size)
    return NULL;

  return source_bytes (src, offset, entry.count);
}

/* ---- Thumbnails ----------------------------------------------------------- */

typedef struct
{
  int      max_side;
  gboolean refused;
} SizeRequest;

static void
size_prepared_cb (GdkPixbufLoader *loader,
                  int              width,
                  int              height,
                  gpointer         user_data)
{
  SizeRequest *request = user_data;
  double scale;

  if (width <= 0 || height <= 0)
    return;

  /* Decode at reduced size: a huge image never exists in memory in full
   * (JPEG decodes at 1/2, 1/4 or 1/8 scale; other loaders scale as they go
   * or at the end, which header_size() bounded before). */
  scale = MIN (1.0, (double) request->max_side / MAX (width, height));
  gdk_pixbuf_loader_set_size (loader, MAX (1, (int) (width * scale + 0.5)),
                              MAX (1, (int) (height * scale + 0.5)));
}

/* Beyond these the decoder is not started: gdk-pixbuf's loaders other than
 * JPEG allocate the full image before scaling it down. */
#define MAX_PIXELS_JPEG  ((gint64) 1500 * 1000 * 1000)
#define MAX_PIXELS_OTHER ((gint64) 64 * 1000 * 1000)

static gboolean
decodable_size (ImageKind kind,
                int       width,
                int       height)
{
  gint64 pixels = (gint64) width * height;

  return width > 0 && height > 0 &&
         pixels <= (kind == KIND_JPEG ? MAX_PIXELS_JPEG : MAX_PIXELS_OTHER);
}

/* Decodes with gdk-pixbuf's loader for @kind only (never its guess: a
 * file that claims to be a photo must not reach the SVG or XPM parsers),
 * scaled during the decode and made upright. */
static GdkPixbuf *
pixbuf_decode (Source        *src,
               ImageKind      kind,
               int            max_side,
               gboolean      *oriented,
               GCancellable  *cancellable)
{
  g_autoptr(GdkPixbufLoader) loader = NULL;
  SizeRequest request = { max_side, FALSE };
  const char *type = kind_loader (kind);
  g_autofree guint8 *buf = NULL;
  GdkPixbuf *pixbuf;
  const char *orientation;
  gboolean ok = TRUE;
  int width = 0;
  int height = 0;

  if (oriented != NULL)
    *oriented = FALSE;
  if (type == NULL || !header_size (src, kind, &width, &height) ||
      !decodable_size (kind, width, height))
    return NULL;

  loader = gdk_pixbuf_loader_new_with_type (type, NULL);
  if (loader == NULL)
    return NULL;
  g_signal_connect (loader, "size-prepared", G_CALLBACK (size_prepared_cb), &request);

  if (src->content != NULL)
    ok = gdk_pixbuf_loader_write_bytes (loader, src->content, NULL);
  else
    {
      buf = g_malloc (READ_CHUNK);
      for (goffset pos = 0; ok && pos < src->size;)
        {
          gsize n = source_read (src, pos, buf, READ_CHUNK);

          if (n == 0 || g_cancellable_is_cancelled (cancellable))
            ok = FALSE;
          else
            ok = gdk_pixbuf_loader_write (loader, buf, n, NULL);
          pos += n;
        }
    }

  if (!gdk_pixbuf_loader_close (loader, NULL) || !ok)
    return NULL;

  pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);
  if (pixbuf == NULL)
    return NULL;

  orientation = gdk_pixbuf_get_option (pixbuf, "orientation");
  if (oriented != NULL && orientation != NULL && !g_str_equal (orientation, "1"))
    *oriented = TRUE;

  /* Upright, as Ente's apps show thumbnails. */
  return gdk_pixbuf_apply_embedded_orientation (pixbuf);
}

static GdkPixbuf *
fit (GdkPixbuf *pixbuf,
     int        max_side)
{
  int w = gdk_pixbuf_get_width (pixbuf);
  int h = gdk_pixbuf_get_height (pixbuf);
  double scale = MIN (1.0, (double) max_side / MAX (w, h));

  if (scale >= 1.0)
    return g_object_ref (pixbuf);

  return gdk_pixbuf_scale_simple (pixbuf, MAX (1, (int) (w * scale + 0.5)),
                                  MAX (1, (int) (h * scale + 0.5)), GDK_INTERP_BILINEAR);
}

static GdkPixbuf *
raw_preview (Source        *src,
             const char    *path,
             GCancellable  *cancellable)
{
  g_autoptr(GBytes) jpeg = NULL;
  g_autoptr(GdkPixbuf) bitmap = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  int flip = 0;

  if (!eider_raw_read (path, src->content, NULL, &jpeg, &bitmap, &flip, NULL))
    return NULL;

  if (jpeg != NULL)
    {
      Source preview = { jpeg, -1, g_bytes_get_size (jpeg) };
      gboolean oriented = FALSE;

      pixbuf = pixbuf_decode (&preview, KIND_JPEG, THUMBNAIL_MAX_SIDE, &oriented, cancellable);
      if (pixbuf == NULL)
        return NULL;
      /* A preview that carries its own orientation (libraw writes the
       * RAW's into the Exif it puts in front) was already turned. */
      if (oriented)
        flip = 0;
    }
  else if (bitmap != NULL)
    pixbuf = fit (bitmap, THUMBNAIL_MAX_SIDE);

  if (pixbuf == NULL)
    return NULL;

  return eider_raw_apply_flip (pixbuf, flip);
}

static GdkPixbuf *
image_pixbuf (Source        *src,
              const char    *path,
              ImageKind      kind,
              GCancellable  *cancellable)
{
  GdkPixbuf *pixbuf = NULL;

  switch (kind)
    {
    case KIND_HEIF:
      {
        g_autoptr(EiderHeif) heif = eider_heif_open (path, src->content, NULL);

        if (heif != NULL)
          pixbuf = eider_heif_thumbnail (heif, THUMBNAIL_MAX_SIDE, NULL);
      }
      break;

    case KIND_RAW:
      pixbuf = raw_preview (src, path, cancellable);
      /* A TIFF-structured RAW without a preview libraw could give: its
       * first image may still be a plain RGB one. */
      if (pixbuf == NULL && src->size >= 4)
        {
          guint8 b[4];

          if (source_read (src, 0, b, 4) == 4 &&
              (memcmp (b, "II*\0", 4) == 0 || memcmp (b, "MM\0*", 4) == 0))
            pixbuf = pixbuf_decode (src, KIND_TIFF, THUMBNAIL_MAX_SIDE, NULL, cancellable);
        }
      break;

    case KIND_NONE:
      break;

    case KIND_JPEG:
    case KIND_PNG:
    case KIND_GIF:
    case KIND_BMP:
    case KIND_WEBP:
    case KIND_TIFF:
    default:
      pixbuf = pixbuf_decode (src, kind, THUMBNAIL_MAX_SIDE, NULL, cancellable);
      break;
    }

  if (pixbuf != NULL)
    {
      GdkPixbuf *fitted = fit (pixbuf, THUMBNAIL_MAX_SIDE);

      g_object_unref (pixbuf);
      pixbuf = fitted;
    }

  return pixbuf;
}

/* JPEG bytes no larger than THUMBNAIL_MAX_BYTES. Ente's apps try quality
 * 0.7, 0.6, 0.5 (spec §3.1, §3.3) and keep the last even when it is still
 * too large; Eider keeps stepping down, then halves the size, so every
 * thumbnail meets the target. */
static GBytes *
encode_thumbnail (GdkPixbuf *source)
{
  static const char * const qualities[] = { "70", "60", "50", "40", "30" };
  g_autoptr(GdkPixbuf) pixbuf = g_object_ref (source);

  if (gdk_pixbuf_get_has_alpha (pixbuf))
    {
      /* JPEG has no alpha: flatten onto black, as a browser canvas does. */
      g_autoptr(GdkPixbuf) flat = gdk_pixbuf_composite_color_simple (pixbuf,
                                                                     gdk_pixbuf_get_width (pixbuf),
                                                                     gdk_pixbuf_get_height (pixbuf),
                                                                     GDK_INTERP_BILINEAR, 255, 1,
                                                                     0x000000, 0x000000);
      if (flat == NULL)
        return NULL;
      g_set_object (&pixbuf, flat);
    }

  for (;;)
    {
      int w = gdk_pixbuf_get_width (pixbuf);
      int h = gdk_pixbuf_get_height (pixbuf);
      g_autoptr(GdkPixbuf) smaller = NULL;

      for (guint i = 0; i < G_N_ELEMENTS (qualities); i++)
        {
          g_autofree char *buffer = NULL;
          gsize size = 0;

          if (!gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &size, "jpeg", NULL,
                                          "quality", qualities[i], NULL))
            return NULL;

          if (size <= THUMBNAIL_MAX_BYTES)
            return g_bytes_new_take (g_steal_pointer (&buffer), size);
        }

      if (w < 2 && h < 2)
        return NULL;
      smaller = gdk_pixbuf_scale_simple (pixbuf, MAX (1, w / 2), MAX (1, h / 2),
                                         GDK_INTERP_BILINEAR);
      if (smaller == NULL)
        return NULL;
      g_set_object (&pixbuf, smaller);
    }
}

static GdkPixbuf *
video_pixbuf (const char *path)
{
  if (path == NULL)
    return NULL;

  return eider_video_thumbnail (path, THUMBNAIL_MAX_SIDE, 30 * 1000, NULL);
}

/**
 * eider_media_thumbnail:
 * @content: (nullable): the file's bytes, when already in memory
 * @path: (nullable): the file, read when @content is %NULL (and for videos)
 *
 * Returns: (transfer full): JPEG bytes
 */
GBytes *
eider_media_thumbnail (GBytes        *content,
                       const char    *path,
                       EiderFileType  file_type,
                       gboolean      *is_placeholder)
{
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  GBytes *jpeg = NULL;

  if (is_placeholder != NULL)
    *is_placeholder = TRUE;

  if (file_type == EIDER_FILE_TYPE_VIDEO)
    pixbuf = video_pixbuf (path);
  else if (file_type == EIDER_FILE_TYPE_IMAGE || file_type == EIDER_FILE_TYPE_LIVE_PHOTO)
    {
      Source src;
      guint8 head[EIDER_MEDIA_SNIFF_BYTES];
      gsize n;

      if ((content == NULL && path == NULL) || !source_open (&src, path, content, NULL))
        return eider_media_placeholder_thumbnail ();
      n = source_read (&src, 0, head, sizeof head);
      pixbuf = image_pixbuf (&src, path, image_kind (head, n, path), NULL);
      source_close (&src);
    }

  if (pixbuf != NULL)
    jpeg = encode_thumbnail (pixbuf);
  if (jpeg == NULL)
    return eider_media_placeholder_thumbnail ();

  if (is_placeholder != NULL)
    *is_placeholder = FALSE;

  return jpeg;
}

/* ---- Metadata ------------------------------------------------------------- */

typedef struct
{
  gint64   creation_time;       /* µs, 0 when absent */
  gint64   modification_time;
  gboolean has_location;
  double   latitude;
  double   longitude;
  char    *description;
} Sidecar;

static void
sidecar_clear (Sidecar *sidecar)
{
  g_clear_pointer (&sidecar->description, g_free);
}

/* A Takeout "timestamp": seconds, as a string or a number. */
static gint64
sidecar_timestamp (JsonObject *root,
                   const char *member)
{
  JsonObject *o = json_object_get_member (root, member) != NULL &&
                  JSON_NODE_HOLDS_OBJECT (json_object_get_member (root, member)) ?
                  json_object_get_object_member (root, member) : NULL;
  JsonNode *node = o != NULL ? json_object_get_member (o, "timestamp") : NULL;
  double seconds = 0;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return 0;

  if (json_node_get_value_type (node) == G_TYPE_STRING)
    {
      const char *text = json_node_get_string (node);
      char *end = NULL;

      seconds = g_ascii_strtod (text, &end);
      if (end == text || *end != '\0')
        return 0;
    }
  else if (json_node_get_value_type (node) == G_TYPE_INT64 ||
           json_node_get_value_type (node) == G_TYPE_DOUBLE)
    seconds = json_node_get_double (node);

  if (!isfinite (seconds) || seconds <= 0 || seconds > 1e11)
    return 0;

  return (gint64) (seconds * G_USEC_PER_SEC);
}

static gboolean
sidecar_location (JsonObject *root,
                  const char *member,
                  double     *lat,
                  double     *lon)
{
  JsonNode *node = json_object_get_member (root, member);
  JsonObject *o;
  JsonNode *a;
  JsonNode *b;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return FALSE;
  o = json_node_get_object (node);
  a = json_object_get_member (o, "latitude");
  b = json_object_get_member (o, "longitude");
  if (a == NULL || b == NULL || !JSON_NODE_HOLDS_VALUE (a) || !JSON_NODE_HOLDS_VALUE (b) ||
      json_node_get_value_type (a) == G_TYPE_STRING ||
      json_node_get_value_type (b) == G_TYPE_STRING)
    return FALSE;

  *lat = json_node_get_double (a);
  *lon = json_node_get_double (b);

  /* (0, 0) is Takeout's "no place". */
  return isfinite (*lat) && isfinite (*lon) && fabs (*lat) <= 90 && fabs (*lon) <= 180 &&
         (*lat != 0 || *lon != 0);
}

static gboolean
sidecar_parse (const char *path,
               Sidecar    *sidecar)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *text = NULL;
  gsize len = 0;
  GStatBuf st;
  JsonNode *root;
  JsonObject *o;
  JsonNode *description;

  if (g_stat (path, &st) != 0 || !S_ISREG (st.st_mode) || st.st_size > MAX_SIDECAR ||
      !g_file_get_contents (path, &text, &len, NULL) ||
      !json_parser_load_from_data (parser, text, len, NULL))
    return FALSE;

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return FALSE;
  o = json_node_get_object (root);

  sidecar->creation_time = sidecar_timestamp (o, "photoTakenTime");
  if (sidecar->creation_time == 0)
    sidecar->creation_time = sidecar_timestamp (o, "creationTime");
  sidecar->modification_time = sidecar_timestamp (o, "modificationTime");
  sidecar->has_location = sidecar_location (o, "geoData", &sidecar->latitude,
                                            &sidecar->longitude) ||
                          sidecar_location (o, "geoDataExif", &sidecar->latitude,
                                            &sidecar->longitude);

  description = json_object_get_member (o, "description");
  if (description != NULL && JSON_NODE_HOLDS_VALUE (description) &&
      json_node_get_value_type (description) == G_TYPE_STRING &&
      json_node_get_string (description)[0] != '\0')
    sidecar->description = g_strdup (json_node_get_string (description));

  return TRUE;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The Takeout sidecar Ente would pair with @path (spec §4.4): in the same
 * folder, or in a "metadata" folder inside it (Ente folds a trailing
 * /metadata into its parent). The first match in name order wins. */
static gboolean
sidecar_find (const char *path,
              Sidecar    *sidecar)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *name = g_path_get_basename (path);
  g_autofree char *meta = g_build_filename (dir, "metadata", NULL);
  const char *dirs[] = { dir, meta };

  for (guint d = 0; d < G_N_ELEMENTS (dirs); d++)
    {
      g_autoptr(GDir) gdir = g_dir_open (dirs[d], 0, NULL);
      g_autoptr(GPtrArray) matches = g_ptr_array_new_with_free_func (g_free);
      const char *entry;

      if (gdir == NULL)
        continue;
      while ((entry = g_dir_read_name (gdir)) != NULL)
        if (g_str_has_suffix (entry, ".json") || g_str_has_suffix (entry, ".JSON"))
          if (eider_media_sidecar_matches (name, entry))
            g_ptr_array_add (matches, g_strdup (entry));

      g_ptr_array_sort (matches, compare_names);
      for (guint i = 0; i < matches->len; i++)
        {
          g_autofree char *file = g_build_filename (dirs[d], g_ptr_array_index (matches, i), NULL);

          if (sidecar_parse (file, sidecar))
            return TRUE;
        }
    }

  return FALSE;
}

/**
 * eider_media_sidecar_creation_time:
 * @path: a photo or video
 * @time_us: (out): the sidecar's photoTakenTime, else its creationTime (µs),
 *   0 when it has neither
 *
 * Returns: whether @path has a Takeout sidecar Ente would use
 */
gboolean
eider_media_sidecar_creation_time (const char *path,
                                   gint64     *time_us)
{
  Sidecar sidecar = { 0 };
  gboolean found;

  found = sidecar_find (path, &sidecar);
  *time_us = found ? sidecar.creation_time : 0;
  sidecar_clear (&sidecar);

  return found;
}

typedef struct
{
  gboolean has_date;
  gint64   date_us;
} Embedded;

static void
take_string (char **field,
             char **value)
{
  if (*field == NULL && *value != NULL)
    *field = g_steal_pointer (value);
}

/* Exif, dimensions and camera of an image (spec §4.2, §4.5, §5.2). */
static void
read_image (Source             *src,
            const char         *path,
            ImageKind           kind,
            EiderMediaMetadata *md,
            Embedded           *embedded)
{
  g_auto(EiderExif) exif = { 0 };
  g_auto(EiderRawInfo) raw = { 0 };
  g_autoptr(GBytes) block = NULL;
  g_autoptr(GBytes) xmp = NULL;
  g_autoptr(GBytes) iptc = NULL;
  gboolean has_exif = FALSE;
  gboolean has_raw = FALSE;
  gboolean shown_size = FALSE;   /* width/height already as shown */
  int width = 0;
  int height = 0;

  switch (kind)
    {
    case KIND_JPEG:
      block = source_bytes (src, 0, EXIF_HEAD_BYTES);
      jpeg_xmp_iptc (src, &xmp, &iptc);
      break;
    case KIND_TIFF:
      block = source_bytes (src, 0, EXIF_HEAD_BYTES);
      xmp = tiff_xmp (src);
      break;
    case KIND_PNG:
    case KIND_WEBP:
      block = walk_chunks (src, kind, exif_chunk);
      xmp = walk_chunks (src, kind, xmp_chunk);
      break;
    case KIND_RAW:
      {
        guint8 b[4] = { 0 };

        /* TIFF-structured RAWs carry plain Exif IFDs; libraw reads the rest. */
        if (source_read (src, 0, b, 4) == 4 &&
            (memcmp (b, "II*\0", 4) == 0 || memcmp (b, "MM\0*", 4) == 0 ||
             memcmp (b, "IIRO", 4) == 0 || memcmp (b, "IIU\0", 4) == 0))
          {
            block = source_bytes (src, 0, EXIF_HEAD_BYTES);
            xmp = tiff_xmp (src);
          }
        has_raw = eider_raw_read (path, src->content, &raw, NULL, NULL, NULL, NULL);
        if (has_raw && raw.width > 0 && raw.height > 0)
          {
            width = raw.width;
            height = raw.height;
            shown_size = TRUE;
          }
      }
      break;
    case KIND_HEIF:
      {
        g_autoptr(EiderHeif) heif = eider_heif_open (path, src->content, NULL);

        if (heif != NULL)
          {
            block = eider_heif_get_exif (heif);
            xmp = eider_heif_get_xmp (heif);
            eider_heif_get_size (heif, &width, &height);
            shown_size = width > 0 && height > 0;
          }
      }
      break;
    case KIND_GIF:
    case KIND_BMP:
    case KIND_NONE:
    default:
      break;
    }

  if (block != NULL || xmp != NULL || iptc != NULL)
    has_exif = eider_exif_parse_all (block != NULL ? g_bytes_get_data (block, NULL) : NULL,
                                     block != NULL ? g_bytes_get_size (block) : 0,
                                     xmp != NULL ? g_bytes_get_data (xmp, NULL) : NULL,
                                     xmp != NULL ? g_bytes_get_size (xmp) : 0,
                                     iptc != NULL ? g_bytes_get_data (iptc, NULL) : NULL,
                                     iptc != NULL ? g_bytes_get_size (iptc) : 0,
                                     &exif);

  if (!shown_size && !header_size (src, kind, &width, &height) && has_exif)
    {
      width = exif.width;
      height = exif.height;
    }
  /* Orientations 5–8 turn the picture a quarter (HEIF and RAW sizes are
   * already as shown: libheif applied irot, libraw its flip). */
  if (!shown_size && exif.orientation >= 5)
    {
      int t = width;

      width = height;
      height = t;
    }
  if (width > 0 && height > 0)
    {
      md->width = width;
      md->height = height;
    }

  if (exif.has_date)
    {
      embedded->has_date = TRUE;
      embedded->date_us = exif.date_us;
      g_free (md->date_time);
      md->date_time = g_steal_pointer (&exif.date_time);
      g_free (md->offset_time);
      md->offset_time = g_steal_pointer (&exif.offset_time);
    }
  else if (has_raw && raw.timestamp_us > 0)
    {
      /* libraw gives only the instant it computed from the Exif clock in
       * local time: creationTime then, but no dateTime to show. */
      embedded->has_date = TRUE;
      embedded->date_us = raw.timestamp_us;
    }

  if (exif.has_location)
    {
      md->has_location = TRUE;
      md->latitude = exif.latitude;
      md->longitude = exif.longitude;
    }
  else if (has_raw && raw.has_location)
    {
      md->has_location = TRUE;
      md->latitude = raw.latitude;
      md->longitude = raw.longitude;
    }

  take_string (&md->camera_make, &exif.make);
  take_string (&md->camera_model, &exif.model);
  take_string (&md->camera_make, &raw.make);
  take_string (&md->camera_model, &raw.model);
  take_string (&md->caption, &exif.description);
}

static void
read_video (const char         *path,
            EiderMediaMetadata *md,
            Embedded           *embedded)
{
  EiderVideoInfo info = { 0 };

  if (!eider_video_probe (path, 30 * 1000, &info, NULL))
    return;

  if (info.creation_time != 0)
    {
      embedded->has_date = TRUE;
      embedded->date_us = info.creation_time;
      /* Web sets dateTime and offsetTime from the container's date too. */
      g_free (md->date_time);
      md->date_time = info.date_time[0] != '\0' ? g_strdup (info.date_time) : NULL;
      g_free (md->offset_time);
      md->offset_time = info.offset_time[0] != '\0' ? g_strdup (info.offset_time) : NULL;
    }
  if (info.has_location)
    {
      md->has_location = TRUE;
      md->latitude = info.latitude;
      md->longitude = info.longitude;
    }
  md->duration = info.duration;
  /* Web writes no w/h for videos (spec §4.5). */
}

/**
 * eider_media_describe:
 * @path: the file (its name gives the date fallback and finds the sidecar)
 * @content: (nullable): the whole file, when the caller has it in memory
 * @file_type: what eider_media_classify() said; a live photo is described
 *   by its image half (@path is the image), with @md->file_type kept
 * @mtime_us: the file's modification time, µs
 * @md: (inout): every field but title and hash is set
 * @thumbnail: (out) (transfer full): a JPEG thumbnail, or Ente's black
 *   placeholder with @md->has_static_thumbnail set
 *
 * Reads a file the way Ente's web and desktop uploader does (spec §3–5).
 * creationTime is, in order: the Takeout sidecar's photoTakenTime (else
 * its creationTime); the embedded date (web's order over XMP, IPTC and
 * Exif, see eider_exif_parse_all(): DateTimeOriginal, DateTimeDigitized,
 * MetadataDate, DateTime, Exif's each with its OffsetTime…; for RAW
 * files libraw's reading when they have no Exif we can parse; for videos
 * the container's time); a date in the file name; the modification time
 * (the sidecar's modificationTime, else @mtime_us). pubMagicMetadata's
 * dateTime and offsetTime are set only when the embedded date was used. The
 * sidecar's place and description override the file's own.
 *
 * Unreadable or hostile content is not an error: what could be read is
 * kept and the placeholder thumbnail is used.
 *
 * Returns: %FALSE only when @cancellable was cancelled
 */
gboolean
eider_media_describe (const char          *path,
                      GBytes              *content,
                      EiderFileType        file_type,
                      gint64               mtime_us,
                      EiderMediaMetadata  *md,
                      GBytes             **thumbnail,
                      GCancellable        *cancellable,
                      GError             **error)
{
  Sidecar sidecar = { 0 };
  Embedded embedded = { FALSE, 0 };
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GBytes) jpeg = NULL;
  g_autoptr(GDateTime) name_date = NULL;
  g_autofree char *name = NULL;
  gboolean has_sidecar;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (md != NULL, FALSE);
  g_return_val_if_fail (thumbnail != NULL, FALSE);

  *thumbnail = NULL;
  md->file_type = file_type;
  md->modification_time = mtime_us;
  md->creation_time = 0;
  md->has_location = FALSE;
  md->latitude = md->longitude = 0;
  md->duration = 0;
  md->has_static_thumbnail = FALSE;
  md->width = md->height = 0;
  g_clear_pointer (&md->date_time, g_free);
  g_clear_pointer (&md->offset_time, g_free);
  g_clear_pointer (&md->camera_make, g_free);
  g_clear_pointer (&md->camera_model, g_free);
  g_clear_pointer (&md->caption, g_free);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  has_sidecar = sidecar_find (path, &sidecar);

  if (file_type == EIDER_FILE_TYPE_VIDEO)
    {
      read_video (path, md, &embedded);
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          sidecar_clear (&sidecar);
          return FALSE;
        }
      pixbuf = video_pixbuf (path);
    }
  else if (file_type == EIDER_FILE_TYPE_IMAGE || file_type == EIDER_FILE_TYPE_LIVE_PHOTO)
    {
      Source src;

      if (source_open (&src, path, content, NULL))
        {
          guint8 head[EIDER_MEDIA_SNIFF_BYTES];
          gsize n = source_read (&src, 0, head, sizeof head);
          ImageKind kind = image_kind (head, n, path);

          read_image (&src, path, kind, md, &embedded);
          if (!g_cancellable_is_cancelled (cancellable))
            pixbuf = image_pixbuf (&src, path, kind, cancellable);
          source_close (&src);
        }
    }

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    {
      sidecar_clear (&sidecar);
      return FALSE;
    }

  if (has_sidecar)
    {
      if (sidecar.modification_time > 0)
        md->modification_time = sidecar.modification_time;
      if (sidecar.has_location)
        {
          md->has_location = TRUE;
          md->latitude = sidecar.latitude;
          md->longitude = sidecar.longitude;
        }
      if (sidecar.description != NULL)
        {
          g_free (md->caption);
          md->caption = g_steal_pointer (&sidecar.description);
        }
    }

  name = g_path_get_basename (path);
  if (has_sidecar && sidecar.creation_time > 0)
    {
      md->creation_time = sidecar.creation_time;
      /* The date shown comes from creationTime then, not from Exif. */
      g_clear_pointer (&md->date_time, g_free);
      g_clear_pointer (&md->offset_time, g_free);
    }
  else if (embedded.has_date)
    md->creation_time = embedded.date_us;
  else if (eider_media_date_from_filename (name, &name_date))
    md->creation_time = g_date_time_to_unix (name_date) * G_USEC_PER_SEC +
                        g_date_time_get_microsecond (name_date);
  else
    md->creation_time = md->modification_time;
  sidecar_clear (&sidecar);

  if (pixbuf != NULL)
    jpeg = encode_thumbnail (pixbuf);
  if (jpeg != NULL)
    *thumbnail = g_steal_pointer (&jpeg);
  else
    {
      *thumbnail = eider_media_placeholder_thumbnail ();
      md->has_static_thumbnail = TRUE;
    }

  return TRUE;
}
