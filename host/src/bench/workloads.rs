//! The sentinel workloads: same sizes and data on both sides.

use anyhow::{Context, Result};
use fnp_core::{
    call, output_of, scratch_len, ArrayRef, Axes, BinaryOp, DType, Method, Op, ReduceOp, UnaryOp,
};
use fnp_core::{ReduceParams, Shape};

use super::hugebuf::HugeBuf;

/// SplitMix64: a fixed, specified sequence, so the data never changes
/// between crate versions.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        let unit = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        lo + (hi - lo) * unit
    }
}

/// How input values are drawn.
#[derive(Clone, Copy)]
enum Fill {
    /// Uniform floats in [-100, 100).
    Float,
    /// Uniform floats with every 17th element NaN.
    FloatWithNan,
    /// Uniform integers over the whole range of the dtype.
    IntFull,
    /// Uniform integers in [-1000, 1000], zero included (division by zero).
    IntSmall,
    /// Uniform floats in [0, 100): inside sqrt's and log's domain.
    Positive,
    /// Uniform floats in [-10, 10): exp without overflow.
    Small,
    /// 0, k, 2k, ...: the starts of `reduceat`'s blocks (int64).
    Steps(usize),
    /// Uniform integers in [0, k): `at`'s indices (int64).
    Below(u64),
}

/// One input array, stored 8-byte aligned.
pub struct Input {
    pub dtype: DType,
    pub shape: Vec<usize>,
    buf: HugeBuf,
}

impl Input {
    fn new(dtype: DType, shape: &[usize], fill: Fill, seed: u64) -> Input {
        let n: usize = shape.iter().product();
        let mut buf = HugeBuf::zeroed(n * dtype.itemsize());
        let bytes = buf.bytes_mut();
        let mut rng = SplitMix64(seed);
        for (i, chunk) in bytes.chunks_exact_mut(dtype.itemsize()).enumerate() {
            let r = rng.next();
            let x = match fill {
                Fill::Positive => rng.uniform(0.0, 100.0),
                Fill::Small => rng.uniform(-10.0, 10.0),
                _ => rng.uniform(-100.0, 100.0),
            };
            let x = if matches!(fill, Fill::FloatWithNan) && i % 17 == 0 {
                f64::NAN
            } else {
                x
            };
            let small = (r % 2001) as i64 - 1000;
            match (dtype, fill) {
                (_, Fill::Steps(k)) => chunk.copy_from_slice(&((i * k) as i64).to_le_bytes()),
                (_, Fill::Below(k)) => chunk.copy_from_slice(&((r % k) as i64).to_le_bytes()),
                (DType::Float64, _) => chunk.copy_from_slice(&x.to_le_bytes()),
                (DType::Float32, _) => chunk.copy_from_slice(&(x as f32).to_le_bytes()),
                (_, Fill::IntSmall) => chunk.copy_from_slice(&small.to_le_bytes()[..chunk.len()]),
                _ => chunk.copy_from_slice(&r.to_le_bytes()[..chunk.len()]),
            }
        }
        Input {
            dtype,
            shape: shape.to_vec(),
            buf,
        }
    }

    /// The little-endian element bytes.
    pub fn bytes(&self) -> &[u8] {
        self.buf.bytes()
    }

    fn view(&self) -> Result<ArrayRef<'_>> {
        let shape = Shape::new(&self.shape)?;
        Ok(ArrayRef::contiguous(self.dtype, self.bytes(), shape)?)
    }
}

/// One workload: inputs, the NumPy expression and the fnp call.
pub struct Workload {
    pub name: String,
    pub elements: usize,
    pub inputs: Vec<Input>,
    pub numpy_expr: String,
    pub numpy_out: Option<(DType, Vec<usize>)>,
    op: Op,
    axis: Option<isize>,
    out: HugeBuf,
    scratch: Vec<u64>,
    streaming: bool,
}

impl Workload {
    fn params(&self) -> ReduceParams<'static> {
        ReduceParams {
            axis: self.axis.map_or(Axes::All, Axes::single),
            ..ReduceParams::default()
        }
    }

    fn new(
        name: &str,
        op: Op,
        axis: Option<isize>,
        inputs: Vec<Input>,
        numpy_expr: String,
    ) -> Result<Workload> {
        let params = ReduceParams {
            axis: axis.map_or(Axes::All, Axes::single),
            ..ReduceParams::default()
        };
        let views = inputs.iter().map(Input::view).collect::<Result<Vec<_>>>()?;
        let (dtype, shape) = output_of(op, &views, &params)?;
        let scratch = scratch_len(op, &views, &params)?;
        // The larger of what is read and what is written.
        let read = inputs
            .iter()
            .map(|i| i.shape.iter().product::<usize>())
            .max();
        let elements = read.unwrap_or(0).max(shape.size());
        Ok(Workload {
            name: name.to_string(),
            elements,
            numpy_expr,
            numpy_out: Some((dtype, shape.dims().to_vec())),
            out: HugeBuf::zeroed(shape.size() * dtype.itemsize()),
            scratch: vec![0; scratch],
            streaming: matches!(op, Op::Binary(_) | Op::Unary(_)),
            inputs,
            op,
            axis,
        })
    }

    fn binary(name: &str, op: BinaryOp, a: Input, b: Input) -> Result<Workload> {
        let expr = format!("np.{}(a, b, out=out)", op.name());
        Workload::new(name, Op::Binary(op), None, vec![a, b], expr)
    }

    fn unary(name: &str, op: UnaryOp, a: Input) -> Result<Workload> {
        let expr = format!("np.{}(a, out=out)", op.name());
        Workload::new(name, Op::Unary(op), None, vec![a], expr)
    }

    /// NumPy's name of the op.
    pub fn op_name(&self) -> &'static str {
        self.op.name()
    }

    fn reduce(name: &str, op: ReduceOp, axis: Option<isize>, a: Input) -> Result<Workload> {
        let expr = match axis {
            Some(axis) => format!("np.{}(a, axis={axis}, out=out)", op.name()),
            None => format!("np.{}(a, out=out)", op.name()),
        };
        Workload::new(name, Op::Reduce(op), axis, vec![a], expr)
    }

    /// `np.<op>.<method>(a[, b], out=out)` along axis 0; `at` (which
    /// works in place) on a copy of `a` in `out`, as fnp does.
    fn method(name: &str, op: BinaryOp, method: Method, inputs: Vec<Input>) -> Result<Workload> {
        if method == Method::At {
            let expr = format!(
                "(np.copyto(out, a), np.{}.at(out, b, c), out)[2]",
                op.name()
            );
            return Workload::new(name, Op::Method(op, method), None, inputs, expr);
        }
        let args = ["a", "b"][..inputs.len().min(2)].join(", ");
        let expr = format!("np.{}.{}({args}, out=out)", op.name(), method.name());
        Workload::new(name, Op::Method(op, method), Some(0), inputs, expr)
    }

    /// Runs fnp once.
    pub fn run(&mut self) -> Result<()> {
        let params = self.params();
        let views = self
            .inputs
            .iter()
            .map(Input::view)
            .collect::<Result<Vec<_>>>()?;
        call(
            self.op,
            &views,
            &params,
            self.out.bytes_mut(),
            &mut self.scratch,
        )
        .with_context(|| format!("fnp {}", self.name))?;
        Ok(())
    }

    /// fnp's output bytes from the last run.
    pub fn output_bytes(&self) -> &[u8] {
        self.out.bytes()
    }

    /// Bytes a streaming op reads and writes per call.
    pub fn streaming_bytes(&self) -> Option<usize> {
        self.streaming.then(|| {
            self.inputs.iter().map(|i| i.bytes().len()).sum::<usize>() + self.out.bytes().len()
        })
    }
}

/// The sentinel workloads with every size divided by `scale`.
pub fn workloads(scale: usize) -> Result<Vec<Workload>> {
    let n = (1_000_000 / scale).max(1);
    let side = ((1000.0 / (scale as f64).sqrt()) as usize).max(1);
    let f = |d, fill, seed| Input::new(d, &[n], fill, seed);
    let mut list = Vec::new();
    for (dtype, tag) in [(DType::Float64, "f64"), (DType::Float32, "f32")] {
        for op in [
            BinaryOp::Add,
            BinaryOp::Subtract,
            BinaryOp::Multiply,
            BinaryOp::TrueDivide,
        ] {
            list.push(Workload::binary(
                &format!("{}_{tag}", op.name()),
                op,
                f(dtype, Fill::Float, 1),
                f(dtype, Fill::Float, 2),
            )?);
        }
    }
    list.push(Workload::binary(
        "add_broadcast_col_row_f64",
        BinaryOp::Add,
        Input::new(DType::Float64, &[side, 1], Fill::Float, 3),
        Input::new(DType::Float64, &[side], Fill::Float, 4),
    )?);
    for op in [BinaryOp::FloorDivide, BinaryOp::Remainder] {
        list.push(Workload::binary(
            &format!("{}_i32", op.name()),
            op,
            f(DType::Int32, Fill::IntFull, 5),
            f(DType::Int32, Fill::IntSmall, 6),
        )?);
    }
    list.push(Workload::binary(
        "maximum_nan_f64",
        BinaryOp::Maximum,
        f(DType::Float64, Fill::FloatWithNan, 7),
        f(DType::Float64, Fill::FloatWithNan, 8),
    )?);
    // Transcendentals and a comparison, at 1M and at a cache-resident 64K.
    let small = (65_536 / scale).max(1);
    for (len, suffix) in [(n, ""), (small, "_64k")] {
        for (dtype, tag) in [(DType::Float32, "f32"), (DType::Float64, "f64")] {
            for (op, fill) in [
                (UnaryOp::Sqrt, Fill::Positive),
                (UnaryOp::Exp, Fill::Small),
                (UnaryOp::Log, Fill::Positive),
                (UnaryOp::Sin, Fill::Float),
                (UnaryOp::Cos, Fill::Float),
            ] {
                list.push(Workload::unary(
                    &format!("{}_{tag}{suffix}", op.name()),
                    op,
                    Input::new(dtype, &[len], fill, 11),
                )?);
            }
        }
        list.push(Workload::binary(
            &format!("less_f64{suffix}"),
            BinaryOp::Less,
            Input::new(DType::Float64, &[len], Fill::Float, 12),
            Input::new(DType::Float64, &[len], Fill::Float, 13),
        )?);
    }
    for (name, op, dtype, fill) in [
        ("sum_f64", ReduceOp::Sum, DType::Float64, Fill::Float),
        ("sum_f32", ReduceOp::Sum, DType::Float32, Fill::Float),
        ("sum_i8", ReduceOp::Sum, DType::Int8, Fill::IntFull),
        ("mean_f64", ReduceOp::Mean, DType::Float64, Fill::Float),
        ("var_f64", ReduceOp::Var, DType::Float64, Fill::Float),
        ("argmax_f64", ReduceOp::Argmax, DType::Float64, Fill::Float),
        ("cumsum_f64", ReduceOp::Cumsum, DType::Float64, Fill::Float),
    ] {
        list.push(Workload::reduce(name, op, None, f(dtype, fill, 9))?);
    }
    // The ufunc methods: a peak hold and block sums (decimation by 100).
    list.push(Workload::method(
        "maximum_accumulate_f64",
        BinaryOp::Maximum,
        Method::Accumulate,
        vec![f(DType::Float64, Fill::Float, 14)],
    )?);
    list.push(Workload::method(
        "add_reduceat_f64",
        BinaryOp::Add,
        Method::Reduceat,
        vec![
            f(DType::Float64, Fill::Float, 15),
            Input::new(DType::Int64, &[n.div_ceil(100)], Fill::Steps(100), 0),
        ],
    )?);
    // A weighted histogram: 1M weights into 1,000 bins.
    list.push(Workload::method(
        "add_at_f64",
        BinaryOp::Add,
        Method::At,
        vec![
            Input::new(DType::Float64, &[1000], Fill::Float, 16),
            Input::new(DType::Int64, &[n], Fill::Below(1000), 17),
            f(DType::Float64, Fill::Float, 18),
        ],
    )?);
    for axis in [0, 1] {
        list.push(Workload::reduce(
            &format!("sum_axis{axis}_f64_square"),
            ReduceOp::Sum,
            Some(axis),
            Input::new(DType::Float64, &[side, side], Fill::Float, 10),
        )?);
    }
    Ok(list)
}
