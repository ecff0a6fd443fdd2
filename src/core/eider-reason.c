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
#include "eider-core-enums.h"
#include "eider-reason.h"
#include "eider-uploader.h"

/* How a code's details show. */
typedef enum
{
  DETAILS_HIDDEN,   /* the text says it all */
  DETAILS_FIRST,    /* an error's message, already for people; else the text */
  DETAILS_IN_TEXT,  /* a name, put in the text's %s */
} DetailsUse;

/* What each code says. */
static const struct
{
  EiderReason  code;
  DetailsUse   details;
  const char  *text;
} reason_texts[] = {
  { EIDER_REASON_OTHER, DETAILS_FIRST, N_("no reason given") },

  { EIDER_REASON_HIDDEN, DETAILS_HIDDEN, N_("hidden file") },
  { EIDER_REASON_SIDECAR_XMP, DETAILS_HIDDEN, N_("sidecar (XMP metadata), not a photo or video") },
  { EIDER_REASON_SIDECAR_JSON, DETAILS_HIDDEN, N_("sidecar (JSON metadata), not a photo or video") },
  { EIDER_REASON_NOT_MEDIA, DETAILS_HIDDEN, N_("not a photo or video") },
  { EIDER_REASON_EMPTY, DETAILS_HIDDEN, N_("empty file") },
  { EIDER_REASON_TOO_LARGE, DETAILS_HIDDEN, N_("too large (Ente stores files under 10 GiB)") },
  { EIDER_REASON_NOT_REGULAR, DETAILS_HIDDEN, N_("not a regular file") },
  { EIDER_REASON_PIPE, DETAILS_HIDDEN, N_("not a regular file (a pipe)") },
  { EIDER_REASON_SOCKET, DETAILS_HIDDEN, N_("not a regular file (a socket)") },
  { EIDER_REASON_DEVICE, DETAILS_HIDDEN, N_("not a regular file (a device)") },
  { EIDER_REASON_SYMLINK, DETAILS_HIDDEN, N_("symbolic link (not followed)") },
  { EIDER_REASON_BROKEN_SYMLINK, DETAILS_HIDDEN, N_("broken symbolic link") },
  { EIDER_REASON_FOLDER_UNREADABLE, DETAILS_FIRST, N_("could not read this folder") },
  { EIDER_REASON_GONE, DETAILS_HIDDEN, N_("no longer on disk") },

  { EIDER_REASON_CHANGED, DETAILS_HIDDEN, N_("changed while being uploaded; will try again") },
  { EIDER_REASON_NETWORK, DETAILS_FIRST, N_("could not reach the server; will try again") },
  { EIDER_REASON_SERVER_ERROR, DETAILS_FIRST, N_("the server refused the upload; will try again") },
  { EIDER_REASON_IO_ERROR, DETAILS_FIRST, N_("could not read the file; will try again") },
  { EIDER_REASON_ERROR, DETAILS_FIRST, N_("could not prepare the upload; will try again") },
  { EIDER_REASON_NO_FILE_ID, DETAILS_HIDDEN, N_("The server's answer to the upload has no file id") },

  { EIDER_REASON_ALREADY_IN_ENTE, DETAILS_HIDDEN, N_("already in Ente") },
  { EIDER_REASON_LINKED, DETAILS_HIDDEN, N_("already in Ente; added to this album") },
  { EIDER_REASON_REPLACED, DETAILS_HIDDEN, N_("replaced the earlier version in Ente") },
  { EIDER_REASON_RENAMED, DETAILS_HIDDEN, N_("renamed in Ente; nothing sent") },
  { EIDER_REASON_MOVED, DETAILS_HIDDEN, N_("moved; nothing sent") },
  /* Translators: %s is the name of the live photo's image, e.g. IMG_0001.HEIC */
  { EIDER_REASON_LIVE_PHOTO_PART, DETAILS_IN_TEXT, N_("part of the live photo %s") },

  /* Translators: %s is the name of another file with the same content */
  { EIDER_REASON_DUPLICATE_NOT_UPLOADED, DETAILS_IN_TEXT,
    N_("waits for the same photo or video from “%s”, which was not uploaded") },
};

/**
 * eider_reason_describe:
 * @code: a reason
 * @details: (nullable): what the store keeps with it
 *
 * The reason as people read it, translated. Codes that carry an error
 * (network, server, I/O, other) give its message, which is already for
 * people; the others have their own text and ignore @details, except a
 * live photo's part, which names the live photo, and a duplicate not
 * uploaded, which names the file it waited for.
 *
 * Returns: (transfer full) (nullable): the text, or %NULL for
 *   %EIDER_REASON_NONE (nothing to say)
 */
char *
eider_reason_describe (EiderReason  code,
                       const char  *details)
{
  if (code == EIDER_REASON_NONE)
    return NULL;

  for (guint i = 0; i < G_N_ELEMENTS (reason_texts); i++)
    {
      const char *text = reason_texts[i].text;

      if (reason_texts[i].code != code)
        continue;
      switch (reason_texts[i].details)
        {
        case DETAILS_FIRST:
          return g_strdup (details != NULL ? details : _(text));
        case DETAILS_IN_TEXT:
          /* The table's texts with details in them have one %s each (and
           * so must their translations: msgfmt --check-format). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
          return g_strdup_printf (_(text), details != NULL ? details : "");
#pragma GCC diagnostic pop
        case DETAILS_HIDDEN:
        default:
          return g_strdup (_(text));
        }
    }

  /* A code of a newer Eider that wrote the same database. */
  if (details != NULL)
    return g_strdup (details);

  return g_strdup_printf (_("unknown reason (code %d)"), (int) code);
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

/**
 * eider_reason_describe_nick:
 * @nick: a reason's nick as the host's interface sends it ("" for none)
 * @details: (nullable): its details ("" for none)
 *
 * The same as eider_reason_describe(), for a reason that crossed D-Bus. A
 * nick this Eider does not know (a newer host's) is said by its details.
 *
 * Returns: (transfer full): the text; "" when there is nothing to say
 */
char *
eider_reason_describe_nick (const char *nick,
                            const char *details)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (EIDER_TYPE_REASON);
  GEnumValue *value = g_enum_get_value_by_nick (klass, nick);
  char *text;

  text = eider_reason_describe (value != NULL ? value->value
                                : *nick == '\0' ? EIDER_REASON_NONE : EIDER_REASON_OTHER,
                                details != NULL && *details != '\0' ? details : NULL);
  return text != NULL ? text : g_strdup ("");
}
