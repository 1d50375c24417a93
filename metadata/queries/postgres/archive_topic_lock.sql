-- $1 topic id: the topic, held (shared) against its deletion until the
-- archive commit ends.
SELECT partitions FROM topics WHERE id = $1 FOR SHARE
