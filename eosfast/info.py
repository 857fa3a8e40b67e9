"""``eosfast info``: what a result file holds, for people (text) and programs (JSON).

:func:`summarize` reads any eosfast file kind (grid, trajectory,
bifurcation, zoom, nets, refined) into a JSON-ready dict; :func:`info`
formats it.
Large grids are read one eta slice at a time, so memory stays at one slice.

Percentages say what they are of: outcome shares are of the points of that
step size (of the points computed so far, in a partial file), the sharpness
band share is of the converged points; a share that is not zero never shows
as 0.0% (:func:`eosfast.result.percent`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from . import validate
from .optimizer import Optimizer
from .result import model_label, percent
from .status import Status, outcome_counts, stable_converged
from .store.gridfile import check_bookkeeping, done_tiles, is_complete, read_array
from .store.h5 import open_file, read_params, regular_file
from .store.layouts import GRID, GRID_FIELDS

#: Width of the sharpness band below 2/eta that the grid summary counts (paper Fig. 2b).
BAND = 0.1


def _attr(value: Any) -> Any:
    """An HDF5 attribute as a JSON-ready Python value.

    A one-element array is its element: netCDF writers (h5netcdf, so ``eosfast
    export ... .nc``) store a scalar attribute that way.
    """
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray):
        if value.shape == (1,):
            return _attr(value[0])
        return [_attr(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _clean(obj: Any) -> Any:
    """``obj`` with NaN and infinities as None (strict JSON) and NumPy values as Python ones."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    obj = _attr(obj)
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def _float(v: float) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None


def _common(f, path: Path) -> dict[str, Any]:
    kind = str(_attr(f.attrs["kind"]))
    params = read_params(f)
    mp = params.get("model_params") if isinstance(params, dict) else None
    return {"path": str(path), "kind": kind.split(".", 1)[1],
            "eosfast_version": _attr(f.attrs.get("eosfast_version")),
            "created": _attr(f.attrs.get("created")), "params": params,
            "model_params": mp if isinstance(mp, dict) else {}}


# ---------------------------------------------------------------- per kind


def _sharpness_stats(status: np.ndarray, sharpness: np.ndarray, eta: float,
                     threshold: float | None = None) -> dict[str, Any] | None:
    """min / median / max / in_band of the stably converged points, and how many
    converged points sit exactly on a minimum sharper than the threshold (``unstable``:
    :func:`eosfast.status.stable_converged`), or None when none converged.
    ``threshold``: the optimizer's, default GD's ``2/eta``."""
    thr = 2 / eta if threshold is None else threshold
    stable, unstable = stable_converged(status, sharpness, eta, thr)
    sharp = np.asarray(sharpness)[stable]
    if np.ndim(thr):  # a plane's: one threshold a point
        thr = np.asarray(thr)[stable]
    n_unstable = int(np.count_nonzero(unstable))
    if not sharp.size and not n_unstable:
        return None
    out: dict[str, Any] = {"min": None, "median": None, "max": None, "in_band": 0,
                           "unstable": n_unstable}
    if sharp.size:
        out.update(min=float(sharp.min()), median=float(np.median(sharp)),
                   max=float(sharp.max()),
                   in_band=int(np.count_nonzero((sharp > thr - BAND) & (sharp < thr))))
    return out



def _grid(f, out: dict[str, Any]) -> None:
    from .axes import Plane
    from .store.gridfile import axes_of, coords_of

    done = done_tiles(f)
    etas, ys, xs = coords_of(f)
    axes = axes_of(f)
    ny, nx = ys.size, xs.size
    steps = int(_attr(f.attrs["steps"]))
    out.update(complete=is_complete(f) and bool(done.all()), tiles_done=int(done.sum()),
               tiles_total=int(done.size), model=str(_attr(f.attrs["model"])),
               shape=[int(etas.size), int(ny), int(nx)], steps=steps,
               x_range=[float(xs[0]), float(xs[-1])],
               y_range=[float(ys[0]), float(ys[-1])], fields=list(GRID_FIELDS),
               band=BAND, axes=list(axes))
    opt = Optimizer.from_params(out["params"])
    plane = Plane.from_params(out["params"])
    out["optimizer"] = opt.params()
    slices = []
    for k, e in enumerate(etas):
        status = read_array(f, "status", k)
        computed = int(np.count_nonzero(status != Status.PENDING))
        counts = outcome_counts(status)
        if plane.initial:
            thr: Any = float(opt.threshold(float(e)))
            shown: float | None = thr
        else:  # a threshold a point: none to show for the slice
            thr = plane.thresholds(float(e), ys, xs, opt)
            shown = None
        stats = _sharpness_stats(status, read_array(f, "sharpness", k), float(e), thr)
        slices.append({"eta": float(e), "points": computed, "counts": counts,
                       "reached_cap": counts["bounded"], "sharpness": stats,
                       "threshold": shown})
    out["slices"] = slices
    capped = sum(s["reached_cap"] for s in slices)
    points = sum(s["points"] for s in slices)
    out["reached_cap"] = capped
    out["advice"] = []
    if capped:
        out["advice"].append(
            f"{capped} of {points} points ({percent(capped, points)}) reached the "
            f"{steps}-step cap still bounded and unresolved (status 0): raise --steps to see "
            "whether they converge (chaotic orbits never will)")
    if not out["complete"]:
        out["advice"].append(f"partial run: {out['tiles_done']} of {out['tiles_total']} tiles "
                             "written; finish it with `eosfast grid ... --resume`")


def _trajectory(f, out: dict[str, Any]) -> None:
    a = {k: _attr(v) for k, v in f.attrs.items()}
    n = int(f["x"].shape[0]) - 1
    last = {name: _float(f[name][-1]) for name in ("x", "y", "loss", "sharpness")}
    opt = Optimizer.from_params(out["params"])
    out.update(model=a["model"], eta=float(a["eta"]), x0=float(a["x0"]), y0=float(a["y0"]),
               steps=int(a["steps"]), recorded=n, diverged=bool(a["diverged"]), final=last,
               threshold=float(opt.threshold(float(a["eta"]))), optimizer=opt.params())


def _bifurcation(f, out: dict[str, Any]) -> None:
    a = {k: _attr(v) for k, v in f.attrs.items()}
    eta, period, lyap = f["eta"][:], f["period"][:], f["lyapunov"][:]
    periods = {int(p): int(c) for p, c in zip(*np.unique(period[period >= 2],
                                                          return_counts=True), strict=True)}
    finite = lyap[np.isfinite(lyap)]
    out.update(model=a["model"], x0=float(a["x0"]), y0=float(a["y0"]),
               eta_range=[float(eta.min()), float(eta.max())] if eta.size else None,
               n_eta=int(eta.size), burn=int(a["burn"]), record=int(a["record"]),
               observable=a["observable"],
               counts={"converged": int((period == 1).sum()), "periodic": int((period >= 2).sum()),
                       "none_found": int((period == 0).sum()),
                       "diverged": int((period == -1).sum())},
               periods=periods,
               lyapunov=[float(finite.min()), float(finite.max())] if finite.size else None)


def _zoom(f, out: dict[str, Any]) -> None:
    a = {k: _attr(v) for k, v in f.attrs.items()}
    levels = []
    for name in sorted(k for k in f if k.startswith("level_")):
        g = f[name]
        ga = {k: _attr(v) for k, v in g.attrs.items()}
        status = g["status"][0]
        levels.append({"index": int(ga["index"]), "x_range": ga["x_range"],
                       "y_range": ga["y_range"], "zoom": float(ga["zoom"]),
                       "counts": outcome_counts(status), "points": int(status.size),
                       "box_dimension": _float(ga.get("box_dimension", np.nan)),
                       "box_dimension_err": _float(ga.get("box_dimension_err", np.nan)),
                       "ulps_per_pixel": float(ga["ulps_per_pixel"])})
    out.update(model=a["model"], eta=float(a["eta"]), center=a.get("center"),
               magnification=float(a["magnification"]), res=int(a["res"]),
               levels_planned=int(a["levels"]), complete=bool(a.get("complete", 0)),
               levels=levels)


def _refined(f, out: dict[str, Any]) -> None:
    from .store import refinefile as rf

    a = {k: _attr(v) for k, v in f.attrs.items()}
    p = out["params"]
    base = rf.read_base(f, ("status", "sharpness"))
    status = base["status"][0]
    eta = float(base["eta"][0])
    opt = Optimizer.from_params(p)
    thr = float(opt.threshold(eta))
    stats = _sharpness_stats(status, base["sharpness"][0], eta, thr)
    levels = [{"level": 0, "nx": int(status.shape[1]), "ny": int(status.shape[0]),
               "points": int(status.size), "counts": outcome_counts(status),
               "rounds": 0, "seconds": None}]
    done = rf.levels_done(f)
    for level in range(1, done + 1):
        counts = dict.fromkeys(levels[0]["counts"], 0)
        n, attrs = 0, {}
        # a level of a large map holds ~1e9 points: count them a chunk at a time
        for piece in rf.read_level(f, level):
            attrs = piece["attrs"]
            n += int(piece["status"].size)
            for k, v in outcome_counts(piece["status"]).items():
                counts[k] += v
        levels.append({"level": level, "nx": int(attrs["nx"]), "ny": int(attrs["ny"]),
                       "points": n, "counts": counts, "rounds": int(attrs.get("rounds", 0)),
                       "seconds": _float(attrs.get("seconds", np.nan))})
    ver = rf.read_verify(f)
    verification = None
    if ver is not None:
        va = {k: _attr(v) for k, v in ver["attrs"].items()}
        verification = {"points": int(va["points"]), "mismatches": int(va["mismatches"]),
                        "rate": _float(va["rate"]), "ci95": [_float(va["ci_low"]),
                                                             _float(va["ci_high"])],
                        "uncomputed": int(va["uncomputed"]), "seed": int(va["seed"])}
    n_fine = (int(a["base"]) - 1) * 2 ** int(a["levels"]) + 1
    points = sum(lv["points"] for lv in levels)
    out.update(model=str(a["model"]), eta=eta, base=int(a["base"]),
               levels_planned=int(a["levels"]), levels_done=done,
               complete=bool(a.get("complete", 0)), finest=[n_fine, n_fine],
               x_range=[float(base["x0"][0]), float(base["x0"][-1])],
               y_range=[float(base["y0"][0]), float(base["y0"][-1])],
               steps=int(p["steps"]), halo=int(p["halo"]), contrast=p.get("contrast"),
               points=points, base_sharpness=stats, band=BAND, levels=levels,
               verification=verification, advice=[], threshold=thr, optimizer=opt.params())
    if not out["complete"]:
        out["advice"].append(f"partial run: {done} of {out['levels_planned']} levels written; "
                             "finish it with `eosfast refine ... --resume`")
    elif verification is None or not verification["points"]:
        out["advice"].append("not verified: `eosfast refine ... --verify K` recomputes K "
                             "uncomputed points and reports how often the raster was wrong")


def _nets(f, out: dict[str, Any]) -> None:
    a = {k: _attr(v) for k, v in f.attrs.items()}
    eta, loss, sharp = f["eta"][:], f["loss"][:], f["sharpness"][:]
    diverged = f["diverged"][:].astype(bool)
    runs = []
    for r in range(eta.size):
        runs.append({"eta": float(eta[r]), "diverged": bool(diverged[r]),
                     "final_loss": _float(loss[r, -1]) if loss.shape[1] else None,
                     "initial_loss": _float(loss[r, 0]) if loss.shape[1] else None,
                     "final_sharpness": _float(sharp[r, -1]) if sharp.shape[1] else None,
                     "threshold": 2.0 / float(eta[r])})
    out.update(arch=a["arch"], steps=int(a["steps"]), every=int(a["every"]),
               seed=int(a["seed"]), runs=runs)


def _ensemble(f, out: dict[str, Any]) -> None:
    from .ensemble import in_band
    from .store.ensemblefile import check_bookkeeping as check_pieces
    from .store.ensemblefile import done_pieces
    from .vector import norm_band

    check_pieces(f, out["path"])
    done = done_pieces(f)
    a = {k: _attr(f.attrs[k]) for k in ("dim", "eta", "samples", "seed", "delta_x",
                                        "delta_y", "steps")}
    status = f["status"][:]
    norm2 = f["norm2"][:]
    computed = int(np.count_nonzero(status != Status.PENDING))
    conv, inside = in_band(status, norm2, float(a["eta"]))
    counts = outcome_counts(status)
    p = out["params"]
    out.update(complete=bool(_attr(f.attrs["complete"])) and bool(done.all()),
               pieces_done=int(done.sum()), pieces_total=int(done.size), **a,
               objective=str(_attr(f.attrs["objective"])), kick=p.get("kick"),
               kick_step=p.get("kick_step"), computed=computed, counts=counts,
               band=list(norm_band(float(a["eta"]))), converged=conv, in_band=inside,
               norm2=None, advice=[])
    ok = (status == Status.CONVERGED) & np.isfinite(norm2)
    if ok.any():
        v = norm2[ok]
        out["norm2"] = {"min": float(v.min()), "median": float(np.median(v)),
                        "max": float(v.max())}
    if counts["bounded"]:
        out["advice"].append(f"{counts['bounded']} of {computed} samples reached the "
                             f"{a['steps']}-step cap unresolved (status 0): raise --steps")
    if not out["complete"]:
        out["advice"].append(f"partial run: {out['pieces_done']} of {out['pieces_total']} "
                             "pieces written; finish it with `eosfast ensemble ... --resume`")


_READERS = {"grid": _grid, "trajectory": _trajectory, "bifurcation": _bifurcation,
            "zoom": _zoom, "nets": _nets, "refined": _refined,
            "ensemble": _ensemble}


def summarize(path: str | os.PathLike) -> dict[str, Any]:
    """What an eosfast file holds, as a JSON-ready dict.

    Every kind has ``path``, ``kind`` (grid, trajectory, bifurcation, zoom,
    nets, refined), ``eosfast_version``, ``created`` and ``params``. A grid adds
    ``complete``, ``tiles_done`` / ``tiles_total``, ``shape`` (eta, y0, x0),
    ``slices`` (per eta: ``points`` computed, ``counts`` per outcome,
    ``reached_cap`` (points still bounded and unresolved at the step cap),
    ``sharpness`` min / median / max / ``in_band`` of the converged points),
    ``reached_cap`` in all and ``advice`` (sentences for the user). A
    refined map adds ``levels`` (per level, 0 the base grid: its lattice
    ``nx, ny``, the ``points`` computed on it and their ``counts`` per
    outcome), ``points`` in all, ``finest`` (the lattice of the last level),
    ``base_sharpness`` and ``verification`` (sample size, mismatches, rate
    and its 95% Wilson interval ``ci95``), or None.

    Raises
    ------
    EosfastError
        Not an eosfast file, or damaged.
    """
    path = regular_file(path)
    with open_file(path) as f:
        if str(_attr(f.attrs["kind"])) == GRID.kind:
            check_bookkeeping(f, path)
        out = _common(f, path)
        _READERS[out["kind"]](f, out)
    return out


# ---------------------------------------------------------------- text


def _counts_text(counts: dict[str, int], n: int) -> str:
    return ", ".join(f"{k} {percent(v, n)}" for k, v in counts.items())


def _label(s: dict[str, Any]) -> str:
    return model_label(s.get("model", "?"), s.get("model_params"))


def _unstable_note(n: int, threshold: str = "2/eta") -> str:
    return (f"note: {n} converged point{'s' if n > 1 else ''} sit{'' if n > 1 else 's'} exactly "
            f"on a minimum sharper than {threshold} (the run started on it, or landed on it "
            "exactly: an unstable fixed point), left out of the sharpness statistics "
            "(docs/data.md)")


def _text_grid(s: dict[str, Any]) -> list[str]:
    state = "complete" if s["complete"] else f"partial: {s['tiles_done']} of " \
                                              f"{s['tiles_total']} tiles written"
    ne, ny, nx = s["shape"]
    etas = [x["eta"] for x in s["slices"]]
    p = s["params"]
    sa, ra, ca = s.get("axes", ("eta", "y0", "x0"))
    how = Optimizer.from_params(p).describe(beta="beta" not in (ra, ca))
    per_point = any(x.get("threshold", 0) is None for x in s["slices"])
    thr = "thresh." if how or per_point else "2/eta"
    what = "inits" if (ra, ca) == ("y0", "x0") else "points"
    lines = [f"{s['path']}: eosfast grid ({state}), written by eosfast {s['eosfast_version']} "
             f"on {s['created']}",
             f"model {_label(s)}; {nx} x {ny} {what} on {ca} [{s['x_range'][0]:g}, "
             f"{s['x_range'][1]:g}] x {ra} [{s['y_range'][0]:g}, {s['y_range'][1]:g}]"
             + (" (log)" if any(p.get("log", [])) else "") + "; "
             f"{ne} {sa} from {min(etas):.6g} to {max(etas):.6g}"
             + (f"; {how} (threshold: docs/optimizers.md)" if how else ""),
             f"step cap {s['steps']}, tol {p.get('tol')}, escape {p.get('escape')}, "
             f"max period {p.get('max_period')}, period tol {p.get('period_tol')}",
             f"outcomes in % of the {'computed ' if not s['complete'] else ''}points of each "
             f"{sa} ({nx * ny} per {sa}); sharpness of the converged points, 'in band' in % "
             f"of them: ({thr} - {s['band']:g}, {thr})"
             + (" with each point's threshold" if per_point else ""),
             f"{sa:>10} {'converged':>10} {'periodic':>9} {'bounded*':>9} {'diverged':>9} "
             f"{'sharp min':>10} {'median':>10} {'max':>10} {thr:>8} {'in band':>8}"]
    for x in s["slices"]:
        e, n, c = x["eta"], x["points"], x["counts"]
        st = x["sharpness"]
        conv = c["converged"]
        t = x.get("threshold", 2 / e)
        t = f"{t:8.4g}" if t is not None else f"{'per pt':>8}"
        if st and st["min"] is not None:
            stats = (f"{st['min']:10.5g} {st['median']:10.5g} {st['max']:10.5g} {t} "
                     f"{percent(st['in_band'], conv - st['unstable']):>8}")
        else:
            stats = f"{'-':>10} {'-':>10} {'-':>10} {t} {'-':>8}"
        lines.append(f"{e:10.6g} {percent(c['converged'], n):>10} {percent(c['periodic'], n):>9} "
                     f"{percent(c['bounded'], n):>9} {percent(c['diverged'], n):>9} " + stats)
    lines.append(f"* bounded: still bounded at the {s['steps']}-step cap, neither converged nor "
                 "periodic (unresolved, or chaotic)")
    unstable = sum((x["sharpness"] or {}).get("unstable", 0) for x in s["slices"])
    if unstable:
        lines.append(_unstable_note(unstable, "the threshold" if how else "2/eta"))
    lines += [f"note: {a}" for a in s["advice"]]
    lines.append("fields: " + ", ".join(s["fields"]))
    return lines


def _text_trajectory(s: dict[str, Any]) -> list[str]:
    fin = s["final"]
    end = (f"diverged at step {s['recorded']}" if s["diverged"] else
           f"after step {s['recorded']}: x={fin['x']:.6g}, y={fin['y']:.6g}, "
           f"loss={fin['loss']:.3g}, sharpness={fin['sharpness']:.6g} "
           f"({'threshold' if s.get('optimizer') else '2/eta'} = {s['threshold']:.6g})")
    return [f"{s['path']}: eosfast trajectory, written by eosfast {s['eosfast_version']} on "
            f"{s['created']}",
            f"model {_label(s)}, eta {s['eta']:g}, from ({s['x0']:g}, {s['y0']:g}), "
            f"{s['steps']} steps requested; {end}",
            "arrays over step: x, y, loss, sharpness, a, b"]


def _text_bifurcation(s: dict[str, Any]) -> list[str]:
    c, n = s["counts"], s["n_eta"]
    lo, hi = s["eta_range"] or (float("nan"), float("nan"))
    periods = ", ".join(f"{p}: {k}" for p, k in sorted(s["periods"].items())) or "none"
    lyap = (f"largest Lyapunov exponent from {s['lyapunov'][0]:.4g} to {s['lyapunov'][1]:.4g} "
            "nats/step" if s["lyapunov"] else "no finite Lyapunov exponent")
    return [f"{s['path']}: eosfast bifurcation, written by eosfast {s['eosfast_version']} on "
            f"{s['created']}",
            f"model {_label(s)} from ({s['x0']:g}, {s['y0']:g}); {n} eta from {lo:g} to "
            f"{hi:g}; burn {s['burn']}, record {s['record']} samples of {s['observable']}",
            f"of the {n} step sizes: converged (period 1) {percent(c['converged'], n)}, periodic "
            f"{percent(c['periodic'], n)}, no period found {percent(c['none_found'], n)}, "
            f"diverged {percent(c['diverged'], n)}",
            f"periods found (period: step sizes): {periods}; {lyap}"]


def _text_zoom(s: dict[str, Any]) -> list[str]:
    state = "complete" if s["complete"] else "partial"
    lines = [f"{s['path']}: eosfast zoom ({state}: {len(s['levels'])} of {s['levels_planned']} "
             f"levels), written by eosfast {s['eosfast_version']} on {s['created']}",
             f"model {_label(s)}, eta {s['eta']:g}, {s['res']}^2 points per level, "
             f"x{s['magnification']:g} per level toward {s['center']}",
             "outcomes in % of each level's points:"]
    for lv in s["levels"]:
        d = lv["box_dimension"]
        err = lv["box_dimension_err"]
        dim = "D_box -" if d is None else f"D_box {d:.3f} " + (
            f"+- {err:.3f}" if err is not None else "(no error estimate: too few scales)")
        lines.append(f"level {lv['index']}: x{lv['zoom']:.4g}, x [{lv['x_range'][0]:.10g}, "
                     f"{lv['x_range'][1]:.10g}], y [{lv['y_range'][0]:.10g}, "
                     f"{lv['y_range'][1]:.10g}]: {_counts_text(lv['counts'], lv['points'])}; "
                     f"{dim}; {lv['ulps_per_pixel']:.3g} ulp/pixel")
    return lines


def _text_nets(s: dict[str, Any]) -> list[str]:
    lines = [f"{s['path']}: eosfast nets, written by eosfast {s['eosfast_version']} on "
             f"{s['created']}",
             f"arch {s['arch']}, {len(s['runs'])} runs of {s['steps']} steps (recorded every "
             f"{s['every']}), seed {s['seed']}"]
    for r in s["runs"]:
        if r["diverged"]:
            lines.append(f"eta {r['eta']:.4g}: diverged")
            continue
        ratio = (r["final_sharpness"] / r["threshold"]) if r["final_sharpness"] else float("nan")
        drop = (r["final_loss"] / r["initial_loss"]) if r["final_loss"] is not None and \
            r["initial_loss"] else float("nan")
        lines.append(f"eta {r['eta']:.4g}: final sharpness {r['final_sharpness']:.4g} = "
                     f"{ratio:.3f} x 2/eta; final loss / initial {drop:.2g}")
    return lines


def _text_refined(s: dict[str, Any]) -> list[str]:
    state = "complete" if s["complete"] else \
        f"partial: {s['levels_done']} of {s['levels_planned']} levels written"
    nf = s["finest"][0]
    total = nf * nf
    lines = [f"{s['path']}: eosfast refined map ({state}), written by eosfast "
             f"{s['eosfast_version']} on {s['created']}",
             f"model {_label(s)}, eta {s['eta']:g}; x0 [{s['x_range'][0]:g}, "
             f"{s['x_range'][1]:g}] x y0 [{s['y_range'][0]:g}, {s['y_range'][1]:g}]; base "
             f"{s['base']}^2 -> {nf}^2 in {s['levels_planned']} levels (halo {s['halo']}, "
             f"contrast {s['contrast']}); step cap {s['steps']}",
             f"{s['points']} points computed, {percent(s['points'], total)} of the finest "
             "lattice; outcomes in % of each level's computed points:"]
    for lv in s["levels"]:
        what = "base grid" if lv["level"] == 0 else f"level {lv['level']}"
        took = f", {lv['seconds']:.1f} s" if lv["seconds"] is not None else ""
        lines.append(f"{what:>9} ({lv['nx']}^2 lattice): {lv['points']} points"
                     f"{took}: {_counts_text(lv['counts'], lv['points'])}")
    st = s["base_sharpness"]
    if st and st["min"] is not None:
        lines.append(f"sharpness of the base grid's converged points: {st['min']:.5g} to "
                     f"{st['max']:.5g}, median {st['median']:.5g} "
                     f"({'threshold' if s.get('optimizer') else '2/eta'} = "
                     f"{s.get('threshold', 2 / s['eta']):.5g})")
    if st and st["unstable"]:
        lines.append(_unstable_note(st["unstable"],
                                    "the threshold" if s.get("optimizer") else "2/eta"))
    v = s["verification"]
    if v and v["points"]:
        lo, hi = v["ci95"]
        lines.append(f"verify: {v['mismatches']} of {v['points']} uncomputed points differ from "
                     f"the raster, rate {v['rate']:.3g} (95% CI {lo:.3g} to {hi:.3g}) of "
                     f"{v['uncomputed']} uncomputed")
    lines += [f"note: {a}" for a in s["advice"]]
    lines.append("read it with eosfast.read_refined(path).raster(level, window)")
    return lines


def _text_ensemble(s: dict[str, Any]) -> list[str]:
    state = "complete" if s["complete"] else \
        f"partial: {s['pieces_done']} of {s['pieces_total']} pieces written"
    kick = ("no perturbation" if s["kick_step"] is None else
            f"y <- y (1 + 2/{s['kick']:g}) at step {s['kick_step']}")
    lo, hi = s["band"]
    lines = [f"{s['path']}: eosfast ensemble ({state}), written by eosfast "
             f"{s['eosfast_version']} on {s['created']}",
             f"objective {s['objective']} over x, y in R^{s['dim']}; eta {s['eta']!r}; "
             f"{s['samples']} samples (seed {s['seed']}) with |x0| = {s['delta_x']:.10g}, "
             f"|y0| = {s['delta_y']:.10g}; {kick}; step cap {s['steps']}",
             f"outcomes: {_counts_text(s['counts'], s['computed'])} of {s['computed']} "
             "samples computed"]
    if s["converged"]:
        n2 = s["norm2"]
        lines.append(f"converged: {s['in_band']} of {s['converged']} "
                     f"({percent(s['in_band'], s['converged'])}) inside Theorem 3.2's band "
                     f"({lo:.10g}, {hi:.10g}) of |x|^2 + |y|^2; final |x|^2 + |y|^2 "
                     f"{n2['min']:.10g} to {n2['max']:.10g}, median {n2['median']:.10g}")
    lines += [f"note: {a}" for a in s["advice"]]
    lines.append("read it with eosfast.read_frame(path)")
    return lines


_TEXT = {"grid": _text_grid, "trajectory": _text_trajectory, "bifurcation": _text_bifurcation,
         "zoom": _text_zoom, "nets": _text_nets, "refined": _text_refined,
         "ensemble": _text_ensemble}


def info(path: str | os.PathLike, as_json: bool = False) -> str:
    """A summary of any eosfast file: text for people, or JSON (``as_json``).

    The JSON is :func:`summarize`'s dict. For a grid the text gives the
    parameters, the outcome shares per step size, the sharpness of the
    converged points, and says how many points reached the step cap
    unresolved (raise ``--steps`` for them).
    """
    as_json = validate.flag("as_json", as_json)
    s = summarize(path)
    if as_json:
        return json.dumps(_clean(s), indent=2, allow_nan=False)
    return "\n".join(_TEXT[s["kind"]](s))
