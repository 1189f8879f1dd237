#!/usr/bin/env python3
"""Turns the raw results of bench/run-reactor.sh into the tables for docs/benchmarks.md.

Inputs (in the results directory, all optional):
  reactor-live.json         LiveChildren, one object per fresh JVM (library, repetition)
  reactor-latency.json      exit_floor (C) and ExitLatency, one object per process
  reactor-throughput.json   JMH -rf json of ReactorThroughput (Throughput mode, ops = children)
  reactor-machine.txt       printed at the end

Intervals are 95% bootstrap intervals, as in benchstats.py (4000 resamples, fixed seed):
- live children: over the fresh JVMs (5 per library in a full run: a coarse interval);
- latency: over rounds (50 consecutive children of one variant). A ratio ProcessBuilder/Forkless
  pairs the rounds that ran side by side in the same JVM (same round index, same run) and
  resamples the pairs; the point estimate is p50/p50 of all samples;
- throughput: over JMH measurement iterations (all forks), unpaired, as benchstats.ratio().

Usage: summarize_reactor.py RESULTS_DIR [--out FILE]
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchstats import BOOT, Dist, load, main, mid_range, nearest, ratio, sample_dist  # noqa: E402

LAT_TARGET_US = 100.0
PEERS = ("processBuilder", "nuprocess", "ztexec", "commonsexec")
LIB_LABEL = {
    "forkless": "Forkless",
    "forkless-epoll": "Forkless (epoll)",
    "forkless-io_uring": "Forkless (io_uring)",
    "processBuilder": "ProcessBuilder",
    "nuprocess": "NuProcess 3.0.0",
    "ztexec": "zt-exec 1.13.0",
    "commonsexec": "commons-exec 1.6.0",
}
VARIANT_LABEL = {
    "forklessAsync": "Forkless `onExit()` (default executor)",
    "forklessDirect": "Forkless `onExit(Runnable::run)` (reactor thread)",
    "processBuilder": "ProcessBuilder `onExit()`",
}


def block_medians(ns, size):
    return [statistics.median(ns[i:i + size]) for i in range(0, len(ns), size)]


def boot(stat, n, rng):
    """95% interval of stat(indices) over BOOT resamples of range(n)."""
    rs = sorted(stat([rng.randrange(n) for _ in range(n)]) for _ in range(BOOT))
    return rs[int(0.025 * BOOT)], rs[int(0.975 * BOOT) - 1]


def fmt_ratio(r, lo, hi):
    if r != r:  # nan
        return "—", "—"
    def f(x):
        return "%.0f×" % x if x >= 100 else "%.2f×" % x
    return f(r), ("%s–%s" % (f(lo), f(hi))) if lo == lo else "n/a"


# ---- 1. live children ----------------------------------------------------------------------------
def live_section(w, runs, rng):
    if not runs:
        return
    groups = {}
    for run in runs:
        key = "forkless-" + run["backend"] if run["library"] == "forkless" else run["library"]
        groups.setdefault(key, []).append(run)
    order = [k for k in ("forkless-epoll", "forkless-io_uring", "processBuilder") if k in groups]
    order += sorted(k for k in groups if k not in order)

    def metrics(run):
        n = run["children"]
        f, wm, lv, af = run["fresh"], run["warm"], run["live"], run["after"]
        grown = {}
        for name, c in lv["thread_families"].items():
            d = c - f["thread_families"].get(name, 0)
            if d:
                grown[name] = d
        return {
            "java": lv["java_threads"] - f["java_threads"],
            "per_child": lv["java_threads"] - wm["java_threads"],
            "spawn_ms": run.get("spawn_ms", float("nan")),
            "os": lv["os_threads"] - f["os_threads"],
            "heap": (lv["heap_used"] - wm["heap_used"]) / n,
            "rss": (lv["rss_kib"] - wm["rss_kib"]) / n,
            "after": af["java_threads"] - f["java_threads"],
            "grown": grown,
        }

    m = {k: [metrics(r) for r in groups[k]] for k in order}
    n_children = sorted({r["children"] for r in runs})
    w("### Live children: threads and memory (%s children of `sleep 1000`, each with `onExit()` requested)"
      % "/".join("{:,}".format(x) for x in n_children))
    w("")
    w("A fresh JVM per row and repetition; median (min–max) over the repetitions. Threads added: "
      "live − before any spawn; by the children: live − after one warm-up child (spawned and waited "
      "for with `waitFor()`), i.e. without the library's fixed threads. Heap and RSS per child: "
      "(live − after the warm-up child) / children, heap used after `System.gc()`.")
    w("")
    w("| library | JVMs | Java threads added | of them by the children | OS threads added "
      "| heap per child, bytes | RSS per child, KiB | Java threads left once all exited | spawning all, ms "
      "| threads that grew |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for k in order:
        ms = m[k]
        grown = ms[0]["grown"]
        same = all(x["grown"] == grown for x in ms)
        g = ", ".join("`%s` %+d" % (name, d) for name, d in sorted(grown.items())) + ("" if same else " (varies)")
        w("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            LIB_LABEL.get(k, k), len(ms), mid_range([x["java"] for x in ms], "%+d"),
            mid_range([x["per_child"] for x in ms], "%+d"),
            mid_range([x["os"] for x in ms], "%+d"), mid_range([x["heap"] for x in ms], "%.0f"),
            mid_range([x["rss"] for x in ms], "%.1f"), mid_range([x["after"] for x in ms], "%+d"),
            mid_range([x["spawn_ms"] for x in ms], "%.0f"), g))
    w("")
    w("| target / ratio | measured | 95% interval | met |")
    w("|---|---:|---|---|")
    for k in order:
        if k.startswith("forkless"):
            worst = max(x["java"] for x in m[k])
            w("| %s: Java threads grow by at most 1 | %+d (worst of %d JVMs) | | %s |"
              % (LIB_LABEL[k], worst, len(m[k]), "yes" if worst <= 1 else "no"))
            worst = max(x["per_child"] for x in m[k])
            w("| %s: of them added by the children themselves | %+d (worst of %d JVMs) | | |"
              % (LIB_LABEL[k], worst, len(m[k])))
    if "processBuilder" in m:
        pb = m["processBuilder"]
        for k in order:
            if not k.startswith("forkless"):
                continue
            fl = m[k]
            for what, label in (("java", "threads added"), ("heap", "heap per child"), ("rss", "RSS per child")):
                a = [x[what] for x in pb]
                b = [x[what] for x in fl]
                if statistics.median(b) <= 0:
                    w("| ProcessBuilder / %s, %s | %s vs %s | | |" % (
                        LIB_LABEL[k], label, mid_range(a, "%.1f"), mid_range(b, "%.1f")))
                    continue
                r = statistics.median(a) / statistics.median(b)
                rs = []
                for _ in range(BOOT):
                    mb = statistics.median(rng.choices(b, k=len(b)))
                    if mb > 0:
                        rs.append(statistics.median(rng.choices(a, k=len(a))) / mb)
                rs.sort()
                lo, hi = rs[int(0.025 * len(rs))], rs[int(0.975 * len(rs)) - 1]
                rr, ci = fmt_ratio(r, lo, hi)
                w("| ProcessBuilder / %s, %s | %s | %s | |" % (LIB_LABEL[k], label, rr, ci))
    w("")


# ---- 2. exit-notification latency ------------------------------------------------------------------
class Lat:
    """Pooled samples of one variant in one group of runs, with per-run round medians."""

    def __init__(self):
        self.ns = []
        self.blocks = []     # block medians, all runs
        self.by_run = []     # [block medians] per run, for pairing
        self.threads = {}
        self.dropped = 0

    def add(self, ns, size, threads=None, dropped=0):
        self.ns.extend(ns)
        b = block_medians(ns, size)
        self.blocks.extend(b)
        self.by_run.append(b)
        for name, c in (threads or {}).items():
            self.threads[name] = self.threads.get(name, 0) + c
        self.dropped += dropped

    def dist(self, name):
        s = sorted(self.ns)
        p = {q: nearest(s, q / 100.0) / 1000.0 for q in (10, 25, 50, 75, 90, 99)}
        return Dist(name, p, [b / 1000.0 for b in self.blocks], len(s))


def paired_ratio(a, b, rng):
    """p50(a)/p50(b) over all samples; interval from resampled (round of a, round of b) pairs."""
    pairs = []
    for ra, rb in zip(a.by_run, b.by_run):
        pairs.extend(zip(ra, rb))
    r = statistics.median(a.ns) / statistics.median(b.ns)
    if len(pairs) < 2:
        return r, float("nan"), float("nan")
    lo, hi = boot(lambda idx: statistics.median(pairs[i][0] for i in idx)
                  / statistics.median(pairs[i][1] for i in idx), len(pairs), rng)
    return r, lo, hi


def latency_section(w, data, rng):
    if not data:
        return
    floor = next((d for d in data if d.get("harness") == "exit_floor"), None)
    runs = [d for d in data if d.get("harness") == "ExitLatency"]
    pars = [r["common_pool_parallelism"] for r in runs]
    usual = max(set(pars), key=pars.count) if pars else None
    groups = {}
    for r in runs:
        key = (r["backend"], r["common_pool_parallelism"])
        g = groups.setdefault(key, {})
        for v, d in r["variants"].items():
            g.setdefault(v, Lat()).add(d["ns"], r["round"], d.get("callback_threads"), d.get("dropped", 0))
    keys = sorted(groups, key=lambda k: (k[1] != usual, k[0] != "epoll", k))

    def glabel(k):
        return k[0] + ("" if k[1] == usual else ", common pool parallelism %d (diagnostic)" % k[1])

    vm = sorted({"%s %s" % (r["vm"], r["java"]) for r in runs})
    w("### Exit-notification latency: child's exit → a dependent of `onExit()` runs")
    w("")
    r0 = runs[0] if runs else {}
    w("Plain harness, not JMH: the interval spans two processes. The child (`bench/c/exit_stamp`) sleeps "
      "%s µs (so the callback is attached and every thread is idle), writes its `CLOCK_MONOTONIC` and "
      "calls `_exit(0)`; the dependent reads `System.nanoTime()` (the same clock). One child at a time, "
      "%s µs pause after each, variants interleaved in rounds of %s; %s; common pool parallelism %s in "
      "the main runs. µs; interval: 95%% bootstrap of the median over rounds."
      % (r0.get("child_delay_us", 0), r0.get("pause_us"), r0.get("round"), ", ".join(vm), usual))
    w("")
    w("| reactor | what | samples | p50 µs | 95% interval | p90 µs | p99 µs | callback ran on |")
    w("|---|---|---:|---:|---|---:|---:|---|")
    fl = None
    if floor:
        fl = Lat()
        fl.add(floor["ns"], floor["round"])
        d = fl.dist("floor")
        ci = boot(lambda idx: statistics.median(fl.blocks[i] for i in idx), len(fl.blocks), rng)
        w("| — | C floor: pidfd poll + waitid, no JVM | %d | %.1f | %.1f–%.1f | %.1f | %.1f | |"
          % (d.n, d.p50, ci[0] / 1e3, ci[1] / 1e3, d.p[90], d.p[99]))
    dists = {}
    for k in keys:
        for v in ("forklessDirect", "forklessAsync", "processBuilder"):
            lat = groups[k].get(v)
            if not lat:
                continue
            d = lat.dist(v)
            dists[(k, v)] = (lat, d)
            ci = boot(lambda idx: statistics.median(lat.blocks[i] for i in idx), len(lat.blocks), rng)
            th = ", ".join("`%s`" % t for t, _ in sorted(lat.threads.items(), key=lambda x: -x[1])[:2])
            w("| %s | %s | %d | %.1f | %.1f–%.1f | %.1f | %.1f | %s |"
              % (glabel(k), VARIANT_LABEL.get(v, v), d.n, d.p50, ci[0] / 1e3, ci[1] / 1e3, d.p[90], d.p[99], th))
    w("")
    w("| target / ratio | p50 ratio | 95% interval | target | met |")
    w("|---|---:|---|---|---|")
    for k in keys:
        if k[1] != usual:
            continue
        for v in ("forklessAsync", "forklessDirect"):
            if (k, v) not in dists:
                continue
            lat, d = dists[(k, v)]
            ci = boot(lambda idx: statistics.median(lat.blocks[i] for i in idx), len(lat.blocks), rng)
            lo, hi = ci[0] / 1e3, ci[1] / 1e3
            met = "yes" if hi < LAT_TARGET_US else ("no" if lo >= LAT_TARGET_US else
                                                    "median %s, interval straddles" % ("yes" if d.p50 < LAT_TARGET_US else "no"))
            w("| %s, %s: median | %.1f µs | %.1f–%.1f µs | < %.0f µs | %s |"
              % (k[0], VARIANT_LABEL[v], d.p50, lo, hi, LAT_TARGET_US, met))
    for k in keys:
        for v in ("forklessAsync", "forklessDirect"):
            if (k, v) in dists and (k, "processBuilder") in dists:
                r, lo, hi = paired_ratio(dists[(k, "processBuilder")][0], dists[(k, v)][0], rng)
                rr, ci = fmt_ratio(r, lo, hi)
                w("| ProcessBuilder / %s, %s (paired rounds) | %s | %s | | |" % (VARIANT_LABEL[v], glabel(k), rr, ci))
    for k in keys:
        if (k, "forklessAsync") in dists and (k, "forklessDirect") in dists:
            r, lo, hi = paired_ratio(dists[(k, "forklessAsync")][0], dists[(k, "forklessDirect")][0], rng)
            rr, ci = fmt_ratio(r, lo, hi)
            w("| Forkless `onExit()` / `onExit(Runnable::run)`, %s (paired rounds) | %s | %s | | |" % (glabel(k), rr, ci))
    ep, ur = ("epoll", usual), ("io_uring", usual)
    for v in ("forklessAsync", "forklessDirect"):
        if (ur, v) in dists and (ep, v) in dists:
            rr, ci = fmt_ratio(*ratio(dists[(ur, v)][1], dists[(ep, v)][1], rng))
            w("| %s: io_uring / epoll (separate JVMs) | %s | %s | | |" % (VARIANT_LABEL[v], rr, ci))
    if fl:
        fd = fl.dist("floor")
        for k in keys:
            if k[1] != usual or (k, "forklessDirect") not in dists:
                continue
            rr, ci = fmt_ratio(*ratio(dists[(k, "forklessDirect")][1], fd, rng))
            w("| %s, %s / C floor | %s | %s | | |" % (VARIANT_LABEL["forklessDirect"], k[0], rr, ci))
    dropped = {glabel(k) + " " + v: lat.dropped for (k, v), (lat, _) in dists.items() if lat.dropped}
    w("")
    if dropped or (floor and floor.get("dropped")):
        w("Samples dropped and redone because the child had exited before the callback was attached: %s%s."
          % (", ".join("%s %d" % kv for kv in sorted(dropped.items())) or "none in the JVM runs",
             "; C floor %d" % floor["dropped"] if floor and floor.get("dropped") else ""))
        w("")


# ---- 3. throughput --------------------------------------------------------------------------------
def throughput_section(w, data, rng):
    if not data:
        return
    cells = {}
    meta = None
    for e in data:
        pm = e["primaryMetric"]
        if pm["scoreUnit"] != "ops/s":
            raise SystemExit("reactor-throughput.json: unexpected unit %s (run with -bm thrpt -tu s)" % pm["scoreUnit"])
        d = sample_dist(e["params"]["library"], [float(x) for fork in pm["rawData"] for x in fork])
        d.score, d.error = float(pm["score"]), float(pm["scoreError"])
        cells[(int(e["params"]["inFlight"]), e["params"]["library"])] = d
        meta = e
    flights = sorted({k[0] for k in cells})
    libs = [l for l in ("forkless-epoll", "forkless-io_uring", "forkless") + PEERS if any((f, l) in cells for f in flights)]
    w("### Throughput: spawn + `onExit` of `/bin/true`, children per second (JMH)")
    w("")
    runs = {}
    for e in data:
        key = (e["forks"], e["warmupIterations"], e["measurementIterations"])
        lib = LIB_LABEL.get(e["params"]["library"], e["params"]["library"])
        if lib not in runs.setdefault(key, []):
            runs[key].append(lib)
    how = "; ".join("%s: %d forks × %d iterations (after %d warm-up)" % (", ".join(libs), k[0], k[2], k[1])
                    for k, libs in sorted(runs.items(), reverse=True))
    w("One operation = 256 children, at most *in flight* running at once (a semaphore released in each "
      "library's exit callback). JMH mean ± its 99.9%% error. %s; %s %s."
      % (how, meta.get("vmName", meta["jvm"]), meta.get("jdkVersion", "")))
    w("")
    w("| in flight | " + " | ".join(LIB_LABEL.get(l, l) for l in libs) + " |")
    w("|---:|" + "---:|" * len(libs))
    for f in flights:
        row = []
        for l in libs:
            d = cells.get((f, l))
            if not d:
                row.append("—")
            elif d.error == d.error:  # not NaN
                row.append("{:,.0f} ± {:,.0f}".format(d.score, d.error))
            else:
                row.append("{:,.0f}".format(d.score))
        w("| %d | %s |" % (f, " | ".join(row)))
    w("")
    w("Ratios of medians of the iteration scores (higher = Forkless faster), 95% bootstrap interval over iterations.")
    w("")
    fls = [l for l in ("forkless-epoll", "forkless-io_uring", "forkless") if l in libs]
    head = ["in flight", "fastest peer"]
    for l in fls:
        head += ["%s / fastest peer" % LIB_LABEL[l], "%s / ProcessBuilder" % LIB_LABEL[l]]
    if "forkless-epoll" in fls and "forkless-io_uring" in fls:
        head.append("io_uring / epoll")
    w("| " + " | ".join(head) + " |")
    w("|---:|---|" + "---|" * (len(head) - 2))
    for f in flights:
        peers = [cells[(f, p)] for p in PEERS if (f, p) in cells]
        if not peers:
            continue
        best = max(peers, key=lambda d: d.p50)
        row = [str(f), "%s ({:,.0f}/s)".format(best.p50) % LIB_LABEL[best.name]]
        for l in fls:
            d = cells.get((f, l))
            for other in (best, cells.get((f, "processBuilder"))):
                if d is None or other is None:
                    row.append("—")
                    continue
                rr, ci = fmt_ratio(*ratio(d, other, rng))
                row.append("%s (%s)" % (rr, ci))
        if "forkless-epoll" in fls and "forkless-io_uring" in fls:
            a, b = cells.get((f, "forkless-io_uring")), cells.get((f, "forkless-epoll"))
            if a and b:
                rr, ci = fmt_ratio(*ratio(a, b, rng))
                row.append("%s (%s)" % (rr, ci))
            else:
                row.append("—")
        w("| " + " | ".join(row) + " |")
    w("")
    w("- `reactor-throughput.json`: %s, VM %s, iterations of %s (warm-up %s), JVM args `%s`"
      % (meta["jvm"], meta.get("vmVersion"), meta["measurementTime"], meta["warmupTime"],
         " ".join(meta.get("jvmArgs") or [])))
    w("")


def tables(w, d, rng):
    live_section(w, load(os.path.join(d, "reactor-live.json")), rng)
    latency_section(w, load(os.path.join(d, "reactor-latency.json")), rng)
    throughput_section(w, load(os.path.join(d, "reactor-throughput.json")), rng)


if __name__ == "__main__":
    main(__doc__, tables, "reactor-machine.txt")
