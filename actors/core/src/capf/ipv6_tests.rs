//! Tests of the IPv4/IPv6 table (one per row), "Enable IPv6" and scenario parsing.

use super::ipv6::*;
use AddressFamily::{V4, V6};

/// The table's answer with the default policy, and a check that [`TABLE`] says the same.
fn order(mode: &str, phone: &str, capf: &str) -> Result<Vec<AddressFamily>, NoCommonFamily> {
    let (mode, phone, capf) = (
        mode.parse().unwrap(),
        phone.parse().unwrap(),
        capf.parse().unwrap(),
    );
    let got = attempt_order(&Ipv6Policy::default(), mode, phone, capf);
    let row = table_row(mode, phone, capf).expect("a row of the table");
    assert_eq!(
        got.clone().unwrap_or_default(),
        row.order,
        "row {}",
        row.row
    );
    got
}

fn cannot(mode: &str, phone: &str, capf: &str) {
    let err = order(mode, phone, capf).unwrap_err();
    assert!(err
        .to_string()
        .starts_with("the phone cannot connect to CAPF"));
}

#[test]
fn row_01_dual_both_capf_both_v6_then_v4() {
    assert_eq!(order("dual", "both", "both"), Ok(vec![V6, V4]));
}

#[test]
fn row_02_dual_v4_capf_both_v4() {
    assert_eq!(order("dual", "v4", "both"), Ok(vec![V4]));
}

#[test]
fn row_03_dual_v6_capf_both_v6_then_v4_as_written() {
    assert_eq!(order("dual", "v6", "both"), Ok(vec![V6, V4]));
    let strict = Ipv6Policy {
        row3_ipv4_fallback: false,
        ..Ipv6Policy::default()
    };
    assert_eq!(
        attempt_order(&strict, IpMode::DualStack, Addresses::V6, Addresses::BOTH),
        Ok(vec![V6])
    );
}

#[test]
fn row_04_dual_v4_capf_v4_v4() {
    assert_eq!(order("dual", "v4", "v4"), Ok(vec![V4]));
}

#[test]
fn row_05_dual_both_capf_v6_v6() {
    assert_eq!(order("dual", "both", "v6"), Ok(vec![V6]));
}

#[test]
fn row_06_dual_both_capf_v4_v4() {
    assert_eq!(order("dual", "both", "v4"), Ok(vec![V4]));
}

#[test]
fn row_07_dual_v4_capf_v6_cannot() {
    cannot("dual", "v4", "v6");
}

#[test]
fn row_08_dual_v6_capf_v4_cannot() {
    cannot("dual", "v6", "v4");
}

#[test]
fn row_09_dual_v6_capf_v6_v6() {
    assert_eq!(order("dual", "v6", "v6"), Ok(vec![V6]));
}

#[test]
fn row_10_ipv4_stack_capf_both_v4() {
    assert_eq!(order("ipv4", "v4", "both"), Ok(vec![V4]));
}

#[test]
fn row_11_ipv6_stack_capf_both_v6() {
    assert_eq!(order("ipv6", "v6", "both"), Ok(vec![V6]));
}

#[test]
fn row_12_ipv4_stack_capf_v4_v4() {
    assert_eq!(order("ipv4", "v4", "v4"), Ok(vec![V4]));
}

#[test]
fn row_13_ipv4_stack_capf_v6_cannot() {
    cannot("ipv4", "v4", "v6");
}

#[test]
fn row_14_ipv6_stack_capf_v6_v6() {
    assert_eq!(order("ipv6", "v6", "v6"), Ok(vec![V6]));
}

#[test]
fn row_15_ipv6_stack_capf_v4_cannot() {
    cannot("ipv6", "v6", "v4");
}

#[test]
fn table_rows_are_numbered_distinct_and_agree_with_attempt_order() {
    for (i, r) in TABLE.iter().enumerate() {
        assert_eq!(usize::from(r.row), i + 1);
        assert_eq!(table_row(r.mode, r.phone, r.capf), Some(r));
        let got = attempt_order(&Ipv6Policy::default(), r.mode, r.phone, r.capf);
        assert_eq!(got.unwrap_or_default(), r.order, "row {}", r.row);
        assert_eq!(
            r.order.is_empty(),
            r.text.starts_with("The phone cannot connect"),
            "row {}",
            r.row
        );
    }
}

#[test]
fn combinations_outside_the_table() {
    let p = Ipv6Policy::default();
    // The IP mode hides addresses it does not use.
    assert_eq!(
        attempt_order(&p, IpMode::Ipv4Only, Addresses::BOTH, Addresses::BOTH),
        Ok(vec![V4])
    );
    assert_eq!(
        attempt_order(&p, IpMode::Ipv6Only, Addresses::BOTH, Addresses::V6),
        Ok(vec![V6])
    );
    assert!(attempt_order(&p, IpMode::Ipv6Only, Addresses::V4, Addresses::BOTH).is_err());
    // No address on either side.
    for mode in [IpMode::DualStack, IpMode::Ipv4Only, IpMode::Ipv6Only] {
        assert!(attempt_order(&p, mode, Addresses::NONE, Addresses::BOTH).is_err());
        assert!(attempt_order(&p, mode, Addresses::BOTH, Addresses::NONE).is_err());
        assert_eq!(table_row(mode, Addresses::NONE, Addresses::BOTH), None);
    }
}

fn enabled() -> Ipv6Policy {
    Ipv6Policy {
        enable_ipv6: true,
        ..Ipv6Policy::default()
    }
}

#[test]
fn connect_with_ipv6_enabled_uses_ipv6_and_falls_back_when_unreachable() {
    let c = connect(
        &enabled(),
        IpMode::DualStack,
        Addresses::BOTH,
        Addresses::BOTH,
        Addresses::BOTH,
    )
    .unwrap();
    assert_eq!(c.family, V6);
    assert_eq!(c.attempts.len(), 1);
    // "if it can't reach CAPF over IPv6 it tries IPv4"
    let c = connect(
        &enabled(),
        IpMode::DualStack,
        Addresses::BOTH,
        Addresses::BOTH,
        Addresses::V4,
    )
    .unwrap();
    assert_eq!(c.family, V4);
    assert_eq!(
        c.attempts,
        vec![
            Attempt {
                family: V6,
                result: AttemptResult::Unreachable
            },
            Attempt {
                family: V4,
                result: AttemptResult::Connected
            }
        ]
    );
}

#[test]
fn ipv6_disabled_refuses_ipv6_and_the_phone_falls_back() {
    let p = Ipv6Policy::default();
    assert!(!p.enable_ipv6);
    let c = connect(
        &p,
        IpMode::DualStack,
        Addresses::BOTH,
        Addresses::BOTH,
        Addresses::BOTH,
    )
    .unwrap();
    assert_eq!(c.family, V4);
    assert_eq!(c.attempts[0].result, AttemptResult::RefusedIpv6Disabled);
    assert_eq!(c.attempts[0].family, V6);
    // An IPv6-only phone has nothing to fall back to: no certificate.
    let err = connect(
        &p,
        IpMode::Ipv6Only,
        Addresses::V6,
        Addresses::BOTH,
        Addresses::BOTH,
    )
    .unwrap_err();
    assert_eq!(
        err,
        ConnectError::AllAttemptsFailed {
            attempts: vec![Attempt {
                family: V6,
                result: AttemptResult::RefusedIpv6Disabled
            }]
        }
    );
    assert_eq!(
        err.to_string(),
        "the phone cannot connect to CAPF: IPv6: refused by CAPF (Enable IPv6 is False)"
    );
    // "ignores" variant.
    let ignore = Ipv6Policy {
        refusal: Ipv6Refusal::Ignore,
        ..p
    };
    let err = connect(
        &ignore,
        IpMode::DualStack,
        Addresses::V6,
        Addresses::V6,
        Addresses::BOTH,
    )
    .unwrap_err();
    assert!(matches!(
        err,
        ConnectError::AllAttemptsFailed { ref attempts }
            if attempts[0].result == AttemptResult::IgnoredIpv6Disabled
    ));
}

#[test]
fn connect_reports_the_table_when_there_is_no_common_family() {
    let err = connect(
        &enabled(),
        IpMode::DualStack,
        Addresses::V4,
        Addresses::V6,
        Addresses::BOTH,
    )
    .unwrap_err();
    assert!(matches!(err, ConnectError::NoCommonFamily(_)));
    assert_eq!(
        err.to_string(),
        "the phone cannot connect to CAPF (phone IP mode dual stack, phone addresses IPv4, CAPF addresses IPv6)"
    );
}

#[test]
fn row_3_ipv4_fallback_needs_a_working_ipv4_path() {
    let c = connect(
        &enabled(),
        IpMode::DualStack,
        Addresses::V6,
        Addresses::BOTH,
        Addresses::V4,
    )
    .unwrap();
    assert_eq!(c.family, V4);
    let err = connect(
        &enabled(),
        IpMode::DualStack,
        Addresses::V6,
        Addresses::BOTH,
        Addresses::NONE,
    )
    .unwrap_err();
    assert!(matches!(err, ConnectError::AllAttemptsFailed { ref attempts } if attempts.len() == 2));
}

#[test]
fn scenario_strings_parse_with_clear_errors() {
    assert_eq!("dual".parse(), Ok(IpMode::DualStack));
    assert_eq!("Dual-Stack".parse(), Ok(IpMode::DualStack));
    assert_eq!("ipv4".parse(), Ok(IpMode::Ipv4Only));
    assert_eq!("IPv6".parse(), Ok(IpMode::Ipv6Only));
    assert_eq!("ipv6_only".parse(), Ok(IpMode::Ipv6Only));
    assert_eq!("v4".parse(), Ok(Addresses::V4));
    assert_eq!("V6".parse(), Ok(Addresses::V6));
    assert_eq!("both".parse(), Ok(Addresses::BOTH));
    assert_eq!("v4+v6".parse(), Ok(Addresses::BOTH));
    assert_eq!("none".parse(), Ok(Addresses::NONE));
    let err = "triple".parse::<IpMode>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown phone IP mode \"triple\"; expected one of dual, ipv4, ipv6"
    );
    let err = "".parse::<Addresses>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown address availability \"\"; expected one of v4, v6, both, none"
    );
    assert!("v5".parse::<Addresses>().is_err());
}

#[test]
fn display_names() {
    assert_eq!(V6.to_string(), "IPv6");
    assert_eq!(IpMode::Ipv4Only.to_string(), "IPv4 stack");
    assert_eq!(Addresses::BOTH.to_string(), "IPv4 and IPv6");
    assert_eq!(Addresses::NONE.to_string(), "no address");
}
