"""Work done with no one at the keyboard: watched feeds, automatic issues, digests at each
reader's pace, welcome with the latest issue."""
