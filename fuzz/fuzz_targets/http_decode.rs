//! Decodes arbitrary HTTP requests as CloudEvents: nothing may panic, and every event
//! that decodes must survive being encoded again in each mode.

#![no_main]

use bytes::Bytes;
use http::header::ACCEPT;
use libfuzzer_sys::fuzz_target;
use motif_contract::http::{self as binding, Message, Mode};
use motif_contract::media::{self, Accept};
use motif_contract::{Problem, json};
use motif_contract_fuzz::{HttpInput, as_binary, check_batch_round_trip, check_round_trips};

fn exercise_accept(header: &str) {
    let accept = Accept::parse(header);
    for ty in [
        media::CLOUDEVENTS_JSON,
        media::CLOUDEVENTS_BATCH_JSON,
        media::OCTET_STREAM,
        "text/plain",
        header,
    ] {
        let q = accept.quality(ty);
        assert!(
            (0.0..=1.0).contains(&q),
            "quality {q} for {ty:?} from {header:?}"
        );
        assert_eq!(accept.allows(ty), q > 0.0);
        let _ = accept.names(ty);
    }
    let _ = accept.preferred(&[media::CLOUDEVENTS_JSON, media::OCTET_STREAM, header]);
}

fuzz_target!(|input: HttpInput| {
    let headers = input.header_map();
    let body = Bytes::from(input.body.0);

    // The other parsers a request body or header meets: no panics.
    let _ = json::from_slice(&body);
    let _ = json::batch_from_slice(&body);
    exercise_accept(&String::from_utf8_lossy(&body));
    for v in headers.get_all(ACCEPT) {
        if let Ok(v) = v.to_str() {
            exercise_accept(v);
        }
    }
    let _ = binding::has_ce_headers(&headers);

    let mode = binding::mode(&headers);
    match binding::decode(&headers, body.clone()) {
        Err(e) => {
            let _ = e.to_string();
            let _ = e.attribute();
            let status = e.status();
            let problem = Problem::from(&e);
            assert_eq!(problem.status_code(), status);
            let _ = problem.to_json();
        }
        Ok(Message::Event(event, m)) => {
            assert_eq!(m, mode, "decode picked another mode than `mode`");
            match m {
                Mode::Binary => assert_eq!(
                    as_binary(&event),
                    event,
                    "a binary-mode event is already what the binary mode carries"
                ),
                Mode::Structured => assert_eq!(json::from_slice(&body).as_ref(), Ok(&event)),
                Mode::Batch => panic!("one event in batch mode"),
            }
            check_round_trips(&event);
        }
        Ok(Message::Batch(events)) => {
            assert_eq!(mode, Mode::Batch);
            assert_eq!(json::batch_from_slice(&body).as_ref(), Ok(&events));
            check_batch_round_trip(&events);
            for event in &events {
                check_round_trips(event);
            }
        }
    }
});
