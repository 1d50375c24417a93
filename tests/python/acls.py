"""confluent-kafka's ACL admin calls (CreateAcls, DescribeAcls, DeleteAcls)
against an agent with the ACL authorizer, as a super user.

usage: acls.py BOOTSTRAP PREFIX
  PREFIX  a unique prefix for the resource names this run uses
"""

from floe_common import args, check_eq, log


def main():
    bootstrap, prefix = args(2, __doc__)
    from confluent_kafka.admin import (AclBinding, AclBindingFilter, AclOperation,
                                       AclPermissionType, AdminClient, ResourcePatternType,
                                       ResourceType)

    admin = AdminClient({"bootstrap.servers": bootstrap})
    topic = f"{prefix}-orders"
    literal = AclBinding(ResourceType.TOPIC, topic, ResourcePatternType.LITERAL,
                         "User:alice", "*", AclOperation.READ, AclPermissionType.ALLOW)
    prefixed = AclBinding(ResourceType.TOPIC, prefix, ResourcePatternType.PREFIXED,
                          "User:bob", "*", AclOperation.WRITE, AclPermissionType.ALLOW)
    deny = AclBinding(ResourceType.GROUP, f"{prefix}-group", ResourcePatternType.LITERAL,
                      "User:*", "10.0.0.1", AclOperation.ALL, AclPermissionType.DENY)
    for binding, future in admin.create_acls([literal, prefixed, deny]).items():
        check_eq(future.result(timeout=30), None, f"create {binding}")

    def describe(filter_):
        return sorted(admin.describe_acls(filter_).result(timeout=30),
                      key=lambda b: (b.restype_int, b.name, b.resource_pattern_type_int,
                                     b.principal))

    # MATCH on the topic's name: its literal ACL and the prefix that covers it.
    matched = describe(AclBindingFilter(ResourceType.TOPIC, topic, ResourcePatternType.MATCH,
                                        None, None, AclOperation.ANY, AclPermissionType.ANY))
    check_eq(matched, sorted([literal, prefixed], key=lambda b: b.name), "MATCH on the topic")
    prefixes = describe(AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.PREFIXED,
                                         None, None, AclOperation.ANY, AclPermissionType.ANY))
    check_eq(prefixes, [prefixed], "prefixed ACLs")
    denies = describe(AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY,
                                       None, None, AclOperation.ANY, AclPermissionType.DENY))
    check_eq(denies, [deny], "deny ACLs")

    # Delete with two filters: per filter what it removed.
    by_alice = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, "User:alice",
                                None, AclOperation.ANY, AclPermissionType.ANY)
    on_topic = AclBindingFilter(ResourceType.TOPIC, topic, ResourcePatternType.MATCH, None,
                                None, AclOperation.ANY, AclPermissionType.ANY)
    results = admin.delete_acls([by_alice, on_topic])
    check_eq(results[by_alice].result(timeout=30), [literal], "deleted by the principal filter")
    check_eq(sorted(results[on_topic].result(timeout=30), key=lambda b: b.name),
             sorted([literal, prefixed], key=lambda b: b.name), "deleted by the MATCH filter")
    left = describe(AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None,
                                     None, AclOperation.ANY, AclPermissionType.ANY))
    check_eq(left, [deny], "what is left")
    everything = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None,
                                  AclOperation.ANY, AclPermissionType.ANY)
    check_eq(admin.delete_acls([everything])[everything].result(timeout=30), [deny],
             "the last one deleted")
    log("confluent-kafka ACL admin calls OK")


if __name__ == "__main__":
    main()
