"""The package's interface as README.md specifies it, in plain Python: the beat layout and
the handshake rules cycle by cycle. Independent of the generator: it reads only
manifest.json (numbers) and follows README.md (rules), so a disagreement with the RTL is a
bug in one of them. The arithmetic comes from the golden model (`daa_gen`), not from here."""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PACKAGE = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Interface:
    """The numbers of manifest.json that the interface depends on."""

    name: str
    rows: int
    cols: int
    lanes: int
    width: int
    interleave: int
    latency: int
    a_bits: int
    b_bits: int
    axis_bytes: int
    policy: str
    dual: bool

    @classmethod
    def load(cls, package: Path = PACKAGE) -> "Interface":
        m = json.loads((package / "manifest.json").read_text())
        c = m["config"]
        return cls(
            name=m["name"],
            rows=c["rows"],
            cols=c["cols"],
            lanes=m["lanes"],
            width=c["width"],
            interleave=c["interleave"],
            latency=m["pe_latency"],
            a_bits=m["beat"]["a_bits"],
            b_bits=m["beat"]["b_bits"],
            axis_bytes=m["axis"]["s_tdata_bits"] // 8,
            policy=c["policy"],
            dual=m["lanes"] == 2,
        )

    @property
    def tile_rows(self) -> int:
        """N x R output rows per tile."""
        return self.interleave * self.rows

    @property
    def done_delay(self) -> int:
        """D = R + C + LAT - 1: a tile's last beat accepted in cycle a fills its bank in
        cycle a + D, so its first row is offered from cycle a + D + 1."""
        return self.rows + self.cols + self.latency - 1

    def tile_beats(self, a: np.ndarray, b: np.ndarray, ti: int, tj: int) -> list[tuple[int, int, int, int]]:
        """The beats of tile (ti, tj) of C = A x B as (first, last, in_a, in_b), README.md
        "Data layout": rounds t of N beats, beat N*t + g carries rows g*R + r of the tile and
        k = lanes*t + l; operands outside A and B are +0 codes."""
        (m, k), n = a.shape, b.shape[1]
        rounds = max(1, -(-k // self.lanes))
        w, mask = self.width, (1 << self.width) - 1
        beats = []
        for t in range(rounds):
            for g in range(self.interleave):
                in_a = 0
                for r in range(self.rows):
                    i = ti * self.tile_rows + g * self.rows + r
                    for lane in range(self.lanes):
                        kk = t * self.lanes + lane
                        code = int(a[i, kk]) if i < m and kk < k else 0
                        in_a |= (code & mask) << ((r * self.lanes + lane) * w)
                in_b = 0
                for c in range(self.cols):
                    j = tj * self.cols + c
                    for lane in range(self.lanes):
                        kk = t * self.lanes + lane
                        code = int(b[kk, j]) if j < n and kk < k else 0
                        in_b |= (code & mask) << ((c * self.lanes + lane) * w)
                beats.append((int(t == 0), int(t == rounds - 1), in_a, in_b))
        return beats

    def tiles(self, m: int, n: int) -> list[tuple[int, int]]:
        """Tiles (tile row, tile column) covering M x N, tile columns fastest."""
        return [(ti, tj) for ti in range(-(-m // self.tile_rows)) for tj in range(-(-n // self.cols))]


class Control:
    """README.md "Handshake rules, cycle by cycle", stepped once per clock.

    Call `in_ready()`, `out_valid()`, `out_row()` for the current cycle, then `clock()`
    with what the environment drove in it."""

    def __init__(self, iface: Interface):
        self.iface = iface
        self.reset()

    def reset(self) -> None:
        self.at_boundary = True
        self.tile_bank = 0
        self.owned = [False, False]
        self.full = [False, False]
        self.drain_bank = 0
        self.drain_row = 0
        self.phase = 0
        self.group = 0
        self.cycle = 0
        self.done: deque[tuple[int, int]] = deque()

    def in_ready(self) -> bool:
        return (not self.at_boundary or not self.owned[self.tile_bank]) and self.phase == self.group

    def out_valid(self) -> bool:
        return self.full[self.drain_bank]

    def out_row(self) -> int:
        return self.drain_row

    def out_last(self) -> bool:
        return self.drain_row == self.iface.tile_rows - 1

    def clock(self, in_valid: bool, in_last: bool, out_ready: bool) -> tuple[bool, bool]:
        """Advances one cycle; returns (beat accepted, row transferred)."""
        n = self.iface.interleave
        accept = in_valid and self.in_ready()
        step = self.out_valid() and out_ready
        if accept:
            if self.at_boundary:
                self.owned[self.tile_bank] = True
            group_last = self.group == n - 1
            tile_end = in_last and group_last
            self.at_boundary = tile_end
            if tile_end:
                self.done.append((self.cycle + self.iface.done_delay, self.tile_bank))
                self.tile_bank ^= 1
            self.group = 0 if group_last else self.group + 1
        while self.done and self.done[0][0] == self.cycle:
            self.full[self.done.popleft()[1]] = True
        if step:
            if self.out_last():
                self.full[self.drain_bank] = False
                self.owned[self.drain_bank] = False
                self.drain_bank ^= 1
                self.drain_row = 0
            else:
                self.drain_row += 1
        self.phase = (self.phase + 1) % n
        self.cycle += 1
        return accept, step


def describe(bits: int) -> str:
    """A binary32 value field by field: sign, biased exponent, fraction, and its value."""
    s, e, f = bits >> 31, (bits >> 23) & 0xFF, bits & 0x7FFFFF
    value = np.array([bits], dtype=np.uint32).view(np.float32)[0]
    return f"0x{bits:08x} (sign {s}, exp {e}, frac 0x{f:06x} = {float(value):.9g})"
