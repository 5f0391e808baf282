//! The optional features: `log` routes the typed API's errors to the `log`
//! facade, `serde` writes NumPy's names, `alloc` sizes results itself.
//! Run with `--features alloc,serde,log` (cargo xtask test does).

#![cfg(all(feature = "log", feature = "serde", feature = "alloc"))]

use std::sync::Mutex;

use fnp_core::owned::Array;
use fnp_core::{BinaryOp, DType, Error, ReduceOp, ReduceParams, Shape, UnaryOp};

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        LINES
            .lock()
            .unwrap()
            .push(format!("{} {}", record.level(), record.args()));
    }
    fn flush(&self) {}
}

#[test]
fn errors_of_typed_calls_are_logged_through_log() {
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Debug);
    let r = fnp_core::add(&[1.0f32, 2.0], &[1.0f32, 2.0, 3.0], &mut [0f32; 3]);
    assert_eq!(r, Err(Error::BroadcastMismatch));
    let lines = LINES.lock().unwrap();
    assert_eq!(
        lines.as_slice(),
        ["DEBUG fnp-core: add failed: operands could not be broadcast together"]
    );
}

#[test]
fn serde_uses_numpy_names() {
    let json = |v: &dyn erased::Ser| v.json();
    assert_eq!(json(&DType::Float32), r#""float32""#);
    assert_eq!(json(&DType::UInt8), r#""uint8""#);
    assert_eq!(json(&BinaryOp::TrueDivide), r#""true_divide""#);
    assert_eq!(json(&UnaryOp::Log1p), r#""log1p""#);
    assert_eq!(json(&ReduceOp::CountNonzero), r#""count_nonzero""#);
    assert_eq!(json(&Shape::new(&[2, 3]).unwrap()), "[2,3]");
    let back: Shape = serde_json::from_str("[4,0,1]").unwrap();
    assert_eq!(back.dims(), &[4, 0, 1]);
    assert!(serde_json::from_str::<Shape>(&format!("[{}, 2]", usize::MAX)).is_err());
    let dt: DType = serde_json::from_str(r#""int64""#).unwrap();
    assert_eq!(dt, DType::Int64);
}

mod erased {
    pub trait Ser {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Ser for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap()
        }
    }
}

#[test]
fn owned_arrays_size_their_results() {
    let x = Array::from_vec(vec![1i32, 2, 3, 4, 5, 6], &[2, 3]).unwrap();
    let q = Array::<f64>::binary(BinaryOp::TrueDivide, &x, &[2i32]).unwrap();
    assert_eq!(q.shape().dims(), &[2, 3]);
    assert_eq!(q.as_slice(), &[0.5, 1.0, 1.5, 2.0, 2.5, 3.0]);
    let m = Array::<f64>::reduce(ReduceOp::Var, &x, &ReduceParams::along(1)).unwrap();
    assert_eq!(m.as_slice(), &[2.0 / 3.0, 2.0 / 3.0]);
    let z = Array::<f64>::binary(BinaryOp::TrueDivide, &x, &[0i32]).unwrap();
    assert!(z.flags().contains(fnp_core::FpFlags::DIVIDE));
    // The wrong result dtype and bad shapes are errors, not panics.
    assert_eq!(
        Array::<f32>::binary(BinaryOp::TrueDivide, &x, &[2i32]).err(),
        Some(Error::InvalidType)
    );
    assert_eq!(
        Array::<f64>::unary(UnaryOp::Sqrt, &x).map(|a| a.into_vec().len()),
        Ok(6)
    );
    assert_eq!(
        Array::from_vec(vec![1u8; 5], &[2, 3]).err(),
        Some(Error::LayoutMismatch)
    );
    let json = serde_json::to_string(&q).unwrap();
    let back: Array<f64> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, q);
    let bad = r#"{"data":[1.0,2.0],"shape":[3],"flags":0}"#;
    assert!(serde_json::from_str::<Array<f64>>(bad).is_err());
}
