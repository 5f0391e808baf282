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
