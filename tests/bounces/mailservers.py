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
    pop3s_port: int = 0  # 0: no POP3S listener
    ca_file: str = ""  # the self-signed certificate POP3S presents (for SSL_CERT_FILE)

    def pop3s_url(self) -> str:
        return f"pop3s://{self.user}:{self.password}@{self.host}:{self.pop3s_port}"

    def url(self, folder: str = "INBOX") -> str:
        return f"imap://{self.user}:{self.password}@{self.host}:{self.port}/{folder}"


@contextmanager
def dovecot(*, pop3s: bool = False) -> Iterator[Imap]:
    """A running Dovecot with one user (alice / a password) and an empty INBOX; with
    `pop3s`, also POP3 over TLS with a self-signed certificate for 127.0.0.1."""
    user, group, uid, gid = mail_user()
    root = Path(tempfile.mkdtemp(prefix="newsletter-dovecot-"))
    root.chmod(0o755)
    port = free_port()
    pop3s_port = free_port() if pop3s else 0
    tls = ""
    if pop3s:
        self_signed(root / "cert.pem", root / "key.pem")
        tls = f"""
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
service pop3-login {{
  chroot =
  inet_listener pop3 {{
    port = 0
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {pop3s_port}
    ssl = yes
  }}
}}
"""
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir()
    (root / "passwd").write_text("alice:{PLAIN}imap-secret::::\n")
    (root / "dovecot.conf").write_text(
        f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap{" pop3" if pop3s else ""}
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
"""
        + tls
    )
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
        yield Imap("127.0.0.1", port, "alice", "imap-secret", pop3s_port, str(root / "cert.pem"))
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


POSTFIX = "/usr/sbin/postfix"
NO_RELAY = "error:5.7.1 this test server relays nothing off the machine"


@dataclass(frozen=True)
class Postfix:
    port: int
    root: Path
    local_domain: str
    bounce_domain: str

    @property
    def smtp_url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def maildir(self, name: str) -> Path:
        """The Maildir of a local mailbox ("alice"), or of the bounces ("bounces")."""
        if name == "bounces":
            return self.root / "mail" / "bounces"
        return self.root / "mail" / self.local_domain / name

    def log(self) -> str:
        path = self.root / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""


@contextmanager
def postfix(mailboxes: tuple[str, ...]) -> Iterator[Postfix]:
    """A private Postfix on 127.0.0.1 (its own config, queue and data directories).

    `mailboxes` are the local parts that exist at `list.test`; every other address there
    is accepted at RCPT and then bounced by virtual(8) ("unknown user"), so Postfix
    writes its own DSN to the envelope sender. `bounces@bounces.test` (and, through the
    `+` delimiter, every VERP address bounces+TOKEN@bounces.test) is a Maildir. Nothing
    is relayed off the machine: every non-local transport is an error.
    The master runs as root (Postfix's design) and drops to `postfix`; needs root.
    """
    root = Path(tempfile.mkdtemp(prefix="newsletter-postfix-"))
    root.chmod(0o755)
    port = free_port()
    _, _, uid, gid = mail_user()
    for sub in ("etc", "queue", "data", "mail"):
        (root / sub).mkdir()
    local, bounce = "list.test", "bounces.test"
    (root / "etc" / "vmailbox").write_text(
        "".join(f"{m}@{local} {local}/{m}/\n" for m in mailboxes) + f"bounces@{bounce} bounces/\n"
    )
    (root / "etc" / "main.cf").write_text(f"""
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.{local}
mydomain = {local}
myorigin = {local}
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
default_transport = {NO_RELAY}
relay_transport = {NO_RELAY}
local_transport = error:5.1.1 no local delivery
smtpd_relay_restrictions = permit_mynetworks, reject
# Accept unknown local users at RCPT, so the bounce is Postfix's own DSN.
smtpd_reject_unlisted_recipient = no
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
alias_maps =
alias_database =
virtual_mailbox_domains = {local}, {bounce}
virtual_mailbox_base = {root}/mail
virtual_mailbox_maps = texthash:{root}/etc/vmailbox
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
virtual_minimum_uid = 1
recipient_delimiter = +
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
biff = no
""")
    services = [
        f"127.0.0.1:{port} inet n - n - - smtpd",
        "pickup unix n - n 60 1 pickup",
        "cleanup unix n - n - 0 cleanup",
        "qmgr unix n - n 300 1 qmgr",
        "rewrite unix - - n - - trivial-rewrite",
        "bounce unix - - n - 0 bounce",
        "defer unix - - n - 0 bounce",
        "trace unix - - n - 0 bounce",
        "verify unix - - n - 1 verify",
        "flush unix n - n 1000? 0 flush",
        "proxymap unix - - n - - proxymap",
        "smtp unix - - n - - smtp",
        "relay unix - - n - - smtp",
        "showq unix n - n - - showq",
        "error unix - - n - - error",
        "retry unix - - n - - error",
        "discard unix - - n - - discard",
        "virtual unix - n n - - virtual",
        "anvil unix - - n - 1 anvil",
        "scache unix - - n - 1 scache",
        "postlog unix-dgram n - n - 1 postlogd",
    ]
    (root / "etc" / "master.cf").write_text("\n".join(services) + "\n")
    postfix_user = pwd.getpwnam("postfix")
    os.chown(root / "data", postfix_user.pw_uid, postfix_user.pw_gid)
    os.chown(root / "mail", uid, gid)
    conf = ["-c", str(root / "etc")]
    server = Postfix(port, root, local, bounce)
    try:
        started = subprocess.run(
            [POSTFIX, *conf, "start"], capture_output=True, text=True, check=False
        )
        if started.returncode != 0:
            raise RuntimeError(f"postfix did not start: {started.stderr}\n{server.log()}")
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"postfix is not listening\n{server.log()}") from None
                time.sleep(0.1)
        yield server
    finally:
        subprocess.run([POSTFIX, *conf, "stop"], capture_output=True, check=False)
        pid_file = root / "queue" / "pid" / "master.pid"
        for _ in range(100):
            if not pid_file.exists():
                break
            time.sleep(0.1)
        shutil.rmtree(root, ignore_errors=True)


def self_signed(cert_path: Path, key_path: Path) -> None:
    """A throwaway certificate for 127.0.0.1 (subjectAltName IP), valid for a day."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
