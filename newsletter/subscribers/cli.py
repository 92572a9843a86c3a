"""`newsletter subscribers ...`."""

from __future__ import annotations

import click

subscribers = click.Group("subscribers", help="Import, export and manage subscribers.")
