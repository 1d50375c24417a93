//! CreateAcls, DescribeAcls and DeleteAcls: the ACLs of the authorizer,
//! kept cluster-wide in the metadata store, with Kafka 4.x's checks and
//! answers (`AclApis`, `AclControlManager`, the request classes), each
//! compared with a Kafka 4.4 broker running `StandardAuthorizer`:
//!
//! - a code 0 (UNKNOWN) in a resource type, pattern type, operation or
//!   permission fails the request's parsing: the connection closes;
//! - the caller needs CLUSTER ALTER (create, delete) or CLUSTER DESCRIBE
//!   (describe), else CLUSTER_AUTHORIZATION_FAILED;
//! - without an authorizer: SECURITY_DISABLED;
//! - a creation with a filter-only value (resource type ANY, pattern MATCH
//!   or ANY, operation ANY, permission ANY) fails the whole request with
//!   UNKNOWN_SERVER_ERROR and creates nothing (Kafka cannot build the
//!   binding);
//! - other unknown codes, an empty name, a cluster not named
//!   `kafka-cluster`, a principal without `Type:` or an empty host refuse
//!   that creation with INVALID_REQUEST, the others are created;
//! - a delete filter with an unknown code is refused INVALID_REQUEST on
//!   its own; a describe filter with one matches nothing.

use floe_metadata::acls::{AclOperation, AclPermission, PatternType, ResourceType};
use floe_metadata::{AclBinding, AclBindingFilter};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::create_acls_response::AclCreationResult;
use kafka_protocol::messages::delete_acls_request::DeleteAclsFilter;
use kafka_protocol::messages::delete_acls_response::{
    DeleteAclsFilterResult, DeleteAclsMatchingAcl,
};
use kafka_protocol::messages::describe_acls_response::{AclDescription, DescribeAclsResource};
use kafka_protocol::messages::{
    CreateAclsRequest, CreateAclsResponse, DeleteAclsRequest, DeleteAclsResponse,
    DescribeAclsRequest, DescribeAclsResponse,
};
use kafka_protocol::protocol::StrBytes;
use tracing::warn;

use super::codec::CodecError;
use super::error_codes;
use super::session::Session;
use crate::authz::CLUSTER_RESOURCE;
use crate::context::AgentContext;
use crate::jobs::acls::refresh;

/// Kafka's message for a request without an authorizer (Create, Delete).
const NO_AUTHORIZER: &str = "No Authorizer is configured.";
/// Kafka's message for DescribeAcls without an authorizer.
const NO_AUTHORIZER_DESCRIBE: &str = "No Authorizer is configured on the broker";
/// The message of a caller without the cluster permission.
const NOT_AUTHORIZED: &str = "Cluster authorization failed.";

/// A code and message, as each result carries them.
type Refusal = (i16, Option<String>);

fn text(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

/// Closes the connection as Kafka does when a request does not parse: a
/// code 0 in one of the four enum fields.
fn unknown_elements(api: &str) -> CodecError {
    CodecError::Malformed {
        what: "request body",
        reason: format!("{api} contains UNKNOWN elements"),
    }
}

fn has_unknown_code(codes: [i8; 4]) -> bool {
    codes.contains(&0)
}

/// The refusal of every part of a request the caller may not make, or
/// that no authorizer serves; `None` when it goes ahead.
fn gate(
    ctx: &AgentContext,
    session: &Session,
    op: AclOperation,
    describe: bool,
) -> Option<Refusal> {
    if !ctx
        .authorizer
        .authorize(session, op, ResourceType::Cluster, CLUSTER_RESOURCE)
    {
        return Some((
            ResponseError::ClusterAuthorizationFailed.code(),
            Some(NOT_AUTHORIZED.into()),
        ));
    }
    if !ctx.authorizer.is_enabled() {
        let message = if describe {
            NO_AUTHORIZER_DESCRIBE
        } else {
            NO_AUTHORIZER
        };
        return Some((ResponseError::SecurityDisabled.code(), Some(message.into())));
    }
    None
}

/// One creation checked as Kafka checks it (`AclApis`, then
/// `AclControlManager.validateNewAcl`, then the principal and host).
fn check_creation(
    c: &kafka_protocol::messages::create_acls_request::AclCreation,
) -> Result<AclBinding, String> {
    let resource_type = ResourceType::from_code(c.resource_type);
    let name = c.resource_name.as_str();
    if resource_type == ResourceType::Cluster && name != CLUSTER_RESOURCE {
        return Err(format!(
            "The only valid name for the CLUSTER resource is {CLUSTER_RESOURCE}"
        ));
    }
    if name.is_empty() {
        return Err("Invalid empty resource name".into());
    }
    let pattern_type = PatternType::from_code(c.resource_pattern_type);
    let operation = AclOperation::from_code(c.operation);
    let permission = AclPermission::from_code(c.permission_type);
    if resource_type == ResourceType::Unknown {
        return Err("Invalid resourceType UNKNOWN".into());
    }
    if pattern_type == PatternType::Unknown {
        return Err("Invalid patternType UNKNOWN".into());
    }
    if operation == AclOperation::Unknown {
        return Err("Invalid operation UNKNOWN".into());
    }
    if permission == AclPermission::Unknown {
        return Err("Invalid permissionType UNKNOWN".into());
    }
    let principal = c.principal.as_str();
    if !principal.contains(':') {
        return Err(format!(
            "Could not parse principal from `{principal}` (no colon is present separating the \
             principal type from the principal name)"
        ));
    }
    if c.host.is_empty() {
        return Err("Host pattern cannot be null or empty".into());
    }
    Ok(AclBinding {
        resource_type,
        resource_name: name.to_string(),
        pattern_type,
        principal: principal.to_string(),
        host: c.host.to_string(),
        operation,
        permission,
    })
}

/// Answers CreateAcls: one result per creation, in order.
pub async fn create(
    ctx: &AgentContext,
    session: &Session,
    req: CreateAclsRequest,
) -> Result<CreateAclsResponse, CodecError> {
    let creations = &req.creations;
    if creations.iter().any(|c| {
        has_unknown_code([
            c.resource_type,
            c.resource_pattern_type,
            c.operation,
            c.permission_type,
        ])
    }) {
        return Err(unknown_elements("CreateAclsRequest"));
    }
    let all = |(code, message): Refusal| {
        let result = AclCreationResult::default()
            .with_error_code(code)
            .with_error_message(message.map(StrBytes::from_string));
        CreateAclsResponse::default().with_results(vec![result; creations.len()])
    };
    if let Some(refusal) = gate(ctx, session, AclOperation::Alter, false) {
        return Ok(all(refusal));
    }
    let filter_only = creations.iter().any(|c| {
        ResourceType::from_code(c.resource_type) == ResourceType::Any
            || matches!(
                PatternType::from_code(c.resource_pattern_type),
                PatternType::Any | PatternType::Match
            )
            || AclOperation::from_code(c.operation) == AclOperation::Any
            || AclPermission::from_code(c.permission_type) == AclPermission::Any
    });
    if filter_only {
        return Ok(all((ResponseError::UnknownServerError.code(), None)));
    }
    let checked: Vec<Result<AclBinding, String>> = creations.iter().map(check_creation).collect();
    let valid: Vec<AclBinding> = checked
        .iter()
        .filter_map(|c| c.as_ref().ok())
        .cloned()
        .collect();
    let stored = if valid.is_empty() {
        Ok(())
    } else {
        ctx.store.create_acls(&valid).await
    };
    if let Err(e) = &stored {
        warn!(error = %e, "cannot create ACLs");
    }
    if let Err(e) = refresh(&*ctx.store, &ctx.authorizer).await {
        warn!(error = %e, "cannot refresh the ACLs after a create");
    }
    let results = checked
        .into_iter()
        .map(|c| match (c, &stored) {
            (Err(message), _) => AclCreationResult::default()
                .with_error_code(ResponseError::InvalidRequest.code())
                .with_error_message(Some(StrBytes::from_string(message))),
            (Ok(_), Ok(())) => AclCreationResult::default(),
            (Ok(_), Err(e)) => AclCreationResult::default()
                .with_error_code(error_codes::for_metadata(e))
                .with_error_message(Some(StrBytes::from_string(e.to_string()))),
        })
        .collect();
    Ok(CreateAclsResponse::default().with_results(results))
}

/// A filter from its wire codes (unknown codes are `Unknown`, which
/// match nothing).
#[allow(clippy::too_many_arguments)]
fn filter(
    resource_type: i8,
    name: Option<&StrBytes>,
    pattern_type: i8,
    principal: Option<&StrBytes>,
    host: Option<&StrBytes>,
    operation: i8,
    permission: i8,
) -> AclBindingFilter {
    AclBindingFilter {
        resource_type: ResourceType::from_code(resource_type),
        resource_name: name.map(ToString::to_string),
        pattern_type: PatternType::from_code(pattern_type),
        principal: principal.map(ToString::to_string),
        host: host.map(ToString::to_string),
        operation: AclOperation::from_code(operation),
        permission: AclPermission::from_code(permission),
    }
}

/// Answers DescribeAcls: the bindings the filter matches, grouped by
/// resource pattern, in key order.
pub async fn describe(
    ctx: &AgentContext,
    session: &Session,
    req: DescribeAclsRequest,
) -> Result<DescribeAclsResponse, CodecError> {
    if has_unknown_code([
        req.resource_type_filter,
        req.pattern_type_filter,
        req.operation,
        req.permission_type,
    ]) {
        return Err(unknown_elements("DescribeAclsRequest"));
    }
    let refused = |(code, message): Refusal| {
        DescribeAclsResponse::default()
            .with_error_code(code)
            .with_error_message(message.map(StrBytes::from_string))
    };
    if let Some(refusal) = gate(ctx, session, AclOperation::Describe, true) {
        return Ok(refused(refusal));
    }
    let filter = filter(
        req.resource_type_filter,
        req.resource_name_filter.as_ref(),
        req.pattern_type_filter,
        req.principal_filter.as_ref(),
        req.host_filter.as_ref(),
        req.operation,
        req.permission_type,
    );
    let acls = match ctx.store.describe_acls(&filter).await {
        Ok(acls) => acls,
        Err(e) => {
            warn!(error = %e, "cannot describe ACLs");
            return Ok(refused((
                error_codes::for_metadata(&e),
                Some(e.to_string()),
            )));
        }
    };
    Ok(DescribeAclsResponse::default().with_resources(group_by_pattern(&acls)))
}

/// Bindings in key order, grouped by resource pattern (consecutive).
fn group_by_pattern(acls: &[AclBinding]) -> Vec<DescribeAclsResource> {
    let mut resources: Vec<DescribeAclsResource> = Vec::new();
    for acl in acls {
        let description = AclDescription::default()
            .with_principal(text(&acl.principal))
            .with_host(text(&acl.host))
            .with_operation(acl.operation.code())
            .with_permission_type(acl.permission.code());
        match resources.last_mut() {
            Some(last)
                if last.resource_type == acl.resource_type.code()
                    && last.pattern_type == acl.pattern_type.code()
                    && last.resource_name.as_str() == acl.resource_name =>
            {
                last.acls.push(description);
            }
            _ => resources.push(
                DescribeAclsResource::default()
                    .with_resource_type(acl.resource_type.code())
                    .with_resource_name(text(&acl.resource_name))
                    .with_pattern_type(acl.pattern_type.code())
                    .with_acls(vec![description]),
            ),
        }
    }
    resources
}

/// Kafka's `AclControlManager.validateFilter`.
fn check_filter(f: &DeleteAclsFilter) -> Result<AclBindingFilter, String> {
    let parsed = filter(
        f.resource_type_filter,
        f.resource_name_filter.as_ref(),
        f.pattern_type_filter,
        f.principal_filter.as_ref(),
        f.host_filter.as_ref(),
        f.operation,
        f.permission_type,
    );
    if parsed.resource_type == ResourceType::Unknown || parsed.pattern_type == PatternType::Unknown
    {
        return Err("Unknown patternFilter.".into());
    }
    if parsed.operation == AclOperation::Unknown || parsed.permission == AclPermission::Unknown {
        return Err("Unknown entryFilter.".into());
    }
    Ok(parsed)
}

fn matching(acl: &AclBinding) -> DeleteAclsMatchingAcl {
    DeleteAclsMatchingAcl::default()
        .with_error_message(None)
        .with_resource_type(acl.resource_type.code())
        .with_resource_name(text(&acl.resource_name))
        .with_pattern_type(acl.pattern_type.code())
        .with_principal(text(&acl.principal))
        .with_host(text(&acl.host))
        .with_operation(acl.operation.code())
        .with_permission_type(acl.permission.code())
}

/// Answers DeleteAcls: per filter, the bindings it matched (all deleted
/// in one transaction), or why the filter was refused.
pub async fn delete(
    ctx: &AgentContext,
    session: &Session,
    req: DeleteAclsRequest,
) -> Result<DeleteAclsResponse, CodecError> {
    if req.filters.iter().any(|f| {
        has_unknown_code([
            f.resource_type_filter,
            f.pattern_type_filter,
            f.operation,
            f.permission_type,
        ])
    }) {
        return Err(unknown_elements("DeleteAclsRequest"));
    }
    let refused = |(code, message): Refusal| {
        DeleteAclsFilterResult::default()
            .with_error_code(code)
            .with_error_message(message.map(StrBytes::from_string))
    };
    if let Some(refusal) = gate(ctx, session, AclOperation::Alter, false) {
        let results = vec![refused(refusal); req.filters.len()];
        return Ok(DeleteAclsResponse::default().with_filter_results(results));
    }
    let checked: Vec<Result<AclBindingFilter, String>> =
        req.filters.iter().map(check_filter).collect();
    let valid: Vec<AclBindingFilter> = checked
        .iter()
        .filter_map(|f| f.as_ref().ok())
        .cloned()
        .collect();
    let deleted = if valid.is_empty() {
        Ok(Vec::new())
    } else {
        ctx.store.delete_acls(&valid).await
    };
    if let Err(e) = &deleted {
        warn!(error = %e, "cannot delete ACLs");
    }
    if let Err(e) = refresh(&*ctx.store, &ctx.authorizer).await {
        warn!(error = %e, "cannot refresh the ACLs after a delete");
    }
    let mut per_valid = match &deleted {
        Ok(lists) => lists.iter(),
        Err(_) => [].iter(),
    };
    let results = checked
        .into_iter()
        .map(|f| match (f, &deleted) {
            (Err(message), _) => refused((ResponseError::InvalidRequest.code(), Some(message))),
            (Ok(_), Err(e)) => refused((error_codes::for_metadata(e), Some(e.to_string()))),
            (Ok(_), Ok(_)) => DeleteAclsFilterResult::default()
                .with_error_message(None)
                .with_matching_acls(
                    per_valid
                        .next()
                        .map(|acls| acls.iter().map(matching).collect())
                        .unwrap_or_default(),
                ),
        })
        .collect();
    Ok(DeleteAclsResponse::default().with_filter_results(results))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(rt: ResourceType, name: &str, pt: PatternType, principal: &str) -> AclBinding {
        AclBinding {
            resource_type: rt,
            resource_name: name.into(),
            pattern_type: pt,
            principal: principal.into(),
            host: "*".into(),
            operation: AclOperation::Read,
            permission: AclPermission::Allow,
        }
    }

    #[test]
    fn describe_groups_consecutive_bindings_of_one_pattern() {
        let acls = [
            binding(ResourceType::Topic, "t", PatternType::Literal, "User:a"),
            binding(ResourceType::Topic, "t", PatternType::Literal, "User:b"),
            binding(ResourceType::Topic, "t", PatternType::Prefixed, "User:a"),
            binding(ResourceType::Group, "t", PatternType::Literal, "User:a"),
        ];
        let resources = group_by_pattern(&acls);
        assert_eq!(resources.len(), 3);
        assert_eq!(resources[0].acls.len(), 2);
        assert_eq!(resources[1].pattern_type, PatternType::Prefixed.code());
        assert_eq!(resources[2].resource_type, ResourceType::Group.code());
    }
}
