#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fnp_fuzz::op_entry(data));
