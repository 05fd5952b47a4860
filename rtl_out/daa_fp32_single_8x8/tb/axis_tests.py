"""cocotb tests of the AXI4-Stream top through cocotbext-axi: tiles as AXI4-Stream packets
with random pauses on both streams, results scored against the golden model, TREADY and
TVALID checked every cycle against README.md's handshake rules, and the AXI4-Lite registers
against what the testbench counted itself and the golden model's statistics."""

from __future__ import annotations

import logging
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge
from cocotbext.axi import (
    AxiLiteBus,
    AxiLiteMaster,
    AxiStreamBus,
    AxiStreamFrame,
    AxiStreamSink,
    AxiStreamSource,
)

import json

from reference import PACKAGE, Control
from scenario import GEMMS, SEED, Scoreboard, load, random_job

REGISTERS = {r["name"]: r["offset"] for r in json.loads((PACKAGE / "manifest.json").read_text())["axil"]["registers"]}


def pauses(rng: random.Random, p: float):
    while True:
        yield rng.random() < p


class Monitor:
    """Watches both streams every cycle: checks them against README.md's rules and counts
    what the AXI4-Lite counters should hold."""

    def __init__(self, dut, iface):
        self.dut, self.iface = dut, iface
        self.ctl = Control(iface)
        self.errors: list[str] = []
        self.clear()

    def clear(self) -> None:
        self.counts = dict.fromkeys(
            ["BUSY_CYCLES", "IN_STALL_CYCLES", "OUT_STALL_CYCLES", "TILES_DONE", "BEATS_IN", "ROWS_OUT"], 0
        )

    async def run(self) -> None:
        d, ctl, n = self.dut, self.ctl, self.iface.interleave
        first_round, group, open_tiles, cycle = True, 0, 0, 0
        while True:
            await RisingEdge(d.aclk)
            await ReadOnly()
            if not int(d.aresetn.value):
                ctl.reset()
                first_round, group, open_tiles, cycle = True, 0, 0, 0
                continue
            tvalid, tready = int(d.s_axis_tvalid.value), int(d.s_axis_tready.value)
            tlast = int(d.s_axis_tlast.value)
            last_round = int(d.s_axis_tuser.value) if n > 1 else tlast
            mvalid, mready, mlast = int(d.m_axis_tvalid.value), int(d.m_axis_tready.value), int(d.m_axis_tlast.value)
            for what, got, want in [("s_axis_tready", tready, ctl.in_ready()), ("m_axis_tvalid", mvalid, ctl.out_valid())]:
                if got != int(want) and len(self.errors) < 5:
                    self.errors.append(f"cycle {cycle} after reset: {what} = {got}, README.md's rules say {int(want)}")
            if mvalid and mlast != int(ctl.out_last()) and len(self.errors) < 5:
                self.errors.append(f"cycle {cycle}: m_axis_tlast = {mlast} on out_row {ctl.out_row()}")
            c = self.counts
            c["BUSY_CYCLES"] += open_tiles > 0
            c["IN_STALL_CYCLES"] += tvalid and not tready
            c["OUT_STALL_CYCLES"] += mvalid and not mready
            accepted, step = ctl.clock(bool(tvalid), bool(last_round), bool(mready))
            if accepted:
                c["BEATS_IN"] += 1
                open_tiles += first_round and group == 0
                group = (group + 1) % n
                first_round = bool(tlast) or (first_round and group != 0)
            if step:
                c["ROWS_OUT"] += 1
                c["TILES_DONE"] += mlast
                open_tiles -= mlast
            cycle += 1


def beat_bytes(iface, beat) -> bytes:
    _, _, in_a, in_b = beat
    return ((in_b << iface.a_bits) | in_a).to_bytes(iface.axis_bytes, "little")


@cocotb.test()
async def axis_random_gemms(dut):
    """Random GEMMs as AXI4-Stream packets with pauses on both streams; then the counters,
    a counter clear, and the identification registers."""
    iface, cfg = load()
    rng = random.Random(SEED)
    Clock(dut.aclk, 10, unit="ns").start(start_high=False)
    src = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.aclk, dut.aresetn, reset_active_level=False)
    sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.aclk, dut.aresetn, reset_active_level=False)
    axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.aclk, dut.aresetn, reset_active_level=False)
    for log in (src.log, sink.log, axil.read_if.log, axil.write_if.log):
        log.setLevel(logging.WARNING)
    src.set_pause_generator(pauses(rng, 0.25))
    sink.set_pause_generator(pauses(rng, 0.3))
    monitor = Monitor(dut, iface)
    cocotb.start_soon(monitor.run())

    dut.aresetn.value = 0
    await ClockCycles(dut.aclk, 3)
    dut.aresetn.value = 1
    await ClockCycles(dut.aclk, 2)

    async def read(reg: str, wide: bool = True) -> int:
        lo = int.from_bytes((await axil.read(REGISTERS[reg], 4)).data, "little")
        if not wide:
            return lo
        hi = int.from_bytes((await axil.read(REGISTERS[reg] + 4, 4)).data, "little")
        return hi << 32 | lo

    manifest = json.loads((PACKAGE / "manifest.json").read_text())
    for reg in ["ID", "SHAPE", "CONFIG", "FORMAT"]:
        want = manifest["axil"]["constants"][reg]
        got = await read(reg, wide=False)
        assert got == want, f"{reg} reads {got:#010x}, manifest.json says {want:#010x}"

    jobs = [random_job(iface, cfg, rng) for _ in range(GEMMS)]
    board = Scoreboard(iface, "axis_random_gemms")

    async def send_all():
        for job in jobs:
            for ti, tj in job.tiles:
                beats = iface.tile_beats(job.a, job.b, ti, tj)
                data = b"".join(beat_bytes(iface, b) for b in beats)
                if iface.interleave > 1:
                    # cocotbext-axi takes TUSER per byte of TDATA; a beat shows its last byte's.
                    tuser = [last for _, last, _, _ in beats for _ in range(iface.axis_bytes)]
                    await src.send(AxiStreamFrame(data, tuser=tuser))
                else:
                    await src.send(AxiStreamFrame(data))

    sender = cocotb.start_soon(send_all())
    row_bytes = 4 * iface.cols
    for job in jobs:
        for t in range(len(job.tiles)):
            frame = await sink.recv()
            data = bytes(frame.tdata)
            assert len(data) == iface.tile_rows * row_bytes, f"a result packet of {len(data)} bytes"
            for row in range(iface.tile_rows):
                board.row(job, t, row, int.from_bytes(data[row * row_bytes:(row + 1) * row_bytes], "little"))
    await sender
    await ClockCycles(dut.aclk, 4)
    assert not monitor.errors, "timing differs from README.md:\n" + "\n".join(monitor.errors)
    board.check()

    status = await read("STATUS", wide=False)
    assert status & 1 == 0 and status & 8 == 0, f"STATUS {status:#x}: busy or protocol error after a well-formed stream"
    for reg, want in monitor.counts.items():
        got = await read(reg)
        assert got == want, f"{reg} reads {got}, the testbench counted {want}"
    if iface.dual:
        steps = monitor.counts["BEATS_IN"] * iface.rows * iface.cols
        high1 = sum(job.stats["high_stream1"] for job in jobs)
        got = {reg: await read(reg) for reg in ["PE_STEPS", "STREAM0_FULL", "STREAM1_FULL"]}
        want = {"PE_STEPS": steps, "STREAM0_FULL": steps - high1, "STREAM1_FULL": high1}
        assert got == want, f"decision counters {got}, expected {want} (golden model statistics)"
    cycles = await read("CYCLES")
    assert cycles >= monitor.counts["BUSY_CYCLES"] > 0, f"CYCLES {cycles}"

    await axil.write(REGISTERS["CONTROL"], (1).to_bytes(4, "little"))
    for reg in monitor.counts:
        got = await read(reg)
        assert got == 0, f"{reg} reads {got} after CONTROL cleared the counters"
    dut._log.info("%d GEMMs, %d results checked through AXI4-Stream; counters match", len(jobs), board.checked)
