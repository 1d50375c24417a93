-- What each batch of committed segment ?1 became, in commit order.
SELECT entry_index, batch_index, outcome, base_offset
FROM segment_outcomes
WHERE segment_id = ?1
ORDER BY entry_index, batch_index
