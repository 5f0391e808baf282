//! One type-erased entry for every op, used by the host and the wire
//! server, and the accuracy lookup the host's comparator reads.

use crate::array::ArrayRef;
use crate::dtype::{DType, OperandType};
use crate::error::{Error, Result};
use crate::output::Output;
use crate::precision::{Dtypes, Entry, Policy};
use crate::reduce::{reduce, ReduceParams};
use crate::shape::{Layout, Shape};
use crate::table::{BinaryOp, MultiOp, UnaryOp};
use crate::ufunc::{binary, keywords, unary};

use crate::table::Method;
pub use crate::table::{Op, REDUCE_CODE_BASE, UNARY_CODE_BASE};

/// The inputs of `op`, checked for count. Binary ops ignore `params` except
/// that a non-default one is rejected (NumPy's ufunc call takes none of them).
fn inputs_of<'i, 'a, const N: usize>(inputs: &'i [ArrayRef<'a>]) -> Result<&'i [ArrayRef<'a>; N]> {
    inputs.try_into().map_err(|_| Error::InvalidArgument)
}

fn check_binary_params(p: &ReduceParams<'_>) -> Result<()> {
    p.expect_defaults()
}

/// Result dtype and shape of `op` on `inputs` (of the first output of a
/// two-output ufunc: the second has the same shape and
/// [`Op::second_output`]'s dtype, and its bytes follow in `out`).
pub fn output_of(
    op: Op,
    inputs: &[ArrayRef<'_>],
    params: &ReduceParams<'_>,
) -> Result<(DType, Shape)> {
    if keywords::takes_keywords(op) && keywords::keyed(params) {
        return keywords::output(op, inputs, params);
    }
    if let Op::Method(b, m) = op {
        if m != Method::At {
            // The methods check their own keywords (out= included).
            return crate::ufunc::method_output(b, m, inputs, params);
        }
    }
    params.expect_no_call_keywords()?;
    match op {
        Op::Binary(b) => {
            check_binary_params(params)?;
            let [x, y] = inputs_of::<2>(inputs)?;
            b.output(x, y)
        }
        Op::Unary(u) => {
            check_binary_params(params)?;
            let [x] = inputs_of::<1>(inputs)?;
            u.output(x)
        }
        Op::Reduce(r) => {
            let [x] = inputs_of::<1>(inputs)?;
            r.output(x, params)
        }
        Op::Method(b, Method::At) => {
            params.expect_defaults()?;
            crate::ufunc::binary_at_output(b, inputs)
        }
        Op::Method(b, m) => crate::ufunc::method_output(b, m, inputs, params),
        Op::UnaryAt(u) => {
            params.expect_defaults()?;
            crate::ufunc::unary_at_output(u, inputs)
        }
        Op::Multi(m) => {
            check_binary_params(params)?;
            crate::ufunc::multi_output(m, inputs)
        }
    }
}

/// Bytes of the C-contiguous result of `op` on `inputs`: both outputs,
/// one after the other, for a two-output ufunc; with `out=` the out
/// arrays' (whose contents the buffer holds before the call).
pub fn out_bytes(op: Op, inputs: &[ArrayRef<'_>], params: &ReduceParams<'_>) -> Result<usize> {
    if keywords::takes_keywords(op) && keywords::keyed(params) {
        return keywords::out_bytes(op, inputs, params);
    }
    let (dtype, shape) = output_of(op, inputs, params)?;
    let item = dtype.itemsize() + op.second_output(dtype).map_or(0, DType::itemsize);
    shape.size().checked_mul(item).ok_or(Error::ShapeOverflow)
}

/// The scratch words (`u64`s) [`call`] needs: 0 for ufuncs, see
/// [`ReduceOp::scratch_len`](crate::ReduceOp::scratch_len) for reductions.
pub fn scratch_len(op: Op, inputs: &[ArrayRef<'_>], params: &ReduceParams<'_>) -> Result<usize> {
    if keywords::takes_keywords(op) && keywords::keyed(params) {
        return keywords::scratch_len(op, inputs, params);
    }
    match op {
        Op::Method(b, m) if m != Method::At => {
            crate::ufunc::method_scratch_len(b, m, inputs, params)
        }
        Op::Binary(_) | Op::Unary(_) | Op::Method(..) | Op::UnaryAt(_) | Op::Multi(_) => {
            output_of(op, inputs, params).map(|_| 0)
        }
        Op::Reduce(r) => {
            let [x] = inputs_of::<1>(inputs)?;
            r.scratch_len(x, params)
        }
    }
}

/// Runs `op` on `inputs`, writing the C-contiguous result into `out`.
///
/// Errors: [`Error::InvalidArgument`] for the wrong number of inputs,
/// [`Error::InvalidType`] for reduction keywords given to a binary op, and
/// whatever the op itself returns.
pub fn call(
    op: Op,
    inputs: &[ArrayRef<'_>],
    params: &ReduceParams<'_>,
    out: &mut [u8],
    scratch: &mut [u64],
) -> Result<Output> {
    if keywords::takes_keywords(op) && keywords::keyed(params) {
        return keywords::call(op, inputs, params, out, scratch);
    }
    if let Op::Method(b, m) = op {
        if m != Method::At {
            return crate::ufunc::method_with_scratch(b, m, inputs, params, out, scratch);
        }
    }
    params.expect_no_call_keywords()?;
    match op {
        Op::Binary(b) => {
            check_binary_params(params)?;
            let [x, y] = inputs_of::<2>(inputs)?;
            binary(b, x, y, out)
        }
        Op::Unary(u) => {
            check_binary_params(params)?;
            let [x] = inputs_of::<1>(inputs)?;
            unary(u, x, out)
        }
        Op::Reduce(r) => {
            let [x] = inputs_of::<1>(inputs)?;
            reduce(r, x, params, out, scratch)
        }
        Op::Method(b, Method::At) => {
            params.expect_defaults()?;
            crate::ufunc::binary_at(b, inputs, out)
        }
        Op::Method(b, m) => crate::ufunc::method_with_scratch(b, m, inputs, params, out, scratch),
        Op::UnaryAt(u) => {
            params.expect_defaults()?;
            crate::ufunc::unary_at(u, inputs, out)
        }
        Op::Multi(m) => {
            check_binary_params(params)?;
            crate::ufunc::multi(m, inputs, out)
        }
    }
}

impl Op {
    /// The second output's dtype when the first is `first`, for the
    /// two-output ufuncs ([`MultiOp::second_dtype`]); `None` for the others.
    pub const fn second_output(self, first: DType) -> Option<DType> {
        match self {
            Op::Multi(m) => Some(m.second_dtype(first)),
            _ => None,
        }
    }

    /// Whether some array operands of NumPy dtypes make this op produce
    /// `out` (for reductions: with or without `dtype=`).
    pub fn produces(self, out: DType) -> bool {
        let arrays = DType::ALL.map(OperandType::Array);
        match self {
            Op::Binary(b) | Op::Method(b, Method::Outer) => arrays
                .iter()
                .any(|&x| arrays.iter().any(|&y| b.resolve(x, y) == Ok(out))),
            Op::Unary(u) => arrays.iter().any(|&x| u.resolve(x) == Ok(out)),
            // `at` leaves `a` in its own dtype.
            Op::Method(b, Method::At) => arrays
                .iter()
                .any(|&y| b.resolve(OperandType::Array(out), y).is_ok()),
            Op::UnaryAt(u) => u.resolve(OperandType::Array(out)).is_ok(),
            Op::Multi(m) => {
                let first = match m {
                    MultiOp::Divmod => Op::Binary(BinaryOp::FloorDivide),
                    MultiOp::Modf | MultiOp::Frexp => Op::Unary(UnaryOp::Sqrt),
                };
                first.produces(out)
            }
            Op::Method(b, m) => DType::ALL.into_iter().any(|d| {
                core::iter::once(None)
                    .chain(DType::ALL.map(Some))
                    .any(|dtype| crate::ufunc::method_dtype(b, m, d, dtype) == Ok(out))
            }),
            Op::Reduce(r) => {
                let words = [0u64; 2];
                let bytes: &[u8] = bytemuck::cast_slice(&words);
                DType::ALL.into_iter().any(|d| {
                    let Some(data) = bytes.get(..2 * d.itemsize()) else {
                        return false;
                    };
                    let Ok(x) = ArrayRef::new(d, data, Layout::c_contiguous(Shape::vector(2)))
                    else {
                        return false;
                    };
                    core::iter::once(None)
                        .chain(DType::ALL.map(Some))
                        .any(|dtype| {
                            let p = ReduceParams {
                                dtype,
                                ..ReduceParams::default()
                            };
                            matches!(r.output(&x, &p), Ok((o, _)) if o == out)
                        })
                })
            }
        }
    }

    /// How results of this op in `dtype` are compared with NumPy's, or
    /// `None` when NumPy has no loop producing `dtype`.
    pub fn policy(self, dtype: DType) -> Option<Policy> {
        self.produces(dtype).then(|| self.accuracy().of(dtype))
    }
}

/// The policy for `op_name` (NumPy's name or an alias such as `divide`,
/// `mod`, `abs`, `amax`) producing `dtype`, or `None` when there is no such
/// op or NumPy has no such loop.
pub fn policy(op_name: &str, dtype: DType) -> Option<Policy> {
    Op::from_name(op_name)?.policy(dtype)
}

/// The whole accuracy table: one entry per op and output dtype group it
/// produces.
pub fn entries() -> impl Iterator<Item = Entry> {
    const GROUPS: [Dtypes; 4] = [
        Dtypes::Bool,
        Dtypes::Integers,
        Dtypes::Float32,
        Dtypes::Float64,
    ];
    Op::all().flat_map(|op| {
        GROUPS.into_iter().filter_map(move |dtypes| {
            let rep = match dtypes {
                Dtypes::Bool => DType::Bool,
                Dtypes::Integers => DType::Int8,
                Dtypes::Float32 => DType::Float32,
                Dtypes::Float64 => DType::Float64,
            };
            let reachable = match dtypes {
                Dtypes::Integers => DType::ALL
                    .into_iter()
                    .any(|d| d.is_integer() && op.produces(d)),
                _ => op.produces(rep),
            };
            reachable.then(|| Entry {
                op: op.name(),
                dtypes,
                policy: op.accuracy().of(rep),
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::FpFlags;
    use crate::table::ReduceOp;

    /// Every ufunc has an entry for exactly the output dtypes its NumPy
    /// loops produce, and the table lists each once.
    #[test]
    fn every_ufunc_has_an_entry() {
        let arrays = DType::ALL.map(OperandType::Array);
        for op in Op::all() {
            let outputs: std::vec::Vec<DType> = match op {
                Op::Binary(b) => arrays
                    .iter()
                    .flat_map(|&x| arrays.iter().filter_map(move |&y| b.resolve(x, y).ok()))
                    .collect(),
                Op::Unary(u) => arrays.iter().filter_map(|&x| u.resolve(x).ok()).collect(),
                Op::Reduce(_) | Op::Method(..) | Op::UnaryAt(_) | Op::Multi(_) => continue,
            };
            assert!(!outputs.is_empty(), "{op} has no loop at all");
            for d in DType::ALL {
                assert_eq!(
                    policy(op.name(), d).is_some(),
                    outputs.contains(&d),
                    "{op} {d}"
                );
            }
        }
        // No entry names an op that does not exist, none is duplicated.
        let all: std::vec::Vec<Entry> = entries().collect();
        for (i, e) in all.iter().enumerate() {
            assert!(Op::from_name(e.op).is_some(), "{}", e.op);
            assert!(!all[..i]
                .iter()
                .any(|f| f.op == e.op && f.dtypes == e.dtypes));
            assert!(!e.policy.why.is_empty());
        }
        assert_eq!(
            policy("divide", DType::Float32),
            policy("true_divide", DType::Float32)
        );
        assert_eq!(policy("mod", DType::Int8), policy("remainder", DType::Int8));
        assert_eq!(policy("true_divide", DType::Int8), None);
        assert_eq!(policy("equal", DType::Float64), None);
        assert_eq!(policy("sqrt", DType::Int32), None);
        assert_eq!(policy("sqrt", DType::Float64), Some(Policy::EXACT));
        assert_eq!(policy("exp", DType::Float32).map(|p| p.ulp), Some(4));
        assert_eq!(policy("no_such_op", DType::Float32), None);
    }

    /// Every reduction has an entry for each output dtype it produces from
    /// each input dtype (default parameters).
    #[test]
    fn every_reduction_has_an_entry() {
        let params = ReduceParams::default();
        let bytes = [0u64; 2];
        for &op in ReduceOp::ALL {
            for d in DType::ALL {
                let data = &bytemuck::cast_slice::<u64, u8>(&bytes)[..d.itemsize() * 2];
                let a = ArrayRef::new(d, data, Layout::c_contiguous(Shape::vector(2))).unwrap();
                if let Ok((out, _)) = op.output(&a, &params) {
                    assert!(
                        policy(op.name(), out).is_some(),
                        "{} {d} -> {out}",
                        op.name()
                    );
                }
            }
        }
        assert_eq!(
            policy("amax", DType::Float32),
            policy("max", DType::Float32)
        );
    }

    #[test]
    fn policies_accept_what_they_say() {
        let max = policy("maximum", DType::Float64).unwrap();
        assert!(max.accepts_f64(0.0, -0.0));
        assert!(!max.accepts_f64(f64::NAN, -f64::NAN));
        assert!(max.accepts_f64(-f64::NAN, -f64::NAN));
        let add = policy("add", DType::Float32).unwrap();
        assert!(!add.accepts_f32(0.0, -0.0));
        assert!(add.accepts_f32(f32::NAN, -f32::NAN));
        assert!(!add.accepts_f32(1.0, 1.0 + f32::EPSILON));
        let pow = policy("power", DType::Float64).unwrap();
        assert!(pow.accepts_f64(1.0, 1.0 + 2.0 * f64::EPSILON));
        assert!(!pow.accepts_f64(1.0, 1.0 + 3.0 * f64::EPSILON));
        assert!(!pow.accepts_f64(1.0, f64::NAN));
        assert!(pow.accepts_flags(FpFlags::OVERFLOW, FpFlags::NONE));
        assert!(!pow.accepts_flags(FpFlags::UNDERFLOW, FpFlags::NONE));
        assert!(!add.accepts_flags(FpFlags::UNDERFLOW, FpFlags::NONE));
        let one = 1f64.to_le_bytes();
        let next = (1f64 + f64::EPSILON).to_le_bytes();
        assert!(pow.accepts_element(DType::Float64, &one, &next));
        assert!(!policy("add", DType::Float64).unwrap().accepts_element(
            DType::Float64,
            &one,
            &next
        ));
        assert!(!pow.accepts_element(DType::Float64, &one, &next[..4]));
        let z = 0f32.to_le_bytes();
        let nz = (-0f32).to_le_bytes();
        assert!(max.accepts_element(DType::Float32, &z, &nz));
        assert!(!add.accepts_element(DType::Float32, &z, &nz));
        let int = policy("add", DType::Int16).unwrap();
        assert!(int.accepts_element(DType::Int16, &[1, 2], &[1, 2]));
        assert!(!int.accepts_element(DType::Int16, &[1, 2], &[1, 3]));
    }
}
