/* test-account.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Accounts against a real eider-test-server, with a real gnome-keyring in a
 * private D-Bus session (tests/keyring-session.sh): sign-up, SRP login,
 * email-code login, TOTP, wrong passwords and codes, a session ended by the
 * server, where the secrets are (and are not), logout, and eiderctl.
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <libsecret/secret.h>
#include <sodium.h>

#include "eider-account.h"
#include "eider-login.h"
#include "eider-signup.h"
#include "eider-test-server-harness.h"

#define PASSWORD "correct horse battery staple"
#define TOTP_SECRET "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

static TestServer *server;
static guint email_counter;

static const SecretSchema *
account_schema (void)
{
  static const SecretSchema schema = {
    "io.github.eiderapp.Eider.Account", SECRET_SCHEMA_NONE,
    {
      { "endpoint", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "email", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };

  return &schema;
}

static char *
new_email (void)
{
  return g_strdup_printf ("user%u-%u@example.org", ++email_counter, g_random_int ());
}

static char *
keyring_lookup (const char *email)
{
  g_autoptr(GError) error = NULL;
  char *payload = secret_password_lookup_sync (account_schema (), NULL, &error,
                                               "endpoint", server->url, "email", email, NULL);

  g_assert_no_error (error);

  return payload;
}

static EiderSession *
signup (const char *email,
        char      **recovery_words)
{
  g_autoptr(EiderSignup) signup = eider_signup_new (server->url, email);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  eider_signup_request_code_async (signup, NULL, test_result_cb, &result);
  g_assert_true (eider_signup_request_code_finish (signup, test_wait (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  eider_signup_complete_async (signup, "123456", PASSWORD, NULL, test_result_cb, &result);
  g_assert_true (eider_signup_complete_finish (signup, test_wait (&result), &error));
  g_assert_no_error (error);

  if (recovery_words != NULL)
    *recovery_words = g_strdup (eider_signup_get_recovery_words (signup));

  return eider_signup_steal_session (signup);
}

static EiderLoginStep
step (EiderLogin  *login,
      GAsyncResult *result,
      GError      **error)
{
  EiderLoginStep next = EIDER_LOGIN_STEP_START;

  if (!eider_login_step_finish (login, result, &next, error))
    return EIDER_LOGIN_STEP_START;

  return next;
}

#define RUN_STEP(call, ...) \
  G_STMT_START { \
    g_clear_object (&result); \
    call (login, ##__VA_ARGS__, NULL, test_result_cb, &result); \
    s = step (login, test_wait (&result), &error); \
  } G_STMT_END

static JsonNode *
api_call (EiderApi   *api,
          const char *method,
          const char *path,
          const char *body_json,
          GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(JsonNode) body = body_json != NULL ? json_from_string (body_json, NULL) : NULL;

  eider_api_call_async (api, method, path, body, EIDER_API_CALL_AUTH, NULL, test_result_cb, &result);

  return eider_api_call_finish (api, test_wait (&result), error);
}

static EiderApi *
api_for (EiderSession *session)
{
  EiderApi *api = eider_api_new (session->endpoint);

  eider_api_set_token (api, (const char *) eider_secret_peek (session->token));

  return api;
}

/* Sign up, keep the keys in the keyring, find them there and nowhere in
 * the files, log out, log back in with SRP. */
static void
test_signup_logout_login (void)
{
  g_autofree char *email = new_email ();
  g_autofree char *config = test_make_tmpdir ("eider-config-XXXXXX");
  g_autofree char *words = NULL;
  g_autofree char *master_b64 = NULL;
  g_autoptr(EiderSession) session = NULL;
  g_autoptr(EiderSession) again = NULL;
  g_autoptr(EiderAccount) account = eider_account_new (config);
  g_autoptr(EiderAccount) reloaded = eider_account_new (config);
  g_autoptr(EiderLogin) login = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) word_list = NULL;
  g_autofree char *ini = g_build_filename (config, "account.ini", NULL);
  const char *token;
  char *payload;
  EiderLoginStep s;

  session = signup (email, &words);
  g_assert_nonnull (session);
  word_list = g_strsplit (words, " ", -1);
  g_assert_cmpuint (g_strv_length (word_list), ==, 24);
  g_assert_cmpuint (session->user_id, >, 0);

  g_assert_true (eider_account_set_session (account, session, EIDER_SECRET_BACKEND_KEYRING, &error));
  g_assert_no_error (error);
  g_assert_cmpint (eider_account_get_state (account), ==, EIDER_ACCOUNT_STATE_LOGGED_IN);

  /* The secrets are in the keyring… */
  master_b64 = eider_base64_encode (eider_secret_peek (session->master_key), EIDER_KEY_BYTES);
  token = (const char *) eider_secret_peek (session->token);
  payload = keyring_lookup (email);
  g_assert_nonnull (payload);
  g_assert_nonnull (strstr (payload, master_b64));
  g_assert_nonnull (strstr (payload, token));
  secret_password_free (payload);

  /* …and in no file Eider wrote, in any form. */
  g_assert_true (g_file_test (ini, G_FILE_TEST_EXISTS));
  g_assert_false (test_dir_contains (config, (const guint8 *) master_b64, strlen (master_b64)));
  g_assert_false (test_dir_contains (config, eider_secret_peek (session->master_key), EIDER_KEY_BYTES));
  g_assert_false (test_dir_contains (config, (const guint8 *) token, strlen (token)));
  {
    g_autoptr(GBytes) raw = eider_base64_url_decode (token, &error);

    g_assert_no_error (error);
    g_assert_false (test_dir_contains (config, g_bytes_get_data (raw, NULL), g_bytes_get_size (raw)));
  }
  g_assert_true (test_dir_contains (config, (const guint8 *) email, strlen (email)));

  /* A fresh load finds the session again. */
  g_assert_true (eider_account_load (reloaded, &error));
  g_assert_no_error (error);
  g_assert_cmpint (eider_account_get_state (reloaded), ==, EIDER_ACCOUNT_STATE_LOGGED_IN);
  g_assert_cmpstr (eider_account_get_email (reloaded), ==, email);
  g_assert_true (eider_secret_equal (eider_account_get_master_key (reloaded), session->master_key));

  /* Logout ends the session on the server and removes the secrets. */
  eider_account_logout_async (reloaded, NULL, test_result_cb, &result);
  g_assert_true (eider_account_logout_finish (reloaded, test_wait (&result), &error));
  g_assert_no_error (error);
  g_assert_cmpint (eider_account_get_state (reloaded), ==, EIDER_ACCOUNT_STATE_LOGGED_OUT);
  g_assert_null (keyring_lookup (email));
  g_assert_false (g_file_test (ini, G_FILE_TEST_EXISTS));
  {
    g_autoptr(EiderApi) old = api_for (session);
    g_autoptr(JsonNode) node = api_call (old, "GET", "/users/details/v2", NULL, &error);

    g_assert_null (node);
    g_assert_error (error, EIDER_API_ERROR, EIDER_API_ERROR_UNAUTHORIZED);
    g_clear_error (&error);
  }

  /* Log in again: SRP, password only. */
  login = eider_login_new (server->url, email);
  RUN_STEP (eider_login_start_async);
  g_assert_no_error (error);
  g_assert_cmpint (s, ==, EIDER_LOGIN_STEP_PASSWORD);
  g_assert_true (eider_login_get_uses_srp (login));

  RUN_STEP (eider_login_submit_password_async, PASSWORD);
  g_assert_no_error (error);
  g_assert_cmpint (s, ==, EIDER_LOGIN_STEP_DONE);

  again = eider_login_steal_session (login);
  g_assert_true (eider_secret_equal (again->master_key, session->master_key));
  g_assert_cmpint (again->user_id, ==, session->user_id);
  g_assert_cmpstr ((const char *) eider_secret_peek (again->token), !=, token);

  /* The new token works. */
  {
    g_autoptr(EiderApi) api = api_for (again);
    g_autoptr(JsonNode) node = api_call (api, "GET", "/users/details/v2", NULL, &error);

    g_assert_no_error (error);
    g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  }

  test_rm_rf (config);
}

static void
test_wrong_password_srp (void)
{
  g_autofree char *email = new_email ();
  g_autoptr(EiderSession) session = signup (email, NULL);
  g_autoptr(EiderLogin) login = eider_login_new (server->url, email);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  EiderLoginStep s;

  RUN_STEP (eider_login_start_async);
  g_assert_cmpint (s, ==, EIDER_LOGIN_STEP_PASSWORD);

  RUN_STEP (eider_login_submit_password_async, "not the password");
  g_assert_error (error, EIDER_ACCOUNT_ERROR, EIDER_ACCOUNT_ERROR_WRONG_PASSWORD);
  g_assert_cmpstr (error->message, ==, "Incorrect password");
  g_clear_error (&error);
  g_assert_cmpint (eider_login_get_step (login), ==, EIDER_LOGIN_STEP_PASSWORD);

  /* A new attempt with the right password works (a fresh SRP session). */
  RUN_STEP (eider_login_submit_password_async, PASSWORD);
  g_assert_no_error (error);
  g_assert_cmpint (s, ==, EIDER_LOGIN_STEP_DONE);
}

/* Email MFA on: the code first, then the password unlocks the keys. */
static void
test_email_code_login (void)
{
  g_autofree char *email = new_email ();
  g_autoptr(EiderSession) session = signup (email, NULL);
  g_autoptr(EiderApi) api = api_for (session);
  g_autoptr(EiderLogin) login = NULL;
  g_autoptr(EiderLogin) replay = NULL;
  g_autoptr(EiderSession) done = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  EiderLoginStep s;

  node = api_call (api, "PUT", "/users/email-mfa", "{\"isEnabled\":true}", &error);
  g_assert_no_error (error);

  login = eider_login_new (server->url, email);
  RUN_STEP (eider_login_start_async);
  g_assert_no_error (error);
  g_assert_cmpint (s, ==, EIDER_LOGIN_STEP_EMAIL_CODE);
  g_assert_false (eider_login_get_uses_srp (login));

  RUN_STEP (eider_login_request_code_async);
  g_assert_no_error (error);

  RUN_STEP (eider_login_submit_code_async, "000000");
  g_assert_error (error, EIDER_ACCOUNT_ERROR, EIDER_ACCOUNT_ERROR_WRONG_CODE);
  g_clear_error (&error);

  RUN_STEP (eider_login_submit_code_async, " 123456 ");
  g_assert_no_error (error);
  g_assert_cmpint (s, ==, EIDER_LOGIN_STEP_PASSWORD);

  RUN_STEP (eider_login_submit_password_async, "nope");
  g_assert_error (error, EIDER_ACCOUNT_ERROR, EIDER_ACCOUNT_ERROR_WRONG_PASSWORD);
  g_clear_error (&error);

  RUN_STEP (eider_login_submit_password_async, PASSWORD);
  g_assert_no_error (error);
  g_assert_cmpint (s, ==, EIDER_LOGIN_STEP_DONE);
  done = eider_login_steal_session (login);
  g_assert_true (eider_secret_equal (done->master_key, session->master_key));

  /* The code was used up: a second use is "expired". */
  replay = eider_login_new (server->url, email);
  g_clear_object (&result);
  eider_login_start_async (replay, NULL, test_result_cb, &result);
  g_assert_cmpint (step (replay, test_wait (&result), &error), ==, EIDER_LOGIN_STEP_EMAIL_CODE);
  g_clear_object (&result);
  eider_login_submit_code_async (replay, "123456", NULL, test_result_cb, &result);
  step (replay, test_wait (&result), &error);
  g_assert_error (error, EIDER_ACCOUNT_ERROR, EIDER_ACCOUNT_ERROR_CODE_EXPIRED);
}

static void
test_not_registered (void)
{
  g_autofree char *email = new_email ();
  g_autoptr(EiderLogin) login = eider_login_new (server->url, email);
  g_autoptr(EiderSignup) again = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  EiderLoginStep s;

  RUN_STEP (eider_login_start_async);
  g_assert_no_error (error);
  g_assert_cmpint (s, ==, EIDER_LOGIN_STEP_EMAIL_CODE);

  /* Purpose "login": no account is created by accident. */
  RUN_STEP (eider_login_request_code_async);
  g_assert_error (error, EIDER_ACCOUNT_ERROR, EIDER_ACCOUNT_ERROR_NOT_REGISTERED);
  g_clear_error (&error);

  /* And signing up twice is refused. */
  {
    g_autoptr(EiderSession) session = signup (email, NULL);
  }
  again = eider_signup_new (server->url, email);
  g_clear_object (&result);
  eider_signup_request_code_async (again, NULL, test_result_cb, &result);
  g_assert_false (eider_signup_request_code_finish (again, test_wait (&result), &error));
  g_assert_error (error, EIDER_ACCOUNT_ERROR, EIDER_ACCOUNT_ERROR_ALREADY_REGISTERED);
}

static char *
current_totp (void)
{
  const char *argv[] = { g_getenv ("EIDER_TEST_SERVER"), "--print-totp", TOTP_SECRET, NULL };
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 0);

  return g_strstrip (g_strdup (out));
}

static void
test_totp_login (void)
{
  g_autofree char *email = new_email ();
  g_autoptr(EiderSession) session = signup (email, NULL);
  g_autoptr(EiderApi) api = api_for (session);
  g_autoptr(EiderLogin) login = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) setup = NULL;
  g_autoptr(JsonNode) enabled = NULL;
  g_autofree char *code = NULL;
  g_autofree char *body = NULL;
  EiderLoginStep s;

  setup = api_call (api, "POST", "/users/two-factor/setup", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (setup), "secretCode"), ==, TOTP_SECRET);

  code = current_totp ();
  body = g_strdup_printf ("{\"code\":\"%s\",\"encryptedTwoFactorSecret\":\"AAEC\","
                          "\"twoFactorSecretDecryptionNonce\":\"AAEC\"}", code);
  enabled = api_call (api, "POST", "/users/two-factor/enable", body, &error);
  g_assert_no_error (error);

  login = eider_login_new (server->url, email);
  RUN_STEP (eider_login_start_async);
  g_assert_cmpint (s, ==, EIDER_LOGIN_STEP_PASSWORD);

  RUN_STEP (eider_login_submit_password_async, PASSWORD);
  g_assert_no_error (error);
  g_assert_cmpint (s, ==, EIDER_LOGIN_STEP_TOTP);

  RUN_STEP (eider_login_submit_totp_async, "000000");
  g_assert_error (error, EIDER_ACCOUNT_ERROR, EIDER_ACCOUNT_ERROR_WRONG_CODE);
  g_clear_error (&error);

  g_free (code);
  code = current_totp ();
  RUN_STEP (eider_login_submit_totp_async, code);
  g_assert_no_error (error);
  g_assert_cmpint (s, ==, EIDER_LOGIN_STEP_DONE);
}

/* The server ends the session (logout elsewhere): the next call's 401 turns
 * the account to "needs login", and that survives a reload. */
static void
test_unauthorized (void)
{
  g_autofree char *email = new_email ();
  g_autofree char *config = test_make_tmpdir ("eider-config-XXXXXX");
  g_autoptr(EiderSession) session = signup (email, NULL);
  g_autoptr(EiderAccount) account = eider_account_new (config);
  g_autoptr(EiderAccount) reloaded = eider_account_new (config);
  g_autoptr(EiderApi) other = api_for (session);
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (eider_account_set_session (account, session, EIDER_SECRET_BACKEND_KEYRING, &error));
  g_assert_no_error (error);

  node = api_call (other, "POST", "/users/logout", NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&node, json_node_unref);

  node = api_call (eider_account_get_api (account), "GET", "/users/details/v2", NULL, &error);
  g_assert_null (node);
  g_assert_error (error, EIDER_API_ERROR, EIDER_API_ERROR_UNAUTHORIZED);
  g_assert_cmpuint (eider_api_error_get_status (error), ==, 401);
  g_clear_error (&error);
  g_assert_cmpint (eider_account_get_state (account), ==, EIDER_ACCOUNT_STATE_NEEDS_LOGIN);
  g_assert_null (eider_account_get_master_key (account));

  g_assert_true (eider_account_load (reloaded, &error));
  g_assert_cmpint (eider_account_get_state (reloaded), ==, EIDER_ACCOUNT_STATE_NEEDS_LOGIN);

  {
    g_autoptr(GAsyncResult) result = NULL;

    eider_account_logout_async (reloaded, NULL, test_result_cb, &result);
    g_assert_true (eider_account_logout_finish (reloaded, test_wait (&result), &error));
    g_assert_no_error (error);
    g_assert_null (keyring_lookup (email));
  }

  test_rm_rf (config);
}

/* Without a keyring: a 0600 file, only when asked for. */
static void
test_file_secrets (void)
{
  g_autofree char *email = new_email ();
  g_autofree char *config = test_make_tmpdir ("eider-config-XXXXXX");
  g_autofree char *path = g_build_filename (config, "secrets.json", NULL);
  g_autoptr(EiderSession) session = signup (email, NULL);
  g_autoptr(EiderAccount) account = eider_account_new (config);
  g_autoptr(EiderAccount) reloaded = eider_account_new (config);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *master_b64 = NULL;
  GStatBuf st;

  g_assert_true (eider_account_set_session (account, session, EIDER_SECRET_BACKEND_FILE, &error));
  g_assert_no_error (error);
  g_assert_null (keyring_lookup (email));

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  master_b64 = eider_base64_encode (eider_secret_peek (session->master_key), EIDER_KEY_BYTES);
  g_assert_true (test_dir_contains (config, (const guint8 *) master_b64, strlen (master_b64)));

  g_assert_true (eider_account_load (reloaded, &error));
  g_assert_cmpint (eider_account_get_secret_backend (reloaded), ==, EIDER_SECRET_BACKEND_FILE);
  g_assert_true (eider_secret_equal (eider_account_get_master_key (reloaded), session->master_key));

  eider_account_logout_async (reloaded, NULL, test_result_cb, &result);
  g_assert_true (eider_account_logout_finish (reloaded, test_wait (&result), &error));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  test_rm_rf (config);
}

static void
test_endpoint_checks (void)
{
  static const char * const bad[] = { "", "ftp://example.org", "example.org", "https://", "https://h/?q=1" };
  g_autoptr(EiderApi) nowhere = eider_api_new ("http://127.0.0.1:9");
  g_autoptr(EiderApi) good = eider_api_new (server->url);
  g_autoptr(EiderApi) not_ente = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *object_url = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (eider_api_check_endpoint (bad[i], &error));
      g_assert_error (error, EIDER_API_ERROR, EIDER_API_ERROR_FAILED);
      g_clear_error (&error);
    }
  g_assert_true (eider_api_check_endpoint ("https://api.ente.com", NULL));

  eider_api_ping_async (good, NULL, test_result_cb, &result);
  g_assert_true (eider_api_ping_finish (good, test_wait (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  eider_api_ping_async (nowhere, NULL, test_result_cb, &result);
  g_assert_false (eider_api_ping_finish (nowhere, test_wait (&result), &error));
  g_assert_error (error, EIDER_API_ERROR, EIDER_API_ERROR_NETWORK);
  g_clear_error (&error);
  g_clear_object (&result);

  /* Something that answers HTTP but is not museum: the server's object
   * store path, which has no /ping. */
  object_url = g_strconcat (server->url, "/s3", NULL);
  not_ente = eider_api_new (object_url);
  eider_api_ping_async (not_ente, NULL, test_result_cb, &result);
  g_assert_false (eider_api_ping_finish (not_ente, test_wait (&result), &error));
  g_assert_error (error, EIDER_API_ERROR, EIDER_API_ERROR_NOT_ENTE);
}

/* eiderctl, as a script would use it. */

static int
run_eiderctl (const char  *config,
              const char  *stdin_text,
              char       **out,
              char       **err,
              const char  *first,
              ...)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                                                       G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                       G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  const char *arg;
  va_list args;

  g_clear_pointer (out, g_free);
  g_clear_pointer (err, g_free);
  g_ptr_array_add (argv, (gpointer) g_getenv ("EIDERCTL"));
  g_ptr_array_add (argv, (gpointer) "--config-dir");
  g_ptr_array_add (argv, (gpointer) config);
  va_start (args, first);
  for (arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  proc = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, stdin_text != NULL ? stdin_text : "", NULL, out, err, &error);
  g_assert_no_error (error);

  return g_subprocess_get_exit_status (proc);
}

static void
test_eiderctl (void)
{
  g_autofree char *email = new_email ();
  g_autofree char *config = test_make_tmpdir ("eider-config-XXXXXX");
  g_autofree char *words_file = g_build_filename (config, "recovery.txt", NULL);
  g_autofree char *words = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonNode) status = NULL;
  g_auto(GStrv) lines = NULL;
  int rc;

#define CTL(input, ...) run_eiderctl (config, input, &out, &err, __VA_ARGS__, NULL)

  rc = CTL (NULL, "account", "signup", "--endpoint", server->url, "--email", email, "--request-code");
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (err, "--code"));

  rc = CTL (PASSWORD "\n", "account", "signup", "--endpoint", server->url, "--email", email,
            "--code", "123456", "--password-stdin", "--recovery-words-file", words_file);
  g_assert_cmpint (rc, ==, 0);
  g_assert_true (g_file_get_contents (words_file, &words, NULL, NULL));
  lines = g_strsplit (g_strstrip (words), " ", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 24);
  g_assert_null (strstr (out, words));   /* written to the file, not shown */

  rc = CTL (NULL, "account", "status", "--json");
  g_assert_cmpint (rc, ==, 0);
  status = json_from_string (out, NULL);
  g_assert_nonnull (status);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (status), "state"), ==, "logged-in");
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (status), "email"), ==, email);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (status), "usage"), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (status), "secretStorage"), ==, "keyring");

  rc = CTL (NULL, "account", "logout");
  g_assert_cmpint (rc, ==, 0);
  g_assert_null (keyring_lookup (email));

  /* Wrong password: one clear line, non-zero exit. */
  rc = CTL ("wrong\n", "account", "login", "--endpoint", server->url, "--email", email, "--password-stdin");
  g_assert_cmpint (rc, ==, 1);
  g_assert_cmpstr (err, ==, "eiderctl: Incorrect password\n");

  rc = CTL (PASSWORD "\n", "account", "login", "--endpoint", server->url, "--email", email, "--password-stdin");
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, "Logged in as"));

  /* No terminal and no --password-stdin: a usage error, not a hang. */
  rc = CTL (NULL, "account", "login", "--endpoint", server->url, "--email", email);
  g_assert_cmpint (rc, ==, 2);
  g_assert_nonnull (strstr (err, "--password-stdin"));

  /* An unreachable server: one clear line. */
  rc = CTL (NULL, "account", "login", "--endpoint", "http://127.0.0.1:9", "--email", email);
  g_assert_cmpint (rc, ==, 1);
  g_assert_nonnull (strstr (err, "Could not reach 127.0.0.1"));

  rc = CTL (NULL, "account", "frobnicate");
  g_assert_cmpint (rc, ==, 2);

  /* Rate limited (museum allows 10 live codes per email; with random codes,
   * as a real server sends): one clear line. */
  {
    TestServer *random_codes = test_server_start ((const char *[]) { "--random-ott", NULL });
    g_autofree char *fresh = new_email ();

    for (guint i = 0; i < 10; i++)
      {
        rc = CTL (NULL, "account", "signup", "--endpoint", random_codes->url, "--email", fresh,
                  "--request-code");
        g_assert_cmpint (rc, ==, 0);
      }
    rc = CTL (NULL, "account", "signup", "--endpoint", random_codes->url, "--email", fresh,
              "--request-code");
    g_assert_cmpint (rc, ==, 1);
    g_assert_cmpstr (err, ==, "eiderctl: Too many attempts: wait a minute, then try again\n");
    test_server_stop (random_codes);
  }

  /* Signing up an email that has an account: one clear error line. */
  rc = CTL (PASSWORD "\n", "account", "signup", "--endpoint", server->url, "--email", email,
            "--code", "123456", "--password-stdin");
  g_assert_cmpint (rc, ==, 1);
  g_assert_nonnull (strstr (err, "eiderctl: "));
  g_assert_null (strstr (strstr (err, "eiderctl: ") + 1, "eiderctl: "));

  test_rm_rf (config);
#undef CTL
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_assert_true (eider_crypto_init (NULL));
  g_test_init (&argc, &argv, NULL);

  server = test_server_start ((const char *[]) { "--totp-secret", TOTP_SECRET, NULL });

  g_test_add_func ("/account/signup-logout-login", test_signup_logout_login);
  g_test_add_func ("/account/wrong-password", test_wrong_password_srp);
  g_test_add_func ("/account/email-code", test_email_code_login);
  g_test_add_func ("/account/not-registered", test_not_registered);
  g_test_add_func ("/account/totp", test_totp_login);
  g_test_add_func ("/account/unauthorized", test_unauthorized);
  g_test_add_func ("/account/file-secrets", test_file_secrets);
  g_test_add_func ("/account/endpoint-checks", test_endpoint_checks);
  g_test_add_func ("/account/eiderctl", test_eiderctl);

  status = g_test_run ();
  test_server_stop (server);

  return status;
}
