// 16 temperature readings (°C) from a sensor, one per second; the last
// ones are a warm-up spike. expected.py reads this array to compute the
// golden output with NumPy.
pub const SAMPLES: [f32; 16] = [
    21.4, 21.5, 21.3, 21.6, 21.7, 21.5, 21.4, 21.8, 21.9, 22.1, 21.7, 21.6, 22.4, 23.9, 25.2, 24.8,
];
