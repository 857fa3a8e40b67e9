"""The command line: bad input is one line and exit 2, files are never half-written."""

import os
import stat

import h5py
import pytest

from eosfast.cli.main import main


def call(capsys, *args):
    """Run ``eosfast ARGS`` in-process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


BAD = [
    ["--res", "0"],
    ["--res", "-3"],
    ["--res", "abc"],
    ["--res", "3000000"],  # 9e12 points: does not fit on disk
    ["--eta", "0"],
    ["--eta", "-0.1"],
    ["--eta", "nan"],
    ["--eta", "inf"],
    ["--x-range", "1", "1"],
    ["--y-range", "2", "1"],
    ["--x-range", "0", "inf"],
    ["--y-range", "nan", "1"],
    ["--eta-range", "0.3", "0.1", "--eta-res", "3"],
    ["--eta-range", "0.1", "0.3"],
    ["--steps", "0"],
    ["--tol", "0"],
    ["--tol", "-1e-9"],
    ["--escape", "0"],
    ["--model", "nope"],
    ["--threads", "0"],
    ["--bogus-option"],
]


@pytest.mark.parametrize("args", BAD, ids=[" ".join(a) for a in BAD])
def test_bad_input_is_one_line_exit_2_and_leaves_nothing(tmp_path, capsys, args):
    out = tmp_path / "g.h5"
    code, stdout, err = call(capsys, "grid", "--res", "8", "--steps", "5", "-o", out, *args)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("eosfast: error:")
    assert os.listdir(tmp_path) == []


def test_missing_and_read_only_folders(tmp_path, capsys):
    code, _, err = call(capsys, "grid", "--res", "8", "-o", tmp_path / "no" / "g.h5")
    assert code == 2 and "does not exist" in err
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        code, _, err = call(capsys, "grid", "--res", "8", "-o", ro / "g.h5")
        assert code == 2 and "read-only" in err and len(err.strip().splitlines()) == 1
        assert os.listdir(ro) == []
    finally:
        ro.chmod(0o755)


def test_existing_output_needs_force(tmp_path, capsys):
    out = tmp_path / "g.h5"
    out.write_text("keep me")
    code, _, err = call(capsys, "grid", "--res", "8", "--steps", "5", "-o", out)
    assert code == 2 and "--force" in err
    assert out.read_text() == "keep me" and sorted(os.listdir(tmp_path)) == ["g.h5"]
    code, stdout, _ = call(capsys, "grid", "--res", "8", "--steps", "5", "-o", out, "--force")
    assert code == 0 and "8x8" in stdout
    with h5py.File(out) as f:
        assert f["status"].shape == (1, 8, 8)


def test_resume_mismatch_and_foreign_file(tmp_path, capsys):
    out = tmp_path / "g.h5"
    assert call(capsys, "grid", "--res", "8", "--steps", "5", "-o", out)[0] == 0
    before = out.read_bytes()
    code, _, err = call(capsys, "grid", "--res", "9", "--steps", "5", "-o", out, "--resume")
    assert code == 2 and "other parameters" in err
    assert out.read_bytes() == before
    # same parameters: nothing to do, still success
    code, stdout, _ = call(capsys, "grid", "--res", "8", "--steps", "5", "-o", out, "--resume")
    assert code == 0 and out.read_bytes() == before
    foreign = tmp_path / "x.h5"
    with h5py.File(foreign, "w") as f:
        f["data"] = [1, 2, 3]
    code, _, err = call(capsys, "grid", "--res", "8", "-o", foreign, "--resume")
    assert code == 2 and "not an eosfast" in err


def test_grid_summary_and_info(tmp_path, capsys):
    out = tmp_path / "g.h5"
    code, stdout, err = call(capsys, "grid", "--res", "32", "--eta", "0.2", "--eta", "0.3",
                             "--steps", "200", "-o", out)
    assert code == 0 and err == ""  # no progress bar when stderr is not a terminal
    line = stdout.strip()
    assert len(line.splitlines()) == 1
    assert "converged" in line and "diverged" in line and "it/s" in line
    code, stdout, _ = call(capsys, "info", out)
    assert code == 0 and "0.3" in stdout and "converged" in stdout
    code, _, err = call(capsys, "info", tmp_path / "missing.h5")
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_console_script_help_and_version(run_cli):
    code, out, err = run_cli("--help")
    assert code == 0 and "grid" in out
    code, out, _ = run_cli("--version")
    assert code == 0 and "eosfast" in out
    code, out, _ = run_cli("grid", "--help")
    assert code == 0 and "--eta-range" in out and "--resume" in out
    code, _, err = run_cli("grid", "--res", "0", "-o", "x.h5")
    assert code == 2 and len(err.strip().splitlines()) == 1
