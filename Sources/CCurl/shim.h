#ifndef SYMPHONY_CCURL_SHIM_H
#define SYMPHONY_CCURL_SHIM_H

#include <curl/curl.h>
#include <fcntl.h>
#include <spawn.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift does not import: one typed
// wrapper per argument type Symphony passes.

static inline CURLcode symphony_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode symphony_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode symphony_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode symphony_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode symphony_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

/// The signature of CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION callbacks.
typedef size_t (*symphony_curl_data_callback)(char *data, size_t size, size_t count, void *context);

static inline CURLcode symphony_curl_set_write_callback(CURL *handle, symphony_curl_data_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}

static inline CURLcode symphony_curl_set_header_callback(CURL *handle, symphony_curl_data_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, callback);
}

static inline CURLcode symphony_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

// Macros that do not import into Swift, re-exported as functions.
static inline CURLcode symphony_curl_global_init(void) { return curl_global_init(CURL_GLOBAL_DEFAULT); }
static inline size_t symphony_curl_error_size(void) { return CURL_ERROR_SIZE; }

// Not curl: glibc functions that its headers declare only under _GNU_SOURCE, which Swift's Glibc
// module is built without. SymphonyActions needs them for the child's working directory, for
// closing inherited descriptors and for close-on-exec pipes made atomically; they sit here rather
// than in a module of their own.
extern int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *actions, const char *path);
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
extern int pipe2(int descriptors[2], int flags);

static inline int symphony_pipe_cloexec(int descriptors[2]) {
    return pipe2(descriptors, O_CLOEXEC);
}

static inline int symphony_spawn_add_chdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

static inline int symphony_spawn_add_close_from(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

#endif
