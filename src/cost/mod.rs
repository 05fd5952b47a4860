//! The cost model of docs/cost.md: throughput from the cycle model over workloads
//! given as data, area from Yosys, energy from gate-level toggle counts, and the report.

pub mod area;
pub mod energy;
pub mod fpga;
pub mod netlist;
pub mod perf;
pub mod report;
pub mod toolbench;
pub mod workloads;
