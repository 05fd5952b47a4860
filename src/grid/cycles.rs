//! The cycle model of the grid: the control logic of `templates/grid.v` stepped cycle by
//! cycle (handshakes, the two output banks, the drain), and GEMM tiling over M and N.
//!
//! Every datapath delay is a constant of the configuration: a beat accepted in cycle n
//! reaches PE (r, c) in cycle n + 1 + r + c, and the capture of a tile's last beat in the
//! last PE happens in cycle n + R + C + LAT - 1 (`done_delay`); the tile's first row can
//! leave in the next cycle. With `interleave` N, a tile has N row groups, its beats come in
//! rounds of N (beat j: group j mod N), and a beat of group g is accepted only in a cycle
//! n with n mod N = g (cycles counted from the first after reset).

use crate::config::Config;

/// The source and sink patterns: whether the source offers a beat and the sink is ready,
/// per cycle, from a seeded splitmix64 (the same generator runs in the Verilator harness).
#[derive(Clone, Copy, Debug)]
pub struct Pattern {
    /// Seed of the generator.
    pub seed: u64,
    /// Chance (out of 256) that the source offers its next beat in a cycle.
    pub valid_256: u32,
    /// Chance (out of 256) that the sink is ready in a cycle.
    pub ready_256: u32,
}

impl Pattern {
    /// Always valid, always ready.
    pub const FULL_SPEED: Pattern = Pattern { seed: 0, valid_256: 256, ready_256: 256 };
}

/// splitmix64, as in `templates/grid_harness.cpp`.
#[derive(Clone, Copy, Debug)]
pub struct SplitMix(pub u64);

impl SplitMix {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// (source offers, sink ready) for one cycle.
    pub fn cycle(&mut self, p: &Pattern) -> (bool, bool) {
        let x = self.next_u64();
        (((x & 0xFF) as u32) < p.valid_256, (((x >> 8) & 0xFF) as u32) < p.ready_256)
    }
}

/// One output row leaving the array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowOut {
    /// Cycle of the transfer (0 = first cycle after reset).
    pub cycle: u64,
    /// Tile index, in input order.
    pub tile: usize,
    /// Row within the tile.
    pub row: u32,
}

/// Array shape and pipeline depth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Rows R.
    pub rows: u32,
    /// Columns C.
    pub cols: u32,
    /// PE latency.
    pub latency: u32,
    /// Operands per link (2 dual-stream, 1 single).
    pub lanes: u32,
    /// Row groups per tile (accumulators per PE).
    pub interleave: u32,
}

impl Timing {
    /// The timing of a configuration.
    pub fn of(cfg: &Config) -> Timing {
        Timing {
            rows: cfg.rows,
            cols: cfg.cols,
            latency: cfg.latency(),
            lanes: super::lanes(cfg),
            interleave: cfg.interleave,
        }
    }

    /// Cycles from accepting a tile's last beat to the capture in the last PE.
    pub fn done_delay(&self) -> u64 {
        (self.rows + self.cols + self.latency - 1) as u64
    }

    /// Output rows of one tile.
    pub fn tile_rows(&self) -> u32 {
        self.rows * self.interleave
    }

    /// Beats of one tile for reduction length K: N rounds of ceil(K / lanes) beats.
    pub fn beats(&self, k: usize) -> usize {
        k.div_ceil(self.lanes as usize).max(1) * self.interleave as usize
    }

    /// Runs the control logic for tiles of `beats[i]` beats under `pattern`; returns every
    /// output row's transfer and the total cycles (last transfer + 1).
    pub fn simulate(&self, beats: &[usize], pattern: &Pattern) -> (Vec<RowOut>, u64) {
        let mut rng = SplitMix(pattern.seed);
        self.simulate_with(beats, |_| rng.cycle(pattern))
    }

    /// [`Timing::simulate`] with (source offers, sink ready) given per cycle by `io`.
    pub fn simulate_with(&self, beats: &[usize], mut io: impl FnMut(u64) -> (bool, bool)) -> (Vec<RowOut>, u64) {
        let rows = self.tile_rows();
        let groups = self.interleave as u64;
        let (mut at_boundary, mut tile_bank) = (true, 0usize);
        let (mut owned, mut full) = ([false; 2], [false; 2]);
        let (mut drain_bank, mut drain_row) = (0usize, 0u32);
        // Tiles in each bank, in order; completion events (cycle, bank).
        let mut bank_tile = [0usize; 2];
        let mut done: std::collections::VecDeque<(u64, usize)> = Default::default();
        let (mut tile, mut beat) = (0usize, 0usize);
        let total_rows = beats.len() * rows as usize;
        let mut out = Vec::with_capacity(total_rows);
        let mut n = 0u64;
        while out.len() < total_rows {
            let (offer, ready) = io(n);
            let in_ready = (!at_boundary || !owned[tile_bank]) && n % groups == (beat as u64) % groups;
            let accept = offer && tile < beats.len() && in_ready;
            let step = full[drain_bank] && ready;
            if step {
                out.push(RowOut { cycle: n, tile: bank_tile[drain_bank], row: drain_row });
            }
            if accept {
                if at_boundary {
                    owned[tile_bank] = true;
                    bank_tile[tile_bank] = tile;
                }
                let last = beat + 1 == beats[tile];
                at_boundary = last;
                if last {
                    done.push_back((n + self.done_delay(), tile_bank));
                    tile_bank ^= 1;
                    tile += 1;
                    beat = 0;
                } else {
                    beat += 1;
                }
            }
            while done.front().is_some_and(|d| d.0 == n) {
                full[done.pop_front().expect("present").1] = true;
            }
            if step {
                if drain_row == rows - 1 {
                    full[drain_bank] = false;
                    owned[drain_bank] = false;
                    drain_bank ^= 1;
                    drain_row = 0;
                } else {
                    drain_row += 1;
                }
            }
            n += 1;
        }
        (out, n)
    }

    /// Cycles of a GEMM (M x K) * (K x N) tiled over M and N, source and sink at full speed.
    pub fn gemm_cycles(&self, m: usize, k: usize, n: usize) -> u64 {
        let tiles = m.div_ceil(self.tile_rows() as usize) * n.div_ceil(self.cols as usize);
        self.equal_tiles_cycles(tiles as u64, self.beats(k))
    }

    /// Cycles of `tiles` back-to-back tiles of `beats` beats each at full speed, for any count.
    ///
    /// The control logic is periodic in pairs of tiles (two banks) once the pipeline is
    /// full: up to `STEPPED` tiles are stepped exactly, beyond that each further pair adds
    /// what the last stepped pair added. A tile of at least `done_delay + tile_rows` beats
    /// (a whole number of rounds) never waits for a bank: the bank it fills was drained
    /// during the tile before, so each beat beyond that adds exactly one cycle per tile, and
    /// the time is bounded for any K. `tests/cost.rs` checks both against stepping.
    pub fn equal_tiles_cycles(&self, tiles: u64, beats: usize) -> u64 {
        const STEPPED: u64 = 32;
        let rounds = self.interleave as usize;
        let long = (self.done_delay() as usize + self.tile_rows() as usize).next_multiple_of(rounds);
        if beats > long && beats.is_multiple_of(rounds) {
            return self.equal_tiles_cycles(tiles, long) + tiles * (beats - long) as u64;
        }
        let stepped = |t: u64| self.simulate(&vec![beats; t as usize], &Pattern::FULL_SPEED).1;
        if tiles <= STEPPED + 2 {
            return stepped(tiles);
        }
        let base = STEPPED + (tiles - STEPPED) % 2;
        let (c0, c1) = (stepped(base), stepped(base + 2));
        c0 + (tiles - base) / 2 * (c1 - c0)
    }
}
