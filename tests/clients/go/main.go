// The client-matrix scenario for the Go clients: franz-go (kgo and kadm) and Sarama.
//
// Usage: clientmatrix franz|sarama BOOTSTRAP TOPIC; prints one JSON line per step.
// Keep the constants identical to tests/clients/python/scenario.py.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"
)

var codecs = []string{"none", "gzip", "snappy", "lz4", "zstd"}

const (
	perCodec         = 5
	total            = 25
	partitions       = 3
	morePartitions   = 5
	retention        = "86400000"
	alteredRetention = "7200000"
	deleteBefore     = 10
	findIndex        = 15
	stepTimeout      = 30 * time.Second
)

// record is one record as read back, for the exact comparison.
type record struct {
	partition int32
	offset    int64
	key       string
	value     string
	headers   [][2]string
	timestamp int64
}

func codecOf(i int) string { return codecs[i/perCodec] }

func key(i int) string   { return fmt.Sprintf("key-%d", i) }
func value(i int) string { return fmt.Sprintf("value-%s-%d", codecOf(i), i) }
func headers(i int) [][2]string {
	return [][2]string{{"codec", codecOf(i)}, {"index", strconv.Itoa(i)}}
}

// baseTimestamp is ten minutes ago in whole seconds; record i is stamped base + i s.
func baseTimestamp() int64 { return (time.Now().Unix() - 600) * 1000 }

// check returns the first difference of got (sorted by offset) from the expected
// records, or "".
func check(got []record, base int64) string {
	if len(got) != total {
		return fmt.Sprintf("read %d records, want %d", len(got), total)
	}
	for i, r := range got {
		want := record{0, int64(i), key(i), value(i), headers(i), base + int64(i)*1000}
		if fmt.Sprint(r) != fmt.Sprint(want) {
			return fmt.Sprintf("record %d: got %v, want %v", i, r, want)
		}
	}
	return ""
}

func report(step string, detail any, err error) {
	line := map[string]any{"step": step, "ok": err == nil, "detail": detail}
	if err != nil {
		line["detail"] = err.Error()
	}
	out, _ := json.Marshal(line)
	fmt.Println(string(out))
}

// waitFor polls done until it is true or the step times out.
func waitFor(what string, done func() bool) error {
	deadline := time.Now().Add(stepTimeout)
	for !done() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return nil
}

type step struct {
	name string
	run  func() (any, error)
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: clientmatrix franz|sarama BOOTSTRAP TOPIC")
		os.Exit(2)
	}
	var steps []step
	switch os.Args[1] {
	case "franz":
		steps = franzSteps(os.Args[2], os.Args[3])
	case "sarama":
		steps = saramaSteps(os.Args[2], os.Args[3])
	default:
		fmt.Fprintln(os.Stderr, "unknown client", os.Args[1])
		os.Exit(2)
	}
	for _, s := range steps {
		detail, err := s.run()
		report(s.name, detail, err)
	}
}
