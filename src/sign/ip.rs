//! The `IpAddress` condition: one IPv4 address or one IPv4 CIDR block.
//! CloudFront policies do not support IPv6.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// An IPv4 range as CloudFront's `AWS:SourceIp` takes it. A bare address is
/// the `/32` range, as botocore writes it.
///
/// ```
/// let r: cfsign::sign::IpRange = "192.0.2.7".parse().unwrap();
/// assert_eq!(r.to_string(), "192.0.2.7/32");
/// assert!(r.contains("192.0.2.7".parse().unwrap()));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpRange {
    addr: Ipv4Addr,
    prefix: u8,
}

/// Why a text is not an IPv4 range.
///
/// ```
/// use cfsign::sign::{IpRange, ip::IpRangeError};
/// assert_eq!("2001:db8::/32".parse::<IpRange>(), Err(IpRangeError::Ipv6("2001:db8::/32".into())));
/// assert_eq!("10.0.0.0/33".parse::<IpRange>(), Err(IpRangeError::Invalid("10.0.0.0/33".into())));
/// ```
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpRangeError {
    /// An IPv6 address or range.
    #[error(
        "`{0}` is an IPv6 address: CloudFront policies accept only IPv4 (a.b.c.d or a.b.c.d/n)"
    )]
    Ipv6(String),
    /// Anything else that is not `a.b.c.d` or `a.b.c.d/n`.
    #[error(
        "`{0}` is not an IPv4 address or CIDR block: write a.b.c.d or a.b.c.d/n with n from 0 to 32"
    )]
    Invalid(String),
}

impl IpRange {
    /// The range of `addr` with a `prefix`-bit mask; `None` above 32 bits.
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// use cfsign::sign::IpRange;
    /// let r = IpRange::new(Ipv4Addr::new(10, 0, 0, 0), 8).unwrap();
    /// assert!(r.contains(Ipv4Addr::new(10, 1, 2, 3)) && !r.contains(Ipv4Addr::new(11, 0, 0, 1)));
    /// assert!(IpRange::new(Ipv4Addr::LOCALHOST, 33).is_none());
    /// ```
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Option<Self> {
        (prefix <= 32).then_some(IpRange { addr, prefix })
    }

    /// Whether `ip` is in the range.
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// let office: cfsign::sign::IpRange = "198.51.100.0/22".parse().unwrap();
    /// assert!(office.contains(Ipv4Addr::new(198, 51, 103, 255)));
    /// assert!(!office.contains(Ipv4Addr::new(198, 51, 104, 0)));
    /// let everyone: cfsign::sign::IpRange = "0.0.0.0/0".parse().unwrap();
    /// assert!(everyone.contains(Ipv4Addr::BROADCAST));
    /// ```
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let mask = u32::MAX
            .checked_shl(32 - u32::from(self.prefix))
            .unwrap_or(0);
        u32::from(self.addr) & mask == u32::from(ip) & mask
    }
}

impl FromStr for IpRange {
    type Err = IpRangeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let shown: String = s.chars().take(60).collect();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        if addr.contains(':') {
            return Err(IpRangeError::Ipv6(shown));
        }
        let addr: Ipv4Addr = addr
            .parse()
            .map_err(|_| IpRangeError::Invalid(shown.clone()))?;
        let prefix = match prefix {
            None => 32,
            Some(p) if !p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit()) => p
                .parse()
                .map_err(|_| IpRangeError::Invalid(shown.clone()))?,
            Some(_) => return Err(IpRangeError::Invalid(shown)),
        };
        IpRange::new(addr, prefix).ok_or(IpRangeError::Invalid(shown))
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        for (input, ok) in [
            ("10.0.0.0/8", Some("10.0.0.0/8")),
            ("203.0.113.7", Some("203.0.113.7/32")),
            ("0.0.0.0/0", Some("0.0.0.0/0")),
            ("1.2.3.4/33", None),
            ("1.2.3.4/", None),
            ("1.2.3.4/+8", None),
            ("1.2.3", None),
            ("01.2.3.4", None),
            ("::1", None),
            ("2001:db8::/32", None),
            ("192.168.0.0/24\",\"IpAddress\":{", None),
            ("", None),
        ] {
            let got = input.parse::<IpRange>().ok().map(|r| r.to_string());
            assert_eq!(got.as_deref(), ok, "{input}");
        }
        assert!(matches!(
            "::1".parse::<IpRange>(),
            Err(IpRangeError::Ipv6(_))
        ));
    }

    #[test]
    fn containment() {
        let r: IpRange = "192.0.2.0/24".parse().unwrap();
        assert!(r.contains("192.0.2.255".parse().unwrap()));
        assert!(!r.contains("192.0.3.0".parse().unwrap()));
        let all: IpRange = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
    }
}
