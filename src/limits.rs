//! Every size limit in one place, checked before anything is allocated or run.
//!
//! Each check does its arithmetic with overflow checks and, past a limit, returns an
//! [`InputError`] naming the field, the value and the limit (`docs/limits.md`). The limits
//! keep every command within memory (a few hundred MB) and within minutes on a laptop;
//! they are far above what the tool's own uses need.

use crate::error::InputError;
use std::io::Read;
use std::path::Path;

/// Elements of one matrix of `daa gemm` (A, B and C): 2^24 = 16,777,216, e.g. 4096 x 4096
/// (64 MB of codes; the fast GEMM's decoded planes take about 8 times that).
pub const MAX_MATRIX_ELEMENTS: u64 = 1 << 24;

/// Multiply-accumulates of one `daa gemm` on files (M * K * N): 2^34, e.g. 4096 x 1024 x
/// 4096 (about 2 s at the golden model's 10 GMAC/s on two cores).
pub const MAX_GEMM_MACS: u64 = 1 << 34;

/// Multiply-accumulates of the random mode of `daa gemm`, which runs all four policies and
/// an exact f64 product: 2^30, e.g. 1024 x 1024 x 1024 (about 1.5 s on two cores; it is an
/// exploration tool, and a larger study belongs in `daa gemm --a --b` or `daa bench`).
pub const MAX_RANDOM_GEMM_MACS: u64 = 1 << 30;

/// Vectors in one `daa vectors` file: 2^22 = 4,194,304 (about 230 MB of text for 32-bit
/// formats, 2 s).
pub const MAX_VECTORS: u64 = 1 << 22;

/// `daa bench --size`: M = N = K up to 1024.
pub const MAX_BENCH_SIZE: u64 = 1024;

/// Threads any command may be asked to use.
pub const MAX_THREADS: u64 = 1024;

/// Each dimension of a workload layer (cin, cout, k, stride, pad, h, w, fin, fout) and the
/// mini-batch: 2^20.
pub const MAX_LAYER_DIM: u64 = 1 << 20;

/// Layers in one workload table.
pub const MAX_LAYERS: u64 = 10_000;

/// Multiply-accumulates of one training step of a workload: 2^60 (cycle counts stay
/// exact in 64 bits).
pub const MAX_STEP_MACS: u64 = 1 << 60;

/// Bytes read from a TOML file (configuration, workload table) or a JSON result file.
pub const MAX_TEXT_FILE_BYTES: u64 = 1 << 20;

/// Bytes of one IDX file after decompression (Fashion-MNIST's largest is 47 MB).
pub const MAX_IDX_BYTES: u64 = 1 << 28;

/// Random GEMMs of `daa verify`.
pub const MAX_VERIFY_GEMMS: u64 = 1_000_000;

/// Random vectors of `daa verify`.
pub const MAX_VERIFY_VECTORS: u64 = 1 << 32;

/// Checks `value` against `1 ..= max` for a named field.
pub fn positive(field: &str, value: u64, max: u64) -> Result<u64, InputError> {
    if (1..=max).contains(&value) {
        Ok(value)
    } else {
        Err(InputError::field(field, &value.to_string(), &format!("1 ..= {max}")))
    }
}

/// The product of `factors`, or an error naming `field` when it overflows or passes `max`.
///
/// `shown` is how the product is written in the message (e.g. "M*K = 100000*100000").
pub fn product(field: &str, shown: &str, factors: &[u64], max: u64, what: &str) -> Result<u64, InputError> {
    let p = factors.iter().try_fold(1u64, |acc, &f| acc.checked_mul(f));
    match p {
        Some(p) if p <= max => Ok(p),
        _ => {
            let value = p.map_or_else(|| "more than 2^64".to_string(), |p| p.to_string());
            Err(InputError::msg(format!(
                "`{field}`: {shown} = {value} is too large: at most {max} {what} (docs/limits.md)"
            )))
        }
    }
}

/// A matrix of `rows` x `cols` for the named operand: its element count, within
/// [`MAX_MATRIX_ELEMENTS`].
pub fn matrix(field: &str, rows: u64, cols: u64) -> Result<usize, InputError> {
    let n = product(field, &format!("{rows} x {cols}"), &[rows, cols], MAX_MATRIX_ELEMENTS, "elements per matrix")?;
    Ok(n as usize)
}

/// A GEMM (M x K) * (K x N): every matrix within [`MAX_MATRIX_ELEMENTS`] and M*K*N within `max_macs`.
pub fn gemm(field: &str, m: usize, k: usize, n: usize, max_macs: u64) -> Result<(), InputError> {
    let (m, k, n) = (m as u64, k as u64, n as u64);
    matrix(&format!("{field} (A)"), m, k)?;
    matrix(&format!("{field} (B)"), k, n)?;
    matrix(&format!("{field} (C)"), m, n)?;
    product(field, &format!("M*K*N = {m}*{k}*{n}"), &[m, k, n], max_macs, "multiply-accumulates")?;
    Ok(())
}

/// Reads at most `max` bytes of `path`; a longer file is an error naming `what`, the path
/// and the limit (so `/dev/zero` or a huge file never exhausts memory).
pub fn read_bounded(path: &Path, what: &str, max: u64) -> Result<Vec<u8>, InputError> {
    let cannot = |e: std::io::Error| InputError::msg(format!("cannot read {what} {}: {e}", path.display()));
    regular_file(path, what)?;
    let file = std::fs::File::open(path).map_err(cannot)?;
    read_limited(file, max).map_err(cannot)?.ok_or_else(|| too_big(what, path, max))
}

/// Checks, before anything opens it, that `path` is a regular file (or a link to one):
/// opening a FIFO blocks until a writer comes and a device may never end, so both are
/// refused like a directory.
pub fn regular_file(path: &Path, what: &str) -> Result<(), InputError> {
    let meta =
        std::fs::metadata(path).map_err(|e| InputError::msg(format!("cannot read {what} {}: {e}", path.display())))?;
    if meta.is_file() {
        return Ok(());
    }
    let kind = if meta.is_dir() { "a directory" } else { "not a regular file (a FIFO, socket or device)" };
    Err(InputError::msg(format!("{what} {} is {kind}; a regular file is needed", path.display())))
}

/// [`read_bounded`] as UTF-8 text.
pub fn read_text_bounded(path: &Path, what: &str) -> Result<String, InputError> {
    let bytes = read_bounded(path, what, MAX_TEXT_FILE_BYTES)?;
    String::from_utf8(bytes).map_err(|e| {
        InputError::msg(format!("{what} {} is not UTF-8 text (byte {})", path.display(), e.utf8_error().valid_up_to()))
    })
}

/// The error for a file over its limit.
pub fn too_big(what: &str, path: &Path, max: u64) -> InputError {
    InputError::msg(format!("{what} {} is larger than {max} bytes, the limit (docs/limits.md)", path.display()))
}

/// Everything `r` yields if that is at most `max` bytes; `None` when there is more.
pub fn read_limited(r: impl Read, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut out = Vec::new();
    r.take(max + 1).read_to_end(&mut out)?;
    Ok((out.len() as u64 <= max).then_some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_overflow_into_errors() {
        assert_eq!(product("x", "a*b", &[3, 4], 12, "things"), Ok(12));
        let e = product("shape", "M*K", &[u64::MAX, 2], u64::MAX, "elements").unwrap_err();
        assert!(e.0.contains("more than 2^64") && e.0.contains("`shape`"), "{}", e.0);
        let e = matrix("A", 100_000, 100_000).unwrap_err();
        assert!(e.0.contains("10000000000") && e.0.contains(&MAX_MATRIX_ELEMENTS.to_string()), "{}", e.0);
        assert!(gemm("shape", 4096, 4096, 4096, MAX_GEMM_MACS).is_err(), "2^36 MACs");
        assert!(gemm("shape", 1024, 1024, 1024, MAX_RANDOM_GEMM_MACS).is_ok());
        assert!(gemm("shape", 1024, 1024, 1025, MAX_RANDOM_GEMM_MACS).is_err());
        assert!(gemm("shape", 100_000, 1, 100_000, MAX_GEMM_MACS).is_err(), "C has 10^10 elements");
    }

    #[test]
    fn bounded_reads_stop_at_the_limit() {
        assert_eq!(read_limited(&b"abcd"[..], 4).unwrap(), Some(b"abcd".to_vec()));
        assert_eq!(read_limited(&b"abcde"[..], 4).unwrap(), None);
        assert_eq!(read_limited(std::io::repeat(0), 1000).unwrap(), None, "an endless source");
    }
}
