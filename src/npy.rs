//! Reading operand matrices from `.npy` and writing results to it (via `npyz`).

use crate::error::InputError;
use crate::files::write_atomic;
use crate::format::Format;
use anyhow::Result;
use npyz::WriterBuilder;
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

/// Reads a 2-D `.npy` of uint16/uint32 codes or float32 values into F_in codes.
///
/// `what` names the operand ("A", "B") in error messages.
pub fn read_codes(path: &Path, what: &str, format: Format) -> Result<CodeMatrix, InputError> {
    let err = |m: String| InputError::msg(format!("{what} ({}): {m}", path.display()));
    let bytes = std::fs::read(path).map_err(|e| err(format!("cannot read the file: {e}")))?;
    let npy = npyz::NpyFile::new(&bytes[..]).map_err(|e| err(format!("not a valid .npy file: {e}")))?;
    let shape = npy.shape().to_vec();
    if shape.len() != 2 {
        return Err(err(format!("expected a 2-D array, got {} dimension(s) with shape {shape:?}", shape.len())));
    }
    let (rows, cols) = (shape[0] as usize, shape[1] as usize);
    let fortran = npy.order() == npyz::Order::Fortran;
    let descr = npy.dtype().descr().trim_matches('\'').to_string();
    let kind = descr.trim_start_matches(['<', '>', '|', '=']);
    let read_err = |e: std::io::Error| err(format!("data is truncated or malformed: {e}"));
    let mut codes: Vec<u32> = match kind {
        "u2" => npy.into_vec::<u16>().map_err(read_err)?.into_iter().map(u32::from).collect(),
        "u4" => npy.into_vec::<u32>().map_err(read_err)?,
        "f4" => npy.into_vec::<f32>().map_err(read_err)?.into_iter().map(|x| format.encode_rne(x)).collect(),
        _ => return Err(err(format!("dtype '{descr}' is not supported: allowed {ALLOWED_DTYPES}"))),
    };
    if codes.len() != rows * cols {
        return Err(err(format!("holds {} values, shape {rows}x{cols} needs {}", codes.len(), rows * cols)));
    }
    format.check_codes(codes.iter().copied()).map_err(|e| err(e.0))?;
    if fortran {
        codes = (0..rows * cols).map(|x| codes[(x % cols) * rows + x / cols]).collect();
    }
    Ok(CodeMatrix { rows, cols, codes })
}

/// Writes a row-major float32 matrix as `.npy`, atomically.
pub fn write_f32(path: &Path, rows: usize, cols: usize, data: &[f32]) -> Result<()> {
    write_atomic(path, |w| {
        let mut writer =
            npyz::WriteOptions::new().default_dtype().shape(&[rows as u64, cols as u64]).writer(w).begin_nd()?;
        writer.extend(data.iter().copied())?;
        writer.finish()?;
        Ok(())
    })
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
