/* eider-media.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-media"
#include "config.h"

#include <string.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <json-glib/json-glib.h>

#include "eider-core-resources.h"
#include "eider-media.h"

#define THUMBNAIL_MAX_SIDE  720
#define THUMBNAIL_MAX_BYTES (100 * 1024)

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
  "jpg", "jpeg", "jpe", "png", "gif", "webp", "heic", "heif", "avif", "bmp", "tif", "tiff",
  "mp4", "m4v", "mov", "qt", "mkv", "webm", "avi", "3gp", "3g2",
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
  static const char * const image_brands[] = { "heic", "heix", "heim", "heis", "hevc", "mif1",
                                               "msf1", "avif", "avis", "crx " };
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
      STARTS ("IIU\x00"))
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
  if (metadata->has_static_thumbnail)
    {
      json_builder_set_member_name (builder, "hasStaticThumbnail");
      json_builder_add_boolean_value (builder, TRUE);
    }
  json_builder_end_object (builder);

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

static void
size_prepared_cb (GdkPixbufLoader *loader,
                  int              width,
                  int              height,
                  gpointer         user_data)
{
  double scale;

  if (width <= 0 || height <= 0)
    return;

  /* Decode at reduced size: a huge image never exists in memory in full. */
  scale = MIN (1.0, (double) THUMBNAIL_MAX_SIDE / MAX (width, height));
  gdk_pixbuf_loader_set_size (loader, MAX (1, (int) (width * scale + 0.5)),
                              MAX (1, (int) (height * scale + 0.5)));
}

static GdkPixbuf *
decode_scaled (GBytes      *content,
               const char  *path)
{
  g_autoptr(GdkPixbufLoader) loader = gdk_pixbuf_loader_new ();
  g_autoptr(GBytes) bytes = NULL;
  GdkPixbuf *pixbuf;

  if (content != NULL)
    bytes = g_bytes_ref (content);
  else
    {
      g_autoptr(GMappedFile) mapped = g_mapped_file_new (path, FALSE, NULL);

      if (mapped == NULL)
        return NULL;
      bytes = g_mapped_file_get_bytes (mapped);
    }

  g_signal_connect (loader, "size-prepared", G_CALLBACK (size_prepared_cb), NULL);
  if (!gdk_pixbuf_loader_write_bytes (loader, bytes, NULL) ||
      !gdk_pixbuf_loader_close (loader, NULL))
    {
      gdk_pixbuf_loader_close (loader, NULL);
      return NULL;
    }

  pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);
  if (pixbuf == NULL)
    return NULL;

  /* Upright, as Ente's apps show thumbnails. */
  return gdk_pixbuf_apply_embedded_orientation (pixbuf);
}

/**
 * eider_media_thumbnail:
 * @content: (nullable): the file's bytes, when already in memory
 * @path: the file, read when @content is %NULL
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
  static const char * const qualities[] = { "85", "75", "65", "55", "45", "35" };

  if (is_placeholder != NULL)
    *is_placeholder = TRUE;

  if (file_type == EIDER_FILE_TYPE_IMAGE)
    pixbuf = decode_scaled (content, path);

  if (pixbuf == NULL)
    return eider_media_placeholder_thumbnail ();

  if (gdk_pixbuf_get_has_alpha (pixbuf))
    {
      /* JPEG has no alpha: flatten onto black, as a browser canvas would. */
      g_autoptr(GdkPixbuf) flat = gdk_pixbuf_composite_color_simple (pixbuf,
                                                                     gdk_pixbuf_get_width (pixbuf),
                                                                     gdk_pixbuf_get_height (pixbuf),
                                                                     GDK_INTERP_BILINEAR, 255, 1,
                                                                     0x000000, 0x000000);
      g_set_object (&pixbuf, flat);
    }

  for (guint i = 0; i < G_N_ELEMENTS (qualities); i++)
    {
      g_autofree char *buffer = NULL;
      gsize size = 0;

      if (!gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &size, "jpeg", NULL,
                                      "quality", qualities[i], NULL))
        break;

      if (size <= THUMBNAIL_MAX_BYTES || i == G_N_ELEMENTS (qualities) - 1)
        {
          if (is_placeholder != NULL)
            *is_placeholder = FALSE;
          return g_bytes_new_take (g_steal_pointer (&buffer), size);
        }
    }

  return eider_media_placeholder_thumbnail ();
}
