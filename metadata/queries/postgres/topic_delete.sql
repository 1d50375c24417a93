DELETE FROM topics WHERE id = $1
