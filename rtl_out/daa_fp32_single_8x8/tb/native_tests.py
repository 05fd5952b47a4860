"""cocotb tests of the native top: random GEMMs with input gaps and output back-pressure,
and a reset in the middle of a stream. Every cycle, in_ready, out_valid, out_row and
out_last are checked against README.md's handshake rules (reference.Control); every result
against the golden model; the sum of pe_high against the golden model's statistics."""

from __future__ import annotations

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from reference import Control
from scenario import GEMMS, SEED, Scoreboard, load, random_job


class Bench:
    def __init__(self, dut, test: str, seed: int):
        self.dut = dut
        self.iface, self.cfg = load()
        self.rng = random.Random(seed)
        self.ctl = Control(self.iface)
        self.board = Scoreboard(self.iface, test)
        self.high1 = 0
        self.timing_errors: list[str] = []
        self.started = False
        Clock(dut.clock, 10, unit="ns").start(start_high=False)

    async def reset(self, cycles: int = 2) -> None:
        """Holds rst for `cycles` cycles; returns at the falling edge where it drops, which
        is where `run` drives its first cycle, so no cycle goes unmodelled."""
        d = self.dut
        if not self.started:
            self.started = True
            await FallingEdge(d.clock)
        d.rst.value = 1
        d.in_valid.value = 0
        d.in_first.value = 0
        d.in_last.value = 0
        d.in_a.value = 0
        d.in_b.value = 0
        d.out_ready.value = 0
        for _ in range(cycles):
            await ReadOnly()
            if int(d.in_ready.value) or int(d.out_valid.value):
                self.timing_errors.append("in_ready or out_valid high during reset")
            await FallingEdge(d.clock)
        d.rst.value = 0
        self.ctl.reset()

    async def run(self, jobs, p_valid: float, p_ready: float, reset_after: bool = False) -> None:
        """Streams the jobs' tiles back to back and scores every row. With `reset_after`,
        asserts rst at a random cycle while beats are still pending (fewer cycles than
        beats have passed), which drops every tile in flight."""
        d, ctl, iface = self.dut, self.ctl, self.iface
        beats = [(j, t, beat) for j, job in enumerate(jobs) for t, (ti, tj) in enumerate(job.tiles)
                 for beat in iface.tile_beats(job.a, job.b, ti, tj)]
        sink = [(j, t) for j, job in enumerate(jobs) for t in range(len(job.tiles))]
        expect_rows = len(sink) * iface.tile_rows
        got_rows, cycle = 0, 0
        offered = False
        reset_cycle = self.rng.randint(2, max(2, len(beats) - 1)) if reset_after else -1
        while got_rows < expect_rows:
            # Here: a falling edge, where the inputs of this cycle are driven.
            if cycle == reset_cycle:
                await self.reset()
                return
            # A beat, once offered, stays offered until taken half of the time (AXI-like);
            # the native top allows withdrawing it, which the other half exercises.
            if not (offered and self.rng.random() < 0.5):
                offered = bool(beats) and self.rng.random() < p_valid
            first, last, in_a, in_b = beats[0][2] if beats else (0, 0, 0, 0)
            d.in_valid.value = int(offered)
            d.in_first.value = first
            d.in_last.value = last
            d.in_a.value = in_a
            d.in_b.value = in_b
            ready = self.rng.random() < p_ready
            d.out_ready.value = int(ready)
            await ReadOnly()
            self.expect("in_ready", int(d.in_ready.value), int(ctl.in_ready()), cycle)
            self.expect("out_valid", int(d.out_valid.value), int(ctl.out_valid()), cycle)
            if ctl.out_valid():
                self.expect("out_row", int(d.out_row.value), ctl.out_row(), cycle)
                self.expect("out_last", int(d.out_last.value), int(ctl.out_last()), cycle)
            if iface.dual:
                self.high1 += bin(int(d.pe_high.value)).count("1")
            accepted, step = ctl.clock(offered, bool(last), ready)
            if step:
                j, t = sink[0]
                row = got_rows % iface.tile_rows
                self.board.row(jobs[j], t, row, int(d.out_data.value))
                got_rows += 1
                if row == iface.tile_rows - 1:
                    sink.pop(0)
            if accepted:
                beats.pop(0)
                offered = False
            cycle += 1
            await FallingEdge(d.clock)
            if cycle > 50 * (expect_rows + len(beats)) + 2000:
                raise AssertionError(f"timeout: {got_rows} of {expect_rows} rows after {cycle} cycles")

    def expect(self, what: str, got: int, want: int, cycle: int) -> None:
        if got != want and len(self.timing_errors) < 5:
            self.timing_errors.append(f"cycle {cycle} after reset: {what} = {got}, README.md's rules say {want}")

    def check(self) -> None:
        assert not self.timing_errors, "timing differs from README.md:\n" + "\n".join(self.timing_errors)
        self.board.check()


@cocotb.test()
async def random_gemms(dut):
    """Random GEMMs back to back with input gaps and output back-pressure."""
    bench = Bench(dut, "random_gemms", SEED)
    await bench.reset()
    jobs = [random_job(bench.iface, bench.cfg, bench.rng) for _ in range(GEMMS)]
    await bench.run(jobs, p_valid=0.8, p_ready=0.7)
    bench.check()
    if bench.iface.dual:
        want = sum(job.stats["high_stream1"] for job in jobs)
        assert bench.high1 == want, f"pe_high counted {bench.high1} stream-1 decisions, the golden model {want}"
    dut._log.info("%d GEMMs, %d results checked, %d stream-1 decisions", len(jobs), bench.board.checked, bench.high1)


@cocotb.test()
async def full_speed(dut):
    """Source always valid and sink always ready: tiles back to back at one beat a cycle."""
    bench = Bench(dut, "full_speed", SEED + 1)
    await bench.reset()
    jobs = [random_job(bench.iface, bench.cfg, bench.rng) for _ in range(max(1, GEMMS // 2))]
    await bench.run(jobs, p_valid=1.0, p_ready=1.0)
    bench.check()


@cocotb.test()
async def reset_mid_stream(dut):
    """A reset in the middle of a stream drops every tile in flight; the array then runs a
    fresh GEMM from a clean state (README.md, "Reset")."""
    bench = Bench(dut, "reset_mid_stream", SEED + 2)
    await bench.reset()
    doomed = [random_job(bench.iface, bench.cfg, bench.rng) for _ in range(2)]
    await bench.run(doomed, p_valid=0.9, p_ready=0.5, reset_after=True)
    jobs = [random_job(bench.iface, bench.cfg, bench.rng) for _ in range(2)]
    await bench.run(jobs, p_valid=0.8, p_ready=0.7)
    bench.check()
