//! DescribeUserScramCredentials and AlterUserScramCredentials (KIP-554),
//! so Kafka's own tools (`kafka-configs.sh --entity-type users`) manage the
//! SCRAM users of Floe. The client salts and hashes the password; only the
//! derived StoredKey and ServerKey are kept.

use std::collections::BTreeMap;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::alter_user_scram_credentials_response::AlterUserScramCredentialsResult;
use kafka_protocol::messages::describe_user_scram_credentials_response::{
    CredentialInfo, DescribeUserScramCredentialsResult,
};
use kafka_protocol::messages::{
    AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse,
    DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse,
};
use kafka_protocol::protocol::StrBytes;
use tracing::warn;

use crate::context::AgentContext;
use crate::sasl::scram::{MAX_ITERATIONS, MIN_ITERATIONS, ScramHash};

/// `(error_code, message)` of one user's result.
type Outcome = Result<(), (i16, String)>;

/// Answers DescribeUserScramCredentials: the mechanisms and iterations of
/// the named users (every user when none are named), never the keys.
pub async fn describe(
    ctx: &AgentContext,
    req: DescribeUserScramCredentialsRequest,
) -> DescribeUserScramCredentialsResponse {
    let resp = DescribeUserScramCredentialsResponse::default();
    let all = match ctx.store.scram_credentials(None).await {
        Ok(all) => all,
        Err(e) => {
            warn!(error = %e, "cannot read scram credentials");
            return resp
                .with_error_code(ResponseError::UnknownServerError.code())
                .with_error_message(Some(StrBytes::from_string(e.to_string())));
        }
    };
    let mut by_user: BTreeMap<String, Vec<CredentialInfo>> = BTreeMap::new();
    for c in all {
        if let Some(hash) = ScramHash::parse(&c.mechanism) {
            by_user.entry(c.user).or_default().push(
                CredentialInfo::default()
                    .with_mechanism(hash.code())
                    .with_iterations(c.iterations),
            );
        }
    }
    let named: Vec<String> = req
        .users
        .unwrap_or_default()
        .into_iter()
        .map(|u| u.name.to_string())
        .collect();
    let results = if named.is_empty() {
        by_user
            .into_iter()
            .map(|(user, infos)| {
                DescribeUserScramCredentialsResult::default()
                    .with_user(StrBytes::from_string(user))
                    .with_credential_infos(infos)
            })
            .collect()
    } else {
        named
            .iter()
            .map(|user| {
                let result =
                    DescribeUserScramCredentialsResult::default().with_user(StrBytes::from_string(user.clone()));
                if named.iter().filter(|u| *u == user).count() > 1 {
                    return result
                        .with_error_code(ResponseError::DuplicateResource.code())
                        .with_error_message(Some(StrBytes::from_string(format!(
                            "Cannot describe SCRAM credentials for the same user twice in a single request: {user}"
                        ))));
                }
                match by_user.get(user) {
                    Some(infos) => result.with_credential_infos(infos.clone()),
                    None => result
                        .with_error_code(ResponseError::ResourceNotFound.code())
                        .with_error_message(Some(StrBytes::from_string(format!(
                            "Attempt to describe a user credential that does not exist: {user}"
                        )))),
                }
            })
            .collect()
    };
    resp.with_results(results)
}

/// Answers AlterUserScramCredentials: deletions and upsertions, each user's
/// changes checked before any is applied, one result per user.
pub async fn alter(
    ctx: &AgentContext,
    req: AlterUserScramCredentialsRequest,
) -> AlterUserScramCredentialsResponse {
    let mut outcomes: BTreeMap<String, Outcome> = BTreeMap::new();
    let mut seen: BTreeMap<(String, i8), usize> = BTreeMap::new();
    for (user, mechanism) in req
        .deletions
        .iter()
        .map(|d| (d.name.to_string(), d.mechanism))
        .chain(
            req.upsertions
                .iter()
                .map(|u| (u.name.to_string(), u.mechanism)),
        )
    {
        *seen.entry((user.clone(), mechanism)).or_default() += 1;
        outcomes.entry(user).or_insert(Ok(()));
    }
    for ((user, _), count) in &seen {
        if *count > 1 {
            fail(
                &mut outcomes,
                user,
                ResponseError::DuplicateResource,
                format!("A user credential cannot be altered twice in the same request: {user}"),
            );
        }
    }
    for (user, mechanism) in req
        .deletions
        .iter()
        .map(|d| (d.name.as_str(), d.mechanism))
        .chain(
            req.upsertions
                .iter()
                .map(|u| (u.name.as_str(), u.mechanism)),
        )
    {
        if user.is_empty() {
            fail(
                &mut outcomes,
                user,
                ResponseError::UnacceptableCredential,
                "Username must not be empty".into(),
            );
        } else if ScramHash::from_code(mechanism).is_none() {
            fail(
                &mut outcomes,
                user,
                ResponseError::UnsupportedSaslMechanism,
                format!("Unknown SCRAM mechanism {mechanism}"),
            );
        }
    }
    for u in &req.upsertions {
        let Some(hash) = ScramHash::from_code(u.mechanism) else {
            continue;
        };
        let user = u.name.as_str();
        if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&u.iterations) {
            fail(
                &mut outcomes,
                user,
                ResponseError::UnacceptableCredential,
                format!(
                    "Iterations {} is not between {MIN_ITERATIONS} and {MAX_ITERATIONS} for {}",
                    u.iterations,
                    hash.mechanism()
                ),
            );
        } else if u.salted_password.len() != hash.key_len()
            || u.salt.is_empty()
            || u.salt.len() > 1024
        {
            fail(
                &mut outcomes,
                user,
                ResponseError::UnacceptableCredential,
                format!("Malformed salt or salted password for {}", hash.mechanism()),
            );
        }
    }
    // Deletions of credentials that do not exist fail their user.
    for d in &req.deletions {
        let user = d.name.as_str();
        let Some(hash) = ScramHash::from_code(d.mechanism) else {
            continue;
        };
        if !matches!(outcomes.get(user), Some(Ok(()))) {
            continue;
        }
        match ctx.store.scram_credentials(Some(user)).await {
            Ok(existing) if existing.iter().any(|c| c.mechanism == hash.mechanism()) => {}
            Ok(_) => fail(
                &mut outcomes,
                user,
                ResponseError::ResourceNotFound,
                format!("Attempt to delete a user credential that does not exist: {user}"),
            ),
            Err(e) => fail(
                &mut outcomes,
                user,
                ResponseError::UnknownServerError,
                e.to_string(),
            ),
        }
    }
    for d in &req.deletions {
        let user = d.name.as_str();
        let (Some(hash), Some(Ok(()))) = (ScramHash::from_code(d.mechanism), outcomes.get(user))
        else {
            continue;
        };
        if let Err(e) = ctx
            .store
            .delete_scram_credential(user, Some(hash.mechanism()))
            .await
        {
            fail(
                &mut outcomes,
                user,
                ResponseError::UnknownServerError,
                e.to_string(),
            );
        }
    }
    for u in &req.upsertions {
        let user = u.name.as_str();
        let (Some(hash), Some(Ok(()))) = (ScramHash::from_code(u.mechanism), outcomes.get(user))
        else {
            continue;
        };
        let credential = hash.credential(user, u.salt.to_vec(), &u.salted_password, u.iterations);
        if let Err(e) = ctx.store.upsert_scram_credential(&credential).await {
            fail(
                &mut outcomes,
                user,
                ResponseError::UnknownServerError,
                e.to_string(),
            );
        }
    }
    AlterUserScramCredentialsResponse::default().with_results(
        outcomes
            .into_iter()
            .map(|(user, outcome)| {
                let result = AlterUserScramCredentialsResult::default()
                    .with_user(StrBytes::from_string(user));
                match outcome {
                    Ok(()) => result,
                    Err((code, message)) => result
                        .with_error_code(code)
                        .with_error_message(Some(StrBytes::from_string(message))),
                }
            })
            .collect(),
    )
}

/// Records the first failure of `user`'s changes.
fn fail(
    outcomes: &mut BTreeMap<String, Outcome>,
    user: &str,
    code: ResponseError,
    message: String,
) {
    if let Some(o @ Ok(())) = outcomes.get_mut(user) {
        *o = Err((code.code(), message));
    }
}
