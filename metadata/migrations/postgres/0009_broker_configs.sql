-- Dynamic broker configs, cluster-wide (Kafka's dynamic broker defaults):
-- set through AlterConfigs / IncrementalAlterConfigs on the BROKER resource
-- with an empty name, read by every agent. Names are Kafka's; which names
-- are dynamic is the agent's decision (agent/src/configs/broker.rs).
CREATE TABLE broker_configs (
    name   text NOT NULL PRIMARY KEY,
    value  text NOT NULL
);
