#!/usr/bin/env python3
"""Prints min / median / max items per second of each Google Benchmark run in a JSON
file written with --benchmark_out=FILE --benchmark_out_format=json and repetitions."""
import json
import statistics
import sys

runs = {}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("run_type") == "iteration":
        runs.setdefault(b["run_name"], []).append(b)
for name, bs in runs.items():
    ips = sorted(x.get("items_per_second", 0) for x in bs)
    extra = ""
    if "avg_batch" in bs[0]:
        extra = " avg_batch=%.1f" % statistics.median(x["avg_batch"] for x in bs)
    print(f"{name:45s} {ips[0]:>14,.0f} {statistics.median(ips):>14,.0f} {ips[-1]:>14,.0f}{extra}")
