/*
 * fl_spawn on Windows: CreateProcessW, a job object per child, and nothing inherited by accident.
 *
 * The strategy. CreateProcessW takes a program path, one command line and one environment block,
 * all UTF-16; this file builds them from the same fl_spawn_options as on Linux (UTF-8 strings),
 * resolves the program itself and puts the child in a fresh job object before it runs any code:
 *
 *   - Resolution: a program with a path separator or drive ("dir\x.exe", "C:x", "./x") is used as
 *     given, relative ones taken from the child's directory (CreateProcessW would take them from
 *     ours). A bare name is searched in the child's PATH (envp's when it sets one, names compared
 *     without case as Windows does), then this process's PATH, then the system and Windows
 *     directories; ".exe" is appended when the name has no extension. Never the current
 *     directory: CreateProcessW's own search looks there first, which lets a file planted in a
 *     build directory stand in for "git" (the reason Rust and Go resolve by themselves too).
 *   - Batch files (.bat, .cmd) run through cmd.exe with a command line checked by the strict rule
 *     in quote_win.c, or not at all (FL_STEP_COMMAND_LINE, EINVAL): cmd.exe re-parses arguments
 *     and would run parts of them as commands.
 *   - Inheritance: CreateProcessW with bInheritHandles inherits *every* inheritable handle of this
 *     process, also those another thread (a JVM's ProcessBuilder) made inheritable for its own
 *     child a moment ago. PROC_THREAD_ATTRIBUTE_HANDLE_LIST restricts it to the list (Vista+).
 *     Handles are only listed as inheritable duplicates made for this spawn (the std handles) or,
 *     for extra handles (child_fd >= 3, which the child must see under the same value), the
 *     caller's handle with HANDLE_FLAG_INHERIT set just for the call and cleared after it.
 *     Hazard: in that window a concurrent CreateProcess elsewhere in the process that inherits
 *     without a list (old code, the JDK's ProcessImpl) also gets them, the std duplicates
 *     included, and a pipe then shows EOF only when that other child exits too. The list makes
 *     our spawns immune to each other's windows; the flag toggling of extra handles serialises on
 *     a lock. Go has the same window and takes its ForkLock against it.
 *   - The job: with PROC_THREAD_ATTRIBUTE_JOB_LIST (Windows 10 1607+) the kernel creates the
 *     process inside the job. Where that attribute is missing or silently ignored (Wine 8 accepts
 *     the attribute and ignores it), the child is created suspended, assigned with
 *     AssignProcessToJobObject and only then resumed; either way it runs no instruction outside
 *     the job, so a grandchild it starts at once is in the job too. Which one works is learned by
 *     the first spawn (suspended, with the attribute, then IsProcessInJob) and cached.
 *   - The job handle is never inheritable (CreateJobObjectW without security attributes), so a
 *     child cannot keep its own job alive, which matters for KILL_ON_JOB_CLOSE
 *     (FL_SPAWN_DIE_WITH_PARENT).
 *
 * Option mapping: fds 0, 1, 2 become the child's standard handles (an unlisted one is NULL, the
 * Windows "closed"); child_fd >= 3 makes parent_fd inherited under its own value (tell the child
 * the number). FL_SPAWN_NEW_PROCESS_GROUP and FL_SPAWN_NEW_SESSION give a console process group
 * of its own (CREATE_NEW_PROCESS_GROUP; pgid must be 0); FL_SPAWN_DIE_WITH_PARENT sets
 * JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE. User, group and cgroup options do not exist here: ENOSYS at
 * FL_STEP_VALIDATE. An overlapped pipe end of this process (fl_fd_pipe_for_child) as parent_fd:
 * EINVAL at FL_STEP_VALIDATE (give a child the other end, or an fl_fd_pipe end).
 *
 * Alternatives not taken: _wspawnv (the C runtime quotes badly and inherits every inheritable
 * handle), ShellExecuteEx (no handle control), one job for all children (no per-tree kill, and
 * one child's breakaway rules would apply to all).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal_win.h"

/* 0: not probed yet; FL_STRATEGY_WIN_JOB_LIST or FL_STRATEGY_WIN_SUSPENDED once known. */
static volatile LONG job_strategy;
static volatile LONG force_suspended;
/* Serialises the inherit-flag window of extra handles between our own spawns. */
static SRWLOCK inherit_lock = SRWLOCK_INIT;

void fl_win_force_suspended_spawn(int on) {
    InterlockedExchange(&force_suspended, on ? 1 : 0);
    if (!on) InterlockedExchange(&job_strategy, 0);
}

int fl_spawn_strategy_current(void) {
    LONG s = InterlockedCompareExchange(&job_strategy, 0, 0);
    return s != 0 ? (int)s : FL_STRATEGY_WIN_JOB_LIST;
}


/* Everything a spawn allocates, released in one place whatever step failed. */
typedef struct spawn_ctx {
    wchar_t *program, *cwd, *app, *cmdline, *env;
    HANDLE job;
    HANDLE std_dup[3];
    HANDLE *inherit;          /* the HANDLE_LIST */
    size_t ninherit;
    HANDLE *flagged;          /* caller handles we set HANDLE_FLAG_INHERIT on */
    size_t nflagged;
    LPPROC_THREAD_ATTRIBUTE_LIST attrs;
} spawn_ctx;

static int fail(fl_spawn_error *error, int step, int rc) {
    if (error != NULL) {
        error->step = step;
        error->err = -rc;
    }
    return rc;
}

static int is_absolute(const wchar_t *p) {
    if ((p[0] == L'\\' || p[0] == L'/')) return 1; /* rooted or UNC */
    return p[0] != 0 && p[1] == L':' && (p[2] == L'\\' || p[2] == L'/');
}

/* dir + '\' + name, malloc'd; NULL on ENOMEM. */
static wchar_t *join(const wchar_t *dir, size_t dirlen, const wchar_t *name, const wchar_t *ext) {
    size_t nlen = wcslen(name), elen = ext ? wcslen(ext) : 0;
    wchar_t *r = malloc((dirlen + 1 + nlen + elen + 1) * sizeof *r);
    if (r == NULL) return NULL;
    memcpy(r, dir, dirlen * sizeof *r);
    size_t n = dirlen;
    if (n > 0 && r[n - 1] != L'\\' && r[n - 1] != L'/') r[n++] = L'\\';
    memcpy(r + n, name, nlen * sizeof *r);
    n += nlen;
    if (elen) memcpy(r + n, ext, elen * sizeof *r);
    r[n + elen] = 0;
    return r;
}

static int is_file(const wchar_t *path) {
    DWORD a = GetFileAttributesW(path);
    return a != INVALID_FILE_ATTRIBUTES && !(a & FILE_ATTRIBUTE_DIRECTORY);
}

/* Tries name in dir (relative dirs from base); 1 and *out on a hit, 0, or -ENOMEM. */
static int try_dir(const wchar_t *dir, size_t dirlen, const wchar_t *base, const wchar_t *name,
                   const wchar_t *ext, wchar_t **out) {
    while (dirlen > 0 && dir[0] == L' ') dir++, dirlen--;
    if (dirlen >= 2 && dir[0] == L'"' && dir[dirlen - 1] == L'"') dir++, dirlen -= 2;
    if (dirlen == 0) return 0;
    wchar_t *d = malloc((dirlen + 1) * sizeof *d);
    if (d == NULL) return -ENOMEM;
    memcpy(d, dir, dirlen * sizeof *d);
    d[dirlen] = 0;
    wchar_t *full = d;
    if (!is_absolute(d) && base != NULL) {
        full = join(base, wcslen(base), d, NULL);
        free(d);
        if (full == NULL) return -ENOMEM;
    }
    wchar_t *cand = join(full, wcslen(full), name, ext);
    free(full);
    if (cand == NULL) return -ENOMEM;
    if (is_file(cand)) {
        *out = cand;
        return 1;
    }
    free(cand);
    return 0;
}

/* Searches a ';'-separated list. */
static int try_path_list(const wchar_t *list, const wchar_t *base, const wchar_t *name,
                         const wchar_t *ext, wchar_t **out) {
    while (list != NULL && *list) {
        const wchar_t *end = wcschr(list, L';');
        size_t len = end ? (size_t)(end - list) : wcslen(list);
        int rc = try_dir(list, len, base, name, ext, out);
        if (rc != 0) return rc;
        list = end ? end + 1 : NULL;
    }
    return 0;
}

/* The PATH the search uses: envp's (a pointer into wenv entries) or ours (malloc'd in *owned). */
static const wchar_t *search_path(const fl_spawn_options *o, wchar_t **owned) {
    *owned = NULL;
    if (o->envp != NULL) {
        for (size_t i = 0; o->envp[i] != NULL; i++) {
            if (_strnicmp(o->envp[i], "PATH=", 5) == 0) {
                if (fl_win_utf16(o->envp[i] + 5, owned) < 0) return NULL;
                return *owned;
            }
        }
    }
    DWORD n = GetEnvironmentVariableW(L"PATH", NULL, 0);
    if (n == 0) return NULL;
    wchar_t *p = malloc(n * sizeof *p);
    if (p == NULL) return NULL;
    if (GetEnvironmentVariableW(L"PATH", p, n) >= n) {
        free(p);
        return NULL;
    }
    *owned = p;
    return p;
}

static int resolve(spawn_ctx *c, const fl_spawn_options *o) {
    const wchar_t *prog = c->program;
    if (o->flags & FL_SPAWN_NO_PATH_SEARCH || wcspbrk(prog, L"\\/:") != NULL) {
        if (!is_absolute(prog) && c->cwd != NULL) {
            c->app = join(c->cwd, wcslen(c->cwd), prog, NULL);
        } else {
            c->app = _wcsdup(prog);
        }
        return c->app ? 0 : -ENOMEM;
    }
    /* An extension in the name is kept as given ("x.bat", "x.com"); else ".exe" as CreateProcess
     * would. */
    const wchar_t *ext = wcschr(prog, L'.') ? NULL : L".exe";
    wchar_t *owned = NULL;
    const wchar_t *path = search_path(o, &owned);
    int rc = try_path_list(path, c->cwd, prog, ext, &c->app);
    free(owned);
    wchar_t dir[MAX_PATH];
    if (rc == 0) {
        UINT n = GetSystemDirectoryW(dir, MAX_PATH);
        if (n > 0 && n < MAX_PATH) rc = try_dir(dir, n, NULL, prog, ext, &c->app);
    }
    if (rc == 0) {
        UINT n = GetWindowsDirectoryW(dir, MAX_PATH);
        if (n > 0 && n < MAX_PATH) rc = try_dir(dir, n, NULL, prog, ext, &c->app);
    }
    if (rc < 0) return rc;
    return rc == 1 ? 0 : -ENOENT;
}

static int name_cmp(const void *a, const void *b) {
    const wchar_t *x = *(const wchar_t *const *)a, *y = *(const wchar_t *const *)b;
    /* The name ends at the first '=' after position 0 ("=C:=C:\dir" entries start with one). */
    int xl = (int)(wcschr(x + 1, L'=') - x), yl = (int)(wcschr(y + 1, L'=') - y);
    int r = CompareStringOrdinal(x, xl, y, yl, TRUE);
    return r == CSTR_LESS_THAN ? -1 : r == CSTR_GREATER_THAN ? 1 : 0;
}

/* The environment block: "A=1\0B=2\0\0", sorted by name without case as Windows documents.
 * SystemRoot is added from ours when envp lacks it: system DLLs (ws2_32's providers, rsaenh)
 * locate themselves through it and fail to load in a process without it, which shows up far from
 * the cause, as a socket or crypto error in the child. */
static int build_env(spawn_ctx *c, const char *const *envp) {
    size_t n = 0;
    int has_root = 0;
    while (envp[n] != NULL) {
        has_root |= _strnicmp(envp[n], "SystemRoot=", 11) == 0;
        n++;
    }
    wchar_t **items = calloc(n + 2, sizeof *items);
    if (items == NULL) return -ENOMEM;
    int rc = 0;
    size_t total = 1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (envp[i][0] == 0 || strchr(envp[i] + 1, '=') == NULL) {
            rc = -EINVAL;
            break;
        }
        rc = fl_win_utf16(envp[i], &items[i]);
        if (rc == 0) total += wcslen(items[i]) + 1;
    }
    wchar_t root[MAX_PATH];
    DWORD rn = has_root ? 0 : GetEnvironmentVariableW(L"SystemRoot", root, MAX_PATH);
    if (rc == 0 && rn > 0 && rn < MAX_PATH) {
        items[n] = malloc((11 + rn + 1) * sizeof(wchar_t));
        if (items[n] == NULL) {
            rc = -ENOMEM;
        } else {
            memcpy(items[n], L"SystemRoot=", 11 * sizeof(wchar_t));
            memcpy(items[n] + 11, root, (rn + 1) * sizeof(wchar_t));
            total += 11 + rn + 1;
            n++;
        }
    }
    if (rc == 0) {
        qsort(items, n, sizeof *items, name_cmp);
        wchar_t *block = malloc((total + 1) * sizeof *block);
        if (block == NULL) {
            rc = -ENOMEM;
        } else {
            size_t at = 0;
            for (size_t i = 0; i < n; i++) {
                size_t len = wcslen(items[i]) + 1;
                memcpy(block + at, items[i], len * sizeof *block);
                at += len;
            }
            block[at++] = 0;
            if (n == 0) block[at++] = 0; /* an empty block is two NULs */
            c->env = block;
        }
    }
    for (size_t i = 0; i < n; i++) free(items[i]);
    free(items);
    return rc;
}

static void cleanup(spawn_ctx *c) {
    for (size_t i = 0; i < c->nflagged; i++) SetHandleInformation(c->flagged[i], HANDLE_FLAG_INHERIT, 0);
    if (c->nflagged) ReleaseSRWLockExclusive(&inherit_lock);
    for (int i = 0; i < 3; i++) {
        if (c->std_dup[i] != NULL) CloseHandle(c->std_dup[i]);
    }
    if (c->attrs != NULL) {
        DeleteProcThreadAttributeList(c->attrs);
        free(c->attrs);
    }
    if (c->job != NULL) CloseHandle(c->job);
    free(c->inherit);
    free(c->flagged);
    free(c->program);
    free(c->cwd);
    free(c->app);
    free(c->cmdline);
    free(c->env);
}

static int valid_handle(fl_fd h) {
    DWORD flags;
    /* -1 and -2 are the current-process and current-thread pseudo handles, never a stream. */
    return h != 0 && h != -1 && h != -2 && GetHandleInformation((HANDLE)h, &flags);
}

/* The std handles and the HANDLE_LIST. 0 or -errno (FL_STEP_VALIDATE / FL_STEP_DUP2 by caller). */
static int prepare_handles(spawn_ctx *c, const fl_spawn_options *o) {
    c->inherit = calloc(o->nfds + 1, sizeof *c->inherit);
    c->flagged = calloc(o->nfds + 1, sizeof *c->flagged);
    if (c->inherit == NULL || c->flagged == NULL) return -ENOMEM;
    HANDLE self = GetCurrentProcess();
    for (size_t i = 0; i < o->nfds; i++) {
        const fl_fd_map *m = &o->fds[i];
        HANDLE h = (HANDLE)m->parent_fd;
        if (m->child_fd < 3) {
            HANDLE dup;
            if (!DuplicateHandle(self, h, self, &dup, 0, TRUE, DUPLICATE_SAME_ACCESS)) {
                return fl_win_fail(GetLastError());
            }
            c->std_dup[m->child_fd] = dup;
            c->inherit[c->ninherit++] = dup;
            continue;
        }
        int seen = 0;
        for (size_t j = 0; j < c->nflagged; j++) seen |= c->flagged[j] == h;
        if (seen) continue; /* the list must not name a handle twice */
        if (c->nflagged == 0) AcquireSRWLockExclusive(&inherit_lock);
        if (!SetHandleInformation(h, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT)) {
            int rc = fl_win_fail(GetLastError());
            if (c->nflagged == 0) ReleaseSRWLockExclusive(&inherit_lock);
            return rc;
        }
        c->flagged[c->nflagged++] = h;
        c->inherit[c->ninherit++] = h;
    }
    return 0;
}

/* Kills and forgets a child whose spawn cannot be completed. */
static void abandon(PROCESS_INFORMATION *pi) {
    TerminateProcess(pi->hProcess, 1);
    WaitForSingleObject(pi->hProcess, INFINITE);
    CloseHandle(pi->hThread);
    CloseHandle(pi->hProcess);
}

/* fl_spawn (out) and fl_spawn_detached (pid_out): the same steps, except that a detached
 * process gets no job of ours (see fl_spawn_detached). */
static int spawn(const fl_spawn_options *o, fl_process **out, int64_t *pid_out,
                 fl_spawn_error *error) {
    int detached = pid_out != NULL;
    if (error != NULL) {
        error->step = FL_STEP_NONE;
        error->err = 0;
    }
    if (out == NULL && pid_out == NULL) return fail(error, FL_STEP_VALIDATE, -EINVAL);
    if (out != NULL) *out = NULL;
    if (o == NULL || o->program == NULL || o->program[0] == 0) {
        return fail(error, FL_STEP_VALIDATE, -EINVAL);
    }
    if (detached && (o->flags & FL_SPAWN_DIE_WITH_PARENT)) {
        return fail(error, FL_STEP_VALIDATE, -EINVAL);
    }
    if (o->flags & (FL_SPAWN_SET_UID | FL_SPAWN_SET_GID | FL_SPAWN_SET_GROUPS |
                    FL_SPAWN_INTO_CGROUP)) {
        return fail(error, FL_STEP_VALIDATE, -ENOSYS);
    }
    if ((o->flags & (FL_SPAWN_NEW_PROCESS_GROUP | FL_SPAWN_NEW_SESSION)) && o->pgid != 0) {
        return fail(error, FL_STEP_VALIDATE, -EINVAL);
    }
    if (o->nfds > 0 && o->fds == NULL) return fail(error, FL_STEP_VALIDATE, -EINVAL);
    for (size_t i = 0; i < o->nfds; i++) {
        if (o->fds[i].child_fd < 0 || !valid_handle(o->fds[i].parent_fd)) {
            return fail(error, FL_STEP_VALIDATE, -EBADF);
        }
        /* This process's overlapped end of fl_fd_pipe_for_child: a child's plain ReadFile or
         * WriteFile on it is undefined, so it is refused rather than handed on. */
        if (fl_pipe_is_async(o->fds[i].parent_fd)) {
            return fail(error, FL_STEP_VALIDATE, -EINVAL);
        }
        for (size_t j = 0; j < i; j++) {
            if (o->fds[j].child_fd == o->fds[i].child_fd) {
                return fail(error, FL_STEP_VALIDATE, -EINVAL);
            }
        }
    }

    spawn_ctx c;
    memset(&c, 0, sizeof c);
    int rc, step = FL_STEP_VALIDATE;
    if ((rc = fl_win_utf16(o->program, &c.program)) < 0) goto out;
    if (o->cwd != NULL) {
        wchar_t *w;
        if ((rc = fl_win_utf16(o->cwd, &w)) < 0) goto out;
        /* Absolute now: relative program paths and PATH entries are joined to it. */
        DWORD n = GetFullPathNameW(w, 0, NULL, NULL);
        c.cwd = n ? malloc(n * sizeof(wchar_t)) : NULL;
        if (c.cwd == NULL || GetFullPathNameW(w, n, c.cwd, NULL) >= n) {
            rc = c.cwd == NULL && n ? -ENOMEM : fl_win_fail(GetLastError());
            free(w);
            step = FL_STEP_CHDIR;
            goto out;
        }
        free(w);
        step = FL_STEP_CHDIR;
        DWORD a = GetFileAttributesW(c.cwd);
        if (a == INVALID_FILE_ATTRIBUTES) {
            rc = fl_win_fail(GetLastError());
            goto out;
        }
        if (!(a & FILE_ATTRIBUTE_DIRECTORY)) {
            rc = -ENOTDIR;
            goto out;
        }
    }

    step = FL_STEP_RESOLVE;
    if ((rc = resolve(&c, o)) < 0) goto out;
    /* A directory given as the program: EACCES as execve says. CreateProcessW's own answer
     * differs between Windows (ERROR_ACCESS_DENIED) and Wine 8 (ERROR_INVALID_HANDLE). */
    DWORD app_attrs = GetFileAttributesW(c.app);
    if (app_attrs != INVALID_FILE_ATTRIBUTES && (app_attrs & FILE_ATTRIBUTE_DIRECTORY)) {
        rc = -EACCES;
        step = FL_STEP_EXEC;
        goto out;
    }

    step = FL_STEP_COMMAND_LINE;
    const char *const default_argv[] = {o->program, NULL};
    const char *const *argv = o->argv != NULL ? o->argv : default_argv;
    if (argv[0] == NULL) {
        rc = -EINVAL;
        step = FL_STEP_VALIDATE;
        goto out;
    }
    if (fl_win_is_batch(c.app)) {
        wchar_t sys[MAX_PATH];
        UINT n = GetSystemDirectoryW(sys, MAX_PATH);
        if (n == 0 || n >= MAX_PATH) {
            rc = fl_win_fail(GetLastError());
            goto out;
        }
        wchar_t *cmd = join(sys, n, L"cmd.exe", NULL);
        if (cmd == NULL) {
            rc = -ENOMEM;
            goto out;
        }
        rc = fl_win_batch_command_line(cmd, c.app, argv, &c.cmdline);
        free(c.app);
        c.app = cmd;
    } else {
        rc = fl_win_command_line(argv, &c.cmdline);
    }
    if (rc < 0) goto out;

    step = FL_STEP_VALIDATE;
    if (o->envp != NULL && (rc = build_env(&c, o->envp)) < 0) goto out;

    step = FL_STEP_JOB;
    c.job = detached ? NULL : CreateJobObjectW(NULL, NULL);
    if (!detached && c.job == NULL) {
        rc = fl_win_fail(GetLastError());
        goto out;
    }
    if (o->flags & FL_SPAWN_DIE_WITH_PARENT) {
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION lim;
        memset(&lim, 0, sizeof lim);
        lim.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
        if (!SetInformationJobObject(c.job, JobObjectExtendedLimitInformation, &lim, sizeof lim)) {
            rc = fl_win_fail(GetLastError());
            goto out;
        }
    }

    step = FL_STEP_DUP2;
    if ((rc = prepare_handles(&c, o)) < 0) goto out;

    LONG strategy;
    int use_job_list, suspended, retried = 0;
    /* A detached process leaves a job this process may be in, where the job allows it. */
    BOOL in_job = FALSE;
    int breakaway = detached && IsProcessInJob(GetCurrentProcess(), NULL, &in_job) && in_job;
again:
    strategy = InterlockedCompareExchange(&job_strategy, 0, 0);
    if (InterlockedCompareExchange(&force_suspended, 0, 0)) strategy = FL_STRATEGY_WIN_SUSPENDED;
    use_job_list = strategy != FL_STRATEGY_WIN_SUSPENDED;
    /* Suspended unless JOB_LIST is known to work: the first spawn probes it. */
    suspended = strategy != FL_STRATEGY_WIN_JOB_LIST;
    if (detached) use_job_list = suspended = 0;

    step = FL_STEP_PREPARE;
    if (c.attrs != NULL) {
        DeleteProcThreadAttributeList(c.attrs);
        free(c.attrs);
        c.attrs = NULL;
    }
    DWORD nattrs = (c.ninherit > 0) + 1;
    SIZE_T size = 0;
    InitializeProcThreadAttributeList(NULL, nattrs, 0, &size);
    c.attrs = malloc(size);
    if (c.attrs == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    if (!InitializeProcThreadAttributeList(c.attrs, nattrs, 0, &size)) {
        rc = fl_win_fail(GetLastError());
        free(c.attrs);
        c.attrs = NULL;
        goto out;
    }
    if (c.ninherit > 0 &&
        !UpdateProcThreadAttribute(c.attrs, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, c.inherit,
                                   c.ninherit * sizeof(HANDLE), NULL, NULL)) {
        rc = fl_win_fail(GetLastError());
        goto out;
    }
    if (use_job_list && !UpdateProcThreadAttribute(c.attrs, 0, PROC_THREAD_ATTRIBUTE_JOB_LIST,
                                                   &c.job, sizeof(HANDLE), NULL, NULL)) {
        /* Before Windows 10 1607 the attribute is unknown (ERROR_NOT_SUPPORTED). */
        use_job_list = 0;
        suspended = 1;
        InterlockedExchange(&job_strategy, FL_STRATEGY_WIN_SUSPENDED);
    }

    STARTUPINFOEXW si;
    memset(&si, 0, sizeof si);
    si.StartupInfo.cb = sizeof si;
    si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
    si.StartupInfo.hStdInput = c.std_dup[0];
    si.StartupInfo.hStdOutput = c.std_dup[1];
    si.StartupInfo.hStdError = c.std_dup[2];
    si.lpAttributeList = c.attrs;
    DWORD cflags = CREATE_UNICODE_ENVIRONMENT | EXTENDED_STARTUPINFO_PRESENT;
    if (suspended) cflags |= CREATE_SUSPENDED;
    if (o->flags & (FL_SPAWN_NEW_PROCESS_GROUP | FL_SPAWN_NEW_SESSION)) {
        cflags |= CREATE_NEW_PROCESS_GROUP;
    }
    if (detached) {
        /* No console (the controlling terminal's analogue) and a group of its own. */
        cflags |= DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP;
        if (breakaway) cflags |= CREATE_BREAKAWAY_FROM_JOB;
    }

    step = FL_STEP_EXEC;
    PROCESS_INFORMATION pi;
    memset(&pi, 0, sizeof pi);
    if (!CreateProcessW(c.app, c.cmdline, NULL, NULL, c.ninherit > 0, cflags, c.env, c.cwd,
                        &si.StartupInfo, &pi)) {
        DWORD e = GetLastError();
        if (breakaway && e == ERROR_ACCESS_DENIED) {
            /* Our job does not allow breakaway: the process stays in it (and dies with it if it
             * kills on close), as a Linux daemon stays in its cgroup. */
            breakaway = 0;
            goto again;
        }
        if (use_job_list && strategy == 0 && !retried &&
            (e == ERROR_INVALID_PARAMETER || e == ERROR_NOT_SUPPORTED)) {
            /* The probe itself was refused: a system that knows the attribute's number but
             * not its use. Once more the old way; a real parameter error fails again there. */
            retried = 1;
            InterlockedExchange(&job_strategy, FL_STRATEGY_WIN_SUSPENDED);
            goto again;
        }
        rc = fl_win_fail(e);
        if (e == ERROR_DIRECTORY) step = FL_STEP_CHDIR;
        goto out;
    }

    if (suspended) {
        step = FL_STEP_JOB;
        BOOL in = FALSE;
        if (use_job_list && IsProcessInJob(pi.hProcess, c.job, &in) && in) {
            InterlockedCompareExchange(&job_strategy, FL_STRATEGY_WIN_JOB_LIST, 0);
        } else {
            if (use_job_list) InterlockedExchange(&job_strategy, FL_STRATEGY_WIN_SUSPENDED);
            if (!AssignProcessToJobObject(c.job, pi.hProcess)) {
                rc = fl_win_fail(GetLastError());
                abandon(&pi);
                goto out;
            }
        }
        if (ResumeThread(pi.hThread) == (DWORD)-1) {
            rc = fl_win_fail(GetLastError());
            step = FL_STEP_FORK;
            abandon(&pi);
            goto out;
        }
    }
    CloseHandle(pi.hThread);
    if (detached) {
        CloseHandle(pi.hProcess);
        *pid_out = pi.dwProcessId;
        rc = 0;
        step = FL_STEP_NONE;
        goto out;
    }

    fl_process *p = fl_process_new_win(pi.dwProcessId, pi.hProcess, c.job, o->flags);
    if (p == NULL) {
        TerminateJobObject(c.job, 1);
        WaitForSingleObject(pi.hProcess, INFINITE);
        CloseHandle(pi.hProcess);
        rc = -ENOMEM;
        step = FL_STEP_PREPARE;
        goto out;
    }
    c.job = NULL; /* owned by p now */
    *out = p;
    rc = 0;
    step = FL_STEP_NONE;
out:
    cleanup(&c);
    if (rc < 0) return fail(error, step, rc);
    return 0;
}

int fl_spawn(const fl_spawn_options *o, fl_process **out, fl_spawn_error *error) {
    if (out == NULL) return fail(error, FL_STEP_VALIDATE, -EINVAL);
    return spawn(o, out, NULL, error);
}

/* The Windows form of the daemonize pattern: no job of ours, so nothing here can kill it or its
 * tree (FL_SPAWN_DIE_WITH_PARENT is EINVAL); DETACHED_PROCESS, so it has no console to receive
 * this console's CTRL+C or close events; a process group of its own; out of the job this process
 * runs in, if any and if that job allows breakaway. Its handles are closed at once: the PID is for
 * information only, as on Linux. */
int fl_spawn_detached(const fl_spawn_options *o, int64_t *pid_out, fl_spawn_error *error) {
    if (pid_out == NULL) return fail(error, FL_STEP_VALIDATE, -EINVAL);
    *pid_out = 0;
    return spawn(o, NULL, pid_out, error);
}
