"""Sharpness adaptivity: final sharpness against eta from one initial point (Corollary 3.2)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import defaults, validate
from .models import Model, get_model
from .result import Result
from .status import Status
from .stoprule import StopRule
from .tiles import compute_points


@dataclass(repr=False)
class Adaptivity(Result):
    """Final sharpness against eta from one initial point (Corollary 3.2).

    Attributes
    ----------
    model : str
    x0, y0 : float
    eta : ndarray, shape (m,), float64
    sharpness : ndarray, shape (m,), float64
        Network sharpness at the final iterate (NaN if diverged).
    status : ndarray, shape (m,), int8
        The grid's codes: 1 converged, 2 periodic, 0 bounded, -1 diverged.
    steps : ndarray, shape (m,), int32
        Step at which the run stopped.
    """

    model: str
    x0: float
    y0: float
    eta: np.ndarray
    sharpness: np.ndarray
    status: np.ndarray
    steps: np.ndarray
    params: dict = field(default_factory=dict)

    def summary(self) -> str:
        conv = self.status == Status.CONVERGED
        return (f"{self.model_label} from ({self.x0:g}, {self.y0:g}): {self.eta.size} eta in "
                f"[{self.eta.min():g}, {self.eta.max():g}], {int(conv.sum())} converged")


def adaptivity(model: str | Model = defaults.MODEL, x0: float = defaults.TRAJECTORY_X0,
               y0: float = defaults.TRAJECTORY_Y0,
               eta: Sequence[float] | np.ndarray = (0.1, 0.25), eta_res: int = 50,
               steps: int = 50000, tol: float = defaults.TOL,
               escape: float = defaults.ESCAPE,
               model_params: Mapping[str, float] | Iterable[str] | None = None) -> Adaptivity:
    """Final sharpness from ``(x0, y0)`` for a range of step sizes (grid kernel).

    Parameters
    ----------
    eta : array_like
        Two numbers ``(lo, hi)`` for ``linspace(lo, hi, eta_res)``, or an explicit
        array of more (or fewer) than two step sizes.
    steps, tol, escape : int, float, float
        The grid's step cap, convergence tolerance and escape radius.

    Returns
    -------
    Adaptivity
    """
    m = get_model(model, model_params)
    e = np.asarray(eta, dtype=np.float64)
    if e.size == 2:
        etas = validate.step_sizes(None, tuple(e), eta_res)
    else:
        etas = validate.step_sizes(e.tolist(), None, None)
    rule = StopRule.checked(steps, tol, escape)
    n = etas.size
    xs = np.full(n, validate.real("x0", x0))
    ys = np.full(n, validate.real("y0", y0))
    out = compute_points(m, xs, ys, etas, rule)
    return Adaptivity(m.spec.model, float(x0), float(y0), etas, out["sharpness"], out["status"],
                      out["steps"])


#: The init of the paper's sharpness-adaptivity example (s. 3): what
#: :func:`from_grid` draws by default when its runs converge.
THEOREM_INIT = (defaults.TRAJECTORY_X0, defaults.TRAJECTORY_Y0)


def converged_counts(f) -> np.ndarray:
    """Per init, at how many step sizes its run converged: int32, shape (ny, nx).

    ``f`` is an open grid file; read one eta slice at a time.
    """
    from .store.gridfile import read_array

    ne, ny, nx = f["status"].shape
    count = np.zeros((ny, nx), dtype=np.int32)
    for k in range(ne):
        count += read_array(f, "status", k) == Status.CONVERGED
    return count


def from_grid(path, x0: float | None = None, y0: float | None = None) -> Adaptivity:
    """Final sharpness against eta at one init of a grid file with several step sizes.

    Parameters
    ----------
    path : path-like
        A grid file holding at least two step sizes.
    x0, y0 : float, optional
        The init (the grid point nearest it is used). By default the
        theorem's init (2.5, 0.35) when it lies in the grid and its runs
        converge at two step sizes or more; otherwise the init whose runs
        converge at the most step sizes (the one nearest (2.5, 0.35) among
        equals). The grid's centre is no default: on ``[0, 4]^2`` it diverges
        at every step size.

    Returns
    -------
    Adaptivity

    Raises
    ------
    EosfastError
        The file holds one step size, no init converges at any step size,
        or the init asked for converges at none (the message names the
        best one).
    """
    from .errors import EosfastError
    from .store.gridfile import axes_of, open_grid

    with open_grid(path) as f:
        if axes_of(f) != ("eta", "y0", "x0"):
            raise EosfastError(f"{path} is a plane over {', '.join(axes_of(f)[:0:-1])}; "
                               "adaptivity needs a grid of initial points over several eta "
                               "(or draw it: eosfast plot basin --field sharpness)")
        etas, xs, ys = f["eta"][:], f["x0"][:], f["y0"][:]
        if etas.size < 2:
            raise EosfastError(f"{path} holds one step size; adaptivity needs several")
        count = converged_counts(f)
        best = int(count.max())
        if best == 0:
            raise EosfastError(f"no init of {path} converges at any of its {etas.size} step "
                               "sizes: nothing to draw (raise --steps, or widen the ranges)")

        def nearest(px: float, py: float) -> tuple[int, int]:
            return int(np.abs(ys - py).argmin()), int(np.abs(xs - px).argmin())

        # among the inits converging at the most step sizes, the one nearest the theorem's
        cand_y, cand_x = np.nonzero(count == best)
        d = (xs[cand_x] - THEOREM_INIT[0]) ** 2 + (ys[cand_y] - THEOREM_INIT[1]) ** 2
        k = int(d.argmin())
        top = (int(cand_y[k]), int(cand_x[k]))
        if x0 is None and y0 is None:
            iy, ix = top
            inside = xs[0] <= THEOREM_INIT[0] <= xs[-1] and ys[0] <= THEOREM_INIT[1] <= ys[-1]
            if inside:
                ty, tx = nearest(*THEOREM_INIT)
                if count[ty, tx] >= 2:
                    iy, ix = ty, tx
        else:
            px = xs[xs.size // 2] if x0 is None else validate.real("x0", x0)
            py = ys[ys.size // 2] if y0 is None else validate.real("y0", y0)
            iy, ix = nearest(px, py)
            if count[iy, ix] == 0:
                raise EosfastError(
                    f"the init ({float(xs[ix])!r}, {float(ys[iy])!r}) of {path} converges at "
                    f"none of its {etas.size} step sizes: nothing to draw; "
                    f"({float(xs[top[1]])!r}, {float(ys[top[0]])!r}) converges at {best} of them")
        sharp = f["sharpness"][:, iy, ix]
        status = f["status"][:, iy, ix]
        steps = f["steps"][:, iy, ix]
        from .store.h5 import read_params

        return Adaptivity(str(f.attrs["model"]), float(xs[ix]), float(ys[iy]), etas, sharp,
                          status, steps, read_params(f))
