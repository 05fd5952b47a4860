//! numpy arrays in and out: dtype dispatch, contiguity, Python scalars, error messages.
//!
//! Inputs are borrowed in place when they are C-contiguous and aligned; anything else is
//! copied once by `numpy.require(..., "CA")`. The slices are read with the GIL released, so
//! an array must not be written by another Python thread during a call (as with any numpy
//! extension that releases the GIL).

use daa_gen::error::InputError;
use daa_gen::format::Format;
use numpy::ndarray::{ArrayD, IxDyn};
use numpy::{Element, PyArray, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyInt, PyTuple};
use std::borrow::Cow;

/// What an argument may hold; decides the accepted dtypes and Python scalars.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// F_in codes: uint8, uint16 or uint32 arrays, numpy unsigned scalars, Python ints.
    Codes,
    /// binary32 values: float32 arrays and scalars, Python floats that are exactly binary32.
    Values,
    /// A GEMM operand: F_in codes or float32 values (rounded to F_in with RNE).
    Operand,
    /// An accumulator: float32 values or uint32 binary32 bits.
    Acc,
}

impl Role {
    fn allowed(self) -> &'static str {
        match self {
            Role::Codes => "uint8, uint16 or uint32 (F_in codes)",
            Role::Values => "float32",
            Role::Operand => "uint8, uint16 or uint32 (F_in codes) or float32 (rounded to F_in with RNE)",
            Role::Acc => "float32 (values) or uint32 (binary32 bits)",
        }
    }

    fn takes_codes(self) -> bool {
        matches!(self, Role::Codes | Role::Operand)
    }

    fn takes_floats(self) -> bool {
        self != Role::Codes
    }
}

/// A C-contiguous, aligned, read-only numpy array of one of the accepted dtypes.
pub enum Arr<'py> {
    U8(PyReadonlyArrayDyn<'py, u8>),
    U16(PyReadonlyArrayDyn<'py, u16>),
    U32(PyReadonlyArrayDyn<'py, u32>),
    F32(PyReadonlyArrayDyn<'py, f32>),
}

/// The data of an [`Arr`], borrowed: what crosses into the GIL-free part of a call.
#[derive(Clone, Copy)]
pub enum Slice<'a> {
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
    F32(&'a [f32]),
}

/// An input error that names the argument: `"{what}: {message}"`.
pub fn named(what: &str, e: InputError) -> InputError {
    InputError::msg(format!("{what}: {}", e.0))
}

/// Bad input becomes a Python `ValueError` carrying the library's message.
pub fn value_error(e: InputError) -> PyErr {
    PyValueError::new_err(e.0)
}

fn py_none(py: Python<'_>) -> Bound<'_, PyAny> {
    py.None().into_bound(py)
}

fn readonly<'py, T: Element>(arr: &Bound<'py, PyUntypedArray>) -> PyResult<Option<PyReadonlyArrayDyn<'py, T>>> {
    let Ok(typed) = arr.cast::<PyArrayDyn<T>>() else { return Ok(None) };
    if typed.is_c_contiguous() && typed.is_aligned() {
        return Ok(Some(typed.try_readonly()?));
    }
    let numpy = arr.py().import("numpy")?;
    let copy = numpy.call_method1("require", (arr, py_none(arr.py()), "CA"))?;
    Ok(Some(copy.cast_into::<PyArrayDyn<T>>()?.try_readonly()?))
}

/// A Python scalar as a 0-d array, or `None` when `obj` is not a Python int or float.
fn python_scalar<'py>(obj: &Bound<'py, PyAny>, what: &str, role: Role) -> PyResult<Option<Bound<'py, PyAny>>> {
    let py = obj.py();
    if obj.is_instance_of::<PyInt>() && role.takes_codes() {
        let v: i128 = obj.extract()?;
        let code = u32::try_from(v).map_err(|_| {
            PyValueError::new_err(format!("{what}: {v} is not a code: codes are unsigned and below 2^32"))
        })?;
        return Ok(Some(PyArray::from_owned_array(py, ArrayD::from_elem(IxDyn(&[]), code)).into_any()));
    }
    if obj.is_instance_of::<PyFloat>() && role.takes_floats() {
        let v: f64 = obj.extract()?;
        if !v.is_nan() && (v as f32) as f64 != v {
            return Err(PyTypeError::new_err(format!(
                "{what}: the Python float {v:?} is not exactly a binary32 value; the model does not round \
                 float inputs for you: pass np.float32({v:?}) to round it to nearest"
            )));
        }
        return Ok(Some(PyArray::from_owned_array(py, ArrayD::from_elem(IxDyn(&[]), v as f32)).into_any()));
    }
    if obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyFloat>() {
        let kind = if role == Role::Acc { "np.float32(x) for a value or np.uint32(bits)" } else { "a numpy scalar" };
        return Err(PyTypeError::new_err(format!(
            "{what}: a Python {} is ambiguous here: allowed {}; pass {kind}",
            obj.get_type().name()?,
            role.allowed()
        )));
    }
    Ok(None)
}

/// Reads one argument as an array of a dtype its role accepts (numpy and Python scalars become 0-d).
pub fn arr<'py>(obj: &Bound<'py, PyAny>, what: &str, role: Role) -> PyResult<Arr<'py>> {
    let py = obj.py();
    let owned;
    let obj = if obj.is_instance_of::<PyUntypedArray>() {
        obj
    } else if let Some(a) = python_scalar(obj, what, role)? {
        owned = a;
        &owned
    } else if obj.is_instance(&py.import("numpy")?.getattr("generic")?)? {
        owned = py.import("numpy")?.call_method1("asarray", (obj,))?;
        &owned
    } else {
        return Err(PyTypeError::new_err(format!(
            "{what}: expected a numpy array or scalar of dtype {}, got {}",
            role.allowed(),
            obj.get_type().name()?
        )));
    };
    let untyped = obj.cast::<PyUntypedArray>()?;
    if role.takes_codes() {
        if let Some(a) = readonly::<u32>(untyped)? {
            return Ok(Arr::U32(a));
        }
        if let Some(a) = readonly::<u16>(untyped)? {
            return Ok(Arr::U16(a));
        }
        if let Some(a) = readonly::<u8>(untyped)? {
            return Ok(Arr::U8(a));
        }
    }
    if role.takes_floats() {
        if let Some(a) = readonly::<f32>(untyped)? {
            return Ok(Arr::F32(a));
        }
    }
    if role == Role::Acc {
        if let Some(a) = readonly::<u32>(untyped)? {
            return Ok(Arr::U32(a));
        }
    }
    let dtype = untyped.dtype().str()?.to_string();
    let hint = match dtype.as_str() {
        "float64" | "float16" if role.takes_floats() => {
            format!("; convert with .astype(np.float32) (a {dtype} to float32 conversion rounds once more)")
        }
        "int8" | "int16" | "int32" | "int64" | "uint64" if role.takes_codes() => {
            "; codes are unsigned: convert with .astype(np.uint32)".to_string()
        }
        _ => String::new(),
    };
    Err(PyTypeError::new_err(format!("{what}: dtype {dtype} is not supported: allowed {}{hint}", role.allowed())))
}

impl Arr<'_> {
    /// The shape.
    pub fn shape(&self) -> Vec<usize> {
        match self {
            Arr::U8(a) => a.shape().to_vec(),
            Arr::U16(a) => a.shape().to_vec(),
            Arr::U32(a) => a.shape().to_vec(),
            Arr::F32(a) => a.shape().to_vec(),
        }
    }

    /// The data in C order ([`arr`] made it contiguous).
    pub fn slice(&self) -> PyResult<Slice<'_>> {
        let not_contiguous = |_| PyValueError::new_err("internal: an array expected C-contiguous is not");
        Ok(match self {
            Arr::U8(a) => Slice::U8(a.as_slice().map_err(not_contiguous)?),
            Arr::U16(a) => Slice::U16(a.as_slice().map_err(not_contiguous)?),
            Arr::U32(a) => Slice::U32(a.as_slice().map_err(not_contiguous)?),
            Arr::F32(a) => Slice::F32(a.as_slice().map_err(not_contiguous)?),
        })
    }
}

impl<'a> Slice<'a> {
    /// F_in codes: uint32 borrowed, narrower codes widened, float32 rounded to F_in with RNE
    /// (`Format::encode_rne`, as `daa gemm` reads float32 files); codes wider than the
    /// format are an error naming the value.
    pub fn codes(self, f: Format) -> Result<Cow<'a, [u32]>, InputError> {
        let codes: Cow<[u32]> = match self {
            Slice::U32(s) => Cow::Borrowed(s),
            Slice::U16(s) => Cow::Owned(s.iter().map(|&c| u32::from(c)).collect()),
            Slice::U8(s) => Cow::Owned(s.iter().map(|&c| u32::from(c)).collect()),
            Slice::F32(s) => return Ok(Cow::Owned(f.encode_rne_all(s))),
        };
        f.check_codes(codes.iter().copied())?;
        Ok(codes)
    }

    /// binary32 values: float32 as they are, uint32 read as binary32 bits ([`Role::Acc`]).
    pub fn values(self) -> Result<Cow<'a, [f32]>, InputError> {
        match self {
            Slice::F32(s) => Ok(Cow::Borrowed(s)),
            Slice::U32(s) => Ok(Cow::Owned(s.iter().map(|&b| f32::from_bits(b)).collect())),
            Slice::U16(_) | Slice::U8(_) => Err(InputError::msg(format!("expected {}", Role::Acc.allowed()))),
        }
    }
}

/// Checks that every argument has the first one's shape (no broadcasting).
pub fn same_shape(args: &[(&str, &Arr)]) -> PyResult<Vec<usize>> {
    let shape = args[0].1.shape();
    if args.iter().all(|(_, a)| a.shape() == shape) {
        return Ok(shape);
    }
    let list: Vec<String> = args.iter().map(|(n, a)| format!("{n} {:?}", a.shape())).collect();
    Err(PyValueError::new_err(format!(
        "the arguments must have equal shapes (no broadcasting), got {}",
        list.join(", ")
    )))
}

/// A result array of `shape`, taking `data` without a copy; a 0-d result becomes a numpy scalar.
pub fn output<'py, T: Element>(py: Python<'py>, shape: &[usize], data: Vec<T>) -> PyResult<Bound<'py, PyAny>> {
    let a = ArrayD::from_shape_vec(IxDyn(shape), data)
        .map_err(|e| PyValueError::new_err(format!("internal: result shape {shape:?}: {e}")))?;
    let arr = PyArray::from_owned_array(py, a).into_any();
    if shape.is_empty() {
        arr.get_item(PyTuple::empty(py))
    } else {
        Ok(arr)
    }
}
