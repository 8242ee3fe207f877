#ifndef SYMPHONY_CSTEMMER_SHIM_H
#define SYMPHONY_CSTEMMER_SHIM_H

// Snowball stemmers (libstemmer, Debian's libstemmer-dev). It has no pkg-config file, so the
// module map links it by name.
#include <libstemmer.h>

#endif
