//! Reading operand matrices from `.npy` and writing results to it (via `npyz`).

use crate::error::InputError;
use crate::files::write_atomic;
use crate::format::Format;
use crate::limits;
use anyhow::Result;
use npyz::WriterBuilder;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// A 2-D matrix of F_in codes, row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeMatrix {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Codes, row-major.
    pub codes: Vec<u32>,
}

const ALLOWED_DTYPES: &str = "uint16 or uint32 (F_in codes) or float32 (rounded to F_in with RNE)";

/// Largest `.npy` header read. numpy itself refuses headers over 10,000 bytes by default;
/// the header length field could otherwise ask for 4 GB before anything is checked.
const MAX_HEADER_BYTES: u64 = 1 << 16;

/// Checks the fixed prelude of a `.npy` file (magic, version, header length) before the
/// header is parsed.
fn check_prelude(file: &mut std::fs::File) -> Result<(), String> {
    let mut pre = Vec::with_capacity(12);
    (&mut *file).take(12).read_to_end(&mut pre).map_err(|e| format!("cannot read the file: {e}"))?;
    let got = pre.len();
    if got < 10 || &pre[..6] != b"\x93NUMPY" {
        return Err("not a valid .npy file: it does not start with the .npy magic \\x93NUMPY".into());
    }
    let header_len = match pre[6] {
        1 => u16::from_le_bytes([pre[8], pre[9]]) as u64,
        2 | 3 if got == 12 => u32::from_le_bytes([pre[8], pre[9], pre[10], pre[11]]) as u64,
        v => return Err(format!("not a valid .npy file: format version {v}.{} (1, 2 and 3 are read)", pre[7])),
    };
    if header_len > MAX_HEADER_BYTES {
        return Err(format!("not a valid .npy file: a header of {header_len} bytes (at most {MAX_HEADER_BYTES})"));
    }
    file.seek(SeekFrom::Start(0)).map_err(|e| format!("cannot read the file: {e}"))?;
    Ok(())
}

/// Reads a 2-D `.npy` of uint16/uint32 codes or float32 values into F_in codes.
///
/// `what` names the operand ("A", "B") in error messages. The shape is checked against
/// [`limits::MAX_MATRIX_ELEMENTS`] and the data length before anything is allocated.
pub fn read_codes(path: &Path, what: &str, format: Format) -> Result<CodeMatrix, InputError> {
    let err = |m: String| InputError::msg(format!("{what} ({}): {m}", path.display()));
    limits::regular_file(path, what)?;
    let mut file = std::fs::File::open(path).map_err(|e| err(format!("cannot read the file: {e}")))?;
    let meta = file.metadata().map_err(|e| err(format!("cannot read the file: {e}")))?;
    if meta.is_dir() {
        return Err(err("is a directory, not a .npy file".into()));
    }
    check_prelude(&mut file).map_err(err)?;
    let npy = npyz::NpyFile::new(BufReader::new(file)).map_err(|e| err(format!("not a valid .npy file: {e}")))?;
    let shape = npy.shape().to_vec();
    if shape.len() != 2 {
        return Err(err(format!("expected a 2-D array, got {} dimension(s) with shape {shape:?}", shape.len())));
    }
    let n = limits::matrix(what, shape[0], shape[1]).map_err(|e| err(e.0))?;
    let (rows, cols) = (shape[0] as usize, shape[1] as usize);
    let fortran = npy.order() == npyz::Order::Fortran;
    let descr = npy.dtype().descr().trim_matches('\'').to_string();
    let kind = descr.trim_start_matches(['<', '>', '|', '=']);
    let item = match kind {
        "u2" => 2,
        "u4" | "f4" => 4,
        "f8" => {
            return Err(err(format!(
                "dtype '{descr}' (float64, numpy's default) is not read: allowed {ALLOWED_DTYPES}; \
                 convert with A.astype(numpy.float32), which is then rounded to F_in here"
            )))
        }
        _ => return Err(err(format!("dtype '{descr}' is not supported: allowed {ALLOWED_DTYPES}"))),
    };
    if meta.is_file() && (n as u64) * item > meta.len() {
        return Err(err(format!(
            "data is truncated: shape {rows}x{cols} of {descr} needs {} bytes, the file has {}",
            n as u64 * item,
            meta.len()
        )));
    }
    let read_err = |e: std::io::Error| err(format!("data is truncated or malformed: {e}"));
    let mut codes: Vec<u32> = match kind {
        "u2" => npy.into_vec::<u16>().map_err(read_err)?.into_iter().map(u32::from).collect(),
        "u4" => npy.into_vec::<u32>().map_err(read_err)?,
        _ => npy.into_vec::<f32>().map_err(read_err)?.into_iter().map(|x| format.encode_rne(x)).collect(),
    };
    if codes.len() != n {
        return Err(err(format!("holds {} values, shape {rows}x{cols} needs {n}", codes.len())));
    }
    format.check_codes(codes.iter().copied()).map_err(|e| err(e.0))?;
    if fortran {
        codes = (0..n).map(|x| codes[(x % cols) * rows + x / cols]).collect();
    }
    Ok(CodeMatrix { rows, cols, codes })
}

/// Writes a row-major float32 matrix as `.npy`, atomically.
pub fn write_f32(path: &Path, rows: usize, cols: usize, data: &[f32]) -> Result<()> {
    write_atomic(path, |w| write_f32_to(w, rows, cols, data))
}

/// Writes a row-major float32 matrix as `.npy` to `w`.
pub fn write_f32_to(w: &mut dyn std::io::Write, rows: usize, cols: usize, data: &[f32]) -> Result<()> {
    let mut writer =
        npyz::WriteOptions::new().default_dtype().shape(&[rows as u64, cols as u64]).writer(w).begin_nd()?;
    writer.extend(data.iter().copied())?;
    writer.finish()?;
    Ok(())
}

/// Writes a row-major matrix of codes as a uint32 `.npy`, atomically.
pub fn write_codes(path: &Path, m: &CodeMatrix) -> Result<()> {
    write_atomic(path, |w| {
        let mut writer =
            npyz::WriteOptions::new().default_dtype().shape(&[m.rows as u64, m.cols as u64]).writer(w).begin_nd()?;
        writer.extend(m.codes.iter().copied())?;
        writer.finish()?;
        Ok(())
    })
}
