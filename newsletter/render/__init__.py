"""Rendering: Jinja2 -> MJML -> HTML (mjml-python, css-inline) and the text part.

Render once per content variant; the result carries placeholders that the mail
layer fills per recipient (`newsletter.mail.message`).
"""

from .branding import Branding, branding_from_settings
from .content import IssueContent, PostBlock, RenderedEmail
from .fragments import markdown_to_html
from .issue import render_issue
from .transactional import render_transactional

__all__ = [
    "Branding",
    "IssueContent",
    "PostBlock",
    "RenderedEmail",
    "branding_from_settings",
    "markdown_to_html",
    "render_issue",
    "render_transactional",
]
