"""The ``regional``, ``email``, ``explain`` and ``demo`` commands of ``xl-addin``.

Standalone click commands; :data:`COMMANDS` lists them for ``main.add_command``. Like the
other commands they are thin: open the master with :func:`check_master`, call the library
(:mod:`xl_addin.reports.regional`, :mod:`xl_addin.mail.email`,
:mod:`xl_addin.core.statement`); their errors become a message and exit code 2 in
:class:`xl_addin.cli.common.Group`. Exit 1 means the plan has FAIL checks (``regional``,
the files written) or some region's email failed.
"""
from __future__ import annotations

import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from ..core.fmt import percent, wan_yi
from ..core.model import QUARTERS
from ..core.statement import build_statement, render_text
from ..mail.email import (DRY_RUN_SENDER, SEND_LOG_NAME, EmailError, RegionalFile, SendResult,
                          SmtpSettings, count_by_status, load_settings, send_all,
                          validate_address)
from ..reports.regional import (MANIFEST_NAME, Manifest, RegionalEntry, current_manifest,
                                file_sha256, manifest_of_file, read_manifest, regional_files,
                                sales_regions, write_regional)
from ..text import label
from ..workbook.i18n import check_message
from .check_text import check_area, exit_on_fails
from .common import (EXIT_FAIL, CliError, lang_option, pick, progress, say, set_lang, set_path,
                     table, tr)

__all__ = ["COMMANDS", "regional", "email", "explain", "demo", "default_dir"]

SEND_LOG = SEND_LOG_NAME      # shared with the ribbon (excel/macros.py)
OUTBOX = "outbox"


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
        say("regional.fails", lang, err=True, n=len(fails))


def _entry_line(e: RegionalEntry, lang: str) -> str:
    totals = {k: Decimal(v) for k, v in e.totals.items()}
    return tr("regional.entry", lang, region=f"{e.region:<6}", name=e.region_name, file=e.file,
              reps=totals["reps"], bonus=wan_yi(totals["bonus_total"], lang))


def _build(outcome, master: Path, out_dir: Path, lang: str, encrypt: bool,
           master_sha256: str = "") -> Manifest:
    """Write the regional workbooks and the manifest, echoing one line per region; one
    file at a time per CPU. ``master_sha256``: the master file's hash taken before it was
    read (recorded so that ``email`` can skip reading the same bytes again)."""
    _warn_failed_checks(outcome, lang)
    with progress(len(sales_regions(outcome.inputs)), tr("regional.progress", lang)) as (advance, echo):
        def done(e: RegionalEntry) -> None:
            echo(_entry_line(e, lang))
            advance(e.region)
        manifest = write_regional(outcome.inputs, outcome.results, out_dir,
                                  input_sha256=outcome.digest, master_name=Path(master).name,
                                  lang=lang, encrypt=encrypt, progress=done,
                                  workers=os.cpu_count() or 1, master_sha256=master_sha256)
    return manifest


# ----------------------------------------------------------------------------- regional

@click.command("regional")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Folder for the regional workbooks (default: <master folder>/regional).")
@lang_option(help="Language of the sheets, statements and messages (default: the master's).")
@click.option("--encrypt", is_flag=True,
              help="Encrypt each file with its region's password from XL_ADDIN_PASSWORD_<REGION> "
                   "or the keyring (service xl-addin-regional, username = region code).")
def regional(path: Path, out_dir: Path | None, lang: str | None, encrypt: bool) -> None:
    """One workbook per sales region with a bonus statement per rep.

    Each file (YEAR_PERIOD_REGION_NAME.xlsx) holds only its region's rows, as plain values
    on protected sheets, ready to print; a manifest.json beside them records the master
    they came from, for `xl-addin email`. PERIOD is the latest quarter with reported
    actuals (Q0 before any).

    Exit 0 when the plan passes or warns; 1 when any check FAILs (the files are still
    written, and the FAIL checks listed); 2 when the input is invalid (nothing written).
    """
    set_path(path)
    master_sha256 = _master_sha256(path)        # before reading: see _build
    outcome = _open(path)
    lang = set_lang(outcome.lang)
    out_dir = out_dir or default_dir(path)
    say("regional.start", lang, path=str(path), dir=str(out_dir))
    manifest = _build(outcome, path, out_dir, lang, encrypt, master_sha256)
    say("regional.done_encrypted" if manifest.encrypted else "regional.done", lang,
        n=len(manifest.files), period=manifest.period, manifest=str(out_dir / MANIFEST_NAME))
    exit_on_fails(outcome.results, lang)


# ----------------------------------------------------------------------------- explain

@click.command("explain")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--rep", "rep_id", required=True, help="Rep ID (tblTeam), e.g. R002 (any case).")
@click.option("--quarter", default=None, metavar="Q1|Q2|Q3|Q4",
              help="Only this quarter (default: the whole year with the annual awards).")
@lang_option(help="Language of the statement (default: the master's).")
def explain(path: Path, rep_id: str, quarter: str | None, lang: str | None) -> None:
    """How one rep's KPI score and bonus were reached, line by line.

    Every indicator with actual, target, achievement, cap, weight and points (or why it is
    N/A), the gate decision, the excess bonus with the pool's factor, the awards with the
    rep's rank, and the total in figures and in words.
    """
    set_path(path)
    quarter = pick(quarter, list(QUARTERS), "quarter") if quarter is not None else None
    outcome = _open(path)
    lang = set_lang(outcome.lang)
    rep_id = pick(rep_id, [r.rep_id for r in outcome.inputs.team], "rep")
    st = build_statement(outcome.inputs, outcome.results, rep_id, quarter)
    click.echo(render_text(st, lang), nl=False)


# ----------------------------------------------------------------------------- email

def _manifest_files(directory: Path) -> tuple[Manifest, list[RegionalFile]]:
    manifest = read_manifest(directory)
    if manifest is None:
        raise CliError("email.no_manifest", dir=str(directory), manifest=MANIFEST_NAME)
    files = regional_files(manifest, directory)
    missing = [str(f.path) for f in files if not f.path.is_file()]
    if missing:
        raise CliError("email.missing_files", dir=str(directory), manifest=MANIFEST_NAME,
                       files=", ".join(missing))
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
    shown = tr(f"email.status.{status}", lang)
    return status if shown == f"cli.email.status.{status}" else shown


def _send(files: list[RegionalFile], settings: SmtpSettings | None, out_dir: Path, *,
          dry_run: bool, force: bool, lang: str, resend_uncertain: bool = False) -> list[SendResult]:
    with progress(len(files), tr("email.progress_dry" if dry_run else "email.progress", lang)) \
            as (advance, _echo):
        results = send_all(files, settings, log_path=out_dir / SEND_LOG, dry_run=dry_run,
                           outbox=out_dir / OUTBOX, force=force, lang=lang,
                           resend_uncertain=resend_uncertain,
                           progress=lambda done, total, rf: advance(rf.region))
    by_region = {f.region: f for f in files}
    rows = []
    for r in results:
        f = by_region[r.region]
        where = str(r.eml) if r.eml else f.email
        rows.append([r.region, f.region_name, _status_text(r.status, lang), where, f.path.name,
                     r.error or ""])
    head = [tr(f"email.head.{k}", lang) for k in ("region", "name", "result", "to", "file", "note")]
    click.echo(table(head, rows))
    counts = count_by_status(results)
    say("email.total", lang, counts=tr("list_sep", lang).join(
        tr("email.count", lang, status=_status_text(k, lang), n=v) for k, v in counts.items()),
        log=str(out_dir / SEND_LOG))
    unsure = [r.region for r in results if r.status in ("uncertain", "held")]
    if unsure:
        say("email.uncertain", lang, err=True, regions=tr("list_sep", lang).join(unsure))
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
@click.option("--resend-uncertain", is_flag=True,
              help="Send again messages the send log records as uncertain (the server took "
                   "the message but its reply was lost); they are never resent otherwise.")
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Email settings file (TOML; default ~/.config/xl-addin/email.toml).")
@lang_option(help="Language of the emails, messages and workbooks built now (default: the master's).")
@click.option("--encrypt", is_flag=True,
              help="Build (or rebuild) encrypted workbooks before sending; see `regional --encrypt`.")
def email(path: Path, out_dir: Path | None, dry_run: bool, smtp_host: str | None,
          smtp_port: int | None, security: str | None, user: str | None, sender: str | None,
          force: bool, config: Path | None, lang: str | None, encrypt: bool,
          resend_uncertain: bool = False) -> None:
    """Send each region's workbook to its manager (tblRegions).

    PATH is the master workbook (or a folder written by `xl-addin regional`). The regional
    workbooks are built first unless the folder already holds them for this master (same
    fiscal year and inputs, per its manifest.json). Regions already sent with the same file
    are skipped unless --force. A message the server took without its reply getting back
    is logged as uncertain and not resent unless --resend-uncertain. One `email` at a time
    works in a folder. Exit 1 if any region failed or is uncertain.
    """
    set_path(path)
    settings = _settings(config, dry_run, host=smtp_host, port=smtp_port, security=security,
                         user=user, sender=sender)
    from ..storage import locked

    out_dir = out_dir or (path if path.is_dir() else default_dir(path))
    with locked(out_dir):   # one `email` at a time per folder, from the build to the last send
        results = _email(path, out_dir, settings, dry_run=dry_run, force=force, lang=lang,
                         encrypt=encrypt, resend_uncertain=resend_uncertain)
    if any(r.status in ("failed", "uncertain", "held") for r in results):
        sys.exit(EXIT_FAIL)


def _email(path: Path, out_dir: Path, settings, *, dry_run: bool, force: bool, lang: str | None,
           encrypt: bool, resend_uncertain: bool) -> list[SendResult]:
    if path.is_dir():
        if encrypt:
            raise CliError("email.encrypt_folder", dir=str(path))
        manifest, files = _manifest_files(out_dir)
        lang = set_lang(manifest.lang)
    else:
        # The folder's files are this master's if they were built from a master file
        # with the same bytes (then the master is not read again), or else from the same
        # inputs (their digest); the engine runs only when the files must be built.
        master_sha256 = _master_sha256(path)
        encrypted = True if encrypt else None
        manifest = manifest_of_file(out_dir, master_sha256, encrypted=encrypted) \
            if master_sha256 else None
        read = None
        if manifest is not None:
            lang = set_lang(manifest.lang)
        else:
            read = _read_inputs(path)
            lang = set_lang(read.lang)
            manifest = current_manifest(out_dir, read.inputs.settings.fiscal_year, read.digest,
                                        encrypted=encrypted)
        if manifest is None:
            say("email.building", lang, dir=str(out_dir))
            from ..workbook.pipeline import compute_outcome

            manifest = _build(compute_outcome(read), path, out_dir, lang, encrypt, master_sha256)
        else:
            say("email.using", lang, dir=str(out_dir), period=manifest.period)
        files = regional_files(manifest, out_dir)
    return _send(files, settings, out_dir, dry_run=dry_run, force=force, lang=lang,
                 resend_uncertain=resend_uncertain)


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
    rows.append([tr("demo.total", lang), "", wan_yi(totals["annual_target"], lang),
                 wan_yi(totals["sales"], lang), "", wan_yi(totals["bonus_total"], lang),
                 wan_yi(totals["awards_total"], lang), int(totals["reps"])])
    head = [tr(f"demo.head.{k}", lang) for k in ("region", "name", "target", "sales",
                                                 "attainment", "bonuses", "awards", "reps")]
    return table(head, rows, right=(2, 3, 4, 5, 6, 7))


@click.command("demo")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("xl_addin_demo"), show_default=True, help="Folder for everything the demo writes.")
@lang_option(help="Language of the workbooks and of the output (default zh).")
def demo(out_dir: Path, lang: str | None) -> None:
    """The whole job on the built-in 2026 plan, with no server and no settings.

    Builds the sample master workbook (28 people, four quarters of actuals), checks and
    recalculates it, writes the regional workbooks and a dry-run outbox of the emails to
    the regional managers, then prints a summary.
    """
    from ..workbook.master import check_master, new_master, recalc_master

    lang = set_lang(lang)
    out_dir.mkdir(parents=True, exist_ok=True)
    master = out_dir / "sales_plan_2026.xlsx"
    say("demo.step1", lang, path=str(master))
    new_master(master, lang=lang, sample=True)
    say("demo.step2", lang)
    outcome = check_master(master)
    say("demo.step3", lang)
    recalc_master(master)
    regional_dir = out_dir / "regional"
    say("demo.step4", lang, dir=str(regional_dir))
    manifest = _build(outcome, master, regional_dir, lang, False)
    say("demo.step5", lang)
    files = regional_files(manifest, regional_dir)
    results = _send(files, SmtpSettings(sender=DRY_RUN_SENDER), regional_dir, dry_run=True,
                    force=False, lang=lang)

    checks = outcome.results.checks
    click.echo("")
    say("demo.title", lang, year=manifest.fiscal_year, period=manifest.period)
    click.echo(_summary(manifest, lang))
    click.echo("")
    counts = checks["status"].value_counts().to_dict()
    say("demo.checks", lang, n=len(checks), ok=counts.get("OK", 0), warn=counts.get("WARN", 0),
        fail=counts.get("FAIL", 0))
    flagged = [[label("check_status", c.status, lang), check_area(c.area, lang) + tr("colon", lang)
                + check_message(c.code, c.params, lang)]
               for c in outcome.results.check_rows if c.status != "OK"]
    if flagged:
        click.echo(table(["", ""], flagged, show_header=False, indent=2))
    eml = [str(r.eml) for r in results if r.eml]
    click.echo("")
    say("demo.files", lang)
    click.echo(table(["", ""], [
        [tr("demo.file.master", lang), str(master)],
        [tr("demo.file.regional", lang), f"{regional_dir} ({len(manifest.files)})"],
        [tr("demo.file.outbox", lang), f"{regional_dir / OUTBOX} ({len(eml)} .eml)"],
    ], show_header=False, indent=2))
    say("demo.next", lang, path=str(master))


COMMANDS = [regional, email, explain, demo]
