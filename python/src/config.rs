//! `daa_gen.Config`: the library's validated configuration, resolved exactly as the CLI does.

use crate::arrays::value_error;
use daa_gen::config::{Config, Settings};
use daa_gen::error::InputError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use std::path::PathBuf;

/// A validated configuration of the golden model and of the generated array.
///
/// ``Config(format="fp32", policy="daa", lo_bits=None, lo_rounding="nearest-even",
/// rows=8, cols=8, pipeline=0, interleave=1, name=None)`` resolves the settings exactly as
/// the ``daa`` command does (``daa config --format ... --policy ...``): ``None`` takes the
/// default, and an invalid value raises ``ValueError`` with the command's message, naming
/// the setting, the value and what is allowed.
///
/// Settings: ``format`` is ``fp32``, ``tf32``, ``bf16``, ``fp16`` or ``eXmY``
/// (2 <= X <= 8, 1 <= Y <= 23; sign, X exponent bits with IEEE bias, Y fraction bits);
/// ``policy`` is ``daa`` (the stream with the larger exponent-sum key gets the full
/// multiplier, ties to stream 0), ``static`` (stream 0 always), ``full`` (two full
/// multipliers) or ``single`` (one stream, the conventional PE); ``lo_bits`` L, the
/// fraction bits the low multiplier keeps, 0 <= L < Y (default 7 above 16 bits, 3
/// otherwise, at most Y-1); ``lo_rounding`` ``nearest-even`` or ``toward-zero``;
/// ``rows``, ``cols`` 1 ..= 256; ``pipeline`` 0 ..= 5 and ``interleave`` 1 ..= 8 (timing
/// only: no result depends on them, nor on rows and cols); ``name`` a Verilog identifier
/// (default ``daa_<format>_<policy>_<R>x<C>``).
///
/// Configurations compare and hash by value and pickle.
#[pyclass(name = "Config", module = "daa_gen", frozen, eq, hash)]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PyConfig {
    pub inner: Config,
}

/// Stands in for an integer setting outside u32: every integer setting rejects it, so
/// `Settings::resolve` reports the right field with its allowed range; the user's number
/// is then put back into the message.
const OUT_OF_RANGE: u32 = u32::MAX;

#[pymethods]
impl PyConfig {
    #[new]
    #[pyo3(signature = (format="fp32".to_string(), policy="daa".to_string(), lo_bits=None,
        lo_rounding="nearest-even".to_string(), rows=8, cols=8, pipeline=0, interleave=1, name=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        format: Option<String>,
        policy: Option<String>,
        lo_bits: Option<i64>,
        lo_rounding: Option<String>,
        rows: Option<i64>,
        cols: Option<i64>,
        pipeline: Option<i64>,
        interleave: Option<i64>,
        name: Option<String>,
    ) -> PyResult<Self> {
        let ints =
            [("lo_bits", lo_bits), ("rows", rows), ("cols", cols), ("pipeline", pipeline), ("interleave", interleave)];
        let narrow = |v: Option<i64>| v.map(|x| u32::try_from(x).unwrap_or(OUT_OF_RANGE));
        let settings = Settings {
            format,
            policy,
            lo_bits: narrow(lo_bits),
            lo_rounding,
            rows: narrow(rows),
            cols: narrow(cols),
            pipeline: narrow(pipeline),
            interleave: narrow(interleave),
            name,
            energy: None,
        };
        settings.resolve().map(|inner| PyConfig { inner }).map_err(|e| {
            let wide = ints.iter().find(|(field, v)| {
                v.is_some_and(|x| u32::try_from(x).is_err()) && e.0.contains(&format!("for `{field}`"))
            });
            match wide {
                Some((_, Some(x))) => {
                    value_error(InputError::msg(e.0.replacen(&format!("'{OUT_OF_RANGE}'"), &format!("'{x}'"), 1)))
                }
                _ => value_error(e),
            }
        })
    }

    /// Reads a configuration file: a generated package's ``<name>.toml`` or any TOML
    /// with the keys of ``daa config`` (``daa --config FILE``); errors as the command's.
    #[staticmethod]
    fn from_toml(path: PathBuf) -> PyResult<Self> {
        let inner = Settings::from_toml_file(&path).and_then(|s| s.resolve()).map_err(value_error)?;
        Ok(PyConfig { inner })
    }

    /// Parses configuration TOML text (the keys of ``daa config``).
    #[staticmethod]
    fn from_toml_str(text: &str) -> PyResult<Self> {
        let inner = Settings::from_toml_str(text).and_then(|s| s.resolve()).map_err(value_error)?;
        Ok(PyConfig { inner })
    }

    /// The configuration as TOML, every setting explicit (what ``daa config`` prints).
    fn to_toml(&self) -> String {
        self.inner.to_toml()
    }

    /// Input format name: a preset (``fp32``, ``tf32``, ``bf16``, ``fp16``) or ``eXmY``.
    #[getter]
    fn format(&self) -> String {
        self.inner.format.name()
    }

    /// Controller policy: ``daa``, ``static``, ``full`` or ``single``.
    #[getter]
    fn policy(&self) -> &'static str {
        self.inner.policy.name()
    }

    /// Fraction bits L kept on the low path.
    #[getter]
    fn lo_bits(&self) -> u32 {
        self.inner.lo_bits
    }

    /// Rounding of the low-path operands: ``nearest-even`` or ``toward-zero``.
    #[getter]
    fn lo_rounding(&self) -> &'static str {
        self.inner.lo_rounding.name()
    }

    /// Array rows R.
    #[getter]
    fn rows(&self) -> u32 {
        self.inner.rows
    }

    /// Array columns C.
    #[getter]
    fn cols(&self) -> u32 {
        self.inner.cols
    }

    /// Extra PE pipeline registers (timing only).
    #[getter]
    fn pipeline(&self) -> u32 {
        self.inner.pipeline
    }

    /// Accumulators per PE, filled round-robin (timing and tile shape only).
    #[getter]
    fn interleave(&self) -> u32 {
        self.inner.interleave
    }

    /// Name of the generated IP.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }

    /// Exponent bits X of the format.
    #[getter]
    fn exp_bits(&self) -> u32 {
        self.inner.format.exp_bits()
    }

    /// Fraction bits Y of the format.
    #[getter]
    fn frac_bits(&self) -> u32 {
        self.inner.format.frac_bits()
    }

    /// Code width 1 + X + Y in bits.
    #[getter]
    fn width(&self) -> u32 {
        self.inner.format.width()
    }

    /// PE latency in cycles: from a beat at the PE's inputs to its effect on the accumulator.
    #[getter]
    fn latency(&self) -> u32 {
        self.inner.latency()
    }

    /// Operand streams per PE and cycle: 2 for the dual-stream policies, 1 for ``single``.
    #[getter]
    fn lanes(&self) -> u32 {
        daa_gen::grid::lanes(&self.inner)
    }

    /// Output rows of one tile: ``interleave * rows``.
    #[getter]
    fn tile_rows(&self) -> u32 {
        self.inner.tile_rows()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let parts = self
            .kwargs(py)?
            .iter()
            .map(|(k, v)| Ok(format!("{k}={}", v.repr()?)))
            .collect::<PyResult<Vec<String>>>()?;
        Ok(format!("Config({})", parts.join(", ")))
    }

    /// Pickling and copying: the settings as keyword arguments of the constructor.
    fn __getnewargs_ex__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyTuple>, Bound<'py, PyDict>)> {
        Ok((PyTuple::empty(py), self.kwargs(py)?))
    }
}

impl PyConfig {
    /// The resolved settings as the constructor's keyword arguments, in its order.
    fn kwargs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let c = &self.inner;
        let kw = PyDict::new(py);
        kw.set_item("format", c.format.name())?;
        kw.set_item("policy", c.policy.name())?;
        kw.set_item("lo_bits", c.lo_bits)?;
        kw.set_item("lo_rounding", c.lo_rounding.name())?;
        kw.set_item("rows", c.rows)?;
        kw.set_item("cols", c.cols)?;
        kw.set_item("pipeline", c.pipeline)?;
        kw.set_item("interleave", c.interleave)?;
        kw.set_item("name", &c.name)?;
        Ok(kw)
    }
}
