/* eider-login.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "eider-account.h"

G_BEGIN_DECLS

/* One login to an existing Ente account, as a small state machine that a
 * front end drives step by step (spec/ente-auth.md §4): SRP when the
 * account has SRP and email MFA is off, an emailed code otherwise (purpose
 * "login", so an account is never created by accident); then TOTP or a
 * passkey when the account has a second factor; then the password unlocks
 * the keys. Each _async call answers with the next step.
 *
 * Thread contract: main-thread only; the key derivation runs in a worker.
 */

typedef enum
{
  EIDER_LOGIN_STEP_START,
  EIDER_LOGIN_STEP_EMAIL_CODE,
  EIDER_LOGIN_STEP_PASSWORD,
  EIDER_LOGIN_STEP_TOTP,
  EIDER_LOGIN_STEP_PASSKEY,
  EIDER_LOGIN_STEP_DONE,
} EiderLoginStep;

#define EIDER_TYPE_LOGIN (eider_login_get_type ())
G_DECLARE_FINAL_TYPE (EiderLogin, eider_login, EIDER, LOGIN, GObject)

EiderLogin     *eider_login_new                (const char           *endpoint,
                                                const char           *email);
EiderLoginStep  eider_login_get_step           (EiderLogin           *self);
gboolean        eider_login_get_uses_srp       (EiderLogin           *self);
const char     *eider_login_get_passkey_url    (EiderLogin           *self);
EiderApi       *eider_login_get_api            (EiderLogin           *self);

void            eider_login_start_async        (EiderLogin           *self,
                                                GCancellable         *cancellable,
                                                GAsyncReadyCallback   callback,
                                                gpointer              user_data);
void            eider_login_request_code_async (EiderLogin           *self,
                                                GCancellable         *cancellable,
                                                GAsyncReadyCallback   callback,
                                                gpointer              user_data);
void            eider_login_submit_code_async  (EiderLogin           *self,
                                                const char           *code,
                                                GCancellable         *cancellable,
                                                GAsyncReadyCallback   callback,
                                                gpointer              user_data);
void            eider_login_submit_password_async (EiderLogin        *self,
                                                   const char        *password,
                                                   GCancellable      *cancellable,
                                                   GAsyncReadyCallback callback,
                                                   gpointer           user_data);
void            eider_login_submit_totp_async  (EiderLogin           *self,
                                                const char           *code,
                                                GCancellable         *cancellable,
                                                GAsyncReadyCallback   callback,
                                                gpointer              user_data);
void            eider_login_check_passkey_async (EiderLogin          *self,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
/* Every _async above finishes with this: the step now due, or FALSE. */
gboolean        eider_login_step_finish        (EiderLogin           *self,
                                                GAsyncResult         *result,
                                                EiderLoginStep       *step,
                                                GError              **error);

EiderSession   *eider_login_steal_session      (EiderLogin           *self);

G_END_DECLS
