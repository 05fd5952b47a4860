"""Binding overhead: `daa_gen.gemm` from Python against the same GEMM timed inside Rust (`daa bench`).

Usage: .venv/bin/python python/bench/gemm_overhead.py [--sizes 256 512] [--reps 5] [--threads 2]

Both sides take the best of `reps` runs of an fp32 `daa` GEMM with operands drawn like
`daa bench`'s (A: |N(0,1)| with half zeros, B: 0.1 N(0,1)) and use `threads` threads (rayon's
pool size comes from RAYON_NUM_THREADS, set before the package is imported).
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--daa", default=str(ROOT / "target" / "release" / "daa"))
    args = ap.parse_args()
    os.environ["RAYON_NUM_THREADS"] = str(args.threads)
    import numpy as np

    import daa_gen

    cfg = daa_gen.Config(format="fp32", policy="daa")
    print(f"{'size':>5} {'rust s':>9} {'python s':>9} {'overhead':>9}")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as d:
            out = pathlib.Path(d) / "bench.json"
            subprocess.run([args.daa, "bench", "--size", str(n), "--reps", str(args.reps),
                            "--threads", str(args.threads), "--json", str(out)], check=True, capture_output=True)
            rust = next(r["seconds"] for r in json.loads(out.read_text())["rows"]
                        if r["format"] == "fp32" and r["policy"] == "daa")
        rng = np.random.default_rng(1)
        a = np.abs(rng.standard_normal((n, n), dtype=np.float32))
        a[rng.random((n, n)) < 0.5] = 0
        b = (0.1 * rng.standard_normal((n, n))).astype(np.float32)
        a, b = a.view(np.uint32), b.view(np.uint32)  # fp32 codes: no rounding step
        best = float("inf")
        for _ in range(args.reps):
            t = time.perf_counter()
            daa_gen.gemm(a, b, cfg)
            best = min(best, time.perf_counter() - t)
        print(f"{n:>5} {rust:>9.4f} {best:>9.4f} {100 * (best / rust - 1):>8.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
