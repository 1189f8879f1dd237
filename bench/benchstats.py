"""Statistics, loading and the command line shared by bench/summarize*.py.

A Dist is one measured thing: its percentiles and its "blocks" (the unit the bootstrap resamples:
a JMH iteration, a round of a C harness, or one whole run). ratio() gives p50(a)/p50(b) with a
95% interval from a bootstrap over each side's blocks: resample them with replacement, take the
median of the medians, divide; 2.5% and 97.5% quantiles of BOOT resamples, fixed seed.
"""
import json
import os
import random
import statistics
import sys

BOOT = 4000
SEED = 20240611


def pct(sorted_vals, q):
    """q in 0..100 of a sorted list of (value, count) pairs, nearest rank on the expanded list."""
    total = sum(c for _, c in sorted_vals)
    if total == 0:
        return float("nan")
    rank = q / 100.0 * (total - 1)
    seen = 0
    for v, c in sorted_vals:
        if seen + c > rank:
            return v
        seen += c
    return sorted_vals[-1][0]


def nearest(sorted_vals, q):
    """q in 0..1 of a sorted list, nearest rank."""
    if not sorted_vals:
        return float("nan")
    return sorted_vals[int(round(q * (len(sorted_vals) - 1)))]


class Dist:
    """One method/benchmark: its percentiles and its block medians (the same unit)."""

    def __init__(self, name, p, blocks, n):
        self.name, self.p, self.blocks, self.n = name, p, blocks, n

    @property
    def p50(self):
        return self.p[50]

    def spread(self):
        return "−%.0f%% / +%.0f%%" % (100 * (1 - self.p[25] / self.p50), 100 * (self.p[75] / self.p50 - 1))


def sample_dist(name, vals):
    """A Dist whose blocks are the samples themselves (one per run or iteration), with min and max."""
    s = sorted(vals)
    p = {q: nearest(s, q / 100.0) for q in (10, 25, 75, 90)}
    p[50] = statistics.median(s)
    d = Dist(name, p, list(vals), len(vals))
    d.min, d.max = s[0], s[-1]
    return d


def ratio(a, b, rng):
    """p50(a)/p50(b) and a bootstrap 95% interval over block medians."""
    r = a.p50 / b.p50
    if len(a.blocks) < 2 or len(b.blocks) < 2:
        return r, float("nan"), float("nan")
    rs = []
    for _ in range(BOOT):
        ma = statistics.median(rng.choices(a.blocks, k=len(a.blocks)))
        mb = statistics.median(rng.choices(b.blocks, k=len(b.blocks)))
        rs.append(ma / mb)
    rs.sort()
    return r, rs[int(0.025 * BOOT)], rs[int(0.975 * BOOT) - 1]


def mid_range(vals, fmt, median_fmt=None):
    """"median (min–max)" of vals, each in fmt (the median in median_fmt if given); one value if
    all look the same."""
    vals = sorted(vals)
    if len(vals) == 1 or fmt % vals[0] == fmt % vals[-1]:
        return fmt % vals[0]
    return ((median_fmt or fmt) + " (" + fmt + "–" + fmt + ")") % (statistics.median(vals), vals[0], vals[-1])


def load(path):
    """The JSON in path, or None if there is no such file."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def main(doc, write, machine=None):
    """The command line of a summarizer: RESULTS_DIR [--out FILE] (without arguments: doc).
    write(w, results_dir, rng) emits the tables, one line per w(line); the file named machine
    in the results directory, if any, follows verbatim under "### Machine". Prints the text, and
    writes it to FILE too."""
    args = sys.argv[1:]
    if not args:
        raise SystemExit(doc)
    d = args[0]
    out_path = args[args.index("--out") + 1] if "--out" in args else None
    rng = random.Random(SEED)
    lines = []
    w = lines.append
    write(w, d, rng)
    mpath = os.path.join(d, machine) if machine else None
    if mpath and os.path.exists(mpath):
        w("### Machine")
        w("")
        w("```")
        w(open(mpath).read().rstrip("\n"))
        w("```")
    text = "\n".join(lines) + "\n"
    if out_path:
        with open(out_path, "w") as f:
            f.write(text)
    sys.stdout.write(text)
