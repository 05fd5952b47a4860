//! `daa_gen._native`: the daa-gen golden model over numpy arrays.
//!
//! Every function converts its arguments, releases the GIL and calls the library; no
//! arithmetic is written here. The `///` comments of the Python-visible items are their
//! docstrings, so they speak Python.

mod arrays;
mod config;

use arrays::{arr, named, output, same_shape, value_error, Arr, Role};
use config::PyConfig;
use daa_gen::config::Rounding;
use daa_gen::error::InputError;
use daa_gen::format::Format;
use daa_gen::golden::arith;
use daa_gen::golden::gemm::{check_shapes, GemmInput};
use daa_gen::golden::pe::{step_dual, step_single, PeParams};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

fn parse_format(name: &str) -> PyResult<Format> {
    Format::parse(name).map_err(value_error)
}

/// C = A x B with the golden model: returns ``(c, stats)``, or ``c`` with ``stats=False``.
///
/// ``a`` (M, K) and ``b`` (K, N) are numpy arrays of F_in codes (uint8, uint16 or uint32; a
/// code with bits above the format's width is a ValueError naming the operand and the
/// value) or of float32 values, rounded to F_in with round-to-nearest-even exactly as
/// ``daa gemm`` reads float32 files (see ``encode``). float64 is a TypeError: convert with
/// ``x.astype(np.float32)``, which rounds once more. C-contiguous, aligned arrays are read
/// in place; any other array is copied once.
///
/// Each C[i, j] folds PE steps in k order from acc = +0. The dual-stream policies
/// (``daa``, ``static``, ``full``) take steps t = 0 .. ceil(K/2)-1 with stream 0 =
/// (A[i, 2t], B[2t, j]) and stream 1 = (A[i, 2t+1], B[2t+1, j]); an odd K pads the last
/// step's stream 1 with +0. A step is
/// ``acc = add(acc, add(mul(a_h, b_h), mul(q(a_l), q(b_l))))``, h being the stream that
/// gets the full multiplier and l the other (``full``: no ``q``). ``daa``: a stream's key
/// is the sum of its two raw exponent fields, 0 if either field is 0; the larger key gets
/// the full multiplier, a tie goes to stream 0. ``static``: stream 0 always. ``single``
/// folds ``acc = add(acc, mul(A[i, k], B[k, j]))`` over k = 0 .. K-1. Operands are widened
/// exactly to binary32; ``mul`` and ``add`` are IEEE binary32 with round-to-nearest-even,
/// plus: subnormal inputs read as signed zero (DAZ), subnormal results (decided after IEEE
/// rounding) become signed zero (FTZ), every NaN is 0x7FC00000. ``q`` rounds the
/// significand to ``cfg.lo_bits`` fraction bits (see ``q``). No result depends on rows,
/// cols, pipeline, interleave or any tiling.
///
/// Returns ``c``: float32 (M, N) holding the exact binary32 results (``c.view(np.uint32)``
/// gives the bits); ``stats``: a dict of ints: ``steps`` (M*N*ceil(K/2), or M*N*K for
/// ``single``), ``high_stream0`` / ``high_stream1`` (steps whose full multiplier went to
/// stream 0 / 1; ``daa`` and ``static`` only), ``products`` (both multipliers, the odd-K
/// padding included), ``zero_products`` (+-0 after FTZ), ``reduced_operands`` (operands
/// through ``q``), ``reductions_changed`` (of those, the ones ``q`` changed).
/// ``stats=False`` runs the statistics-free kernel (the same bits, faster). The GIL is released while
/// the operands are converted and the GEMM runs on every core.
#[pyfunction]
#[pyo3(signature = (a, b, cfg, stats = true))]
fn gemm<'py>(
    py: Python<'py>,
    a: &Bound<'py, PyAny>,
    b: &Bound<'py, PyAny>,
    cfg: &Bound<'py, PyConfig>,
    stats: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let (aa, ba) = (arr(a, "A", Role::Operand)?, arr(b, "B", Role::Operand)?);
    let (sa, sb) = (aa.shape(), ba.shape());
    for (what, s) in [("A", &sa), ("B", &sb)] {
        if s.len() != 2 {
            return Err(PyValueError::new_err(format!(
                "{what}: expected a 2-D array, got {} dimension(s) with shape {s:?}",
                s.len()
            )));
        }
    }
    check_shapes(sa[0], sa[1], sb[0], sb[1]).map_err(value_error)?;
    let (m, k, n) = (sa[0], sa[1], sb[1]);
    let p = PeParams::from(&cfg.get().inner);
    let (da, db) = (aa.slice()?, ba.slice()?);
    let (c, st) = py
        .detach(|| -> Result<_, InputError> {
            let a = da.codes(p.format).map_err(|e| named("A", e))?;
            let b = db.codes(p.format).map_err(|e| named("B", e))?;
            let g = GemmInput { m, k, n, a: &a, b: &b };
            // Without statistics the faster statistics-free kernel (same bits) does the work.
            Ok(if stats {
                let (c, st) = daa_gen::golden::gemm::gemm(&p, &g);
                (c, Some(st))
            } else {
                (daa_gen::golden::gemm::gemm_nostats(&p, &g), None)
            })
        })
        .map_err(value_error)?;
    let c = output(py, &[m, n], c)?;
    let Some(st) = st else { return Ok(c) };
    let d = PyDict::new(py);
    // The fields as GemmStats serializes them, so the dict follows the struct.
    if let serde_json::Value::Object(fields) =
        serde_json::to_value(st).map_err(|e| PyValueError::new_err(e.to_string()))?
    {
        for (key, v) in fields {
            d.set_item(key, v.as_u64())?;
        }
    }
    Ok(PyTuple::new(py, [c, d.into_any()])?.into_any())
}

/// Rounds float32 values to F_in codes with round-to-nearest-even; returns uint32, same shape.
///
/// Exactly how ``daa gemm`` and ``gemm`` read float32 operands: a binary32 subnormal is read
/// as a zero of its sign (DAZ) first; results in F_in's subnormal range are rounded at
/// F_in's subnormal quantum and kept as subnormal codes (which ``decode`` and the model
/// read as zero); a value beyond the largest finite F_in value after rounding gives Inf;
/// every NaN gives F_in's quiet NaN (all-ones exponent, top fraction bit set). For
/// ``fp32`` only DAZ and the NaN change anything. ``x``: a float32 array or scalar (a Python
/// float only when it is exactly a binary32 value).
#[pyfunction]
fn encode<'py>(py: Python<'py>, x: &Bound<'py, PyAny>, format: &str) -> PyResult<Bound<'py, PyAny>> {
    let f = parse_format(format)?;
    let xa = arr(x, "x", Role::Values)?;
    let xs = xa.slice()?;
    let codes = py.detach(|| xs.codes(f)).map_err(value_error)?;
    output(py, &xa.shape(), codes.into_owned())
}

/// Widens F_in codes exactly to binary32; returns float32, same shape.
///
/// Sign, exponent (rebiased) and fraction (shifted left) are copied: every normal F_in
/// value is a binary32 value. Subnormal codes read as a zero of their sign (DAZ); the
/// all-ones exponent gives Inf with a zero fraction and otherwise the canonical NaN
/// 0x7FC00000. ``codes``: uint8, uint16 or uint32 arrays or scalars, or Python ints; a code
/// with bits above the format's width is a ValueError naming the value.
#[pyfunction]
fn decode<'py>(py: Python<'py>, codes: &Bound<'py, PyAny>, format: &str) -> PyResult<Bound<'py, PyAny>> {
    let f = parse_format(format)?;
    let ca = arr(codes, "codes", Role::Codes)?;
    let cs = ca.slice()?;
    let values = py
        .detach(|| cs.codes(f).map(|c| c.iter().map(|&c| f.decode(c)).collect::<Vec<f32>>()))
        .map_err(|e| value_error(named("codes", e)))?;
    output(py, &ca.shape(), values)
}

/// The low path's operand reduction ``q``, elementwise on float32 values.
///
/// Rounds the significand of each binary32 value to ``lo_bits`` fraction bits (0 ..= 22),
/// on the binary32 encoding: ``nearest-even`` rounds to nearest with ties to even,
/// ``toward-zero`` truncates. A carry out of the significand bumps the exponent, and out of
/// the largest binade gives Inf. A subnormal input reads as a zero of its sign (DAZ); zero,
/// Inf and NaN pass unchanged. In a PE, ``q`` is applied to the widened F_in operands of the
/// stream that gets the low multiplier.
#[pyfunction]
#[pyo3(signature = (x, lo_bits, rounding = "nearest-even"))]
fn q<'py>(py: Python<'py>, x: &Bound<'py, PyAny>, lo_bits: i64, rounding: &str) -> PyResult<Bound<'py, PyAny>> {
    let lo = u32::try_from(lo_bits).ok().filter(|&l| l < 23).ok_or_else(|| {
        value_error(InputError::field("lo_bits", &lo_bits.to_string(), "0 ..= 22 (of binary32's 23 fraction bits)"))
    })?;
    let r = Rounding::parse(rounding).map_err(value_error)?;
    let xa = arr(x, "x", Role::Values)?;
    let xs = xa.slice()?.values().map_err(value_error)?;
    let y = py.detach(|| xs.iter().map(|&v| arith::q(v, lo, r)).collect::<Vec<f32>>());
    output(py, &xa.shape(), y)
}

/// Applies a binary golden operation elementwise to two equal-shape float32 arguments.
fn binary<'py>(
    py: Python<'py>,
    names: [&str; 2],
    x: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    op: fn(f32, f32) -> f32,
) -> PyResult<Bound<'py, PyAny>> {
    let (xa, ya) = (arr(x, names[0], Role::Values)?, arr(y, names[1], Role::Values)?);
    let shape = same_shape(&[(names[0], &xa), (names[1], &ya)])?;
    let (xs, ys) = (xa.slice()?.values().map_err(value_error)?, ya.slice()?.values().map_err(value_error)?);
    let z = py.detach(|| xs.iter().zip(ys.iter()).map(|(&a, &b)| op(a, b)).collect::<Vec<f32>>());
    output(py, &shape, z)
}

/// ``mul(a, b)``: the golden multiplier on binary32 values, elementwise; returns float32.
///
/// IEEE binary32 product with round-to-nearest-even, plus: subnormal inputs read as signed
/// zero (DAZ), a subnormal result, decided after IEEE rounding at the subnormal position,
/// becomes signed zero (FTZ), every NaN is the canonical 0x7FC00000. In a PE the operands
/// are widened F_in codes (``decode``). ``a``, ``b``: float32 arrays of equal shape
/// (no broadcasting) or scalars.
#[pyfunction]
fn mul<'py>(py: Python<'py>, a: &Bound<'py, PyAny>, b: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    binary(py, ["a", "b"], a, b, arith::mul)
}

/// ``add(x, y)``: the golden adder on binary32 values, elementwise; returns float32.
///
/// IEEE binary32 sum with round-to-nearest-even, plus DAZ on the inputs, FTZ on the rounded
/// result and the canonical NaN 0x7FC00000, as ``mul``. An exact cancellation gives +0, and
/// -0 + -0 = -0. ``x``, ``y``: float32 arrays of equal shape (no broadcasting) or scalars.
#[pyfunction]
fn add<'py>(py: Python<'py>, x: &Bound<'py, PyAny>, y: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    binary(py, ["x", "y"], x, y, arith::add)
}

/// One PE step, elementwise: ``pe_step(acc, a0, b0, a1, b1, cfg)`` for the dual-stream
/// policies, ``pe_step(acc, a, b, cfg)`` for ``single``.
///
/// ``acc``: the binary32 accumulator, float32 values or uint32 bits. Operands: F_in codes
/// (uint8, uint16 or uint32, or Python ints). Arguments are scalars or arrays of one
/// shape (no broadcasting).
///
/// Dual-stream: the controller picks the high stream h: ``daa`` compares the keys of
/// stream 0 = (a0, b0) and stream 1 = (a1, b1), a key being the sum of the two raw exponent
/// fields, 0 if either field is 0; the larger key gets the full multiplier and a tie goes
/// to stream 0; ``static`` and ``full`` always pick stream 0. Then
/// ``p_h = mul(a_h, b_h)``, ``p_l = mul(q(a_l), q(b_l))`` (``full``: no ``q``) and
/// ``acc_next = add(acc, add(p_h, p_l))``, operands widened exactly to binary32 (``decode``)
/// and ``mul``, ``add``, ``q`` as documented on those functions. Returns
/// ``(acc_next, high, p_h, p_l)``: float32, uint8 (1 when stream 1 got the full
/// multiplier), float32, float32.
///
/// ``single``: returns ``acc_next = add(acc, mul(a, b))`` (float32).
#[pyfunction]
#[pyo3(signature = (acc, *args, cfg = None))]
fn pe_step<'py>(
    py: Python<'py>,
    acc: &Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
    cfg: Option<Bound<'py, PyConfig>>,
) -> PyResult<Bound<'py, PyAny>> {
    let mut ops: Vec<Bound<'py, PyAny>> = args.iter().collect();
    let cfg = match cfg {
        Some(c) => c,
        None => ops
            .pop()
            .ok_or_else(|| PyTypeError::new_err("pe_step: missing the Config argument"))?
            .cast_into::<PyConfig>()
            .map_err(|_| PyTypeError::new_err("pe_step: the last argument must be a daa_gen.Config"))?,
    };
    let p = PeParams::from(&cfg.get().inner);
    let names: &[&str] = if p.policy.is_dual() { &["a0", "b0", "a1", "b1"] } else { &["a", "b"] };
    if ops.len() != names.len() {
        return Err(PyTypeError::new_err(format!(
            "pe_step: policy '{}' takes pe_step(acc, {}, cfg), got {} operand(s)",
            p.policy,
            names.join(", "),
            ops.len()
        )));
    }
    let acc_a = arr(acc, "acc", Role::Acc)?;
    let op_a: Vec<Arr> = ops.iter().zip(names).map(|(o, n)| arr(o, n, Role::Codes)).collect::<PyResult<_>>()?;
    let mut all: Vec<(&str, &Arr)> = vec![("acc", &acc_a)];
    all.extend(names.iter().copied().zip(op_a.iter()));
    let shape = same_shape(&all)?;
    let acc_s = acc_a.slice()?.values().map_err(|e| value_error(named("acc", e)))?;
    let op_s = op_a.iter().map(|a| a.slice()).collect::<PyResult<Vec<_>>>()?;
    let out = py
        .detach(|| -> Result<_, InputError> {
            let c: Vec<_> = op_s
                .iter()
                .zip(names)
                .map(|(s, n)| s.codes(p.format).map_err(|e| named(n, e)))
                .collect::<Result<_, _>>()?;
            let len = acc_s.len();
            if !p.policy.is_dual() {
                let next = (0..len).map(|i| step_single(&p, acc_s[i], c[0][i], c[1][i])).collect();
                return Ok((next, Vec::new(), Vec::new(), Vec::new()));
            }
            let (mut next, mut high, mut ph, mut pl) =
                (Vec::with_capacity(len), Vec::with_capacity(len), Vec::with_capacity(len), Vec::with_capacity(len));
            for i in 0..len {
                let t = step_dual(&p, acc_s[i], c[0][i], c[1][i], c[2][i], c[3][i]);
                next.push(t.acc);
                high.push(t.high as u8);
                ph.push(t.p_high);
                pl.push(t.p_low);
            }
            Ok((next, high, ph, pl))
        })
        .map_err(value_error)?;
    let (next, high, ph, pl) = out;
    let next = output(py, &shape, next)?;
    if !p.policy.is_dual() {
        return Ok(next);
    }
    let items = [next, output(py, &shape, high)?, output(py, &shape, ph)?, output(py, &shape, pl)?];
    Ok(PyTuple::new(py, items)?.into_any())
}

/// The golden model of daa-gen (native part; use the ``daa_gen`` package).
#[pymodule(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyConfig>()?;
    m.add_function(wrap_pyfunction!(gemm, m)?)?;
    m.add_function(wrap_pyfunction!(encode, m)?)?;
    m.add_function(wrap_pyfunction!(decode, m)?)?;
    m.add_function(wrap_pyfunction!(q, m)?)?;
    m.add_function(wrap_pyfunction!(mul, m)?)?;
    m.add_function(wrap_pyfunction!(add, m)?)?;
    m.add_function(wrap_pyfunction!(pe_step, m)?)?;
    m.add("__version__", daa_gen::VERSION)?;
    let formats: Vec<&str> = daa_gen::format::PRESETS.iter().map(|p| p.0).collect();
    m.add("FORMATS", PyTuple::new(m.py(), formats)?)?;
    m.add("FORMAT_ALLOWED", daa_gen::format::FORMAT_ALLOWED)?;
    let policies: Vec<&str> = daa_gen::config::Policy::ALL.iter().map(|p| p.name()).collect();
    m.add("POLICIES", PyTuple::new(m.py(), policies)?)?;
    Ok(())
}
