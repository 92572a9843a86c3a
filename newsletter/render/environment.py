"""The one Jinja environment for email templates: sandboxed, autoescaping, strict."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

import newsletter

TEMPLATE_DIR = Path(newsletter.__file__).parent.parent / "templates" / "email"


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    """Templates are ours, content is data; the sandbox still limits what a template can reach.

    `.mjml` templates autoescape (they are HTML); `.txt` templates do not, since the
    text part is shown verbatim and entities there would be noise.
    """
    return SandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(
            enabled_extensions=("mjml", "html"), disabled_extensions=("txt",), default=True
        ),
        undefined=StrictUndefined,  # a typo in a template fails the render, not the reader
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # compiled once per process; templates change with deploys
    )
