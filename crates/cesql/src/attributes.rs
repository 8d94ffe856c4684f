//! What an expression reads: an event's context attributes, by name.

use motif_contract::{Event, ExtensionValue};

use crate::Value;

/// The context attributes of an event, as an expression sees them (spec §3.2).
///
/// Names are given in lower case (CloudEvents attribute names are); an expression's
/// identifiers are lowered before they are looked up.
pub trait Attributes {
    /// The attribute `name`, if the event has it. Attributes of a type CESQL does not
    /// have (URI, URI-reference, Timestamp, Binary) are Strings in canonical form.
    fn attribute(&self, name: &str) -> Option<Value>;

    /// Whether the event has the attribute `name` (`EXISTS name`). Override it when
    /// [`Attributes::attribute`] would copy a value only to drop it.
    fn has_attribute(&self, name: &str) -> bool {
        self.attribute(name).is_some()
    }
}

/// Core attributes are Strings (`time` as its RFC 3339 text, exactly as received);
/// extensions keep their type: an Integer extension is an Integer.
///
/// `Event` has an inherent `attribute` too (every value as a string), which method
/// syntax finds first: call this one as `Attributes::attribute(&event, name)`.
impl Attributes for Event {
    fn attribute(&self, name: &str) -> Option<Value> {
        let core = match name {
            "specversion" => Some(self.specversion()),
            "id" => Some(self.id()),
            "source" => Some(self.source()),
            "type" => Some(self.ty()),
            "datacontenttype" => self.datacontenttype(),
            "dataschema" => self.dataschema(),
            "subject" => self.subject(),
            "time" => self.time(),
            _ => {
                return self.extension(name).map(|value| match value {
                    ExtensionValue::String(s) => Value::String(s.clone()),
                    ExtensionValue::Boolean(b) => Value::Boolean(*b),
                    ExtensionValue::Integer(i) => Value::Integer(*i),
                });
            }
        };
        core.map(Value::from)
    }

    fn has_attribute(&self, name: &str) -> bool {
        match name {
            "specversion" | "id" | "source" | "type" => true,
            "datacontenttype" => self.datacontenttype().is_some(),
            "dataschema" => self.dataschema().is_some(),
            "subject" => self.subject().is_some(),
            "time" => self.time().is_some(),
            _ => self.extension(name).is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // `Event` has an inherent `attribute` (canonical strings), hence the paths.
    #[test]
    fn an_event_gives_core_attributes_as_strings_and_typed_extensions() {
        let event = Event::builder("1", "/src", "t")
            .time("2018-04-26T14:48:09+02:00")
            .extension("n", 10)
            .extension("b", true)
            .extension("s", "x")
            .build()
            .unwrap();
        assert_eq!(
            Attributes::attribute(&event, "specversion"),
            Some("1.0".into())
        );
        assert_eq!(Attributes::attribute(&event, "type"), Some("t".into()));
        assert_eq!(
            Attributes::attribute(&event, "time"),
            Some("2018-04-26T14:48:09+02:00".into())
        );
        assert_eq!(Attributes::attribute(&event, "n"), Some(Value::Integer(10)));
        assert_eq!(
            Attributes::attribute(&event, "b"),
            Some(Value::Boolean(true))
        );
        assert_eq!(Attributes::attribute(&event, "s"), Some("x".into()));
        assert_eq!(Attributes::attribute(&event, "subject"), None);
        assert!(Attributes::has_attribute(&event, "id"));
        assert!(Attributes::has_attribute(&event, "n"));
        assert!(!Attributes::has_attribute(&event, "subject"));
        assert!(!Attributes::has_attribute(&event, "missing"));
    }
}
