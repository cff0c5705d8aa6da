#define _GNU_SOURCE
#include "CProcessSpawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/// Writes the failed step and errno to the parent and exits; async-signal-safe.
static void child_failed(int report, int step) {
    int message[2] = {step, errno};
    ssize_t ignored = write(report, message, sizeof message);
    (void)ignored;
    _exit(127);
}

/// Closes every descriptor from `low` up, but `keep`.
static int close_from(int low, int keep) {
    if (keep > low && syscall(SYS_close_range, (unsigned)low, (unsigned)(keep - 1), 0) != 0) return -1;
    if (syscall(SYS_close_range, (unsigned)(keep + 1), ~0U, 0) != 0) return -1;
    return 0;
}

int CProcessSpawn_spawn(const CProcessSpawn_Build *build, int *failed_step, int *failed_errno) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        *failed_step = CProcessSpawn_step_fork;
        *failed_errno = errno;
        return -1;
    }
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);  // no handler of the parent's runs in the child
    pid_t child = fork();
    if (child == 0) {
        close(report[0]);
        if (setsid() < 0) child_failed(report[1], CProcessSpawn_step_session);
        if (build->gid >= 0) {
            if (setgroups(0, NULL) != 0) child_failed(report[1], CProcessSpawn_step_groups);
            if (setresgid((gid_t)build->gid, (gid_t)build->gid, (gid_t)build->gid) != 0)
                child_failed(report[1], CProcessSpawn_step_gid);
        }
        if (build->uid >= 0 && setresuid((uid_t)build->uid, (uid_t)build->uid, (uid_t)build->uid) != 0)
            child_failed(report[1], CProcessSpawn_step_uid);
        if (chdir(build->directory) != 0) child_failed(report[1], CProcessSpawn_step_directory);
        int input = open("/dev/null", O_RDONLY);
        if (input < 0 || dup2(input, 0) < 0 || dup2(build->stdout_fd, 1) < 0 || dup2(build->stderr_fd, 2) < 0)
            child_failed(report[1], CProcessSpawn_step_descriptors);
        if (close_from(3, report[1]) != 0) child_failed(report[1], CProcessSpawn_step_descriptors);
        for (int number = 1; number < NSIG; number++) {
            if (number != SIGKILL && number != SIGSTOP) signal(number, SIG_DFL);  // SIGPIPE was ignored
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(build->path, build->argv, build->envp);
        child_failed(report[1], CProcessSpawn_step_exec);
    }
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    close(report[1]);
    if (child < 0) {
        close(report[0]);
        *failed_step = CProcessSpawn_step_fork;
        *failed_errno = fork_errno;
        return -1;
    }
    int message[2];
    ssize_t got;
    do {
        got = read(report[0], message, sizeof message);
    } while (got < 0 && errno == EINTR);
    close(report[0]);
    if (got == (ssize_t)sizeof message) {
        while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {
        }
        *failed_step = message[0];
        *failed_errno = message[1];
        return -1;
    }
    return child;
}

int CProcessSpawn_kill_user(long long uid) {
    if (uid <= 0) {  // never root's processes, nor ours
        errno = EINVAL;
        return -1;
    }
    pid_t child = fork();
    if (child == 0) {
        if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) != 0) _exit(2);
        for (int round = 0; round < 20; round++) {
            if (kill(-1, SIGKILL) != 0 && errno == ESRCH) _exit(0);
        }
        _exit(0);
    }
    if (child < 0) return -1;
    int status = 0;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        errno = EPERM;
        return -1;
    }
    return 0;
}
