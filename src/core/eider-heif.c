/* eider-heif.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-heif"
#include "config.h"

#include <string.h>
#include <libheif/heif.h>

#include "eider-heif.h"

/* Beyond this many pixels the primary image is not decoded (its embedded
 * thumbnail may still be): a hostile file must not exhaust memory. */
#define MAX_DECODE_PIXELS ((gint64) 120 * 1000 * 1000)
#define MAX_EXIF_BYTES    (4 * 1024 * 1024)

struct _EiderHeif
{
  GBytes                   *content;  /* kept alive: libheif reads it without copying */
  struct heif_context      *ctx;
  struct heif_image_handle *primary;
};

static void
ensure_init (void)
{
  static gsize done = 0;

  /* Reference counted by libheif and never released: the plugins stay
   * loaded for the life of the process. */
  if (g_once_init_enter (&done))
    {
      heif_init (NULL);
      g_once_init_leave (&done, 1);
    }
}

static gboolean
check (struct heif_error   err,
       const char         *what,
       GError            **error)
{
  if (err.code == heif_error_Ok)
    return TRUE;

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s", what,
               err.message != NULL ? err.message : "libheif error");
  return FALSE;
}

void
eider_heif_free (EiderHeif *heif)
{
  if (heif == NULL)
    return;

  g_clear_pointer (&heif->primary, heif_image_handle_release);
  g_clear_pointer (&heif->ctx, heif_context_free);
  g_clear_pointer (&heif->content, g_bytes_unref);
  g_free (heif);
}

/**
 * eider_heif_open:
 * @path: the file, read when @content is %NULL
 * @content: (nullable): the whole file, when already in memory
 *
 * Returns: (transfer full): the container, or %NULL with @error set
 */
EiderHeif *
eider_heif_open (const char  *path,
                 GBytes      *content,
                 GError     **error)
{
  g_autoptr(EiderHeif) heif = g_new0 (EiderHeif, 1);

  g_return_val_if_fail (path != NULL || content != NULL, NULL);

  ensure_init ();

  heif->ctx = heif_context_alloc ();
  if (heif->ctx == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "libheif: out of memory");
      return NULL;
    }

  if (content != NULL)
    {
      gsize size = 0;
      gconstpointer data = g_bytes_get_data (content, &size);

      heif->content = g_bytes_ref (content);
      if (!check (heif_context_read_from_memory_without_copy (heif->ctx, data, size, NULL),
                  "Not a readable HEIF file", error))
        return NULL;
    }
  else if (!check (heif_context_read_from_file (heif->ctx, path, NULL),
                   "Not a readable HEIF file", error))
    return NULL;

  if (!check (heif_context_get_primary_image_handle (heif->ctx, &heif->primary),
              "No primary image", error))
    return NULL;

  return g_steal_pointer (&heif);
}

/* The primary image's size as shown: irot and imir already applied. */
void
eider_heif_get_size (EiderHeif *heif,
                     int       *width,
                     int       *height)
{
  g_return_if_fail (heif != NULL);

  *width = MAX (0, heif_image_handle_get_width (heif->primary));
  *height = MAX (0, heif_image_handle_get_height (heif->primary));
}

/**
 * eider_heif_get_exif:
 *
 * The primary image's Exif block, from its TIFF header on (the item's
 * 4-byte offset prefix skipped), as eider_exif_parse() reads it.
 *
 * Returns: (transfer full) (nullable): the block, or %NULL without one
 */
GBytes *
eider_heif_get_exif (EiderHeif *heif)
{
  heif_item_id id;
  g_autofree guint8 *data = NULL;
  gsize size;
  guint32 offset;

  g_return_val_if_fail (heif != NULL, NULL);

  if (heif_image_handle_get_list_of_metadata_block_IDs (heif->primary, "Exif", &id, 1) < 1)
    return NULL;

  size = heif_image_handle_get_metadata_size (heif->primary, id);
  if (size < 4 + 8 || size > MAX_EXIF_BYTES)
    return NULL;

  data = g_malloc (size);
  if (!check (heif_image_handle_get_metadata (heif->primary, id, data), "Exif", NULL))
    return NULL;

  offset = (guint32) data[0] << 24 | (guint32) data[1] << 16 | (guint32) data[2] << 8 | data[3];
  if (offset > size - 4 - 8)
    return NULL;

  return g_bytes_new (data + 4 + offset, size - 4 - offset);
}

/**
 * eider_heif_get_xmp:
 *
 * The primary image's XMP packet: its first "mime" metadata item of content
 * type application/rdf+xml (at most 4 MiB).
 *
 * Returns: (transfer full) (nullable): the packet, or %NULL without one
 */
GBytes *
eider_heif_get_xmp (EiderHeif *heif)
{
  heif_item_id ids[16];
  int n;

  g_return_val_if_fail (heif != NULL, NULL);

  n = heif_image_handle_get_list_of_metadata_block_IDs (heif->primary, "mime", ids,
                                                        G_N_ELEMENTS (ids));
  for (int i = 0; i < MIN (n, (int) G_N_ELEMENTS (ids)); i++)
    {
      const char *type = heif_image_handle_get_metadata_content_type (heif->primary, ids[i]);
      gsize size;
      g_autofree guint8 *data = NULL;

      if (type == NULL || !g_str_equal (type, "application/rdf+xml"))
        continue;
      size = heif_image_handle_get_metadata_size (heif->primary, ids[i]);
      if (size == 0 || size > MAX_EXIF_BYTES)
        continue;
      data = g_malloc (size);
      if (!check (heif_image_handle_get_metadata (heif->primary, ids[i], data), "XMP", NULL))
        continue;
      return g_bytes_new_take (g_steal_pointer (&data), size);
    }

  return NULL;
}

static GdkPixbuf *
decode (struct heif_image_handle  *handle,
        GError                   **error)
{
  struct heif_image *image = NULL;
  gboolean alpha = heif_image_handle_has_alpha_channel (handle);
  int width = heif_image_handle_get_width (handle);
  int height = heif_image_handle_get_height (handle);
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  const guint8 *plane;
  int stride = 0;
  int n_channels = alpha ? 4 : 3;

  if (width <= 0 || height <= 0 || (gint64) width * height > MAX_DECODE_PIXELS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "HEIF image too large to decode (%d×%d)", width, height);
      return NULL;
    }

  if (!check (heif_decode_image (handle, &image, heif_colorspace_RGB,
                                 alpha ? heif_chroma_interleaved_RGBA : heif_chroma_interleaved_RGB,
                                 NULL),
              "Cannot decode the HEIF image", error))
    return NULL;

  width = heif_image_get_width (image, heif_channel_interleaved);
  height = heif_image_get_height (image, heif_channel_interleaved);
  plane = heif_image_get_plane_readonly (image, heif_channel_interleaved, &stride);
  if (plane == NULL || width <= 0 || height <= 0 || stride < width * n_channels)
    {
      heif_image_release (image);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "The HEIF image decoded to nothing");
      return NULL;
    }

  pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, alpha, 8, width, height);
  if (pixbuf == NULL)
    {
      heif_image_release (image);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Out of memory");
      return NULL;
    }

  for (int y = 0; y < height; y++)
    memcpy (gdk_pixbuf_get_pixels (pixbuf) + (gsize) y * gdk_pixbuf_get_rowstride (pixbuf),
            plane + (gsize) y * stride, (gsize) width * n_channels);
  heif_image_release (image);

  return g_steal_pointer (&pixbuf);
}

/* The largest embedded thumbnail, if any; *big when it reaches @max_side. */
static struct heif_image_handle *
largest_thumbnail (EiderHeif *heif,
                   int        max_side,
                   gboolean  *big)
{
  heif_item_id ids[8];
  int n = heif_image_handle_get_list_of_thumbnail_IDs (heif->primary, ids, G_N_ELEMENTS (ids));
  struct heif_image_handle *best = NULL;
  int best_side = 0;

  for (int i = 0; i < n; i++)
    {
      struct heif_image_handle *thumb = NULL;
      int side;

      if (heif_image_handle_get_thumbnail (heif->primary, ids[i], &thumb).code != heif_error_Ok)
        continue;
      side = MAX (heif_image_handle_get_width (thumb), heif_image_handle_get_height (thumb));
      if (side > best_side)
        {
          g_clear_pointer (&best, heif_image_handle_release);
          best = thumb;
          best_side = side;
        }
      else
        heif_image_handle_release (thumb);
    }

  *big = best != NULL && best_side >= max_side;

  return best;
}

/**
 * eider_heif_thumbnail:
 * @max_side: the longest side wanted
 *
 * An upright image to make a thumbnail of (the caller scales it): the
 * primary image's embedded thumbnail when its longest side is at least
 * @max_side, else the primary image, else (when the primary image cannot be
 * decoded) whatever thumbnail there is.
 *
 * Returns: (transfer full): the image, or %NULL with @error set
 */
GdkPixbuf *
eider_heif_thumbnail (EiderHeif  *heif,
                      int         max_side,
                      GError    **error)
{
  struct heif_image_handle *thumb = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GError) local_error = NULL;
  gboolean big = FALSE;

  g_return_val_if_fail (heif != NULL, NULL);
  g_return_val_if_fail (max_side > 0, NULL);

  thumb = largest_thumbnail (heif, max_side, &big);
  if (big)
    pixbuf = decode (thumb, NULL);
  if (pixbuf == NULL)
    pixbuf = decode (heif->primary, &local_error);
  if (pixbuf == NULL && thumb != NULL && !big)
    pixbuf = decode (thumb, NULL);
  g_clear_pointer (&thumb, heif_image_handle_release);

  if (pixbuf == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  return g_steal_pointer (&pixbuf);
}
