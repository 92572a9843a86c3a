"""Opens, clicks, events and aggregated stats."""
