/*
 * Helpers shared by the C benchmark harnesses (spawn_bench, stdio_bench): the clock, fatal
 * errors, percentiles, the --methods list and JSON number lists.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The harness's name, first word of every error message. */
extern const char *bench_name;

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t bench_now_ns(void);

/* "NAME: what: strerror(err)" on stderr, then exit(2). */
void bench_die(const char *what, int err);

/* Sorts v[0..n) ascending. */
void bench_sort(double *v, int n);

/* Percentile q (0..100) of sorted v[0..n), linear interpolation between closest ranks; 0 if n == 0. */
double bench_pct(const double *sorted, int n, double q);

/* Enables the methods named in list (comma-separated; strtok_r cuts it up). The methods are an
 * array of n structs of `size` bytes, each beginning with its name (const char *) and holding an
 * int flag at byte offset `enabled_at`, set to 1. An unknown name is reported, then usage(). */
void bench_enable(char *list, void *methods, int n, size_t size, size_t enabled_at, void (*usage)(void));

/* Opens path for writing, or dies. */
FILE *bench_fopen(const char *path);

/* Writes "[v0<sep>v1...]" to f, each value in fmt (a double conversion, e.g. "%.2f"). */
void bench_json_list(FILE *f, const double *v, int n, const char *fmt, const char *sep);

#endif
