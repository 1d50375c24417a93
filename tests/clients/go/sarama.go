package main

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

func saramaCodec(name string) sarama.CompressionCodec {
	switch name {
	case "gzip":
		return sarama.CompressionGZIP
	case "snappy":
		return sarama.CompressionSnappy
	case "lz4":
		return sarama.CompressionLZ4
	case "zstd":
		return sarama.CompressionZSTD
	}
	return sarama.CompressionNone
}

// saramaConfig declares Kafka 4.0: Sarama picks its request versions from the
// configured version, not from ApiVersions, and defaults to 2.1.
func saramaConfig() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V4_0_0_0
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Enable = false
	cfg.Consumer.Return.Errors = true
	return cfg
}

func saramaRecord(m *sarama.ConsumerMessage) record {
	var hs [][2]string
	for _, h := range m.Headers {
		hs = append(hs, [2]string{string(h.Key), string(h.Value)})
	}
	return record{m.Partition, m.Offset, string(m.Key), string(m.Value), hs, m.Timestamp.UnixMilli()}
}

// groupHandler reads until it has every record, commits and cancels the session.
type groupHandler struct {
	mu     sync.Mutex
	got    []record
	cancel context.CancelFunc
}

func (h *groupHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *groupHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *groupHandler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		h.mu.Lock()
		h.got = append(h.got, saramaRecord(m))
		done := len(h.got) >= total
		h.mu.Unlock()
		sess.MarkMessage(m, "")
		if done {
			sess.Commit()
			h.cancel()
			return nil
		}
	}
	return nil
}

func saramaSteps(bootstrap, topic string) []step {
	base := baseTimestamp()
	brokers := []string{bootstrap}
	admin, err := sarama.NewClusterAdmin(brokers, saramaConfig())
	if err != nil {
		panic(err)
	}
	partitionCount := func() int {
		mds, err := admin.DescribeTopics([]string{topic})
		if err != nil || len(mds) != 1 || mds[0].Err != sarama.ErrNoError {
			return 0
		}
		return len(mds[0].Partitions)
	}
	topicConfigs := func() (map[string]string, error) {
		entries, err := admin.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic})
		if err != nil {
			return nil, err
		}
		out := map[string]string{}
		for _, e := range entries {
			out[e.Name] = e.Value
		}
		return out, nil
	}
	withClient := func(f func(sarama.Client) (any, error)) (any, error) {
		c, err := sarama.NewClient(brokers, saramaConfig())
		if err != nil {
			return nil, err
		}
		defer c.Close()
		return f(c)
	}
	return []step{
		{"create_topic", func() (any, error) {
			r, d := retention, "delete"
			err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1,
				ConfigEntries: map[string]*string{"retention.ms": &r, "cleanup.policy": &d}}, false)
			if err != nil {
				return nil, err
			}
			err = waitFor("the topic", func() bool { return partitionCount() == partitions })
			return map[string]int{"partitions": partitionCount()}, err
		}},
		{"produce", func() (any, error) {
			var offsets []int64
			for c, codec := range codecs {
				cfg := saramaConfig()
				cfg.Producer.Compression = saramaCodec(codec)
				p, err := sarama.NewSyncProducer(brokers, cfg)
				if err != nil {
					return nil, err
				}
				var msgs []*sarama.ProducerMessage
				for i := c * perCodec; i < (c+1)*perCodec; i++ {
					var hs []sarama.RecordHeader
					for _, h := range headers(i) {
						hs = append(hs, sarama.RecordHeader{Key: []byte(h[0]), Value: []byte(h[1])})
					}
					msgs = append(msgs, &sarama.ProducerMessage{Topic: topic, Partition: 0, Key: sarama.StringEncoder(key(i)),
						Value: sarama.StringEncoder(value(i)), Headers: hs, Timestamp: time.UnixMilli(base + int64(i)*1000)})
				}
				err = p.SendMessages(msgs)
				p.Close()
				if err != nil {
					return nil, err
				}
				for _, m := range msgs {
					offsets = append(offsets, m.Offset)
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
			c, err := sarama.NewConsumer(brokers, saramaConfig())
			if err != nil {
				return nil, err
			}
			defer c.Close()
			pc, err := c.ConsumePartition(topic, 0, sarama.OffsetOldest)
			if err != nil {
				return nil, err
			}
			defer pc.Close()
			var got []record
			timeout := time.After(stepTimeout)
			for len(got) < total {
				select {
				case m := <-pc.Messages():
					got = append(got, saramaRecord(m))
				case e := <-pc.Errors():
					return nil, e
				case <-timeout:
					return nil, fmt.Errorf("timed out with %d records read", len(got))
				}
			}
			if diff := check(got, base); diff != "" {
				return nil, fmt.Errorf("%s", diff)
			}
			return map[string]int{"records": len(got)}, nil
		}},
		{"group_consume", func() (any, error) {
			group := topic + "-group"
			g, err := sarama.NewConsumerGroup(brokers, group, saramaConfig())
			if err != nil {
				return nil, err
			}
			ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
			defer cancel()
			h := &groupHandler{cancel: cancel}
			for ctx.Err() == nil {
				if err := g.Consume(ctx, []string{topic}, h); err != nil {
					g.Close()
					return nil, err
				}
			}
			g.Close()
			got := h.got
			sort.Slice(got, func(i, j int) bool { return got[i].offset < got[j].offset })
			if diff := check(got, base); diff != "" {
				return nil, fmt.Errorf("%s", diff)
			}
			resp, err := admin.ListConsumerGroupOffsets(group, map[string][]int32{topic: {0}})
			if err != nil {
				return nil, err
			}
			block := resp.GetBlock(topic, 0)
			if block == nil {
				return nil, fmt.Errorf("no committed offset for partition 0")
			}
			return map[string]int64{"records": int64(len(got)), "committed": block.Offset}, nil
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
			err := admin.IncrementalAlterConfig(sarama.TopicResource, topic, map[string]sarama.IncrementalAlterConfigsEntry{
				"retention.ms": {Operation: sarama.IncrementalAlterConfigsOperationSet, Value: &v}}, false)
			if err != nil {
				return nil, err
			}
			configs, err := topicConfigs()
			if err != nil {
				return nil, err
			}
			return map[string]string{"retention.ms": configs["retention.ms"]}, nil
		}},
		{"create_partitions", func() (any, error) {
			if err := admin.CreatePartitions(topic, morePartitions, nil, false); err != nil {
				return nil, err
			}
			err := waitFor("the new partitions", func() bool { return partitionCount() == morePartitions })
			return map[string]int{"partitions": partitionCount()}, err
		}},
		{"delete_records", func() (any, error) {
			if err := admin.DeleteRecords(topic, map[int32]int64{0: deleteBefore}); err != nil {
				return nil, err
			}
			return withClient(func(c sarama.Client) (any, error) {
				low, err := c.GetOffset(topic, 0, sarama.OffsetOldest)
				return map[string]int64{"low_watermark": low}, err
			})
		}},
		{"list_offsets_by_time", func() (any, error) {
			return withClient(func(c sarama.Client) (any, error) {
				o, err := c.GetOffset(topic, 0, base+findIndex*1000)
				return map[string]int64{"offset": o}, err
			})
		}},
		{"delete_topic", func() (any, error) {
			if err := admin.DeleteTopic(topic); err != nil {
				return nil, err
			}
			// Not admin.ListTopics: it sends DescribeConfigs for every topic.
			err := waitFor("the topic to go", func() bool { return partitionCount() == 0 })
			return map[string]bool{"deleted": err == nil}, err
		}},
	}
}
