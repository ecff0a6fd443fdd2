/* eider-raw.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-raw"
#include "config.h"

#include <math.h>
#include <string.h>
#include <libraw/libraw.h>

#include "eider-raw.h"

/* Bitmap previews larger than this are not copied. */
#define MAX_BITMAP_PIXELS ((gint64) 64 * 1000 * 1000)
#define MAX_JPEG_BYTES    ((gsize) 64 * 1024 * 1024)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (libraw_data_t, libraw_close)

void
eider_raw_info_clear (EiderRawInfo *info)
{
  g_clear_pointer (&info->make, g_free);
  g_clear_pointer (&info->model, g_free);
  memset (info, 0, sizeof *info);
}

static char *
trimmed (const char *s,
         gsize       max)
{
  g_autofree char *raw = g_strndup (s, max);
  g_autofree char *valid = g_utf8_make_valid (raw, -1);

  g_strstrip (valid);
  return valid[0] != '\0' ? g_steal_pointer (&valid) : NULL;
}

static gboolean
degrees (const float *dms,
         double      *out)
{
  double v = (double) dms[0] + (double) dms[1] / 60 + (double) dms[2] / 3600;

  if (!isfinite (v))
    return FALSE;
  *out = v;
  return TRUE;
}

static void
read_info (libraw_data_t *raw,
           EiderRawInfo  *info)
{
  const libraw_gps_info_t *gps = &raw->other.parsed_gps;
  double lat;
  double lon;
  int flip = raw->sizes.flip;

  info->make = trimmed (raw->idata.make, sizeof raw->idata.make);
  info->model = trimmed (raw->idata.model, sizeof raw->idata.model);
  if (raw->other.timestamp > 0)
    info->timestamp_us = (gint64) raw->other.timestamp * G_USEC_PER_SEC;

  if (gps->gpsparsed && degrees (gps->latitude, &lat) && degrees (gps->longitude, &lon) &&
      lat <= 90 && lon <= 180 && (lat != 0 || lon != 0))
    {
      info->has_location = TRUE;
      info->latitude = gps->latref == 'S' ? -lat : lat;
      info->longitude = gps->longref == 'W' ? -lon : lon;
    }

  if (raw->sizes.width > 0 && raw->sizes.height > 0)
    {
      gboolean swap = (flip & 4) != 0;

      info->width = swap ? raw->sizes.height : raw->sizes.width;
      info->height = swap ? raw->sizes.width : raw->sizes.height;
    }
}

/**
 * eider_raw_read:
 * @path: the file, read when @content is %NULL
 * @content: (nullable): the whole file, when already in memory
 * @info: (out caller-allocates) (optional): what libraw's parser found
 * @preview_jpeg: (out) (optional) (transfer full) (nullable): the embedded
 *   JPEG preview, when the camera stored one
 * @preview_bitmap: (out) (optional) (transfer full) (nullable): the embedded
 *   preview as pixels, when it is a bitmap
 * @flip: (out) (optional): libraw's flip for the preview (0, 3, 5 or 6);
 *   see eider_raw_apply_flip()
 *
 * Opens the file with libraw (which checks it is a RAW it knows) and takes
 * out the embedded preview. A file without a usable preview is not an
 * error: both preview outputs are then %NULL.
 *
 * Returns: %TRUE when libraw could read the file
 */
gboolean
eider_raw_read (const char    *path,
                GBytes        *content,
                EiderRawInfo  *info,
                GBytes       **preview_jpeg,
                GdkPixbuf    **preview_bitmap,
                int           *flip,
                GError       **error)
{
  g_autoptr(libraw_data_t) raw = NULL;
  libraw_processed_image_t *image = NULL;
  int rc;

  g_return_val_if_fail (path != NULL || content != NULL, FALSE);

  if (info != NULL)
    memset (info, 0, sizeof *info);
  if (preview_jpeg != NULL)
    *preview_jpeg = NULL;
  if (preview_bitmap != NULL)
    *preview_bitmap = NULL;
  if (flip != NULL)
    *flip = 0;

  raw = libraw_init (LIBRAW_OPIONS_NO_DATAERR_CALLBACK);
  if (raw == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "libraw: out of memory");
      return FALSE;
    }

  if (content != NULL)
    {
      gsize size = 0;
      gconstpointer data = g_bytes_get_data (content, &size);

      /* libraw only reads the buffer. */
      rc = libraw_open_buffer (raw, (void *) data, size);
    }
  else
    rc = libraw_open_file (raw, path);

  if (rc != LIBRAW_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "Not a readable RAW file: %s",
                   libraw_strerror (rc));
      return FALSE;
    }

  if (info != NULL)
    read_info (raw, info);
  if (flip != NULL)
    *flip = raw->sizes.flip;

  if (preview_jpeg == NULL && preview_bitmap == NULL)
    return TRUE;

  if (libraw_unpack_thumb (raw) != LIBRAW_SUCCESS)
    return TRUE;

  image = libraw_dcraw_make_mem_thumb (raw, &rc);
  if (image == NULL)
    return TRUE;

  if (image->type == LIBRAW_IMAGE_JPEG && preview_jpeg != NULL &&
      image->data_size >= 4 && image->data_size <= MAX_JPEG_BYTES &&
      image->data[0] == 0xff && image->data[1] == 0xd8)
    {
      *preview_jpeg = g_bytes_new (image->data, image->data_size);
    }
  else if (image->type == LIBRAW_IMAGE_BITMAP && preview_bitmap != NULL &&
           image->bits == 8 && image->colors == 3 && image->width > 0 && image->height > 0 &&
           (gint64) image->width * image->height <= MAX_BITMAP_PIXELS &&
           image->data_size >= (gsize) image->width * image->height * 3)
    {
      GdkPixbuf *pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, image->width,
                                          image->height);

      if (pixbuf != NULL)
        {
          for (int y = 0; y < image->height; y++)
            memcpy (gdk_pixbuf_get_pixels (pixbuf) + (gsize) y * gdk_pixbuf_get_rowstride (pixbuf),
                    image->data + (gsize) y * image->width * 3, (gsize) image->width * 3);
          *preview_bitmap = pixbuf;
        }
    }

  libraw_dcraw_clear_mem (image);

  return TRUE;
}

/**
 * eider_raw_apply_flip:
 * @flip: libraw's flip: 3 is upside down, 5 turned left, 6 turned right
 *
 * Returns: (transfer full): @pixbuf upright
 */
GdkPixbuf *
eider_raw_apply_flip (GdkPixbuf *pixbuf,
                      int        flip)
{
  g_return_val_if_fail (GDK_IS_PIXBUF (pixbuf), NULL);

  switch (flip)
    {
    case 3:
      return gdk_pixbuf_rotate_simple (pixbuf, GDK_PIXBUF_ROTATE_UPSIDEDOWN);
    case 5:
      return gdk_pixbuf_rotate_simple (pixbuf, GDK_PIXBUF_ROTATE_COUNTERCLOCKWISE);
    case 6:
      return gdk_pixbuf_rotate_simple (pixbuf, GDK_PIXBUF_ROTATE_CLOCKWISE);
    default:
      return g_object_ref (pixbuf);
    }
}
