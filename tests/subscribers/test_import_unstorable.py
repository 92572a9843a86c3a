"""CSV rows holding text no database can store are reported as `line N: reason`, not a 500.

Runs on SQLite and PostgreSQL; on PostgreSQL a NUL used to abort the whole import.
"""

from __future__ import annotations

import io

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from newsletter.cli.subscribers import subscribers as cli
from newsletter.models import Subscriber
from newsletter.subscribers.importer import import_csv
from tests.conftest import csrf_token_from

ROWS = (
    "email,name,categories\n"
    "ada@example.org,Ada,\n"
    "bob@example.org,B\x00b,\n"  # line 3: NUL in a name
    "cy@exa\x00mple.org,Cy,\n"  # line 4: NUL in an address
    "dee@example.org,Dee,\x00\n"  # line 5: NUL in the categories
    "eve@example.org,Eve,\n"
)


def emails(db_session) -> set[str]:
    db_session.expire_all()
    return set(db_session.scalars(select(Subscriber.email)))


def test_service_reports_each_line_and_imports_the_rest(app, db_session, tasks):
    report = import_csv(db_session, io.BytesIO(ROWS.encode()))
    assert [e.split(": ", 1)[0] for e in report.errors] == ["line 3", "line 4", "line 5"]
    assert "the name column contains U+0000 (NUL)" in report.errors[0]
    assert "the email column contains U+0000" in report.errors[1]
    assert "the categories column contains U+0000" in report.errors[2]
    assert emails(db_session) == {"ada@example.org", "eve@example.org"}


def test_cli_import_prints_line_numbers(app, db_session, tasks, tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(ROWS.encode())
    result = CliRunner().invoke(cli, ["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "line 3: the name column contains U+0000 (NUL)" in result.output
    assert "2 created" in result.output and "3 failed" in result.output
    assert emails(db_session) == {"ada@example.org", "eve@example.org"}


@pytest.mark.parametrize("encoded", [b"\xed\xa0\x80", b"\xff"], ids=["surrogate", "invalid"])
def test_a_surrogate_cannot_arrive_as_utf8_and_the_file_is_refused_cleanly(
    app, db_session, tasks, encoded
):
    from newsletter.subscribers.importer import ImportFileError

    with pytest.raises(ImportFileError, match="line 1002: the file is not UTF-8"):
        many = b"email,name\n" + b"ann@example.org,Ann\n" * 1000 + b"ada@example.org,A"
        import_csv(db_session, io.BytesIO(many + encoded + b"\n"))
    with pytest.raises(ImportFileError, match="line 1: the file is not UTF-8"):
        import_csv(db_session, io.BytesIO(b"email,na" + encoded + b"me\nada@example.org,A\n"))
    with pytest.raises(ImportFileError, match="line 2: the file is not UTF-8"):
        import_csv(db_session, io.BytesIO(b"email,name\nada@example.org,A" + encoded + b"\n"))
    assert emails(db_session) == set()


def test_admin_upload_reports_the_line(client, login, db_session, tasks):
    login("admin")
    token = csrf_token_from(client.get("/admin/subscribers/").get_data(as_text=True))
    response = client.post(
        "/admin/subscribers/import",
        data={"csrf_token": token, "file": (io.BytesIO(ROWS.encode()), "list.csv")},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "line 3: the name column contains U+0000 (NUL)" in html and "2 created" in html
