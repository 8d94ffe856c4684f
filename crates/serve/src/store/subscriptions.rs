//! The subscriptions `motif subscribe` adds to a function, beside those of its spec:
//! Knative's Triggers made on their own (`kn trigger create`), kept by function and
//! name, and deleted with the function.

use motif_api::{Subscription, validate_name};
use redb::{ReadableDatabase, ReadableTable};

use super::error::{db, not_found};
use super::tables::{FUNCTIONS, SUBSCRIPTIONS, decode, encode};
use super::{Store, StoreError};

/// The range of keys of one function's subscriptions.
fn keys(function: &str) -> std::ops::RangeInclusive<(&str, &str)> {
    (function, "")..=(function, "\u{10ffff}")
}

impl Store {
    /// Adds `subscription` (which must be named) to `function`, replacing one of the
    /// same name; `true` if it replaced one.
    pub fn subscribe(
        &self,
        function: &str,
        subscription: &Subscription,
    ) -> Result<bool, StoreError> {
        let name = subscription.name.as_deref().ok_or_else(|| {
            StoreError::invalid("name", "a subscription added on its own needs a name")
        })?;
        validate_name(name).map_err(|message| StoreError::invalid("name", message))?;
        let json = encode(subscription)?;
        let txn = self.db.begin_write().map_err(db)?;
        let replaced = {
            let functions = txn.open_table(FUNCTIONS).map_err(db)?;
            if functions.get(function).map_err(db)?.is_none() {
                return Err(not_found("function", function));
            }
            let mut subscriptions = txn.open_table(SUBSCRIPTIONS).map_err(db)?;
            subscriptions
                .insert((function, name), json.as_str())
                .map_err(db)?
                .is_some()
        };
        txn.commit().map_err(db)?;
        Ok(replaced)
    }

    /// Removes the subscription `name` of `function`.
    pub fn unsubscribe(&self, function: &str, name: &str) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        {
            let mut subscriptions = txn.open_table(SUBSCRIPTIONS).map_err(db)?;
            if subscriptions
                .remove((function, name))
                .map_err(db)?
                .is_none()
            {
                return Err(not_found("subscription", &format!("{function}/{name}")));
            }
        }
        txn.commit().map_err(db)?;
        Ok(())
    }

    /// The subscriptions added to `function`, by name.
    pub fn subscriptions(&self, function: &str) -> Result<Vec<Subscription>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let subscriptions = txn.open_table(SUBSCRIPTIONS).map_err(db)?;
        let mut all = Vec::new();
        for entry in subscriptions.range(keys(function)).map_err(db)? {
            let (key, json) = entry.map_err(db)?;
            let (function, name) = key.value();
            all.push(decode(&format!("{function}/{name}"), json.value())?);
        }
        Ok(all)
    }
}
