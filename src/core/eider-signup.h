/* eider-signup.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "eider-account.h"

G_BEGIN_DECLS

/* Creating an Ente account as Ente's web client does (spec/ente-server.md
 * §1): an emailed code (purpose "signup"), keys generated here (Argon2id at
 * 256 MiB × 16, or 128 MiB × 32 when memory is short), verify-email,
 * PUT /users/attributes, SRP registration, and a check that the server kept
 * what was sent. The recovery key comes back as Ente's 24 words, to be shown
 * once.
 *
 * Thread contract: main-thread only; key generation runs in a worker.
 */

#define EIDER_TYPE_SIGNUP (eider_signup_get_type ())
G_DECLARE_FINAL_TYPE (EiderSignup, eider_signup, EIDER, SIGNUP, GObject)

EiderSignup  *eider_signup_new                 (const char           *endpoint,
                                                const char           *email);
void          eider_signup_request_code_async  (EiderSignup          *self,
                                                GCancellable         *cancellable,
                                                GAsyncReadyCallback   callback,
                                                gpointer              user_data);
gboolean      eider_signup_request_code_finish (EiderSignup          *self,
                                                GAsyncResult         *result,
                                                GError              **error);
void          eider_signup_complete_async      (EiderSignup          *self,
                                                const char           *code,
                                                const char           *password,
                                                GCancellable         *cancellable,
                                                GAsyncReadyCallback   callback,
                                                gpointer              user_data);
gboolean      eider_signup_complete_finish     (EiderSignup          *self,
                                                GAsyncResult         *result,
                                                GError              **error);
const char   *eider_signup_get_recovery_words  (EiderSignup          *self);
EiderSession *eider_signup_steal_session       (EiderSignup          *self);

G_END_DECLS
