#include "CCurlShims.h"

CURLcode CCurlShims_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode CCurlShims_setopt_ptr(CURL *handle, CURLoption option, const void *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode CCurlShims_setopt_off(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode CCurlShims_setopt_data_callback(CURL *handle, CURLoption option, CCurlShims_data_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

CURLcode CCurlShims_setopt_progress_callback(CURL *handle, CURLoption option, CCurlShims_progress_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

CURLcode CCurlShims_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
