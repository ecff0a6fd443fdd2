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

G_END_DECLS
