-- $1 topic id: the sequence number of the topic's next archive snapshot.
SELECT (COALESCE(MAX(sequence_number), 0) + 1)::bigint FROM archive_manifests WHERE topic_id = $1
