//! Decodes arbitrary bytes as a JSON-format event (and batch): nothing may panic, and an
//! event that decodes must decode again, equal, from its own encoding.

#![no_main]

use libfuzzer_sys::fuzz_target;
use motif_contract::json;
use motif_contract_fuzz::as_structured;

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = json::from_slice(data) {
        let out = json::to_vec(&event);
        let back = json::from_slice(&out).unwrap_or_else(|e| {
            panic!(
                "{event:?} encodes as {:?}, which fails: {e}",
                String::from_utf8_lossy(&out)
            )
        });
        // Data of a JSON type goes as the JSON value; whitespace around it is not kept.
        assert_eq!(
            back,
            as_structured(&event),
            "via {:?}",
            String::from_utf8_lossy(&out)
        );
        assert_eq!(json::to_vec(&back), json::to_vec(&as_structured(&event)));
    }
    if let Ok(events) = json::batch_from_slice(data) {
        let out = json::batch_to_vec(&events);
        let back = json::batch_from_slice(&out).unwrap_or_else(|e| {
            panic!(
                "a batch encodes as {:?}, which fails: {e}",
                String::from_utf8_lossy(&out)
            )
        });
        let expected: Vec<_> = events.iter().map(as_structured).collect();
        assert_eq!(back, expected, "via {:?}", String::from_utf8_lossy(&out));
    }
});
