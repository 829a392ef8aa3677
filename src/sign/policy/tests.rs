use super::*;

fn pattern(s: &str) -> ResourcePattern {
    s.parse().unwrap()
}

#[test]
fn custom_json_matches_botocore_order() {
    let p = CustomPolicy::new(
        pattern("https://h/*"),
        1893456000,
        Some(1767225600),
        Some("192.0.2.0/24".parse().unwrap()),
    )
    .unwrap();
    assert_eq!(
        p.json(),
        r#"{"Statement":[{"Resource":"https://h/*","Condition":{"DateLessThan":{"AWS:EpochTime":1893456000},"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"},"DateGreaterThan":{"AWS:EpochTime":1767225600}}}]}"#
    );
    assert_eq!(CustomPolicy::parse(p.json()).unwrap(), p);
}

#[test]
fn start_must_precede_expiry() {
    assert!(matches!(
        CustomPolicy::new(pattern("https://h/*"), 10, Some(10), None),
        Err(PolicyError::StartNotBeforeExpiry(10, 10))
    ));
}

#[test]
fn parse_refusals() {
    for (text, needle) in [
        ("not json", "not valid JSON"),
        ("[]", "exactly one key"),
        (r#"{"Statement":[]}"#, "0 statements"),
        (
            r#"{"Statement":[{"Resource":"https://h/a","Condition":{"DateLessThan":{"AWS:EpochTime":2}}},{"Resource":"https://h/b","Condition":{"DateLessThan":{"AWS:EpochTime":2}}}]}"#,
            "2 statements",
        ),
        (
            r#"{"Statement":[{"Resource":"https://h/a","Condition":{}}]}"#,
            "no DateLessThan",
        ),
        (
            r#"{"Statement":[{"Resource":"https://h/a","Condition":{"DateLessThan":{"AWS:EpochTime":"2"}}}]}"#,
            "invalid DateLessThan",
        ),
        (
            r#"{"Statement":[{"Resource":"https://h/a","Condition":{"DateLessThan":{"AWS:EpochTime":2},"Bogus":1}}]}"#,
            "unknown key `Bogus`",
        ),
        (
            r#"{"Statement":[{"Resource":"h/a","Condition":{"DateLessThan":{"AWS:EpochTime":2}}}]}"#,
            "Resource is invalid",
        ),
        (
            r#"{"Statement":[{"Resource":"https://h/a","Condition":{"DateLessThan":{"AWS:EpochTime":2},"IpAddress":{"AWS:SourceIp":"::1"}}}]}"#,
            "IPv6",
        ),
        (
            r#"{"Statement":[{"Resource":"https://h/a","Condition":{"DateLessThan":{"AWS:EpochTime":2},"DateGreaterThan":{"AWS:EpochTime":3}}}]}"#,
            "not before",
        ),
        (
            r#"{"Statement":[{"Resource":["https://h/a"],"Condition":{"DateLessThan":{"AWS:EpochTime":2}}}]}"#,
            "only one value for Resource",
        ),
        (
            r#"{"Statement":[{"Resource":"","Condition":{"DateLessThan":{"AWS:EpochTime":2}}}]}"#,
            "must begin with http://, https:// or *",
        ),
        // Duplicate keys, at every depth: serde_json alone keeps the last.
        (
            r#"{"Statement":[{"Resource":"https://h/a","Resource":"https://h/*","Condition":{"DateLessThan":{"AWS:EpochTime":2}}}]}"#,
            "names the key `Resource` twice",
        ),
        (
            r#"{"Statement":[{"Resource":"https://h/a","Condition":{"DateLessThan":{"AWS:EpochTime":2},"DateLessThan":{"AWS:EpochTime":9}}}]}"#,
            "names the key `DateLessThan` twice",
        ),
        (
            r#"{"Statement":[{"Resource":"https://h/a","Condition":{"DateLessThan":{"AWS:EpochTime":2,"AWS:EpochTime":9}}}]}"#,
            "names the key `AWS:EpochTime` twice",
        ),
        (
            r#"{"Statement":[],"Statement":[{"Resource":"https://h/a","Condition":{"DateLessThan":{"AWS:EpochTime":2}}}]}"#,
            "give each key once",
        ),
    ] {
        let err = CustomPolicy::parse(text).unwrap_err().to_string();
        assert!(err.contains(needle), "{text}: {err}");
    }
}

/// A statement without Resource: both guide pages allow it, and it covers
/// every URL. `*` alone: signed URLs only.
#[test]
fn resource_forms_by_carrier() {
    let none = r#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":2}}}]}"#;
    for carrier in [Carrier::Url, Carrier::Cookies] {
        let p = CustomPolicy::parse_for(none, carrier).unwrap();
        assert_eq!(p.resource, Resource::Omitted);
        assert_eq!(p.json(), none);
    }
    let star =
        r#"{"Statement":[{"Resource":"*","Condition":{"DateLessThan":{"AWS:EpochTime":2}}}]}"#;
    let p = CustomPolicy::parse(star).unwrap();
    assert!(p.resource.matches("http://other.example/x?y=1"));
    assert_eq!(CustomPolicy::new(pattern("*"), 2, None, None).unwrap(), p);
    let err = CustomPolicy::parse_for(star, Carrier::Cookies)
        .unwrap_err()
        .to_string();
    assert!(err.contains("must begin with http:// or https://"), "{err}");
    assert!(p.allowed_in(Carrier::Cookies).is_err());
}
