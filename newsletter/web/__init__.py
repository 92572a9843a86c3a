"""Blueprints by audience: author/, admin/, public/, api/; shared pieces (auth, roles, errors,
health, textguard, dev) and the provider webhooks at this level."""
