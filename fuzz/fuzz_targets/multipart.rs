#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nomic_agent_fuzz::multipart::check(data));
