#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nomic_agent_fuzz::api_base::check(data));
