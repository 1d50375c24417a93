"""The client-matrix scenario with aiokafka (asyncio, its own codec).

Usage: aiokafka_scenario.py BOOTSTRAP TOPIC; prints one JSON line per step.
aiokafka alters configs with the whole-set AlterConfigs (it has no incremental
call), which is what this program uses.
"""

import asyncio
import sys
import time
import traceback

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic, RecordsToDelete
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

import scenario as sc

BOOTSTRAP, TOPIC = sys.argv[1], sys.argv[2]
BASE = sc.base_timestamp()
TP0 = TopicPartition(TOPIC, 0)


async def wait_for(what, fn):
    deadline = time.time() + sc.STEP_TIMEOUT
    while True:
        value = await fn()
        if value:
            return value
        if time.time() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def main():
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()

    async def partition_count():
        for t in await admin.describe_topics([TOPIC]):
            if t.get("topic", t.get("name")) == TOPIC and t["error_code"] == 0:
                return len(t["partitions"])
        return 0

    async def create_topic():
        await admin.create_topics([NewTopic(TOPIC, sc.PARTITIONS, 1, topic_configs=sc.CREATE_CONFIGS)])
        return {"partitions": await wait_for("the topic", partition_count)}

    async def produce():
        offsets = []
        for c, codec in enumerate(sc.CODECS):
            p = AIOKafkaProducer(
                bootstrap_servers=BOOTSTRAP,
                compression_type=None if codec == "none" else codec,
                acks="all",
                linger_ms=50,
            )
            await p.start()
            try:
                futures = []
                for i in range(c * sc.PER_CODEC, (c + 1) * sc.PER_CODEC):
                    key, value, headers, ts = sc.expected(BASE)[i]
                    futures.append(
                        await p.send(TOPIC, value=value, key=key, headers=headers, partition=0, timestamp_ms=ts)
                    )
                for f in futures:
                    offsets.append((await f).offset)
            finally:
                await p.stop()
        if offsets != list(range(sc.TOTAL)):
            raise AssertionError(f"delivered at offsets {offsets}")
        return {"records": len(offsets), "codecs": sc.CODECS}

    def consumer(**extra):
        return AIOKafkaConsumer(
            bootstrap_servers=BOOTSTRAP, enable_auto_commit=False, auto_offset_reset="earliest", **extra
        )

    async def read(c, n):
        got = []

        async def poll():
            for records in (await c.getmany(timeout_ms=500)).values():
                for r in records:
                    got.append((r.offset, r.key, r.value, list(r.headers), r.timestamp))
            return len(got) >= n

        await wait_for(f"{n} records", poll)
        return got

    async def consume():
        c = consumer()
        await c.start()
        try:
            c.assign([TP0])
            await c.seek_to_beginning(TP0)
            got = await read(c, sc.TOTAL)
        finally:
            await c.stop()
        diff = sc.check_records(got, BASE)
        if diff:
            raise AssertionError(diff)
        return {"records": len(got)}

    async def group_consume():
        c = consumer(group_id=f"{TOPIC}-group")
        await c.start()
        try:
            c.subscribe([TOPIC])
            got = await read(c, sc.TOTAL)
            await c.commit()
            committed = await c.committed(TP0)
        finally:
            await c.stop()
        diff = sc.check_records(sorted(got), BASE)
        if diff:
            raise AssertionError(diff)
        return {"records": len(got), "committed": committed}

    async def topic_configs():
        out = {}
        for response in await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, TOPIC)]):
            for resource in response.resources:
                if resource[0] != 0:
                    raise RuntimeError(f"DescribeConfigs error {resource[0]}: {resource[1]}")
                for entry in resource[4]:
                    out[entry[0]] = entry[1]
        return out

    async def describe_configs():
        entries = await topic_configs()
        return {k: entries[k] for k in sorted(sc.CREATE_CONFIGS)}

    async def alter_configs():
        configs = dict(sc.CREATE_CONFIGS, **{"retention.ms": sc.ALTERED_RETENTION})
        for response in await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, TOPIC, configs=configs)]):
            for resource in response.resources:
                if resource[0] != 0:
                    raise RuntimeError(f"AlterConfigs error {resource[0]}: {resource[1]}")
        return {"retention.ms": (await topic_configs())["retention.ms"]}

    async def create_partitions():
        await admin.create_partitions({TOPIC: NewPartitions(sc.MORE_PARTITIONS)})

        async def grown():
            return await partition_count() == sc.MORE_PARTITIONS and sc.MORE_PARTITIONS

        return {"partitions": await wait_for("the new partitions", grown)}

    async def delete_records():
        await admin.delete_records({TP0: RecordsToDelete(sc.DELETE_BEFORE)})
        c = consumer()
        await c.start()
        try:
            low = (await c.beginning_offsets([TP0]))[TP0]
        finally:
            await c.stop()
        return {"low_watermark": low}

    async def list_offsets_by_time():
        c = consumer()
        await c.start()
        try:
            ts = sc.expected(BASE)[sc.FIND_INDEX][3]
            found = (await c.offsets_for_times({TP0: ts}))[TP0]
        finally:
            await c.stop()
        return {"offset": found.offset}

    async def delete_topic():
        await admin.delete_topics([TOPIC])

        async def gone():
            return TOPIC not in await admin.list_topics()

        await wait_for("the topic to go", gone)
        return {"deleted": True}

    for name, fn in [
        ("create_topic", create_topic),
        ("produce", produce),
        ("consume", consume),
        ("group_consume", group_consume),
        ("describe_configs", describe_configs),
        ("alter_configs", alter_configs),
        ("create_partitions", create_partitions),
        ("delete_records", delete_records),
        ("list_offsets_by_time", list_offsets_by_time),
        ("delete_topic", delete_topic),
    ]:
        try:
            sc.report(name, True, await asyncio.wait_for(fn(), sc.STEP_TIMEOUT * 2))
        except Exception as e:  # noqa: BLE001 - every failure is reported, not raised
            sc.report(name, False, f"{type(e).__name__}: {e}")
            traceback.print_exc(file=sys.stderr)
    await admin.close()


asyncio.run(main())
