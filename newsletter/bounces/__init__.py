"""Bounces and complaints: returned mail, provider webhooks, and what they change.

`classify.py` tells what one raw email is (bounce, auto-reply, complaint, not a
bounce), with no database; `webhooks/` verifies and normalises each provider's
requests into `events.ProviderEvent`; `record.py` stores each event once and
`policy.py` decides what it does to the subscriber.
"""
