"""`newsletter issues ...`."""

from __future__ import annotations

import click

issues = click.Group("issues", help="Create, schedule and send issues.")
