"""The ``regional``, ``email``, ``explain`` and ``demo`` commands of ``xl-addin``.

Standalone click commands; :data:`COMMANDS` lists them for ``main.add_command``. Like the
other commands they are thin: open the master with :func:`check_master`, call the library
(:mod:`xl_addin.reports.regional`, :mod:`xl_addin.mail.email`,
:mod:`xl_addin.core.statement`) and turn its exceptions into a message and exit code 2
(``guarded`` of :mod:`xl_addin.cli.app`, plus the email and statement errors here). Exit 1
means some region's email failed.
"""
from __future__ import annotations

import functools
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Sequence

import click

from ..core.fmt import percent, wan_yi
from ..core.model import QUARTERS
from ..core.statement import StatementError, build_statement, render_text
from ..mail.email import (DRY_RUN_SENDER, SEND_LOG_NAME, EmailError, RegionalFile, SendResult,
                    SmtpSettings, count_by_status, load_settings, send_all,
                    validate_address)
from ..reports.regional import (MANIFEST_NAME, Manifest, RegionalEntry, current_manifest,
                                file_sha256, manifest_of_file, read_manifest, regional_files,
                                write_regional)

__all__ = ["COMMANDS", "regional", "email", "explain", "demo", "default_dir"]

LANG = click.Choice(["zh", "en"])
SEND_LOG = SEND_LOG_NAME      # shared with the ribbon (excel/macros.py)
OUTBOX = "outbox"


def _t(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


# xl_addin.cli.app is imported when a command runs, not when this module loads, so that cli.py
# may import COMMANDS at its top or bottom without an import cycle. Same codes as cli.py.
EXIT_FAIL, EXIT_BAD_INPUT = 1, 2


def text_table(header: list[str], rows: list[list[Any]]) -> str:
    """The CLI's plain-text table (aligned for CJK and Latin text alike)."""
    from .app import text_table as table

    return table(header, rows)


def _fail(lines: Sequence[str]) -> None:
    head, *rest = list(lines) or ["unknown problem"]
    click.echo(f"错误 / Error: {head}", err=True)
    for line in rest:
        click.echo(f"  - {line}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def _guard(fn: Callable) -> Callable:
    """``guarded`` (InputError, WorkbookError) plus the errors of email and statements, and
    files we cannot read or write: a message and exit code 2, never a traceback."""
    def body(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except EmailError as e:
            _fail([str(e).splitlines()[0], *e.problems] if len(e.problems) > 1 else [str(e)])
        except StatementError as e:
            _fail([str(e)])
        except OSError as e:
            _fail([f"{e.filename or ''}: {e.strerror or e}".lstrip(": ")])

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        from .app import guarded

        return guarded(body)(*args, **kwargs)
    return run


def default_dir(master: Path) -> Path:
    """Where regional workbooks go when no folder is given: ``<master folder>/regional``."""
    return Path(master).resolve().parent / "regional"


def _open(path: Path):
    from ..workbook.master import check_master

    return check_master(path)


def _read_inputs(path: Path):
    """The master's inputs and their digest, without running the engine (the same reading
    and digest as :func:`_open`); :func:`~xl_addin.workbook.pipeline.compute_outcome` of
    it is what :func:`_open` gives."""
    from ..workbook.pipeline import read_inputs
    from ..workbook.xlsx import XlsxBook

    return read_inputs(XlsxBook.open(path))


def _master_sha256(path: Path) -> str:
    """The master file's :func:`~xl_addin.reports.regional.file_sha256`, "" when it cannot
    be read (reading the master then reports why)."""
    try:
        return file_sha256(path)
    except OSError:
        return ""


def _warn_failed_checks(outcome, lang: str) -> None:
    df = outcome.results.checks
    fails = df[df["status"] == "FAIL"]
    if len(fails):
        click.echo(_t(lang, f"注意：计划有 {len(fails)} 项检查不通过（xl-addin check 查看详情）；仍按当前数据生成。",
                      f"Note: the plan has {len(fails)} FAIL check(s) (see xl-addin check); "
                      "building from the data as it is."), err=True)


def _entry_line(e: RegionalEntry, lang: str) -> str:
    totals = {k: Decimal(v) for k, v in e.totals.items()}
    return _t(lang, f"  {e.region:<6} {e.region_name}  {e.file}  销售人员 {totals['reps']} 人，"
                    f"季度奖金 {wan_yi(totals['bonus_total'], 'zh')}",
              f"  {e.region:<6} {e.region_name}  {e.file}  {totals['reps']} reps, "
              f"bonuses {wan_yi(totals['bonus_total'], 'en')}")


def _build(outcome, master: Path, out_dir: Path, lang: str, encrypt: bool,
           master_sha256: str = "") -> Manifest:
    """Write the regional workbooks and the manifest, echoing one line per region; one
    file at a time per CPU. ``master_sha256``: the master file's hash taken before it was
    read (recorded so that ``email`` can skip reading the same bytes again)."""
    _warn_failed_checks(outcome, lang)
    manifest = write_regional(outcome.inputs, outcome.results, out_dir,
                              input_sha256=outcome.digest, master_name=Path(master).name,
                              lang=lang, encrypt=encrypt,
                              progress=lambda e: click.echo(_entry_line(e, lang)),
                              workers=os.cpu_count() or 1, master_sha256=master_sha256)
    return manifest


# ----------------------------------------------------------------------------- regional

@click.command("regional")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Folder for the regional workbooks (default: <master folder>/regional).")
@click.option("--lang", type=LANG, default="zh", show_default=True,
              help="Language of the sheets and statements.")
@click.option("--encrypt", is_flag=True,
              help="Encrypt each file with its region's password from XL_ADDIN_PASSWORD_<REGION> "
                   "or the keyring (service xl-addin-regional, username = region code).")
@_guard
def regional(path: Path, out_dir: Path | None, lang: str, encrypt: bool) -> None:
    """One workbook per sales region with a bonus statement per rep.

    Each file (YEAR_PERIOD_REGION_NAME.xlsx) holds only its region's rows, as plain values
    on protected sheets, ready to print; a manifest.json beside them records the master
    they came from, for `xl-addin email`. PERIOD is the latest quarter with reported
    actuals (Q0 before any).
    """
    master_sha256 = _master_sha256(path)        # before reading: see _build
    outcome = _open(path)
    out_dir = out_dir or default_dir(path)
    click.echo(_t(lang, f"{path}：生成区域报表到 {out_dir}", f"{path}: writing regional workbooks to {out_dir}"))
    manifest = _build(outcome, path, out_dir, lang, encrypt, master_sha256)
    click.echo(_t(lang, f"完成：{len(manifest.files)} 个文件，期间 {manifest.period}"
                        f"{'，已加密' if manifest.encrypted else ''}；清单 {out_dir / MANIFEST_NAME}",
                  f"Done: {len(manifest.files)} files, period {manifest.period}"
                  f"{', encrypted' if manifest.encrypted else ''}; manifest {out_dir / MANIFEST_NAME}"))


# ----------------------------------------------------------------------------- explain

@click.command("explain")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--rep", "rep_id", required=True, help="Rep ID (tblTeam), e.g. R002.")
@click.option("--quarter", type=click.Choice(QUARTERS, case_sensitive=False), default=None,
              help="Only this quarter (default: the whole year with the annual awards).")
@click.option("--lang", type=LANG, default="zh", show_default=True)
@_guard
def explain(path: Path, rep_id: str, quarter: str | None, lang: str) -> None:
    """How one rep's KPI score and bonus were reached, line by line.

    Every indicator with actual, target, achievement, cap, weight and points (or why it is
    N/A), the gate decision, the excess bonus with the pool's factor, the awards with the
    rep's rank, and the total in figures and in words.
    """
    outcome = _open(path)
    st = build_statement(outcome.inputs, outcome.results, rep_id.strip(),
                         quarter.upper() if quarter else None)
    click.echo(render_text(st, lang), nl=False)


# ----------------------------------------------------------------------------- email

def _manifest_files(directory: Path) -> tuple[Manifest, list[RegionalFile]]:
    manifest = read_manifest(directory)
    if manifest is None:
        raise EmailError(f"{directory}: no {MANIFEST_NAME}; run `xl-addin regional MASTER -o {directory}` "
                         "first, or give the master workbook instead of the folder")
    files = regional_files(manifest, directory)
    missing = [str(f.path) for f in files if not f.path.is_file()]
    if missing:
        raise EmailError(f"{directory}: files listed in {MANIFEST_NAME} are missing: {', '.join(missing)}")
    return manifest, files


def _settings(config: Path | None, dry_run: bool, **overrides: Any) -> SmtpSettings | None:
    """SMTP settings from the config file and the options, checked before anything is
    built or sent (a bad sender address fails here, not after the workbooks are written)."""
    try:
        settings = load_settings(config, **overrides)
    except EmailError:
        if dry_run and config is None:
            return None       # a dry run needs no server; send_all uses a placeholder sender
        raise
    validate_address(settings.sender, "sender")
    return settings


def _status_text(status: str, lang: str) -> str:
    zh = {"sent": "已发送", "skipped": "已跳过(此前已发送)", "dry_run": "已写入发件箱",
          "failed": "失败"}
    en = {"sent": "sent", "skipped": "skipped (sent before)", "dry_run": "written to outbox",
          "failed": "FAILED"}
    return (en if lang == "en" else zh).get(status, status)


def _send(files: list[RegionalFile], settings: SmtpSettings | None, out_dir: Path, *,
          dry_run: bool, force: bool, lang: str) -> list[SendResult]:
    label = _t(lang, "发送" if not dry_run else "写入发件箱", "Sending" if not dry_run else "Writing outbox")
    with click.progressbar(length=len(files), label=label, show_pos=True,
                           item_show_func=lambda rf: rf.region if rf else "") as bar:
        results = send_all(files, settings, log_path=out_dir / SEND_LOG, dry_run=dry_run,
                           outbox=out_dir / OUTBOX, force=force, lang=lang,
                           progress=lambda done, total, rf: bar.update(1, rf))
    by_region = {f.region: f for f in files}
    rows = []
    for r in results:
        f = by_region[r.region]
        where = str(r.eml) if r.eml else f.email
        rows.append([r.region, f.region_name, _status_text(r.status, lang), where, f.path.name,
                     r.error or ""])
    head = [_t(lang, "区域", "Region"), _t(lang, "名称", "Name"), _t(lang, "结果", "Result"),
            _t(lang, "收件人/文件", "To / file"), _t(lang, "附件", "Attachment"),
            _t(lang, "说明", "Note")]
    click.echo(text_table(head, rows))
    counts = count_by_status(results)
    click.echo(", ".join(f"{_status_text(k, lang)} {v}" for k, v in counts.items()) +
               _t(lang, f"；发送日志 {out_dir / SEND_LOG}", f"; send log {out_dir / SEND_LOG}"))
    return results


@click.command("email")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--dir", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of the regional workbooks (default: <master folder>/regional).")
@click.option("--dry-run", is_flag=True, help="Write .eml files into DIR/outbox; send nothing.")
@click.option("--smtp-host", default=None, help="SMTP server (default: config file, else localhost).")
@click.option("--smtp-port", type=click.IntRange(1, 65535), default=None,
              help="SMTP port (default: 25, 587 with --starttls, 465 with --ssl).")
@click.option("--starttls", "security", flag_value="starttls", default=None,
              help="Upgrade the connection with STARTTLS.")
@click.option("--ssl", "security", flag_value="ssl", help="Implicit TLS (usually port 465).")
@click.option("--user", default=None,
              help="SMTP login; the password comes from XL_ADDIN_SMTP_PASSWORD or the keyring (service xl-addin).")
@click.option("--sender", default=None, help="From address (default: the config file's).")
@click.option("--force", is_flag=True, help="Send again regions the send log records as sent.")
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Email settings file (TOML; default ~/.config/xl-addin/email.toml).")
@click.option("--lang", type=LANG, default="zh", show_default=True,
              help="Language of the emails (and of the workbooks if they are built now).")
@click.option("--encrypt", is_flag=True,
              help="Build (or rebuild) encrypted workbooks before sending; see `regional --encrypt`.")
@_guard
def email(path: Path, out_dir: Path | None, dry_run: bool, smtp_host: str | None,
          smtp_port: int | None, security: str | None, user: str | None, sender: str | None,
          force: bool, config: Path | None, lang: str, encrypt: bool) -> None:
    """Send each region's workbook to its manager (tblRegions).

    PATH is the master workbook (or a folder written by `xl-addin regional`). The regional
    workbooks are built first unless the folder already holds them for this master (same
    fiscal year and inputs, per its manifest.json). Regions already sent with the same file
    are skipped unless --force. Exit 1 if any region failed.
    """
    settings = _settings(config, dry_run, host=smtp_host, port=smtp_port, security=security,
                         user=user, sender=sender)
    if path.is_dir():
        if encrypt:
            raise EmailError("--encrypt builds the workbooks, so it needs the master workbook, "
                             f"not the folder {path}")
        out_dir = out_dir or path
        manifest, files = _manifest_files(out_dir)
    else:
        # The folder's files are this master's if they were built from a master file
        # with the same bytes (then the master is not read again), or else from the same
        # inputs (their digest); the engine runs only when the files must be built.
        out_dir = out_dir or default_dir(path)
        master_sha256 = _master_sha256(path)
        encrypted = True if encrypt else None
        manifest = manifest_of_file(out_dir, master_sha256, encrypted=encrypted) \
            if master_sha256 else None
        read = None
        if manifest is None:
            read = _read_inputs(path)
            manifest = current_manifest(out_dir, read.inputs.settings.fiscal_year, read.digest,
                                        encrypted=encrypted)
        if manifest is None:
            click.echo(_t(lang, f"{out_dir} 中没有本总表的区域报表，先生成：",
                          f"{out_dir} holds no regional workbooks for this master; building them:"))
            from ..workbook.pipeline import compute_outcome

            manifest = _build(compute_outcome(read), path, out_dir, lang, encrypt, master_sha256)
        else:
            click.echo(_t(lang, f"使用 {out_dir} 中已生成的区域报表（{manifest.period}）",
                          f"Using the regional workbooks in {out_dir} ({manifest.period})"))
        files = regional_files(manifest, out_dir)
    results = _send(files, settings, out_dir, dry_run=dry_run, force=force, lang=lang)
    if any(r.status == "failed" for r in results):
        sys.exit(EXIT_FAIL)


# ----------------------------------------------------------------------------- demo

def _summary(manifest: Manifest, lang: str) -> str:
    rows, totals = [], {k: Decimal(0) for k in ("annual_target", "sales", "bonus_total",
                                               "awards_total", "reps")}
    for e in manifest.files:
        t = {k: Decimal(v) for k, v in e.totals.items()}
        for k in totals:
            totals[k] += t[k]
        rows.append([e.region, e.region_name, wan_yi(t["annual_target"], lang),
                     wan_yi(t["sales"], lang),
                     percent(t["sales"] / t["target"] if t["target"] else None),
                     wan_yi(t["bonus_total"], lang), wan_yi(t["awards_total"], lang),
                     int(t["reps"])])
    rows.append([_t(lang, "合计", "Total"), "", wan_yi(totals["annual_target"], lang),
                 wan_yi(totals["sales"], lang), "", wan_yi(totals["bonus_total"], lang),
                 wan_yi(totals["awards_total"], lang), int(totals["reps"])])
    head = [_t(lang, "区域", "Region"), _t(lang, "名称", "Name"), _t(lang, "年度目标", "Target"),
            _t(lang, "销售额", "Sales"), _t(lang, "完成率", "Attainment"),
            _t(lang, "季度奖金", "Bonuses"), _t(lang, "年度评优", "Awards"),
            _t(lang, "人数", "Reps")]
    return text_table(head, rows)


@click.command("demo")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("xl_addin_demo"), show_default=True, help="Folder for everything the demo writes.")
@click.option("--lang", type=LANG, default="zh", show_default=True)
@_guard
def demo(out_dir: Path, lang: str) -> None:
    """The whole job on the built-in 2026 plan, with no server and no settings.

    Builds the sample master workbook (28 people, four quarters of actuals), checks and
    recalculates it, writes the regional workbooks and a dry-run outbox of the emails to
    the regional managers, then prints a summary.
    """
    from ..workbook.master import check_master, new_master, recalc_master

    out_dir.mkdir(parents=True, exist_ok=True)
    master = out_dir / "sales_plan_2026.xlsx"
    click.echo(_t(lang, f"1/5 新建示例总表 {master}", f"1/5 sample master workbook {master}"))
    new_master(master, lang=lang, sample=True)
    click.echo(_t(lang, "2/5 检查计划", "2/5 checking the plan"))
    outcome = check_master(master)
    click.echo(_t(lang, "3/5 重新计算并保存", "3/5 recalculating"))
    recalc_master(master)
    regional_dir = out_dir / "regional"
    click.echo(_t(lang, f"4/5 区域报表 → {regional_dir}", f"4/5 regional workbooks -> {regional_dir}"))
    manifest = _build(outcome, master, regional_dir, lang, False)
    click.echo(_t(lang, "5/5 邮件（演示：只写入发件箱，不发送）", "5/5 emails (dry run: outbox only)"))
    files = regional_files(manifest, regional_dir)
    results = _send(files, SmtpSettings(sender=DRY_RUN_SENDER), regional_dir, dry_run=True,
                    force=False, lang=lang)

    checks = outcome.results.checks
    flagged = checks[checks["status"] != "OK"]
    click.echo("")
    click.echo(_t(lang, f"{manifest.fiscal_year}年计划 · 数据截至 {manifest.period}（按区域）",
                  f"The {manifest.fiscal_year} plan through {manifest.period}, by region"))
    click.echo(_summary(manifest, lang))
    click.echo("")
    counts = checks["status"].value_counts().to_dict()
    click.echo(_t(lang, f"检查：{len(checks)} 项，通过 {counts.get('OK', 0)}，注意 {counts.get('WARN', 0)}，"
                        f"不通过 {counts.get('FAIL', 0)}",
                  f"Checks: {len(checks)}: {counts.get('OK', 0)} OK, {counts.get('WARN', 0)} WARN, "
                  f"{counts.get('FAIL', 0)} FAIL"))
    for r in flagged.itertuples():
        click.echo(f"  {r.status:<4} {r.area}: {r.message}")
    eml = [str(r.eml) for r in results if r.eml]
    click.echo("")
    click.echo(_t(lang, "文件：", "Files:"))
    click.echo(text_table(["", ""], [
        [_t(lang, "总表", "master"), str(master)],
        [_t(lang, "区域报表", "regional"), f"{regional_dir} ({len(manifest.files)})"],
        [_t(lang, "发件箱", "outbox"), f"{regional_dir / OUTBOX} ({len(eml)} .eml)"],
    ]).split("\n", 2)[2].replace("\n", "\n  ").join(["  ", ""]))
    click.echo(_t(lang, f"下一步：xl-addin explain {master} --rep R002；"
                        f"xl-addin email {master} --smtp-host HOST --sender ADDR",
                  f"Next: xl-addin explain {master} --rep R002 --lang en; "
                  f"xl-addin email {master} --smtp-host HOST --sender ADDR"))


COMMANDS = [regional, email, explain, demo]
