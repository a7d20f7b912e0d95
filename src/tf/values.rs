//! Conversions between Terraform values (which may be null or unknown) and plain Rust data.

use std::collections::{BTreeMap, BTreeSet};

use tf_provider::value::Value;

use crate::tags::Tags;

pub type StringList = Value<Vec<Value<String>>>;
pub type StringMap = Value<BTreeMap<String, Value<String>>>;

/// The list if it and all its items are known; null items are dropped, a null list is empty.
pub fn known_list(list: &StringList) -> Option<Vec<String>> {
    match list {
        Value::Value(items) => items
            .iter()
            .filter(|v| !v.is_null())
            .map(|v| v.as_ref_option().cloned())
            .collect(),
        Value::Null => Some(Vec::new()),
        Value::Unknown => None,
    }
}

/// The map if it and all its values are known; a null map is empty.
pub fn known_map(map: &StringMap) -> Option<Tags> {
    match map {
        Value::Value(m) => m
            .iter()
            .map(|(k, v)| match v {
                Value::Value(v) => Some((k.clone(), v.clone())),
                Value::Null => Some((k.clone(), String::new())),
                Value::Unknown => None,
            })
            .collect(),
        Value::Null => Some(Tags::new()),
        Value::Unknown => None,
    }
}

/// A list read back from AWS, where order carries no meaning: the prior value when it holds
/// the same items (so no diff appears), null when both are empty and the prior was null.
pub fn list_like(prior: &StringList, observed: &[String]) -> StringList {
    let as_set = |items: &[String]| {
        items
            .iter()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
    };
    match known_list(prior) {
        Some(items) if as_set(&items) == as_set(observed) => prior.clone(),
        _ => list(observed),
    }
}

/// One setting read from several places that should all hold the same items (e.g. one per
/// region): the items all hold, and each item only some hold as `<item> (<holders> only)`, which
/// no configuration asks for, so the plan shows the difference whatever the prior state was.
pub fn held_by_all(sets: &[(&str, BTreeSet<String>)]) -> Vec<String> {
    let every: BTreeSet<&String> = sets.iter().flat_map(|(_, set)| set).collect();
    every
        .into_iter()
        .map(|item| {
            let holders: Vec<&str> = sets
                .iter()
                .filter(|(_, set)| set.contains(item))
                .map(|(holder, _)| *holder)
                .collect();
            if holders.len() == sets.len() {
                item.clone()
            } else {
                format!("{item} ({} only)", holders.join(", "))
            }
        })
        .collect()
}

/// A computed attribute that changes without Terraform (an address confirming its
/// subscription): the value last read while the plan changes nothing else, so it never makes a
/// plan of its own; unknown when the plan changes something, because apply reads it anew and
/// it may have changed in between.
pub fn observed_unless_changed<S: Clone + PartialEq>(
    planned: &mut S,
    prior: Option<&S>,
    field: impl Fn(&mut S) -> &mut StringList,
) {
    *field(planned) = prior.map_or(Value::Unknown, |p| field(&mut p.clone()).clone());
    if prior != Some(&*planned) {
        *field(planned) = Value::Unknown;
    }
}

pub fn list(items: &[String]) -> StringList {
    Value::Value(items.iter().map(|s| Value::Value(s.clone())).collect())
}

pub fn map(tags: &Tags) -> StringMap {
    Value::Value(
        tags.iter()
            .map(|(k, v)| (k.clone(), Value::Value(v.clone())))
            .collect(),
    )
}

/// A map attribute the user may leave out: null stays null when empty, so no diff appears.
pub fn map_or_null(tags: &Tags, was_null: bool) -> StringMap {
    if tags.is_empty() && was_null {
        Value::Null
    } else {
        map(tags)
    }
}

pub fn string(s: impl Into<String>) -> Value<String> {
    Value::Value(s.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_some_places_lack_are_marked() {
        let set = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        let read = [("primary", set(&["a", "b"])), ("standby", set(&["b", "c"]))];
        assert_eq!(
            held_by_all(&read),
            ["a (primary only)", "b", "c (standby only)"]
        );
        assert_eq!(held_by_all(&[("primary", set(&["a"]))]), ["a"]);
    }

    #[test]
    fn unknown_anywhere_makes_the_whole_unknown() {
        let l: StringList = Value::Value(vec![string("a"), Value::Unknown]);
        assert_eq!(known_list(&l), None);
        let m: StringMap = Value::Value(BTreeMap::from([("k".into(), Value::Unknown)]));
        assert_eq!(known_map(&m), None);
    }

    #[test]
    fn nulls_are_empty() {
        assert_eq!(known_list(&Value::Null), Some(vec![]));
        assert_eq!(known_map(&Value::Null), Some(Tags::new()));
        assert_eq!(map_or_null(&Tags::new(), true), Value::Null);
        assert_eq!(
            map_or_null(&Tags::new(), false),
            Value::Value(BTreeMap::new())
        );
    }

    #[test]
    fn an_observed_value_is_kept_only_by_a_plan_that_changes_nothing() {
        type S = (StringList, StringList);
        let prior: S = (list(&["a".into()]), list(&["p".into()]));
        let mut planned: S = (list(&["a".into()]), Value::Null);
        observed_unless_changed(&mut planned, Some(&prior), |s| &mut s.1);
        assert_eq!(planned, prior);
        let mut planned: S = (list(&["b".into()]), Value::Null);
        observed_unless_changed(&mut planned, Some(&prior), |s| &mut s.1);
        assert_eq!(planned.1, Value::Unknown);
        observed_unless_changed(&mut planned, None, |s| &mut s.1);
        assert_eq!(planned.1, Value::Unknown);
    }

    #[test]
    fn round_trips() {
        let tags = Tags::from([("a".into(), "1".into())]);
        assert_eq!(known_map(&map(&tags)), Some(tags));
        assert_eq!(
            known_list(&list(&["x".into()])),
            Some(vec!["x".to_string()])
        );
    }
}
