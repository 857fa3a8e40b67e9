"""Every invalid argument of the Python API raises EosfastError, with one readable line.

The rule (issue 10, class 15): whatever a caller passes, an entry point either
works or raises :class:`eosfast.EosfastError` (a ``ValueError``; an
:class:`~eosfast.InvalidArgument` is also a ``TypeError``) whose message is
one line, names the argument, and shows values as a user wrote them (``0.2``,
never ``np.float64(0.2)``); never whatever numpy, h5py or matplotlib would
raise, and never a silent reinterpretation (``x_range="01"`` is not (0, 1)).
Nothing is written by a refused call.
"""

import os

import numpy as np
import pytest

import eosfast
from eosfast import EosfastError, InvalidArgument

SMALL_GRID = dict(res=8, steps=5)
SMALL_TRAJ = dict(steps=5)
SMALL_BIF = dict(eta=[0.3], burn=5, record=4)
SMALL_ZOOM = dict(res=64, levels=1, steps=10)
SMALL_BENCH = dict(res=16, steps=5, repeat=1)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("api")
    eosfast.grid(res=16, steps=50, out=d / "g.h5")
    eosfast.trajectory(steps=5, out=d / "t.h5")
    eosfast.bifurcation(**SMALL_BIF, out=d / "b.h5")
    return d


def _grid(**kw):
    return lambda d: eosfast.grid(**(SMALL_GRID | kw))


def _traj(**kw):
    return lambda d: eosfast.trajectory(**(SMALL_TRAJ | kw))


def _bif(**kw):
    return lambda d: eosfast.bifurcation(**(SMALL_BIF | kw))


def _zoom(**kw):
    return lambda d: eosfast.zoom(**(SMALL_ZOOM | kw))


def _analyze(data=None, **kw):
    from eosfast.fractal import analyze

    raster = np.zeros((64, 64), bool) if data is None else data
    return lambda d: analyze(raster, **kw)


def _render(kind="basin", path="g.h5", image="out.png", **kw):
    from eosfast.plots import render_file

    return lambda d: render_file(kind, d / path if isinstance(path, str) else path,
                                 d / image if isinstance(image, str) and image else image, **kw)


def _bench(**kw):
    from eosfast.bench import bench

    return lambda d: bench(**(SMALL_BENCH | kw))


BAD = {
    # grid: every argument, and the examples of the issue
    "grid eta='fast'": _grid(eta="fast"),
    "grid eta=[]": _grid(eta=[]),
    "grid eta=[0.1, None]": _grid(eta=[0.1, None]),
    "grid eta=[[0.1]]": _grid(eta=np.array([[0.1]])),
    "grid tol=None": _grid(tol=None),
    "grid tol=nan": _grid(tol=np.nan),
    "grid escape=[1, 2]": _grid(escape=[1, 2]),
    "grid escape=True": _grid(escape=True),
    "grid tile=(1, 2, 3)": _grid(tile=(1, 2, 3)),
    "grid tile=0": _grid(tile=0),
    "grid out=5": _grid(out=5),
    "grid out=''": _grid(out=""),
    "grid out='.'": _grid(out="."),
    "grid out with NUL": _grid(out="a\0b.h5"),
    "grid out=.g.h5.lock": _grid(out=".g.h5.lock"),
    "grid out=x.h5.part": _grid(out="x.h5.part"),
    "grid out too long": _grid(out="x/" * 3000 + "g.h5"),
    "grid out=bytes": _grid(out=b"g.h5"),
    "grid progress=3": _grid(progress=3),
    "grid x_range='01'": _grid(x_range="01"),
    "grid x_range=(1, 1)": _grid(x_range=(1.0, 1.0)),
    "grid axes=(eta, eta)": _grid(axes=("eta", "eta")),
    "grid y_range=(0, inf)": _grid(y_range=(0, np.inf)),
    "grid y_range=(-1e308, 1e308)": _grid(y_range=(-1e308, 1e308)),
    "grid x_range=(0, 1e-320)": _grid(res=4096, x_range=(0.0, 1e-320)),
    "grid res=2.5": _grid(res=2.5),
    "grid res=None": _grid(res=None),
    "grid res=10**10": _grid(res=10**10),
    "grid res_x=True": _grid(res_x=True),
    "grid model=3": _grid(model=3),
    "grid model='nope'": _grid(model="nope"),
    "grid steps='10'": _grid(steps="10"),
    "grid steps=0": _grid(steps=0),
    "grid eta_range=(0.1,)": _grid(eta_range=(0.1,)),
    "grid eta_res=-1": _grid(eta_range=(0.1, 0.2), eta_res=-1),
    "grid eta_res=10**11": _grid(eta_range=(0.1, 0.2), eta_res=10**11),
    "grid threads='2'": _grid(threads="2"),
    "grid threads=1000": _grid(threads=1000),
    "grid force='yes'": _grid(force="yes"),
    "grid resume=1": _grid(resume=1),
    "grid max_period=0": _grid(max_period=0),
    "grid period_tol=-1": _grid(period_tol=-1),
    "grid scheduler=5": _grid(scheduler=5),
    # one run, orbit diagrams
    "trajectory model=None": _traj(model=None),
    "trajectory x0='1'": _traj(x0="1"),
    "trajectory y0=nan": _traj(y0=np.nan),
    "trajectory eta=0": _traj(eta=0),
    "trajectory steps=-1": _traj(steps=-1),
    "trajectory out=3": _traj(out=3),
    "trajectory escape=None": _traj(escape=None),
    "trajectory force=2": _traj(force=2),
    "bifurcation eta='x'": _bif(eta="x"),
    "bifurcation eta_range=(1,)": _bif(eta_range=(1,)),
    "bifurcation eta_res=0": _bif(eta_res=0),
    "bifurcation burn=-1": _bif(burn=-1),
    "bifurcation record=0": _bif(record=0),
    "bifurcation observable='z'": _bif(observable="z"),
    "bifurcation tol='a'": _bif(tol="a"),
    "bifurcation threads=0": _bif(threads=0),
    "bifurcation x0=None": _bif(x0=None),
    "bifurcation out=1": _bif(out=1),
    "bifurcation progress=1": _bif(progress=1),
    "bifurcation max_period=None": _bif(max_period=None),
    "bifurcation period_tol=0": _bif(period_tol=0),
    "bifurcation huge": _bif(eta=None, eta_range=(0.1, 0.2), eta_res=10**6, record=10**5),
    # zoom
    "zoom center='ab'": _zoom(center="ab"),
    "zoom width=None": _zoom(width=None),
    "zoom width=1e308": _zoom(width=1e308),
    "zoom magnification='2'": _zoom(magnification="2"),
    "zoom levels=1.5": _zoom(levels=1.5),
    "zoom res=32": _zoom(res=32),
    "zoom eta=[0.2]": _zoom(eta=[0.2]),
    "zoom out=4": _zoom(out=4),
    "zoom threads=0": _zoom(threads=0),
    "zoom filmstrip=3": _zoom(filmstrip=3),
    "zoom filmstrip=x.xyz": _zoom(filmstrip="x.xyz"),
    "zoom track='y'": _zoom(track="y"),
    "zoom resume=2": _zoom(resume=2),
    "zoom force=None": _zoom(force=None),
    "zoom progress=1": _zoom(progress=1),
    "zoom steps=None": _zoom(steps=None),
    # analysis
    "analyze data=None": lambda d: eosfast.fractal.analyze(None),
    "analyze data=path": lambda d: eosfast.fractal.analyze(str(d / "g.h5")),
    "analyze data=zeros(5)": _analyze(data=np.zeros(5)),
    "analyze eta='a'": _analyze(eta="a"),
    "analyze split=3": _analyze(split=3),
    "analyze classes=None": _analyze(classes=None),
    "analyze fit=(1,)": _analyze(fit=(1,)),
    "analyze fit='ab'": _analyze(fit="ab"),
    "analyze fit=(3, 1)": _analyze(fit=(3, 1)),
    "analyze entropy_box=0": _analyze(entropy_box=0),
    "analyze radius=-1": _analyze(radius=-1),
    "analyze balls='x'": _analyze(balls="x"),
    "analyze seed=None": _analyze(seed=None),
    "analyze pixel='ab'": _analyze(pixel="ab"),
    "analyze pixel=(0, 1)": _analyze(pixel=(0.0, 1.0)),
    "analyze uncertainty_fit=(3, 1)": _analyze(uncertainty_fit=(3, 1)),
    # readers
    "read_grid None": lambda d: eosfast.read_grid(None),
    "read_grid 5": lambda d: eosfast.read_grid(5),
    "read_grid NUL": lambda d: eosfast.read_grid("g\0.h5"),
    "read_grid name too long": lambda d: eosfast.read_grid("g" * 300 + ".h5"),
    "read_grid missing": lambda d: eosfast.read_grid(d / "nope.h5"),
    "read_grid folder": lambda d: eosfast.read_grid(d),
    "read_grid trajectory file": lambda d: eosfast.read_grid(d / "t.h5"),
    "read_grid eta='x'": lambda d: eosfast.read_grid(d / "g.h5", eta="x"),
    "read_grid eta=0.3": lambda d: eosfast.read_grid(d / "g.h5", eta=0.3),
    "read_grid fields='nope'": lambda d: eosfast.read_grid(d / "g.h5", fields="nope"),
    "read_grid fields=5": lambda d: eosfast.read_grid(d / "g.h5", fields=5),
    "read_frame None": lambda d: eosfast.read_frame(None),
    "read_frame eta=[1]": lambda d: eosfast.read_frame(d / "g.h5", eta=[1]),
    "read_frame columns='nope'": lambda d: eosfast.read_frame(d / "g.h5", columns="nope"),
    "read_frame columns=[1]": lambda d: eosfast.read_frame(d / "g.h5", columns=[1]),
    "read_frame index='yes'": lambda d: eosfast.read_frame(d / "g.h5", index="yes"),
    "read_frame bifurcation file": lambda d: eosfast.read_frame(d / "b.h5"),
    "info None": lambda d: eosfast.info(None),
    "info 3": lambda d: eosfast.info(3),
    "info as_json='yes'": lambda d: eosfast.info(d / "t.h5", as_json="yes"),
    "read_trajectory None": lambda d: eosfast.read_trajectory(None),
    "read_trajectory grid file": lambda d: eosfast.read_trajectory(d / "g.h5"),
    "read_bifurcation 3": lambda d: eosfast.read_bifurcation(3),
    "read_zoom grid file": lambda d: eosfast.read_zoom(d / "g.h5"),
    "load_slice None": lambda d: eosfast.fractal.load_slice(None),
    "load_slice eta='x'": lambda d: eosfast.fractal.load_slice(d / "g.h5", eta="x"),
    "verify None": lambda d: eosfast.store.verify(None),
    # plots
    "render kind='nope'": _render(kind="nope"),
    "render kind=None": _render(kind=None),
    "render path=None": _render(path=None),
    "render image=None": _render(image=None),
    "render image=''": _render(image=""),
    "render image=input": _render(image="g.h5", force=True),
    "render image=x.xyz": _render(image="x.xyz"),
    "render field='nope'": _render(field="nope"),
    "render eta='x'": _render(eta="x"),
    "render band=None": _render(band=None),
    "render x0='a'": _render(kind="adaptivity", x0="a"),
    "render dpi=0": _render(dpi=0),
    "render dpi=1.5": _render(dpi=1.5),
    "render dpi=10**6": _render(dpi=10**6),
    "render force='no'": _render(force="no"),
    "render trajectory of a grid": _render(kind="trajectory"),
    # bench
    "bench model=None": _bench(model=None),
    "bench res=0": _bench(res=0),
    "bench eta='x'": _bench(eta="x"),
    "bench steps=None": _bench(steps=None),
    "bench threads=0": _bench(threads=0),
    "bench numpy_res=0": _bench(numpy_res=0),
    "bench numpy_res=10**7": _bench(numpy_res=10**7),
    "bench repeat=0": _bench(repeat=0),
    "bench repeat=1.5": _bench(repeat=1.5),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_arguments_raise_one_readable_line(case, files, monkeypatch):
    monkeypatch.chdir(files)
    before = sorted(os.listdir(files))
    with pytest.raises(EosfastError) as exc:
        BAD[case](files)
    message = str(exc.value)
    assert isinstance(exc.value, ValueError)
    assert "\n" not in message and message.strip()
    assert "np." not in message and "float64(" not in message and "array(" not in message
    if isinstance(exc.value, InvalidArgument):
        assert isinstance(exc.value, TypeError) and exc.value.name in message
        words = case.split()
        if len(words) > 1 and "=" in words[1]:  # "grid tol=None": tol is the one at fault
            assert exc.value.name == words[1].split("=")[0], message
    assert sorted(os.listdir(files)) == before


def test_strings_are_not_read_as_numbers():
    """``x_range="01"`` was once read as (0, 1); a string is never a number here."""
    with pytest.raises(InvalidArgument, match="x_range must be two numbers, got '01'"):
        eosfast.grid(res=8, steps=5, x_range="01")
    with pytest.raises(InvalidArgument, match="eta"):
        eosfast.grid(res=8, steps=5, eta="0.2")


def test_run_nets_arguments():
    pytest.importorskip("jax")
    from eosfast.nets import run_nets

    for kw in (dict(arch="nope"), dict(arch="scalar4", etas="x"), dict(arch="scalar4", steps=0),
               dict(arch="scalar4", out=3), dict(arch="scalar4", force="y"),
               dict(arch="scalar4", progress=1), dict(arch="scalar4", etas=[np.nan])):
        with pytest.raises(EosfastError) as exc:
            run_nets(**kw)
        assert "\n" not in str(exc.value) and "np." not in str(exc.value)
