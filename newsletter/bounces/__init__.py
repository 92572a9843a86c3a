"""Bounces and complaints: provider webhooks, the bounce mailbox, and what they change.

`webhooks/` verifies and normalises each provider's requests into `events.ProviderEvent`;
`record.py` stores each event once and `policy.py` decides what it does to the subscriber.
"""
