#!/usr/bin/env python3
"""Turns the raw results of bench/run-compare.sh into one before/after table.

Inputs (in the results directory): c-{before,after}-K.json (bench/c/spawn_bench --json),
jmh-spawn-{before,after}-K.json (SpawnBenchmark, SampleTime), lat-{before,after}-{epoll,io_uring}-K.json
(ExitLatency --json), jmh-thr-{before,after}-K.json (ReactorThroughput, thrpt), compare-machine.txt.

Each row pools every alternation of one side. A ratio is after/before of the medians; its 95%
interval is the bootstrap of bench/benchstats.py over blocks (a JMH iteration, a round of the C
harness or of ExitLatency), so load that moved between blocks widens it. For a time, a ratio below
1 means "after" is faster; for a throughput, above 1.

Usage: summarize_compare.py RESULTS_DIR [--out FILE]
"""
import glob
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchstats import Dist, load, main, nearest, pct, ratio, sample_dist  # noqa: E402
from summarize_reactor import block_medians  # noqa: E402

SIDES = ("before", "after")


def files(d, pattern):
    return sorted(glob.glob(os.path.join(d, pattern)))


def c_dist(d, side):
    rounds, n = [], 0
    for f in files(d, "c-%s-*.json" % side):
        m = load(f)["methods"]["forkless"]
        rounds.extend(m["round_p50"])
        n += m["n"]
    if not rounds:
        return None
    x = sample_dist("C loop", rounds)
    x.n = n
    return x


def jmh_sample_dist(d, pattern, name):
    allv, blocks = {}, []
    for f in files(d, pattern):
        for e in load(f):
            if e["benchmark"].rsplit(".", 1)[-1] != name:
                continue
            for fork in e["primaryMetric"]["rawDataHistogram"]:
                for it in fork:
                    pairs = sorted((float(v), int(c)) for v, c in it)
                    for v, c in pairs:
                        allv[v] = allv.get(v, 0) + c
                    blocks.append(pct(pairs, 50))
    if not blocks:
        return None
    pairs = sorted(allv.items())
    return Dist(name, {q: pct(pairs, q) for q in (10, 25, 50, 75, 90, 99)}, blocks, sum(allv.values()))


def latency_dist(d, side, backend, variant):
    ns, blocks = [], []
    for f in files(d, "lat-%s-%s-*.json" % (side, backend)):
        r = load(f)
        v = r["variants"].get(variant)
        if v:
            ns.extend(v["ns"])
            blocks.extend(block_medians(v["ns"], r["round"]))
    if not ns:
        return None
    s = sorted(ns)
    p = {q: nearest(s, q / 100.0) / 1000.0 for q in (10, 25, 50, 75, 90, 99)}
    return Dist(variant, p, [b / 1000.0 for b in blocks], len(s))


def throughput_dist(d, side, library, in_flight):
    scores = []
    for f in files(d, "jmh-thr-%s-*.json" % side):
        for e in load(f):
            if e["params"]["library"] == library and int(e["params"]["inFlight"]) == in_flight:
                scores.extend(float(x) for fork in e["primaryMetric"]["rawData"] for x in fork)
    return sample_dist(library, scores) if scores else None


def tables(w, d, rng):
    w("### Before / after, one sitting, sides alternating")
    w("")
    w("| what | unit | before p50 | after p50 | after / before | 95% interval | before p99 | after p99 |")
    w("|---|---|---:|---:|---:|---|---:|---:|")

    def row(label, unit, b, a, p99=True):
        if a is None or b is None:
            w("| %s | %s | — | — | — | | | |" % (label, unit))
            return
        r, lo, hi = ratio(a, b, rng)
        tail = ("%.0f | %.0f" % (b.p[99], a.p[99])) if p99 and 99 in b.p and 99 in a.p else " | "
        w("| %s | %s | %.1f | %.1f | %.3f× | %.3f–%.3f× | %s |" % (label, unit, b.p50, a.p50, r, lo, hi, tail))

    row("C loop through the core: fl_spawn + wait of /bin/true", "µs", c_dist(d, "before"), c_dist(d, "after"), False)
    for name, label in (("forklessTrue", "Forkless spawn() + waitFor() + close(), JMH"),
                        ("processBuilderTrue", "ProcessBuilder start() + waitFor(), JMH (reference)")):
        row(label, "µs", *(jmh_sample_dist(d, "jmh-spawn-%s-*.json" % s, name) for s in SIDES))
    for backend in ("epoll", "io_uring"):
        for variant, label in (("forklessDirect", "exit → onExit(Runnable::run) dependent"),
                               ("forklessAsync", "exit → onExit() dependent")):
            row("%s, %s" % (label, backend), "µs", *(latency_dist(d, s, backend, variant) for s in SIDES))
    for backend in ("epoll", "io_uring"):
        for f in (1, 2, 8, 64):
            row("throughput, %d in flight, %s (higher is better)" % (f, backend), "ops/s",
                *(throughput_dist(d, s, "forkless-" + backend, f) for s in SIDES), p99=False)
    w("")


if __name__ == "__main__":
    main(__doc__, tables, "compare-machine.txt")
