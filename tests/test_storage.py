"""Saving under faults, on a real file system: symlinks, a read-only folder with the
permission check in force, a disk that fills up, racing runs, a run killed mid-save, a
folder given as a file, a missing folder. Every case runs the real ``xl-addin`` in a
child process and checks the exit code, the exact message, and that the files are byte
for byte what they were."""
from __future__ import annotations

import errno
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings, strategies as st

from xl_addin.storage import (LOCK_PREFIX, TEMP_PREFIX, StorageError, check_not_locked, locked,
                              write_atomic)

ROOT = Path(__file__).resolve().parents[1]
ERR = "错误："   # the sample master is Chinese; so is a run without a workbook
DROP_DAC = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
            "--bounding-set=-dac_override,-dac_read_search"]


def xl(*args, env: dict | None = None, prefix: list[str] = ()) -> subprocess.CompletedProcess:
    """``xl-addin ARGS`` in a child process running this checkout."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([*prefix, sys.executable, "-m", "xl_addin.cli", *map(str, args)],
                          capture_output=True, text=True, env=full_env, timeout=300)


def spawn(*args, env: dict | None = None) -> subprocess.Popen:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "xl_addin.cli", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env)


def run_log(path: Path) -> list[tuple]:
    """tblRunLog's data rows, read with openpyxl (not our reader)."""
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        if "tblRunLog" in ws.tables:
            ref = ws.tables["tblRunLog"].ref
            rows = [tuple(c.value for c in r) for r in ws[ref]][1:]
            return [r for r in rows if any(v is not None for v in r)]
    raise AssertionError("no tblRunLog")


def listing(folder: Path) -> dict[str, bytes | str]:
    """Every entry of ``folder``: a file's bytes, a symlink's target."""
    out: dict[str, bytes | str] = {}
    for p in sorted(folder.iterdir()):
        out[p.name] = f"-> {os.readlink(p)}" if p.is_symlink() else (p.read_bytes() if p.is_file() else "dir")
    return out


def ours(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith((TEMP_PREFIX, LOCK_PREFIX)))


@pytest.fixture
def master(sample_master) -> Path:
    """The sample master with a .bak (one recalc done), in its own folder."""
    r = xl("recalc", sample_master)
    assert r.returncode == 0, r.stderr
    assert sample_master.with_name(sample_master.name + ".bak").is_file()
    return sample_master


def _bak(p: Path) -> Path:
    return p.with_name(p.name + ".bak")


# ----------------------------------------------------------------------------- symlinks

def test_symlinked_master_updates_the_file_it_points_to(master, tmp_path):
    real_dir = tmp_path / "shared"
    real_dir.mkdir()
    real = real_dir / "plan.xlsx"
    shutil.move(master, real)
    before = real.read_bytes()
    rows_before = len(run_log(real))
    link = tmp_path / "desk" / "plan-link.xlsx"
    link.parent.mkdir()
    link.symlink_to(real)

    r = xl("recalc", link)

    assert r.returncode == 0, r.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)        # the link stays a link
    assert len(run_log(real)) == rows_before + 1                        # the real file got the row
    assert _bak(real).read_bytes() == before                            # its backup beside it
    assert sorted(p.name for p in link.parent.iterdir()) == ["plan-link.xlsx"]
    assert ours(real_dir) == []


def test_symlinked_bak_is_replaced_never_followed(master, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"someone else's file\n")
    before = master.read_bytes()
    _bak(master).unlink()
    _bak(master).symlink_to(victim)

    r = xl("recalc", master)

    assert r.returncode == 0, r.stderr
    assert victim.read_bytes() == b"someone else's file\n"
    assert not _bak(master).is_symlink()
    assert _bak(master).read_bytes() == before


def test_regional_and_email_files_that_are_symlinks_are_replaced(master, tmp_path):
    out = tmp_path / "regional"
    r = xl("email", master, "--dir", out, "--dry-run")
    assert r.returncode == 0, r.stderr
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"keep me\n")
    planted = [out / "manifest.json", out / "send-log.jsonl", *sorted((out / "outbox").glob("*.eml")),
               *sorted(out.glob("*.xlsx"))]
    assert len(planted) > 4
    for p in planted:
        p.unlink()
        p.symlink_to(victim)

    r = xl("email", master, "--dir", out, "--dry-run")

    assert r.returncode == 0, r.stderr
    assert victim.read_bytes() == b"keep me\n"
    for p in planted:
        assert p.is_file() and not p.is_symlink(), p


# ----------------------------------------------------------------------------- read-only folder

@pytest.fixture
def no_dac_override(tmp_path):
    """The child runs as root without CAP_DAC_OVERRIDE, so folder permissions hold for it."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to drop the override capability")
    probe = tmp_path / "probe"
    probe.mkdir()
    probe.chmod(0o555)
    r = subprocess.run([*DROP_DAC, "touch", str(probe / "x")], capture_output=True)
    probe.chmod(0o755)
    if r.returncode == 0:
        pytest.skip("dropping CAP_DAC_OVERRIDE did not take effect here")
    return DROP_DAC


def test_read_only_folder_exit_2_one_line_nothing_changed(master, tmp_path, no_dac_override):
    ro = master.parent
    csv = tmp_path / "actuals.csv"
    assert xl("export", master, "--table", "tblActuals", "-o", csv).returncode == 0
    before = listing(ro)
    ro.chmod(0o555)
    try:
        r = xl("recalc", master, prefix=no_dac_override)
        imp = xl("import", master, "--table", "tblActuals", csv, prefix=no_dac_override)
        new = xl("new", "-o", ro / "new.xlsx", prefix=no_dac_override)
        exp = xl("export", master, "--table", "tblTeam", "-o", ro / "team.csv", prefix=no_dac_override)
        reg = xl("regional", master, "-o", ro / "regional", prefix=no_dac_override)
        addin = xl("addin", "build", "-o", ro, prefix=no_dac_override)
    finally:
        ro.chmod(0o755)

    why = (f"permission denied: you may not write in {ro}; choose a folder you can write to, "
           "or ask its owner for write access; nothing was changed")
    assert (r.returncode, r.stderr) == (2, f"{ERR}{master}: {why}\n")
    assert (imp.returncode, imp.stderr) == (2, f"{ERR}{master}: {why}\n")
    assert (new.returncode, new.stderr) == (2, f"{ERR}{ro / 'new.xlsx'}: {why}\n")
    assert (exp.returncode, exp.stderr) == (2, f"{ERR}{ro / 'team.csv'}: {why}\n")
    assert (reg.returncode, reg.stderr) == (2, f"{ERR}{ro / 'regional'}: Permission denied；"
                                               "请检查该文件及其文件夹的权限\n")
    assert (addin.returncode, addin.stderr) == (2, f"{ERR}{ro / 'xl_addin.xlam'}: {why}\n")
    assert listing(ro) == before


# ----------------------------------------------------------------------------- full disk

@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs, mounted for the test (skipped where we may not mount)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def _fill(path: Path) -> None:
    """Write ``path`` until the disk is full."""
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as e:
            assert e.errno == errno.ENOSPC


def test_full_disk_leaves_master_and_bak_as_they_were(sample_master, small_disk):
    m = small_disk / "plan.xlsx"
    shutil.copy(sample_master, m)
    assert xl("recalc", m).returncode == 0
    _fill(small_disk / "filler.bin")
    before = listing(small_disk)

    r = xl("recalc", m)

    assert (r.returncode, r.stderr) == (2, f"{ERR}{m}: no space left on the disk holding "
                                           f"{small_disk}; free some space or write elsewhere, "
                                           "then try again; nothing was changed\n")
    assert listing(small_disk) == before          # master, .bak and filler byte for byte; no temp
    (small_disk / "filler.bin").unlink()
    assert xl("recalc", m).returncode == 0        # with space again, the next run saves
    assert _bak(m).read_bytes() == before["plan.xlsx"]


# ----------------------------------------------------------------------------- racing runs

def test_racing_recalcs_lose_no_run_log_row(master):
    rows_before = run_log(master)
    procs = [spawn("recalc", master, env={"XL_ADDIN_LOCK_TIMEOUT": "120"}) for _ in range(3)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]

    assert [rc for rc, _ in results] == [0, 0, 0], results
    rows = run_log(master)
    assert rows[:len(rows_before)] == rows_before
    assert [r[2] for r in rows[len(rows_before):]] == ["recalc"] * 3   # 1 + 3 rows, none lost
    assert ours(master.parent) == []


def test_second_run_waits_then_exits_2_saying_who_holds_it(master, tmp_path):
    csv = tmp_path / "team.csv"
    assert xl("export", master, "--table", "tblTeam", "-o", csv).returncode == 0
    before = listing(master.parent)
    with locked(master):
        t0 = time.monotonic()
        r = xl("recalc", master, env={"XL_ADDIN_LOCK_TIMEOUT": "1.5"})
        waited = time.monotonic() - t0
        imp = xl("import", master, "--table", "tblTeam", csv, env={"XL_ADDIN_LOCK_TIMEOUT": "0.5"})
        check_not_locked(master)          # our own lock is not an Excel owner file
    busy = (f"{ERR}{master}: another xl-addin run is using it (process {os.getpid()}); "
            "waited {} s. Let that run finish, then try again\n")
    assert (r.returncode, r.stderr) == (2, busy.format("1.5"))
    assert waited >= 1.5
    assert (imp.returncode, imp.stderr) == (2, busy.format("0.5"))
    assert listing(master.parent) == before


# ----------------------------------------------------------------------------- killed mid-save

def test_sigkill_during_save_keeps_files_and_next_run_cleans_up(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from synth import synth_inputs, write_master

    m = tmp_path / "big.xlsx"
    write_master(synth_inputs(1500, 3), m)
    shutil.copy(m, _bak(m))
    before = listing(tmp_path)

    proc = spawn("recalc", m)
    temp = None
    while proc.poll() is None and temp is None:
        temp = next((n for n in os.listdir(tmp_path) if n.startswith(TEMP_PREFIX)), None)
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert temp is not None and proc.returncode == -signal.SIGKILL, "the run ended before its save"

    after = listing(tmp_path)
    leftovers = [n for n in after if n not in before]
    assert leftovers and all(n.startswith((TEMP_PREFIX, LOCK_PREFIX)) for n in leftovers)
    assert {n: after[n] for n in before} == before          # master and .bak byte for byte

    r = xl("recalc", m)
    assert r.returncode == 0, r.stderr
    assert ours(tmp_path) == []                             # the leftovers are gone
    assert _bak(m).read_bytes() == before["big.xlsx"]


# ----------------------------------------------------------------------------- wrong paths

def test_folder_given_as_a_file(master, tmp_path):
    d = tmp_path / "a-folder"
    d.mkdir()
    for args in (("new", "-o", d), ("export", master, "--table", "tblTeam", "-o", d)):
        r = xl(*args)
        assert (r.returncode, r.stderr) == (2, f"{ERR}{d}: is a folder, not a file; give a file "
                                               "name; nothing was changed\n"), args
    r = xl("recalc", d)
    assert (r.returncode, r.stderr) == (2, f"{ERR}{d}: is a folder, not a workbook; give the "
                                           "workbook's file name\n")
    assert list(d.iterdir()) == []
    _bak(master).unlink()
    _bak(master).mkdir()
    before = listing(master.parent)
    r = xl("recalc", master)
    assert (r.returncode, r.stderr) == (2, f"{ERR}{_bak(master)}: is a folder, where the previous "
                                           f"{master.name} is kept as a file; move the folder "
                                           "away; nothing was changed\n")
    assert listing(master.parent) == before


def test_missing_output_folder(master, tmp_path):
    missing = tmp_path / "no" / "such"
    for target, args in ((missing / "x.xlsx", ("new",)),
                         (missing / "t.csv", ("export", master, "--table", "tblTeam"))):
        r = xl(*args, "-o", target)
        assert (r.returncode, r.stderr) == (2, f"{ERR}{target}: the folder {missing} does not exist; "
                                               "create the folder first or choose another; "
                                               "nothing was changed\n"), args
    assert not (tmp_path / "no").exists()


def test_recalc_keeps_the_files_permissions(master):
    master.chmod(0o640)
    assert xl("recalc", master).returncode == 0
    assert stat.S_IMODE(master.stat().st_mode) == 0o640


# ----------------------------------------------------------------------------- the primitive

class Boom(Exception):
    pass


@settings(max_examples=60, deadline=None)
@given(old=st.one_of(st.none(), st.binary(max_size=300)), bak=st.one_of(st.none(), st.binary(max_size=300)),
       new=st.binary(max_size=300), fail_after=st.one_of(st.none(), st.integers(0, 300)),
       backup=st.booleans())
def test_write_atomic_is_all_or_nothing(tmp_path_factory, old, bak, new, fail_after, backup):
    """Whatever the write does before it fails, target and .bak are exactly as before and
    nothing is left behind; when it succeeds the target is the new bytes and the .bak the
    old ones."""
    d = tmp_path_factory.mktemp("atomic")
    target = d / "f.bin"
    if old is not None:
        target.write_bytes(old)
    if bak is not None:
        _bak(target).write_bytes(bak)
    before = listing(d)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            if fail_after is not None and fail_after <= len(new):
                f.write(new[:fail_after])
                f.flush()
                raise Boom
            f.write(new)

    if fail_after is not None and fail_after <= len(new):
        with pytest.raises(Boom):
            write_atomic(target, write, backup=backup)
        assert listing(d) == before
    else:
        write_atomic(target, write, backup=backup)
        expect = dict(before, **{"f.bin": new})
        if backup and old is not None:
            expect["f.bin.bak"] = old
        assert listing(d) == expect


def test_write_atomic_oserror_becomes_one_line(tmp_path):
    target = tmp_path / "f.bin"

    def write(tmp: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp))

    with pytest.raises(StorageError) as e:
        write_atomic(target, write)
    assert str(e.value) == (f"{target}: no space left on the disk holding {tmp_path}; free some "
                            "space or write elsewhere, then try again; nothing was changed")
    assert list(tmp_path.iterdir()) == []


def test_write_atomic_leaves_another_files_error_alone(tmp_path):
    """An OS error about a file the writer reads (a missing template) keeps its own path
    and message; the temporary file is still removed."""
    missing = tmp_path / "templates" / "regional.xlsx"

    def write(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        open(missing, "rb")

    with pytest.raises(FileNotFoundError) as e:
        write_atomic(tmp_path / "out.xlsx", write)
    assert e.value.filename == str(missing)
    assert list(tmp_path.iterdir()) == []
