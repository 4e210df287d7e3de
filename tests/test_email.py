"""Email distribution against a real SMTP server (aiosmtpd in-process on 127.0.0.1).

Nothing here mocks smtplib: messages really travel over TCP (plain, STARTTLS with a
generated certificate, implicit TLS), and failures are made by a server that answers
4xx/5xx or drops the connection.
"""
from __future__ import annotations

import json
import socket
from decimal import Decimal
from email import message_from_bytes
from email.policy import default as default_policy
from hashlib import sha256
from pathlib import Path

import keyring
import openpyxl
import pytest
from support.memory_keyring import MemoryKeyring

from xl_addin.mail.email import (
    DRY_RUN_SENDER,
    PASSWORD_ENV,
    XLSX_MIME,
    EmailError,
    RegionalFile,
    SmtpSettings,
    build_message,
    count_by_status,
    delivered,
    load_settings,
    period_label,
    read_log,
    resolve_password,
    send_all,
    template_variables,
    validate_address,
)

try:
    from smtp_server import (DROP, free_port, password_authenticator,
                             smtp_factory, smtp_server, tls_files)
except ImportError:  # tests/ imported as a package
    from tests.smtp_server import (DROP, free_port,  # type: ignore[no-redef]
                                   password_authenticator, smtp_factory, smtp_server,
                                   tls_files)

__all__ = ["smtp_factory", "smtp_server", "tls_files"]  # fixtures used by name

SENDER = "director@example.com"

REGIONS = [
    # code, name, manager, email, cc, target, sales, bonus, reps
    ("EAST", "华东", "王伟", "east.mgr@example.com", ("east.deputy@example.com",),
     "280000000", "261800000.50", "4500000", 12),
    ("NORTH", "华北", "李娜", "north.mgr@example.com", (),
     "80000000", "84000000", "1230000.25", 7),
    ("SOUTH", "华南", "张敏", "south.mgr@example.com",
     ("south.deputy@example.com", "finance@example.com"),
     "45000000", "39600000", "880000", 5),
]


def make_xlsx(path: Path, region: str, rows: int = 3) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = region
    ws.append(["rep", "sales"])
    for i in range(rows):
        ws.append([f"{region}-R{i + 1:02d}", 1000 * (i + 1)])
    wb.save(path)
    return path


@pytest.fixture
def files(tmp_path: Path) -> list[RegionalFile]:
    folder = tmp_path / "regional"
    folder.mkdir()
    out = []
    for code, name, mgr, addr, cc, target, sales, bonus, reps in REGIONS:
        path = make_xlsx(folder / f"2026_Q3_{code}_{name}.xlsx", code)
        out.append(RegionalFile(
            region=code, region_name=name, manager=mgr, email=addr, cc=cc, path=path,
            fiscal_year=2026, period="Q3",
            totals={"target": Decimal(target), "sales": Decimal(sales),
                    "bonus_total": Decimal(bonus), "reps": reps}))
    return out


@pytest.fixture(autouse=True)
def no_user_config(tmp_path, monkeypatch) -> Path:
    """Point the default config location at an empty folder, so that the developer's own
    ~/.config/xl-addin/email.toml never leaks into a test."""
    folder = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    return folder


def settings_for(server, **kw) -> SmtpSettings:
    kw.setdefault("retries", 2)
    kw.setdefault("backoff", 0.01)
    kw.setdefault("timeout", 5)
    return SmtpSettings(host=server.host, port=server.port, sender=SENDER, **kw)


def attachments(msg):
    return list(msg.iter_attachments())


def text_body(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


# ------------------------------------------------------------------ addresses


@pytest.mark.parametrize("addr, expected", [
    ("east.mgr@example.com", "east.mgr@example.com"),
    ("  wang.wei+q3@sales.example.com.cn ", "wang.wei+q3@sales.example.com.cn"),
    ("manager@例子.中国", "manager@xn--fsqu00a.xn--fiqs8s"),
])
def test_validate_address_accepts(addr, expected):
    assert validate_address(addr, "email") == expected


@pytest.mark.parametrize("addr, why", [
    ("a@x.com\r\nBcc: evil@y.com", "header injection"),
    ("a@x.com\nBcc: evil@y.com", "header injection"),
    ("a@x.com\rX: y", "header injection"),
    ("a@x.com, b@y.com", "more than one address"),
    ("a@x.com; b@y.com", "more than one address"),
    ("a@x.com b@y.com", "more than one '@'"),
    ("a@b@x.com", "more than one '@'"),
    ("", "empty"),
    ("   ", "empty"),
    ("manager", "no '@'"),
    ("王伟 <a@x.com>", "spaces"),
    ("<a@x.com>", "bare address"),
    ("a@x", "malformed domain"),
    ("a@-x.com", "malformed domain"),
    ("a..b@x.com", "malformed part before"),
    ("@x.com", "malformed part before"),
    ("a@x.com\x00", "control character"),
])
def test_validate_address_refuses(addr, why):
    with pytest.raises(EmailError, match=why) as info:
        validate_address(addr, "cc[2]", region="EAST")
    assert "region EAST, cc[2]" in str(info.value)


def test_validate_address_refuses_non_text():
    with pytest.raises(EmailError, match="must be text"):
        validate_address(None, "email")  # type: ignore[arg-type]


def test_bad_address_refuses_whole_batch_before_sending(smtp_server, files, tmp_path):
    bad = [
        files[0],
        RegionalFile(**{**files[1].__dict__, "email": "a@x.com\r\nBcc: evil@y.com"}),
        RegionalFile(**{**files[2].__dict__, "cc": ("ok@example.com", "a@x.com, b@y.com")}),
    ]
    log = tmp_path / "log.jsonl"
    with pytest.raises(EmailError) as info:
        send_all(bad, settings_for(smtp_server), log_path=log)
    text = str(info.value)
    assert "2 problems" in text and "nothing was sent" in text
    assert "region NORTH, email" in text and "header injection" in text
    assert "region SOUTH, cc[2]" in text and "more than one address" in text
    assert smtp_server.messages == []          # not even the valid first region
    assert smtp_server.handler.rcpt_seen == []
    assert not log.exists() or read_log(log) == []
    assert len(info.value.problems) == 2


def test_batch_validation_collects_other_problems(files, tmp_path):
    missing = RegionalFile(**{**files[0].__dict__, "path": tmp_path / "gone.xlsx"})
    no_totals = RegionalFile(**{**files[1].__dict__, "totals": {"target": Decimal(1)}})
    dup = files[2]
    with pytest.raises(EmailError) as info:
        send_all([missing, no_totals, dup, dup], None, log_path=tmp_path / "l.jsonl",
                 dry_run=True, outbox=tmp_path / "out")
    text = str(info.value)
    assert "attachment not found" in text
    assert "missing 'sales'" in text and "missing 'reps'" in text
    assert "region SOUTH: appears more than once" in text
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------- message


def test_build_message_zh(files):
    rf = files[0]
    msg = build_message(rf, SENDER)
    parsed = message_from_bytes(msg.as_bytes(), policy=default_policy)

    assert parsed["From"] == SENDER
    assert parsed["To"] == "east.mgr@example.com"
    assert parsed["Cc"] == "east.deputy@example.com"
    assert parsed["Message-ID"].startswith("<") and parsed["Message-ID"].endswith("@example.com>")
    assert parsed["Date"]
    subject = parsed["Subject"]
    assert "华东" in subject and "EAST" in subject and "2026年第三季度" in subject
    assert "\n" not in subject

    body = text_body(parsed)
    assert "王伟，您好" in body
    assert "销售目标：2.8亿（¥280,000,000.00）" in body
    assert "实际销售：2.62亿（¥261,800,000.50）" in body
    assert "目标完成率：93.5%" in body
    assert "奖金合计：450万（¥4,500,000.00）" in body
    assert "销售人数：12 人" in body
    assert "2026_Q3_EAST_华东.xlsx" in body

    html = parsed.get_body(preferencelist=("html",)).get_content()
    assert "<td align=\"right\">2.8亿</td>" in html

    (att,) = attachments(parsed)
    data = rf.path.read_bytes()
    assert att.get_content_type() == XLSX_MIME
    assert att.get_filename() == "2026_Q3_EAST_华东.xlsx"
    assert att.get_content() == data
    assert parsed["X-XL-SHA256"] == sha256(data).hexdigest()
    # RFC 2231 encoding of the UTF-8 file name, in the raw header
    raw = msg.as_bytes()
    assert b"filename*=utf-8''2026_Q3_EAST_%E5%8D%8E%E4%B8%9C.xlsx" in raw
    assert raw.isascii()                     # 7-bit clean: no server needs 8BITMIME/SMTPUTF8


def test_build_message_en_and_sender_name(files):
    rf = files[1]
    msg = build_message(rf, SENDER, lang="en", sender_name="销售总监 Sales Director")
    parsed = message_from_bytes(msg.as_bytes(), policy=default_policy)
    assert parsed["Subject"] == "Sales report FY2026 Q3 – 华北 (NORTH)"
    assert parsed["From"].addresses[0].display_name == "销售总监 Sales Director"
    assert parsed["From"].addresses[0].addr_spec == SENDER
    assert parsed["Cc"] is None
    body = text_body(parsed)
    assert "Dear 李娜," in body
    assert "Target:       CNY 80.0m (¥80,000,000.00)" in body
    assert "Attainment:   105.0%" in body
    assert "Bonus total:  CNY 1.2m (¥1,230,000.25)" in body
    assert "Sales reps:   7" in body


def test_html_escapes_values(files):
    rf = RegionalFile(**{**files[0].__dict__, "manager": "<script>x</script>"})
    msg = build_message(rf, SENDER)
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<script>x</script>" in text_body(msg)   # the plain text is not escaped


def test_template_variables_and_period_labels(files):
    v = template_variables(files[2], "zh", sha256="abc")
    assert v["sales"] == "3,960万" and v["attainment"] == "88.0%" and v["reps"] == 5
    assert v["filename"] == "2026_Q3_SOUTH_华南.xlsx" and v["sha256"] == "abc"
    assert period_label("FY") == "全年" and period_label("FY", "en") == "full year"
    assert period_label("q4") == "第四季度" and period_label("M07") == "M07"
    zero = RegionalFile(**{**files[0].__dict__,
                           "totals": {**files[0].totals, "target": Decimal(0)}})
    assert template_variables(zero)["attainment"] == "—"


def test_unknown_language_and_bad_sender(files):
    with pytest.raises(EmailError, match="no email templates for language 'fr'.*available: en, zh"):
        build_message(files[0], SENDER, lang="fr")
    with pytest.raises(EmailError, match="sender"):
        build_message(files[0], "director@example.com\r\nBcc: x@y.com")


def test_custom_templates_dir(files, tmp_path):
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "subject.zh.j2").write_text("{{ region_name }} {{ totals.sales|wan_yi }}",
                                          encoding="utf-8")
    (folder / "body.zh.txt.j2").write_text("{{ totals.target|yuan }}", encoding="utf-8")
    msg = build_message(files[0], SENDER, templates_dir=folder)
    assert msg["Subject"] == "华东 2.62亿"
    assert text_body(msg) == "¥280,000,000.00\n"      # set_content ends text with a newline
    assert msg.get_body(preferencelist=("html",)) is None


# -------------------------------------------------------------------- sending


def test_send_all_delivers_each_region(smtp_server, files, tmp_path):
    log = tmp_path / "send-log.jsonl"
    calls = []
    results = send_all(files, settings_for(smtp_server), log_path=log,
                       progress=lambda i, n, rf: calls.append((i, n, rf.region)))

    assert [r.status for r in results] == ["sent", "sent", "sent"]
    assert [c for c in calls] == [(1, 3, "EAST"), (2, 3, "NORTH"), (3, 3, "SOUTH")]
    assert len(smtp_server.messages) == 3
    for rf, received, result in zip(files, smtp_server.messages, results):
        assert received.mail_from == SENDER
        assert received.rcpt_tos == [rf.email, *rf.cc]
        msg = received.message
        assert msg["To"] == rf.email
        assert msg["Message-ID"] == result.message_id
        (att,) = attachments(msg)
        assert att.get_filename() == rf.path.name
        assert att.get_content_type() == XLSX_MIME
        assert att.get_content() == rf.path.read_bytes()
        assert result.sha256 == sha256(rf.path.read_bytes()).hexdigest()
        assert rf.region_name in msg["Subject"] and rf.region in msg["Subject"]
        assert rf.region_name in text_body(msg)
        assert result.attempts == 1 and result.error is None
    # the attachment opens as a workbook again
    got = smtp_server.messages[2].message
    path = tmp_path / "roundtrip.xlsx"
    path.write_bytes(attachments(got)[0].get_content())
    assert openpyxl.load_workbook(path).active.title == "SOUTH"
    assert "实际销售：3,960万（¥39,600,000.00）" in text_body(got)

    lines = log.read_text(encoding="utf-8").splitlines()
    # each message: a "sending" line before it goes out, then its outcome
    assert [json.loads(x)["result"] for x in lines] == ["sending", "sent"] * 3
    lines = lines[1::2]
    rec = json.loads(lines[0])
    assert rec["region"] == "EAST" and rec["region_name"] == "华东"
    assert rec["result"] == "sent" and rec["attempts"] == 1 and rec["error"] is None
    assert rec["file"] == "2026_Q3_EAST_华东.xlsx"
    assert rec["sha256"] == results[0].sha256
    assert rec["message_id"] == results[0].message_id
    assert rec["to"] == ["east.mgr@example.com"] and rec["cc"] == ["east.deputy@example.com"]
    assert rec["time"] == results[0].time
    assert "华东" in lines[0]                 # readable, not \u-escaped
    assert delivered(log) == {(rf.region, r.sha256) for rf, r in zip(files, results)}


def test_rerun_sends_nothing_and_force_resends(smtp_server, files, tmp_path):
    log = tmp_path / "log.jsonl"
    settings = settings_for(smtp_server)
    send_all(files, settings, log_path=log)
    assert len(smtp_server.messages) == 3

    again = send_all(files, settings, log_path=log)
    assert [r.status for r in again] == ["skipped"] * 3
    assert len(smtp_server.messages) == 3
    assert len(read_log(log)) == 3            # skips are not logged

    forced = send_all(files, settings, log_path=log, force=True)
    assert [r.status for r in forced] == ["sent"] * 3
    assert len(smtp_server.messages) == 6

    # a region whose workbook changed is sent again, the others are not
    make_xlsx(files[1].path, "NORTH", rows=10)
    changed = send_all(files, settings, log_path=log)
    assert [r.status for r in changed] == ["skipped", "sent", "skipped"]
    assert smtp_server.messages[-1].rcpt_tos == ["north.mgr@example.com"]
    assert count_by_status(changed) == {"skipped": 2, "sent": 1}


@pytest.mark.parametrize("reply", ["421 4.3.0 service shutting down"], ids=["421"])
def test_failure_mid_batch_then_rerun_finishes(smtp_server, files, tmp_path, reply):
    log = tmp_path / "log.jsonl"
    settings = settings_for(smtp_server, retries=1)
    # the 2nd region fails on every try during the first pass
    smtp_server.handler.fail_data("north.mgr@example.com", reply, times=None)

    first = send_all(files, settings, log_path=log)
    assert [r.status for r in first] == ["sent", "failed", "sent"]
    assert first[1].attempts == 2             # retried once: transient
    assert ("421" in first[1].error) if reply != DROP else ("disconnected" in first[1].error)
    assert [m.rcpt_tos[0] for m in smtp_server.messages] == [
        "east.mgr@example.com", "south.mgr@example.com"]
    failed = [r for r in read_log(log) if r["result"] == "failed"]
    assert len(failed) == 1 and failed[0]["region"] == "NORTH" and failed[0]["error"]

    smtp_server.handler.heal()
    second = send_all(files, settings, log_path=log)
    assert [r.status for r in second] == ["skipped", "sent", "skipped"]
    assert len(smtp_server.messages) == 3
    assert smtp_server.messages[-1].rcpt_tos == ["north.mgr@example.com"]
    assert delivered(log) == {(r.region, r.sha256) for r in first}


def test_transient_4xx_succeeds_on_retry_within_one_run(smtp_server, files, tmp_path):
    smtp_server.handler.fail_rcpt("north.mgr@example.com", "451 4.7.1 greylisted, retry",
                                  times=2)
    results = send_all(files, settings_for(smtp_server, retries=3), log_path=tmp_path / "l")
    assert [r.status for r in results] == ["sent"] * 3
    assert [r.attempts for r in results] == [1, 3, 1]
    assert len(smtp_server.messages) == 3
    assert smtp_server.handler.rcpt_seen.count("north.mgr@example.com") == 3
    assert read_log(tmp_path / "l")[1]["attempts"] == 3


def test_permanent_5xx_is_not_retried(smtp_server, files, tmp_path):
    smtp_server.handler.fail_rcpt("north.mgr@example.com", "550 5.1.1 no such user",
                                  times=None)
    results = send_all(files, settings_for(smtp_server, retries=3), log_path=tmp_path / "l")
    assert [r.status for r in results] == ["sent", "failed", "sent"]
    assert results[1].attempts == 1
    assert "550" in results[1].error and "north.mgr@example.com" in results[1].error
    assert smtp_server.handler.rcpt_seen.count("north.mgr@example.com") == 1


def test_refused_cc_still_counts_as_sent(smtp_server, files, tmp_path):
    smtp_server.handler.fail_rcpt("finance@example.com", "550 5.1.1 no such user", times=None)
    log = tmp_path / "l"
    results = send_all(files, settings_for(smtp_server), log_path=log)
    assert results[2].status == "sent"
    assert "cc refused" in results[2].error and "finance@example.com" in results[2].error
    assert smtp_server.messages[2].rcpt_tos == ["south.mgr@example.com",
                                                "south.deputy@example.com"]
    assert read_log(log)[2]["refused"] == ["finance@example.com"]


def test_refused_manager_fails_even_if_cc_accepted(smtp_server, files, tmp_path):
    smtp_server.handler.fail_rcpt("east.mgr@example.com", "550 5.1.1 no such user", times=None)
    results = send_all(files, settings_for(smtp_server), log_path=tmp_path / "l")
    assert results[0].status == "failed"
    assert "east.mgr@example.com" in results[0].error
    assert "delivered to east.deputy@example.com" in results[0].error


def test_timeout_after_data_is_uncertain_and_not_retried(smtp_server, files, tmp_path):
    # the server has the whole message but answers only after the client gave up: the
    # message may have been delivered, so it is not sent a second time (issue 11)
    smtp_server.handler.fail_data("east.mgr@example.com", "250 late", times=1, delay=1.0)
    results = send_all(files[:1], settings_for(smtp_server, timeout=0.3, retries=1),
                       log_path=tmp_path / "l")
    assert results[0].status == "uncertain" and results[0].attempts == 1
    assert smtp_server.handler.data_started == ["east.mgr@example.com",
                                                "east.deputy@example.com"]


def test_server_down_fails_fast_and_rerun_delivers(smtp_factory, files, tmp_path):
    log = tmp_path / "log.jsonl"
    down = SmtpSettings(host="127.0.0.1", port=free_port(), sender=SENDER,
                        retries=2, backoff=0.01, timeout=2)
    results = send_all(files, down, log_path=log)
    assert [r.status for r in results] == ["failed"] * 3
    assert results[0].attempts == 3 and "ConnectionRefused" in results[0].error
    assert all(r.attempts == 0 and r.error.startswith("not attempted:") for r in results[1:])
    assert [r["result"] for r in read_log(log)] == ["failed"] * 3

    server = smtp_factory()
    again = send_all(files, settings_for(server), log_path=log)
    assert [r.status for r in again] == ["sent"] * 3
    assert len(server.messages) == 3


# ------------------------------------------------------------- TLS and AUTH


def test_starttls_with_self_signed_cert_and_auth_from_env(smtp_factory, tls_files, files,
                                                         tmp_path, monkeypatch):
    server = smtp_factory(tls_context=tls_files.server_context(), require_starttls=True,
                          auth_required=True,
                          authenticator=password_authenticator({SENDER: "s3cret-密码"}))
    monkeypatch.setenv(PASSWORD_ENV, "s3cret-密码")
    settings = settings_for(server, security="starttls", user=SENDER,
                            cafile=tls_files.ca_cert)
    assert "s3cret" not in repr(settings)
    results = send_all(files, settings, log_path=tmp_path / "l")
    assert [r.status for r in results] == ["sent"] * 3
    assert [m.login for m in server.messages] == [SENDER] * 3


def test_starttls_hostname_checked_by_name(smtp_factory, tls_files, files, tmp_path):
    server = smtp_factory(tls_context=tls_files.server_context(), require_starttls=True)
    settings = SmtpSettings(host="localhost", port=server.port, sender=SENDER,
                            security="starttls", cafile=tls_files.ca_cert,
                            retries=0, timeout=5)
    try:
        socket.getaddrinfo("localhost", server.port, socket.AF_INET)
    except socket.gaierror:
        pytest.skip("localhost does not resolve")
    results = send_all(files[:1], settings, log_path=tmp_path / "l")
    if results[0].status == "failed" and "refused" in (results[0].error or "").lower():
        pytest.skip("localhost resolves to an address the server does not listen on")
    assert results[0].status == "sent"


def test_untrusted_certificate_fails_whole_batch(smtp_factory, tls_files, files, tmp_path):
    server = smtp_factory(tls_context=tls_files.server_context(), require_starttls=True)
    settings = settings_for(server, security="starttls", retries=3)   # system CAs only
    results = send_all(files, settings, log_path=tmp_path / "l")
    assert [r.status for r in results] == ["failed"] * 3
    assert results[0].attempts == 1 and "certificate" in results[0].error
    assert results[2].error.startswith("not attempted:")
    assert server.messages == []


def test_wrong_password_fails_whole_batch(smtp_factory, tls_files, files, tmp_path):
    server = smtp_factory(tls_context=tls_files.server_context(), require_starttls=True,
                          authenticator=password_authenticator({SENDER: "right"}))
    settings = settings_for(server, security="starttls", user=SENDER, password="wrong",
                            cafile=tls_files.ca_cert)
    results = send_all(files, settings, log_path=tmp_path / "l")
    assert [r.status for r in results] == ["failed"] * 3
    assert "authentication failed" in results[0].error and "535" in results[0].error
    assert results[1].error.startswith("not attempted: authentication failed")
    assert server.messages == []


def test_implicit_tls_with_ssl_context(smtp_factory, tls_files, files, tmp_path):
    import ssl
    server = smtp_factory(ssl_context=tls_files.server_context())
    client_ctx = ssl.create_default_context(cafile=str(tls_files.ca_cert))
    settings = settings_for(server, security="ssl", ssl_context=client_ctx)
    results = send_all(files, settings, log_path=tmp_path / "l")
    assert [r.status for r in results] == ["sent"] * 3
    assert len(server.messages) == 3


def test_password_never_sent_in_clear(smtp_server, files, tmp_path):
    settings = settings_for(smtp_server, user=SENDER, password="pw")
    with pytest.raises(EmailError, match="unencrypted"):
        send_all(files, settings, log_path=tmp_path / "l")
    assert smtp_server.handler.rcpt_seen == []


@pytest.fixture
def memory_keyring(monkeypatch):
    """An in-memory keyring in place of the system one, and no password in the env."""
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


def test_missing_password_refused_before_sending(smtp_server, files, tmp_path, memory_keyring):
    settings = settings_for(smtp_server, security="none", user="nobody@example.com",
                            allow_plaintext_auth=True)
    with pytest.raises(EmailError, match="no SMTP password for user 'nobody@example.com'"):
        send_all(files, settings, log_path=tmp_path / "l")
    assert smtp_server.handler.rcpt_seen == []


def test_resolve_password_env_then_keyring(memory_keyring, monkeypatch):
    memory_keyring.set_password("xl-addin", "director@example.com", "from-keyring")
    monkeypatch.setenv(PASSWORD_ENV, "from-env")
    assert resolve_password("director@example.com") == "from-env"
    monkeypatch.delenv(PASSWORD_ENV)
    assert resolve_password("director@example.com") == "from-keyring"
    assert resolve_password("someone@example.com") is None
    assert resolve_password(None) is None


def test_starttls_auth_with_keyring_password(smtp_factory, tls_files, files, tmp_path,
                                             memory_keyring):
    memory_keyring.set_password("xl-addin", SENDER, "kr-pass")
    server = smtp_factory(tls_context=tls_files.server_context(), require_starttls=True,
                          authenticator=password_authenticator({SENDER: "kr-pass"}))
    settings = settings_for(server, security="starttls", user=SENDER, cafile=tls_files.ca_cert)
    results = send_all(files[:1], settings, log_path=tmp_path / "l")
    assert results[0].status == "sent" and server.messages[0].login == SENDER


def test_plaintext_auth_when_explicitly_allowed(smtp_factory, files, tmp_path, monkeypatch):
    server = smtp_factory(auth_require_tls=False,
                          authenticator=password_authenticator({SENDER: "pw"}))
    monkeypatch.setenv(PASSWORD_ENV, "pw")
    settings = settings_for(server, user=SENDER, allow_plaintext_auth=True)
    results = send_all(files[:1], settings, log_path=tmp_path / "l")
    assert results[0].status == "sent" and server.messages[0].login == SENDER


# -------------------------------------------------------------------- dry run


def test_dry_run_writes_eml_and_makes_no_connection(files, tmp_path):
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    port = listener.getsockname()[1]
    try:
        settings = SmtpSettings(host="127.0.0.1", port=port, sender=SENDER)
        outbox = tmp_path / "outbox"
        log = tmp_path / "log.jsonl"
        results = send_all(files, settings, log_path=log, dry_run=True, outbox=outbox)
        with pytest.raises(BlockingIOError):
            listener.accept()                 # nobody connected
    finally:
        listener.close()

    assert [r.status for r in results] == ["dry_run"] * 3
    for rf, r in zip(files, results):
        eml = outbox / f"{rf.path.stem}.eml"
        assert r.eml == eml and eml.is_file()
        raw = eml.read_bytes()
        assert b"\r\n" in raw
        msg = message_from_bytes(raw, policy=default_policy)
        assert msg["To"] == rf.email and msg["Message-ID"] == r.message_id
        assert rf.region_name in msg["Subject"]
        (att,) = attachments(msg)
        assert att.get_filename() == rf.path.name
        assert att.get_content() == rf.path.read_bytes()
    recs = read_log(log)
    assert [x["result"] for x in recs] == ["dry_run"] * 3
    assert recs[0]["eml"] == str(outbox / "2026_Q3_EAST_华东.xlsx"[:-5]) + ".eml"
    assert delivered(log) == set()            # a dry run is not a delivery


def test_dry_run_without_settings_and_then_real_send(smtp_server, files, tmp_path,
                                                    no_user_config):
    log = tmp_path / "log.jsonl"
    results = send_all(files, None, log_path=log, dry_run=True, outbox=tmp_path / "o")
    assert [r.status for r in results] == ["dry_run"] * 3
    msg = message_from_bytes((tmp_path / "o" / f"{files[0].path.stem}.eml").read_bytes(),
                             policy=default_policy)
    assert msg["From"] == DRY_RUN_SENDER
    real = send_all(files, settings_for(smtp_server), log_path=log)
    assert [r.status for r in real] == ["sent"] * 3


def test_settings_none_uses_the_default_config(smtp_server, files, tmp_path, no_user_config):
    cfg = no_user_config / "xl-addin" / "email.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_server.port}\n'
                   f'sender = "{SENDER}"\nsender_name = "销售总监"\n', encoding="utf-8")
    results = send_all(files[:1], None, log_path=tmp_path / "l")
    assert results[0].status == "sent"
    assert smtp_server.messages[0].message["From"].addresses[0].display_name == "销售总监"
    dry = send_all(files[:1], None, log_path=tmp_path / "l", dry_run=True, force=True,
                   outbox=tmp_path / "o")
    eml = message_from_bytes(dry[0].eml.read_bytes(), policy=default_policy)
    assert eml["From"].addresses[0].addr_spec == SENDER


def test_dry_run_needs_outbox_and_send_needs_settings(files, tmp_path, no_user_config):
    with pytest.raises(EmailError, match="outbox"):
        send_all(files, None, log_path=tmp_path / "l", dry_run=True)
    with pytest.raises(EmailError, match="no sender address"):
        send_all(files, None, log_path=tmp_path / "l")


def test_template_problem_reported_once(files, tmp_path):
    with pytest.raises(EmailError) as info:
        send_all(files, None, log_path=tmp_path / "l", dry_run=True, outbox=tmp_path / "o",
                 lang="fr")
    assert len(info.value.problems) == 1 and "language 'fr'" in str(info.value)


# ------------------------------------------------------------------ log, settings


def test_log_survives_a_truncated_last_line(smtp_server, files, tmp_path):
    log = tmp_path / "log.jsonl"
    send_all(files[:1], settings_for(smtp_server), log_path=log)
    with log.open("a", encoding="utf-8") as fh:
        fh.write('{"region": "NORTH", "result": "se')      # crash mid-write
    results = send_all(files, settings_for(smtp_server), log_path=log)
    assert [r.status for r in results] == ["skipped", "sent", "sent"]
    recs = read_log(log)
    assert [r["region"] for r in recs] == ["EAST", "NORTH", "SOUTH"]


def test_empty_batch(tmp_path):
    assert send_all([], None, log_path=tmp_path / "l", dry_run=True, outbox=tmp_path) == []


def test_load_settings_from_toml_with_overrides(tmp_path, tls_files):
    cfg = tmp_path / "email.toml"
    cfg.write_text(
        '[smtp]\nhost = "smtp.example.cn"\nsecurity = "starttls"\n'
        'user = "director@example.cn"\nsender = "director@example.cn"\n'
        'sender_name = "销售总监"\nretries = 5\n'
        f'cafile = "{tls_files.ca_cert.as_posix()}"\n', encoding="utf-8")
    s = load_settings(cfg)
    assert (s.host, s.port, s.security, s.retries) == ("smtp.example.cn", 587, "starttls", 5)
    assert s.sender_name == "销售总监" and s.cafile == tls_files.ca_cert
    assert s.password is None
    s2 = load_settings(cfg, host="127.0.0.1", port=2525, retries=None, timeout=3)
    assert (s2.host, s2.port, s2.retries, s2.timeout) == ("127.0.0.1", 2525, 5, 3)
    assert load_settings(cfg, security="ssl").port == 465
    assert s.tls_context().verify_mode.name == "CERT_REQUIRED"


def test_load_settings_default_path_and_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    # no default file: defaults plus overrides
    s = load_settings(None, sender=SENDER)
    assert (s.host, s.port, s.security) == ("localhost", 25, "none")
    with pytest.raises(EmailError, match="no sender"):
        load_settings(None)
    default = tmp_path / "cfg" / "xl-addin" / "email.toml"
    default.parent.mkdir(parents=True)
    default.write_text('host = "mail.example.cn"\nsender = "a@example.cn"\n', encoding="utf-8")
    assert load_settings(None).host == "mail.example.cn"

    bad = tmp_path / "bad.toml"
    bad.write_text('[smtp]\nsender = "a@example.cn"\npassword = "x"\n', encoding="utf-8")
    with pytest.raises(EmailError, match="do not store the SMTP password"):
        load_settings(bad)
    bad.write_text('[smtp]\nsender = "a@example.cn"\nhots = "x"\n', encoding="utf-8")
    with pytest.raises(EmailError, match="unknown setting 'hots'"):
        load_settings(bad)
    bad.write_text('[smtp]\nsender = "a@example.cn"\nport = "25"\n', encoding="utf-8")
    with pytest.raises(EmailError, match="'port' has the wrong type"):
        load_settings(bad)
    bad.write_text('[smtp\n', encoding="utf-8")
    with pytest.raises(EmailError, match="cannot read email config"):
        load_settings(bad)
    with pytest.raises(EmailError, match="not found"):
        load_settings(tmp_path / "missing.toml")
    with pytest.raises(EmailError, match="security must be one of"):
        load_settings(None, sender=SENDER, security="tls")
    with pytest.raises(EmailError, match="unknown SMTP setting"):
        load_settings(None, sender=SENDER, hots="x")
    with pytest.raises(EmailError, match="'timeout' has the wrong type"):
        load_settings(None, sender=SENDER, timeout="3")


def test_period_label_before_any_actuals():
    # regional files made before any quarter is reported carry period Q0: the year's plan
    from xl_addin.mail.email import period_label
    assert period_label("Q0") == "年度计划" and period_label("Q0", "en") == "plan"
