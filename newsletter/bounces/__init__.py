"""Bounces and complaints: classify returned mail, read the bounce mailbox, webhooks."""
