//! The subject of a client certificate as Kafka names an mTLS principal:
//! the distinguished name in RFC 2253 form (`CN=alice,OU=eng,O=Acme`), as
//! Java's `X500Principal.getName()` gives it to Kafka's default
//! `ssl.principal.mapping.rules`.
//!
//! A few lines of DER reading: the certificate was already verified by
//! rustls, so only the path to the subject is walked, and any surprise is
//! an error (the connection is then closed), never a panic.

/// Why a subject could not be read.
#[derive(Debug, thiserror::Error)]
#[error("client certificate subject: {0}")]
pub struct SubjectError(&'static str);

/// One DER element: its tag and contents, and what follows it.
fn element(input: &[u8]) -> Result<(u8, &[u8], &[u8]), SubjectError> {
    let (&tag, rest) = input.split_first().ok_or(SubjectError("truncated"))?;
    let (&first, rest) = rest.split_first().ok_or(SubjectError("truncated"))?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err(SubjectError("bad length"));
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err(SubjectError("truncated"));
    }
    Ok((tag, &rest[..len], &rest[len..]))
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;

/// The subject DN of a DER certificate in RFC 2253 form.
pub fn subject_dn(cert: &[u8]) -> Result<String, SubjectError> {
    let (tag, certificate, _) = element(cert)?;
    if tag != SEQUENCE {
        return Err(SubjectError("not a certificate"));
    }
    let (tag, tbs, _) = element(certificate)?;
    if tag != SEQUENCE {
        return Err(SubjectError("no tbsCertificate"));
    }
    let mut rest = tbs;
    let (tag, _, after) = element(rest)?;
    if tag == 0xa0 {
        rest = after; // [0] version
    }
    // serialNumber, signature, issuer, validity, then the subject.
    for _ in 0..4 {
        rest = element(rest)?.2;
    }
    let (tag, name, _) = element(rest)?;
    if tag != SEQUENCE {
        return Err(SubjectError("no subject"));
    }
    let mut rdns = Vec::new();
    let mut rest = name;
    while !rest.is_empty() {
        let (tag, set, after) = element(rest)?;
        if tag != SET {
            return Err(SubjectError("bad relative distinguished name"));
        }
        let mut parts = Vec::new();
        let mut attrs = set;
        while !attrs.is_empty() {
            let (tag, attr, next) = element(attrs)?;
            if tag != SEQUENCE {
                return Err(SubjectError("bad attribute"));
            }
            let (tag, oid, value) = element(attr)?;
            if tag != OID {
                return Err(SubjectError("bad attribute type"));
            }
            let (value_tag, value, _) = element(value)?;
            parts.push(format!(
                "{}={}",
                attribute_name(oid),
                attribute_value(value_tag, value)
            ));
            attrs = next;
        }
        rdns.push(parts.join("+"));
        rest = after;
    }
    // RFC 2253 writes the last RDN of the sequence first.
    rdns.reverse();
    Ok(rdns.join(","))
}

/// RFC 2253 keywords of the attribute types Java names; others as OIDs.
fn attribute_name(oid: &[u8]) -> String {
    let known: &[(&[u8], &str)] = &[
        (&[0x55, 0x04, 0x03], "CN"),
        (&[0x55, 0x04, 0x06], "C"),
        (&[0x55, 0x04, 0x07], "L"),
        (&[0x55, 0x04, 0x08], "ST"),
        (&[0x55, 0x04, 0x09], "STREET"),
        (&[0x55, 0x04, 0x0a], "O"),
        (&[0x55, 0x04, 0x0b], "OU"),
        (
            &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19],
            "DC",
        ),
        (
            &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01],
            "UID",
        ),
    ];
    if let Some((_, name)) = known.iter().find(|(o, _)| *o == oid) {
        return (*name).to_string();
    }
    dotted(oid)
}

/// An OID in dotted form.
fn dotted(oid: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    for (i, b) in oid.iter().enumerate() {
        acc = (acc << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() && i < 8 {
                let first = (acc / 40).min(2);
                arcs.push(first);
                arcs.push(acc - first * 40);
            } else {
                arcs.push(acc);
            }
            acc = 0;
        }
    }
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// A string value, escaped as RFC 2253 asks; a value of another type is
/// written `#hex` of its encoding, as Java does.
fn attribute_value(tag: u8, value: &[u8]) -> String {
    // UTF8String, PrintableString, IA5String, T61String.
    let text = match tag {
        0x0c | 0x13 | 0x16 | 0x14 => String::from_utf8_lossy(value).into_owned(),
        0x1e => {
            // BMPString: UTF-16BE.
            let units: Vec<u16> = value
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        _ => {
            let mut hex = format!("#{tag:02x}{:02x}", value.len());
            for b in value {
                hex.push_str(&format!("{b:02x}"));
            }
            return hex;
        }
    };
    let mut out = String::with_capacity(text.len());
    let last = text.chars().count().saturating_sub(1);
    for (i, c) in text.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DER of one element.
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        if content.len() < 0x80 {
            out.push(content.len() as u8);
        } else {
            out.push(0x82);
            out.extend_from_slice(&(content.len() as u16).to_be_bytes());
        }
        out.extend_from_slice(content);
        out
    }

    fn rdn(oid: &[u8], value: &str) -> Vec<u8> {
        let attr = [tlv(OID, oid), tlv(0x0c, value.as_bytes())].concat();
        tlv(SET, &tlv(SEQUENCE, &attr))
    }

    fn certificate(subject: &[u8]) -> Vec<u8> {
        let tbs = [
            tlv(0xa0, &tlv(0x02, &[2])),
            tlv(0x02, &[1, 2, 3]),
            tlv(SEQUENCE, &tlv(OID, &[0x2a, 0x86, 0x48])),
            tlv(SEQUENCE, &rdn(&[0x55, 0x04, 0x03], "issuer")),
            tlv(SEQUENCE, &[]),
            tlv(SEQUENCE, subject),
            vec![0u8; 200],
        ]
        .concat();
        tlv(
            SEQUENCE,
            &[tlv(SEQUENCE, &tbs), tlv(SEQUENCE, &[])].concat(),
        )
    }

    #[test]
    fn subject_is_written_last_rdn_first_with_escapes() {
        let subject = [
            rdn(&[0x55, 0x04, 0x06], "US"),
            rdn(&[0x55, 0x04, 0x0a], "Acme, Inc"),
            rdn(&[0x55, 0x04, 0x0b], "eng"),
            rdn(&[0x55, 0x04, 0x03], "alice"),
        ]
        .concat();
        assert_eq!(
            subject_dn(&certificate(&subject)).unwrap(),
            "CN=alice,OU=eng,O=Acme\\, Inc,C=US"
        );
    }

    #[test]
    fn unknown_types_are_dotted_and_garbage_is_an_error() {
        let subject = rdn(
            &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01],
            "a@b",
        );
        assert_eq!(
            subject_dn(&certificate(&subject)).unwrap(),
            "1.2.840.113549.1.9.1=a@b"
        );
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x85, 1, 1, 1, 1, 1],
            &[0x04, 0x00],
        ] {
            assert!(subject_dn(bad).is_err(), "{bad:?}");
        }
    }
}
