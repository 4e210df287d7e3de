"""A real SMTP server for tests: aiosmtpd running in-process on 127.0.0.1.

``smtp_factory`` is a pytest fixture returning ``start(**controller_kwargs) -> SmtpServer``;
every server it started is stopped at teardown. The handler records each delivered message
(envelope sender, recipients, raw bytes, parsed message, login) and can be told to
misbehave for chosen recipients: answer RCPT or DATA with a given reply, drop the
connection during DATA, or stall before answering.

``tls_files`` (session scope) makes a throw-away CA and a server certificate for
``localhost`` / ``127.0.0.1`` with the ``cryptography`` package.

Import the fixtures into a test module with ``from smtp_server import smtp_factory, tls_files``
(the tests folder is on ``sys.path`` under pytest's default rootdir-based import mode).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

DROP = "DROP"
ACCEPT = "ACCEPT"
"""Take the message as usual (after the rule's delay)."""
ACCEPT_DROP = "ACCEPT_DROP"
"""Take the message (it counts as delivered) and then drop the connection without a reply."""


@dataclass
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    login: str | None

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.content, policy=email.policy.default)  # type: ignore[return-value]


@dataclass
class _Rule:
    reply: str          # an SMTP reply such as "421 try later", or DROP
    times: int | None   # how many more times to apply it (None: always)
    delay: float = 0.0  # seconds to stall before answering

    def take(self) -> bool:
        if self.times is None:
            return True
        if self.times <= 0:
            return False
        self.times -= 1
        return True


@dataclass
class RecordingHandler:
    """aiosmtpd handler that stores messages and applies failure rules per recipient."""

    messages: list[Received] = field(default_factory=list)
    rcpt_rules: dict[str, _Rule] = field(default_factory=dict)
    data_rules: dict[str, _Rule] = field(default_factory=dict)
    rcpt_seen: list[str] = field(default_factory=list)
    data_started: list[str] = field(default_factory=list)   # recipients whose DATA arrived

    def fail_rcpt(self, address: str, reply: str, times: int | None = 1) -> None:
        """Answer RCPT TO for ``address`` with ``reply`` (``times`` times; None: always)."""
        self.rcpt_rules[address.lower()] = _Rule(reply, times)

    def fail_data(self, address: str, reply: str, times: int | None = 1,
                  delay: float = 0.0) -> None:
        """For a message to ``address``, answer DATA with ``reply`` or ``DROP`` the
        connection, after ``delay`` seconds."""
        self.data_rules[address.lower()] = _Rule(reply, times, delay)

    def heal(self) -> None:
        """Forget all failure rules."""
        self.rcpt_rules.clear()
        self.data_rules.clear()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        self.rcpt_seen.append(address)
        rule = self.rcpt_rules.get(address.lower())
        if rule is not None and rule.take():
            return rule.reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_started.extend(envelope.rcpt_tos)
        login = session.auth_data if session.authenticated else None
        for rcpt in envelope.rcpt_tos:
            rule = self.data_rules.get(rcpt.lower())
            if rule is not None and rule.take():
                if rule.delay:
                    await asyncio.sleep(rule.delay)
                if rule.reply == ACCEPT:
                    break
                if rule.reply == ACCEPT_DROP:
                    self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                                  bytes(envelope.original_content or envelope.content),
                                                  login))
                    server.transport.close()
                    return "421 connection dropped"
                if rule.reply == DROP:
                    server.transport.close()
                    return "421 connection dropped"
                return rule.reply
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                      bytes(envelope.original_content or envelope.content),
                                      login))
        return "250 Message accepted"


def password_authenticator(users: dict[str, str]) -> Callable[..., AuthResult]:
    """An aiosmtpd authenticator accepting the given ``{login: password}`` pairs."""

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                     auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode()
        ok = users.get(login) == auth_data.password.decode()
        return AuthResult(success=ok, auth_data=login if ok else None, handled=False)

    return authenticate


@dataclass
class SmtpServer:
    """A running test server."""

    controller: Controller
    handler: RecordingHandler
    host: str
    port: int

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_factory() -> Iterator[Callable[..., SmtpServer]]:
    """Start aiosmtpd servers on demand; all are stopped when the test ends."""
    started: list[Controller] = []

    def start(handler: RecordingHandler | None = None, **kwargs: Any) -> SmtpServer:
        handler = handler or RecordingHandler()
        port = free_port()
        kwargs.setdefault("server_hostname", "localhost")
        controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        started.append(controller)
        return SmtpServer(controller, handler, "127.0.0.1", port)

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture
def smtp_server(smtp_factory: Callable[..., SmtpServer]) -> SmtpServer:
    """A plain SMTP server (no TLS, no AUTH)."""
    return smtp_factory()


@dataclass(frozen=True)
class TlsFiles:
    """A test CA and a server certificate for localhost / 127.0.0.1."""

    ca_cert: Path
    server_cert: Path
    server_key: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(self.server_cert), str(self.server_key))
        return ctx


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """Generate a CA and a server certificate signed by it (EC P-256, valid one day)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder = tmp_path_factory.mktemp("tls")
    now = dt.datetime.now(dt.timezone.utc)
    start, end = now - dt.timedelta(hours=1), now + dt.timedelta(days=1)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "xl_addin test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True,
            crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ca_ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=True, key_cert_sign=False,
            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    pem = serialization.Encoding.PEM
    files = TlsFiles(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    files.ca_cert.write_bytes(ca_cert.public_bytes(pem))
    files.server_cert.write_bytes(cert.public_bytes(pem))
    files.server_key.write_bytes(key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return files
