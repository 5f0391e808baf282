use fnp_core::{binary, ArrayRef, BinaryOp, DType, Layout, Shape};

#[test]
fn broadcast_add_with_cast_and_strides() {
    // a: int8 column [3,1]; b: float32 row [4] read backwards.
    let a: [i8; 3] = [1, 2, 3];
    let b: [f32; 4] = [0.5, 1.5, 2.5, 3.5];
    let a = ArrayRef::from_slice(&a, Layout::c_contiguous(Shape::new(&[3, 1]).unwrap())).unwrap();
    let b = ArrayRef::from_slice(
        &b,
        Layout::strided(Shape::new(&[4]).unwrap(), &[-1], 3).unwrap(),
    )
    .unwrap();
    let mut out = [0f32; 12];
    let o = binary(BinaryOp::Add, &a, &b, bytemuck::cast_slice_mut(&mut out)).unwrap();
    assert_eq!(o.dtype, DType::Float32);
    assert_eq!(o.shape.dims(), &[3, 4]);
    assert_eq!(out[..4], [4.5, 3.5, 2.5, 1.5]);
    assert_eq!(out[8..], [6.5, 5.5, 4.5, 3.5]);
}

/// A broadcast (stride-0) operand is converted once and repeated: bool
/// bytes other than 0/1 still read as True, casts still apply, and runs
/// longer than one gather chunk (1024 on hosts) repeat the same value.
#[test]
fn broadcast_operand_is_converted_once_and_repeated() {
    // bool column [2,1] with a raw byte 2 (True), against a bool row.
    let a: [u8; 2] = [2, 0];
    let a = ArrayRef::new(
        DType::Bool,
        &a,
        Layout::c_contiguous(Shape::new(&[2, 1]).unwrap()),
    )
    .unwrap();
    let b: [u8; 3] = [0, 1, 0];
    let b = ArrayRef::new(
        DType::Bool,
        &b,
        Layout::c_contiguous(Shape::new(&[3]).unwrap()),
    )
    .unwrap();
    let mut out = [9u8; 6];
    let o = binary(BinaryOp::Multiply, &a, &b, &mut out).unwrap();
    assert_eq!(o.dtype, DType::Bool);
    assert_eq!(out, [0, 1, 0, 0, 0, 0]);

    // int16 column [2,1] cast to float64 against a long float64 row.
    let n = 2500;
    let a: [i16; 2] = [-3, 7];
    let a = ArrayRef::from_slice(&a, Layout::c_contiguous(Shape::new(&[2, 1]).unwrap())).unwrap();
    let row: Vec<f64> = (0..n).map(|i| i as f64 * 0.5).collect();
    let b = ArrayRef::from_slice(&row, Layout::c_contiguous(Shape::new(&[n]).unwrap())).unwrap();
    let mut out = vec![0f64; 2 * n];
    let o = binary(
        BinaryOp::Subtract,
        &a,
        &b,
        bytemuck::cast_slice_mut(&mut out),
    )
    .unwrap();
    assert_eq!(o.dtype, DType::Float64);
    for (i, &r) in row.iter().enumerate() {
        assert_eq!(out[i], -3.0 - r);
        assert_eq!(out[n + i], 7.0 - r);
    }
}
