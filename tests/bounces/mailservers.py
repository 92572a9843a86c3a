"""Private Dovecot (IMAP) instances on loopback for the mailbox tests.

Each runs from a throwaway directory with its own config, as an unprivileged user
(`nobody` when the tests run as root), plaintext login allowed on 127.0.0.1 only.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DOVECOT = "/usr/sbin/dovecot"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mail_user() -> tuple[str, str, int, int]:
    """(user, group, uid, gid) the servers run as: ourselves, or nobody when root."""
    uid = os.getuid()
    entry = pwd.getpwnam("nobody") if uid == 0 else pwd.getpwuid(uid)
    return entry.pw_name, grp.getgrgid(entry.pw_gid).gr_name, entry.pw_uid, entry.pw_gid


def as_mail_user(argv: list[str]) -> list[str]:
    if os.getuid() != 0:
        return argv
    user, group, _, _ = mail_user()
    return ["setpriv", f"--reuid={user}", f"--regid={group}", "--clear-groups", *argv]


@dataclass(frozen=True)
class Imap:
    host: str
    port: int
    user: str
    password: str

    def url(self, folder: str = "INBOX") -> str:
        return f"imap://{self.user}:{self.password}@{self.host}:{self.port}/{folder}"


@contextmanager
def dovecot() -> Iterator[Imap]:
    """A running Dovecot with one user (alice / a password) and an empty INBOX."""
    user, group, uid, gid = mail_user()
    root = Path(tempfile.mkdtemp(prefix="newsletter-dovecot-"))
    root.chmod(0o755)
    port = free_port()
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir()
    (root / "passwd").write_text("alice:{PLAIN}imap-secret::::\n")
    (root / "dovecot.conf").write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service auth {{
  unix_listener auth-userdb {{
    mode = 0600
    user = {user}
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
""")
    if os.getuid() == 0:
        for path in [root, *root.rglob("*")]:
            os.chown(path, uid, gid)
    subprocess.run(as_mail_user([DOVECOT, "-c", str(root / "dovecot.conf")]), check=True)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError((root / "dovecot.log").read_text()) from None
                time.sleep(0.1)
        yield Imap("127.0.0.1", port, "alice", "imap-secret")
    finally:
        pid_file = root / "run" / "master.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, signal.SIGTERM)
            for _ in range(50):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
        shutil.rmtree(root, ignore_errors=True)
