/* eider-account-private.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "eider-account.h"

G_BEGIN_DECLS

GError *_eider_account_map_error (GError            *error,
                                  guint              status,
                                  EiderAccountError  code,
                                  const char        *message);

JsonObject *_eider_json_object_member (JsonObject *object,
                                       const char *member);

/* Museum trims and lower-cases emails; so does Eider, once. */
char       *_eider_normalize_email     (const char *email);

G_END_DECLS
