"""scripts/study_analysis.py, which writes the study's table in docs/training.md: paired
differences, their mean and standard error, the verdicts, the lo_bits sweep, and the
refusal of a second cell of one setting and seed."""

import json
import math
import subprocess
import sys

from conftest import ROOT

SCRIPT = ROOT / "scripts" / "study_analysis.py"


def summary(model, fmt, seed, lo_bits=7, warmup=0, images=60000, epochs=10):
    return {
        "model": model,
        "format": fmt,
        "seed": seed,
        "lo_bits": lo_bits,
        "train_images": images,
        "epochs": epochs,
        "sgd": {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.0005, "warmup_steps": warmup},
    }


def cell(root, name, acc, kind="compare", **kw):
    """One `daa train --compare` (or `--sweep-lo-bits`) output with these test accuracies (%)."""
    d = root / name
    d.mkdir()
    s = summary(**kw)
    runs = [{"run": r, "summary": dict(s, test_accuracy=a / 100.0)} for r, a in acc.items()]
    (d / f"{kind}.json").write_text(json.dumps(runs))
    return d


def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True)


def rows(out):
    """The tables' rows as lists of cells, headers and rules left out."""
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in out.splitlines() if line.startswith("| ")]
    return [c for c in cells if c[0] != "model"]


def test_paired_differences_and_verdicts(tmp_path):
    # daa - single: +0.1, +0.3, +0.2 (mean 0.2, se 0.0577: 0.2 + 2 se < 0.5, "yes");
    # daa - static: +1.0, +0.8, +1.2 (mean 1.0, se 0.115: clear of zero, "yes").
    for seed, (single, daa, static) in enumerate([(90.0, 90.1, 89.1), (90.5, 90.8, 90.0), (91.0, 91.2, 90.0)], 1):
        cell(tmp_path, f"l-{seed}", {"native": 90.0, "single": single, "daa": daa, "static": static}, model="lenet5", fmt="fp32", seed=seed)
    # Two seeds only: a mean but no verdict; `native` borrowed from the fp32 cell of the seed.
    for seed in (1, 2):
        cell(tmp_path, f"b-{seed}", {"single": 90.0, "daa": 89.0 + seed, "static": 90.0}, model="lenet5", fmt="bf16", seed=seed, lo_bits=3)
    r = run(*sorted(tmp_path.iterdir()))
    assert r.returncode == 0, r.stderr
    t = {(row[0], row[1]): row for row in rows(r.stdout)}
    fp32 = t["lenet5", "fp32"]
    assert fp32[2] == "60000 x 10" and fp32[3] == "1,2,3"
    m, se = 0.2, math.sqrt(sum((x - 0.2) ** 2 for x in (0.1, 0.3, 0.2)) / 2 / 3)
    assert fp32[8] == f"+{m:.2f} ± {se:.2f}", fp32
    assert fp32[9] == "+1.00 ± 0.12", fp32
    assert fp32[10:] == ["yes", "yes"], fp32
    bf16 = t["lenet5", "bf16"]
    assert bf16[4] == "90.00", "native comes from the fp32 cell of the same seeds"
    assert bf16[8] == "+0.50 ± 0.50" and bf16[10] == "2 seeds of 3: no verdict yet", bf16


def test_not_resolved_and_no(tmp_path):
    # daa - single: -0.6, -0.7, -0.8: clear of the 0.5 pp bound, "no"; daa - static
    # +0.5, -0.5, +0.3: neither way, "not resolved".
    for seed, (d1, d2) in enumerate([(-0.6, 0.5), (-0.7, -0.5), (-0.8, 0.3)], 1):
        cell(tmp_path, f"v-{seed}", {"single": 90.0, "daa": 90.0 + d1, "static": 90.0 + d1 - d2}, model="vgg-small", fmt="fp32", seed=seed, warmup=500)
    r = run(*sorted(tmp_path.iterdir()))
    assert r.returncode == 0, r.stderr
    (row,) = rows(r.stdout)
    assert row[2] == "60000 x 10, warmup 500", "the recipe's warmup is part of the setting"
    assert row[10:] == ["no", "not resolved"], row


def test_sweep_takes_the_cells_lo_bits(tmp_path):
    for seed in (1, 2, 3):
        cell(tmp_path, f"c-{seed}", {"single": 90.0, "daa": 90.1, "static": 90.0}, model="lenet5", fmt="fp32", seed=seed)
        cell(tmp_path, f"s-{seed}", {"single": 90.0, "daa-lo5": 89.9, "daa-lo0": 90.0 + 0.1 * seed}, kind="sweep", model="lenet5", fmt="fp32", seed=seed)
    r = run(*sorted(tmp_path.iterdir()))
    assert r.returncode == 0, r.stderr
    sweep = [row for row in rows(r.stdout) if len(row) == 9]
    assert [row[4] for row in sweep] == ["7", "5", "0"], "the cell's lo_bits 7 joins, widest first"
    assert sweep[0][7] == "+0.10 ± 0.00" and sweep[1][7] == "-0.10 ± 0.00"
    assert sweep[2][7] == "+0.20 ± 0.06" and sweep[2][8] == "yes", sweep[2]


def test_second_cell_of_one_seed_is_an_error(tmp_path):
    cell(tmp_path, "a", {"single": 90.0, "daa": 90.0}, model="lenet5", fmt="fp32", seed=1)
    cell(tmp_path, "b", {"single": 91.0, "daa": 91.0}, model="lenet5", fmt="fp32", seed=1)
    r = run(tmp_path / "a", tmp_path / "b")
    assert r.returncode != 0 and "a second cell" in r.stderr, r.stderr


def test_update_replaces_only_the_marked_block(tmp_path):
    d = cell(tmp_path, "a", {"single": 90.0, "daa": 90.0}, model="lenet5", fmt="fp32", seed=1)
    doc = tmp_path / "doc.md"
    doc.write_text("before\n<!-- study-table -->\nold\n<!-- /study-table -->\nafter\n")
    r = run("--update", doc, d)
    assert r.returncode == 0, r.stderr
    text = doc.read_text()
    assert text.startswith("before\n<!-- study-table -->\n| model |") and text.endswith("<!-- /study-table -->\nafter\n")
    assert "old" not in text
    doc.write_text("no markers\n")
    r = run("--update", doc, d)
    assert r.returncode != 0 and doc.read_text() == "no markers\n"
