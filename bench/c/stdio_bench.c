/*
 * stdio_bench — the C limit under Forkless's output(): collect everything a child writes to its
 * stdout, through our core, with no JVM in between.
 *
 * What one run does. Starts `head -c BYTES /dev/zero` with fl_spawn (stdin /dev/null, stdout and
 * stderr each a pipe from fl_fd_pipe, as Command.output() sets them up), closes the child's ends,
 * then calls fl_communicate until both pipes reach end-of-file: the core reads straight into the
 * caller's buffer, and on FL_IO_FULL the buffer is grown (doubled with realloc) and the call
 * repeated. Then fl_process_wait, checks exit 0 and the byte count, and closes everything. The
 * time of that whole run is one sample.
 *
 * Methods (how the stdout buffer is managed; everything else is the same):
 *   communicate        a fresh buffer per run: malloc(64 KiB), doubled with realloc on FL_IO_FULL,
 *                      freed after the run. What a C program collecting a child's output does. A
 *                      buffer this large is mmap'ed by glibc, so its pages are new on every run
 *                      and the kernel faults each one in (zeroed) while copying into it; realloc
 *                      of an mmap'ed block is mremap, so growing copies nothing.
 *   communicate-reuse  one buffer kept across runs (grown the same way the first time, then big
 *                      enough): no growth and no page faults in the measured runs: the pipe's own
 *                      throughput through the core, straight into the final buffer.
 *   communicate-scratch  what Forkless's Java side does, minus the JVM: fl_communicate reads into
 *                      a 256 KiB scratch buffer, which is copied (memcpy) into the kept buffer of
 *                      communicate-reuse each time it comes back full or at the end. One more copy
 *                      than communicate-reuse, but the kernel writes into a small, cache-resident
 *                      buffer.
 * stderr is collected into a 4 KiB buffer that is recycled when full (head writes nothing there).
 *
 * Sizes and methods take turns in rounds (one run of each per round, rotating order), so a burst
 * of outside load lands on all of them; --warmup rounds come first and are not recorded.
 *
 *   stdio_bench [--bytes 1073741824,1048576000] [--methods communicate,communicate-reuse,...]
 *               [--rounds 10] [--warmup 1] [--program head] [--json out.json] [--label TEXT]
 *
 * Output: a table on stdout (ms per run and GiB/s); with --json every run's time in ms.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench_util.h"
#include "forkless.h"

#define MAX_SIZES 8
#define INITIAL_CAP ((size_t)64 << 10)

const char *bench_name = "stdio_bench";
static const char *program = "head";
static fl_fd devnull = -1;

/* The reused buffer of communicate-reuse and communicate-scratch. */
static void *kept_buf;
static size_t kept_cap;

#define SCRATCH ((size_t)256 << 10)

enum { FRESH = 0, REUSE = 1, SCRATCHED = 2 };

/* Appends n bytes to the kept buffer at *len, growing it (doubling) if needed. */
static void kept_append(size_t *len, const void *src, size_t n) {
    if (*len + n > kept_cap) {
        size_t ncap = kept_cap ? kept_cap : INITIAL_CAP;
        while (ncap < *len + n) ncap *= 2;
        void *nb = realloc(kept_buf, ncap);
        if (nb == NULL) bench_die("realloc", ENOMEM);
        kept_buf = nb;
        kept_cap = ncap;
    }
    memcpy((char *)kept_buf + *len, src, n);
    *len += n;
}

/* One run: spawn, collect, wait, check. Returns the bytes collected. */
static size_t run_once(uint64_t bytes, int mode, int64_t *cpu_us) {
    int reuse = mode == REUSE;
    static char *scratch;
    size_t kept_len = 0;
    char count[32];
    snprintf(count, sizeof count, "%llu", (unsigned long long)bytes);
    const char *argv[] = {program, "-c", count, "/dev/zero", NULL};

    fl_fd outp[2], errp[2];
    int rc = fl_fd_pipe(outp);
    if (rc < 0) bench_die("fl_fd_pipe", -rc);
    rc = fl_fd_pipe(errp);
    if (rc < 0) bench_die("fl_fd_pipe", -rc);
    fl_fd_map map[3] = {{0, devnull}, {1, outp[1]}, {2, errp[1]}};
    fl_spawn_options o = {0};
    o.program = program;
    o.argv = argv;
    o.fds = map;
    o.nfds = 3;
    fl_process *p = NULL;
    fl_spawn_error e = {0};
    rc = fl_spawn(&o, &p, &e);
    if (rc < 0) {
        fprintf(stderr, "stdio_bench: fl_spawn %s: step %s: %s\n", program, fl_step_name(e.step),
                strerror(-rc));
        exit(2);
    }
    fl_fd_close(outp[1]);
    fl_fd_close(errp[1]);

    void *buf;
    size_t cap;
    if (mode == SCRATCHED) {
        if (scratch == NULL && (scratch = malloc(SCRATCH)) == NULL) bench_die("malloc", ENOMEM);
        buf = scratch;
        cap = SCRATCH;
    } else if (reuse && kept_buf != NULL) {
        buf = kept_buf;
        cap = kept_cap;
    } else {
        cap = INITIAL_CAP;
        buf = malloc(cap);
        if (buf == NULL) bench_die("malloc", ENOMEM);
    }
    char errbuf[4096];
    fl_io out = {.fd = outp[0], .buf = buf, .len = cap};
    fl_io err = {.fd = errp[0], .buf = errbuf, .len = sizeof errbuf};
    while (!(out.done && err.done)) {
        rc = fl_communicate(NULL, &out, &err, -1, -1);
        if (rc == -EINTR) continue;
        if (rc < 0) bench_die("fl_communicate", -rc);
        if (mode == SCRATCHED) {
            if (out.pos == out.len || (out.done && out.pos > 0)) {
                kept_append(&kept_len, out.buf, out.pos);
                out.pos = 0;
            }
        } else if (!out.done && out.pos == out.len) {
            size_t ncap = out.len * 2;
            void *nb = realloc(out.buf, ncap);
            if (nb == NULL) bench_die("realloc", ENOMEM);
            out.buf = nb;
            out.len = ncap;
        }
        if (!err.done && err.pos == err.len) err.pos = 0; /* keep nothing of stderr */
    }
    if (out.err) bench_die("read stdout", out.err);
    if (err.err) bench_die("read stderr", err.err);
    if (mode == SCRATCHED && out.pos > 0) { /* the rest, if the loop ended with both done */
        kept_append(&kept_len, out.buf, out.pos);
        out.pos = 0;
    }
    size_t got = mode == SCRATCHED ? kept_len : out.pos;

    fl_exit_status st;
    rc = fl_process_wait(p, -1, &st);
    if (rc != 1) bench_die("fl_process_wait", rc < 0 ? -rc : EINVAL);
    if (st.kind != FL_EXITED || st.code != 0) {
        fprintf(stderr, "stdio_bench: child: kind %d code %d\n", st.kind, st.code);
        exit(2);
    }
    *cpu_us = st.user_usec + st.system_usec;
    fl_process_close(p);
    fl_fd_close(outp[0]);
    fl_fd_close(errp[0]);

    if (got != bytes) {
        fprintf(stderr, "stdio_bench: collected %zu bytes, expected %llu\n", got,
                (unsigned long long)bytes);
        exit(2);
    }
    /* touch the result a little, as a caller would */
    const unsigned char *b = mode == SCRATCHED ? kept_buf : out.buf;
    if (got > 0 && (b[0] != 0 || b[got / 2] != 0 || b[got - 1] != 0)) {
        fprintf(stderr, "stdio_bench: unexpected bytes\n");
        exit(2);
    }
    if (reuse) {
        kept_buf = out.buf;
        kept_cap = out.len;
    } else if (mode == FRESH) {
        free(out.buf);
    }
    return got;
}

struct method {
    const char *name;
    int mode;
    int enabled;
};

static struct method methods[] = {
    {"communicate", FRESH, 0},
    {"communicate-reuse", REUSE, 0},
    {"communicate-scratch", SCRATCHED, 0},
};
#define NMETHODS ((int)(sizeof methods / sizeof methods[0]))

static double self_cpu_ms(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static void usage(void) {
    fprintf(stderr,
            "usage: stdio_bench [--bytes N[,N...]] [--methods communicate,communicate-reuse,communicate-scratch]\n"
            "                   [--rounds R] [--warmup W] [--program PATH] [--json FILE] [--label TEXT]\n"
            "  --bytes    sizes to collect (default 1073741824,1048576000)\n"
            "  --rounds   measured runs per method and size (default 10)\n"
            "  --warmup   unrecorded rounds first (default 1)\n");
    exit(2);
}

int main(int argc, char **argv) {
    int rounds = 10, warmup = 1;
    const char *json = NULL, *label = "";
    char bytes_arg[256] = "1073741824,1048576000";
    char methods_arg[256] = "communicate,communicate-reuse,communicate-scratch";
    static const struct option opts[] = {
        {"bytes", required_argument, NULL, 'b'},   {"methods", required_argument, NULL, 'm'},
        {"rounds", required_argument, NULL, 'r'},  {"warmup", required_argument, NULL, 'w'},
        {"program", required_argument, NULL, 'p'}, {"json", required_argument, NULL, 'j'},
        {"label", required_argument, NULL, 'l'},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'b': snprintf(bytes_arg, sizeof bytes_arg, "%s", optarg); break;
        case 'm': snprintf(methods_arg, sizeof methods_arg, "%s", optarg); break;
        case 'r': rounds = atoi(optarg); break;
        case 'w': warmup = atoi(optarg); break;
        case 'p': program = optarg; break;
        case 'j': json = optarg; break;
        case 'l': label = optarg; break;
        default: usage();
        }
    }
    if (optind != argc || rounds < 1 || warmup < 0) usage();

    uint64_t sizes[MAX_SIZES];
    int nsizes = 0;
    for (char *save = NULL, *tok = strtok_r(bytes_arg, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        if (nsizes == MAX_SIZES) usage();
        sizes[nsizes++] = strtoull(tok, NULL, 10);
    }
    bench_enable(methods_arg, methods, NMETHODS, sizeof methods[0], offsetof(struct method, enabled), usage);
    if (nsizes == 0) usage();

    int rc = fl_fd_open("/dev/null", FL_OPEN_READ, 0, &devnull);
    if (rc < 0) bench_die("open /dev/null", -rc);

    /* ms[method][size][round], and the child's CPU time and ours per run */
    double *ms = calloc((size_t)NMETHODS * nsizes * rounds, sizeof *ms);
    double *child_cpu = calloc((size_t)NMETHODS * nsizes * rounds, sizeof *ms);
    double *self_cpu = calloc((size_t)NMETHODS * nsizes * rounds, sizeof *ms);
    if (ms == NULL || child_cpu == NULL || self_cpu == NULL) bench_die("calloc", ENOMEM);
#define AT(a, m, s, r) (a)[((size_t)(m) * nsizes + (s)) * rounds + (r)]

    for (int r = -warmup; r < rounds; r++) {
        for (int j = 0; j < NMETHODS; j++) {
            int m = (j + (r < 0 ? 0 : r)) % NMETHODS;
            if (!methods[m].enabled) continue;
            for (int s = 0; s < nsizes; s++) {
                int64_t cpu_us = 0;
                double c0 = self_cpu_ms();
                int64_t t0 = bench_now_ns();
                run_once(sizes[s], methods[m].mode, &cpu_us);
                double t = (bench_now_ns() - t0) / 1e6;
                if (r >= 0) {
                    AT(ms, m, s, r) = t;
                    AT(child_cpu, m, s, r) = cpu_us / 1e3;
                    AT(self_cpu, m, s, r) = self_cpu_ms() - c0;
                }
            }
        }
    }

    struct utsname un;
    uname(&un);
    printf("stdio_bench %s: %s -c BYTES /dev/zero, stdout collected through fl_communicate, "
           "%d rounds after %d warm-up, forkless strategy %s, kernel %s\n",
           label, program, rounds, warmup, fl_spawn_strategy_name(fl_spawn_strategy_current()),
           un.release);
    printf("%-20s %11s %9s %9s %9s %9s %8s %11s %11s\n", "method", "bytes", "p10 ms", "p50 ms",
           "p90 ms", "min ms", "GiB/s", "our CPU ms", "child CPU");
    double *tmp = malloc(sizeof *tmp * (size_t)rounds);
    for (int m = 0; m < NMETHODS; m++) {
        if (!methods[m].enabled) continue;
        for (int s = 0; s < nsizes; s++) {
            memcpy(tmp, &AT(ms, m, s, 0), sizeof *tmp * (size_t)rounds);
            bench_sort(tmp, rounds);
            double p50 = bench_pct(tmp, rounds, 50);
            double sc = 0, cc = 0;
            for (int r = 0; r < rounds; r++) {
                sc += AT(self_cpu, m, s, r);
                cc += AT(child_cpu, m, s, r);
            }
            printf("%-20s %11llu %9.1f %9.1f %9.1f %9.1f %8.2f %11.1f %11.1f\n", methods[m].name,
                   (unsigned long long)sizes[s], bench_pct(tmp, rounds, 10), p50, bench_pct(tmp, rounds, 90),
                   tmp[0], sizes[s] / 1073741824.0 / (p50 / 1e3), sc / rounds, cc / rounds);
        }
    }

    if (json != NULL) {
        FILE *f = bench_fopen(json);
        fprintf(f, "{\"harness\":\"stdio_bench\",\"label\":\"%s\",\"program\":\"%s\",\"kernel\":\"%s\","
                   "\"forkless_strategy\":\"%s\",\"rounds\":%d,\"warmup\":%d,\"unit\":\"ms\",\"methods\":{",
                label, program, un.release, fl_spawn_strategy_name(fl_spawn_strategy_current()),
                rounds, warmup);
        int first = 1;
        for (int m = 0; m < NMETHODS; m++) {
            if (!methods[m].enabled) continue;
            fprintf(f, "%s\"%s\":{", first ? "" : ",", methods[m].name);
            first = 0;
            for (int s = 0; s < nsizes; s++) {
                fprintf(f, "%s\"%llu\":{\"ms\":", s ? "," : "", (unsigned long long)sizes[s]);
                bench_json_list(f, &AT(ms, m, s, 0), rounds, "%.3f", ",");
                fprintf(f, ",\"self_cpu_ms\":");
                bench_json_list(f, &AT(self_cpu, m, s, 0), rounds, "%.1f", ",");
                fprintf(f, ",\"child_cpu_ms\":");
                bench_json_list(f, &AT(child_cpu, m, s, 0), rounds, "%.1f", ",");
                fprintf(f, "}");
            }
            fprintf(f, "}");
        }
        fprintf(f, "}}\n");
        fclose(f);
    }
    return 0;
}
