"""xl-addin email, end to end against a real SMTP server (aiosmtpd on 127.0.0.1).

The command builds the regional workbooks when the folder holds none for this master,
sends each to its manager in tblRegions, keeps a send log so that a re-run sends nothing,
and resends everything with --force.
"""
from __future__ import annotations

import email
import email.policy
import hashlib
import json
from pathlib import Path

import openpyxl
import pytest

from conftest import run_cli
from xl_addin.cli.app import main
from xl_addin.cli.commands import COMMANDS

try:
    from smtp_server import (password_authenticator, smtp_factory,  # noqa: F401  (fixtures)
                             smtp_server, tls_files)
except ImportError:  # tests/ imported as a package
    from tests.smtp_server import (password_authenticator, smtp_factory,  # type: ignore  # noqa: F401
                                   smtp_server, tls_files)

for _c in COMMANDS:
    if _c.name not in main.commands:
        main.add_command(_c)

SENDER = "director@example.com"
MANAGERS = {"EAST": "east.manager@example.com", "SOUTH": "south.manager@example.com",
            "NORTH": "north.manager@example.com", "OTHER": "other.manager@example.com"}


@pytest.fixture(autouse=True)
def no_user_config(tmp_path, monkeypatch):
    """No email settings of the machine running the tests, and no SMTP password."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("XL_ADDIN_SMTP_PASSWORD", raising=False)


def smtp_args(server) -> list[str]:
    return ["--smtp-host", server.host, "--smtp-port", str(server.port), "--sender", SENDER]


def tbl_regions(master: Path) -> dict[str, str]:
    """tblRegions of the master workbook, read straight from the file: region -> email."""
    wb = openpyxl.load_workbook(master)
    for ws in wb.worksheets:
        if "tblRegions" in ws.tables:
            rows = list(ws[ws.tables["tblRegions"].ref])
            head = [c.value for c in rows[0]]
            code, mail = head.index("区域"), head.index("邮箱")
            return {r[code].value: r[mail].value for r in rows[1:]}
    raise KeyError("tblRegions")


def attachment(received) -> tuple[str, bytes]:
    msg = email.message_from_bytes(received.content, policy=email.policy.default)
    (part,) = list(msg.iter_attachments())
    return part.get_filename(), part.get_content()


def test_email_end_to_end(sample_master, smtp_server):
    regions = tbl_regions(sample_master)
    assert {k: v for k, v in regions.items() if k != "HQ"} == MANAGERS
    r = run_cli("email", sample_master, *smtp_args(smtp_server))
    assert r.exit_code == 0, r.output
    folder = sample_master.parent / "regional"
    assert (folder / "manifest.json").is_file()                       # built first
    assert "先生成" in r.output and "已发送 4" in r.output and "发送" in r.output
    got = {m.message["X-XL-Region"]: m for m in smtp_server.messages}
    assert sorted(got) == sorted(MANAGERS)
    for code, received in got.items():
        assert received.rcpt_tos == [MANAGERS[code]]
        assert received.mail_from == SENDER
        name, data = attachment(received)
        path = folder / name
        assert name.startswith(f"2026_Q4_{code}_") and path.read_bytes() == data
        assert received.message["To"] == MANAGERS[code]
    log = [json.loads(line) for line in (folder / "send-log.jsonl").read_text().splitlines()]
    assert [x["result"] for x in log] == ["sending", "sent"] * 4   # intent, then outcome

    again = run_cli("email", sample_master, *smtp_args(smtp_server))
    assert again.exit_code == 0, again.output
    assert len(smtp_server.messages) == 4, "a re-run sends nothing"
    assert "已跳过" in again.output and "使用" in again.output        # the same files

    forced = run_cli("email", sample_master, *smtp_args(smtp_server), "--force", "--lang", "en")
    assert forced.exit_code == 0, forced.output
    assert len(smtp_server.messages) == 8 and "sent 4" in forced.output
    assert all(m.message["Subject"].startswith("Sales report FY2026 Q4")
               for m in smtp_server.messages[4:])


def test_email_uses_the_workbooks_regional_wrote(sample_master, smtp_server, tmp_path):
    out = tmp_path / "files"
    assert run_cli("regional", sample_master, "-o", out).exit_code == 0
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.glob("*.xlsx")}
    r = run_cli("email", sample_master, "--dir", out, *smtp_args(smtp_server))
    assert r.exit_code == 0, r.output
    sent = {attachment(m)[0]: hashlib.sha256(attachment(m)[1]).hexdigest()
            for m in smtp_server.messages}
    assert sent == before


def test_email_rebuilds_when_the_master_changed(sample_master, tmp_path):
    out = tmp_path / "files"
    assert run_cli("regional", sample_master, "-o", out).exit_code == 0
    wb = openpyxl.load_workbook(sample_master)
    ws = next(w for w in wb.worksheets if "tblRegions" in w.tables)
    cell = next(c for row in ws.iter_rows() for c in row if c.value == MANAGERS["EAST"])
    cell.value = "east.new@example.com"
    wb.save(sample_master)
    r = run_cli("email", sample_master, "--dir", out, "--dry-run")
    assert r.exit_code == 0, r.output
    assert "先生成" in r.output
    eml = next((out / "outbox").glob("2026_Q4_EAST_*.eml"))
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert msg["To"] == "east.new@example.com"


def test_dry_run_writes_the_outbox(sample_master):
    r = run_cli("email", sample_master, "--dry-run")
    assert r.exit_code == 0, r.output
    outbox = sample_master.parent / "regional" / "outbox"
    emls = sorted(outbox.glob("*.eml"))
    assert len(emls) == 4
    for eml in emls:
        msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        assert msg["To"] in MANAGERS.values()
        (part,) = list(msg.iter_attachments())
        assert part.get_filename() == eml.stem + ".xlsx"
    assert "已写入发件箱 4" in r.output


def test_email_a_folder(sample_master, smtp_server, tmp_path):
    out = tmp_path / "files"
    assert run_cli("regional", sample_master, "-o", out).exit_code == 0
    r = run_cli("email", out, *smtp_args(smtp_server))
    assert r.exit_code == 0, r.output
    assert len(smtp_server.messages) == 4
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run_cli("email", empty, *smtp_args(smtp_server))
    assert r.exit_code == 2 and "manifest.json" in r.stderr


def test_a_failed_region_exits_1(sample_master, smtp_server):
    smtp_server.handler.fail_rcpt(MANAGERS["NORTH"], "550 no such user", times=None)
    r = run_cli("email", sample_master, *smtp_args(smtp_server))
    assert r.exit_code == 1, r.output
    assert "失败" in r.output and "550" in r.output
    assert sorted(m.message["X-XL-Region"] for m in smtp_server.messages) == ["EAST", "OTHER", "SOUTH"]
    smtp_server.handler.heal()
    r = run_cli("email", sample_master, *smtp_args(smtp_server))   # only NORTH is left to send
    assert r.exit_code == 0, r.output
    assert [m.message["X-XL-Region"] for m in smtp_server.messages[3:]] == ["NORTH"]


def test_starttls_and_login(sample_master, smtp_factory, tls_files, tmp_path, monkeypatch):
    server = smtp_factory(tls_context=tls_files.server_context(), require_starttls=True,
                          auth_required=True,
                          authenticator=password_authenticator({SENDER: "s3cret-密码"}))
    monkeypatch.setenv("XL_ADDIN_SMTP_PASSWORD", "s3cret-密码")
    config = tmp_path / "email.toml"
    config.write_text(f'cafile = "{tls_files.ca_cert}"\nretries = 0\n', encoding="utf-8")
    r = run_cli("email", sample_master, *smtp_args(server), "--starttls", "--user", SENDER,
                "--config", config)
    assert r.exit_code == 0, r.output
    assert [m.login for m in server.messages] == [SENDER] * 4
    assert "s3cret" not in r.output


def test_config_file(sample_master, smtp_server, tmp_path):
    config = tmp_path / "email.toml"
    config.write_text(f'[smtp]\nhost = "{smtp_server.host}"\nport = {smtp_server.port}\n'
                      f'sender = "{SENDER}"\nsender_name = "销售总监"\n', encoding="utf-8")
    r = run_cli("email", sample_master, "--config", config)
    assert r.exit_code == 0, r.output
    assert len(smtp_server.messages) == 4
    assert "销售总监" in smtp_server.messages[0].message["From"]


@pytest.mark.parametrize("setup, args, message", [
    ("", [], "no sender address"),
    ('password = "x"\nsender = "a@example.com"\n', ["--config", "{config}"], "do not store the SMTP password"),
    ("", ["--config", "{missing}"], "email config not found"),
    ("", ["--sender", "not-an-address"], "not an email address"),
])
def test_bad_settings_exit_2(sample_master, tmp_path, setup, args, message):
    config = tmp_path / "email.toml"
    config.write_text(setup, encoding="utf-8")
    args = [a.format(config=config, missing=tmp_path / "nope.toml") for a in args]
    r = run_cli("email", sample_master, "--smtp-host", "127.0.0.1", "--smtp-port", "9", *args)
    assert r.exit_code == 2, r.output
    assert message in r.stderr and "Traceback" not in r.output
    assert not (sample_master.parent / "regional").exists(), "settings are checked first"


def test_unreachable_server_fails_every_region(sample_master, tmp_path):
    from smtp_server import free_port

    config = tmp_path / "email.toml"
    config.write_text("retries = 0\nbackoff = 0\ntimeout = 5\n", encoding="utf-8")
    r = run_cli("email", sample_master, "--smtp-host", "127.0.0.1", "--smtp-port", str(free_port()),
                "--sender", SENDER, "--config", config)
    assert r.exit_code == 1
    log = (sample_master.parent / "regional" / "send-log.jsonl").read_text().splitlines()
    # the first region was tried (its "sending" line, then the failure), the rest not
    assert [json.loads(x)["result"] for x in log] == ["sending"] + ["failed"] * 4


def test_email_help():
    r = run_cli("email", "--help")
    assert r.exit_code == 0
    for option in ("--dir", "--dry-run", "--smtp-host", "--smtp-port", "--starttls", "--ssl",
                   "--user", "--sender", "--force", "--config", "--lang"):
        assert option in r.output
