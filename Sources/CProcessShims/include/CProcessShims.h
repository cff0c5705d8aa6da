/// Typed wrappers for the variadic process calls Swift cannot make, each prefixed `CProcessShims_`.
#ifndef CPROCESSSHIMS_H
#define CPROCESSSHIMS_H

/// prctl(PR_SET_DUMPABLE, value).
int CProcessShims_set_dumpable(int value);

#endif
