//! How an accepted event is kept in the log: the broker's name, then the event in the
//! CloudEvents JSON format (structured mode), which carries every attribute and the
//! data exactly (`data` or `data_base64`).

use bytes::{BufMut, Bytes, BytesMut};
use motif_contract::{Event, json};

/// One record: `[broker name length: u8][broker name][event as JSON]`.
pub(crate) fn encode(broker: &str, event: &Event) -> Bytes {
    let body = json::to_vec(event);
    // Broker names are DNS labels (at most 63 bytes), checked before anything is kept.
    let len = u8::try_from(broker.len()).expect("a broker name is a DNS label");
    let mut out = BytesMut::with_capacity(1 + broker.len() + body.len());
    out.put_u8(len);
    out.put_slice(broker.as_bytes());
    out.put_slice(&body);
    out.freeze()
}

/// The broker a record was published to, without decoding its event.
pub(crate) fn broker(record: &[u8]) -> Option<&str> {
    let len = usize::from(*record.first()?);
    std::str::from_utf8(record.get(1..1 + len)?).ok()
}

/// The broker and the event of a record.
pub(crate) fn decode(record: &[u8]) -> Result<(&str, Event), String> {
    let name = broker(record).ok_or("the record has no broker name")?;
    let event = json::from_slice(&record[1 + name.len()..]).map_err(|e| e.to_string())?;
    Ok((name, event))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips() {
        let event = Event::builder("1", "/s", "t")
            .data("application/octet-stream", vec![0u8, 159, 255])
            .build()
            .unwrap();
        let record = encode("orders", &event);
        assert_eq!(broker(&record), Some("orders"));
        let (name, back) = decode(&record).unwrap();
        assert_eq!((name, back), ("orders", event));
        assert!(decode(&[]).is_err());
        assert!(decode(&[5, b'a']).is_err());
    }
}
