package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func franzCodec(name string) kgo.CompressionCodec {
	switch name {
	case "gzip":
		return kgo.GzipCompression()
	case "snappy":
		return kgo.SnappyCompression()
	case "lz4":
		return kgo.Lz4Compression()
	case "zstd":
		return kgo.ZstdCompression()
	}
	return kgo.NoCompression()
}

func franzRead(cl *kgo.Client) ([]record, error) {
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	var got []record
	for len(got) < total {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read %d records: %w", len(got), err)
		}
		for _, e := range fetches.Errors() {
			return nil, e.Err
		}
		fetches.EachRecord(func(r *kgo.Record) {
			var hs [][2]string
			for _, h := range r.Headers {
				hs = append(hs, [2]string{h.Key, string(h.Value)})
			}
			got = append(got, record{r.Partition, r.Offset, string(r.Key), string(r.Value), hs, r.Timestamp.UnixMilli()})
		})
	}
	sort.Slice(got, func(i, j int) bool { return got[i].offset < got[j].offset })
	return got, nil
}

func franzSteps(bootstrap, topic string) []step {
	ctx := context.Background()
	base := baseTimestamp()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap))
	if err != nil {
		panic(err)
	}
	adm := kadm.NewClient(cl)
	partitionCount := func() int {
		tds, err := adm.ListTopics(ctx, topic)
		if err != nil || tds[topic].Err != nil {
			return 0
		}
		return len(tds[topic].Partitions)
	}
	topicConfigs := func() (map[string]string, error) {
		rcs, err := adm.DescribeTopicConfigs(ctx, topic)
		if err != nil {
			return nil, err
		}
		rc, err := rcs.On(topic, nil)
		if err != nil {
			return nil, err
		}
		if rc.Err != nil {
			return nil, rc.Err
		}
		out := map[string]string{}
		for _, c := range rc.Configs {
			out[c.Key] = c.MaybeValue()
		}
		return out, nil
	}
	return []step{
		{"create_topic", func() (any, error) {
			r, d := retention, "delete"
			resp, err := adm.CreateTopic(ctx, partitions, 1, map[string]*string{"retention.ms": &r, "cleanup.policy": &d}, topic)
			if err == nil {
				err = resp.Err
			}
			if err != nil {
				return nil, err
			}
			err = waitFor("the topic", func() bool { return partitionCount() == partitions })
			return map[string]int{"partitions": partitionCount()}, err
		}},
		{"produce", func() (any, error) {
			var offsets []int64
			for c, codec := range codecs {
				p, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ProducerBatchCompression(franzCodec(codec)),
					kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(50*time.Millisecond))
				if err != nil {
					return nil, err
				}
				var recs []*kgo.Record
				for i := c * perCodec; i < (c+1)*perCodec; i++ {
					var hs []kgo.RecordHeader
					for _, h := range headers(i) {
						hs = append(hs, kgo.RecordHeader{Key: h[0], Value: []byte(h[1])})
					}
					recs = append(recs, &kgo.Record{Topic: topic, Partition: 0, Key: []byte(key(i)), Value: []byte(value(i)),
						Headers: hs, Timestamp: time.UnixMilli(base + int64(i)*1000)})
				}
				res := p.ProduceSync(ctx, recs...)
				p.Close()
				if err := res.FirstErr(); err != nil {
					return nil, err
				}
				for _, r := range res {
					offsets = append(offsets, r.Record.Offset)
				}
			}
			for i, o := range offsets {
				if o != int64(i) {
					return nil, fmt.Errorf("delivered at offsets %v", offsets)
				}
			}
			return map[string]any{"records": len(offsets), "codecs": codecs}, nil
		}},
		{"consume", func() (any, error) {
			c, err := kgo.NewClient(kgo.SeedBrokers(bootstrap),
				kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
			if err != nil {
				return nil, err
			}
			defer c.Close()
			got, err := franzRead(c)
			if err != nil {
				return nil, err
			}
			if diff := check(got, base); diff != "" {
				return nil, fmt.Errorf("%s", diff)
			}
			return map[string]int{"records": len(got)}, nil
		}},
		{"group_consume", func() (any, error) {
			group := topic + "-group"
			c, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
				kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			if err != nil {
				return nil, err
			}
			got, err := franzRead(c)
			if err == nil {
				err = c.CommitUncommittedOffsets(ctx)
			}
			c.Close()
			if err != nil {
				return nil, err
			}
			if diff := check(got, base); diff != "" {
				return nil, fmt.Errorf("%s", diff)
			}
			offsets, err := adm.FetchOffsets(ctx, group)
			if err != nil {
				return nil, err
			}
			committed, ok := offsets.Lookup(topic, 0)
			if !ok {
				return nil, fmt.Errorf("no committed offset for partition 0")
			}
			return map[string]int64{"records": int64(len(got)), "committed": committed.At}, committed.Err
		}},
		{"describe_configs", func() (any, error) {
			configs, err := topicConfigs()
			if err != nil {
				return nil, err
			}
			return map[string]string{"cleanup.policy": configs["cleanup.policy"], "retention.ms": configs["retention.ms"]}, nil
		}},
		{"alter_configs", func() (any, error) {
			v := alteredRetention
			resps, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: &v}}, topic)
			if err != nil {
				return nil, err
			}
			for _, r := range resps {
				if r.Err != nil {
					return nil, r.Err
				}
			}
			configs, err := topicConfigs()
			if err != nil {
				return nil, err
			}
			return map[string]string{"retention.ms": configs["retention.ms"]}, nil
		}},
		{"create_partitions", func() (any, error) {
			resps, err := adm.UpdatePartitions(ctx, morePartitions, topic)
			if err != nil {
				return nil, err
			}
			for _, r := range resps {
				if r.Err != nil {
					return nil, r.Err
				}
			}
			err = waitFor("the new partitions", func() bool { return partitionCount() == morePartitions })
			return map[string]int{"partitions": partitionCount()}, err
		}},
		{"delete_records", func() (any, error) {
			var o kadm.Offsets
			o.Add(kadm.Offset{Topic: topic, Partition: 0, At: deleteBefore})
			resps, err := adm.DeleteRecords(ctx, o)
			if err != nil {
				return nil, err
			}
			if err := resps.Error(); err != nil {
				return nil, err
			}
			starts, err := adm.ListStartOffsets(ctx, topic)
			if err != nil {
				return nil, err
			}
			low, _ := starts.Lookup(topic, 0)
			return map[string]int64{"low_watermark": low.Offset}, low.Err
		}},
		{"list_offsets_by_time", func() (any, error) {
			found, err := adm.ListOffsetsAfterMilli(ctx, base+findIndex*1000, topic)
			if err != nil {
				return nil, err
			}
			o, _ := found.Lookup(topic, 0)
			return map[string]int64{"offset": o.Offset}, o.Err
		}},
		{"delete_topic", func() (any, error) {
			resps, err := adm.DeleteTopics(ctx, topic)
			if err != nil {
				return nil, err
			}
			if err := resps.Error(); err != nil {
				return nil, err
			}
			err = waitFor("the topic to go", func() bool {
				tds, err := adm.ListTopics(ctx)
				return err == nil && !tds.Has(topic)
			})
			return map[string]bool{"deleted": err == nil}, err
		}},
	}
}
