#include "CProcessShims.h"

#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>

int CProcessShims_set_dumpable(int value) { return prctl(PR_SET_DUMPABLE, (unsigned long)value, 0UL, 0UL, 0UL); }

/// The environment block the kernel placed on the stack at exec: what /proc/PID/environ reads.
/// glibc hands it to every constructor; setenv and unsetenv never touch it.
static char **original_environment;

/// Runs before main and before any Swift code: from here on no process of the same user can
/// ptrace this one or read its memory or /proc/PID/environ (the worker's keys are in the
/// environment at exec). `PR_SET_DUMPABLE` is reset by execve, so a command `jobcreds exec`
/// starts is dumpable as usual.
__attribute__((constructor)) static void CProcessShims_first(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    original_environment = envp;
    (void)prctl(PR_SET_DUMPABLE, 0UL, 0UL, 0UL, 0UL);
}

size_t CProcessShims_scrub_environment(const char *name) {
    if (original_environment == NULL || name == NULL) return 0;
    size_t length = strlen(name), scrubbed = 0;
    for (char **entry = original_environment; *entry != NULL; entry++) {
        if (strncmp(*entry, name, length) == 0 && (*entry)[length] == '=') {
            char *value = *entry + length + 1;
            size_t size = strlen(value);
            // volatile: the compiler may not drop a store to memory it believes is dead.
            for (volatile char *byte = value; size > 0; size--) *byte++ = 0;
            scrubbed++;
        }
    }
    return scrubbed;
}
