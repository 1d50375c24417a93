//! The admin APIs beyond topic creation (CreatePartitions, DeleteRecords,
//! DescribeCluster, authorized operations), through confluent-kafka's and
//! kafka-python's admin clients (`tests/python/admin_apis.py`), and on two
//! agents sharing Postgres.

use floe_tests::{Agent, python, unique_topic};

fn scenario(name: &str, agent: &Agent) {
    let topic = unique_topic(&format!("admin-{name}"));
    python::run_script("admin_apis.py", &agent.bootstrap(), &[name, &topic])
        .unwrap_or_else(|e| panic!("admin_apis.py {name}: {e:#}"));
}

#[test]
fn confluent_create_partitions_then_produce_and_consume_the_new_one() {
    let agent = Agent::start().expect("start agent");
    scenario("partitions", &agent);
}

#[test]
fn confluent_delete_records_moves_the_log_start() {
    let agent = Agent::start().expect("start agent");
    scenario("records", &agent);
}

#[test]
fn confluent_describe_cluster_and_topics_with_authorized_operations() {
    let agent = Agent::start().expect("start agent");
    scenario("describe", &agent);
}

#[test]
fn kafka_python_admin_grows_trims_and_describes() {
    let agent = Agent::start().expect("start agent");
    scenario("kafka-python", &agent);
}
