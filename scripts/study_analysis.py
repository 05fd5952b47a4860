"""The full-data study's analysis (docs/training.md, "Plan for the full-data study"): from
the `compare.json` of each (model, format, seed) directory, the paired differences
daa - single and daa - static per seed, their mean and standard error, and the verdicts
the study asks for; and from each `--sweep-lo-bits` directory, the lo_bits sweep (daa at
each lo_bits minus single, per seed, mean and standard error; the cell of the same model,
format, data and seed adds its own lo_bits, since its `daa` and `single` are the sweep's
runs at that lo_bits). Usage:
python3 scripts/study_analysis.py DIR... (each DIR one `daa train --compare` or
`--sweep-lo-bits` output; model, format and data are read from the summaries; other
directories are skipped with a note on stderr).

With --update FILE, the tables replace what stands between the `<!-- study-table -->` and
`<!-- /study-table -->` lines of FILE (docs/training.md) instead of going to stdout."""

from __future__ import annotations

import contextlib
import io
import json
import math
import sys
from collections import defaultdict
from pathlib import Path


def load(path: Path) -> tuple[tuple[str, str, str], int, dict[str, float], int]:
    """(model, format, data) key, seed, test accuracy (%) per run of one output, lo_bits."""
    runs = json.loads(path.read_text())
    acc = {r["run"]: 100.0 * r["summary"]["test_accuracy"] for r in runs}
    s = runs[0]["summary"]
    # The data column names a warmup too, so runs of another recipe never share a key.
    warmup = s["sgd"].get("warmup_steps", 0)
    data = f"{s['train_images']} x {s['epochs']}" + (f", warmup {warmup}" if warmup else "")
    return (s["model"], s["format"], data), s["seed"], acc, s["lo_bits"]


def mean_se(xs: list[float]) -> tuple[float, float]:
    m = sum(xs) / len(xs)
    if len(xs) < 2:
        return m, float("nan")
    var = sum((x - m) ** 2 for x in xs) / (len(xs) - 1)
    return m, math.sqrt(var / len(xs))


def pm(mean: float, se: float) -> str:
    """`+0.11 ± 0.09`; one seed has no standard error, no seed no mean."""
    if math.isnan(mean):
        return "-"
    return f"{mean:+.2f}" if math.isnan(se) else f"{mean:+.2f} ± {se:.2f}"


def verdict(xs: list[float], test) -> str:
    """A verdict needs three seeds (the study's minimum; two give a standard error too
    unsteady to lean on) and the difference two standard errors clear of the bound."""
    if len(xs) < 3:
        return f"{len(xs)} seed{'s' if len(xs) != 1 else ''} of 3: no verdict yet"
    return test(*mean_se(xs))


def within_half_pp(m: float, e: float) -> str:
    return "yes" if abs(m) + 2 * e < 0.5 else ("no" if abs(m) - 2 * e >= 0.5 else "not resolved")


def main(dirs: list[str]) -> None:
    if not dirs:
        raise SystemExit(__doc__)
    cells: dict[tuple[str, str, str], dict[int, dict[str, float]]] = defaultdict(dict)
    sweeps: dict[tuple[str, str, str], dict[int, dict[str, float]]] = defaultdict(dict)
    cell_lo_bits: dict[tuple[tuple[str, str, str], int], int] = {}
    for d in map(Path, dirs):
        if (d / "compare.json").is_file():
            key, seed, acc, lo_bits = load(d / "compare.json")
            if seed in cells[key]:
                raise SystemExit(f"error: {d}: a second cell for {key} seed {seed}")
            cells[key][seed] = acc
            cell_lo_bits[key, seed] = lo_bits
        elif (d / "sweep.json").is_file():
            key, seed, acc, _ = load(d / "sweep.json")
            if seed in sweeps[key]:
                raise SystemExit(f"error: {d}: a second sweep for {key} seed {seed}")
            sweeps[key][seed] = acc
        elif d.is_dir() or not d.exists():
            print(f"note: {d}: no compare.json or sweep.json, skipped", file=sys.stderr)
    for key, seeds in sweeps.items():
        for seed, acc in seeds.items():
            cell = cells.get(key, {}).get(seed, {})
            if "daa" in cell and "single" in cell:
                acc.setdefault(f"daa-lo{cell_lo_bits[key, seed]}", cell["daa"])
    # `native` does not depend on the format (plain f32 GEMMs): a cell run without it takes
    # the run of another format's cell with the same model, data and seed.
    for (model, fmt, data), seeds in cells.items():
        for seed, acc in seeds.items():
            if "native" not in acc:
                other = [c[seed]["native"] for k, c in cells.items() if k[0] == model and k[2] == data and seed in c and "native" in c[seed]]
                if other:
                    acc["native"] = other[0]
    print("| model | format | images x epochs | seeds | native | single | daa | static | daa - single (mean ± se) | daa - static (mean ± se) | < 0.5 pp | daa > static |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (model, fmt, data), seeds in sorted(cells.items()):
        order = sorted(seeds)
        def col(run: str) -> str:
            have = [seeds[s][run] for s in order if run in seeds[s]]
            return f"{mean_se(have)[0]:.2f}" if have else "-"

        # Paired only over the seeds that have both runs.
        def diffs(other: str) -> list[float]:
            return [seeds[s]["daa"] - seeds[s][other] for s in order if "daa" in seeds[s] and other in seeds[s]]

        d_single, d_static = diffs("single"), diffs("static")
        (ms, ss) = mean_se(d_single) if d_single else (math.nan, math.nan)
        (mt, st) = mean_se(d_static) if d_static else (math.nan, math.nan)
        within = verdict(d_single, within_half_pp)
        beats = verdict(d_static, lambda m, e: "yes" if m > 2 * e else ("no" if m < -2 * e else "not resolved"))
        print(
            f"| {model} | {fmt} | {data} | {','.join(map(str, order))} | {col('native')} | {col('single')} | {col('daa')} | "
            f"{col('static')} | {pm(ms, ss)} | {pm(mt, st)} | {within} | {beats} |"
        )

    if sweeps:
        print()
        print("| model | format | images x epochs | seeds | lo_bits | daa | single | daa - single (mean ± se) | < 0.5 pp |")
        print("|---|---|---|---|---|---|---|---|---|")
    for (model, fmt, data), seeds in sorted(sweeps.items()):
        order = sorted(seeds)
        runs = sorted({r for s in order for r in seeds[s] if r.startswith("daa-lo")}, key=lambda r: -int(r[6:]))
        for r in runs:
            have = [s for s in order if r in seeds[s] and "single" in seeds[s]]
            if not have:
                continue
            single = mean_se([seeds[s]["single"] for s in have])[0]
            daa = mean_se([seeds[s][r] for s in have])[0]
            d = [seeds[s][r] - seeds[s]["single"] for s in have]
            m, se = mean_se(d)
            print(
                f"| {model} | {fmt} | {data} | {','.join(map(str, have))} | {r[6:]} | {daa:.2f} | {single:.2f} | {pm(m, se)} | "
                f"{verdict(d, within_half_pp)} |"
            )


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--update"] and len(args) >= 2:
        target = Path(args[1])
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            main(args[2:])
        text = target.read_text()
        begin, end = "<!-- study-table -->\n", "<!-- /study-table -->"
        if begin not in text or end not in text:
            raise SystemExit(f"error: {target} has no {begin.strip()} ... {end} block")
        a = text.index(begin) + len(begin)
        target.write_text(text[:a] + out.getvalue() + text[text.index(end, a):])
    else:
        main(args)
