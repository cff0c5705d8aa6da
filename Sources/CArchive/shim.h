#ifndef JOBCREDS_CARCHIVE_SHIM_H
#define JOBCREDS_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>
#endif
