#ifndef SYMPHONY_CPCRE2_SHIM_H
#define SYMPHONY_CPCRE2_SHIM_H

// pcre2.h refuses to compile without a code unit width; Symphony uses the 8-bit (UTF-8) library.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

// Macros that do not import into Swift, re-exported as functions and constants.
static inline size_t cpcre2_zero_terminated(void) { return PCRE2_ZERO_TERMINATED; }
static inline size_t cpcre2_unset(void) { return PCRE2_UNSET; }

#endif
