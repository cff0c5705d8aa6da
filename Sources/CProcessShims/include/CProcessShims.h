/// Typed wrappers for the variadic process calls Swift cannot make, each prefixed `CProcessShims_`,
/// and the process's first step: a constructor that makes it non-dumpable before main runs.
#ifndef CPROCESSSHIMS_H
#define CPROCESSSHIMS_H

#include <stddef.h>

/// prctl(PR_SET_DUMPABLE, value).
int CProcessShims_set_dumpable(int value);

/// Overwrites with zero bytes the value of every `name=` entry in the environment block the
/// process was started with (what /proc/PID/environ shows). Returns how many were overwritten.
/// getenv(name) then gives an empty string: read what is needed first.
size_t CProcessShims_scrub_environment(const char *name);

#endif
