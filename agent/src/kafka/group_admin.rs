//! Group administration: ListGroups, DescribeGroups, DeleteGroups.
//!
//! As in Kafka, each agent lists and describes the groups it coordinates;
//! admin clients ask every broker and merge.

use std::future::Future;
use std::sync::Arc;

use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::{
    DeleteGroupsRequest, DeleteGroupsResponse, DescribeGroupsRequest, DescribeGroupsResponse,
    GroupId, ListGroupsRequest, ListGroupsResponse,
};
use kafka_protocol::protocol::StrBytes;

use super::authorize::{Access, GROUP_DENIED, Op};
use super::error_codes::for_group;
use crate::authz::{CLUSTER_RESOURCE, ResourceType};
use crate::context::AgentContext;
use crate::groups::{GroupError, GroupStatus};

/// Classic groups are the only type Floe has (no KIP-848 groups).
const CLASSIC: &str = "classic";

/// ListGroups, with the state filter (v4+) and type filter (v5+). As
/// Kafka: a requester with DESCRIBE on the cluster sees every group, any
/// other only the groups it may DESCRIBE.
pub async fn list(
    ctx: &Arc<AgentContext>,
    req: ListGroupsRequest,
    version: i16,
    access: &Access,
) -> impl Future<Output = ListGroupsResponse> + Send + 'static {
    let ctx = ctx.clone();
    let access = (!access.shows(Op::Describe, ResourceType::Cluster, CLUSTER_RESOURCE))
        .then(|| access.clone());
    async move {
        let groups = match ctx.groups.list().await {
            Ok(g) => g,
            Err(e) => return ListGroupsResponse::default().with_error_code(for_group(e)),
        };
        let wanted = |filter: &[StrBytes], value: &str| {
            filter.is_empty() || filter.iter().any(|f| f.eq_ignore_ascii_case(value))
        };
        let listed = groups
            .into_iter()
            .filter(|g| version < 4 || wanted(&req.states_filter, g.status.as_str()))
            .filter(|_| version < 5 || wanted(&req.types_filter, CLASSIC))
            .filter(|g| {
                access
                    .as_ref()
                    .is_none_or(|a| a.shows(Op::Describe, ResourceType::Group, &g.group_id))
            })
            .map(|g| {
                ListedGroup::default()
                    .with_group_id(GroupId(StrBytes::from_string(g.group_id)))
                    .with_protocol_type(StrBytes::from_string(g.protocol_type))
                    .with_group_state(StrBytes::from_static_str(g.status.as_str()))
                    .with_group_type(StrBytes::from_static_str(CLASSIC))
            })
            .collect();
        ListGroupsResponse::default().with_groups(listed)
    }
}

/// DescribeGroups. A group that does not exist is `Dead`, or
/// GROUP_ID_NOT_FOUND from v6 (KIP-1043). A group the requester may not
/// DESCRIBE is GROUP_AUTHORIZATION_FAILED; the authorized operations (v3+,
/// when asked) are the requester's.
pub async fn describe(
    ctx: &AgentContext,
    req: DescribeGroupsRequest,
    version: i16,
    access: &Access,
) -> impl Future<Output = DescribeGroupsResponse> + Send + 'static {
    let asked = version >= 3 && req.include_authorized_operations;
    let mut queued = Vec::with_capacity(req.groups.len());
    for id in req.groups {
        if !access.group(Op::Describe, &id) {
            queued.push((id, None, None));
            continue;
        }
        let operations = asked.then(|| access.group_operations(&id));
        let pending = ctx.groups.describe(id.as_str()).await;
        queued.push((id, Some(pending), operations));
    }
    async move {
        let mut groups = Vec::with_capacity(queued.len());
        for (id, pending, operations) in queued {
            let group = DescribedGroup::default().with_group_id(id.clone());
            let Some(pending) = pending else {
                groups.push(
                    group
                        .with_error_code(GROUP_DENIED)
                        .with_authorized_operations(i32::MIN),
                );
                continue;
            };
            let group = match pending.wait().await {
                Ok(d) if d.status == GroupStatus::Dead && version >= 6 => group
                    .with_error_code(for_group(GroupError::GroupIdNotFound))
                    .with_error_message(Some(StrBytes::from_string(format!(
                        "group {} not found",
                        id.as_str()
                    ))))
                    .with_group_state(StrBytes::from_static_str(GroupStatus::Dead.as_str())),
                Ok(d) => group
                    .with_authorized_operations(operations.unwrap_or(i32::MIN))
                    .with_group_state(StrBytes::from_static_str(d.status.as_str()))
                    .with_protocol_type(StrBytes::from_string(d.protocol_type))
                    .with_protocol_data(StrBytes::from_string(d.protocol))
                    .with_members(
                        d.members
                            .into_iter()
                            .map(|m| {
                                DescribedGroupMember::default()
                                    .with_member_id(StrBytes::from_string(m.member_id))
                                    .with_group_instance_id(
                                        m.group_instance_id
                                            .filter(|_| version >= 4)
                                            .map(StrBytes::from_string),
                                    )
                                    .with_client_id(StrBytes::from_string(m.client_id))
                                    .with_client_host(StrBytes::from_string(m.client_host))
                                    .with_member_metadata(m.metadata)
                                    .with_member_assignment(m.assignment)
                            })
                            .collect(),
                    ),
                Err(e) => group.with_error_code(for_group(e)),
            };
            groups.push(group);
        }
        DescribeGroupsResponse::default().with_groups(groups)
    }
}

/// DeleteGroups: only empty groups (NON_EMPTY_GROUP otherwise), with their
/// committed offsets. A group needs DELETE (else GROUP_AUTHORIZATION_FAILED).
pub async fn delete(
    ctx: &AgentContext,
    req: DeleteGroupsRequest,
    access: &Access,
) -> impl Future<Output = DeleteGroupsResponse> + Send + 'static {
    let mut queued = Vec::with_capacity(req.groups_names.len());
    for id in req.groups_names {
        if !access.group(Op::Delete, &id) {
            queued.push((id, None));
            continue;
        }
        let pending = ctx.groups.delete(id.as_str()).await;
        queued.push((id, Some(pending)));
    }
    async move {
        let mut results = Vec::with_capacity(queued.len());
        for (id, pending) in queued {
            let code = match pending {
                Some(pending) => pending.wait().await.err().map_or(0, for_group),
                None => GROUP_DENIED,
            };
            results.push(
                DeletableGroupResult::default()
                    .with_group_id(id)
                    .with_error_code(code),
            );
        }
        DeleteGroupsResponse::default().with_results(results)
    }
}
