//! Which address family a phone uses to reach CAPF: the table "How IPv6 or IPv4 phones connect
//! to CAPF" of the CAPF chapter (seed 003, "표 2", translated below), and the "Enable IPv6"
//! parameter with which CAPF ignores or refuses phones that come over IPv6.
//!
//! Sources: seed 003 (CUCM security guide, CAPF chapter, "CAPF interaction with IPv6
//! addressing") \[C\]. The table, in English, one row per line (row numbers are [`TABLE`]'s):
//!
//! | # | phone IP mode | phone IP addresses | CAPF IP addresses | how the phone connects to CAPF |
//! |---|---|---|---|---|
//! | 1 | dual stack | IPv4 and IPv6 | IPv4, IPv6 | The phone uses an IPv6 address to connect to CAPF; if it cannot connect over IPv6, it tries an IPv4 address |
//! | 2 | dual stack | IPv4 | IPv4, IPv6 | IPv4 |
//! | 3 | dual stack | IPv6 | IPv4, IPv6 | The phone uses an IPv6 address; if the attempt fails, it uses an IPv4 address |
//! | 4 | dual stack | IPv4 | IPv4 | IPv4 |
//! | 5 | dual stack | IPv4 and IPv6 | IPv6 | IPv6 |
//! | 6 | dual stack | IPv4 and IPv6 | IPv4 | IPv4 |
//! | 7 | dual stack | IPv4 | IPv6 | The phone cannot connect to CAPF |
//! | 8 | dual stack | IPv6 | IPv4 | The phone cannot connect to CAPF |
//! | 9 | dual stack | IPv6 | IPv6 | IPv6 |
//! | 10 | IPv4 stack | IPv4 | IPv4, IPv6 | IPv4 |
//! | 11 | IPv6 stack | IPv6 | IPv4, IPv6 | IPv6 |
//! | 12 | IPv4 stack | IPv4 | IPv4 | IPv4 |
//! | 13 | IPv4 stack | IPv4 | IPv6 | The phone cannot connect to CAPF |
//! | 14 | IPv6 stack | IPv6 | IPv6 | IPv6 |
//! | 15 | IPv6 stack | IPv6 | IPv4 | The phone cannot connect to CAPF |
//!
//! The rule behind the table: the phone tries IPv6 first, then IPv4, using only the families
//! both it and CAPF have. Row 3 is the one exception: it keeps an IPv4 fallback although the
//! phone has no IPv4 address (which row 8 contradicts). [`Ipv6Policy::row3_ipv4_fallback`]
//! keeps the table's literal wording by default \[I\].
//!
//! "Enable IPv6" (called an enterprise parameter in one sentence of the seed and a service
//! parameter, for SCCP phones, in another — one switch here): "if the parameter is False, CAPF
//! ignores or refuses connections from phones that use an IPv6 address, and the phone does not
//! receive a certificate" \[C\]. The phone then goes on to the next family of its list, if any
//! ([`connect`]). Combinations outside the table are \[I\] and documented on [`attempt_order`].
//!
//! Pure: no sockets. Whether a path works on the simulated network is the caller's answer
//! ([`connect`]'s `path_up`).

use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// An IP address family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AddressFamily {
    V4,
    V6,
}

impl fmt::Display for AddressFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressFamily::V4 => "IPv4",
            AddressFamily::V6 => "IPv6",
        })
    }
}

/// The phone's IP mode ("IP Addressing Mode" of the phone's common device configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IpMode {
    /// "IPv4 and IPv6" (dual stack).
    DualStack,
    /// "IPv4 only" (IPv4 stack).
    Ipv4Only,
    /// "IPv6 only" (IPv6 stack).
    Ipv6Only,
}

impl IpMode {
    /// The families this mode lets the phone use.
    pub fn allows(self, family: AddressFamily) -> bool {
        match self {
            IpMode::DualStack => true,
            IpMode::Ipv4Only => family == AddressFamily::V4,
            IpMode::Ipv6Only => family == AddressFamily::V6,
        }
    }
}

impl fmt::Display for IpMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IpMode::DualStack => "dual stack",
            IpMode::Ipv4Only => "IPv4 stack",
            IpMode::Ipv6Only => "IPv6 stack",
        })
    }
}

/// A scenario string that is not a known value.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("unknown {what} {got:?}; expected one of {expected}")]
pub struct ParseError {
    /// What was being parsed ("phone IP mode", "address availability").
    pub what: &'static str,
    pub got: String,
    pub expected: &'static str,
}

impl FromStr for IpMode {
    type Err = ParseError;
    /// `dual` (also `dual-stack`, `dualstack`), `ipv4` (`ipv4-only`, `v4`), `ipv6` (`ipv6-only`,
    /// `v6`); case-insensitive.
    fn from_str(s: &str) -> Result<IpMode, ParseError> {
        match norm(s).as_str() {
            "dual" | "dualstack" | "ipv4andipv6" => Ok(IpMode::DualStack),
            "ipv4" | "ipv4only" | "v4" | "ipv4stack" => Ok(IpMode::Ipv4Only),
            "ipv6" | "ipv6only" | "v6" | "ipv6stack" => Ok(IpMode::Ipv6Only),
            _ => Err(ParseError {
                what: "phone IP mode",
                got: s.to_string(),
                expected: "dual, ipv4, ipv6",
            }),
        }
    }
}

/// Which address families a host (the phone or CAPF) has an address in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Addresses {
    pub v4: bool,
    pub v6: bool,
}

impl Addresses {
    pub const NONE: Addresses = Addresses {
        v4: false,
        v6: false,
    };
    pub const V4: Addresses = Addresses {
        v4: true,
        v6: false,
    };
    pub const V6: Addresses = Addresses {
        v4: false,
        v6: true,
    };
    pub const BOTH: Addresses = Addresses { v4: true, v6: true };

    /// Whether there is an address of `family`.
    pub fn has(self, family: AddressFamily) -> bool {
        match family {
            AddressFamily::V4 => self.v4,
            AddressFamily::V6 => self.v6,
        }
    }
}

impl fmt::Display for Addresses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match (self.v4, self.v6) {
            (true, true) => "IPv4 and IPv6",
            (true, false) => "IPv4",
            (false, true) => "IPv6",
            (false, false) => "no address",
        })
    }
}

impl FromStr for Addresses {
    type Err = ParseError;
    /// `v4` (also `ipv4`), `v6` (`ipv6`), `both` (`dual`, `v4+v6`, `v4,v6`), `none`;
    /// case-insensitive.
    fn from_str(s: &str) -> Result<Addresses, ParseError> {
        match norm(s).as_str() {
            "v4" | "ipv4" => Ok(Addresses::V4),
            "v6" | "ipv6" => Ok(Addresses::V6),
            "both" | "dual" | "v4v6" | "ipv4ipv6" | "ipv4andipv6" | "v6v4" => Ok(Addresses::BOTH),
            "none" => Ok(Addresses::NONE),
            _ => Err(ParseError {
                what: "address availability",
                got: s.to_string(),
                expected: "v4, v6, both, none",
            }),
        }
    }
}

/// Lower case without separators, so `Dual-Stack`, `dual_stack` and `v4+v6` compare simply.
fn norm(s: &str) -> String {
    s.trim()
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' ' | '+' | ',' | '/'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The IPv6 settings CAPF and the phone follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv6Policy {
    /// Enterprise parameter "Enable IPv6". Default `false`: CUCM ships with it False; the seed
    /// and the reference do not say so, hence \[I\].
    pub enable_ipv6: bool,
    /// What CAPF does with an IPv6 connection while "Enable IPv6" is False: the seed says
    /// "ignores or refuses". Default [`Ipv6Refusal::Refuse`] (the phone learns at once) \[I\].
    pub refusal: Ipv6Refusal,
    /// Table row 3 (dual stack, phone IPv6 only, CAPF both): whether the phone falls back to
    /// IPv4 after IPv6, as the table literally says. Default `true` (the table as written) \[I\];
    /// `false` applies the rule of the other rows (IPv6 only).
    pub row3_ipv4_fallback: bool,
}

impl Default for Ipv6Policy {
    fn default() -> Self {
        Ipv6Policy {
            enable_ipv6: false,
            refusal: Ipv6Refusal::Refuse,
            row3_ipv4_fallback: true,
        }
    }
}

/// How CAPF turns away an IPv6 connection when "Enable IPv6" is False.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ipv6Refusal {
    /// The connection is never answered: the phone gives up on it after its own timeout.
    Ignore,
    /// The connection is refused at once.
    Refuse,
}

/// The table's "the phone cannot connect to CAPF": no family both sides can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[error("the phone cannot connect to CAPF (phone IP mode {mode}, phone addresses {phone}, CAPF addresses {capf})")]
pub struct NoCommonFamily {
    pub mode: IpMode,
    pub phone: Addresses,
    pub capf: Addresses,
}

/// One row of the seed's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableRow {
    /// 1-based row number, in the seed's order.
    pub row: u8,
    pub mode: IpMode,
    pub phone: Addresses,
    pub capf: Addresses,
    /// The families the phone tries, in order; empty = "the phone cannot connect to CAPF".
    pub order: &'static [AddressFamily],
    /// The row's last column, in English.
    pub text: &'static str,
}

const V6_V4: &[AddressFamily] = &[AddressFamily::V6, AddressFamily::V4];
const ONLY_V4: &[AddressFamily] = &[AddressFamily::V4];
const ONLY_V6: &[AddressFamily] = &[AddressFamily::V6];
const NO_WAY: &[AddressFamily] = &[];
const USES_V4: &str = "The phone uses an IPv4 address to connect to CAPF.";
const USES_V6: &str = "The phone uses an IPv6 address to connect to CAPF.";
const CANNOT: &str = "The phone cannot connect to CAPF.";

const fn row(
    row: u8,
    mode: IpMode,
    phone: Addresses,
    capf: Addresses,
    order: &'static [AddressFamily],
    text: &'static str,
) -> TableRow {
    TableRow {
        row,
        mode,
        phone,
        capf,
        order,
        text,
    }
}

/// The seed's table "How IPv6 or IPv4 phones connect to CAPF", all 15 rows, in its order.
pub const TABLE: [TableRow; 15] = {
    use Addresses as A;
    use IpMode::*;
    [
        row(1, DualStack, A::BOTH, A::BOTH, V6_V4, "The phone uses an IPv6 address to connect to CAPF. If the phone cannot connect over an IPv6 address, it tries to connect by using an IPv4 address."),
        row(2, DualStack, A::V4, A::BOTH, ONLY_V4, USES_V4),
        row(3, DualStack, A::V6, A::BOTH, V6_V4, "The phone uses an IPv6 address to connect to CAPF. If the attempt fails, the phone uses an IPv4 address to connect to CAPF."),
        row(4, DualStack, A::V4, A::V4, ONLY_V4, USES_V4),
        row(5, DualStack, A::BOTH, A::V6, ONLY_V6, USES_V6),
        row(6, DualStack, A::BOTH, A::V4, ONLY_V4, USES_V4),
        row(7, DualStack, A::V4, A::V6, NO_WAY, CANNOT),
        row(8, DualStack, A::V6, A::V4, NO_WAY, CANNOT),
        row(9, DualStack, A::V6, A::V6, ONLY_V6, USES_V6),
        row(10, Ipv4Only, A::V4, A::BOTH, ONLY_V4, USES_V4),
        row(11, Ipv6Only, A::V6, A::BOTH, ONLY_V6, USES_V6),
        row(12, Ipv4Only, A::V4, A::V4, ONLY_V4, USES_V4),
        row(13, Ipv4Only, A::V4, A::V6, NO_WAY, CANNOT),
        row(14, Ipv6Only, A::V6, A::V6, ONLY_V6, USES_V6),
        row(15, Ipv6Only, A::V6, A::V4, NO_WAY, CANNOT),
    ]
};

/// The table row for exactly this combination, if the seed lists it.
pub fn table_row(mode: IpMode, phone: Addresses, capf: Addresses) -> Option<&'static TableRow> {
    TABLE
        .iter()
        .find(|r| r.mode == mode && r.phone == phone && r.capf == capf)
}

/// The families the phone tries to reach CAPF, in order, or the table's "the phone cannot
/// connect to CAPF". This is the table alone; "Enable IPv6" and the network are [`connect`]'s.
///
/// Outside the table \[I\]: an address the phone's IP mode does not use is ignored (an IPv4-stack
/// phone with an IPv6 address behaves as rows 10, 12, 13); with no address on either side the
/// phone cannot connect; everything else follows the table's rule, IPv6 first, then IPv4, of
/// the families both sides have.
pub fn attempt_order(
    policy: &Ipv6Policy,
    mode: IpMode,
    phone: Addresses,
    capf: Addresses,
) -> Result<Vec<AddressFamily>, NoCommonFamily> {
    let no_way = NoCommonFamily { mode, phone, capf };
    if policy.row3_ipv4_fallback && table_row(mode, phone, capf).is_some_and(|r| r.row == 3) {
        return Ok(V6_V4.to_vec());
    }
    let order: Vec<AddressFamily> = [AddressFamily::V6, AddressFamily::V4]
        .into_iter()
        .filter(|&f| mode.allows(f) && phone.has(f) && capf.has(f))
        .collect();
    if order.is_empty() {
        Err(no_way)
    } else {
        Ok(order)
    }
}

/// What became of one connection attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AttemptResult {
    Connected,
    /// The network has no working path in this family (`path_up` said no).
    Unreachable,
    /// IPv6 with "Enable IPv6" False, [`Ipv6Refusal::Ignore`]: no answer.
    IgnoredIpv6Disabled,
    /// IPv6 with "Enable IPv6" False, [`Ipv6Refusal::Refuse`]: refused.
    RefusedIpv6Disabled,
}

impl fmt::Display for AttemptResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AttemptResult::Connected => "connected",
            AttemptResult::Unreachable => "unreachable",
            AttemptResult::IgnoredIpv6Disabled => "ignored by CAPF (Enable IPv6 is False)",
            AttemptResult::RefusedIpv6Disabled => "refused by CAPF (Enable IPv6 is False)",
        })
    }
}

/// One connection attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Attempt {
    pub family: AddressFamily,
    pub result: AttemptResult,
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.family, self.result)
    }
}

/// A phone reached CAPF: over `family`, after `attempts` (the last one is the connection).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    pub family: AddressFamily,
    pub attempts: Vec<Attempt>,
}

/// Why a phone did not reach CAPF.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ConnectError {
    /// The table says the phone cannot connect.
    #[error(transparent)]
    NoCommonFamily(#[from] NoCommonFamily),
    /// Every family of the phone's list failed; the phone receives no certificate.
    #[error("the phone cannot connect to CAPF: {}", list(.attempts))]
    AllAttemptsFailed { attempts: Vec<Attempt> },
}

fn list(attempts: &[Attempt]) -> String {
    attempts
        .iter()
        .map(Attempt::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Runs the phone's attempts of [`attempt_order`] in order: an IPv6 attempt is turned away
/// while "Enable IPv6" is False, an attempt in a family where `path_up` has no path is
/// unreachable, and the phone moves on to the next family until one connects.
pub fn connect(
    policy: &Ipv6Policy,
    mode: IpMode,
    phone: Addresses,
    capf: Addresses,
    path_up: Addresses,
) -> Result<Connection, ConnectError> {
    let mut attempts = vec![];
    for family in attempt_order(policy, mode, phone, capf)? {
        let result = if !path_up.has(family) {
            AttemptResult::Unreachable
        } else if family == AddressFamily::V6 && !policy.enable_ipv6 {
            match policy.refusal {
                Ipv6Refusal::Ignore => AttemptResult::IgnoredIpv6Disabled,
                Ipv6Refusal::Refuse => AttemptResult::RefusedIpv6Disabled,
            }
        } else {
            AttemptResult::Connected
        };
        attempts.push(Attempt { family, result });
        if result == AttemptResult::Connected {
            return Ok(Connection { family, attempts });
        }
    }
    Err(ConnectError::AllAttemptsFailed { attempts })
}
