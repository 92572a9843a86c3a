"""CSV import: header mapping, encodings, delimiters, line-numbered errors, merging, suppression."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from newsletter.models import Subscriber, SubscriberStatus, SuppressionReason
from newsletter.subscribers import is_suppressed, suppress
from newsletter.subscribers.erase import erase
from newsletter.subscribers.errors import InvalidInput
from newsletter.subscribers.importer import ImportFileError, import_csv

from .conftest import snapshot


def run(db_session, text: str | bytes, **kwargs):
    data = text.encode() if isinstance(text, str) else text
    return import_csv(db_session, io.BytesIO(data), **kwargs)


def by_email(db_session, email):
    db_session.expire_all()
    return db_session.scalar(select(Subscriber).where(Subscriber.email == email))


def test_import_maps_header_columns(app, db_session, categories, tasks):
    report = run(
        db_session,
        "Name,EMAIL,categories,created_at,status\n"
        "Ada,Ada@Example.org,AI|China,2023-04-05T06:07:08Z,\n"
        "Bob,bob@example.org,,2023-01-02,pending\n",
        confirmed=True,
    )
    assert report.errors == [] and (report.created, report.failed) == (2, 0)
    ada = by_email(db_session, "ada@example.org")
    assert ada.name == "Ada" and ada.status is SubscriberStatus.ACTIVE
    assert [c.name for c in ada.categories] == ["AI", "China"]
    assert ada.created_at.isoformat() == "2023-04-05T06:07:08+00:00"
    assert ada.source == "import"
    bob = by_email(db_session, "bob@example.org")
    assert bob.status is SubscriberStatus.PENDING  # the file says so, even with --confirmed
    assert tasks == [("subscribers.send_confirmations", ([bob.id],))]


def test_without_confirmed_rows_are_pending_and_get_a_confirmation(app, db_session, tasks):
    report = run(db_session, "email\na@example.org\nb@example.org\n")
    ids = sorted(s.id for s in db_session.scalars(select(Subscriber)))
    assert report.created == 2 and report.confirmations == 2
    assert {s.status for s in db_session.scalars(select(Subscriber))} == {SubscriberStatus.PENDING}
    assert tasks == [("subscribers.send_confirmations", (ids,))]


@pytest.mark.parametrize(
    "data",
    [
        "\ufeffemail;name\nada@example.org;Ada\n".encode(),  # BOM + semicolon (Excel)
        b"email,name\r\nada@example.org,Ada\r\n",
        b'"email","name"\n"ada@example.org","Ada"\n',
    ],
)
def test_encodings_and_delimiters(app, db_session, tasks, data):
    report = run(db_session, data, confirmed=True)
    assert (report.created, report.failed) == (1, 0)
    assert by_email(db_session, "ada@example.org").name == "Ada"


def test_utf8_names_survive(app, db_session, tasks):
    run(db_session, "email;name\nzoe@example.org;Zoë Ünal — 日本\n", confirmed=True)
    assert by_email(db_session, "zoe@example.org").name == "Zoë Ünal — 日本"


def test_bad_rows_are_reported_by_line_and_good_rows_imported(app, db_session, categories, tasks):
    report = run(
        db_session,
        "email,name,categories,created_at,status\n"
        "good@example.org,Good,,,\n"
        "not-an-email,X,,,\n"
        "x@example.org,X,Cooking,,\n"
        "y@example.org,Y,,yesterday,\n"
        "z@example.org,Z,,,sleeping\n"
        "w@example.org,too,many,fields,here,really\n"
        "\n"
        '"multi\nline@example.org",M,,,\n'
        "last@example.org,Last,,,\n",
        confirmed=True,
    )
    assert report.created == 2
    assert report.failed == 6
    assert report.errors[0].startswith("line 3: ")
    assert report.errors[1] == "line 4: unknown category 'Cooking'"
    assert report.errors[2].startswith("line 5: created_at is not an ISO 8601 date")
    assert report.errors[3].startswith("line 6: unknown status 'sleeping'")
    assert report.errors[4] == "line 7: expected 5 fields, found 6"
    assert report.errors[5].startswith("line 9: ")
    assert by_email(db_session, "good@example.org") is not None
    assert by_email(db_session, "last@example.org") is not None
    assert by_email(db_session, "x@example.org") is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "line 1: the file is empty"),
        (b"name,created_at\nAda,2020-01-01\n", "line 1: no 'email' column"),
        (b"email,email\na@example.org,b@example.org\n", "appears twice"),
        (b"email\nada@example.org\n\xff\xfe@example.org\n", "not UTF-8"),
        ("email\nada@example.org\n".encode("utf-16"), "not UTF-8"),
        (b'email\n"unterminated\n', "malformed CSV"),
    ],
)
def test_file_errors_reject_the_whole_file_and_change_nothing(
    app, db_session, tasks, data, message
):
    before = snapshot(db_session)
    with pytest.raises(ImportFileError, match=message):
        run(db_session, data, confirmed=True)
    assert snapshot(db_session) == before
    assert tasks == []


def test_unknown_category_option_changes_nothing(app, db_session, categories, tasks):
    before = snapshot(db_session)
    with pytest.raises(InvalidInput, match="unknown category"):
        run(db_session, "email\nada@example.org\n", categories=["Cooking"])
    assert snapshot(db_session) == before


def test_duplicates_merge_case_insensitively(app, db_session, categories, tasks):
    report = run(
        db_session,
        "email,name,categories\n"
        "Ada@example.org,,AI\n"
        "ada@EXAMPLE.org,Ada,China\n"
        "ADA@example.org,Other,\n",
        confirmed=True,
        categories=["AI: Large Language Models"],
    )
    assert (report.created, report.merged) == (1, 2)
    ada = by_email(db_session, "ada@example.org")
    assert ada.name == "Ada"
    assert [c.name for c in ada.categories] == ["AI", "AI: Large Language Models", "China"]


def test_duplicates_across_batches_and_existing_rows_merge(app, db_session, categories, tasks):
    run(db_session, "email,name\nada@example.org,\n", confirmed=False)
    rows = "".join(f"u{i}@example.org,U{i},\n" for i in range(7))
    report = run(
        db_session,
        "email,name,categories\n" + rows + "ADA@example.org,Ada,China\nu1@example.org,,AI\n",
        confirmed=True,
        batch_size=3,
    )
    assert report.created == 7 and report.updated == 2 and report.failed == 0
    ada = by_email(db_session, "ada@example.org")
    assert ada.name == "Ada" and ada.status is SubscriberStatus.ACTIVE
    assert [c.name for c in by_email(db_session, "u1@example.org").categories] == ["AI"]
    assert by_email(db_session, "u1@example.org").name == "U1"


def test_suppressed_addresses_are_never_reactivated(app, db_session, tasks):
    run(
        db_session,
        "email\ngone@example.org\nbounced@example.org\nerased@example.org\n",
        confirmed=True,
    )
    from newsletter.subscribers.service import unsubscribe

    unsubscribe(db_session, subscriber_id=by_email(db_session, "gone@example.org").id, via="page")
    suppress(db_session, email="bounced@example.org", reason=SuppressionReason.BOUNCED)
    erase(db_session, subscriber_id=by_email(db_session, "erased@example.org").id)
    tasks.clear()

    report = run(
        db_session,
        "email,status\ngone@example.org,active\nBOUNCED@example.org,\nerased@example.org,active\n",
        confirmed=True,
    )
    assert by_email(db_session, "gone@example.org").status is SubscriberStatus.UNSUBSCRIBED
    assert by_email(db_session, "bounced@example.org").status is SubscriberStatus.BOUNCED
    assert by_email(db_session, "erased@example.org") is None
    assert report.skipped == 1 and report.warnings == [
        "line 4: skipped: the address is on the suppression list"
    ]
    assert tasks == []


def test_status_column_can_hold_back_and_suppress(app, db_session, tasks):
    run(db_session, "email\nada@example.org\n", confirmed=True)
    report = run(
        db_session,
        "email,status\nada@example.org,unsubscribed\nnew@example.org,complained\n",
        confirmed=True,
    )
    assert (report.created, report.updated) == (1, 1)
    assert by_email(db_session, "ada@example.org").status is SubscriberStatus.UNSUBSCRIBED
    assert by_email(db_session, "new@example.org").status is SubscriberStatus.COMPLAINED
    assert is_suppressed(db_session, "ada@example.org")
    assert is_suppressed(db_session, "new@example.org")


def test_export_neutralization_is_undone_on_import(app, db_session, tasks):
    run(db_session, "email,name\n'-dash@example.org,'=SUM(A1)\n", confirmed=True)
    sub = by_email(db_session, "-dash@example.org")
    assert sub is not None and sub.name == "=SUM(A1)"
