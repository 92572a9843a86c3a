"""Mail that goes out with no one at the keyboard: feeds, automations, digests, welcome-latest."""
