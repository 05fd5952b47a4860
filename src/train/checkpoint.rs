//! Checkpoints: `daa train` writes one at every epoch end and `--resume` continues from it,
//! bit for bit the run it interrupted.
//!
//! The file (`checkpoint.bin` in the run's directory) is the magic `DAACKPT1`, the length of
//! a JSON header as a little-endian u64, the header ([`Checkpoint`]: which run, epochs done,
//! the loss scaler, the records so far) and the tensors as little-endian binary32: every
//! parameter's value and momentum buffer, then every layer's running state (batch norm), in
//! the network's order. Nothing else carries over between epochs: the data order is drawn
//! from the seed and the epoch, and the learning rate from the step (cosine schedule), so
//! the epoch count is the schedule's position. JSON for the header because it is read by
//! people and the same crate writes every other output; raw binary32 for the tensors
//! because they are most of the file and must round-trip exactly.

use super::layers::{Layer, Seq};
use super::optim::{LossScaler, Sgd};
use super::run::EpochRecord;
use crate::error::InputError;
use crate::files::write_atomic;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The checkpoint's file name inside a run's directory.
pub const FILE: &str = "checkpoint.bin";
const MAGIC: &[u8; 8] = b"DAACKPT1";
/// A header larger than this is not one we wrote.
const MAX_HEADER: u64 = 1 << 30;

/// What identifies a run: a checkpoint resumes only the run that wrote it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunKey {
    /// Model name.
    pub model: String,
    /// `native` or the policy.
    pub policy: String,
    /// F_in.
    pub format: String,
    /// Low-path fraction bits.
    pub lo_bits: u32,
    /// Low-path rounding.
    pub lo_rounding: String,
    /// Epochs of the whole run (the learning-rate schedule spans them).
    pub epochs: usize,
    /// Mini-batch size.
    pub batch: usize,
    /// Optimiser settings.
    pub sgd: Sgd,
    /// Seed.
    pub seed: u64,
    /// Training images used.
    pub train_images: usize,
    /// Test images used.
    pub test_images: usize,
    /// Dynamic loss scaling.
    pub loss_scaling: bool,
}

impl RunKey {
    /// The first field where `self` (this run) and `other` (a checkpoint's or a summary's) differ, with both values.
    pub(crate) fn first_difference(&self, other: &RunKey) -> Option<(&'static str, String, String)> {
        let a = serde_json::to_value(self).ok()?;
        let b = serde_json::to_value(other).ok()?;
        const FIELDS: [&str; 12] = [
            "model",
            "policy",
            "format",
            "lo_bits",
            "lo_rounding",
            "epochs",
            "batch",
            "sgd",
            "seed",
            "train_images",
            "test_images",
            "loss_scaling",
        ];
        FIELDS.into_iter().find(|f| a[f] != b[f]).map(|f| (f, a[f].to_string(), b[f].to_string()))
    }
}

/// The header of a checkpoint.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The run that wrote it.
    pub run: RunKey,
    /// Epochs finished.
    pub epochs_done: usize,
    /// The loss scaler after the last finished epoch.
    pub scaler: LossScaler,
    /// The finished epochs' records.
    pub per_epoch: Vec<EpochRecord>,
    /// The training-loss curve so far.
    pub loss_curve: Vec<(f64, f64)>,
    /// Wall time of the finished epochs, seconds.
    pub seconds: f64,
    /// Length of each tensor in the payload, in order.
    pub tensors: Vec<usize>,
}

/// Calls `f` on each of the network's tensors in checkpoint order.
fn each_tensor(net: &mut Seq, mut f: impl FnMut(&mut Vec<f32>)) {
    for p in net.params() {
        f(&mut p.value);
        f(&mut p.momentum);
    }
    for t in net.state() {
        f(t);
    }
}

/// Writes `head` and the network's tensors to `path` atomically (`head.tensors` is filled in).
pub fn save(path: &Path, mut head: Checkpoint, net: &mut Seq) -> Result<()> {
    let mut payload: Vec<u8> = Vec::new();
    each_tensor(net, |t| {
        head.tensors.push(t.len());
        payload.extend(t.iter().flat_map(|x| x.to_le_bytes()));
    });
    let json = serde_json::to_vec(&head)?;
    write_atomic(path, |w| {
        w.write_all(MAGIC)?;
        w.write_all(&(json.len() as u64).to_le_bytes())?;
        w.write_all(&json)?;
        w.write_all(&payload)?;
        Ok(())
    })
}

/// A checkpoint file split into its header and tensor payload.
pub struct Loaded {
    /// The header.
    pub head: Checkpoint,
    /// The tensors, concatenated.
    pub payload: Vec<f32>,
}

/// Reads a checkpoint; a malformed file is an input error naming the file and what is wrong.
pub fn load(path: &Path) -> Result<Loaded> {
    let bad = |what: &str| InputError::msg(format!("checkpoint {}: {what}", path.display()));
    crate::limits::regular_file(path, "checkpoint")?;
    let bytes = std::fs::read(path).map_err(|e| bad(&format!("cannot read it: {e}")))?;
    if bytes.len() < 16 || &bytes[..8] != MAGIC {
        return Err(bad("not a daa checkpoint (no DAACKPT1 header)").into());
    }
    let len = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes"));
    if len > MAX_HEADER || 16 + len as usize > bytes.len() {
        return Err(bad(&format!("header length {len} exceeds the file ({} bytes)", bytes.len())).into());
    }
    let head: Checkpoint =
        serde_json::from_slice(&bytes[16..16 + len as usize]).map_err(|e| bad(&format!("malformed header: {e}")))?;
    let rest = &bytes[16 + len as usize..];
    let want: usize = head.tensors.iter().sum();
    if rest.len() != want * 4 {
        return Err(bad(&format!("{} payload bytes, the header lists {} binary32 values", rest.len(), want)).into());
    }
    if head.per_epoch.len() != head.epochs_done || head.epochs_done > head.run.epochs {
        return Err(bad(&format!(
            "{} epoch records for {} epochs done of {}",
            head.per_epoch.len(),
            head.epochs_done,
            head.run.epochs
        ))
        .into());
    }
    let payload = rest.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))).collect();
    Ok(Loaded { head, payload })
}

/// Checks that `loaded` was written by the run `key` and copies its tensors into `net`.
pub fn restore(path: &Path, loaded: &Loaded, key: &RunKey, net: &mut Seq) -> Result<()> {
    if let Some((field, ours, theirs)) = key.first_difference(&loaded.head.run) {
        return Err(InputError::msg(format!(
            "checkpoint {} was written by a run with {field} = {theirs}; this run has {field} = {ours} \
             (resume with the settings of the interrupted run)",
            path.display()
        ))
        .into());
    }
    let mut lens = Vec::new();
    each_tensor(net, |t| lens.push(t.len()));
    if lens != loaded.head.tensors {
        return Err(InputError::msg(format!(
            "checkpoint {}: its tensor sizes do not fit the network {}",
            path.display(),
            key.model
        ))
        .into());
    }
    let mut at = 0;
    each_tensor(net, |t| {
        let n = t.len();
        t.copy_from_slice(&loaded.payload[at..at + n]);
        at += n;
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    /// The header's f64 records (loss curve, per-epoch figures) read back to the last bit,
    /// as `--resume` needs: serde_json's default float parser is off by an ulp for some
    /// values, its `float_roundtrip` parser is not.
    #[test]
    fn header_floats_round_trip_exactly() {
        let mut x = 0x2545_F491_4F6C_DD1D_u64;
        let mut values: Vec<(f64, f64)> = vec![(0.10021321961620469, 1.0694435292736013)];
        for i in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Epoch fractions and losses as training makes them.
            values.push((i as f64 + (x % 469) as f64 / 469.0, (x >> 11) as f64 / (1u64 << 53) as f64 * 3.0));
        }
        let back: Vec<(f64, f64)> = serde_json::from_slice(&serde_json::to_vec(&values).unwrap()).unwrap();
        let off =
            values.iter().zip(&back).filter(|(a, b)| a.0.to_bits() != b.0.to_bits() || a.1.to_bits() != b.1.to_bits());
        assert_eq!(off.count(), 0, "f64 values changed through JSON");
    }
}
