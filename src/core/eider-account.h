/* eider-account.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "eider-api.h"
#include "eider-key-attributes.h"
#include "eider-secret-store.h"

G_BEGIN_DECLS

/* The one Ente account Eider backs up to: which server and email, whether it
 * is logged in, its key attributes, and — while logged in — its master key
 * and auth token, kept in an EiderSecretStore. Non-secret facts live in
 * <config-dir>/account.ini; nothing secret is ever written there or logged.
 *
 * Thread contract: main-thread only.
 */

#define EIDER_ACCOUNT_ERROR (eider_account_error_quark ())

typedef enum
{
  EIDER_ACCOUNT_ERROR_FAILED,
  EIDER_ACCOUNT_ERROR_WRONG_PASSWORD,
  EIDER_ACCOUNT_ERROR_WRONG_CODE,
  EIDER_ACCOUNT_ERROR_CODE_EXPIRED,
  EIDER_ACCOUNT_ERROR_RATE_LIMITED,
  EIDER_ACCOUNT_ERROR_NOT_REGISTERED,
  EIDER_ACCOUNT_ERROR_ALREADY_REGISTERED,
  EIDER_ACCOUNT_ERROR_SIGNUP_INCOMPLETE,
  EIDER_ACCOUNT_ERROR_SESSION_EXPIRED,
  EIDER_ACCOUNT_ERROR_WRONG_STEP,
  EIDER_ACCOUNT_ERROR_NOT_LOGGED_IN,
  EIDER_ACCOUNT_ERROR_INSUFFICIENT_MEMORY,
} EiderAccountError;

GQuark eider_account_error_quark (void);

typedef enum
{
  EIDER_ACCOUNT_STATE_LOGGED_OUT,
  EIDER_ACCOUNT_STATE_LOGGED_IN,
  EIDER_ACCOUNT_STATE_NEEDS_LOGIN,
} EiderAccountState;

/* What a finished sign-up or login hands over. */
typedef struct
{
  char               *endpoint;
  char               *email;
  gint64              user_id;
  EiderKeyAttributes *key_attributes;
  EiderSecret        *master_key;
  EiderSecret        *token;   /* the X-Auth-Token string, NUL-terminated */
} EiderSession;

void eider_session_free (EiderSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EiderSession, eider_session_free)

#define EIDER_TYPE_ACCOUNT (eider_account_get_type ())
G_DECLARE_FINAL_TYPE (EiderAccount, eider_account, EIDER, ACCOUNT, GObject)

EiderAccount             *eider_account_new                (const char          *config_dir);
gboolean                  eider_account_load               (EiderAccount        *self,
                                                            GError             **error);
const char               *eider_account_get_config_dir     (EiderAccount        *self);
EiderAccountState         eider_account_get_state          (EiderAccount        *self);
const char               *eider_account_get_state_name     (EiderAccount        *self);
const char               *eider_account_get_endpoint       (EiderAccount        *self);
const char               *eider_account_get_email          (EiderAccount        *self);
gint64                    eider_account_get_user_id        (EiderAccount        *self);
EiderSecretBackend        eider_account_get_secret_backend (EiderAccount        *self);
const EiderKeyAttributes *eider_account_get_key_attributes (EiderAccount        *self);
const EiderSecret        *eider_account_get_master_key     (EiderAccount        *self);
EiderApi                 *eider_account_get_api            (EiderAccount        *self);

gboolean                  eider_account_set_session        (EiderAccount        *self,
                                                            EiderSession        *session,
                                                            EiderSecretBackend   backend,
                                                            GError             **error);
void                      eider_account_logout_async       (EiderAccount        *self,
                                                            GCancellable        *cancellable,
                                                            GAsyncReadyCallback  callback,
                                                            gpointer             user_data);
gboolean                  eider_account_logout_finish      (EiderAccount        *self,
                                                            GAsyncResult        *result,
                                                            GError             **error);

G_END_DECLS
