"""Send each regional workbook to its regional manager by email.

Typical use (the CLI wraps this)::

    settings = load_settings(None, host="smtp.example.cn", security="starttls",
                             user="director@example.cn", sender="director@example.cn")
    results = send_all(files, settings, log_path=Path("send-log.jsonl"), progress=bar_update)

How a batch runs:

1. **Validate everything first.** Every address (to, cc, sender), every attachment, the
   totals and the templates are checked for the whole batch; any problem raises one
   :class:`EmailError` listing all of them, and nothing is sent.
2. **Skip what was delivered.** The send log (JSON Lines, one line per outcome) is read; a
   region whose file has the same SHA-256 as a logged ``"sent"`` line is ``"skipped"``
   unless ``force=True``.
3. **Send, one region at a time, over one connection.** Transient failures (4xx replies,
   dropped or refused connections, timeouts) are retried with exponential backoff; a
   permanent 5xx refusal fails that region only and the batch goes on. Failures that would
   hit every region alike (authentication, TLS certificate, sender refused, no server to
   connect to) mark the rest of the batch failed without hammering the server. Each outcome
   is appended to the log at once, so a re-run after any interruption finishes the rest.

With ``dry_run=True`` each message is written to ``<outbox>/<file stem>.eml`` and no
connection is made at all.

The library prints nothing: progress goes through the ``progress`` callback.
"""
from __future__ import annotations

import base64
import email.policy
import hashlib
import json
import os
import re
import smtplib
import socket
import ssl
import time
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Literal, Mapping, Sequence

import jinja2

from xl_addin import __version__
from xl_addin.core.fmt import percent, to_decimal, wan_yi, yuan
from xl_addin.errors import XlAddinError
from xl_addin.paths import template_path
from xl_addin.storage import append_nofollow, locked, no_symlink, write_bytes

__all__ = [
    "EmailError",
    "SEND_LOG_NAME",
    "send_log_path",
    "RegionalFile",
    "SmtpSettings",
    "SendResult",
    "XLSX_MIME",
    "PASSWORD_ENV",
    "KEYRING_SERVICE",
    "default_config_path",
    "resolve_password",
    "load_settings",
    "validate_address",
    "period_label",
    "template_variables",
    "build_message",
    "read_log",
    "delivered",
    "send_all",
    "count_by_status",
]

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PASSWORD_ENV = "XL_ADDIN_SMTP_PASSWORD"
KEYRING_SERVICE = "xl-addin"
TOTAL_KEYS = ("target", "sales", "bonus_total", "reps")
DRY_RUN_SENDER = "noreply@xl-addin.invalid"

Security = Literal["none", "starttls", "ssl"]
Status = Literal["sent", "skipped", "dry_run", "failed", "uncertain", "held"]
Progress = Callable[[int, int, "RegionalFile"], None]

_DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}


class EmailError(XlAddinError):
    """Something about the email batch is wrong; the message says what and where.

    ``problems`` lists every problem found when a whole batch was validated at once.
    """

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        self.problems: list[str] = list(problems) or [message]
        super().__init__(message)

    def lines(self) -> list[str]:
        """The headline, then each problem when a whole batch had several."""
        if len(self.problems) > 1:
            return [str(self).splitlines()[0], *self.problems]
        return super().lines()


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class RegionalFile:
    """One regional workbook and who gets it.

    ``totals`` holds ``target``, ``sales`` and ``bonus_total`` (yuan, Decimal) and ``reps``
    (number of sales reps); they are shown in the email body. ``cc`` may be given as any
    sequence of addresses and is stored as a tuple; ``path`` may be a str.
    """

    region: str
    region_name: str
    manager: str
    email: str
    cc: tuple[str, ...]
    path: Path
    fiscal_year: int
    period: str
    totals: Mapping[str, Decimal]

    def __post_init__(self) -> None:
        cc = self.cc
        if cc is None:
            cc = ()
        elif isinstance(cc, str):
            cc = (cc,) if cc.strip() else ()
        object.__setattr__(self, "cc", tuple(cc))
        object.__setattr__(self, "path", Path(self.path))


@dataclass(kw_only=True)
class SmtpSettings:
    """How to reach the SMTP server.

    ``security``: ``"none"`` (plain SMTP), ``"starttls"`` (upgrade after EHLO) or ``"ssl"``
    (implicit TLS, usually port 465). The server certificate is verified against the system
    store, or against ``cafile``, or with the given ``ssl_context``; ``verify=False`` turns
    verification off (only for testing). ``retries`` is the number of extra attempts after
    the first for transient failures, waiting ``backoff * 2**n`` seconds before retry n+1.
    A password is never sent over an unencrypted connection unless
    ``allow_plaintext_auth`` is set. If ``user`` is set and ``password`` is not, the
    password comes from :func:`resolve_password` when sending.
    """

    host: str = "localhost"
    port: int = 25
    security: Security = "none"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str
    sender_name: str | None = None
    timeout: float = 30.0
    retries: int = 3
    backoff: float = 1.0
    cafile: Path | None = None
    verify: bool = True
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)
    allow_plaintext_auth: bool = False
    local_hostname: str | None = None

    def __post_init__(self) -> None:
        if self.security not in _DEFAULT_PORTS:
            raise EmailError(
                f"SMTP security must be one of none, starttls, ssl (got {self.security!r})")
        if isinstance(self.port, bool) or not isinstance(self.port, int) \
                or not 0 < self.port < 65536:
            raise EmailError(f"SMTP port must be a number from 1 to 65535 (got {self.port!r})")
        if not isinstance(self.retries, int) or self.retries < 0:
            raise EmailError(f"SMTP retries must be a whole number >= 0 (got {self.retries!r})")
        if self.backoff < 0:
            raise EmailError(f"SMTP backoff must be >= 0 seconds (got {self.backoff!r})")
        if self.timeout <= 0:
            raise EmailError(f"SMTP timeout must be > 0 seconds (got {self.timeout!r})")
        if self.cafile is not None:
            self.cafile = Path(self.cafile).expanduser()

    def tls_context(self) -> ssl.SSLContext:
        """The SSL context used for STARTTLS or implicit TLS."""
        if self.ssl_context is not None:
            return self.ssl_context
        ctx = ssl.create_default_context(cafile=str(self.cafile) if self.cafile else None)
        if not self.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx


@dataclass(frozen=True)
class SendResult:
    """The outcome for one region.

    ``status``: ``"sent"``, ``"skipped"`` (already delivered with the same file),
    ``"dry_run"`` (written to the outbox), ``"failed"`` (``error`` says why; nothing was
    delivered), ``"uncertain"`` (the server took the whole message but its reply was lost:
    it may have been delivered, so it is not sent again by itself) or ``"held"`` (uncertain
    in an earlier run, not resent without ``resend_uncertain``).
    ``time`` is ISO 8601 local time with offset. ``attempts`` counts SMTP attempts
    (0 when nothing was tried). ``eml`` is the outbox file of a dry run.
    """

    region: str
    status: Status
    message_id: str | None
    sha256: str
    time: str
    error: str | None = None
    attempts: int = 0
    eml: Path | None = None


# ----------------------------------------------------------------------- settings


def default_config_path() -> Path:
    """``$XDG_CONFIG_HOME/xl-addin/email.toml``, by default ``~/.config/xl-addin/email.toml``."""
    base = os.environ.get("XDG_CONFIG_HOME")
    root = Path(base) if base else Path.home() / ".config"
    return root / "xl-addin" / "email.toml"


def resolve_password(user: str | None) -> str | None:
    """The SMTP password: the ``XL_ADDIN_SMTP_PASSWORD`` environment variable if set,
    else the system keyring (service ``"xl-addin"``, username ``user``), else ``None``.

    Passwords are never taken from the command line or the config file.
    """
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    if not user:
        return None
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:  # pragma: no cover - keyring is a declared dependency
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, user)
    except KeyringError:
        return None


_SETTING_TYPES: dict[str, tuple[type, ...]] = {
    "host": (str,),
    "port": (int,),
    "security": (str,),
    "user": (str,),
    "sender": (str,),
    "sender_name": (str,),
    "timeout": (int, float),
    "retries": (int,),
    "backoff": (int, float),
    "cafile": (str, Path),
    "verify": (bool,),
    "allow_plaintext_auth": (bool,),
    "local_hostname": (str,),
}
_OVERRIDE_ONLY = {"password", "ssl_context"}


def load_settings(config_path: Path | None = None, **overrides: Any) -> SmtpSettings:
    """SMTP settings from a TOML file, overridden by explicit keyword arguments.

    The file (default :func:`default_config_path`; a missing default file is fine, a
    missing explicit one is an error) holds the keys of :class:`SmtpSettings` either at
    top level or in an ``[smtp]`` table::

        [smtp]
        host = "smtp.example.cn"
        security = "starttls"
        user = "director@example.cn"
        sender = "director@example.cn"
        sender_name = "销售总监"

    A ``password`` key in the file is refused: use the ``XL_ADDIN_SMTP_PASSWORD``
    environment variable or the keyring. Overrides whose value is ``None`` are ignored, so
    a CLI can pass its options straight through. When no port is given anywhere, it
    follows ``security`` (25, 587 or 465).
    """
    explicit = config_path is not None
    path = Path(config_path).expanduser() if explicit else default_config_path()
    values: dict[str, Any] = {}
    if path.is_file():
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise EmailError(f"cannot read email config {path}: {exc}") from exc
        table = data.pop("smtp", {})
        if not isinstance(table, dict):
            raise EmailError(f"{path}: [smtp] must be a table")
        values.update(data)
        values.update(table)
        if "password" in values:
            raise EmailError(
                f"{path}: do not store the SMTP password in the config file; set "
                f"{PASSWORD_ENV} or store it in the keyring (service {KEYRING_SERVICE!r})")
        for key, value in values.items():
            if key not in _SETTING_TYPES:
                raise EmailError(f"{path}: unknown setting {key!r}")
            if not isinstance(value, _SETTING_TYPES[key]) or (
                    isinstance(value, bool) and bool not in _SETTING_TYPES[key]):
                raise EmailError(f"{path}: setting {key!r} has the wrong type "
                                 f"({type(value).__name__})")
    elif explicit:
        raise EmailError(f"email config not found: {path}")

    for key, value in overrides.items():
        if key not in _SETTING_TYPES and key not in _OVERRIDE_ONLY:
            raise EmailError(f"unknown SMTP setting {key!r}")
        if value is None:
            continue
        if key in _SETTING_TYPES and (not isinstance(value, _SETTING_TYPES[key]) or (
                isinstance(value, bool) and bool not in _SETTING_TYPES[key])):
            raise EmailError(f"SMTP setting {key!r} has the wrong type "
                             f"({type(value).__name__})")
        values[key] = value

    if not values.get("sender"):
        raise EmailError(f"no sender address: set 'sender' in {path} or pass it explicitly")
    if "port" not in values:
        values["port"] = _DEFAULT_PORTS.get(values.get("security", "none"), 25)
    if "cafile" in values:
        values["cafile"] = Path(values["cafile"]).expanduser()
    return SmtpSettings(**values)


# ---------------------------------------------------------------------- addresses

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_RE = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN_RE = re.compile(rf"(?:{_LABEL}\.)+(?:[A-Za-z]{{2,63}}|xn--[A-Za-z0-9-]{{1,59}})")


def validate_address(addr: str, field: str, *, region: str | None = None) -> str:
    """Check one email address and return it normalised (trimmed, IDN domain in punycode).

    Refused with :class:`EmailError` naming ``region`` and ``field``: anything that is not
    text, line breaks or other control characters (header injection), an empty value,
    several addresses in one field (``,`` ``;`` or more than one ``@``), spaces, display
    names or angle brackets, and malformed local parts or domains.
    """
    where = f"region {region}, {field}" if region else field

    def bad(why: str) -> EmailError:
        return EmailError(f"{where}: {why}: {addr!r}")

    if not isinstance(addr, str):
        raise EmailError(f"{where}: the address must be text, not {type(addr).__name__}")
    if "\r" in addr or "\n" in addr:
        raise bad("line break in the address (header injection refused)")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in addr):
        raise bad("control character in the address")
    a = addr.strip()
    if not a:
        raise EmailError(f"{where}: the address is empty")
    if "," in a or ";" in a:
        raise bad("more than one address in one field (give each address separately)")
    n_at = a.count("@")
    if n_at > 1:
        raise bad("more than one '@' (only one address per field)")
    if n_at == 0:
        raise bad("not an email address (no '@')")
    if any(ch.isspace() for ch in a):
        raise bad("spaces are not allowed in an address")
    if any(ch in a for ch in "<>\"()[]\\"):
        raise bad("give the bare address (name@domain), without name, quotes or brackets")
    local, domain = a.split("@")
    if not local or not _LOCAL_RE.fullmatch(local) or len(local) > 64:
        raise bad("malformed part before '@'")
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise bad("malformed domain") from None
    if not _DOMAIN_RE.fullmatch(domain) or len(domain) > 253:
        raise bad("malformed domain")
    result = f"{local}@{domain}"
    if len(result) > 254:
        raise bad("address too long")
    return result


def _rf_addresses(rf: RegionalFile) -> tuple[str, list[str], list[str]]:
    """Validated (to, cc, problems) of one regional file; collects every problem."""
    problems: list[str] = []
    to = ""
    try:
        to = validate_address(rf.email, "email", region=rf.region)
    except EmailError as exc:
        problems.append(str(exc))
    cc: list[str] = []
    for i, addr in enumerate(rf.cc, 1):
        try:
            cc.append(validate_address(addr, f"cc[{i}]", region=rf.region))
        except EmailError as exc:
            problems.append(str(exc))
    return to, cc, problems


# ---------------------------------------------------------------------- templates

_PERIODS_ZH = {
    "Q1": "第一季度", "Q2": "第二季度", "Q3": "第三季度", "Q4": "第四季度",
    "H1": "上半年", "H2": "下半年", "FY": "全年", "Q0": "年度计划",
}
_PERIODS_EN = {"FY": "full year", "Q0": "plan"}


def period_label(period: str, lang: str = "zh") -> str:
    """A period code in words: ``"Q3"`` -> ``"第三季度"`` (zh) / ``"Q3"`` (en);
    ``"FY"`` -> ``"全年"`` / ``"full year"``. Unknown codes are returned unchanged."""
    code = period.strip().upper()
    table = _PERIODS_EN if lang.startswith("en") else _PERIODS_ZH
    return table.get(code, period)


def _money_lang(lang: str) -> str:
    return "en" if lang.startswith("en") else "zh"


def _totals(rf: RegionalFile) -> tuple[dict[str, Any], list[str]]:
    """Normalised totals (Decimal money, int reps) and any problems with them."""
    problems: list[str] = []
    out: dict[str, Any] = {}
    for key in TOTAL_KEYS:
        if key not in rf.totals:
            problems.append(f"region {rf.region}, totals: missing {key!r}")
            continue
        try:
            value = to_decimal(rf.totals[key])
        except (ValueError, TypeError):
            problems.append(f"region {rf.region}, totals[{key!r}]: not a number: "
                            f"{rf.totals[key]!r}")
            continue
        if key == "reps":
            if value != value.to_integral_value() or value < 0:
                problems.append(f"region {rf.region}, totals['reps']: not a whole number "
                                f"of reps: {rf.totals[key]!r}")
                continue
            out[key] = int(value)
        else:
            out[key] = value
    return out, problems


def template_variables(rf: RegionalFile, lang: str = "zh", *, sha256: str = "") -> dict[str, Any]:
    """The variables the email templates see.

    ``region``, ``region_name``, ``manager``, ``email``, ``cc`` (list), ``fiscal_year``,
    ``period`` (code) and ``period_label`` (words), ``filename``, ``sha256``;
    ``target``/``sales``/``bonus_total`` in short form (``2.8亿``, ``4,500万``; English
    ``CNY 280.0m``) and ``target_yuan``/``sales_yuan``/``bonus_total_yuan`` exact
    (``¥280,000,000.00``); ``reps`` (int); ``attainment`` (``93.5%``, ``—`` for a zero
    target); ``totals`` (the raw Decimal values) and ``lang``. Templates may also use the
    filters ``yuan``, ``wan_yi`` and ``percent``.
    """
    totals, problems = _totals(rf)
    if problems:
        raise EmailError("; ".join(problems), problems)
    ml = _money_lang(lang)
    target, sales, bonus = totals["target"], totals["sales"], totals["bonus_total"]
    return {
        "lang": lang,
        "region": rf.region,
        "region_name": rf.region_name,
        "manager": rf.manager,
        "email": rf.email,
        "cc": list(rf.cc),
        "fiscal_year": rf.fiscal_year,
        "period": rf.period,
        "period_label": period_label(rf.period, lang),
        "filename": rf.path.name,
        "sha256": sha256,
        "target": wan_yi(target, ml),
        "sales": wan_yi(sales, ml),
        "bonus_total": wan_yi(bonus, ml),
        "target_yuan": yuan(target),
        "sales_yuan": yuan(sales),
        "bonus_total_yuan": yuan(bonus),
        "reps": totals["reps"],
        "attainment": percent(sales / target if target else None),
        "totals": totals,
    }


@lru_cache(maxsize=8)
def _environment(folder: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2", "html"), default_for_string=False, default=False),
        keep_trailing_newline=True,
    )
    env.filters["yuan"] = yuan
    env.filters["wan_yi"] = wan_yi
    env.filters["percent"] = percent
    return env


def _templates_folder(templates_dir: Path | None) -> Path:
    return Path(templates_dir) if templates_dir is not None else template_path("email")


def _check_templates(folder: Path, lang: str) -> None:
    needed = [f"subject.{lang}.j2", f"body.{lang}.txt.j2"]
    missing = [n for n in needed if not (folder / n).is_file()]
    if missing:
        have = sorted({p.name.split(".")[1] for p in folder.glob("subject.*.j2")})
        raise EmailError(f"no email templates for language {lang!r} in {folder} "
                         f"(missing {', '.join(missing)}; available: {', '.join(have) or 'none'})")


def _render(folder: Path, name: str, variables: Mapping[str, Any]) -> str:
    try:
        return _environment(str(folder)).get_template(name).render(**variables)
    except jinja2.TemplateError as exc:
        raise EmailError(f"email template {folder / name}: {exc}") from exc


# ------------------------------------------------------------------------ message


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _id_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "", text)[:32] or "region"


def message_id(sha256: str, recipient: str, domain: str) -> str:
    """The Message-ID of the mail carrying the file with digest ``sha256`` to ``recipient``:
    the same file to the same person always has the same id, so a resend is recognisable
    (and mail systems that drop duplicates drop it)."""
    rcpt = hashlib.sha256(recipient.strip().lower().encode("utf-8")).hexdigest()
    return f"<xl.{sha256[:24]}.{rcpt[:12]}@{domain}>"


def build_message(rf: RegionalFile, sender: str, lang: str = "zh", *,
                  sender_name: str | None = None, templates_dir: Path | None = None,
                  attachment: bytes | None = None) -> EmailMessage:
    """The email for one region: subject and body from the ``lang`` templates, the workbook
    attached.

    Headers: From (``sender``, with ``sender_name`` as display name if given), To, Cc,
    Subject, Date, Message-ID, plus ``X-XL-Region`` and ``X-XL-SHA256`` (the attachment's
    hash). The body is ``text/plain`` (UTF-8), with a ``text/html``
    alternative when ``body.<lang>.html.j2`` exists. The attachment has the xlsx MIME type
    and its file name as an RFC 2231 UTF-8 parameter, so Chinese names survive.
    ``attachment`` may pass the file's bytes when the caller has read them already.
    Raises :class:`EmailError` for a bad address, a missing file, bad totals or templates.
    """
    sender_addr = validate_address(sender, "sender", region=rf.region)
    to, cc, problems = _rf_addresses(rf)
    if problems:
        raise EmailError("; ".join(problems), problems)
    if sender_name is not None and ("\r" in sender_name or "\n" in sender_name):
        raise EmailError(f"sender name contains a line break: {sender_name!r}")
    folder = _templates_folder(templates_dir)
    _check_templates(folder, lang)
    if attachment is None:
        try:
            attachment = rf.path.read_bytes()
        except OSError as exc:
            raise EmailError(f"region {rf.region}: cannot read {rf.path}: {exc}") from exc
    digest = _sha256(attachment)

    variables = template_variables(rf, lang, sha256=digest)
    subject = " ".join(_render(folder, f"subject.{lang}.j2", variables).split())
    if not subject:
        raise EmailError(f"email template subject.{lang}.j2 rendered an empty subject")
    variables["subject"] = subject
    body = _render(folder, f"body.{lang}.txt.j2", variables)
    html_name = f"body.{lang}.html.j2"
    html = _render(folder, html_name, variables) if (folder / html_name).is_file() else None

    msg = EmailMessage()
    msg["From"] = Address(display_name=sender_name or "", addr_spec=sender_addr)
    msg["To"] = to
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = message_id(digest, to, sender_addr.rsplit("@", 1)[1])
    msg["X-Mailer"] = f"xl_addin {__version__}"
    # Short header names keep each of these on one line (78 characters).
    msg["X-XL-Region"] = _id_part(rf.region)
    msg["X-XL-SHA256"] = digest
    msg.set_content(body, subtype="plain", charset="utf-8", cte="base64")
    if html is not None:
        msg.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    maintype, subtype = XLSX_MIME.split("/")
    # The file name goes into Content-Disposition as an RFC 2231 UTF-8 parameter. (A
    # Content-Type "name" copy is not added: the standard library then encodes the long
    # xlsx MIME type itself as an encoded-word, which breaks it.)
    msg.add_attachment(attachment, maintype=maintype, subtype=subtype, filename=rf.path.name)
    return msg


# ---------------------------------------------------------------------------- log


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def read_log(log_path: Path) -> list[dict[str, Any]]:
    """The records of a send log (JSON Lines): every outcome, and every ``sending`` line
    that no outcome of the same message follows (a run killed mid-send). Unreadable lines,
    such as one cut short by a crash, are ignored. A missing log is empty."""
    records = _records(log_path)
    out = []
    for i, rec in enumerate(records):
        if rec.get("result") == "sending":
            mid = rec.get("message_id")
            if any(r.get("message_id") == mid and r.get("result") != "sending"
                   for r in records[i + 1:]):
                continue
        out.append(rec)
    return out


def _records(log_path: Path) -> list[dict[str, Any]]:
    path = Path(log_path)
    if not path.is_file():
        return []
    records: list[dict[str, Any]] = []
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(rec, dict):
                records.append(rec)
    return records


#: The send log of a regional folder, one name for the CLI and the ribbon.
SEND_LOG_NAME = "send-log.jsonl"
#: What the ribbon called it before; its "sent" lines still count (read, never written).
LEGACY_SEND_LOG_NAMES = ("send_log.jsonl",)


def send_log_path(folder: Path) -> Path:
    """The send log of the regional folder ``folder``."""
    return Path(folder) / SEND_LOG_NAME


def delivered(log_path: Path) -> set[tuple[str, str]]:
    """The ``(region, sha256)`` pairs that the log records as sent (for a folder's
    :data:`SEND_LOG_NAME`, also those of the older ribbon log beside it)."""
    path = Path(log_path)
    paths = [path] + ([path.with_name(n) for n in LEGACY_SEND_LOG_NAMES]
                      if path.name == SEND_LOG_NAME else [])
    return {(str(r.get("region")), str(r.get("sha256")))
            for p in paths for r in read_log(p) if r.get("result") == "sent"}


def uncertain(log_path: Path) -> set[tuple[str, str]]:
    """The ``(region, sha256)`` pairs whose last attempt may or may not have been delivered:
    logged ``uncertain`` (the reply to DATA was lost), or ``sending`` with no outcome after
    it (the run was killed mid-send). Not resent unless asked (``resend_uncertain``)."""
    last: dict[tuple[str, str], str] = {}
    for r in read_log(log_path):
        if r.get("result") in ("sent", "failed", "uncertain", "sending"):
            last[(str(r.get("region")), str(r.get("sha256")))] = str(r.get("result"))
    return {k for k, v in last.items() if v in ("uncertain", "sending")}


class _Log:
    """Appends one JSON line per outcome, flushed to disk before the next region."""

    def __init__(self, path: Path) -> None:
        self.path = no_symlink(Path(path))   # never append through a planted symlink
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # A crash may have left a line without its newline: start on a fresh line.
        if self.path.is_file() and self.path.stat().st_size:
            with self.path.open("rb") as fh:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    with os.fdopen(append_nofollow(self.path), "ab") as out:
                        out.write(b"\n")

    def write(self, record: Mapping[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, sort_keys=False) + "\n"
        with os.fdopen(append_nofollow(self.path), "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())


# ---------------------------------------------------------------------- sending


@dataclass
class _Failure:
    text: str
    transient: bool
    whole_batch: bool = False   # every later region would fail the same way


class _ConnectFailed(Exception):
    """Wraps an error raised while connecting, greeting, upgrading to TLS or logging in."""

    def __init__(self, cause: BaseException) -> None:
        self.cause = cause
        super().__init__(str(cause))


def _reply_text(resp: bytes | str) -> str:
    if isinstance(resp, bytes):
        return resp.decode("utf-8", "replace")
    return str(resp)


def _classify(exc: BaseException) -> _Failure:
    """Whether an SMTP or network error is worth retrying, and whether it dooms the batch."""
    connecting = isinstance(exc, _ConnectFailed)
    if connecting:
        exc = exc.cause  # type: ignore[union-attr]
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return _Failure(f"authentication failed: {exc.smtp_code} {_reply_text(exc.smtp_error)}",
                        transient=400 <= exc.smtp_code < 500, whole_batch=True)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        parts = [f"{rcpt} ({code} {_reply_text(resp)})"
                 for rcpt, (code, resp) in exc.recipients.items()]
        transient = bool(exc.recipients) and all(
            400 <= code < 500 for code, _ in exc.recipients.values())
        return _Failure("recipient refused: " + "; ".join(parts), transient=transient)
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        text = f"{code} {_reply_text(exc.smtp_error)}"
        if isinstance(exc, smtplib.SMTPSenderRefused):
            text = f"sender {exc.sender} refused: {text}"
        elif isinstance(exc, smtplib.SMTPDataError):
            text = f"message refused: {text}"
        elif isinstance(exc, smtplib.SMTPConnectError):
            text = f"server refused the connection: {text}"
        transient = code < 0 or 400 <= code < 500
        whole = not transient and (connecting or isinstance(exc, smtplib.SMTPSenderRefused))
        return _Failure(text, transient=transient, whole_batch=whole)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return _Failure(f"server disconnected: {exc}", transient=True)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return _Failure(f"server does not support a required feature: {exc}",
                        transient=False, whole_batch=True)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _Failure(f"TLS certificate not trusted: {exc.verify_message or exc}",
                        transient=False, whole_batch=True)
    if isinstance(exc, ssl.SSLError):
        return _Failure(f"TLS error: {exc}", transient=False, whole_batch=True)
    if isinstance(exc, EmailError):
        return _Failure(str(exc), transient=False, whole_batch=True)
    if isinstance(exc, socket.gaierror):
        return _Failure(f"cannot resolve the SMTP host: {exc}",
                        transient=exc.errno == socket.EAI_AGAIN, whole_batch=True)
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return _Failure(f"timed out: {exc or 'no answer from the server'}", transient=True)
    if isinstance(exc, OSError):  # connection refused / reset / aborted, broken pipe, ...
        name = type(exc).__name__
        return _Failure(f"network error ({name}): {exc}", transient=True)
    if isinstance(exc, smtplib.SMTPException):
        return _Failure(f"SMTP error: {exc}", transient=False)
    return _Failure(f"{type(exc).__name__}: {exc}", transient=False)


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """AUTH with smtplib's choice of mechanism; for a non-ASCII user name or password,
    which smtplib cannot encode, AUTH PLAIN with UTF-8 as RFC 4616 specifies."""
    if user.isascii() and password.isascii():
        smtp.login(user, password)
        return
    mechanisms = smtp.esmtp_features.get("auth", "").upper().split()
    if "PLAIN" not in mechanisms:
        raise EmailError("the SMTP user name or password has non-ASCII characters and the "
                         "server does not offer AUTH PLAIN")
    token = base64.b64encode(b"\0" + user.encode("utf-8") + b"\0" + password.encode("utf-8"))
    code, resp = smtp.docmd("AUTH", "PLAIN " + token.decode("ascii"))
    if code not in (235, 503):
        raise smtplib.SMTPAuthenticationError(code, resp)


class _Uncertain(Exception):
    """The whole message went to the server but its reply never came back."""

    def __init__(self, cause: BaseException) -> None:
        self.cause = cause
        super().__init__(str(cause))


class _TracksData:
    """Knows whether the end of a message's DATA (CRLF . CRLF) has gone to the server:
    after that, a lost reply means the message may have been delivered."""

    data_sent = False
    _in_data = False

    def data(self, msg):  # type: ignore[no-untyped-def]
        self.data_sent, self._in_data = False, True
        try:
            return super().data(msg)  # type: ignore[misc]
        finally:
            self._in_data = False

    def send(self, s):  # type: ignore[no-untyped-def]
        super().send(s)  # type: ignore[misc]
        if self._in_data and isinstance(s, (bytes, bytearray)) and s.endswith(b"\r\n.\r\n"):
            self.data_sent = True


class _SMTP(_TracksData, smtplib.SMTP):
    pass


class _SMTP_SSL(_TracksData, smtplib.SMTP_SSL):
    pass


class _Connection:
    """One SMTP session, opened on first use and re-opened after a failure."""

    def __init__(self, settings: SmtpSettings, password: str | None) -> None:
        self.settings = settings
        self.password = password
        self.smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        ctx = s.tls_context() if s.security != "none" else None
        if s.security == "ssl":
            smtp: smtplib.SMTP = _SMTP_SSL(
                s.host, s.port, s.local_hostname, timeout=s.timeout, context=ctx)
        else:
            smtp = _SMTP(s.host, s.port, s.local_hostname, timeout=s.timeout)
        try:
            smtp.ehlo()
            if s.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise EmailError(f"{s.host}:{s.port} does not offer STARTTLS")
                smtp.starttls(context=ctx)
                smtp.ehlo()
            if s.user:
                _login(smtp, s.user, self.password or "")
        except BaseException:
            self._close_quietly(smtp)
            raise
        return smtp

    def send(self, msg: EmailMessage, sender: str, rcpts: Sequence[str]) -> dict[str, Any]:
        if self.smtp is None:
            try:
                self.smtp = self._open()
            except (smtplib.SMTPException, OSError, EmailError) as exc:
                raise _ConnectFailed(exc) from exc
        self.smtp.data_sent = False  # type: ignore[attr-defined]
        try:
            return self.smtp.send_message(msg, from_addr=sender, to_addrs=list(rcpts))
        except smtplib.SMTPResponseException:
            raise            # the server answered: what it said is what happened
        except OSError as exc:   # disconnected, timed out, reset: no answer came
            if self.data_sent():
                raise _Uncertain(exc) from exc
            raise

    def data_sent(self) -> bool:
        """Whether the last message's DATA reached its end on the server."""
        return bool(getattr(self.smtp, "data_sent", False))

    @staticmethod
    def _close_quietly(smtp: smtplib.SMTP) -> None:
        try:
            smtp.close()
        except Exception:  # closing a broken socket
            pass

    def reset(self) -> None:
        """Drop the session; the next send connects again."""
        if self.smtp is not None:
            self.smtp.data_sent = False  # type: ignore[attr-defined]
            self._close_quietly(self.smtp)
            self.smtp = None

    def close(self) -> None:
        """End the session politely (QUIT), ignoring a server that is already gone."""
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except Exception:
                pass
            self._close_quietly(self.smtp)
            self.smtp = None


@dataclass
class _Prepared:
    rf: RegionalFile
    msg: EmailMessage
    to: str
    cc: list[str]
    sha256: str


def _prepare(files: Sequence[RegionalFile], sender: str, sender_name: str | None,
             lang: str) -> list[_Prepared]:
    """Validate the whole batch and build every message; raise one EmailError listing all
    problems if anything is wrong."""
    problems: list[str] = []
    try:
        sender = validate_address(sender, "sender")
    except EmailError as exc:
        problems.append(str(exc))
    seen: set[str] = set()
    for rf in files:
        if rf.region in seen:
            problems.append(f"region {rf.region}: appears more than once in the batch")
        seen.add(rf.region)
        _, _, addr_problems = _rf_addresses(rf)
        problems.extend(addr_problems)
        _, total_problems = _totals(rf)
        problems.extend(total_problems)
        if not rf.path.is_file():
            problems.append(f"region {rf.region}: attachment not found: {rf.path}")
    if problems:
        raise _batch_error(problems)

    prepared: list[_Prepared] = []
    for rf in files:
        try:
            data = rf.path.read_bytes()
            msg = build_message(rf, sender, lang, sender_name=sender_name, attachment=data)
        except OSError as exc:
            problems.append(f"region {rf.region}: cannot read {rf.path}: {exc}")
            continue
        except EmailError as exc:
            problems.extend(exc.problems)
            continue
        to, cc, _ = _rf_addresses(rf)
        prepared.append(_Prepared(rf, msg, to, cc, _sha256(data)))
    if problems:
        raise _batch_error(problems)
    return prepared


def _batch_error(problems: list[str]) -> EmailError:
    problems = list(dict.fromkeys(problems))  # one template problem is hit by every file
    n = len(problems)
    head = f"{n} problem{'s' if n != 1 else ''} in the email batch; nothing was sent"
    return EmailError(head + ":\n" + "\n".join(f"  - {p}" for p in problems), problems)


def _recipients(to: str, cc: Sequence[str]) -> list[str]:
    out: list[str] = []
    for a in [to, *cc]:
        if a.lower() not in {x.lower() for x in out}:
            out.append(a)
    return out


def _write_eml(outbox: Path, p: _Prepared) -> Path:
    outbox.mkdir(parents=True, exist_ok=True)
    target = outbox / f"{p.rf.path.stem}.eml"
    write_bytes(target, p.msg.as_bytes(policy=email.policy.SMTP), follow_symlinks=False)
    return target


def send_all(files: Sequence[RegionalFile], settings: SmtpSettings | None, *,
             log_path: Path, dry_run: bool = False, outbox: Path | None = None,
             force: bool = False, resend_uncertain: bool = False, lang: str = "zh",
             progress: Progress | None = None) -> list[SendResult]:
    """Send every regional file to its manager; return one :class:`SendResult` per file,
    in order.

    The whole batch is validated first (addresses, attachments, totals, templates, the
    password when ``settings.user`` is set); any problem raises :class:`EmailError` and
    nothing is sent. Files already delivered (same region and same SHA-256 in the send log
    at ``log_path``) are skipped unless ``force``. With ``dry_run`` the messages go to
    ``<outbox>/<file stem>.eml`` and no connection is made. ``settings=None`` means the
    default config file (:func:`load_settings`); a dry run without any settings uses the
    placeholder sender ``noreply@xl-addin.invalid``.
    ``progress(done, total, regional_file)`` is called after each file.

    Each outcome is appended to the log as one JSON line::

        {"time": "2026-10-08T09:30:12+08:00", "region": "EAST", "region_name": "华东",
         "file": "2026_Q3_EAST_华东.xlsx", "sha256": "…", "message_id": "<…@example.cn>",
         "result": "sent", "attempts": 1, "to": ["…"], "cc": ["…"], "error": null}

    ``result`` is ``"sent"``, ``"failed"``, ``"uncertain"`` or ``"dry_run"`` (skipped and
    held files are not logged); a ``"sent"`` line may carry ``"refused"`` when only a cc
    address was refused, and a ``"dry_run"`` line carries ``"eml"``. Before each message
    goes out a ``"sending"`` line is written, so a run killed mid-send leaves the message
    as uncertain, never as unsent; Ctrl-C during a send logs what is known (``failed``
    before the message was complete, ``uncertain`` after) and stops the batch.

    A message whose DATA went through but whose reply was lost is ``"uncertain"``: it is
    neither retried nor sent by a later run unless ``resend_uncertain`` (or ``force``).
    Only one run at a time works in the log's folder (:func:`xl_addin.storage.locked`).
    """
    with locked(Path(log_path).parent):
        return _send_all(files, settings, log_path=log_path, dry_run=dry_run, outbox=outbox,
                         force=force, resend_uncertain=resend_uncertain, lang=lang,
                         progress=progress)


def _send_all(files: Sequence[RegionalFile], settings: SmtpSettings | None, *,
              log_path: Path, dry_run: bool, outbox: Path | None, force: bool,
              resend_uncertain: bool, lang: str,
              progress: Progress | None) -> list[SendResult]:
    files = list(files)
    if dry_run and outbox is None:
        raise EmailError("a dry run needs an outbox folder for the .eml files")
    if settings is None:
        try:
            settings = load_settings(None)
        except EmailError:
            if not dry_run:
                raise
    sender = settings.sender if settings is not None else DRY_RUN_SENDER
    sender_name = settings.sender_name if settings is not None else None

    prepared = _prepare(files, sender, sender_name, lang)
    sender = validate_address(sender, "sender")

    password: str | None = None
    if not dry_run and settings is not None and settings.user:
        if settings.security == "none" and not settings.allow_plaintext_auth:
            raise EmailError("refusing to send the SMTP password over an unencrypted "
                             "connection: use security 'starttls' or 'ssl'")
        password = settings.password or resolve_password(settings.user)
        if not password:
            raise EmailError(f"no SMTP password for user {settings.user!r}: set "
                             f"{PASSWORD_ENV} or store it in the keyring (service "
                             f"{KEYRING_SERVICE!r}, username {settings.user!r})")

    log = _Log(log_path)
    done_before = set() if force else delivered(log_path)
    held_before = set() if force or resend_uncertain else uncertain(log_path)
    conn = _Connection(settings, password) if settings is not None and not dry_run else None
    results: list[SendResult] = []
    total = len(prepared)
    batch_failure: str | None = None

    def record(p: _Prepared, result: str, attempts: int, error: str | None,
               **extra: Any) -> str:
        when = _now()
        log.write({
            "time": when, "region": p.rf.region, "region_name": p.rf.region_name,
            "file": p.rf.path.name, "sha256": p.sha256,
            "message_id": p.msg["Message-ID"], "result": result, "attempts": attempts,
            "to": [p.to], "cc": p.cc, "error": error, **extra,
        })
        return when

    try:
        for i, p in enumerate(prepared, 1):
            mid = p.msg["Message-ID"]
            if (p.rf.region, p.sha256) in done_before:
                results.append(SendResult(p.rf.region, "skipped", None, p.sha256, _now()))
            elif (p.rf.region, p.sha256) in held_before and not dry_run:
                results.append(SendResult(p.rf.region, "held", mid, p.sha256, _now(),
                                          "uncertain in an earlier run (it may have been "
                                          "delivered); --resend-uncertain sends it again"))
            elif dry_run:
                assert outbox is not None
                eml = _write_eml(Path(outbox), p)
                when = record(p, "dry_run", 0, None, eml=str(eml))
                results.append(SendResult(p.rf.region, "dry_run", mid, p.sha256, when, eml=eml))
            elif batch_failure is not None:
                err = f"not attempted: {batch_failure}"
                when = record(p, "failed", 0, err)
                results.append(SendResult(p.rf.region, "failed", mid, p.sha256, when, err))
            else:
                assert conn is not None and settings is not None
                record(p, "sending", 0, None)
                try:
                    status, err, attempts, extra, whole = _send_one(conn, settings, sender, p)
                except KeyboardInterrupt:
                    # Ctrl-C: the log says what is known, then the batch stops.
                    if conn.data_sent():
                        record(p, "uncertain", 1, uncertain_text("interrupted by Ctrl-C"))
                    else:
                        record(p, "failed", 1, "interrupted by Ctrl-C before the message "
                               "was complete; nothing was delivered")
                    raise
                when = record(p, status, attempts, err, **extra)
                results.append(SendResult(p.rf.region, status, mid, p.sha256, when, err,
                                          attempts))
                if whole:
                    batch_failure = err
            if progress is not None:
                progress(i, total, p.rf)
    finally:
        if conn is not None:
            conn.close()
    return results


def uncertain_text(cause: BaseException | str) -> str:
    return (f"the server took the whole message, then its reply was lost ({cause}): it may "
            "have been delivered, so it is not sent again automatically (check with the "
            "recipient; --resend-uncertain sends it again, with the same Message-ID)")


def _send_one(conn: _Connection, settings: SmtpSettings, sender: str,
              p: _Prepared) -> tuple[Status, str | None, int, dict[str, Any], bool]:
    """Send one message with retries: (status, error, attempts, extra log fields,
    whether the failure dooms the rest of the batch)."""
    rcpts = _recipients(p.to, p.cc)
    attempt = 0
    while True:
        attempt += 1
        try:
            refused = conn.send(p.msg, sender, rcpts)
        except _Uncertain as exc:
            conn.reset()
            return "uncertain", uncertain_text(exc.cause), attempt, {}, False
        except (smtplib.SMTPException, OSError, EmailError, _ConnectFailed) as exc:
            failure = _classify(exc)
            if failure.transient or isinstance(exc, _ConnectFailed):
                conn.reset()
            if failure.transient and attempt <= settings.retries:
                time.sleep(settings.backoff * (2 ** (attempt - 1)))
                continue
            # A server we cannot even reach after all retries will not take the next one.
            whole = failure.whole_batch or isinstance(exc, _ConnectFailed)
            return "failed", failure.text, attempt, {}, whole
        if not refused:
            return "sent", None, attempt, {}, False
        listing = "; ".join(f"{r} ({code} {_reply_text(resp)})"
                            for r, (code, resp) in refused.items())
        extra = {"refused": sorted(refused)}
        if p.to.lower() in {r.lower() for r in refused}:
            accepted = [r for r in rcpts if r not in refused]
            return ("failed", f"recipient refused: {listing} (delivered to {', '.join(accepted)})",
                    attempt, extra, False)
        return "sent", f"cc refused: {listing}", attempt, extra, False


def count_by_status(results: Sequence[SendResult]) -> dict[str, int]:
    """How many results have each status, e.g. ``{"sent": 5, "skipped": 2, "failed": 1}``."""
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return counts
