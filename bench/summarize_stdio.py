#!/usr/bin/env python3
"""Turns the raw results of bench/run-stdio.sh into the tables for docs/benchmarks.md (issue 4).

Inputs (in the results directory, all optional):
  stdio-c.json           bench/c/stdio_bench --json: ms per run, per method and size
  stdio-output.json      JMH -rf json of StdioBenchmark (SingleShotTime, ms)
  stdio-concurrent.json  ConcurrentOutput, one object per fresh JVM (library, repetition)
  stdio-pipeline.json    JMH -rf json of PipelineBenchmark (SingleShotTime, ms)
  stdio-machine.txt      printed at the end

Every sample is one whole run (one child, one pipeline, or one batch of 500 children), so the
blocks of the bootstrap are single runs: a ratio is median / median, its 95% interval comes from
resampling each side's runs with replacement (4000 resamples, fixed seed), as benchstats.ratio().
Speed ratios are time ratios turned over: "Forkless / ProcessBuilder 1.20x" means Forkless takes
1/1.20 of ProcessBuilder's time (higher = Forkless faster).

Usage: summarize_stdio.py RESULTS_DIR [--out FILE]
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchstats import load, main, mid_range, ratio, sample_dist as dist  # noqa: E402

GIB = 1024 ** 3
C_METHODS = ("communicate", "communicate-reuse", "communicate-scratch")
TARGET_VS_C = 0.9
LABEL = {
    "forklessOutput": "Forkless `output()`",
    "processBuilderReadAllBytes": "ProcessBuilder `readAllBytes()`",
    "communicate": "C, core, fresh buffer (`malloc` + `realloc`)",
    "communicate-reuse": "C, core, one buffer reused (no growth, no page faults)",
    "communicate-scratch": "C, core, 256 KiB scratch + `memcpy` into a reused buffer (Forkless's pattern)",
    "forklessPipeline": "Forkless `Pipeline`",
    "jdkStartPipeline": "JDK `ProcessBuilder.startPipeline`",
    "shellPipeline": "`sh -c 'head … \\| cat \\| wc -c'`",
    "forkless": "Forkless `outputAsync()`",
    "processBuilder": "ProcessBuilder + a reader thread each",
    "nuprocess": "NuProcess 3.0.0",
}


def fmt_x(r, lo, hi):
    if r != r:
        return "—"
    if lo != lo:
        return "%.2f×" % r
    return "**%.2f×** (%.2f–%.2f×)" % (r, lo, hi)


def speed(a, b, rng):
    """How many times faster a is than b: p50(b)/p50(a), with its interval."""
    return ratio(b, a, rng)


def verdict(lo, hi, line):
    if lo != lo:
        return "n/a"
    if lo >= line:
        return "yes"
    if hi < line:
        return "no"
    return "median %s; the interval straddles %.2f×" % ("above" if (lo + hi) / 2 >= line else "below", line)


def jmh_dists(data):
    """{(benchmark, bytes): Dist of the single-shot iteration times in ms}, pooled over every entry
    (one per round), plus the forks per cell and one entry's meta."""
    vals, forks, meta = {}, {}, None
    for e in data or []:
        pm = e["primaryMetric"]
        if pm["scoreUnit"] != "ms/op":
            raise SystemExit("unexpected unit %s (run JMH with -tu ms)" % pm["scoreUnit"])
        key = (e["benchmark"].rsplit(".", 1)[-1], int(e["params"]["bytes"]))
        vals.setdefault(key, []).extend(float(x) for fork in pm["rawData"] for x in fork)
        forks[key] = forks.get(key, 0) + len(pm["rawData"])
        meta = e
    out = {k: dist(k[0], v) for k, v in vals.items()}
    if meta is not None:
        meta = dict(meta, forks=max(forks.values()), entries=len(data) // max(1, len(vals)))
    return out, meta


def how(meta):
    return "%d rounds × %d fork × %d single-shot iterations after %d warm-up, per cell, %s %s, JVM args `%s`" % (
        meta["entries"], meta["forks"] // max(1, meta["entries"]), meta["measurementIterations"],
        meta["warmupIterations"], meta.get("vmName", ""),
        meta.get("jdkVersion", meta.get("vmVersion", "")), " ".join(meta.get("jvmArgs") or []))


# ---- 1. output() -------------------------------------------------------------------------------
def output_section(w, jmh, cdata, rng):
    dists, meta = jmh_dists(jmh)
    c, cpu = {}, {}
    if isinstance(cdata, dict):
        cdata = [cdata]
    for run in cdata or []:
        for m, by_size in run["methods"].items():
            for size, v in by_size.items():
                c.setdefault((m, int(size)), []).extend(v["ms"])
                a = cpu.setdefault((m, int(size)), ([], []))
                a[0].extend(v["self_cpu_ms"])
                a[1].extend(v["child_cpu_ms"])
    c = {k: dist(k[0], v) for k, v in c.items()}
    if not dists and not c:
        return
    sizes = sorted({k[1] for k in list(dists) + list(c)}, reverse=True)
    w("### Collecting one child's output: `head -c BYTES /dev/zero` into one `byte[]`")
    w("")
    if meta:
        w("JMH: %s. C: `bench/c/stdio_bench`, %s, methods and sizes taking turns. Each round runs the C "
          "harness, then the JMH fork." % (how(meta), ", ".join(sorted({"%d rounds × %d runs after %d warm-up" % (
              len(cdata), r["rounds"], r["warmup"]) for r in cdata or []}))))
        w("")
    w("| size | what | runs | p50 ms | p25–p75 ms | min / max ms | GiB/s at p50 |")
    w("|---|---|---:|---:|---|---|---:|")
    for s in sizes:
        for key, d in [((b, s), dists.get((b, s))) for b in ("forklessOutput", "processBuilderReadAllBytes")] + \
                      [((m, s), c.get((m, s))) for m in C_METHODS]:
            if d:
                w("| %s | %s | %d | %.0f | %.0f–%.0f | %.0f / %.0f | %.2f |" % (
                    size_label(s), LABEL.get(key[0], key[0]), d.n, d.p50, d.p[25], d.p[75], d.min, d.max,
                    s / GIB / (d.p50 / 1000.0)))
    w("")
    w("| size | speed ratio | measured (95% interval) | target | met |")
    w("|---|---|---|---|---|")
    for s in sizes:
        fl = dists.get(("forklessOutput", s))
        pb = dists.get(("processBuilderReadAllBytes", s))
        if fl and pb:
            r = speed(fl, pb, rng)
            w("| %s | Forkless / ProcessBuilder | %s | ≥ 1× | %s |" % (size_label(s), fmt_x(*r), verdict(r[1], r[2], 1.0)))
        for m in C_METHODS:
            cd = c.get((m, s))
            if fl and cd:
                r = speed(fl, cd, rng)
                w("| %s | Forkless / %s | %s | ≥ %.1f× | %s |" % (
                    size_label(s), LABEL[m], fmt_x(*r), TARGET_VS_C, verdict(r[1], r[2], TARGET_VS_C)))
        if pb:
            cd = c.get(("communicate-reuse", s))
            if cd:
                r = speed(pb, cd, rng)
                w("| %s | ProcessBuilder / %s (reference) | %s | | |" % (size_label(s), LABEL["communicate-reuse"], fmt_x(*r)))
    for b in ("forklessOutput", "processBuilderReadAllBytes"):
        if (b, sizes[0]) in dists and len(sizes) > 1 and (b, sizes[1]) in dists:
            big, small = dists[(b, sizes[0])], dists[(b, sizes[1])]
            # per-byte cost: time/bytes of the non-power-of-two size over the power of two
            r = ratio(dist(b, [x / sizes[1] for x in small.blocks]), dist(b, [x / sizes[0] for x in big.blocks]), rng)
            w("| %s vs %s | %s: time per byte, %s / %s (1× = no extra cost) | %s | | |" % (
                size_label(sizes[1]), size_label(sizes[0]), LABEL[b], size_label(sizes[1]), size_label(sizes[0]), fmt_x(*r)))
    if cpu:
        w("")
        w("C, mean CPU time per run (ms), this process / the child (`head`):")
        w("")
        w("| method | size | our CPU ms | child CPU ms |")
        w("|---|---|---:|---:|")
        for (m, size), (ours, child) in sorted(cpu.items(), key=lambda kv: (C_METHODS.index(kv[0][0]) if kv[0][0] in C_METHODS else 9, -kv[0][1])):
            w("| %s | %s | %.0f | %.0f |" % (LABEL.get(m, m), size_label(size), statistics.mean(ours), statistics.mean(child)))
    w("")


def size_label(n):
    if n % GIB == 0:
        return "%d GiB" % (n // GIB)
    if n % (1 << 20) == 0:
        return "%d MiB" % (n >> 20)
    return "%d B" % n


# ---- 2. concurrent children ----------------------------------------------------------------------
def concurrent_section(w, runs, rng):
    if not runs:
        return
    r0 = runs[0]
    w("### %d children at once, each writing %d bytes, all output captured" % (r0["children"], r0["bytes"]))
    w("")
    w("Plain harness (`ConcurrentOutput`), a fresh JVM per library, variant and block of repetitions, "
      "libraries taking turns; %s %s, `%s`. Wall time: first start → every output checked and every child "
      "exited. Threads: `ThreadMXBean.getPeakThreadCount()` after `resetPeakThreadCount()` (Java threads), "
      "and the peak of `/proc/self/status` Threads sampled every 2 ms (OS threads: also GC, JIT, …). Children "
      "at once: peak of the main thread's unreaped children, sampled every 2 ms. Median (min–max) over the "
      "measured repetitions; the first repetition of each fresh JVM is a warm-up, shown apart."
      % (r0["vm"], r0["java"], r0.get("jvm_args", "")))
    w("")
    for delay in sorted({r.get("delay_ms", 0) for r in runs}):
        sub = [r for r in runs if r.get("delay_ms", 0) == delay]
        groups = {}
        for r in sub:
            groups.setdefault(r["library"], []).append(r)
        order = [k for k in ("forkless", "processBuilder", "nuprocess") if k in groups]
        w("Children: `%s`%s" % (sub[0].get("argv", "head -c %d /dev/zero" % r0["bytes"]),
                                " (all alive at once: each waits before writing)" if delay else " (as the issue gives it)"))
        w("")
        w("| library | JVMs × reps | wall ms, p50 (min–max) | warm-up rep (fresh JVM), ms | Java threads: fresh JVM → peak "
          "| OS threads peak | children at once, peak | threads at the highest peak |")
        w("|---|---|---|---|---|---|---|---|")
        d = {}
        for k in order:
            reps = [x for run in groups[k] for x in run["reps"] if not x["warmup"]]
            warm = [x["ms"] for run in groups[k] for x in run["reps"] if x["warmup"]]
            d[k] = dist(k, [x["ms"] for x in reps])
            jp = [x["java_threads_peak"] for x in reps]
            op = [x["os_threads_peak"] for x in reps]
            cp = [x.get("children_peak", -1) for x in reps]
            base = sorted(run["baseline_java_threads"] for run in groups[k])
            worst = max(reps, key=lambda x: x["java_threads_peak"])
            fam = ", ".join("`%s` %d" % kv for kv in sorted(worst["families_at_peak"].items(), key=lambda kv: -kv[1])[:3])
            w("| %s | %d × %d | %.0f (%.0f–%.0f) | %s | %d → %s | %s | %s | %s |" % (
                LABEL[k], len(groups[k]), len(reps) // len(groups[k]), d[k].p50, d[k].min, d[k].max,
                ", ".join("%.0f" % x for x in warm), base[0], mid(jp), mid(op), mid(cp), fam))
        w("")
        if "forkless" in d:
            w("| ratio | measured (95% interval) |")
            w("|---|---|")
            for k in order[1:]:
                w("| wall time: %s / Forkless (higher = Forkless faster) | %s |"
                  % (LABEL[k], fmt_x(*speed(d["forkless"], d[k], rng))))
            w("")


def mid(vals):
    return mid_range(vals, "%d", "%.0f")


# ---- 3. pipeline --------------------------------------------------------------------------------
def pipeline_section(w, jmh, rng):
    dists, meta = jmh_dists(jmh)
    if not dists:
        return
    s = sorted({k[1] for k in dists})[0]
    w("### Pipeline: `head -c %s /dev/zero | cat | wc -c`" % s)
    w("")
    w("JMH: %s." % how(meta))
    w("")
    w("| what | runs | p50 ms | p25–p75 ms | min / max ms | GiB/s at p50 |")
    w("|---|---:|---:|---|---|---:|")
    for b in ("forklessPipeline", "jdkStartPipeline", "shellPipeline"):
        if (b, s) in dists:
            dd = dists[(b, s)]
            w("| %s | %d | %.0f | %.0f–%.0f | %.0f / %.0f | %.2f |" % (
                LABEL[b], dd.n, dd.p50, dd.p[25], dd.p[75], dd.min, dd.max, s / GIB / (dd.p50 / 1000.0)))
    w("")
    w("| ratio | measured (95% interval) |")
    w("|---|---|")
    fl = dists.get(("forklessPipeline", s))
    for b in ("jdkStartPipeline", "shellPipeline"):
        if fl and (b, s) in dists:
            w("| speed: Forkless / %s | %s |" % (LABEL[b], fmt_x(*speed(fl, dists[(b, s)], rng))))
    w("")


def tables(w, d, rng):
    output_section(w, load(os.path.join(d, "stdio-output.json")), load(os.path.join(d, "stdio-c.json")), rng)
    concurrent_section(w, load(os.path.join(d, "stdio-concurrent.json")), rng)
    pipeline_section(w, load(os.path.join(d, "stdio-pipeline.json")), rng)


if __name__ == "__main__":
    main(__doc__, tables, "stdio-machine.txt")
