"""Opens and clicks: signed tokens (tokens), links rewritten at render time (links),
who is a machine (machine), recording (record) and the issue stats (stats)."""
