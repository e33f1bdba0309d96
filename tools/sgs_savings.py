#!/usr/bin/env python3
"""SGS savings table from a pb_size-style sweep's results.csv (workloads/sweeps/pb_size.yaml).

For every (accel, weight_load, PB size, DRAM bandwidth, subnet) with both cache=none and cache=min rows,
prints `latency saving % / energy saving %` of caching the min SubGraph in the Persistent Buffer against
the same point with nothing cached (no SGS), as Markdown, one table per subnet. Standard library only.

  sushi sweep workloads/sweeps/pb_size.yaml -j 2
  python3 tools/sgs_savings.py out/sweeps/pb_size/results.csv
"""
import csv
import sys
from collections import defaultdict


def main(path):
    with open(path, newline="") as f:
        lines = [line for line in f if not line.startswith("#")]
    rows = [r for r in csv.DictReader(lines) if r["status"] == "ok"]
    need = {"accel", "accel.buffers.persistent_bytes", "accel.dram.peak_gbps", "accel.behaviour.weight_load",
            "subnet", "cache", "latency_ms", "energy_uj"}
    missing = need - set(rows[0].keys() if rows else need)
    if not rows or missing:
        sys.exit(f"{path}: expected a pb_size sweep's ok rows with columns {sorted(need)}; missing {sorted(missing)}")
    by = {}
    for r in rows:
        key = (r["accel"].split("/")[-1].removesuffix(".yaml"), r["accel.behaviour.weight_load"],
               int(float(r["accel.buffers.persistent_bytes"])), float(r["accel.dram.peak_gbps"]), r["subnet"])
        by[key + (r["cache"],)] = (float(r["latency_ms"]), float(r["energy_uj"]))
    bws = sorted({k[3] for k in by})
    for subnet in sorted({k[4] for k in by}):
        table = defaultdict(dict)
        for k, (lat, en) in by.items():
            if k[4] != subnet or k[5] != "min" or k[:5] + ("none",) not in by:
                continue
            lat0, en0 = by[k[:5] + ("none",)]
            table[k[:3]][k[3]] = f"{100 * (1 - lat / lat0):.1f} / {100 * (1 - en / en0):.1f}"
        print(f"\nsubnet {subnet}: latency / energy saving (%) of the min SubGraph cached vs none, by DRAM GB/s\n")
        print("| accel | weight_load | PB | " + " | ".join(f"{b:g}" for b in bws) + " |")
        print("|---|---|---|" + "---|" * len(bws))
        for (accel, wl, pb), cells in sorted(table.items()):
            if pb == 0:
                continue  # no PB: nothing can be cached
            print(f"| {accel} | {wl} | {pb // 1024}KiB | " + " | ".join(cells.get(b, "-") for b in bws) + " |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: sgs_savings.py RESULTS.csv")
    main(sys.argv[1])
