//! Cases shared by the in-memory and QEMU device tests.
#![allow(dead_code)]

use fnp_core::DType;
use fnp_host::case::{AxisParam, Case, CaseOutcome, Input, Mask, Params};
use fnp_host::corpus::c_strides;

pub fn input<T: Copy>(
    dtype: DType,
    shape: &[usize],
    values: &[T],
    to_le: fn(T) -> Vec<u8>,
) -> Input {
    Input {
        dtype,
        shape: shape.to_vec(),
        scalar: false,
        strides: c_strides(shape),
        offset: 0,
        buffer: values.iter().flat_map(|&v| to_le(v)).collect(),
        generated: None,
    }
}

pub fn i32s(shape: &[usize], v: &[i32]) -> Input {
    input(DType::Int32, shape, v, |x| x.to_le_bytes().to_vec())
}

pub fn f64s(shape: &[usize], v: &[f64]) -> Input {
    input(DType::Float64, shape, v, |x| x.to_le_bytes().to_vec())
}

pub fn u8s(shape: &[usize], v: &[u8]) -> Input {
    input(DType::UInt8, shape, v, |x| vec![x])
}

pub fn py_int(v: i64) -> Input {
    Input {
        dtype: DType::Int64,
        shape: vec![],
        scalar: true,
        strides: vec![],
        offset: 0,
        buffer: v.to_le_bytes().to_vec(),
        generated: None,
    }
}

pub fn case(id: &str, op: &str, inputs: Vec<Input>) -> Case {
    Case {
        id: id.into(),
        op: op.into(),
        inputs,
        params: Params::default(),
    }
}

/// A spread of binary cases: dtypes, NEP 50 scalars, broadcasting,
/// negative strides, wraparound, NaN, and NumPy errors.
pub fn cases() -> Vec<Case> {
    let mut reversed = f64s(&[3], &[1.5, -0.0, f64::NAN]);
    reversed.strides = vec![-1];
    reversed.offset = 2;
    vec![
        case(
            "add_i32",
            "add",
            vec![
                i32s(&[4], &[1, -2, i32::MAX, 0]),
                i32s(&[4], &[10, 20, 1, 0]),
            ],
        ),
        case(
            "add_u8_pyint",
            "add",
            vec![u8s(&[3], &[0, 200, 255]), py_int(100)],
        ),
        case(
            "add_pyint_overflow",
            "add",
            vec![u8s(&[1], &[1]), py_int(300)],
        ),
        case(
            "add_broadcast_2d",
            "add",
            vec![i32s(&[2, 1], &[100, 200]), i32s(&[3], &[1, 2, 3])],
        ),
        case(
            "add_f64_reversed",
            "add",
            vec![reversed, f64s(&[1], &[0.0])],
        ),
        case(
            "add_f64_inf",
            "add",
            vec![
                f64s(&[2], &[f64::INFINITY, 1e308]),
                f64s(&[2], &[1.0, 1e308]),
            ],
        ),
        case(
            "add_mismatch",
            "add",
            vec![i32s(&[3], &[1, 2, 3]), i32s(&[2], &[1, 2])],
        ),
        case("add_empty", "add", vec![i32s(&[0], &[]), i32s(&[1], &[5])]),
        case(
            "subtract_i32",
            "subtract",
            vec![i32s(&[2], &[5, i32::MIN]), i32s(&[2], &[7, 1])],
        ),
        case(
            "less_f64_nan",
            "less",
            vec![
                f64s(&[3], &[1.0, f64::NAN, -0.0]),
                f64s(&[3], &[2.0, f64::NAN, 0.0]),
            ],
        ),
        case(
            "greater_u8_pyint_out_of_range",
            "greater",
            vec![u8s(&[2], &[0, 255]), py_int(-1)],
        ),
        case(
            "right_shift_i32_wide",
            "right_shift",
            vec![i32s(&[3], &[-8, 8, -1]), i32s(&[3], &[1, 40, 31])],
        ),
        case("invert_i32", "invert", vec![i32s(&[2], &[0, -1])]),
        // Not log(-1): the NaN it makes is -NaN on x86 and +NaN under
        // soft float, and these tests compare bytes (the comparator ignores
        // the sign of a NaN an op creates).
        case(
            "log_f64_special",
            "log",
            vec![f64s(&[3], &[0.0, 1.0, f64::INFINITY])],
        ),
        case("sqrt_u8_float16", "sqrt", vec![u8s(&[1], &[4])]),
    ]
}

/// Reductions with their keywords. Expected values (NumPy 2.4):
/// sum(int32 [[1,2,3],[4,5,6]], axis=0, keepdims=True) = int64 [[5,7,9]];
/// mean([1.,2.,3.,4.], where=[T,F,T,F]) = 2.0; max(int32 []) raises
/// ValueError; cumsum(uint8 [200,100]) = uint64 [200,300];
/// var([1.,2.,4.], ddof=1) = 2.333333333333333 (0x4002aaaaaaaaaaaa);
/// sum(int8 [100,100], dtype=int8, initial=1) = int8 -55;
/// maximum.accumulate(int32 [3,1,4,1,5]) = int32 [3,3,4,4,5];
/// subtract.reduce(int32 [[1,2,3],[4,5,6]], axis=1) = int32 [-4,-7];
/// add.at(int32 [0,0,0], [0,0,2], int32 [1]) leaves int32 [2,0,1];
/// negative.at(float64 [1,2], [0,0,1]) leaves float64 [1,-2];
/// divmod(int32 [7,-7], int32 [2]) = (int32 [3,-4], int32 [1,1]);
/// frexp(float64 [8,-0.75]) = (float64 [0.5,-0.75], int32 [4,0]);
/// add(int32 [1,2], int32 [10], out=float32 [7,7], where=[T,F]) leaves
/// float32 [11,7];
/// add(int8 [100,100], int8 [100,100], signature=(None, "int16", None))
/// = int16 [200,200];
/// maximum.reduce(float64 [[1e300,1.5],[6,2.5]], axis=0, out=int32) =
/// int32 [6,2], invalid (each output starts in the int32 out: 1e300 there
/// is INT_MIN).
pub fn reduction_cases() -> Vec<Case> {
    let int8 = input(DType::Int8, &[2], &[100i8, 100], |x| {
        x.to_le_bytes().to_vec()
    });
    let mut v = vec![
        case(
            "sum_axis0_keepdims",
            "sum",
            vec![i32s(&[2, 3], &[1, 2, 3, 4, 5, 6])],
        ),
        case(
            "mean_where",
            "mean",
            vec![f64s(&[4], &[1.0, 2.0, 3.0, 4.0])],
        ),
        case("max_empty", "max", vec![i32s(&[0], &[])]),
        case("cumsum_u8", "cumsum", vec![u8s(&[2], &[200, 100])]),
        case("var_ddof1", "var", vec![f64s(&[3], &[1.0, 2.0, 4.0])]),
        case("sum_int8_dtype_initial", "sum", vec![int8]),
        case(
            "maximum_accumulate_i32",
            "maximum.accumulate",
            vec![i32s(&[5], &[3, 1, 4, 1, 5])],
        ),
        case(
            "subtract_reduce_axis1",
            "subtract.reduce",
            vec![i32s(&[2, 3], &[1, 2, 3, 4, 5, 6])],
        ),
        case(
            "add_at_repeated",
            "add.at",
            vec![
                i32s(&[3], &[0, 0, 0]),
                input(DType::Int64, &[3], &[0i64, 0, 2], |x| {
                    x.to_le_bytes().to_vec()
                }),
                i32s(&[1], &[1]),
            ],
        ),
        case(
            "negative_at_f64",
            "negative.at",
            vec![
                f64s(&[2], &[1.0, 2.0]),
                input(DType::Int64, &[3], &[0i64, 0, 1], |x| {
                    x.to_le_bytes().to_vec()
                }),
            ],
        ),
        case(
            "divmod_i32",
            "divmod",
            vec![i32s(&[2], &[7, -7]), i32s(&[1], &[2])],
        ),
        case("frexp_f64", "frexp", vec![f64s(&[2], &[8.0, -0.75])]),
        case(
            "add_out_where",
            "add",
            vec![i32s(&[2], &[1, 2]), i32s(&[1], &[10])],
        ),
    ];
    v[7].params.axis = Some(AxisParam::One(1));
    v[0].params.axis = Some(AxisParam::One(0));
    v[0].params.keepdims = true;
    v[1].params.where_mask = Some(Mask {
        shape: vec![4],
        data: vec![true, false, true, false],
    });
    v[4].params.ddof = Some(1.0);
    v[5].params.dtype = Some(DType::Int8);
    v[5].params.initial = Some(fnp_host::value::Scalar::Int(1));
    let add = v.len() - 1;
    v[add].params.where_mask = Some(Mask {
        shape: vec![2],
        data: vec![true, false],
    });
    v[add].params.out = vec![Some(fnp_host::case::Out {
        array: input(DType::Float32, &[2], &[7.0f32, 7.0], |x| {
            x.to_le_bytes().to_vec()
        }),
        operand: None,
    })];
    let mut sig = case("add_signature_i16", "add", vec![int8_pair(), int8_pair()]);
    sig.params.signature = Some(fnp_host::case::SignatureParam::Types(vec![
        None,
        Some("int16".into()),
        None,
    ]));
    v.push(sig);
    let mut into = case(
        "maximum_reduce_out_i32",
        "maximum.reduce",
        vec![f64s(&[2, 2], &[1e300, 1.5, 6.0, 2.5])],
    );
    into.params.axis = Some(AxisParam::One(0));
    into.params.out = vec![Some(fnp_host::case::Out {
        array: i32s(&[2], &[7, 7]),
        operand: None,
    })];
    v.push(into);
    v
}

fn int8_pair() -> Input {
    input(DType::Int8, &[2], &[100i8, 100], |x| {
        x.to_le_bytes().to_vec()
    })
}

/// Whether the host target can answer `case` yet (it runs binary ufuncs;
/// reductions arrive with `fnp_core::call` in its executor).
pub fn host_runs(outcome: &CaseOutcome) -> bool {
    !matches!(outcome, CaseOutcome::Unsupported { reason } if reason == fnp_host::exec::NOT_IMPLEMENTED)
}

/// One line per outcome: what the golden files hold.
pub fn describe(case: &Case, outcome: &CaseOutcome) -> String {
    match outcome {
        CaseOutcome::Ok {
            dtype,
            shape,
            bytes,
            flags,
            more,
        } => {
            let hex =
                |bytes: &[u8]| -> String { bytes.iter().map(|b| format!("{b:02x}")).collect() };
            let names: Vec<&str> = flags.names().collect();
            // A second output (divmod, modf, frexp) follows as `+ dtype hex`.
            let rest: String = more
                .iter()
                .map(|(d, b)| format!(" + {} {}", d.name(), hex(b)))
                .collect();
            format!(
                "{} ok {} {:?} [{}] {}{rest}",
                case.id,
                dtype.name(),
                shape,
                names.join(","),
                hex(bytes)
            )
        }
        CaseOutcome::Error { exception, .. } => format!("{} error {exception}", case.id),
        CaseOutcome::Unsupported { reason } => format!("{} unsupported {reason}", case.id),
        CaseOutcome::Crashed { detail } => format!("{} crashed {detail}", case.id),
        CaseOutcome::TimedOut => format!("{} timed_out", case.id),
    }
}
