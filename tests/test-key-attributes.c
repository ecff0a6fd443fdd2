/* test-key-attributes.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The signup vector of spec/ente-server.md Appendix A, generated for real by
 * eider_key_attributes_generate() with a scripted random source, then
 * unlocked with the password and with the recovery key.
 */
#include "config.h"

#include <string.h>

#include "eider-key-attributes.h"
#include "test-rng.h"

static const char expected_json[] =
  "{\"encryptedKey\":\"Xfmw8IVvZdX71TJ6M+ApyTw2xBVbTm76RG6T83jj+9f321x1i1g0gDNFYAvjFAd8\","
  "\"keyDecryptionNonce\":\"gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaX\","
  "\"kekSalt\":\"AAECAwQFBgcICQoLDA0ODw==\","
  "\"opsLimit\":16,"
  "\"memLimit\":268435456,"
  "\"publicKey\":\"Z13VdO13iTELPS52gfN5C0ZsdzsVIf7PNld5WDcepS8=\","
  "\"encryptedSecretKey\":\"eSPil4lA2FaBg/Ug3IcUHJw4wjZYEgzOxRh0Y+WbAPvShFIQTUUBr3OaEJ57/J6J\","
  "\"secretKeyDecryptionNonce\":\"mJmam5ydnp+goaKjpKWmp6ipqqusra6v\","
  "\"masterKeyEncryptedWithRecoveryKey\":\"k/xj4n8vAjTNKQ6YdRArWKsDeU4U+cS0Cs3x9rC+y8g6QKarF0+dcI638Jt/IFeW\","
  "\"masterKeyDecryptionNonce\":\"sLGys7S1tre4ubq7vL2+v8DBwsPExcbH\","
  "\"recoveryKeyEncryptedWithMasterKey\":\"2od2GHWjWQMsLw0lxwuj9/V8L0mjHu6Hzc8Z0ShNML7htxzMoRjZuQIlFEKWoZHd\","
  "\"recoveryKeyDecryptionNonce\":\"yMnKy8zNzs/Q0dLT1NXW19jZ2tvc3d7f\"}";

static EiderKeyAttributes *
generate_vector (EiderSecret **master_key,
                 EiderSecret **recovery_key,
                 EiderSecret **kek)
{
  g_autoptr(GError) error = NULL;
  EiderKeyAttributes *attrs;

  test_rng_expect (0x20, 32);   /* master key */
  test_rng_expect (0x40, 32);   /* recovery key */
  test_rng_expect (0x00, 16);   /* kekSalt */
  test_rng_expect (0x60, 32);   /* X25519 secret key */
  test_rng_expect (0x80, 24);   /* encryptedKey nonce */
  test_rng_expect (0x98, 24);   /* encryptedSecretKey nonce */
  test_rng_expect (0xb0, 24);   /* masterKeyEncryptedWithRecoveryKey nonce */
  test_rng_expect (0xc8, 24);   /* recoveryKeyEncryptedWithMasterKey nonce */

  attrs = eider_key_attributes_generate ("password", 16, 268435456,
                                         master_key, recovery_key, kek, &error);
  g_assert_no_error (error);
  test_rng_assert_drained ();

  return attrs;
}

static void
test_signup_vector (void)
{
  g_autoptr(EiderKeyAttributes) attrs = NULL;
  g_autoptr(EiderSecret) master_key = NULL;
  g_autoptr(EiderSecret) recovery_key = NULL;
  g_autoptr(EiderSecret) kek = NULL;
  g_autoptr(EiderSecret) sub = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GBytes) pk = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  g_autofree char *kek_hex = NULL;
  g_autofree char *sub_hex = NULL;
  g_autofree char *pk_hex = NULL;
  g_autofree char *words = NULL;

  attrs = generate_vector (&master_key, &recovery_key, &kek);

  kek_hex = test_hex (eider_secret_peek (kek), 32);
  g_assert_cmpstr (kek_hex, ==, "a36179ab6584df1c7a772c7204cd0a38ac9067c5d53e138e7a66930f332e2ef8");

  sub = eider_crypto_derive_login_subkey (kek);
  sub_hex = test_hex (eider_secret_peek (sub), 16);
  g_assert_cmpstr (sub_hex, ==, "e9cb8bec5f3f80d4867170d3a7665746");

  pk = eider_base64_decode (attrs->public_key, &error);
  g_assert_no_error (error);
  pk_hex = test_hex (g_bytes_get_data (pk, NULL), 32);
  g_assert_cmpstr (pk_hex, ==, "675dd574ed7789310b3d2e7681f3790b466c773b1521fecf36577958371ea52f");

  node = eider_key_attributes_to_json (attrs);
  json = json_to_string (node, FALSE);
  g_assert_cmpstr (json, ==, expected_json);

  words = eider_recovery_key_to_mnemonic (recovery_key);
  g_assert_cmpstr (words, ==,
                   "doctor anxiety move mass federal casual cancel citizen ensure give fatal pact "
                   "agree powder essence melt film river bind regret remind concert just welcome");
}

static void
test_unlock (void)
{
  g_autoptr(JsonNode) node = json_from_string (expected_json, NULL);
  g_autoptr(EiderKeyAttributes) attrs = NULL;
  g_autoptr(EiderSecret) kek = NULL;
  g_autoptr(EiderSecret) wrong_kek = NULL;
  g_autoptr(EiderSecret) master_key = NULL;
  g_autoptr(EiderSecret) secret_key = NULL;
  g_autoptr(EiderSecret) recovery_key = NULL;
  g_autoptr(EiderSecret) recovered = NULL;
  g_autoptr(EiderSecret) bad = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *sk_hex = NULL;
  g_autofree char *words = NULL;
  guint8 salt[EIDER_SALT_BYTES];

  attrs = eider_key_attributes_from_json (json_node_get_object (node), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (attrs->ops_limit, ==, 16);
  g_assert_cmpuint (attrs->mem_limit, ==, 268435456);

  g_assert_true (eider_base64_decode_exact (attrs->kek_salt, salt, sizeof salt, &error));
  kek = eider_crypto_derive_kek ("password", salt, attrs->ops_limit, attrs->mem_limit, &error);
  g_assert_no_error (error);

  master_key = eider_key_attributes_unlock (attrs, kek, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 32; i++)
    g_assert_cmpuint (eider_secret_peek (master_key)[i], ==, 0x20 + i);

  secret_key = eider_key_attributes_open_secret_key (attrs, master_key, &error);
  g_assert_no_error (error);
  sk_hex = test_hex (eider_secret_peek (secret_key), 32);
  g_assert_cmpstr (sk_hex, ==, "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f");

  recovery_key = eider_key_attributes_open_recovery_key (attrs, master_key, &error);
  g_assert_no_error (error);
  words = eider_recovery_key_to_mnemonic (recovery_key);
  g_assert_true (g_str_has_prefix (words, "doctor anxiety"));

  recovered = eider_key_attributes_recover (attrs, recovery_key, &error);
  g_assert_no_error (error);
  g_assert_true (eider_secret_equal (recovered, master_key));

  /* A wrong password surfaces as "Incorrect password", not a crash. */
  wrong_kek = eider_crypto_derive_kek ("Password", salt, 2, 67108864, &error);
  g_assert_no_error (error);
  bad = eider_key_attributes_unlock (attrs, wrong_kek, &error);
  g_assert_null (bad);
  g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_WRONG_KEY);
  g_assert_cmpstr (error->message, ==, "Incorrect password");
  g_clear_error (&error);

  bad = eider_key_attributes_recover (attrs, master_key, &error);
  g_assert_null (bad);
  g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_WRONG_KEY);
}

static void
test_json_shapes (void)
{
  /* Go sends unset recovery fields as "" and adds kekHash. */
  static const char go_shape[] =
    "{\"kekSalt\":\"AAECAwQFBgcICQoLDA0ODw==\",\"opsLimit\":4,\"memLimit\":1073741824,"
    "\"encryptedKey\":\"Xfmw8IVvZdX71TJ6M+ApyTw2xBVbTm76RG6T83jj+9f321x1i1g0gDNFYAvjFAd8\","
    "\"keyDecryptionNonce\":\"gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaX\","
    "\"publicKey\":\"Z13VdO13iTELPS52gfN5C0ZsdzsVIf7PNld5WDcepS8=\","
    "\"encryptedSecretKey\":\"eSPil4lA2FaBg/Ug3IcUHJw4wjZYEgzOxRh0Y+WbAPvShFIQTUUBr3OaEJ57/J6J\","
    "\"secretKeyDecryptionNonce\":\"mJmam5ydnp+goaKjpKWmp6ipqqusra6v\","
    "\"masterKeyEncryptedWithRecoveryKey\":\"\",\"masterKeyDecryptionNonce\":\"\","
    "\"recoveryKeyEncryptedWithMasterKey\":\"\",\"recoveryKeyDecryptionNonce\":\"\",\"kekHash\":\"\"}";
  g_autoptr(JsonNode) node = json_from_string (go_shape, NULL);
  g_autoptr(JsonNode) missing = json_from_string ("{\"kekSalt\":\"AAEC\",\"opsLimit\":4}", NULL);
  g_autoptr(EiderKeyAttributes) attrs = NULL;
  g_autoptr(EiderKeyAttributes) copy = NULL;
  g_autoptr(EiderKeyAttributes) none = NULL;
  g_autoptr(EiderSecret) master_key = eider_secret_new_random (32);
  g_autoptr(EiderSecret) recovery = NULL;
  g_autoptr(JsonNode) out = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  attrs = eider_key_attributes_from_json (json_node_get_object (node), &error);
  g_assert_no_error (error);
  g_assert_null (attrs->master_key_encrypted_with_recovery_key);
  g_assert_null (attrs->recovery_key_decryption_nonce);
  g_assert_cmpuint (attrs->mem_limit, ==, 1073741824);

  copy = eider_key_attributes_copy (attrs);
  out = eider_key_attributes_to_json (copy);
  text = json_to_string (out, FALSE);
  g_assert_null (strstr (text, "masterKeyEncryptedWithRecoveryKey"));
  g_assert_nonnull (strstr (text, "\"memLimit\":1073741824"));

  recovery = eider_key_attributes_open_recovery_key (attrs, master_key, &error);
  g_assert_null (recovery);
  g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_FAILED);
  g_clear_error (&error);

  none = eider_key_attributes_from_json (json_node_get_object (missing), &error);
  g_assert_null (none);
  g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_FAILED);
}

int
main (int   argc,
      char *argv[])
{
  test_rng_install ();
  g_assert_true (eider_crypto_init (NULL));
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/key-attributes/signup-vector", test_signup_vector);
  g_test_add_func ("/key-attributes/unlock", test_unlock);
  g_test_add_func ("/key-attributes/json-shapes", test_json_shapes);

  return g_test_run ();
}
