/* eiderctl-account.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * eiderctl account signup|login|logout|status
 */
#define G_LOG_DOMAIN "eiderctl"
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>
#include <sodium.h>

#include "eider-account.h"
#include "eider-login.h"
#include "eider-signup.h"
#include "eiderctl.h"

#define PASSKEY_POLL_SECONDS 6
#define PASSKEY_WAIT_SECONDS (10 * 60)

typedef struct
{
  char     *endpoint;
  char     *email;
  char     *code;
  char     *totp;
  char     *recovery_file;
  gboolean  password_stdin;
  gboolean  request_code;
  gboolean  secrets_in_file;
  gboolean  json;
} AccountOptions;

static void
account_options_clear (AccountOptions *opts)
{
  g_free (opts->endpoint);
  g_free (opts->email);
  g_free (opts->code);
  g_free (opts->totp);
  g_free (opts->recovery_file);
}

static void
wipe_free (char *secret)
{
  if (secret != NULL)
    {
      sodium_memzero (secret, strlen (secret));
      g_free (secret);
    }
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (AccountOptions, account_options_clear)
typedef char WipedString;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WipedString, wipe_free)

/* --endpoint, else $EIDER_ENDPOINT, else the account's own, else Ente's cloud */
static char *
choose_endpoint (AccountOptions *opts,
                 EiderAccount   *account)
{
  const char *env = g_getenv ("EIDER_ENDPOINT");

  if (opts->endpoint != NULL)
    return g_strdup (opts->endpoint);
  if (env != NULL && env[0] != '\0')
    return g_strdup (env);
  if (eider_account_get_endpoint (account) != NULL)
    return g_strdup (eider_account_get_endpoint (account));

  return g_strdup (EIDER_API_DEFAULT_ENDPOINT);
}

static char *
get_input (const char  *given,
           const char  *question,
           gboolean     secret,
           const char  *option,
           GError     **error)
{
  char *answer;

  if (given != NULL)
    return g_strdup (given);

  if (!eiderctl_is_tty ())
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%s is needed: pass %s (there is no terminal to ask on)", question, option);
      return NULL;
    }

  {
    g_autofree char *prompt = g_strdup_printf ("%s: ", question);

    answer = eiderctl_prompt (prompt, secret);
  }

  if (answer == NULL || answer[0] == '\0')
    {
      wipe_free (answer);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "No %s given", question);
      return NULL;
    }

  return answer;
}

static char *
get_password (AccountOptions  *opts,
              const char      *question,
              GError         **error)
{
  if (opts->password_stdin)
    return eiderctl_read_stdin_line (error);

  return get_input (NULL, question, TRUE, "--password-stdin", error);
}

static gboolean
check_server (const char  *endpoint,
              GError     **error)
{
  g_autoptr(EiderApi) api = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  if (!eider_api_check_endpoint (endpoint, error))
    return FALSE;

  api = eider_api_new (endpoint);
  eider_api_ping_async (api, NULL, eiderctl_result_cb, &result);

  return eider_api_ping_finish (api, eiderctl_wait (&result), error);
}

static gboolean
keep_session (EiderAccount    *account,
              EiderSession    *session,
              AccountOptions  *opts,
              GError         **error)
{
  return eider_account_set_session (account, session,
                                    opts->secrets_in_file ? EIDER_SECRET_BACKEND_FILE
                                                          : EIDER_SECRET_BACKEND_KEYRING,
                                    error);
}

static gboolean
probe_secret_store (EiderAccount    *account,
                    AccountOptions  *opts,
                    GError         **error)
{
  g_autofree char *path = g_build_filename (eider_account_get_config_dir (account), "secrets.json", NULL);
  g_autoptr(EiderSecretStore) store = NULL;

  store = eider_secret_store_new (opts->secrets_in_file ? EIDER_SECRET_BACKEND_FILE
                                                        : EIDER_SECRET_BACKEND_KEYRING, path);

  return eider_secret_store_probe (store, error);
}

/* signup */

static gboolean
show_recovery_words (const char      *words,
                     AccountOptions  *opts,
                     GError         **error)
{
  if (opts->recovery_file != NULL)
    {
      g_autofree char *text = g_strconcat (words, "\n", NULL);
      gboolean ok;

      ok = g_file_set_contents_full (opts->recovery_file, text, -1,
                                     G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
      sodium_memzero (text, strlen (text));
      if (!ok)
        return FALSE;

      g_print ("Your recovery key (24 words) is in %s. It is the only way back into your\n"
               "photos if you forget your password: keep a copy somewhere safe, away from\n"
               "this computer.\n", opts->recovery_file);
      return TRUE;
    }

  g_print ("\nYour recovery key. It is the only way back into your photos if you forget your\n"
           "password. Write these 24 words down and keep them safe; they are shown only once:\n\n"
           "  %s\n\n", words);

  return TRUE;
}

static int
account_signup (EiderAccount   *account,
                AccountOptions *opts)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderSignup) signup = NULL;
  g_autoptr(EiderSession) session = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(WipedString) password = NULL;
  g_autoptr(WipedString) again = NULL;
  g_autofree char *endpoint = choose_endpoint (opts, account);
  g_autofree char *email = NULL;
  g_autofree char *code = NULL;

  if (!check_server (endpoint, &error) ||
      (email = get_input (opts->email, "Email", FALSE, "--email", &error)) == NULL)
    goto fail;

  signup = eider_signup_new (endpoint, email);

  if (opts->code == NULL)
    {
      eider_signup_request_code_async (signup, NULL, eiderctl_result_cb, &result);
      if (!eider_signup_request_code_finish (signup, eiderctl_wait (&result), &error))
        goto fail;
      g_clear_object (&result);

      g_printerr ("A verification code was sent to %s.\n", email);
      if (opts->request_code || !eiderctl_is_tty ())
        {
          g_printerr ("Run this command again with --code CODE to finish signing up.\n");
          return EIDERCTL_EXIT_OK;
        }
    }

  if ((code = get_input (opts->code, "Verification code", FALSE, "--code", &error)) == NULL ||
      (password = get_password (opts, "New password", &error)) == NULL)
    goto fail;

  if (!opts->password_stdin)
    {
      again = get_password (opts, "Repeat the password", &error);
      if (again == NULL)
        goto fail;
      if (g_strcmp0 (password, again) != 0)
        {
          eiderctl_error ("The two passwords differ");
          return EIDERCTL_EXIT_FAILED;
        }
    }

  /* Never create an account whose keys could not be kept. */
  if (!probe_secret_store (account, opts, &error))
    goto fail;

  g_printerr ("Creating the account's keys (this takes a few seconds)…\n");
  eider_signup_complete_async (signup, code, password, NULL, eiderctl_result_cb, &result);
  if (!eider_signup_complete_finish (signup, eiderctl_wait (&result), &error))
    goto fail;

  if (!show_recovery_words (eider_signup_get_recovery_words (signup), opts, &error))
    goto fail;

  session = eider_signup_steal_session (signup);
  if (!keep_session (account, session, opts, &error))
    goto fail;

  g_print ("Signed up and logged in as %s on %s.\n", session->email, session->endpoint);
  return EIDERCTL_EXIT_OK;

fail:
  eiderctl_error ("%s", error->message);
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT) ? EIDERCTL_EXIT_USAGE
                                                                          : EIDERCTL_EXIT_FAILED;
}

/* login */

static gboolean
run_step (EiderLogin      *login,
          GAsyncResult   **result,
          EiderLoginStep  *step,
          GError         **error)
{
  gboolean ok = eider_login_step_finish (login, eiderctl_wait (result), step, error);

  g_clear_object (result);

  return ok;
}

static gboolean
wait_for_passkey (EiderLogin      *login,
                  EiderLoginStep  *step,
                  GError         **error)
{
  const char *url = eider_login_get_passkey_url (login);
  g_autoptr(GError) launch_error = NULL;
  gint64 deadline = g_get_monotonic_time () + PASSKEY_WAIT_SECONDS * G_USEC_PER_SEC;

  g_printerr ("This account uses a passkey. Verify it in your browser:\n  %s\n", url);
  if (!g_app_info_launch_default_for_uri (url, NULL, &launch_error))
    g_printerr ("(Could not open a browser here: open the address above on any device.)\n");
  g_printerr ("Waiting for the passkey…\n");

  while (*step == EIDER_LOGIN_STEP_PASSKEY)
    {
      g_autoptr(GAsyncResult) result = NULL;

      if (g_get_monotonic_time () > deadline)
        {
          g_set_error_literal (error, EIDER_ACCOUNT_ERROR, EIDER_ACCOUNT_ERROR_SESSION_EXPIRED,
                               "The passkey was not verified within 10 minutes: log in again");
          return FALSE;
        }

      g_usleep (PASSKEY_POLL_SECONDS * G_USEC_PER_SEC);
      eider_login_check_passkey_async (login, NULL, eiderctl_result_cb, &result);
      if (!run_step (login, &result, step, error))
        return FALSE;
    }

  return TRUE;
}

static int
account_login (EiderAccount   *account,
               AccountOptions *opts)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderLogin) login = NULL;
  g_autoptr(EiderSession) session = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree char *endpoint = choose_endpoint (opts, account);
  g_autofree char *email = NULL;
  EiderLoginStep step = EIDER_LOGIN_STEP_START;

  if (!check_server (endpoint, &error) ||
      (email = get_input (opts->email != NULL ? opts->email :
                          (opts->endpoint == NULL ? eider_account_get_email (account) : NULL),
                          "Email", FALSE, "--email", &error)) == NULL ||
      !probe_secret_store (account, opts, &error))
    goto fail;

  login = eider_login_new (endpoint, email);
  eider_login_start_async (login, NULL, eiderctl_result_cb, &result);
  if (!run_step (login, &result, &step, &error))
    goto fail;

  while (step != EIDER_LOGIN_STEP_DONE)
    {
      switch (step)
        {
        case EIDER_LOGIN_STEP_EMAIL_CODE:
          {
            g_autofree char *code = NULL;

            if (opts->code == NULL)
              {
                eider_login_request_code_async (login, NULL, eiderctl_result_cb, &result);
                if (!run_step (login, &result, NULL, &error))
                  goto fail;

                g_printerr ("A verification code was sent to %s.\n", email);
                if (opts->request_code || !eiderctl_is_tty ())
                  {
                    g_printerr ("Run this command again with --code CODE to log in.\n");
                    return EIDERCTL_EXIT_OK;
                  }
              }

            code = get_input (opts->code, "Verification code", FALSE, "--code", &error);
            if (code == NULL)
              goto fail;
            eider_login_submit_code_async (login, code, NULL, eiderctl_result_cb, &result);
          }
          break;

        case EIDER_LOGIN_STEP_PASSWORD:
          {
            g_autoptr(WipedString) password = NULL;

            if (opts->request_code)
              {
                g_printerr ("This account logs in with its password: no code is needed.\n");
                return EIDERCTL_EXIT_OK;
              }

            password = get_password (opts, "Password", &error);
            if (password == NULL)
              goto fail;
            eider_login_submit_password_async (login, password, NULL, eiderctl_result_cb, &result);
          }
          break;

        case EIDER_LOGIN_STEP_TOTP:
          {
            g_autofree char *totp = get_input (opts->totp, "Two-factor code", FALSE, "--totp", &error);

            if (totp == NULL)
              goto fail;
            eider_login_submit_totp_async (login, totp, NULL, eiderctl_result_cb, &result);
          }
          break;

        case EIDER_LOGIN_STEP_PASSKEY:
          if (!wait_for_passkey (login, &step, &error))
            goto fail;
          continue;

        case EIDER_LOGIN_STEP_START:
        case EIDER_LOGIN_STEP_DONE:
        default:
          g_assert_not_reached ();
        }

      if (!run_step (login, &result, &step, &error))
        goto fail;
    }

  session = eider_login_steal_session (login);
  if (!keep_session (account, session, opts, &error))
    goto fail;

  g_print ("Logged in as %s on %s.\n", session->email, session->endpoint);
  return EIDERCTL_EXIT_OK;

fail:
  eiderctl_error ("%s", error->message);
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT) ? EIDERCTL_EXIT_USAGE
                                                                          : EIDERCTL_EXIT_FAILED;
}

/* logout */

static int
account_logout (EiderAccount   *account,
                AccountOptions *opts)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree char *email = g_strdup (eider_account_get_email (account));

  if (eider_account_get_state (account) == EIDER_ACCOUNT_STATE_LOGGED_OUT)
    {
      g_print ("Not logged in.\n");
      return EIDERCTL_EXIT_OK;
    }

  eider_account_logout_async (account, NULL, eiderctl_result_cb, &result);
  if (!eider_account_logout_finish (account, eiderctl_wait (&result), &error))
    {
      eiderctl_error ("%s", error->message);
      return eider_account_get_state (account) == EIDER_ACCOUNT_STATE_LOGGED_OUT
             ? EIDERCTL_EXIT_OK : EIDERCTL_EXIT_FAILED;
    }

  g_print ("Logged out %s; its keys were removed from this computer.\n", email);
  return EIDERCTL_EXIT_OK;
}

/* status */

static int
account_status (EiderAccount   *account,
                AccountOptions *opts)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GError) server_error = NULL;
  g_autoptr(JsonNode) details = NULL;
  gint64 usage = -1;
  gint64 storage = -1;

  /* Ask the server when logged in: that also notices a session ended
   * elsewhere (a 401 turns the account to "needs login"). */
  if (eider_account_get_state (account) == EIDER_ACCOUNT_STATE_LOGGED_IN)
    {
      g_autoptr(GAsyncResult) result = NULL;
      EiderApi *api = eider_account_get_api (account);

      eider_api_call_async (api, "GET", "/users/details/v2?memoryCount=false", NULL,
                            EIDER_API_CALL_AUTH, NULL, eiderctl_result_cb, &result);
      details = eider_api_call_finish (api, eiderctl_wait (&result), &server_error);
      if (details != NULL && JSON_NODE_HOLDS_OBJECT (details))
        {
          JsonObject *obj = json_node_get_object (details);
          JsonNode *sub = json_object_get_member (obj, "subscription");

          usage = json_object_get_int_member_with_default (obj, "usage", -1);
          if (sub != NULL && JSON_NODE_HOLDS_OBJECT (sub))
            storage = json_object_get_int_member_with_default (json_node_get_object (sub), "storage", -1)
                      + json_object_get_int_member_with_default (obj, "storageBonus", 0);
        }
    }

  if (opts->json)
    {
      g_autoptr(JsonGenerator) generator = json_generator_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *text = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "state");
      json_builder_add_string_value (builder, eider_account_get_state_name (account));
      if (eider_account_get_email (account) != NULL)
        {
          json_builder_set_member_name (builder, "email");
          json_builder_add_string_value (builder, eider_account_get_email (account));
          json_builder_set_member_name (builder, "endpoint");
          json_builder_add_string_value (builder, eider_account_get_endpoint (account));
          json_builder_set_member_name (builder, "userID");
          json_builder_add_int_value (builder, eider_account_get_user_id (account));
          json_builder_set_member_name (builder, "secretStorage");
          json_builder_add_string_value (builder,
                                         eider_account_get_secret_backend (account) == EIDER_SECRET_BACKEND_FILE
                                         ? "file" : "keyring");
        }
      if (usage >= 0)
        {
          json_builder_set_member_name (builder, "usage");
          json_builder_add_int_value (builder, usage);
        }
      if (storage >= 0)
        {
          json_builder_set_member_name (builder, "storage");
          json_builder_add_int_value (builder, storage);
        }
      if (server_error != NULL)
        {
          json_builder_set_member_name (builder, "serverError");
          json_builder_add_string_value (builder, server_error->message);
        }
      json_builder_end_object (builder);

      root = json_builder_get_root (builder);
      json_generator_set_root (generator, root);
      json_generator_set_pretty (generator, TRUE);
      text = json_generator_to_data (generator, NULL);
      g_print ("%s\n", text);
      return EIDERCTL_EXIT_OK;
    }

  switch (eider_account_get_state (account))
    {
    case EIDER_ACCOUNT_STATE_LOGGED_OUT:
      g_print ("Not logged in. Log in with “eiderctl account login”.\n");
      return EIDERCTL_EXIT_OK;

    case EIDER_ACCOUNT_STATE_NEEDS_LOGIN:
      g_print ("%s on %s: the session has ended; log in again with “eiderctl account login”.\n",
               eider_account_get_email (account), eider_account_get_endpoint (account));
      return EIDERCTL_EXIT_OK;

    case EIDER_ACCOUNT_STATE_LOGGED_IN:
    default:
      g_print ("Logged in as %s on %s (keys in the %s).\n",
               eider_account_get_email (account), eider_account_get_endpoint (account),
               eider_account_get_secret_backend (account) == EIDER_SECRET_BACKEND_FILE
               ? "secrets file" : "keyring");
      if (usage >= 0 && storage >= 0)
        {
          g_autofree char *used = g_format_size (usage);
          g_autofree char *total = g_format_size (storage);

          g_print ("Storage: %s of %s used.\n", used, total);
        }
      else if (server_error != NULL)
        g_print ("The server could not be asked: %s\n", server_error->message);
      return EIDERCTL_EXIT_OK;
    }
}

int
eiderctl_account (EiderctlGlobals  *globals,
                  int               argc,
                  char            **argv)
{
  g_auto(AccountOptions) opts = { NULL };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(EiderAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  const char *command = argc > 1 ? argv[1] : NULL;
  GOptionEntry signup_entries[] = {
    { "endpoint", 0, 0, G_OPTION_ARG_STRING, &opts.endpoint, "The Ente server (default: Ente's cloud)", "URL" },
    { "email", 0, 0, G_OPTION_ARG_STRING, &opts.email, "The account's email", "EMAIL" },
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &opts.password_stdin, "Read the password from standard input", NULL },
    { "request-code", 0, 0, G_OPTION_ARG_NONE, &opts.request_code, "Only have the verification code emailed, then stop", NULL },
    { "code", 0, 0, G_OPTION_ARG_STRING, &opts.code, "The emailed verification code (already requested)", "CODE" },
    { "recovery-words-file", 0, 0, G_OPTION_ARG_FILENAME, &opts.recovery_file, "Write the recovery key's words to FILE instead of showing them", "FILE" },
    { "store-secrets-in-file", 0, 0, G_OPTION_ARG_NONE, &opts.secrets_in_file, "Keep the keys in a file readable only by you, for machines without a keyring", NULL },
    { NULL }
  };
  GOptionEntry login_entries[] = {
    { "endpoint", 0, 0, G_OPTION_ARG_STRING, &opts.endpoint, "The Ente server (default: the account's, or Ente's cloud)", "URL" },
    { "email", 0, 0, G_OPTION_ARG_STRING, &opts.email, "The account's email", "EMAIL" },
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &opts.password_stdin, "Read the password from standard input", NULL },
    { "request-code", 0, 0, G_OPTION_ARG_NONE, &opts.request_code, "If the account logs in by email code, only have it sent, then stop", NULL },
    { "code", 0, 0, G_OPTION_ARG_STRING, &opts.code, "The emailed verification code (already requested)", "CODE" },
    { "totp", 0, 0, G_OPTION_ARG_STRING, &opts.totp, "The two-factor code from your authenticator app", "CODE" },
    { "store-secrets-in-file", 0, 0, G_OPTION_ARG_NONE, &opts.secrets_in_file, "Keep the keys in a file readable only by you, for machines without a keyring", NULL },
    { NULL }
  };
  GOptionEntry status_entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &opts.json, "Print JSON", NULL },
    { NULL }
  };
  GOptionEntry no_entries[] = { { NULL } };
  GOptionEntry *entries;
  int (*run) (EiderAccount *, AccountOptions *);

  if (g_strcmp0 (command, "signup") == 0)
    entries = signup_entries, run = account_signup;
  else if (g_strcmp0 (command, "login") == 0)
    entries = login_entries, run = account_login;
  else if (g_strcmp0 (command, "logout") == 0)
    entries = no_entries, run = account_logout;
  else if (g_strcmp0 (command, "status") == 0)
    entries = status_entries, run = account_status;
  else
    {
      g_printerr ("eiderctl account: %s “%s”. Use signup, login, logout or status.\n",
                  command != NULL ? "unknown command" : "missing command", command != NULL ? command : "");
      return EIDERCTL_EXIT_USAGE;
    }

  context = g_option_context_new (NULL);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("eiderctl account %s: %s\n", command, error->message);
      return EIDERCTL_EXIT_USAGE;
    }
  if (argc > 2)
    {
      g_printerr ("eiderctl account %s: unexpected argument “%s”\n", command, argv[2]);
      return EIDERCTL_EXIT_USAGE;
    }

  account = eider_account_new (globals->config_dir);
  if (!eider_account_load (account, &error))
    {
      /* A damaged or unreachable store: login replaces it, status reports it. */
      if (run != account_login && run != account_signup)
        {
          eiderctl_error ("%s", error->message);
          return EIDERCTL_EXIT_FAILED;
        }
      g_clear_error (&error);
    }

  return run (account, &opts);
}
