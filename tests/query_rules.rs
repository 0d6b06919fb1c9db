//! The crate docs' "Query": every parameter's rule, at its boundaries, and the error
//! codes and messages.

use image_groups::{GroupQuery, ImageType, QueryError, ServiceType, SortDir, SortField};

fn parse(s: &str) -> Result<GroupQuery, QueryError> {
    GroupQuery::from_query_string(s)
}

/// Asserts `s` is rejected with `code`, naming `parameter` in the message.
#[track_caller]
fn rejected(s: &str, code: &str, parameter: &str) -> QueryError {
    let err = parse(s).expect_err(s);
    assert_eq!(err.error_code(), code, "{s}: {err}");
    assert_eq!(err.http_status(), 400);
    assert!(
        err.to_string().contains(&format!("`{parameter}`")),
        "{s}: message does not name `{parameter}`: {err}"
    );
    err
}

#[test]
fn swr_instance_id_is_1_to_64_letters_digits_hyphens_underscores() {
    for ok in [
        "a",
        "e8c3f4d6-1b2c-4d5e-8f90-0a1b2c3d4e5f",
        "A_b-9",
        &"x".repeat(64),
    ] {
        let q = parse(&format!("swr_instance_id={ok}")).unwrap();
        assert_eq!(q.swr_instance_id(), Some(ok));
        assert_eq!(q.to_string(), format!("swr_instance_id={ok}"));
    }
    for bad in ["", "a.b", "a b", "ä", &"x".repeat(65)] {
        rejected(
            &format!("swr_instance_id={bad}"),
            "ModelArts.0104",
            "swr_instance_id",
        );
    }
    assert_eq!(parse("").unwrap().swr_instance_id(), None);
}

#[test]
fn empty_query_is_the_default() {
    let q = parse("").unwrap();
    assert_eq!(q, GroupQuery::default());
    assert_eq!(q.name(), None);
    assert!(q.name_fuzzy_match());
    assert_eq!(q.namespace(), None);
    assert_eq!(q.image_type(), None);
    assert_eq!(q.service_type(), None);
    assert_eq!(q.workspace_id(), "0");
    assert_eq!(q.offset(), 0);
    assert_eq!(q.limit(), 200);
    assert_eq!(q.sort_key(), &[SortField::UpdateAt]);
    assert_eq!(q.sort_dir(), SortDir::Desc);
}

#[test]
fn name_allows_512_of_its_characters_and_not_513() {
    let ok = "a-_.09z".repeat(74)[..512].to_string();
    assert_eq!(
        parse(&format!("name={ok}")).unwrap().name(),
        Some(ok.as_str())
    );
    let long = "a".repeat(513);
    let err = rejected(&format!("name={long}"), "ModelArts.0104", "name");
    assert!(err.to_string().contains("(513 characters)"), "{err}");
}

#[test]
fn name_rejects_characters_outside_its_set() {
    for bad in [
        "Torch",
        "py%20torch",
        "py+torch",
        "tör",
        "a/b",
        "a,b",
        "a%00b",
    ] {
        rejected(&format!("name={bad}"), "ModelArts.0104", "name");
    }
}

#[test]
fn empty_name_means_no_name_filter() {
    assert_eq!(parse("name=").unwrap().name(), None);
    assert_eq!(parse("name").unwrap().name(), None);
    // In code, absent is `None`; the empty name breaks the rule.
    assert_eq!(GroupQuery::new().with_name(None).unwrap().name(), None);
    assert!(GroupQuery::new().with_name("").is_err());
}

#[test]
fn name_fuzzy_match_is_a_case_insensitive_bool() {
    for (s, want) in [
        ("true", true),
        ("TRUE", true),
        ("True", true),
        ("false", false),
        ("fAlSe", false),
    ] {
        assert_eq!(
            parse(&format!("name_fuzzy_match={s}"))
                .unwrap()
                .name_fuzzy_match(),
            want
        );
    }
    for bad in ["", "1", "0", "yes", "tru", "true "] {
        rejected(
            &format!("name_fuzzy_match={bad}"),
            "ModelArts.0104",
            "name_fuzzy_match",
        );
    }
}

#[test]
fn namespace_allows_64_characters_and_not_65() {
    let ok = format!("a{}", "B-_.9".repeat(13))[..64].to_string();
    assert_eq!(ok.len(), 64);
    assert_eq!(
        parse(&format!("namespace={ok}")).unwrap().namespace(),
        Some(ok.as_str())
    );
    rejected(
        &format!("namespace=a{}", "b".repeat(64)),
        "ModelArts.0104",
        "namespace",
    );
    rejected("namespace=", "ModelArts.0104", "namespace");
}

#[test]
fn namespace_starts_with_a_lower_case_letter() {
    assert_eq!(parse("namespace=a").unwrap().namespace(), Some("a"));
    assert_eq!(
        parse("namespace=zA.b-c_D9").unwrap().namespace(),
        Some("zA.b-c_D9")
    );
    for bad in [
        "A", "Abc", "1abc", "-abc", "_abc", ".abc", "ab c", "ab/c", "äbc",
    ] {
        rejected(
            &format!("namespace={}", bad.replace(' ', "%20")),
            "ModelArts.0104",
            "namespace",
        );
    }
}

#[test]
fn type_is_exact_upper_case_and_errors_list_the_values() {
    assert_eq!(
        parse("type=BUILD_IN").unwrap().image_type(),
        Some(ImageType::BuildIn)
    );
    assert_eq!(
        parse("type=DEDICATED").unwrap().image_type(),
        Some(ImageType::Dedicated)
    );
    for bad in ["dedicated", "Dedicated", "", "BUILDIN", "DEDICATED "] {
        let err = rejected(&format!("type={bad}"), "ModelArts.0104", "type");
        assert!(err.to_string().contains("`BUILD_IN`, `DEDICATED`"), "{err}");
    }
}

#[test]
fn service_type_is_exact_upper_case_and_errors_list_the_values() {
    for (s, want) in [
        ("COMMON", ServiceType::Common),
        ("INFERENCE", ServiceType::Inference),
        ("TRAIN", ServiceType::Train),
        ("DEV", ServiceType::Dev),
        ("UNKNOWN", ServiceType::Unknown),
    ] {
        assert_eq!(
            parse(&format!("service_type={s}")).unwrap().service_type(),
            Some(want)
        );
    }
    for bad in ["train", "", "TRAINING"] {
        let err = rejected(
            &format!("service_type={bad}"),
            "ModelArts.0104",
            "service_type",
        );
        assert!(
            err.to_string()
                .contains("`COMMON`, `INFERENCE`, `TRAIN`, `DEV`, `UNKNOWN`"),
            "{err}"
        );
    }
}

#[test]
fn workspace_id_allows_64_of_its_characters_and_not_65() {
    let ok = "aZ09-_".repeat(11)[..64].to_string();
    assert_eq!(
        parse(&format!("workspace_id={ok}")).unwrap().workspace_id(),
        ok
    );
    rejected(
        &format!("workspace_id={}", "a".repeat(65)),
        "ModelArts.0104",
        "workspace_id",
    );
    for bad in ["", "a.b", "a b", "ä", "a/b"] {
        rejected(
            &format!("workspace_id={}", bad.replace(' ', "+")),
            "ModelArts.0104",
            "workspace_id",
        );
    }
}

#[test]
fn offset_is_0_to_i32_max() {
    for (s, want) in [("0", 0), ("1", 1), ("2147483647", 2147483647), ("007", 7)] {
        assert_eq!(parse(&format!("offset={s}")).unwrap().offset(), want);
    }
    for bad in [
        "2147483648",
        "-1",
        "",
        "1.0",
        "1e3",
        "abc",
        "%2B1",
        "+1",
        "18446744073709551616",
        "99999999999999999999999999",
    ] {
        let err = rejected(&format!("offset={bad}"), "ModelArts.0104", "offset");
        assert!(err.to_string().contains("from 0 to 2147483647"), "{err}");
    }
}

#[test]
fn limit_is_1_to_i32_max() {
    for (s, want) in [("1", 1), ("2", 2), ("2147483647", 2147483647)] {
        assert_eq!(parse(&format!("limit={s}")).unwrap().limit(), want);
    }
    for bad in ["0", "2147483648", "-1", "", "ten", "4294967296"] {
        let err = rejected(&format!("limit={bad}"), "ModelArts.0104", "limit");
        assert!(err.to_string().contains("from 1 to 2147483647"), "{err}");
    }
}

#[test]
fn out_of_range_numbers_are_shown_as_given() {
    let err = rejected("limit=99999999999999999999999", "ModelArts.0104", "limit");
    assert!(
        err.to_string().contains("\"99999999999999999999999\""),
        "{err}"
    );
}

#[test]
fn sort_key_accepts_every_field_and_alias() {
    for (s, want) in [
        ("name", SortField::Name),
        ("namespace", SortField::Namespace),
        ("version_count", SortField::VersionCount),
        ("versionCount", SortField::VersionCount),
        ("create_at", SortField::CreateAt),
        ("createTime", SortField::CreateAt),
        ("create_time", SortField::CreateAt),
        ("update_at", SortField::UpdateAt),
        ("updateTime", SortField::UpdateAt),
        ("update_time", SortField::UpdateAt),
    ] {
        assert_eq!(
            parse(&format!("sort_key={s}")).unwrap().sort_key(),
            &[want],
            "{s}"
        );
    }
    let q = parse("sort_key=namespace,versionCount,create_time").unwrap();
    assert_eq!(
        q.sort_key(),
        &[
            SortField::Namespace,
            SortField::VersionCount,
            SortField::CreateAt
        ]
    );
    let all = "sort_key=update_at%2Cname,namespace,version_count,create_at";
    assert_eq!(parse(all).unwrap().sort_key().len(), 5);
}

#[test]
fn empty_sort_key_means_the_default_order() {
    assert_eq!(
        parse("sort_key=").unwrap().sort_key(),
        &[SortField::UpdateAt]
    );
    assert_eq!(
        GroupQuery::new().with_sort_key([]).unwrap().sort_key(),
        &[SortField::UpdateAt]
    );
}

#[test]
fn unknown_sort_field_is_6303() {
    for bad in [
        "size",
        "Name",
        "NAME",
        "update",
        "name, update_at",
        "name;update_at",
        "create-at",
    ] {
        let err = rejected(
            &format!("sort_key={}", bad.replace(' ', "%20")),
            "ModelArts.6303",
            "sort_key",
        );
        assert!(
            err.to_string()
                .starts_with("The field does not support sorting"),
            "{err}"
        );
    }
}

#[test]
fn repeated_sort_field_is_0104_even_through_an_alias() {
    for bad in [
        "name,name",
        "create_at,createTime",
        "updateTime,update_time",
        "versionCount,version_count",
    ] {
        rejected(&format!("sort_key={bad}"), "ModelArts.0104", "sort_key");
    }
    let err = GroupQuery::new()
        .with_sort_key([SortField::Name, SortField::Name])
        .unwrap_err();
    assert_eq!(err.error_code(), "ModelArts.0104");
}

#[test]
fn empty_sort_field_is_0104() {
    for bad in ["name,", ",name", "name,,update_at", ","] {
        rejected(&format!("sort_key={bad}"), "ModelArts.0104", "sort_key");
    }
}

#[test]
fn sort_key_reports_the_first_bad_field() {
    assert_eq!(
        rejected("sort_key=foo,name,name", "ModelArts.6303", "sort_key").error_code(),
        "ModelArts.6303"
    );
    assert_eq!(
        rejected("sort_key=name,name,foo", "ModelArts.0104", "sort_key").error_code(),
        "ModelArts.0104"
    );
}

#[test]
fn sort_dir_is_asc_or_desc_in_any_case() {
    for (s, want) in [
        ("ASC", SortDir::Asc),
        ("asc", SortDir::Asc),
        ("Desc", SortDir::Desc),
        ("DESC", SortDir::Desc),
    ] {
        assert_eq!(parse(&format!("sort_dir={s}")).unwrap().sort_dir(), want);
    }
    for bad in ["", "up", "ascending", "ASC "] {
        rejected(
            &format!("sort_dir={}", bad.replace(' ', "+")),
            "ModelArts.0104",
            "sort_dir",
        );
    }
}

#[test]
fn unknown_parameter_is_0104_and_named() {
    for (s, shown) in [
        ("nmae=torch", "\"nmae\""),
        ("Name=torch", "\"Name\""),
        ("page=1", "\"page\""),
        ("?name=x", "\"?name\""),
    ] {
        let err = parse(s).unwrap_err();
        assert_eq!(err.error_code(), "ModelArts.0104");
        assert!(
            err.to_string()
                .starts_with(&format!("unknown parameter {shown}")),
            "{err}"
        );
    }
}

#[test]
fn repeated_parameter_is_0104_even_with_the_same_value() {
    for s in [
        "name=a&name=a",
        "limit=1&limit=2",
        "type=BUILD_IN&type=DEDICATED",
        "sort_key=&sort_key=",
    ] {
        let err = parse(s).unwrap_err();
        assert_eq!(err.error_code(), "ModelArts.0104", "{s}");
        assert!(err.to_string().contains("more than once"), "{err}");
    }
}

#[test]
fn names_and_values_are_percent_decoded_with_plus_as_space() {
    let q = parse("na%6De=py%2dtorch&%74ype=DEDICATED&sort_dir=%61sc").unwrap();
    assert_eq!(q.name(), Some("py-torch"));
    assert_eq!(q.image_type(), Some(ImageType::Dedicated));
    assert_eq!(q.sort_dir(), SortDir::Asc);
    // '+' decodes to a space, which no name may hold.
    let err = rejected("name=py+torch", "ModelArts.0104", "name");
    assert!(err.to_string().contains("\"py torch\""), "{err}");
    // An invalid escape is kept literally and then breaks the rule.
    rejected("name=py%zz", "ModelArts.0104", "name");
    // Invalid UTF-8 becomes U+FFFD, which no rule accepts.
    rejected("workspace_id=%FF", "ModelArts.0104", "workspace_id");
}

#[test]
fn empty_pairs_are_skipped() {
    let q = parse("&name=a&&limit=5&").unwrap();
    assert_eq!((q.name(), q.limit()), (Some("a"), 5));
}

#[test]
fn the_first_bad_parameter_is_reported() {
    assert_eq!(
        parse("limit=0&offset=-1").unwrap_err().parameter(),
        Some("limit")
    );
    assert_eq!(
        parse("offset=-1&limit=0").unwrap_err().parameter(),
        Some("offset")
    );
    assert_eq!(parse("nmae=x&limit=0").unwrap_err().parameter(), None);
}

#[test]
fn error_message_cuts_the_value_and_escapes_control_characters() {
    let long = format!("\u{1b}[2J{}", "x".repeat(10_000));
    let encoded: String = form_encode(&long);
    let err = rejected(&format!("name={encoded}"), "ModelArts.0104", "name");
    let msg = err.to_string();
    assert!(!msg.contains('\u{1b}'), "{msg}");
    assert!(msg.contains("\\u{1b}[2J"), "{msg}");
    assert!(msg.len() < 400, "{} bytes: {msg}", msg.len());
    let nul = rejected("namespace=a%00b", "ModelArts.0104", "namespace").to_string();
    assert!(nul.contains("a\\u{0}b") && !nul.contains('\0'), "{nul}");
}

#[test]
fn error_serializes_to_the_modelarts_body() {
    let err = parse("sort_key=size").unwrap_err();
    let body: serde_json::Value = serde_json::to_value(&err).unwrap();
    let obj = body.as_object().unwrap();
    assert_eq!(obj.len(), 2);
    assert_eq!(obj["error_code"], "ModelArts.6303");
    assert_eq!(obj["error_msg"], err.to_string());
    // The body's field order is error_code, then error_msg.
    assert!(serde_json::to_string(&err)
        .unwrap()
        .starts_with("{\"error_code\":\"ModelArts.6303\",\"error_msg\":"));
}

#[test]
fn builder_setters_validate_like_the_parser() {
    assert!(GroupQuery::new().with_name("Torch").is_err());
    assert!(GroupQuery::new().with_namespace("1abc").is_err());
    assert!(GroupQuery::new().with_workspace_id("").is_err());
    assert!(GroupQuery::new().with_offset(2147483648).is_err());
    assert!(GroupQuery::new().with_limit(u32::MAX).is_err());
    assert!(GroupQuery::new().with_limit(0).is_err());
    let q = GroupQuery::new()
        .with_namespace("ns")
        .unwrap()
        .with_namespace(None)
        .unwrap()
        .with_image_type(ImageType::BuildIn)
        .with_service_type(ServiceType::Dev)
        .with_offset(2147483647)
        .unwrap()
        .with_limit(2147483647)
        .unwrap();
    assert_eq!(q.namespace(), None);
    assert_eq!(
        q,
        parse("type=BUILD_IN&service_type=DEV&offset=2147483647&limit=2147483647").unwrap()
    );
}

#[test]
fn display_writes_a_canonical_query_string_that_parses_back() {
    let q = parse("sort_dir=asc&sort_key=createTime,versionCount&name_fuzzy_match=FALSE&workspace_id=W-1&offset=5&namespace=abc&name=x.y").unwrap();
    let s = q.to_string();
    assert_eq!(
        s,
        "name=x.y&name_fuzzy_match=false&namespace=abc&workspace_id=W-1&offset=5&sort_key=create_at,version_count&sort_dir=ASC"
    );
    assert_eq!(parse(&s).unwrap(), q);
    assert_eq!(GroupQuery::default().to_string(), "");
}

/// Percent-encodes every byte that is not alphanumeric.
fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

mod rules_as_regexes {
    //! Each string rule of the crate docs' "Query", written as a regex straight from its
    //! wording, agrees with the setter on random strings near the rule.

    use super::GroupQuery;
    use proptest::prelude::*;
    use regex::Regex;

    fn near(long: usize) -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9._ %é,/-]{0,6}",
            "[a-z][A-Za-z0-9._-]{0,5}",
            proptest::collection::vec(
                prop::sample::select(vec!['a', 'Z', '0', '-', '_', '.']),
                long - 2..long + 2
            )
            .prop_map(|cs| cs.into_iter().collect()),
        ]
    }

    proptest! {
        #[test]
        fn name(s in near(512)) {
            let rule = Regex::new(r"^[a-z0-9\-_.]{1,512}$").unwrap();
            let accepted = GroupQuery::new().with_name(s.as_str()).is_ok();
            prop_assert_eq!(accepted, rule.is_match(&s), "{:?}", s);
        }

        #[test]
        fn namespace(s in near(64)) {
            let rule = Regex::new(r"^[a-z][A-Za-z0-9\-_.]{0,63}$").unwrap();
            prop_assert_eq!(GroupQuery::new().with_namespace(s.as_str()).is_ok(), rule.is_match(&s), "{:?}", s);
        }

        #[test]
        fn workspace_id(s in near(64)) {
            let rule = Regex::new(r"^[A-Za-z0-9\-_]{1,64}$").unwrap();
            prop_assert_eq!(GroupQuery::new().with_workspace_id(&s).is_ok(), rule.is_match(&s), "{:?}", s);
        }
    }
}
