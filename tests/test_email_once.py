"""Issue 11, item 6: every regional email at most once, against a real SMTP server.

aiosmtpd on 127.0.0.1 takes a message and then drops the connection without a reply
(ACCEPT_DROP): the message *was* delivered, and the sender cannot know. Before, it was
retried and ended up three times in the manager's inbox, logged as failed each time.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import run_cli
from xl_addin.mail.email import SmtpSettings, count_by_status, read_log, send_all

try:
    from smtp_server import ACCEPT, ACCEPT_DROP, RecordingHandler, smtp_factory, smtp_server  # noqa: F401
except ImportError:  # tests/ imported as a package
    from tests.smtp_server import (ACCEPT, ACCEPT_DROP, RecordingHandler,  # type: ignore  # noqa: F401
                                   smtp_factory, smtp_server)

# the regional fixtures of test_email (three regions: EAST, NORTH, SOUTH)
from test_email import SENDER, files, no_user_config, settings_for  # noqa: F401

REPO = Path(__file__).parents[1]


def to(server, address: str) -> list:
    return [m for m in server.messages if m.rcpt_tos[0] == address]


def test_accepted_then_dropped_is_uncertain_sent_once_and_resent_only_on_request(
        smtp_server, files, tmp_path):
    log = tmp_path / "log.jsonl"
    settings = settings_for(smtp_server, retries=2)
    smtp_server.handler.fail_data("north.mgr@example.com", ACCEPT_DROP, times=1)

    first = send_all(files, settings, log_path=log)
    assert [r.status for r in first] == ["sent", "uncertain", "sent"]
    assert first[1].attempts == 1                       # not retried
    assert len(to(smtp_server, "north.mgr@example.com")) == 1   # was three copies
    assert first[1].error.startswith("the server took the whole message, then its reply was "
                                     "lost (")
    assert first[1].error.endswith("): it may have been delivered, so it is not sent again "
                                   "automatically (check with the recipient; --resend-uncertain "
                                   "sends it again, with the same Message-ID)")
    north = [r for r in read_log(log) if r["region"] == "NORTH"]
    assert [r["result"] for r in north] == ["uncertain"]

    # a later run does not send it again by itself
    second = send_all(files, settings, log_path=log)
    assert [r.status for r in second] == ["skipped", "held", "skipped"]
    assert count_by_status(second) == {"skipped": 2, "held": 1}
    assert len(to(smtp_server, "north.mgr@example.com")) == 1

    # asked to, it does: with the same Message-ID, so the recipient can tell it is a resend
    third = send_all(files, settings, log_path=log, resend_uncertain=True)
    assert [r.status for r in third] == ["skipped", "sent", "skipped"]
    copies = to(smtp_server, "north.mgr@example.com")
    assert len(copies) == 2
    assert copies[0].message["Message-ID"] == copies[1].message["Message-ID"]
    assert send_all(files, settings, log_path=log)[1].status == "skipped"


def test_message_id_comes_from_the_file_and_the_recipient(smtp_server, files, tmp_path):
    import hashlib
    send_all(files, settings_for(smtp_server), log_path=tmp_path / "a")
    send_all(files, settings_for(smtp_server), log_path=tmp_path / "b")   # a fresh log: again
    ids = [m.message["Message-ID"] for m in smtp_server.messages]
    assert ids[:3] == ids[3:] and len(set(ids[:3])) == 3
    digest = hashlib.sha256(files[0].path.read_bytes()).hexdigest()
    rcpt = hashlib.sha256(b"east.mgr@example.com").hexdigest()
    assert ids[0] == f"<xl.{digest[:24]}.{rcpt[:12]}@example.com>"


def _master_with_regional(sample_master: Path) -> Path:
    r = run_cli("regional", sample_master)
    assert r.exit_code == 0, r.output
    return sample_master.parent / "regional"


def _email_cmd(folder: Path, server, *extra: str) -> list[str]:
    return [sys.executable, "-m", "xl_addin.cli", "email", str(folder), "--smtp-host",
            server.host, "--smtp-port", str(server.port), "--sender", SENDER, *extra]


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), XDG_CONFIG_HOME=str(tmp_path / "cfg"),
               XL_ADDIN_LOCK_TIMEOUT="120")
    env.pop("XL_ADDIN_SMTP_PASSWORD", None)
    return env


def test_two_runs_at_once_send_each_region_once(sample_master, smtp_factory, tmp_path):
    folder = _master_with_regional(sample_master)
    handler = RecordingHandler()
    server = smtp_factory(handler)
    # slow the first message down so that both runs are surely at work together
    handler.fail_data("east.manager@example.com", ACCEPT, times=1, delay=1.0)
    procs = [subprocess.Popen(_email_cmd(folder, server), env=_env(tmp_path),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    # four regions with a manager: four messages, not eight
    assert sorted(m.rcpt_tos[0] for m in server.messages) == sorted(
        ["east.manager@example.com", "south.manager@example.com",
         "north.manager@example.com", "other.manager@example.com"])
    assert sum("已跳过(此前已发送) 4" in o for o, _ in outs) == 1


def test_ctrl_c_after_data_leaves_the_log_saying_uncertain(sample_master, smtp_factory, tmp_path):
    folder = _master_with_regional(sample_master)
    handler = RecordingHandler()
    server = smtp_factory(handler)
    # the server has the whole first message and sits on its reply
    first = "east.manager@example.com"
    handler.fail_data(first, "250 OK much later", times=1, delay=30)
    p = subprocess.Popen(_email_cmd(folder, server), env=_env(tmp_path),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while first not in handler.data_started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first in handler.data_started
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode != 0 and "Traceback" not in err
    records = [json.loads(x) for x in (folder / "send-log.jsonl").read_text().splitlines()]
    assert [r["result"] for r in records] == ["sending", "uncertain"]
    assert records[1]["region"] == "EAST"
    assert records[1]["error"].startswith("the server took the whole message, then its reply "
                                          "was lost (interrupted by Ctrl-C)")
    # the next run holds EAST back and sends the rest, and says why; exit 1
    handler.heal()
    r = subprocess.run(_email_cmd(folder, server), env=_env(tmp_path), capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 1
    assert ("EAST: the server took the whole message but its reply was lost" in r.stderr or
            "EAST：服务器已收到完整邮件但回复丢失，可能已送达，因此没有自动重发" in r.stderr)
    assert "暂缓(此前不确定，未重发)" in r.stdout
    assert [m.rcpt_tos[0] for m in server.messages].count(first) == 0   # never answered 250


def test_a_run_killed_mid_send_leaves_the_message_uncertain(files, tmp_path):
    # what a SIGKILL leaves: the "sending" line and no outcome
    from xl_addin.mail.email import uncertain
    log = tmp_path / "log.jsonl"
    log.write_text(json.dumps({"region": "EAST", "sha256": "abc", "message_id": "<m>",
                               "result": "sending"}) + "\n", encoding="utf-8")
    assert uncertain(log) == {("EAST", "abc")}
    assert [r["result"] for r in read_log(log)] == ["sending"]


def test_resend_uncertain_is_documented():
    r = run_cli("email", "--help")
    assert "--resend-uncertain" in r.output and "uncertain" in r.output
