/* eider-crypto.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Every libsodium primitive Ente's format needs (spec/ente-auth.md §2–3,
 * spec/ente-upload.md §2, §6), and MD5 for Content-MD5.
 *
 * Thread contract: all functions are thread-safe once eider_crypto_init() has
 * run on the main thread; a single EiderHash, EiderStreamEncryptor or
 * EiderStreamDecryptor must be used by one thread at a time.
 */

#define EIDER_KEY_BYTES            32
#define EIDER_SALT_BYTES           16
#define EIDER_NONCE_BYTES          24
#define EIDER_MAC_BYTES            16
#define EIDER_HASH_BYTES           64
#define EIDER_STREAM_HEADER_BYTES  24
#define EIDER_STREAM_ABYTES        17
#define EIDER_STREAM_CHUNK_SIZE    (4 * 1024 * 1024)
#define EIDER_STREAM_BLOCK_SIZE    (EIDER_STREAM_CHUNK_SIZE + EIDER_STREAM_ABYTES)
#define EIDER_SEAL_BYTES           48
#define EIDER_LOGIN_SUBKEY_BYTES   16

#define EIDER_CRYPTO_ERROR (eider_crypto_error_quark ())

typedef enum
{
  EIDER_CRYPTO_ERROR_FAILED,
  EIDER_CRYPTO_ERROR_BAD_BASE64,
  EIDER_CRYPTO_ERROR_BAD_LENGTH,
  EIDER_CRYPTO_ERROR_WRONG_KEY,
  EIDER_CRYPTO_ERROR_CORRUPT,
  EIDER_CRYPTO_ERROR_TRUNCATED,
  EIDER_CRYPTO_ERROR_MISSING_FINAL,
  EIDER_CRYPTO_ERROR_TRAILING_DATA,
  EIDER_CRYPTO_ERROR_OUT_OF_MEMORY,
  EIDER_CRYPTO_ERROR_BAD_MNEMONIC,
} EiderCryptoError;

GQuark    eider_crypto_error_quark (void);

gboolean  eider_crypto_init        (GError **error);

gpointer  eider_secure_alloc       (gsize    size);
void      eider_secure_free        (gpointer mem);

/* Secrets: in secure memory (eider_secure_alloc), wiped on free. */
typedef struct _EiderSecret EiderSecret;

EiderSecret  *eider_secret_new          (gsize               len);
EiderSecret  *eider_secret_new_random   (gsize               len);
EiderSecret  *eider_secret_new_from_data (const guint8      *data,
                                          gsize              len);
EiderSecret  *eider_secret_copy         (const EiderSecret  *secret);
guint8       *eider_secret_get_data     (EiderSecret        *secret);
const guint8 *eider_secret_peek         (const EiderSecret  *secret);
gsize         eider_secret_get_size     (const EiderSecret  *secret);
gboolean      eider_secret_equal        (const EiderSecret  *a,
                                         const EiderSecret  *b);
void          eider_secret_free         (EiderSecret        *secret);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EiderSecret, eider_secret_free)

/* Base64: standard padded (all JSON binary fields) and URL-safe padded (tokens).
 * Decoding rejects anything that is not exactly that variant. */
char         *eider_base64_encode       (const guint8  *data,
                                         gsize          len);
char         *eider_base64_url_encode   (const guint8  *data,
                                         gsize          len);
GBytes       *eider_base64_decode       (const char    *text,
                                         GError       **error);
GBytes       *eider_base64_url_decode   (const char    *text,
                                         GError       **error);
gboolean      eider_base64_decode_exact (const char    *text,
                                         guint8        *out,
                                         gsize          len,
                                         GError       **error);
EiderSecret  *eider_base64_decode_secret (const char   *text,
                                          gsize         expected_len,
                                          GError      **error);

/* BLAKE2b-512 (crypto_generichash, unkeyed, 64-byte output). */
typedef struct _EiderHash EiderHash;

EiderHash    *eider_hash_new            (void);
void          eider_hash_update         (EiderHash     *hash,
                                         const guint8  *data,
                                         gsize          len);
void          eider_hash_finish         (EiderHash     *hash,
                                         guint8         out[EIDER_HASH_BYTES]);
char         *eider_hash_finish_base64  (EiderHash     *hash);
void          eider_hash_free           (EiderHash     *hash);
char         *eider_hash_data_base64    (const guint8  *data,
                                         gsize          len);
char         *eider_hash_stream_base64  (GInputStream  *stream,
                                         GCancellable  *cancellable,
                                         GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EiderHash, eider_hash_free)

/* Secretbox (XSalsa20-Poly1305, MAC ‖ ciphertext). */
void          eider_secretbox_seal      (const guint8  *msg,
                                         gsize          msg_len,
                                         const guint8   key[EIDER_KEY_BYTES],
                                         guint8         nonce_out[EIDER_NONCE_BYTES],
                                         guint8        *ct_out);
gboolean      eider_secretbox_open      (const guint8  *ct,
                                         gsize          ct_len,
                                         const guint8   nonce[EIDER_NONCE_BYTES],
                                         const guint8   key[EIDER_KEY_BYTES],
                                         guint8        *msg_out,
                                         GError       **error);
void          eider_crypto_wrap_key     (const EiderSecret  *key,
                                         const EiderSecret  *wrapping_key,
                                         char              **encrypted_b64,
                                         char              **nonce_b64);
EiderSecret  *eider_crypto_unwrap_key   (const char         *encrypted_b64,
                                         const char         *nonce_b64,
                                         const EiderSecret  *wrapping_key,
                                         GError            **error);

/* Sealed box (crypto_box_seal): opening needs both halves of the keypair. */
GBytes       *eider_sealed_box_seal     (const guint8  *msg,
                                         gsize          msg_len,
                                         const guint8   public_key[EIDER_KEY_BYTES]);
EiderSecret  *eider_sealed_box_open     (const guint8       *ct,
                                         gsize               ct_len,
                                         const guint8        public_key[EIDER_KEY_BYTES],
                                         const EiderSecret  *secret_key,
                                         GError            **error);
void          eider_box_keypair         (guint8         public_key[EIDER_KEY_BYTES],
                                         EiderSecret  **secret_key);

/* Key derivation. */
EiderSecret  *eider_crypto_derive_kek          (const char         *password,
                                                const guint8        salt[EIDER_SALT_BYTES],
                                                guint64             ops_limit,
                                                guint64             mem_limit,
                                                GError            **error);
EiderSecret  *eider_crypto_derive_login_subkey (const EiderSecret  *kek);

/* Recovery key as 24 English BIP-39 words (64 hex chars accepted on input). */
char         *eider_recovery_key_to_mnemonic   (const EiderSecret  *key);
EiderSecret  *eider_recovery_key_from_mnemonic (const char         *words,
                                                GError            **error);

/* Secretstream: one-shot "blob" (thumbnail, metadata JSON) … */
GBytes       *eider_blob_encrypt        (const guint8       *data,
                                         gsize               len,
                                         const EiderSecret  *key,
                                         guint8              header_out[EIDER_STREAM_HEADER_BYTES]);
GBytes       *eider_blob_decrypt        (const guint8       *ct,
                                         gsize               ct_len,
                                         const EiderSecret  *key,
                                         const guint8        header[EIDER_STREAM_HEADER_BYTES],
                                         GError            **error);

/* … and chunked "stream" (file bodies): 4 MiB plaintext chunks, MESSAGE on
 * every chunk but the last, FINAL on the last, never an empty trailing chunk. */
typedef struct _EiderStreamEncryptor EiderStreamEncryptor;
typedef struct _EiderStreamDecryptor EiderStreamDecryptor;

EiderStreamEncryptor *eider_stream_encryptor_new  (const EiderSecret     *key,
                                                   guint8                 header_out[EIDER_STREAM_HEADER_BYTES]);
gboolean              eider_stream_encryptor_push (EiderStreamEncryptor  *self,
                                                   const guint8          *chunk,
                                                   gsize                  len,
                                                   gboolean               final,
                                                   guint8                *out,
                                                   GError               **error);
void                  eider_stream_encryptor_free (EiderStreamEncryptor  *self);

EiderStreamDecryptor *eider_stream_decryptor_new  (const EiderSecret     *key,
                                                   const guint8           header[EIDER_STREAM_HEADER_BYTES],
                                                   GError               **error);
gboolean              eider_stream_decryptor_pull (EiderStreamDecryptor  *self,
                                                   const guint8          *block,
                                                   gsize                  len,
                                                   guint8                *out,
                                                   gsize                 *out_len,
                                                   gboolean              *final,
                                                   GError               **error);
void                  eider_stream_decryptor_free (EiderStreamDecryptor  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EiderStreamEncryptor, eider_stream_encryptor_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EiderStreamDecryptor, eider_stream_decryptor_free)

/* Whole-stream helpers with constant memory (two 4 MiB buffers). Progress, if
 * given, is called after each chunk with the plaintext bytes done so far. */
typedef void (*EiderCryptoProgress) (guint64  done,
                                     gpointer user_data);

gboolean  eider_crypto_encrypt_stream (GInputStream         *in,
                                       GOutputStream        *out,
                                       const EiderSecret    *key,
                                       guint8                header_out[EIDER_STREAM_HEADER_BYTES],
                                       guint64              *plain_size_out,
                                       EiderCryptoProgress   progress,
                                       gpointer              progress_data,
                                       GCancellable         *cancellable,
                                       GError              **error);
gboolean  eider_crypto_decrypt_stream (GInputStream         *in,
                                       GOutputStream        *out,
                                       const EiderSecret    *key,
                                       const guint8          header[EIDER_STREAM_HEADER_BYTES],
                                       gint64                expected_size,
                                       GCancellable         *cancellable,
                                       GError              **error);

guint64   eider_crypto_encrypted_size (guint64              plain_size);

/* Content-MD5 (standard base64 of the 16-byte digest), with the fastest
 * MD5 Debian has (OpenSSL's). */
typedef struct _EiderMd5 EiderMd5;

EiderMd5 *eider_md5_new               (void);
void      eider_md5_update            (EiderMd5            *md5,
                                       const guint8        *data,
                                       gsize                len);
char     *eider_md5_finish_base64     (EiderMd5            *md5);
void      eider_md5_free              (EiderMd5            *md5);
char     *eider_content_md5           (const guint8        *data,
                                       gsize                len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EiderMd5, eider_md5_free)

G_END_DECLS
