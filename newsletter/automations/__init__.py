"""Work done with no one at the keyboard: watched feeds, automatic issues, digests."""
