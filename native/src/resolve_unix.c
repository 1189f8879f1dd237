/*
 * PATH search, done in the parent before the child exists.
 *
 * execvp() searches inside the child, trying execve() on each candidate. Forkless decides in the
 * parent instead, so the vfork-style child makes one execve (plus the /bin/sh retry on ENOEXEC)
 * and a failure can be reported as "not found in PATH" rather than as the last candidate's error.
 * The rules follow execvp: empty PATH entries mean the current directory, a candidate that exists
 * but cannot be executed (or is a directory) is remembered as EACCES while the search goes on, and
 * ENOENT is the answer only when nothing was found at all.
 *
 * Relative candidates are checked against the child's directory (cwd), because that is where the
 * child's execve will look for them after its chdir.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "internal.h"

static const char *path_from(const char *const *envp) {
    if (envp != NULL) {
        for (const char *const *e = envp; *e != NULL; e++) {
            if (strncmp(*e, "PATH=", 5) == 0) return *e + 5;
        }
    }
    const char *inherited = getenv("PATH");
    return inherited != NULL ? inherited : "/bin:/usr/bin";
}

/* 0 = executable regular file; -EACCES = exists but not runnable; other -errno = not there. */
static int check_candidate(const char *candidate, const char *cwd) {
    char *joined = NULL;
    const char *check = candidate;
    if (candidate[0] != '/' && cwd != NULL) {
        size_t lc = strlen(cwd), lp = strlen(candidate);
        joined = malloc(lc + 1 + lp + 1);
        if (joined == NULL) return -ENOMEM;
        memcpy(joined, cwd, lc);
        joined[lc] = '/';
        memcpy(joined + lc + 1, candidate, lp + 1);
        check = joined;
    }
    struct stat st;
    int rc;
    if (stat(check, &st) != 0) {
        rc = -errno;
    } else if (!S_ISREG(st.st_mode)) {
        rc = -EACCES;
    } else if (faccessat(AT_FDCWD, check, X_OK, AT_EACCESS) != 0) {
        rc = -errno;
    } else {
        rc = 0;
    }
    free(joined);
    return rc;
}

int fl_resolve_program(const char *program, const char *const *envp, const char *cwd,
                       unsigned flags, char **resolved) {
    *resolved = NULL;
    if ((flags & FL_SPAWN_NO_PATH_SEARCH) || strchr(program, '/') != NULL) return 0;

    const char *path = path_from(envp);
    size_t name_len = strlen(program);
    int seen_eacces = 0;
    for (const char *dir = path;; dir++) {
        const char *end = strchr(dir, ':');
        size_t dir_len = end != NULL ? (size_t)(end - dir) : strlen(dir);
        /* An empty entry means the current directory, as in execvp. */
        const char *d = dir_len == 0 ? "." : dir;
        size_t dl = dir_len == 0 ? 1 : dir_len;
        char *candidate = malloc(dl + 1 + name_len + 1);
        if (candidate == NULL) return -ENOMEM;
        memcpy(candidate, d, dl);
        candidate[dl] = '/';
        memcpy(candidate + dl + 1, program, name_len + 1);

        int rc = check_candidate(candidate, cwd);
        if (rc == 0) {
            *resolved = candidate;
            return 0;
        }
        free(candidate);
        if (rc == -ENOMEM) return rc;
        if (rc == -EACCES || rc == -EPERM) seen_eacces = 1;
        if (end == NULL) break;
        dir = end;
    }
    return seen_eacces ? -EACCES : -ENOENT;
}
