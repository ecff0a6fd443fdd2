/* eider-reason.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-reason"
#include "config.h"

#include <glib/gi18n-lib.h>

#include "eider-api.h"
#include "eider-reason.h"
#include "eider-uploader.h"

/* The text of a code whose details, when given, say it all (an error's
 * message is already a sentence for people), else @fallback. */
static char *
details_or (const char *details,
            const char *fallback)
{
  return g_strdup (details != NULL ? details : fallback);
}

/**
 * eider_reason_describe:
 * @code: a reason
 * @details: (nullable): what the store keeps with it
 *
 * The reason as people read it, translated. Codes that carry an error
 * (network, server, I/O, other) give its message, which is already for
 * people; the others have their own text and ignore @details, except a
 * live photo's part, which names the live photo.
 *
 * Returns: (transfer full) (nullable): the text, or %NULL for
 *   %EIDER_REASON_NONE (nothing to say)
 */
char *
eider_reason_describe (EiderReason  code,
                       const char  *details)
{
  switch (code)
    {
    case EIDER_REASON_NONE:
      return NULL;
    case EIDER_REASON_OTHER:
      return details_or (details, _("no reason given"));

    case EIDER_REASON_HIDDEN:
      return g_strdup (_("hidden file"));
    case EIDER_REASON_SIDECAR_XMP:
      return g_strdup (_("sidecar (XMP metadata), not a photo or video"));
    case EIDER_REASON_SIDECAR_JSON:
      return g_strdup (_("sidecar (JSON metadata), not a photo or video"));
    case EIDER_REASON_NOT_MEDIA:
      return g_strdup (_("not a photo or video"));
    case EIDER_REASON_EMPTY:
      return g_strdup (_("empty file"));
    case EIDER_REASON_TOO_LARGE:
      return g_strdup (_("too large (Ente stores files under 10 GiB)"));
    case EIDER_REASON_NOT_REGULAR:
      return g_strdup (_("not a regular file"));
    case EIDER_REASON_PIPE:
      return g_strdup (_("not a regular file (a pipe)"));
    case EIDER_REASON_SOCKET:
      return g_strdup (_("not a regular file (a socket)"));
    case EIDER_REASON_DEVICE:
      return g_strdup (_("not a regular file (a device)"));
    case EIDER_REASON_SYMLINK:
      return g_strdup (_("symbolic link (not followed)"));
    case EIDER_REASON_BROKEN_SYMLINK:
      return g_strdup (_("broken symbolic link"));
    case EIDER_REASON_FOLDER_UNREADABLE:
      return details_or (details, _("could not read this folder"));
    case EIDER_REASON_GONE:
      return g_strdup (_("no longer on disk"));

    case EIDER_REASON_CHANGED:
      return g_strdup (_("changed while being uploaded; will try again"));
    case EIDER_REASON_NETWORK:
      return details_or (details, _("could not reach the server; will try again"));
    case EIDER_REASON_SERVER_ERROR:
      return details_or (details, _("the server refused the upload; will try again"));
    case EIDER_REASON_IO_ERROR:
      return details_or (details, _("could not read the file; will try again"));
    case EIDER_REASON_ERROR:
      return details_or (details, _("could not prepare the upload; will try again"));
    case EIDER_REASON_NO_FILE_ID:
      return g_strdup (_("The server's answer to the upload has no file id"));

    case EIDER_REASON_ALREADY_IN_ENTE:
      return g_strdup (_("already in Ente"));
    case EIDER_REASON_LINKED:
      return g_strdup (_("already in Ente; added to this album"));
    case EIDER_REASON_REPLACED:
      return g_strdup (_("replaced the earlier version in Ente"));
    case EIDER_REASON_RENAMED:
      return g_strdup (_("renamed in Ente; nothing sent"));
    case EIDER_REASON_MOVED:
      return g_strdup (_("moved; nothing sent"));
    case EIDER_REASON_LIVE_PHOTO_PART:
      /* Translators: %s is the name of the live photo's image, e.g. IMG_0001.HEIC */
      return g_strdup_printf (_("part of the live photo %s"), details != NULL ? details : "");

    default:
      /* A code of a newer Eider that wrote the same database. */
      return details != NULL ? g_strdup (details)
                             : g_strdup_printf (_("unknown reason (code %d)"), (int) code);
    }
}

/**
 * eider_reason_for_error:
 * @error: why a file's upload did not go through
 *
 * Returns: the code to keep with @error's message as details
 */
EiderReason
eider_reason_for_error (const GError *error)
{
  g_return_val_if_fail (error != NULL, EIDER_REASON_ERROR);

  if (error->domain == EIDER_API_ERROR)
    return error->code == EIDER_API_ERROR_NETWORK ? EIDER_REASON_NETWORK
           : error->code == EIDER_API_ERROR_TOO_LARGE ? EIDER_REASON_TOO_LARGE
           : EIDER_REASON_SERVER_ERROR;

  if (error->domain == EIDER_UPLOAD_ERROR)
    switch ((EiderUploadError) error->code)
      {
      case EIDER_UPLOAD_ERROR_CHANGED:
        return EIDER_REASON_CHANGED;
      case EIDER_UPLOAD_ERROR_NOT_REGULAR:
        return EIDER_REASON_NOT_REGULAR;
      case EIDER_UPLOAD_ERROR_TOO_LARGE:
        return EIDER_REASON_TOO_LARGE;
      case EIDER_UPLOAD_ERROR_EMPTY:
        return EIDER_REASON_EMPTY;
      case EIDER_UPLOAD_ERROR_TRANSIENT:
      case EIDER_UPLOAD_ERROR_FAILED:
      default:
        return EIDER_REASON_SERVER_ERROR;
      }

  if (error->domain == G_IO_ERROR || error->domain == G_FILE_ERROR)
    return EIDER_REASON_IO_ERROR;

  return EIDER_REASON_ERROR;
}
