#!/usr/bin/env python3
"""Turns the raw results of bench/run.sh into the ratio tables of docs/benchmarks.md.

Inputs (in the results directory, all optional):
  c-small.json, c-4g.json                     bench/c/spawn_bench --json
  jmh-jdk17-small.json, jmh-jdk17-4g.json,    JMH -rf json, SampleTime mode
  jmh-jdk25-small.json, jmh-jdk25-4g.json
  machine.txt                                  printed as is

A median here is the median of every timed call. Its spread is given relative to itself: p25 and
p75 as a percentage of p50. A ratio A/B is p50(A)/p50(B); its 95% interval comes from a bootstrap
over "blocks" (a JMH measurement iteration, or a round of the C harness): resample each side's
block medians with replacement, take the median of the medians, divide; 2.5% and 97.5% quantiles
of 4000 resamples, fixed seed. Blocks, not single calls, because calls in one block share the
machine's load at that moment; the interval then also covers load that moved between blocks.

Usage: summarize.py RESULTS_DIR [--out FILE]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchstats import Dist, load, main, pct, ratio  # noqa: E402


def load_jmh(path):
    out = {}
    for entry in load(path) or []:
        name = entry["benchmark"].rsplit(".", 1)[-1]
        pm = entry["primaryMetric"]
        unit = pm["scoreUnit"]
        if unit not in ("us/op",):
            raise SystemExit("%s: unexpected unit %s (run JMH with -tu us)" % (path, unit))
        hist = pm.get("rawDataHistogram")
        if not hist:
            raise SystemExit("%s: no rawDataHistogram (run JMH with -bm sample)" % path)
        allv = {}
        blocks = []
        for fork in hist:
            for it in fork:
                pairs = sorted((float(v), int(c)) for v, c in it)
                for v, c in pairs:
                    allv[v] = allv.get(v, 0) + c
                blocks.append(pct(pairs, 50))
        pairs = sorted(allv.items())
        p = {q: pct(pairs, q) for q in (10, 25, 50, 75, 90)}
        d = Dist(name, p, blocks, sum(allv.values()))
        d.jvm = entry.get("jvm")
        d.vm_version = entry.get("vmVersion") or entry.get("jdkVersion")
        d.jvm_args = entry.get("jvmArgs")
        d.forks = entry.get("forks")
        out[name] = d
    return out


def load_c(path):
    out = {}
    data = load(path)
    if data is None:
        return out, None
    for name, m in data["methods"].items():
        p = {10: m["p10"], 25: m["p25"], 50: m["p50"], 75: m["p75"], 90: m["p90"]}
        out[name] = Dist(name, p, m["round_p50"], m["n"])
    return out, data


def tables(w, d, rng):
    jmh = {k: load_jmh(os.path.join(d, "jmh-%s.json" % k))
           for k in ("jdk17-small", "jdk17-4g", "jdk25-small", "jdk25-4g")}
    c_small, c_small_meta = load_c(os.path.join(d, "c-small.json"))
    c_4g, c_4g_meta = load_c(os.path.join(d, "c-4g.json"))

    # ---- absolute numbers -------------------------------------------------------------------
    w("### Per-call time, µs (median, and p25/p75 relative to it)")
    w("")
    w("| where | what | heap / touched memory | calls | p50 µs | p25 / p75 vs p50 | p10 µs | p90 µs |")
    w("|---|---|---|---:|---:|---|---:|---:|")
    for key, label in (("jdk17-small", "JDK 17"), ("jdk25-small", "JDK 25"),
                       ("jdk17-4g", "JDK 17"), ("jdk25-4g", "JDK 25")):
        heap = "4 GiB pre-touched" if key.endswith("4g") else "default"
        for name in ("forklessTrue", "processBuilderTrue"):
            x = jmh[key].get(name)
            if x:
                w("| %s (JMH) | %s | %s | %d | %.0f | %s | %.0f | %.0f |"
                  % (label, name, heap, x.n, x.p50, x.spread(), x.p[10], x.p[90]))
    for dists, meta in ((c_small, c_small_meta), (c_4g, c_4g_meta)):
        if not dists:
            continue
        heap = "%.0f GiB touched" % meta["touch_gib"] if meta["touch_gib"] > 0 else "~2 MiB"
        for name in ("forkless", "vfork", "posix_spawn", "fork"):
            x = dists.get(name)
            if x:
                w("| C | %s | %s | %d | %.0f | %s | %.0f | %.0f |"
                  % (name, heap, x.n, x.p50, x.spread(), x.p[10], x.p[90]))
    w("")

    # ---- ratios -----------------------------------------------------------------------------
    rows = []

    def add(label, a, b, target=None, better="lower"):
        if a is None or b is None:
            rows.append((label, None, target, better))
            return
        rows.append((label, ratio(a, b, rng), target, better))

    j = lambda k, n: jmh[k].get(n)
    add("ProcessBuilder / Forkless, JDK 17", j("jdk17-small", "processBuilderTrue"),
        j("jdk17-small", "forklessTrue"), 2.0, "higher")
    add("ProcessBuilder / Forkless, JDK 25", j("jdk25-small", "processBuilderTrue"),
        j("jdk25-small", "forklessTrue"), 2.0, "higher")
    add("ProcessBuilder / Forkless, JDK 17, 4 GiB heap", j("jdk17-4g", "processBuilderTrue"),
        j("jdk17-4g", "forklessTrue"))
    add("ProcessBuilder / Forkless, JDK 25, 4 GiB heap", j("jdk25-4g", "processBuilderTrue"),
        j("jdk25-4g", "forklessTrue"))
    add("Forkless JDK 17 / C loop through the core", j("jdk17-small", "forklessTrue"),
        c_small.get("forkless"), 1.1)
    add("Forkless JDK 25 / C loop through the core", j("jdk25-small", "forklessTrue"),
        c_small.get("forkless"), 1.1)
    add("Forkless JDK 17: 4 GiB heap / default heap", j("jdk17-4g", "forklessTrue"),
        j("jdk17-small", "forklessTrue"), 1.1)
    add("Forkless JDK 25: 4 GiB heap / default heap", j("jdk25-4g", "forklessTrue"),
        j("jdk25-small", "forklessTrue"), 1.1)
    add("ProcessBuilder JDK 17: 4 GiB heap / default heap", j("jdk17-4g", "processBuilderTrue"),
        j("jdk17-small", "processBuilderTrue"))
    add("ProcessBuilder JDK 25: 4 GiB heap / default heap", j("jdk25-4g", "processBuilderTrue"),
        j("jdk25-small", "processBuilderTrue"))
    add("C, core: 4 GiB touched / small", c_4g.get("forkless"), c_small.get("forkless"))
    for m in ("vfork", "posix_spawn", "fork"):
        add("C, %s / core (small)" % m, c_small.get(m), c_small.get("forkless"))
    for m in ("vfork", "posix_spawn", "fork"):
        add("C, %s / core (4 GiB touched)" % m, c_4g.get(m), c_4g.get("forkless"))

    w("### Ratios of medians (95% bootstrap interval)")
    w("")
    w("| ratio | p50 ratio | 95% interval | target | met |")
    w("|---|---:|---|---|---|")
    for label, res, target, better in rows:
        if res is None:
            t = "" if target is None else ("≥ " if better == "higher" else "≤ ") + "%.1f×" % target
            w("| %s | — | not measured | %s | — |" % (label, t))
            continue
        r, lo, hi = res
        if target is None:
            t, met = "", ""
        elif better == "higher":
            t = "≥ %.1f×" % target
            met = "yes" if lo >= target else ("no" if hi < target else "median %s, interval straddles"
                                             % ("yes" if r >= target else "no"))
        else:
            t = "≤ %.1f×" % target
            met = "yes" if hi <= target else ("no" if lo > target else "median %s, interval straddles"
                                             % ("yes" if r <= target else "no"))
        w("| %s | %.2f× | %.2f–%.2f× | %s | %s |" % (label, r, lo, hi, t, met))
    w("")

    # ---- provenance ---------------------------------------------------------------------------
    for key in jmh:
        for x in jmh[key].values():
            w("- `jmh-%s.json` %s: %s, VM %s, forks %s, JVM args `%s`"
              % (key, x.name, x.jvm, x.vm_version, x.forks, " ".join(x.jvm_args or [])))
    for meta, f in ((c_small_meta, "c-small.json"), (c_4g_meta, "c-4g.json")):
        if meta:
            w("- `%s`: core strategy %s, touched %.0f GiB, VmRSS %d KiB; fl_spawn alone p50 %.0f µs"
              % (f, meta["forkless_strategy"], meta["touch_gib"], meta["vmrss_kib"],
                 meta.get("forkless_spawn_only_p50", float("nan"))))


if __name__ == "__main__":
    main(__doc__, tables)
