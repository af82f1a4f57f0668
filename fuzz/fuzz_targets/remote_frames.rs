//! Fuzz target: the distributed window protocol's frames (bytes a coordinator or a worker node
//! receives from the network): each of the three decoders; a frame that decodes re-encodes
//! and decodes to the same value.
#![no_main]
use cucmsim_actors::remote::{
    decode_finish, decode_window_req, decode_window_resp, encode_finish, encode_window_req,
    encode_window_resp,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = decode_window_req(data) {
        let again = encode_window_req(&req).expect("a decoded request re-encodes");
        let back = decode_window_req(&again).expect("a re-encoded request decodes");
        assert_eq!(format!("{back:?}"), format!("{req:?}"));
    }
    if let Ok(resp) = decode_window_resp(data) {
        let again = encode_window_resp(&resp).expect("a decoded answer re-encodes");
        let back = decode_window_resp(&again).expect("a re-encoded answer decodes");
        assert_eq!(format!("{back:?}"), format!("{resp:?}"));
    }
    if let Ok(fin) = decode_finish(data) {
        let again = encode_finish(&fin).expect("a decoded harvest re-encodes");
        let back = decode_finish(&again).expect("a re-encoded harvest decodes");
        assert_eq!(back.trace, fin.trace);
        assert_eq!(back.counters, fin.counters);
        assert!(back.costs.histograms().eq(fin.costs.histograms()));
    }
});
