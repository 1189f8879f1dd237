#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "bench_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void bench_die(const char *what, int err) {
    fprintf(stderr, "%s: %s: %s\n", bench_name, what, strerror(err));
    exit(2);
}

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void bench_sort(double *v, int n) { qsort(v, (size_t)n, sizeof *v, cmp_dbl); }

double bench_pct(const double *sorted, int n, double q) {
    if (n == 0) return 0;
    double pos = q / 100.0 * (n - 1);
    int lo = (int)pos;
    int hi = lo + 1 < n ? lo + 1 : lo;
    return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

void bench_enable(char *list, void *methods, int n, size_t size, size_t enabled_at, void (*usage)(void)) {
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        int found = 0;
        for (int i = 0; i < n; i++) {
            char *m = (char *)methods + (size_t)i * size;
            if (strcmp(*(const char **)m, tok) == 0) *(int *)(m + enabled_at) = found = 1;
        }
        if (!found) {
            fprintf(stderr, "%s: unknown method '%s'\n", bench_name, tok);
            usage();
        }
    }
}

FILE *bench_fopen(const char *path) {
    FILE *f = fopen(path, "w");
    if (f == NULL) bench_die(path, errno);
    return f;
}

void bench_json_list(FILE *f, const double *v, int n, const char *fmt, const char *sep) {
    fputc('[', f);
    for (int i = 0; i < n; i++) {
        if (i) fputs(sep, f);
        fprintf(f, fmt, v[i]);
    }
    fputc(']', f);
}
