"""Checks of every API argument, in one place.

Each function takes the argument's name (for the message) and its value, and
returns the value in its canonical type or raises
:class:`~eosfast.errors.InvalidArgument` with a one-line message naming the
argument (the command line respells the name as the flag the user typed).
Numbers must be real numbers, not strings or booleans: ``grid(x_range="01")``
is refused rather than read as ``(0, 1)``.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InvalidArgument


def show(value: Any) -> str:
    """A value as a user wrote it, for messages: ``0.2``, not ``np.float64(0.2)``."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    if isinstance(value, str | bytes):
        text = repr(str(value) if isinstance(value, str) else bytes(value))
    elif isinstance(value, np.ndarray):
        text = (show(value.tolist()) if value.size <= 8
                else f"an array of shape {tuple(value.shape)} ({value.dtype})")
    elif isinstance(value, list | tuple):
        items = ", ".join(show(v) for v in value[:8]) + (", ..." if len(value) > 8 else "")
        text = f"[{items}]" if isinstance(value, list) else \
            f"({items}{',' if len(value) == 1 else ''})"
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_show = show


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def real(name: str, value: Any, *, positive: bool = False, nonnegative: bool = False) -> float:
    """A finite real number (``> 0`` with ``positive``, ``>= 0`` with ``nonnegative``)."""
    if not _is_real(value):
        raise InvalidArgument(f"{{{name}}} must be a number, got {_show(value)}", name)
    v = float(value)
    if not math.isfinite(v):
        raise InvalidArgument(f"{{{name}}} must be finite, got {_show(v)}", name)
    if positive and not v > 0:
        raise InvalidArgument(f"{{{name}}} must be positive, got {_show(v)}", name)
    if nonnegative and not v >= 0:
        raise InvalidArgument(f"{{{name}}} must be at least 0, got {_show(v)}", name)
    return v


def integer(name: str, value: Any, lo: int | None = 1, hi: int | None = None) -> int:
    """An integer in ``[lo, hi]`` (a float is accepted only if integral)."""
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral) \
            and not isinstance(value, bool | np.bool_):
        if not (math.isfinite(value) and float(value).is_integer()):
            raise InvalidArgument(f"{{{name}}} must be an integer, got {_show(value)}", name)
    elif not isinstance(value, numbers.Integral) or isinstance(value, bool | np.bool_):
        raise InvalidArgument(f"{{{name}}} must be an integer, got {_show(value)}", name)
    v = int(value)
    if lo is not None and v < lo:
        raise InvalidArgument(f"{{{name}}} must be at least {lo}, got {v}", name)
    if hi is not None and v > hi:
        raise InvalidArgument(f"{{{name}}} must be at most {hi}, got {v}", name)
    return v


def pair(name: str, value: Any, *, ordered: bool = True) -> tuple[float, float]:
    """Two finite numbers; with ``ordered``, ``LO < HI`` and a finite width ``HI - LO``."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray) \
            or len(value) != 2 or not all(_is_real(v) for v in value):
        raise InvalidArgument(f"{{{name}}} must be two numbers, got {_show(value)}", name)
    lo, hi = float(value[0]), float(value[1])
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise InvalidArgument(f"{{{name}}} must be finite, got {_show(lo)} {_show(hi)}", name)
    if ordered:
        if not lo < hi:
            raise InvalidArgument(f"{{{name}}} needs LO < HI, got {_show(lo)} {_show(hi)}",
                                  name)
        if not math.isfinite(hi - lo):
            raise InvalidArgument(f"{{{name}}} is too wide for float64 "
                                  f"({_show(lo)} to {_show(hi)})", name)
    return lo, hi


def axis(name: str, bounds: tuple[float, float], n: int) -> np.ndarray:
    """``linspace(*bounds, n)``, refused unless every value is finite and strictly increasing.

    Returns
    -------
    ndarray, float64, shape (n,)
    """
    values = np.linspace(bounds[0], bounds[1], n)
    if not np.all(np.isfinite(values)) or (n > 1 and not np.all(np.diff(values) > 0)):
        raise InvalidArgument(f"{{{name}}} {_show(bounds[0])} {_show(bounds[1])} with {n} "
                              "points gives an axis that is not finite and strictly increasing "
                              "in float64", name)
    return values


def decimal_clean(values: np.ndarray, ulps: float = 4.0) -> np.ndarray:
    """Each value replaced by the shortest decimal within ``ulps`` units in the last place.

    ``linspace(0.05, 0.5, 10)[1]`` is 0.09999999999999999 by rounding alone;
    this gives 0.1, the step size a user means and can type back
    (``ds.sel(eta=0.1)``). Values with no short decimal near them (1/3) are
    kept as they are.
    """
    out = np.array(values, dtype=np.float64)
    for i, v in enumerate(out):
        if v == 0.0 or not math.isfinite(v):
            continue
        tol = ulps * float(np.spacing(abs(v)))
        for digits in range(1, 18):
            c = float(f"{v:.{digits}g}")
            if abs(c - v) <= tol:
                out[i] = c
                break
    return out


def step_sizes(eta: float | Iterable[float] | None, eta_range: Any = None,
               eta_res: Any = None, default: float = 0.2) -> np.ndarray:
    """The step-size axis: ``eta`` values and ``eta_res`` values over ``eta_range``, merged.

    The axis is sorted and without duplicates, and the ``eta_range`` values
    are decimal-clean (:func:`decimal_clean`): what is stored is what the
    kernel uses. ``default`` when neither is given.

    Returns
    -------
    ndarray, float64, shape (m,)
    """
    values: list[float] = []
    if eta is not None:
        items = [eta] if _is_real(eta) else eta
        if isinstance(items, str | bytes) or not isinstance(items, Iterable):
            raise InvalidArgument(f"{{eta}} must be a number or numbers, got {_show(eta)}", "eta")
        values += [real("eta", e, positive=True) for e in items]
    if eta_range is not None:
        lo, hi = pair("eta_range", eta_range)
        if eta_res is None:
            raise InvalidArgument("{eta_range} needs {eta_res} (the number of step sizes)",
                                  "eta_range", "eta_res")
        n = integer("eta_res", eta_res, hi=1 << 20)
        if lo <= 0:
            raise InvalidArgument(f"{{eta_range}} must be positive, got {_show(lo)} "
                                  f"{_show(hi)}", "eta_range")
        values += decimal_clean(np.linspace(lo, hi, n)).tolist()
    elif eta_res is not None:
        raise InvalidArgument("{eta_res} needs {eta_range}", "eta_res", "eta_range")
    if not values and eta is None:
        values = [default]
    if not values:
        raise InvalidArgument("{eta} is empty: give at least one step size", "eta")
    return np.unique(np.asarray(values, dtype=np.float64))


def choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """One of ``choices``."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise InvalidArgument(f"{{{name}}} must be one of {', '.join(choices)}, "
                              f"got {_show(value)}", name)
    return value


def names(name: str, value: Any, known: Sequence[str]) -> list[str]:
    """A selection of names from ``known`` (one name or an iterable; None selects them all).

    Returns
    -------
    list of str
        In the order given; refused if one is unknown or the selection is empty.
    """
    if value is None:
        return list(known)
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, Iterable) or not all(isinstance(v, str) for v in items):
        raise InvalidArgument(f"{{{name}}} must be names, got {_show(value)}", name)
    items = list(items)
    unknown = [v for v in items if v not in known]
    if unknown:
        raise InvalidArgument(f"{{{name}}}: unknown {', '.join(map(repr, unknown))} (known: "
                              f"{', '.join(known)})", name)
    if not items:
        raise InvalidArgument(f"{{{name}}} is empty: name at least one of {', '.join(known)}",
                              name)
    return items


def flag(name: str, value: Any) -> bool:
    """A boolean."""
    if not isinstance(value, bool | np.bool_):
        raise InvalidArgument(f"{{{name}}} must be True or False, got {_show(value)}", name)
    return bool(value)


def callback(name: str, value: Any) -> Callable | None:
    """None or a callable."""
    if value is not None and not callable(value):
        raise InvalidArgument(f"{{{name}}} must be callable, got {_show(value)}", name)
    return value


def path(name: str, value: Any) -> Path:
    """A non-empty file path (str or os.PathLike)."""
    if not isinstance(value, str | os.PathLike) or not isinstance(os.fspath(value), str) \
            or not os.fspath(value).strip() or "\0" in os.fspath(value):
        raise InvalidArgument(f"{{{name}}} must be a file path, got {_show(value)}", name)
    return Path(os.fspath(value))


def tile(name: str, value: Any) -> tuple[int, int]:
    """A tile shape: one positive integer or two."""
    if _is_real(value):
        t = integer(name, value)
        return t, t
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != 2:
        raise InvalidArgument(f"{{{name}}} must be an integer or two, got {_show(value)}", name)
    return integer(name, value[0]), integer(name, value[1])


def cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


#: Most threads per core accepted: more only multiply memory (each thread keeps
#: its tiles in flight) without speed.
THREADS_PER_CORE = 4


def threads(name: str, value: Any) -> int:
    """A thread count: default all cores, at most :data:`THREADS_PER_CORE` per core."""
    if value is None:
        return cores()
    n = cores()
    return integer(name, value, lo=1, hi=THREADS_PER_CORE * n)


def memory_available() -> int | None:
    """Bytes of memory available now (None where the system does not say)."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not Linux
        return None


#: Share of the available memory one call may plan to use.
MEMORY_SHARE = 0.8


def fits_in_memory(nbytes: int, what: str, hint: str = "ask for less") -> None:
    """Refuse, before allocating, work whose arrays need more than the memory available.

    Raises
    ------
    EosfastError
        ``what`` needs ``nbytes``, more than :data:`MEMORY_SHARE` of what is free.
    """
    from .errors import EosfastError

    avail = memory_available()
    if avail is not None and nbytes > MEMORY_SHARE * avail:
        raise EosfastError(f"{what} needs {nbytes / 2**30:.3g} GiB of memory, more than the "
                           f"{avail / 2**30:.3g} GiB available; {hint}")

