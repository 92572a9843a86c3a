"""The composer's forms (Flask-WTF: each carries its CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from newsletter.compose.testsend import MAX_TEST_RECIPIENTS
from newsletter.posts.sources import FORMATS


class ImportForm(FlaskForm):
    file = FileField("File (RSS/Atom feed, WordPress export, Markdown or plain text)")
    url = URLField("…or a URL", validators=[Optional(), Length(max=2000)])
    content = TextAreaField("…or paste the text", validators=[Optional()])
    base_url = URLField(
        "Published at (for relative links; optional)", validators=[Optional(), Length(max=2000)]
    )
    format = SelectField(
        "Format",
        choices=[SelectChoice("", "Detect automatically"), *[SelectChoice(f, f) for f in FORMATS]],
        default="",
    )


class NewIssueForm(FlaskForm):
    subject = StringField("Subject", validators=[DataRequired(), Length(max=300)])
    source = RadioField(
        "Posts",
        choices=[
            SelectChoice("posts", "The posts I choose"),
            SelectChoice("since", "Everything since a date"),
        ],
        default="posts",
    )
    since = DateField("Since", validators=[Optional()])


class IssueForm(FlaskForm):
    subject = StringField("Subject", validators=[DataRequired(), Length(max=300)])
    preheader = StringField("Preheader (inbox preview text)", validators=[Length(max=300)])
    intro = TextAreaField("Intro (Markdown)", validators=[Length(max=100_000)])
    outro = TextAreaField("Outro (Markdown)", validators=[Length(max=100_000)])
    tracking = BooleanField("Track opens and clicks")


class TestSendForm(FlaskForm):
    emails = TextAreaField(
        f"Send a test to (up to {MAX_TEST_RECIPIENTS} addresses, one per line or comma-separated)",
        validators=[DataRequired(), Length(max=2000)],
    )


class ScheduleForm(FlaskForm):
    send_at = DateTimeLocalField("Send at", format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    # Filled by compose.js with the browser's offset; without it, the server's timezone applies.
    tz_offset = HiddenField()


class PostDateForm(FlaskForm):
    # Empty clears the date ("no date": never picked by "everything since a date").
    # In the server's timezone, as `--since` and "Everything since a date" are.
    published_at = DateTimeLocalField("Published", format="%Y-%m-%dT%H:%M", validators=[Optional()])


class ActionForm(FlaskForm):
    """Only a CSRF token: for one-button forms (cancel, back to draft)."""
