"""Subscribers: signup with double opt-in, preferences, unsubscribe, suppression, import/export."""
