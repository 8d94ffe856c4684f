//! A function's route: how its requests are split between revisions, and its tags.

use std::collections::BTreeMap;

use motif_api::{TrafficTarget, validate_name};
use serde::{Deserialize, Serialize};

use super::StoreError;

/// A function's route, resolved: its traffic targets and the revision "latest" means
/// now. What the gateway asks, per request, "which revision?".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    /// The newest revision (`NAME-00003`): where a target without a revision goes.
    pub latest: String,
    /// The targets as set, in order; their percentages sum to 100.
    pub targets: Vec<TrafficTarget>,
}

impl Route {
    /// The revision for a request, given `x` drawn uniformly from `0..100`: the targets
    /// take consecutive bands of `0..100` in their order, as wide as their percentages,
    /// so that each gets exactly its share of the draws.
    ///
    /// A larger `x` is taken modulo 100. A route whose percentages fall short of 100
    /// (which the store never writes) sends the rest to the latest revision.
    pub fn pick(&self, x: u32) -> &str {
        let x = x % 100;
        let mut upto = 0u32;
        for target in &self.targets {
            upto = upto.saturating_add(target.percent);
            if x < upto {
                return self.revision_of(target);
            }
        }
        &self.latest
    }

    /// The revision a tag routes to, whatever its percentage.
    pub fn tagged(&self, tag: &str) -> Option<&str> {
        self.targets
            .iter()
            .find(|t| t.tag.as_deref() == Some(tag))
            .map(|t| self.revision_of(t))
    }

    fn revision_of<'a>(&'a self, target: &'a TrafficTarget) -> &'a str {
        target.revision.as_deref().unwrap_or(&self.latest)
    }
}

/// The route of a function deployed without `traffic`: everything to the latest.
pub(super) fn all_to_latest() -> Vec<TrafficTarget> {
    vec![TrafficTarget {
        revision: None,
        percent: 100,
        tag: None,
    }]
}

/// Checks targets before they are written: every percentage at most 100 and their sum
/// exactly 100, every named revision one of `function`'s (`exists`), every tag a DNS
/// label (it becomes a host name, `TAG-NAME`) used once.
pub(super) fn validate_targets(
    function: &str,
    targets: &[TrafficTarget],
    mut exists: impl FnMut(&str) -> Result<bool, StoreError>,
) -> Result<(), StoreError> {
    let mut tags = BTreeMap::new();
    let mut sum = 0u32;
    for (i, target) in targets.iter().enumerate() {
        if target.percent > 100 {
            return Err(StoreError::invalid(
                format!("traffic[{i}].percent"),
                format!("{} is more than 100", target.percent),
            ));
        }
        sum = sum.saturating_add(target.percent);
        if let Some(revision) = &target.revision
            && !exists(revision)?
        {
            return Err(StoreError::invalid(
                format!("traffic[{i}].revision"),
                format!("`{revision}` is not a revision of `{function}`"),
            ));
        }
        if let Some(tag) = &target.tag {
            if let Err(message) = validate_tag(tag) {
                return Err(StoreError::invalid(format!("traffic[{i}].tag"), message));
            }
            if let Some(first) = tags.insert(tag.as_str(), i) {
                return Err(StoreError::invalid(
                    format!("traffic[{i}].tag"),
                    format!(
                        "`{tag}` is already the tag of traffic[{first}]; a tag names one target"
                    ),
                ));
            }
        }
    }
    if sum != 100 {
        return Err(StoreError::invalid(
            "traffic",
            format!("the percentages sum to {sum}; they must sum to exactly 100"),
        ));
    }
    Ok(())
}

/// A tag becomes a host name's first label (`TAG-NAME`): a DNS label, as a name is.
pub(super) fn validate_tag(tag: &str) -> Result<(), String> {
    if tag.is_empty() {
        return Err("a tag cannot be empty".into());
    }
    validate_name(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(revision: Option<&str>, percent: u32, tag: Option<&str>) -> TrafficTarget {
        TrafficTarget {
            revision: revision.map(Into::into),
            percent,
            tag: tag.map(Into::into),
        }
    }

    fn route(targets: Vec<TrafficTarget>) -> Route {
        Route {
            latest: "f-00003".into(),
            targets,
        }
    }

    fn counts(route: &Route) -> BTreeMap<&str, u32> {
        let mut counts = BTreeMap::new();
        for x in 0..100 {
            *counts.entry(route.pick(x)).or_default() += 1;
        }
        counts
    }

    #[test]
    fn all_to_latest_picks_the_latest_for_every_draw() {
        let route = route(all_to_latest());
        assert_eq!(counts(&route), BTreeMap::from([("f-00003", 100)]));
    }

    #[test]
    fn a_split_gives_each_target_exactly_its_share() {
        let route = route(vec![
            target(Some("f-00001"), 10, None),
            target(Some("f-00002"), 25, Some("old")),
            target(None, 65, None),
        ]);
        let expected = BTreeMap::from([("f-00001", 10), ("f-00002", 25), ("f-00003", 65)]);
        assert_eq!(counts(&route), expected);
        assert_eq!(route.pick(9), "f-00001");
        assert_eq!(route.pick(10), "f-00002");
        assert_eq!(route.pick(35), "f-00003");
    }

    #[test]
    fn zero_percent_targets_get_no_draws_but_keep_their_tags() {
        let route = route(vec![
            target(Some("f-00001"), 0, Some("canary")),
            target(None, 100, None),
        ]);
        assert_eq!(counts(&route), BTreeMap::from([("f-00003", 100)]));
        assert_eq!(route.tagged("canary"), Some("f-00001"));
        assert_eq!(route.tagged("stable"), None);
    }

    #[test]
    fn a_tag_on_latest_follows_the_newest_revision() {
        let route = route(vec![target(None, 100, Some("current"))]);
        assert_eq!(route.tagged("current"), Some("f-00003"));
    }

    #[test]
    fn draws_past_99_wrap_and_short_routes_fall_back_to_latest() {
        let split = route(vec![
            target(Some("f-00001"), 50, None),
            target(None, 50, None),
        ]);
        assert_eq!(split.pick(100), "f-00001");
        assert_eq!(split.pick(u32::MAX), split.pick(u32::MAX % 100));
        let short = route(vec![target(Some("f-00001"), 30, None)]);
        assert_eq!(short.pick(30), "f-00003");
        assert_eq!(route(Vec::new()).pick(0), "f-00003");
    }
}
