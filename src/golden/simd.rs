//! The vector operations the statistics-free GEMM kernels need, for each instruction set.
//!
//! One kernel source ([`super::fast`]) is written against [`Simd`]; each implementation maps
//! the few operations it uses to one instruction set: AVX-512F (16 lanes, mask registers,
//! so "multiply where stream 1 wins" is one masked multiply), AVX2 (8 lanes, blends), and a
//! portable one of plain arrays for any other target. Every operation is an IEEE binary32
//! operation or a bit operation, so all three give the same bits.
//!
//! `std::arch` is used directly: the portable-SIMD crates either pick the instruction set
//! at compile time (`wide`) or do not offer masked arithmetic, and this is the golden
//! model's own hot loop.

use super::gemm::Decoder;
use crate::format::CANONICAL_NAN;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// Asks for the cache lines of `next` ahead of their use, for loops that walk rows lying
/// far apart (a page or more), where the hardware prefetchers do not follow. A hint only:
/// nothing it does changes a result.
#[inline(always)]
pub fn prefetch<T>(next: &[T]) {
    #[cfg(target_arch = "x86_64")]
    for line in next.chunks((64 / std::mem::size_of::<T>().max(1)).max(1)) {
        // SAFETY: a prefetch of a valid address; it reads nothing architecturally.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = next;
}

/// The instruction set the statistics-free kernels run with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Isa {
    /// AVX-512F (16 lanes in one register, mask-register selects).
    Avx512,
    /// AVX2 (8 lanes).
    Avx2,
    /// Plain arrays: whatever the compile target vectorises them to.
    Portable,
}

/// Values `DAA_GEMM_ISA` accepts.
pub const ISA_ALLOWED: &str = "avx512, avx2, portable (or unset: the best the CPU has)";

impl Isa {
    /// The name `DAA_GEMM_ISA` uses.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Avx512 => "avx512",
            Isa::Avx2 => "avx2",
            Isa::Portable => "portable",
        }
    }

    /// Whether this CPU can run the instruction set.
    pub fn supported(self) -> bool {
        match self {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(not(target_arch = "x86_64"))]
            Isa::Avx512 | Isa::Avx2 => false,
            Isa::Portable => true,
        }
    }

    /// Every instruction set this CPU can run, best first.
    pub fn available() -> Vec<Isa> {
        [Isa::Avx512, Isa::Avx2, Isa::Portable].into_iter().filter(|i| i.supported()).collect()
    }

    /// The instruction set a `DAA_GEMM_ISA` value asks for: empty means the best available;
    /// a name the CPU cannot run, or an unknown name, is an error.
    pub fn from_request(wanted: &str) -> Result<Isa, crate::error::InputError> {
        let isa = match wanted.trim().to_ascii_lowercase().as_str() {
            "" => return Ok(Isa::available()[0]),
            "avx512" => Isa::Avx512,
            "avx2" => Isa::Avx2,
            "portable" => Isa::Portable,
            _ => return Err(crate::error::InputError::field("DAA_GEMM_ISA", wanted, ISA_ALLOWED)),
        };
        if isa.supported() {
            Ok(isa)
        } else {
            Err(crate::error::InputError::msg(format!(
                "invalid value '{wanted}' for `DAA_GEMM_ISA`: this CPU does not support it; available: {}",
                Isa::available().iter().map(|i| i.name()).collect::<Vec<_>>().join(", ")
            )))
        }
    }
}

/// The kernel ISA of this process: `DAA_GEMM_ISA` if it names one the CPU runs, else the best
/// available. Read once. The `daa` command rejects a bad `DAA_GEMM_ISA` before any GEMM runs
/// ([`check_env`]), so the fallback only serves library users.
pub fn isa() -> Isa {
    static ISA: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
    *ISA.get_or_init(|| {
        Isa::from_request(&std::env::var("DAA_GEMM_ISA").unwrap_or_default()).unwrap_or(Isa::available()[0])
    })
}

/// Checks `DAA_GEMM_ISA`: an unknown name or one the CPU cannot run is an input error.
pub fn check_env() -> Result<Isa, crate::error::InputError> {
    match std::env::var("DAA_GEMM_ISA") {
        Ok(v) => Isa::from_request(&v),
        Err(std::env::VarError::NotPresent) => Ok(Isa::available()[0]),
        Err(std::env::VarError::NotUnicode(v)) => {
            Err(crate::error::InputError::field("DAA_GEMM_ISA", &v.to_string_lossy(), ISA_ALLOWED))
        }
    }
}

/// Vectors of binary32 lanes and the operations the kernels use.
///
/// # Safety
/// Every function may use the instruction set of the implementation: call them only
/// after checking [`Isa::supported`], from code compiled with that target feature.
pub(crate) trait Simd {
    /// Lanes per vector.
    const W: usize;
    /// Whether [`Simd::mul_where`] is one instruction (a masked multiply) rather than a
    /// multiply and a blend; the `daa` kernel picks its formulation by it.
    const MASKED: bool;
    /// A vector of binary32 values (or of i32 key differences, stored as their bits).
    type F: Copy;
    /// Which lanes a comparison selected.
    type M: Copy;
    /// All lanes +0.
    unsafe fn zero() -> Self::F;
    /// `W` values from `p` (no alignment needed).
    unsafe fn load(p: *const f32) -> Self::F;
    /// `*p` in every lane.
    unsafe fn splat(p: *const f32) -> Self::F;
    /// Stores `W` values at `p`.
    unsafe fn store(p: *mut f32, x: Self::F);
    /// Lane-wise binary32 sum (RNE).
    unsafe fn add(a: Self::F, b: Self::F) -> Self::F;
    /// Lane-wise binary32 product (RNE).
    unsafe fn mul(a: Self::F, b: Self::F) -> Self::F;
    /// Lanes where `a > b`, both read as i32.
    unsafe fn gt_i32(a: Self::F, b: Self::F) -> Self::M;
    /// `a` in the lanes of `m`, `b` elsewhere.
    unsafe fn select(m: Self::M, a: Self::F, b: Self::F) -> Self::F;
    /// `a * b` in the lanes of `m`, `src` elsewhere.
    unsafe fn mul_where(src: Self::F, m: Self::M, a: Self::F, b: Self::F) -> Self::F;
    /// A subnormal becomes a zero of the same sign ([`super::arith::flush_bits`]).
    unsafe fn flush(x: Self::F) -> Self::F;
    /// [`Decoder::wq`] and the exponent field of the `W` codes at `codes`, stored to `w`,
    /// `q` and `e`. Explicit where it matters: LLVM compiled the same lane loop on a strip's
    /// 8-code rows half scalar and half 128-bit (a resnet-mini `daa` epoch spent more in
    /// that decode than in its multiply-adds).
    #[inline(always)]
    unsafe fn decode(d: &Decoder, codes: *const u32, w: *mut f32, q: *mut f32, e: *mut i32) {
        for l in 0..Self::W {
            let c = *codes.add(l);
            (*w.add(l), *q.add(l)) = d.wq(c);
            *e.add(l) = d.format.exp_field(c) as i32;
        }
    }
}

/// AVX-512F.
#[cfg(target_arch = "x86_64")]
pub(crate) struct Avx512;

#[cfg(target_arch = "x86_64")]
impl Simd for Avx512 {
    const W: usize = 16;
    const MASKED: bool = true;
    type F = __m512;
    type M = __mmask16;
    #[inline(always)]
    unsafe fn zero() -> __m512 {
        _mm512_setzero_ps()
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m512 {
        _mm512_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn splat(p: *const f32) -> __m512 {
        _mm512_set1_ps(*p)
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, x: __m512) {
        _mm512_storeu_ps(p, x)
    }
    #[inline(always)]
    unsafe fn add(a: __m512, b: __m512) -> __m512 {
        _mm512_add_ps(a, b)
    }
    #[inline(always)]
    unsafe fn mul(a: __m512, b: __m512) -> __m512 {
        _mm512_mul_ps(a, b)
    }
    #[inline(always)]
    unsafe fn gt_i32(a: __m512, b: __m512) -> __mmask16 {
        _mm512_cmpgt_epi32_mask(_mm512_castps_si512(a), _mm512_castps_si512(b))
    }
    #[inline(always)]
    unsafe fn select(m: __mmask16, a: __m512, b: __m512) -> __m512 {
        _mm512_mask_blend_ps(m, b, a)
    }
    #[inline(always)]
    unsafe fn mul_where(src: __m512, m: __mmask16, a: __m512, b: __m512) -> __m512 {
        _mm512_mask_mul_ps(src, m, a, b)
    }
    #[inline(always)]
    unsafe fn flush(x: __m512) -> __m512 {
        let xi = _mm512_castps_si512(x);
        let normal = _mm512_test_epi32_mask(xi, _mm512_set1_epi32(0x7F80_0000));
        // Where the exponent field is 0, keep only the sign.
        let signed_zero = _mm512_and_si512(xi, _mm512_set1_epi32(i32::MIN));
        _mm512_castsi512_ps(_mm512_mask_mov_epi32(signed_zero, normal, xi))
    }
    #[inline(always)]
    unsafe fn decode(d: &Decoder, codes: *const u32, w: *mut f32, q: *mut f32, e: *mut i32) {
        // Two AVX2 halves (AVX-512F implies AVX2): one tested decode for both, and the
        // decode is not what bounds these kernels once it is vectorised.
        for h in [0, 8] {
            avx2_decode(d, codes.add(h), w.add(h), q.add(h), e.add(h));
        }
    }
}

/// AVX2.
#[cfg(target_arch = "x86_64")]
pub(crate) struct Avx2;

#[cfg(target_arch = "x86_64")]
impl Simd for Avx2 {
    const W: usize = 8;
    const MASKED: bool = false;
    type F = __m256;
    type M = __m256;
    #[inline(always)]
    unsafe fn zero() -> __m256 {
        _mm256_setzero_ps()
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m256 {
        _mm256_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn splat(p: *const f32) -> __m256 {
        _mm256_broadcast_ss(&*p)
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, x: __m256) {
        _mm256_storeu_ps(p, x)
    }
    #[inline(always)]
    unsafe fn add(a: __m256, b: __m256) -> __m256 {
        _mm256_add_ps(a, b)
    }
    #[inline(always)]
    unsafe fn mul(a: __m256, b: __m256) -> __m256 {
        _mm256_mul_ps(a, b)
    }
    #[inline(always)]
    unsafe fn gt_i32(a: __m256, b: __m256) -> __m256 {
        _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_castps_si256(a), _mm256_castps_si256(b)))
    }
    #[inline(always)]
    unsafe fn select(m: __m256, a: __m256, b: __m256) -> __m256 {
        _mm256_blendv_ps(b, a, m)
    }
    #[inline(always)]
    unsafe fn mul_where(src: __m256, m: __m256, a: __m256, b: __m256) -> __m256 {
        _mm256_blendv_ps(src, _mm256_mul_ps(a, b), m)
    }
    #[inline(always)]
    unsafe fn flush(x: __m256) -> __m256 {
        let xi = _mm256_castps_si256(x);
        let exp = _mm256_and_si256(xi, _mm256_set1_epi32(0x7F80_0000));
        let tiny = _mm256_cmpeq_epi32(exp, _mm256_setzero_si256());
        // Clears everything but the sign where the exponent field is 0.
        let clear = _mm256_and_si256(tiny, _mm256_set1_epi32(i32::MAX));
        _mm256_castsi256_ps(_mm256_andnot_si256(clear, xi))
    }
    #[inline(always)]
    unsafe fn decode(d: &Decoder, codes: *const u32, w: *mut f32, q: *mut f32, e: *mut i32) {
        avx2_decode(d, codes, w, q, e)
    }
}

/// [`Simd::decode`] of 8 codes with AVX2: [`crate::format::Format::decode_bits`] and
/// [`super::arith::Reducer::q_bits`] lane for lane, selects as blends. The shift counts
/// are the same in every lane, so they are the `vpsrld`/`vpslld` forms with a register count.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn avx2_decode(d: &Decoder, codes: *const u32, w: *mut f32, q: *mut f32, e: *mut i32) {
    let f = d.format;
    let k = |x: u32| _mm256_set1_epi32(x as i32);
    let n = |x: u32| _mm_cvtsi32_si128(x as i32);
    let eq = |a: __m256i, b: __m256i| _mm256_cmpeq_epi32(a, b);
    // `a` where `m`, else `b`.
    let pick = |m: __m256i, a: __m256i, b: __m256i| _mm256_blendv_epi8(b, a, m);
    let c = _mm256_loadu_si256(codes as *const __m256i);
    let sign = _mm256_and_si256(_mm256_sll_epi32(c, n(32 - f.width())), k(0x8000_0000));
    let ef = _mm256_and_si256(_mm256_srl_epi32(c, n(f.frac_bits())), k(f.exp_max()));
    let frac = _mm256_and_si256(c, k((1 << f.frac_bits()) - 1));
    let exp = _mm256_sll_epi32(_mm256_add_epi32(ef, k((127 - f.bias()) as u32)), n(23));
    let normal = _mm256_or_si256(_mm256_or_si256(sign, exp), _mm256_sll_epi32(frac, n(23 - f.frac_bits())));
    let zero = _mm256_setzero_si256();
    let special = pick(eq(frac, zero), _mm256_or_si256(sign, k(0x7F80_0000)), k(CANONICAL_NAN));
    let wide = pick(eq(ef, zero), sign, pick(eq(ef, k(f.exp_max())), special, normal));
    let low = match d.reduce {
        Some(r) => {
            let lsb = _mm256_and_si256(_mm256_srl_epi32(wide, n(r.drop)), k(r.lsb));
            let up = _mm256_add_epi32(_mm256_add_epi32(wide, k(r.bias)), lsb);
            let rounded = _mm256_sll_epi32(_mm256_srl_epi32(up, n(r.drop)), n(r.drop));
            let inf_nan = eq(_mm256_and_si256(wide, k(0x7F80_0000)), k(0x7F80_0000));
            pick(inf_nan, wide, rounded)
        }
        None => wide,
    };
    _mm256_storeu_si256(w as *mut __m256i, wide);
    _mm256_storeu_si256(q as *mut __m256i, low);
    _mm256_storeu_si256(e as *mut __m256i, ef);
}

/// Plain arrays of 8 lanes.
pub(crate) struct Portable;

impl Simd for Portable {
    const W: usize = 8;
    const MASKED: bool = false;
    type F = [f32; 8];
    type M = [bool; 8];
    #[inline(always)]
    unsafe fn zero() -> [f32; 8] {
        [0.0; 8]
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> [f32; 8] {
        std::ptr::read_unaligned(p as *const [f32; 8])
    }
    #[inline(always)]
    unsafe fn splat(p: *const f32) -> [f32; 8] {
        [*p; 8]
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, x: [f32; 8]) {
        std::ptr::write_unaligned(p as *mut [f32; 8], x)
    }
    #[inline(always)]
    unsafe fn add(a: [f32; 8], b: [f32; 8]) -> [f32; 8] {
        std::array::from_fn(|l| a[l] + b[l])
    }
    #[inline(always)]
    unsafe fn mul(a: [f32; 8], b: [f32; 8]) -> [f32; 8] {
        std::array::from_fn(|l| a[l] * b[l])
    }
    #[inline(always)]
    unsafe fn gt_i32(a: [f32; 8], b: [f32; 8]) -> [bool; 8] {
        std::array::from_fn(|l| (a[l].to_bits() as i32) > (b[l].to_bits() as i32))
    }
    #[inline(always)]
    unsafe fn select(m: [bool; 8], a: [f32; 8], b: [f32; 8]) -> [f32; 8] {
        std::array::from_fn(|l| if m[l] { a[l] } else { b[l] })
    }
    #[inline(always)]
    unsafe fn mul_where(src: [f32; 8], m: [bool; 8], a: [f32; 8], b: [f32; 8]) -> [f32; 8] {
        std::array::from_fn(|l| if m[l] { a[l] * b[l] } else { src[l] })
    }
    #[inline(always)]
    unsafe fn flush(x: [f32; 8]) -> [f32; 8] {
        x.map(super::arith::flush_bits)
    }
}
