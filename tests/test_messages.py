"""What a user reads (issue 25): every message, title and summary says the right thing.

Each test reads what a person would (the command's stderr and stdout, the
``info --json``, a plot's title and tick labels from the matplotlib objects)
and asserts a property that comes from outside the code under test: the
registry's names, the step sizes a file really holds, the floats that a
printed number must read back as, a theorem (no run converges for eta > 1/2),
exact arithmetic on a dyadic lattice.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

import h5py
import matplotlib
import numpy as np
import pytest
from test_safety_cli import one_line

import eosfast
from eosfast.errors import InvalidArgument

matplotlib.use("Agg")


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("typed, meant", [("zhu5", "zhu4"), ("ZHU4", "zhu4"),
                                          ("catapul", "catapult"), ("deg33", "deg3")])
def test_a_mistyped_model_is_named_with_the_closest_and_the_list(tmp_path, here, typed, meant):
    code, _, err = here("grid", "--model", typed, "--res", "8", "-o", "g.h5", cwd=tmp_path)
    line = one_line(err)
    assert code == 2 and "--model" in line and "not a registry model" in line
    assert f"did you mean {meant!r}" in line
    assert all(name in line for name in eosfast.MODELS)  # every model, from the registry
    assert "--param" not in line  # it is not an undeclared parameter
    with pytest.raises(InvalidArgument) as exc:  # Python names the argument, not a flag
        eosfast.grid(typed, res=8)
    assert exc.value.name == "model" and "--" not in str(exc.value)


def test_an_undeclared_parameter_names_the_argument_as_each_side_spells_it(tmp_path, here):
    code, _, err = here("grid", "--model", "x*y*k", "--res", "8", "-o", "g.h5", cwd=tmp_path)
    assert code == 2 and "--param k=VALUE" in one_line(err)
    with pytest.raises(InvalidArgument) as exc:
        eosfast.grid("x*y*k", res=8)
    assert "model_params k=VALUE" in str(exc.value) and "--param" not in str(exc.value)


@pytest.fixture(scope="module")
def multi(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("multi") / "multi.h5"
    eosfast.grid(res=32, eta_range=(0.1, 0.3), eta_res=16, steps=500, out=path)
    return path


def test_a_step_size_as_summaries_print_it_finds_its_slice(tmp_path, here, multi):
    etas = eosfast.read_grid(multi).eta
    for k in (1, 2, 7):
        printed = f"{etas[k]:g}"  # what info and the old messages print: 6 digits
        code, _, err = here("plot", "basin", multi, "--eta", printed, "-o", f"b{k}.png",
                            cwd=tmp_path)
        assert code == 0, err
        if float(printed) != etas[k]:  # a near value: one note says which slice it took
            assert one_line(err) == (f"eosfast: note: eta={float(printed)!r} taken as the "
                                     f"step size {float(etas[k])!r} of {multi}")


def test_a_missing_step_size_lists_values_that_read_back_exactly(tmp_path, here, multi):
    code, _, err = here("plot", "basin", multi, "--eta", "0.11", "-o", "b.png", cwd=tmp_path)
    line = one_line(err)
    assert code == 2 and "no slice at eta=0.11" in line
    listed = re.search(r"it has ([^)]*)\)", line).group(1).split(", ")
    etas = eosfast.read_grid(multi).eta
    assert [float(v) for v in listed] == list(etas)  # pasted back, each is the file's own
    assert all(repr(float(v)) == v for v in listed)  # and the shortest text that does


@pytest.mark.parametrize("command", ["grid", "zoom", "refine"])
def test_resume_with_other_parameters_names_each_difference(tmp_path, here, command):
    first = {"grid": ["grid", "--res", "16", "--steps", "300"],
             "zoom": ["zoom", "--res", "64", "--levels", "2", "--steps", "300", "--no-images"],
             "refine": ["refine", "--base", "17", "--levels", "1", "--steps", "300",
                        "--verify", "0"]}[command]
    code, _, err = here(*first, "-o", "r.h5", "-q", cwd=tmp_path)
    assert code == 0, err
    changed = [a if a != "300" else "250" for a in first]
    code, _, err = here(*changed, "--eta", "0.25", "-o", "r.h5", "-q", "--resume",
                        cwd=tmp_path)
    line = one_line(err)
    assert code == 2, line
    assert "--steps 300 in the file, 250 asked for" in line
    assert re.search(r"--eta \[?0\.2\]? in the file, \[?0\.25\]? asked for", line), line
    assert "--force" in line


def test_refine_runs_on_the_smallest_base(tmp_path, here):
    code, _, err = here("refine", "--base", "2", "--levels", "1", "--steps", "2000",
                        "--verify", "0", "-o", "b.h5", "-q", cwd=tmp_path)
    assert code == 0, err
    raster = eosfast.read_refined(tmp_path / "b.h5").raster()
    dense = eosfast.grid(res=3, steps=2000)  # the 3 x 3 lattice, computed densely
    assert np.array_equal(raster.status, dense.status)


def test_flags_are_named_and_shared_options_read_the_same(tmp_path, here):
    code, _, err = here("grid", "--scheduler", "foo", "-o", "g.h5", cwd=tmp_path)
    assert code == 2 and one_line(err).startswith("eosfast: error: --scheduler ")
    from eosfast.cli.main import COMMANDS, cli

    helps: dict[str, set[str]] = {}
    for name in COMMANDS:
        for p in cli.get_command(None, name).params:
            if p.name in ("tol", "model") and getattr(p, "help", None):
                helps.setdefault(p.name, set()).add(p.help)
    assert len(helps["tol"]) == 1 and "expressions" in next(iter(helps["tol"]))
    assert len(helps["model"]) == 1  # one text for --model, refine's and bench's included
    bench = next(p for p in cli.get_command(None, "bench").params if p.name == "model")
    assert bench.help and "eosfast models" in bench.help


# ---------------------------------------------------------------- what was run


@pytest.fixture(scope="module")
def target2(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("t2") / "target2.h5"
    eosfast.grid("(x*y - t)**2/2", res=32, eta=0.3, steps=2000, model_params={"t": 2},
                 out=path)
    return path


def test_model_parameters_show_wherever_the_model_is_named(tmp_path, here, target2):
    code, out, _ = here("info", target2, cwd=tmp_path)
    assert code == 0 and "(x*y - t)**2/2 [t=2]" in out
    code, out, _ = here("info", target2, "--json", cwd=tmp_path)
    assert json.loads(out)["model_params"] == {"t": 2.0}
    from eosfast.plots import basins, new_figure

    r = eosfast.read_grid(target2)
    ax = new_figure(5, 4).subplots()
    basins.basin(ax, r)
    assert "[t=2]" in ax.get_title()
    assert "[t=2]" in r.summary()
    code, _, err = here("export", target2, "-o", "t.nc", "-q", cwd=tmp_path)
    assert code == 0, err
    with h5py.File(tmp_path / "t.nc") as f:
        assert json.loads(f.attrs["model_params"]) == {"t": 2.0}
    pq = pytest.importorskip("pyarrow.parquet")
    code, _, err = here("export", target2, "-o", "t.parquet", "-q", cwd=tmp_path)
    assert code == 0, err
    meta = json.loads(pq.read_schema(tmp_path / "t.parquet").metadata[b"eosfast"])
    assert meta["model_params"] == {"t": 2.0} and "[t=2]" in meta["model_label"]
    traj = eosfast.trajectory("(x*y - t)**2/2", model_params={"t": 2}, steps=10)
    assert "[t=2]" in traj.summary()


def _dyadic_unstable(n: int, lo: Fraction, hi: Fraction, eta: Fraction) -> int:
    """Lattice points of ``linspace(lo, hi, n)`` on ``xy = 1`` exactly with
    ``2 (x^2 + y^2) > 2/eta``: counted in exact arithmetic."""
    axis = [lo + (hi - lo) * Fraction(i, n - 1) for i in range(n)]
    return sum(1 for x in axis for y in axis
               if x * y == 1 and 2 * (x * x + y * y) > 2 / eta)


def test_starts_exactly_on_an_unstable_minimum_are_reported_apart(tmp_path, here):
    eosfast.grid(res=65, steps=2000, out=tmp_path / "g.h5")  # spacing 1/16 on [0, 4]
    code, out, _ = here("info", tmp_path / "g.h5", "--json", cwd=tmp_path)
    st = json.loads(out)["slices"][0]["sharpness"]
    expected = _dyadic_unstable(65, Fraction(0), Fraction(4), Fraction(1, 5))
    assert expected == 2  # (4, 1/4) and (1/4, 4): sharpness 32.125
    assert st["unstable"] == expected
    assert st["max"] <= 2 / 0.2  # the statistics hold only stably converged runs
    code, out, _ = here("info", tmp_path / "g.h5", cwd=tmp_path)
    assert "2 converged points sit exactly on a minimum sharper than 2/eta" in out
    eosfast.refine(base=65, levels=1, steps=2000, verify=0, out=tmp_path / "r.h5")
    code, out, _ = here("info", tmp_path / "r.h5", "--json", cwd=tmp_path)
    base = json.loads(out)["base_sharpness"]
    assert base["unstable"] == expected and base["max"] <= 10


def test_a_refined_title_gives_the_map_it_draws(tmp_path):
    eosfast.refine(base=17, levels=2, steps=1000, verify=0, out=tmp_path / "r.h5")
    from eosfast.plots import basins, new_figure

    raster = eosfast.read_refined(tmp_path / "r.h5").raster()
    ax = new_figure(5, 4).subplots()
    basins.basin(ax, raster)
    assert "a 65x65 refined map" in ax.get_title()  # (17 - 1) 2^2 + 1


def test_nothing_to_draw_is_said_not_drawn(tmp_path, here):
    # no run converges for eta > 1/2 (the paper's theorem): no final sharpness exists
    eosfast.grid(res=32, eta=0.6, steps=500, out=tmp_path / "g.h5")
    code, _, err = here("plot", "basin", tmp_path / "g.h5", "--field", "sharpness", "-o",
                        "s.png", cwd=tmp_path)
    assert code == 2 and "no point converged at eta=0.6" in one_line(err)
    assert not (tmp_path / "s.png").exists()
    eosfast.refine(base=17, levels=1, steps=500, verify=0, out=tmp_path / "r.h5")
    code, _, err = here("plot", "basin", tmp_path / "r.h5", "--field", "steps", "-o",
                        "r.png", cwd=tmp_path)
    line = one_line(err)
    assert code == 2 and "steps values exist only at the points it computed" in line
    assert "eosfast export" in line


def test_the_fractal_verdict_agrees_with_its_warnings(tmp_path, here):
    eosfast.grid(res=512, steps=3000, out=tmp_path / "g.h5")  # the whole [0, 4]^2
    code, out, _ = here("fractal", tmp_path / "g.h5", "--json", cwd=tmp_path)
    d = json.loads(out)
    code, text, _ = here("fractal", tmp_path / "g.h5", cwd=tmp_path)
    assert code == 0
    verdict = next(ln for ln in text.splitlines() if ln.startswith("fractality test"))
    assert d["warnings"]  # on the whole window the local slopes drift (README)
    assert not re.search(r"\): fractal;", verdict), verdict  # so never a bare "fractal"
    if not d["ln2_criterion"]:
        assert "ln 2 criterion" not in text  # printed only when it says something


# ---------------------------------------------------------------- numbers


@pytest.fixture(scope="module")
def deep_zoom(tmp_path_factory):
    d = tmp_path_factory.mktemp("zoom")
    return eosfast.zoom(levels=6, res=64, steps=2000, out=d / "z.h5")


def test_zoom_text_prints_floats_that_read_back(deep_zoom):
    for level in deep_zoom.levels:
        line = level.summary()
        nums = re.search(r"x \[([^,]+), ([^\]]+)\] y \[([^,]+), ([^\]]+)\]", line).groups()
        values = (*level.x_range, *level.y_range)
        assert [float(n) for n in nums] == list(values)
        assert all(len(n) <= len(repr(v)) for n, v in zip(nums, values, strict=True))
        assert f"(x{4 ** level.index})" in line  # x1024, never x1.02e+03


def test_deep_filmstrip_panels_are_labelled_relative_to_their_centre(deep_zoom):
    from eosfast.plots.zoom import filmstrip_figure

    fig = filmstrip_figure(deep_zoom)
    fig.canvas.draw()
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.images]
    deep = [ax for ax in axes if "y_c$ = " in ax.get_title()]
    assert deep  # x1024 of a 0.4 window near x = 3.2 is deep
    for ax in axes:
        assert "+" not in ax.xaxis.get_offset_text().get_text()  # no "1e-5+3.2" offsets
        assert "e+" not in ax.get_title()
    for ax in deep:
        cx, cy = (float(v) for v in re.search(r"y_c\$ = ([^,]+), (\S+)",
                                              ax.get_title()).groups())
        level = deep_zoom.levels[int(re.match(r"level (\d+)", ax.get_title()).group(1))]
        width = level.x_range[1] - level.x_range[0]
        # the printed centre plus the axis gives the window back, to a pixel's fraction
        lo, hi = ax.get_xlim()
        assert abs(cx + lo - level.x_range[0]) < 1e-3 * width
        assert abs(cx + hi - level.x_range[1]) < 1e-3 * width
        assert abs(cy + ax.get_ylim()[0] - level.y_range[0]) < 1e-3 * width
        assert lo < 0 < hi  # relative to the centre


def test_the_default_zoom_keeps_the_boundary_at_every_level(deep_zoom):
    assert all(lv.fractal.box_counts[0] > 0 for lv in deep_zoom.levels)
    assert all(np.isfinite(lv.fractal.box_dimension) for lv in deep_zoom.levels)


def test_export_bench_models_and_lyapunov_say_what_they_are(tmp_path, here, target2):
    code, out, _ = here("export", target2, "-o", "e.nc", "-q", cwd=tmp_path)
    assert "rows" not in out and "variables" in out
    code, out, _ = here("bench", "--res", "32", "--repeat", "1", "--steps", "200",
                        cwd=tmp_path)
    rows = [ln for ln in out.splitlines() if ln.endswith("it/s")]
    assert len(rows) == 4 and len({ln.index(" : ") for ln in rows}) == 1  # one column
    code, out, _ = here("models", cwd=tmp_path)
    assert code == 0 and "shared/" not in out
    from eosfast.plots import new_figure
    from eosfast.plots.orbits import lyapunov_strip

    ax = new_figure(4, 3).subplots()
    lyapunov_strip(ax, np.linspace(0.4, 0.5, 5), np.linspace(-0.1, 0.1, 5))
    assert "nats/step" in ax.get_ylabel()
