"""An issue's stats live in newsletter.tracking.stats; this name stays for callers."""

from newsletter.tracking.stats import issue_stats

__all__ = ["issue_stats"]
