#include "CProcessShims.h"

#include <sys/prctl.h>

int CProcessShims_set_dumpable(int value) { return prctl(PR_SET_DUMPABLE, (unsigned long)value, 0UL, 0UL, 0UL); }
