#ifndef JOBCREDS_CCURL_SHIM_H
#define JOBCREDS_CCURL_SHIM_H
#include <curl/curl.h>
#endif
