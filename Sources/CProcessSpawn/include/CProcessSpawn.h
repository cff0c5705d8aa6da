/// The code that runs between fork and exec when the worker starts a build, where a threaded
/// Swift process may call nothing but async-signal-safe functions (swift-subprocess keeps its
/// fork-exec in C for the same reason), each prefixed `CProcessSpawn_`. libc only.
#ifndef CPROCESSSPAWN_H
#define CPROCESSSPAWN_H

/// What `CProcessSpawn_spawn` starts.
typedef struct {
    /// The program's path (resolved: no search).
    const char *path;
    /// The arguments, NULL-terminated, the program's name first.
    char *const *argv;
    /// The whole environment, NULL-terminated.
    char *const *envp;
    /// The working directory.
    const char *directory;
    /// The user and group to run as, or -1 to keep the caller's (supplementary groups are
    /// dropped when a group is given).
    long long uid;
    long long gid;
    /// Where standard output and standard error go; standard input is /dev/null.
    int stdout_fd;
    int stderr_fd;
} CProcessSpawn_Build;

/// The step of the child that failed, in `CProcessSpawn_spawn`'s `failed_step`.
enum {
    CProcessSpawn_step_fork = 1,
    CProcessSpawn_step_session = 2,
    CProcessSpawn_step_groups = 3,
    CProcessSpawn_step_gid = 4,
    CProcessSpawn_step_uid = 5,
    CProcessSpawn_step_directory = 6,
    CProcessSpawn_step_descriptors = 7,
    CProcessSpawn_step_exec = 8,
};

/// Starts `build` in a session (and process group) of its own: fork; in the child setsid, the
/// group then the user, chdir, the descriptors (every other one closed), every signal's
/// disposition and the mask reset, execve. Returns the child's pid, which leads its session;
/// or -1 with `*failed_step` and `*failed_errno` saying which step of the child failed (the
/// child then reaped).
int CProcessSpawn_spawn(const CProcessSpawn_Build *build, int *failed_step, int *failed_errno);

/// Kills with SIGKILL every process `uid` may signal, from a child that takes that user
/// (kill(-1) then reaches exactly that user's processes), until none is left or 20 rounds have
/// passed. Returns 0, or -1 with errno if the child could not be made or could not take the user.
int CProcessSpawn_kill_user(long long uid);

#endif
