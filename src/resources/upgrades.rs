//! State an earlier schema version wrote, brought to the next version (UpgradeResourceState):
//! Terraform sends the stored JSON with its version, before it reads or plans anything.

use serde_json::Value as Json;

/// The state of `type_name` written by `version`, as `version + 1` holds it; `Err` says why it
/// cannot be.
pub fn step(type_name: &str, version: i64, state: Json) -> Result<Json, String> {
    match (type_name, version) {
        ("tap_dns_failover", 1) => dns_failover_standbys(state),
        _ => Err(format!("no upgrade from version {version} is known")),
    }
}

/// `tap_dns_failover` v2: `standby` is a list of blocks (standbys in order of preference), and
/// each standby's topic and key are also by region. The one standby of v1 is the first.
fn dns_failover_standbys(mut state: Json) -> Result<Json, String> {
    let object = state
        .as_object_mut()
        .ok_or("the stored state is not an object")?;
    let standby = object.remove("standby").unwrap_or(Json::Null);
    let region = standby
        .get("region")
        .and_then(Json::as_str)
        .map(str::to_owned);
    let by_region = |arn: Option<&Json>| match (&region, arn.and_then(Json::as_str)) {
        (Some(region), Some(arn)) => serde_json::json!({ region: arn }),
        _ => Json::Null,
    };
    let topics = by_region(object.get("standby_topic_arn"));
    let keys = by_region(object.get("standby_topic_key_arn"));
    object.insert(
        "standby".into(),
        match standby {
            Json::Null => Json::Null,
            block => Json::Array(vec![block]),
        },
    );
    object.insert("standby_topic_arns".into(), topics);
    object.insert("standby_topic_key_arns".into(), keys);
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_dns_failover_of_one_standby_keeps_it_first_of_a_list() {
        let v1 = json!({
            "environment_suffix": "prod",
            "standby": { "region": "us-east-2", "alb_dns_name": "alb-s" },
            "standby_topic_arn": "arn:aws:sns:us-east-2:1:t",
            "standby_topic_key_arn": "arn:aws:kms:us-east-2:1:key/k",
        });
        let v2 = step("tap_dns_failover", 1, v1).expect("upgraded");
        assert_eq!(
            v2["standby"],
            json!([{ "region": "us-east-2", "alb_dns_name": "alb-s" }])
        );
        assert_eq!(
            v2["standby_topic_arns"],
            json!({ "us-east-2": "arn:aws:sns:us-east-2:1:t" })
        );
        assert_eq!(
            v2["standby_topic_key_arns"],
            json!({ "us-east-2": "arn:aws:kms:us-east-2:1:key/k" })
        );
        assert_eq!(v2["environment_suffix"], "prod");
    }

    #[test]
    fn an_unknown_version_or_shape_is_refused() {
        assert!(step("tap_dns_failover", 0, json!({})).is_err());
        assert!(step("tap_regional_stack", 1, json!({})).is_err());
        assert!(step("tap_dns_failover", 1, json!([])).is_err());
    }
}
