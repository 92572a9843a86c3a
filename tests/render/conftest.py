"""Fixtures for rendering tests: the seed issue, built in code (no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.render import Branding, IssueContent, RenderedEmail, render_issue
from newsletter.render.sample import SAMPLE_BRANDING, sample_issue

SEED = Path(__file__).parent / "data" / "seed_posts.txt"


@pytest.fixture(scope="session")
def branding() -> Branding:
    return SAMPLE_BRANDING


@pytest.fixture(scope="session")
def seed_issue() -> IssueContent:
    return sample_issue(SEED.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def rendered_seed(seed_issue: IssueContent, branding: Branding) -> RenderedEmail:
    return render_issue(seed_issue, branding)
