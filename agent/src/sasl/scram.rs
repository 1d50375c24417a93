//! SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka speaks
//! them: the credential kept instead of a password, and the server side of
//! the two-round exchange. No I/O: the caller looks the credential up.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::{constant_time, digest, hmac, pbkdf2};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use floe_metadata::ScramCredential;

use super::SaslError;

/// Fewest PBKDF2 iterations Kafka accepts (and Floe stores).
pub const MIN_ITERATIONS: i32 = 4096;
/// Most PBKDF2 iterations Kafka accepts.
pub const MAX_ITERATIONS: i32 = 16384;
/// Salt length of credentials Floe derives.
const SALT_LEN: usize = 32;

/// The hash of a SCRAM mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScramHash {
    /// SCRAM-SHA-256.
    Sha256,
    /// SCRAM-SHA-512.
    Sha512,
}

impl ScramHash {
    /// Kafka's mechanism name.
    pub fn mechanism(self) -> &'static str {
        match self {
            Self::Sha256 => "SCRAM-SHA-256",
            Self::Sha512 => "SCRAM-SHA-512",
        }
    }

    /// Reads a mechanism name.
    pub fn parse(mechanism: &str) -> Option<Self> {
        match mechanism {
            "SCRAM-SHA-256" => Some(Self::Sha256),
            "SCRAM-SHA-512" => Some(Self::Sha512),
            _ => None,
        }
    }

    /// Kafka's `ScramMechanism` code in the KIP-554 APIs.
    pub fn code(self) -> i8 {
        match self {
            Self::Sha256 => 1,
            Self::Sha512 => 2,
        }
    }

    /// The mechanism of a KIP-554 code.
    pub fn from_code(code: i8) -> Option<Self> {
        match code {
            1 => Some(Self::Sha256),
            2 => Some(Self::Sha512),
            _ => None,
        }
    }

    fn hmac(self) -> hmac::Algorithm {
        match self {
            Self::Sha256 => hmac::HMAC_SHA256,
            Self::Sha512 => hmac::HMAC_SHA512,
        }
    }

    fn digest(self) -> &'static digest::Algorithm {
        match self {
            Self::Sha256 => &digest::SHA256,
            Self::Sha512 => &digest::SHA512,
        }
    }

    fn pbkdf2(self) -> pbkdf2::Algorithm {
        match self {
            Self::Sha256 => pbkdf2::PBKDF2_HMAC_SHA256,
            Self::Sha512 => pbkdf2::PBKDF2_HMAC_SHA512,
        }
    }

    /// Output length of the hash.
    pub fn key_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha512 => 64,
        }
    }

    fn mac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        hmac::sign(&hmac::Key::new(self.hmac(), key), data)
            .as_ref()
            .to_vec()
    }

    /// `Hi(password, salt, i)`: the salted password.
    pub fn salted_password(self, password: &[u8], salt: &[u8], iterations: i32) -> Vec<u8> {
        let rounds = u32::try_from(iterations)
            .ok()
            .and_then(std::num::NonZeroU32::new)
            .unwrap_or(std::num::NonZeroU32::MIN);
        let mut out = vec![0u8; self.key_len()];
        pbkdf2::derive(self.pbkdf2(), rounds, salt, password, &mut out);
        out
    }

    /// The stored credential of a salted password.
    pub fn credential(
        self,
        user: &str,
        salt: Vec<u8>,
        salted_password: &[u8],
        iterations: i32,
    ) -> ScramCredential {
        let client_key = self.mac(salted_password, b"Client Key");
        ScramCredential {
            user: user.to_string(),
            mechanism: self.mechanism().to_string(),
            salt,
            stored_key: digest::digest(self.digest(), &client_key).as_ref().to_vec(),
            server_key: self.mac(salted_password, b"Server Key"),
            iterations,
        }
    }

    /// A new credential of `password` with a random salt.
    pub fn new_credential(
        self,
        user: &str,
        password: &[u8],
        iterations: i32,
    ) -> Result<ScramCredential, SaslError> {
        let mut salt = vec![0u8; SALT_LEN];
        SystemRandom::new()
            .fill(&mut salt)
            .map_err(|_| SaslError::Internal("no randomness for a salt".into()))?;
        let salted = self.salted_password(password, &salt, iterations);
        Ok(self.credential(user, salt, &salted, iterations))
    }

    /// Whether `password` is the one `credential` was made from (PLAIN).
    pub fn password_matches(self, credential: &ScramCredential, password: &[u8]) -> bool {
        let salted = self.salted_password(password, &credential.salt, credential.iterations);
        let derived = self.credential(&credential.user, Vec::new(), &salted, credential.iterations);
        constant_time::verify_slices_are_equal(&derived.stored_key, &credential.stored_key).is_ok()
    }
}

/// The client's first message, parsed.
#[derive(Debug)]
pub struct ClientFirst {
    /// The user, decoded from SCRAM's `saslname` form.
    pub user: String,
    nonce: String,
    bare: String,
}

/// Reads `n,,n=user,r=nonce` (`y,,` is accepted too; an authzid must name
/// the user itself; channel binding and extensions such as delegation
/// tokens are refused).
pub fn parse_client_first(message: &[u8]) -> Result<ClientFirst, SaslError> {
    let text = std::str::from_utf8(message).map_err(|_| SaslError::malformed("not UTF-8"))?;
    let mut parts = text.splitn(3, ',');
    let cbind = parts.next().unwrap_or_default();
    let authzid = parts.next().unwrap_or_default();
    let bare = parts
        .next()
        .ok_or_else(|| SaslError::malformed("no client-first-message-bare"))?;
    if cbind != "n" && cbind != "y" {
        return Err(SaslError::malformed("channel binding is not supported"));
    }
    let mut user = None;
    let mut nonce = None;
    for attr in bare.split(',') {
        match attr.split_once('=') {
            Some(("n", v)) => user = Some(decode_saslname(v)?),
            Some(("r", v)) => nonce = Some(v.to_string()),
            Some(("m", _)) => return Err(SaslError::malformed("mandatory extension")),
            Some(("tokenauth", _)) => {
                return Err(SaslError::Failed(
                    "delegation tokens are not supported".into(),
                ));
            }
            _ => {}
        }
    }
    let user = user.ok_or_else(|| SaslError::malformed("no user name"))?;
    let nonce = nonce
        .filter(|n| !n.is_empty() && n.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b','))
        .ok_or_else(|| SaslError::malformed("no nonce"))?;
    if let Some(authzid) = authzid.strip_prefix("a=")
        && decode_saslname(authzid)? != user
    {
        return Err(SaslError::Failed(
            "Authentication failed: Client requested an authorization id that is different from username"
                .into(),
        ));
    }
    Ok(ClientFirst {
        user,
        nonce,
        bare: bare.to_string(),
    })
}

/// `=2C` is `,` and `=3D` is `=`; any other `=` is malformed.
fn decode_saslname(name: &str) -> Result<String, SaslError> {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(i) = rest.find('=') {
        out.push_str(&rest[..i]);
        let code = rest.get(i..i + 3).unwrap_or_default();
        match code {
            "=2C" => out.push(','),
            "=3D" => out.push('='),
            _ => return Err(SaslError::malformed("bad escape in user name")),
        }
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The server between its first message and the client's final one.
#[derive(Debug)]
pub struct ScramServer {
    hash: ScramHash,
    credential: ScramCredential,
    client_first_bare: String,
    server_first: String,
    nonce: String,
}

impl ScramServer {
    /// Answers the client's first message for the stored `credential`:
    /// `r=nonce,s=salt,i=iterations`.
    pub fn start(
        hash: ScramHash,
        first: ClientFirst,
        credential: ScramCredential,
    ) -> Result<(Self, Vec<u8>), SaslError> {
        let mut ours = [0u8; 24];
        SystemRandom::new()
            .fill(&mut ours)
            .map_err(|_| SaslError::Internal("no randomness for a nonce".into()))?;
        let nonce = format!("{}{}", first.nonce, B64.encode(ours));
        let server_first = format!(
            "r={nonce},s={},i={}",
            B64.encode(&credential.salt),
            credential.iterations
        );
        let reply = server_first.clone().into_bytes();
        Ok((
            Self {
                hash,
                credential,
                client_first_bare: first.bare,
                server_first,
                nonce,
            },
            reply,
        ))
    }

    /// The user being authenticated.
    pub fn user(&self) -> &str {
        &self.credential.user
    }

    /// Checks the client's final message (`c=…,r=…,p=proof`); on success,
    /// the server's final message `v=signature`.
    pub fn finish(self, message: &[u8]) -> Result<Vec<u8>, SaslError> {
        let text = std::str::from_utf8(message).map_err(|_| SaslError::malformed("not UTF-8"))?;
        let (without_proof, proof) = text
            .rsplit_once(",p=")
            .ok_or_else(|| SaslError::malformed("no proof"))?;
        let mut channel = None;
        let mut nonce = None;
        for attr in without_proof.split(',') {
            match attr.split_once('=') {
                Some(("c", v)) => channel = Some(v),
                Some(("r", v)) => nonce = Some(v),
                _ => {}
            }
        }
        // Channel binding data: the GS2 header `n,,` or `y,,` in base64.
        if !matches!(channel, Some("biws") | Some("eSws")) {
            return Err(SaslError::malformed("bad channel binding"));
        }
        // As Kafka's `ScramSaslServer`: the nonce must end with the
        // server's (librdkafka before 2.x repeats the client's part).
        if !nonce.is_some_and(|n| n.ends_with(&self.nonce)) {
            return Err(SaslError::malformed("nonce mismatch"));
        }
        let proof = B64
            .decode(proof)
            .map_err(|_| SaslError::malformed("proof is not base64"))?;
        let auth_message = format!(
            "{},{},{}",
            self.client_first_bare, self.server_first, without_proof
        );
        let signature = self
            .hash
            .mac(&self.credential.stored_key, auth_message.as_bytes());
        if proof.len() != signature.len() {
            return Err(SaslError::invalid_credentials(self.hash.mechanism()));
        }
        let client_key: Vec<u8> = proof.iter().zip(&signature).map(|(a, b)| a ^ b).collect();
        let stored = digest::digest(self.hash.digest(), &client_key);
        if constant_time::verify_slices_are_equal(stored.as_ref(), &self.credential.stored_key)
            .is_err()
        {
            return Err(SaslError::invalid_credentials(self.hash.mechanism()));
        }
        let server_signature = self
            .hash
            .mac(&self.credential.server_key, auth_message.as_bytes());
        Ok(format!("v={}", B64.encode(server_signature)).into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677's SCRAM-SHA-256 example, played from the client side.
    #[test]
    fn rfc7677_exchange_is_accepted_and_signed() {
        let hash = ScramHash::Sha256;
        let salt = B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let salted = hash.salted_password(b"pencil", &salt, 4096);
        let credential = hash.credential("user", salt, &salted, 4096);
        let first = parse_client_first(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO").unwrap();
        let (mut server, reply) = ScramServer::start(hash, first, credential.clone()).unwrap();
        // Use the RFC's server nonce so the RFC's proof applies.
        server.nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0".into();
        server.server_first = format!("r={},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", server.nonce);
        assert!(
            String::from_utf8(reply)
                .unwrap()
                .starts_with("r=rOprNGfwEbeRWgbNEkqO")
        );
        let final_message = format!(
            "c=biws,r={},p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
            server.nonce
        );
        let answer = server.finish(final_message.as_bytes()).unwrap();
        assert_eq!(
            answer,
            b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".to_vec()
        );
    }

    #[test]
    fn a_wrong_proof_fails_with_kafkas_message() {
        let hash = ScramHash::Sha512;
        let credential = hash.new_credential("alice", b"right", 4096).unwrap();
        let first = parse_client_first(b"n,,n=alice,r=abc").unwrap();
        let (server, reply) = ScramServer::start(hash, first, credential).unwrap();
        let reply = String::from_utf8(reply).unwrap();
        let nonce = reply.split(',').next().unwrap().trim_start_matches("r=");
        let bad = format!("c=biws,r={nonce},p={}", B64.encode([7u8; 64]));
        let err = server.finish(bad.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512"
        );
    }

    #[test]
    fn plain_passwords_are_checked_against_the_credential() {
        let c = ScramHash::Sha256
            .new_credential("bob", b"secret", 4096)
            .unwrap();
        assert!(ScramHash::Sha256.password_matches(&c, b"secret"));
        assert!(!ScramHash::Sha256.password_matches(&c, b"Secret"));
    }

    #[test]
    fn client_first_messages_are_checked() {
        let first = parse_client_first(b"n,,n=a=2Cb=3Dc,r=xyz").unwrap();
        assert_eq!(first.user, "a,b=c");
        for bad in [
            &b"p=tls-unique,,n=a,r=x"[..],
            b"n,,r=x",
            b"n,,n=a",
            b"n,,n=a=2,r=x",
            b"n,,n=a,r=x,tokenauth=true",
            b"n,a=b,n=a,r=x",
            b"\xff",
        ] {
            assert!(parse_client_first(bad).is_err(), "{bad:?}");
        }
    }
}
