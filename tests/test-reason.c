/* test-reason.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <locale.h>
#include <string.h>

#include "eider-api.h"
#include "eider-core-enums.h"
#include "eider-reason.h"
#include "eider-uploader.h"

/* Every code has words of its own: none is forgotten in the describe
 * switch (it would fall to "unknown reason"), and no two say the same. */
static void
test_every_code (void)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (EIDER_TYPE_REASON);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  g_assert_cmpuint (klass->n_values, >, 20);
  for (guint i = 0; i < klass->n_values; i++)
    {
      EiderReason code = klass->values[i].value;
      g_autofree char *text = eider_reason_describe (code, NULL);

      g_test_message ("%s: %s", klass->values[i].value_nick, text);
      if (code == EIDER_REASON_NONE)
        {
          g_assert_null (text);
          continue;
        }
      g_assert_nonnull (text);
      g_assert_cmpstr (text, !=, "");
      g_assert_null (strstr (text, "unknown reason"));
      g_assert_false (g_hash_table_contains (seen, text));
      g_hash_table_add (seen, g_steal_pointer (&text));
    }
}

/* The words eiderctl printed before reasons had codes (scripts and the
 * integration tests read them). */
static void
test_english (void)
{
  const struct {
    EiderReason  code;
    const char  *details;
    const char  *text;
  } cases[] = {
    { EIDER_REASON_EMPTY, NULL, "empty file" },
    { EIDER_REASON_NOT_MEDIA, NULL, "not a photo or video" },
    { EIDER_REASON_PIPE, NULL, "not a regular file (a pipe)" },
    { EIDER_REASON_TOO_LARGE, "ignored", "too large (Ente stores files under 10 GiB)" },
    { EIDER_REASON_SIDECAR_JSON, NULL, "sidecar (JSON metadata), not a photo or video" },
    { EIDER_REASON_CHANGED, NULL, "changed while being uploaded; will try again" },
    { EIDER_REASON_RENAMED, NULL, "renamed in Ente; nothing sent" },
    { EIDER_REASON_MOVED, NULL, "moved; nothing sent" },
    { EIDER_REASON_LINKED, NULL, "already in Ente; added to this album" },
    { EIDER_REASON_LIVE_PHOTO_PART, "IMG_0001.HEIC", "part of the live photo IMG_0001.HEIC" },
    { EIDER_REASON_DUPLICATE_NOT_UPLOADED, "/a/b.jpg",
      "waits for the same photo or video from “/a/b.jpg”, which was not uploaded" },
    /* Errors: their message is the text. */
    { EIDER_REASON_SERVER_ERROR, "HTTP 500: boom", "HTTP 500: boom" },
    { EIDER_REASON_IO_ERROR, "Permission denied", "Permission denied" },
    { EIDER_REASON_OTHER, "what an old Eider wrote", "what an old Eider wrote" },
    /* A newer Eider's code, read by this one. */
    { 999, "its details", "its details" },
    { 999, NULL, "unknown reason (code 999)" },
    { EIDER_REASON_NONE, "ignored", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = eider_reason_describe (cases[i].code, cases[i].details);

      g_assert_cmpstr (text, ==, cases[i].text);
    }
}

static void
test_nicks (void)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (EIDER_TYPE_REASON);

  g_assert_cmpint (g_enum_get_value_by_nick (klass, "none")->value, ==, EIDER_REASON_NONE);
  g_assert_cmpint (g_enum_get_value_by_nick (klass, "io-error")->value, ==, EIDER_REASON_IO_ERROR);
  g_assert_cmpint (g_enum_get_value_by_nick (klass, "live-photo-part")->value, ==,
                   EIDER_REASON_LIVE_PHOTO_PART);
  g_assert_cmpint (g_enum_get_value_by_nick (klass, "already-in-ente")->value, ==,
                   EIDER_REASON_ALREADY_IN_ENTE);

  /* Stored in databases: the store's migration writes 1 for OTHER. */
  g_assert_cmpint (EIDER_REASON_NONE, ==, 0);
  g_assert_cmpint (EIDER_REASON_OTHER, ==, 1);
}

static void
test_for_error (void)
{
  const struct {
    GQuark      domain;
    int         code;
    EiderReason reason;
  } cases[] = {
    { EIDER_API_ERROR, EIDER_API_ERROR_NETWORK, EIDER_REASON_NETWORK },
    { EIDER_API_ERROR, EIDER_API_ERROR_SERVER, EIDER_REASON_SERVER_ERROR },
    { EIDER_API_ERROR, EIDER_API_ERROR_FORBIDDEN, EIDER_REASON_SERVER_ERROR },
    { EIDER_API_ERROR, EIDER_API_ERROR_TOO_LARGE, EIDER_REASON_TOO_LARGE },
    { EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_CHANGED, EIDER_REASON_CHANGED },
    { EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_TRANSIENT, EIDER_REASON_SERVER_ERROR },
    { EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_EMPTY, EIDER_REASON_EMPTY },
    { G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, EIDER_REASON_IO_ERROR },
    { G_FILE_ERROR, G_FILE_ERROR_NOENT, EIDER_REASON_IO_ERROR },
    { G_MARKUP_ERROR, G_MARKUP_ERROR_PARSE, EIDER_REASON_ERROR },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = g_error_new_literal (cases[i].domain, cases[i].code, "x");

      g_assert_cmpint (eider_reason_for_error (error), ==, cases[i].reason);
    }
}

int
main (int   argc,
      char *argv[])
{
  /* English, whatever the machine's language. */
  g_setenv ("LANGUAGE", "C", TRUE);
  setlocale (LC_ALL, "C");
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/reason/every-code", test_every_code);
  g_test_add_func ("/reason/english", test_english);
  g_test_add_func ("/reason/nicks", test_nicks);
  g_test_add_func ("/reason/for-error", test_for_error);

  return g_test_run ();
}
