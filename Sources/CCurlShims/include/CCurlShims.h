/// Typed wrappers for libcurl's variadic functions, which Swift cannot call: one function per
/// argument type, each prefixed `CCurlShims_`. Nothing else belongs here: all logic lives in Swift
/// (CurlHTTP, the only module that imports this one).
#ifndef CCURLSHIMS_H
#define CCURLSHIMS_H

#include <stddef.h>
#include <curl/curl.h>

/// The shape of `CURLOPT_WRITEFUNCTION` and `CURLOPT_HEADERFUNCTION`.
typedef size_t (*CCurlShims_data_callback)(char *data, size_t size, size_t count, void *context);

/// The shape of `CURLOPT_XFERINFOFUNCTION`: non-zero stops the transfer.
typedef int (*CCurlShims_progress_callback)(void *context, curl_off_t download_total, curl_off_t downloaded,
                                            curl_off_t upload_total, curl_off_t uploaded);

/// curl_easy_setopt with a `long`.
CURLcode CCurlShims_setopt_long(CURL *handle, CURLoption option, long value);
/// curl_easy_setopt with a pointer (a string, a list, a context).
CURLcode CCurlShims_setopt_ptr(CURL *handle, CURLoption option, const void *value);
/// curl_easy_setopt with a `curl_off_t`.
CURLcode CCurlShims_setopt_off(CURL *handle, CURLoption option, curl_off_t value);
/// curl_easy_setopt with a data callback.
CURLcode CCurlShims_setopt_data_callback(CURL *handle, CURLoption option, CCurlShims_data_callback callback);
/// curl_easy_setopt with a progress callback.
CURLcode CCurlShims_setopt_progress_callback(CURL *handle, CURLoption option, CCurlShims_progress_callback callback);
/// curl_easy_getinfo of a `long`.
CURLcode CCurlShims_getinfo_long(CURL *handle, CURLINFO info, long *value);

#endif
