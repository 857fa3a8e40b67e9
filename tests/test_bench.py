"""The benchmark's NumPy implementation is the same computation as the kernel."""

import json

import numpy as np
import pytest

import eosfast
from eosfast.bench import numpy_grid
from eosfast.tiles import compute_tile


@pytest.mark.parametrize("model", list(eosfast.NETWORKS))
def test_numpy_implementation_matches_kernel(model):
    x0 = np.linspace(-0.3, 3.7, 41)
    y0 = np.linspace(0.0, 3.9, 37)
    tile = compute_tile(model, x0, y0, 0.2, 800, 1e-12, 1e3)
    xs, ys = np.meshgrid(x0, y0)
    status, steps = numpy_grid(xs.ravel(), ys.ravel(), 0.2, model, 800)
    expected = tile["status"].ravel().copy()
    expected[expected == 2] = 0  # NumPy version does no period search
    assert np.array_equal(status, expected)
    assert np.array_equal(steps, tile["steps"].ravel())


def test_bench_command_reports_rates(capsys):
    from eosfast.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(["bench", "--res", "48", "--repeat", "1", "--json", "--steps", "300"])
    assert exc.value.code == 0
    d = json.loads(capsys.readouterr().out)
    for key in ("eosfast_1", "eosfast_n", "numpy", "speedup_numpy", "thread_scaling"):
        assert d[key] > 0
    assert d["points"] == d["numpy_points"] == 48 * 48
    # both sides count the steps actually run: same points, same iterations
    assert d["iterations"] == d["numpy_iterations"]
