/*
 * spawn_bench — the cost of one spawn+wait of a trivial program, from C.
 *
 * What it measures. Each call starts the program (default /bin/true) with stdin, stdout and stderr
 * on /dev/null and waits for it to exit; the time of that whole round trip is one sample. Methods:
 *   forkless     fl_spawn + fl_process_wait + fl_process_close (our core: clone3 with vfork
 *                semantics and a pidfd); the limit a JVM caller of Forkless can approach
 *   fork         fork + dup2 + execve, waitpid          (copies page tables: grows with memory)
 *   vfork        vfork + dup2 + execve, waitpid         (shares memory, like ours; no pidfd)
 *   posix_spawn  glibc posix_spawn with dup2 file actions, waitpid (glibc uses CLONE_VM|CLONE_VFORK)
 * /dev/null is opened once, before the loop, for every method alike.
 *
 * Why rounds. The machine this runs on is shared and has 2 cores, so load changes over time. The
 * methods take turns in rounds (each round runs iters/rounds calls of every method, in a rotating
 * order), so a burst of outside load lands on all methods rather than on one. Each round's median
 * is kept too, so ratios can be given with an interval (bench/summarize.py).
 *
 * --touch-gib N first allocates N GiB and writes one byte per page, so this process has N GiB of
 * resident, private memory: what a JVM with -Xms4g -XX:+AlwaysPreTouch has. fork must copy its
 * page tables on every call; the vfork-style methods should not care.
 *
 * Output: a table on stdout, and with --json FILE every method's percentiles and per-round medians.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "forkless.h"

extern char **environ;

const char *bench_name = "spawn_bench";
static const char *program = "/bin/true";
static int devnull = -1;
/* forkless only: how long fl_spawn itself took in the current call (the rest is wait + close) */
static int64_t last_spawn_ns;

static int check_status(int status) {
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "spawn_bench: child did not exit 0 (status 0x%x)\n", status);
        exit(2);
    }
    return 0;
}

static void wait_pid(pid_t pid) {
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) bench_die("waitpid", errno);
    }
    check_status(status);
}

/* ---- the methods ---------------------------------------------------------------------------- */

static void run_forkless(void) {
    static const fl_fd_map fds[3] = {{0, 0}, {1, 0}, {2, 0}};
    fl_fd_map map[3];
    for (int i = 0; i < 3; i++) {
        map[i] = fds[i];
        map[i].parent_fd = devnull;
    }
    const char *argv[] = {program, NULL};
    fl_spawn_options o = {0};
    o.program = program;
    o.argv = argv;
    o.fds = map;
    o.nfds = 3;
    fl_process *p = NULL;
    fl_spawn_error e = {0};
    int64_t t0 = bench_now_ns();
    int rc = fl_spawn(&o, &p, &e);
    last_spawn_ns = bench_now_ns() - t0;
    if (rc < 0) {
        fprintf(stderr, "spawn_bench: fl_spawn: step %s: %s\n", fl_step_name(e.step), strerror(-rc));
        exit(2);
    }
    fl_exit_status st;
    rc = fl_process_wait(p, -1, &st);
    if (rc != 1) bench_die("fl_process_wait", -rc);
    if (st.kind != FL_EXITED || st.code != 0) {
        fprintf(stderr, "spawn_bench: forkless child: kind %d code %d\n", st.kind, st.code);
        exit(2);
    }
    fl_process_close(p);
}

/* In the forked/vforked child: only async-signal-safe calls, then _exit on failure. */
static void child_exec(void) {
    dup2(devnull, 0);
    dup2(devnull, 1);
    dup2(devnull, 2);
    char *argv[] = {(char *)program, NULL};
    execve(program, argv, environ);
    _exit(127);
}

static void run_fork(void) {
    pid_t pid = fork();
    if (pid < 0) bench_die("fork", errno);
    if (pid == 0) child_exec();
    wait_pid(pid);
}

static void run_vfork(void) {
    pid_t pid = vfork();
    if (pid < 0) bench_die("vfork", errno);
    if (pid == 0) child_exec();
    wait_pid(pid);
}

static void run_posix_spawn(void) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, devnull, 0);
    posix_spawn_file_actions_adddup2(&fa, devnull, 1);
    posix_spawn_file_actions_adddup2(&fa, devnull, 2);
    char *argv[] = {(char *)program, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, program, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) bench_die("posix_spawn", rc);
    wait_pid(pid);
}

struct method {
    const char *name;
    void (*run)(void);
    int enabled;
    int iters;       /* measured calls in total */
    double *ns;      /* iters samples, ns */
    double *spawn_ns; /* forkless only: the fl_spawn part of each sample, ns */
    int n;
    double *round_p50;
    int nrounds;
};

static struct method methods[] = {
    {"forkless", run_forkless, 0, 0, NULL, NULL, 0, NULL, 0},
    {"fork", run_fork, 0, 0, NULL, NULL, 0, NULL, 0},
    {"vfork", run_vfork, 0, 0, NULL, NULL, 0, NULL, 0},
    {"posix_spawn", run_posix_spawn, 0, 0, NULL, NULL, 0, NULL, 0},
};
#define NMETHODS ((int)(sizeof methods / sizeof methods[0]))

/* ---- statistics ----------------------------------------------------------------------------- */

/* Percentile q (0..100) of sorted ns samples v[0..n), in µs. (The samples are whole nanoseconds,
 * exact in a double.) */
static double pct_us(const double *v, int n, double q) { return bench_pct(v, n, q) / 1000.0; }

static double median_us(const double *v, int n) {
    double *tmp = malloc(sizeof *tmp * (size_t)n);
    if (tmp == NULL) bench_die("malloc", ENOMEM);
    memcpy(tmp, v, sizeof *tmp * (size_t)n);
    bench_sort(tmp, n);
    double m = pct_us(tmp, n, 50);
    free(tmp);
    return m;
}

/* ---- memory --------------------------------------------------------------------------------- */

static void touch_memory(double gib) {
    if (gib <= 0) return;
    size_t len = (size_t)(gib * 1024.0 * 1024.0 * 1024.0);
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) bench_die("mmap (touch)", errno);
    /* One write per 4 KiB page; no transparent huge pages, like a JVM heap by default
     * (-XX:-UseTransparentHugePages), so the page tables really have one entry per page. */
    madvise(m, len, MADV_NOHUGEPAGE);
    long page = sysconf(_SC_PAGESIZE);
    for (size_t off = 0; off < len; off += (size_t)page) m[off] = 1;
    /* kept mapped until exit on purpose */
}

static long rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib;
}

/* ---- main ----------------------------------------------------------------------------------- */

static void usage(void) {
    fprintf(stderr,
            "usage: spawn_bench [--iters N] [--warmup N] [--rounds R] [--touch-gib G]\n"
            "                   [--methods forkless,fork,vfork,posix_spawn] [--fork-iters N]\n"
            "                   [--program PATH] [--json FILE] [--label TEXT]\n"
            "  --iters N       measured calls per method (default 2000)\n"
            "  --warmup N      unmeasured calls per method first (default 200)\n"
            "  --rounds R      methods take turns in R rounds (default 20)\n"
            "  --touch-gib G   allocate and touch G GiB first (default 0)\n"
            "  --fork-iters N  measured calls for 'fork' only (default: --iters; with --touch-gib\n"
            "                  a fork costs ~30 ms per GiB, so use e.g. 40)\n");
    exit(2);
}

int main(int argc, char **argv) {
    int iters = 2000, warmup = 200, rounds = 20, fork_iters = -1;
    double touch_gib = 0;
    const char *json = NULL, *label = "";
    char methods_arg[256] = "forkless,fork,vfork,posix_spawn";

    static const struct option opts[] = {
        {"iters", required_argument, NULL, 'n'},   {"warmup", required_argument, NULL, 'w'},
        {"rounds", required_argument, NULL, 'r'},  {"touch-gib", required_argument, NULL, 't'},
        {"methods", required_argument, NULL, 'm'}, {"fork-iters", required_argument, NULL, 'f'},
        {"program", required_argument, NULL, 'p'}, {"json", required_argument, NULL, 'j'},
        {"label", required_argument, NULL, 'l'},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'n': iters = atoi(optarg); break;
        case 'w': warmup = atoi(optarg); break;
        case 'r': rounds = atoi(optarg); break;
        case 't': touch_gib = atof(optarg); break;
        case 'm': snprintf(methods_arg, sizeof methods_arg, "%s", optarg); break;
        case 'f': fork_iters = atoi(optarg); break;
        case 'p': program = optarg; break;
        case 'j': json = optarg; break;
        case 'l': label = optarg; break;
        default: usage();
        }
    }
    if (optind != argc || iters < 1 || rounds < 1 || warmup < 0) usage();
    if (fork_iters < 0) fork_iters = iters;

    bench_enable(methods_arg, methods, NMETHODS, sizeof methods[0], offsetof(struct method, enabled), usage);

    devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) bench_die("open /dev/null", errno);

    touch_memory(touch_gib);

    for (int i = 0; i < NMETHODS; i++) {
        struct method *m = &methods[i];
        if (!m->enabled) continue;
        m->iters = strcmp(m->name, "fork") == 0 ? fork_iters : iters;
        m->nrounds = rounds < m->iters ? rounds : m->iters;
        m->ns = calloc((size_t)m->iters, sizeof *m->ns);
        m->spawn_ns = calloc((size_t)m->iters, sizeof *m->spawn_ns);
        m->round_p50 = calloc((size_t)m->nrounds, sizeof *m->round_p50);
        if (m->ns == NULL || m->spawn_ns == NULL || m->round_p50 == NULL) bench_die("calloc", ENOMEM);
        /* fork with a big touched heap is slow: warm it up a little only */
        int w = m->iters < iters ? (warmup < 5 ? warmup : 5) : warmup;
        for (int k = 0; k < w; k++) m->run();
    }

    /* Rounds: every enabled method runs its share, in an order that rotates each round. */
    for (int r = 0; r < rounds; r++) {
        for (int j = 0; j < NMETHODS; j++) {
            struct method *m = &methods[(j + r) % NMETHODS];
            if (!m->enabled || r >= m->nrounds) continue;
            int from = (int)((int64_t)m->iters * r / m->nrounds);
            int to = (int)((int64_t)m->iters * (r + 1) / m->nrounds);
            for (int k = from; k < to; k++) {
                int64_t t0 = bench_now_ns();
                m->run();
                m->ns[k] = (double)(bench_now_ns() - t0);
                m->spawn_ns[k] = (double)last_spawn_ns;
            }
            m->round_p50[r] = median_us(m->ns + from, to - from);
            m->n = to;
        }
    }

    struct utsname un;
    uname(&un);
    printf("spawn_bench %s: program %s, touched %.2f GiB (VmRSS %ld KiB), forkless strategy %s, "
           "kernel %s\n",
           label, program, touch_gib, rss_kib(),
           fl_spawn_strategy_name(fl_spawn_strategy_current()), un.release);
    printf("%-12s %7s %10s %10s %10s %10s %10s   (µs per spawn+wait)\n", "method", "n", "p10",
           "p25", "p50", "p75", "p90");
    double spawn_p50 = -1;
    if (methods[0].enabled) {
        /* the spawn part alone: fl_spawn returns once the child has called execve */
        struct method *m = &methods[0];
        bench_sort(m->spawn_ns, m->n);
        spawn_p50 = pct_us(m->spawn_ns, m->n, 50);
    }
    for (int i = 0; i < NMETHODS; i++) {
        struct method *m = &methods[i];
        if (!m->enabled) continue;
        bench_sort(m->ns, m->n);
        printf("%-12s %7d %10.1f %10.1f %10.1f %10.1f %10.1f\n", m->name, m->n,
               pct_us(m->ns, m->n, 10), pct_us(m->ns, m->n, 25), pct_us(m->ns, m->n, 50),
               pct_us(m->ns, m->n, 75), pct_us(m->ns, m->n, 90));
    }

    if (spawn_p50 >= 0) {
        printf("forkless: fl_spawn alone p50 %.1f µs (returns when the child has exec'd); "
               "the rest is the child running and fl_process_wait + close\n", spawn_p50);
    }

    if (json != NULL) {
        FILE *f = bench_fopen(json);
        fprintf(f, "{\n  \"label\": \"%s\",\n  \"program\": \"%s\",\n  \"touch_gib\": %.3f,\n"
                   "  \"vmrss_kib\": %ld,\n  \"kernel\": \"%s\",\n  \"forkless_strategy\": \"%s\",\n"
                   "  \"unit\": \"us\",\n  \"forkless_spawn_only_p50\": %.2f,\n  \"methods\": {",
                label, program, touch_gib, rss_kib(), un.release,
                fl_spawn_strategy_name(fl_spawn_strategy_current()), spawn_p50);
        int first = 1;
        for (int i = 0; i < NMETHODS; i++) {
            struct method *m = &methods[i];
            if (!m->enabled) continue;
            fprintf(f, "%s\n    \"%s\": {\"n\": %d, \"p10\": %.2f, \"p25\": %.2f, \"p50\": %.2f, "
                       "\"p75\": %.2f, \"p90\": %.2f, \"min\": %.2f, \"max\": %.2f,\n"
                       "      \"round_p50\": ",
                    first ? "" : ",", m->name, m->n, pct_us(m->ns, m->n, 10),
                    pct_us(m->ns, m->n, 25), pct_us(m->ns, m->n, 50), pct_us(m->ns, m->n, 75),
                    pct_us(m->ns, m->n, 90), pct_us(m->ns, m->n, 0), pct_us(m->ns, m->n, 100));
            bench_json_list(f, m->round_p50, m->nrounds, "%.2f", ", ");
            fprintf(f, "}");
            first = 0;
        }
        fprintf(f, "\n  }\n}\n");
        fclose(f);
    }
    return 0;
}
