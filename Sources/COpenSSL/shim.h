#ifndef SYMPHONY_COPENSSL_SHIM_H
#define SYMPHONY_COPENSSL_SHIM_H

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
// getrandom(2): the operating system CSPRNG, used for keys and nonce prefixes.
#include <sys/random.h>

// OPENSSL_cleanse is a function, but keep the cleanse call in one place for the Swift side.
static inline void copenssl_cleanse(void *ptr, size_t len) { OPENSSL_cleanse(ptr, len); }

#endif
