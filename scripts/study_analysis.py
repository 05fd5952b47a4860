"""The full-data study's analysis (docs/training.md, "Plan for the full-data study"): from
the `compare.json` of each (model, format, seed) directory, the paired differences
daa - single and daa - static per seed, their mean and standard error, and the verdicts
the study asks for. Usage: python3 scripts/study_analysis.py DIR... (each DIR one
`daa train --compare` output; model and format are read from the summaries)."""

from __future__ import annotations

import json
import math
import sys
from collections import defaultdict
from pathlib import Path


def load(d: Path) -> tuple[tuple[str, str], int, dict[str, float]]:
    runs = json.loads((d / "compare.json").read_text())
    acc = {r["run"]: 100.0 * r["summary"]["test_accuracy"] for r in runs}
    s = runs[0]["summary"]
    return (s["model"], s["format"]), s["seed"], acc


def mean_se(xs: list[float]) -> tuple[float, float]:
    m = sum(xs) / len(xs)
    if len(xs) < 2:
        return m, float("nan")
    var = sum((x - m) ** 2 for x in xs) / (len(xs) - 1)
    return m, math.sqrt(var / len(xs))


def pm(mean: float, se: float) -> str:
    """`+0.11 ± 0.09`; one seed has no standard error."""
    return f"{mean:+.2f}" if math.isnan(se) else f"{mean:+.2f} ± {se:.2f}"


def main(dirs: list[str]) -> None:
    if not dirs:
        raise SystemExit(__doc__)
    cells: dict[tuple[str, str], dict[int, dict[str, float]]] = defaultdict(dict)
    for d in dirs:
        key, seed, acc = load(Path(d))
        cells[key][seed] = acc
    print("| model | format | seeds | native | single | daa | static | daa - single (mean ± se) | daa - static (mean ± se) | < 0.5 pp | daa > static |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (model, fmt), seeds in sorted(cells.items()):
        order = sorted(seeds)
        col = lambda run: mean_se([seeds[s][run] for s in order if run in seeds[s]])[0]
        d_single = [seeds[s]["daa"] - seeds[s]["single"] for s in order]
        d_static = [seeds[s]["daa"] - seeds[s]["static"] for s in order]
        (ms, ss), (mt, st) = mean_se(d_single), mean_se(d_static)
        # A verdict needs the difference two standard errors clear of the bound; one seed has none.
        if ss != ss:
            within = beats = "one seed: not resolved"
        else:
            within = "yes" if abs(ms) + 2 * ss < 0.5 else ("no" if abs(ms) - 2 * ss >= 0.5 else "not resolved")
            beats = "yes" if mt > 2 * st else ("no" if mt < -2 * st else "not resolved")
        print(
            f"| {model} | {fmt} | {','.join(map(str, order))} | {col('native'):.2f} | {col('single'):.2f} | {col('daa'):.2f} | "
            f"{col('static'):.2f} | {pm(ms, ss)} | {pm(mt, st)} | {within} | {beats} |"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
