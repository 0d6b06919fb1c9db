#!/usr/bin/env python3
"""Prints the criterion results of benches/group_images.rs as a Markdown table:
median time per query shape and size, and its multiple of that size's floor.

usage: python3 benches/criterion_table.py   (after cargo bench --bench group_images)
"""
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "target" / "criterion"
SIZES = ["10k", "100k", "1M", "10M"]


def median(path):
    try:
        return json.loads((path / "new" / "estimates.json").read_text())["median"]["point_estimate"]
    except FileNotFoundError:
        return None


def fmt(ns):
    if ns is None:
        return "-"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


sizes = [s for s in SIZES if (ROOT / s).exists()]
floors = {s: median(ROOT / s / "floor") for s in sizes}
shapes = sorted({p.name for s in sizes for p in (ROOT / s / "one_thread").glob("*")})
KINDS = ["one_thread", "parallel", "catalog", "partial_merge"]
print("| query | " + " | ".join(f"{s} {k}" for s in sizes for k in KINDS) + " |")
print("|---|" + "---:|" * (len(sizes) * len(KINDS)))
print("| floor | " + " | ".join(fmt(floors[s]) + " |" * (len(KINDS) - 1) for s in sizes) + " |")
for shape in shapes:
    cells = []
    for s in sizes:
        for kind in KINDS:
            t = median(ROOT / s / kind / shape)
            ratio = f" ({t / floors[s]:.1f}x)" if t and floors[s] else ""
            cells.append(fmt(t) + ratio)
    print(f"| {shape} | " + " | ".join(cells) + " |")
