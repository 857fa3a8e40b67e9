"""The literature's minimalist models, as named expressions (``eosfast models`` lists them).

Each entry is a loss ``L(x, y)`` on which plain GD ``(x, y) <- (x, y) - eta
grad L`` is the source's map, with its default parameters, the formula as
the source writes it, the source (authors, year, arXiv id), and one fact of
the source that ``tests/test_registry.py`` checks against the engine.
``checked`` says how far the formula itself was confirmed: from the source's
text, from its authors' slides, or only from its abstract (then the exact
normalisation is ours, and the entry says so).

The paper's own models (zhu4, deg3, deg2, deg6) are coupled networks with
their own compiled map (:func:`eosfast.kernels.maps.coupled`); they are in
:data:`eosfast.models.NETWORKS`. A coupled network reduces to GD on a loss
in ``(x, y)`` when each weight group carries its share of the gradient:
zhu4's network map is GD on ``(1 - x**2*y**2)**2/4`` (each of x's two
copies gets half of ``dL/dx``), deg2 is GD on ``(1 - x*y)**2``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entry:
    """A named expression model of the literature.

    Attributes
    ----------
    name : str
        Registry key.
    expression : str
        ``L(x, y)`` in eosfast's expression syntax (:mod:`eosfast.expression`).
    params : dict of str -> float
        Default parameters (``--param NAME=VALUE`` overrides them).
    formula : str
        The loss as the source writes it, and how it becomes ``L(x, y)``.
    source : str
        Authors, year, title, arXiv id, section.
    fact : str
        The fact of the source that the test suite checks.
    checked : str
        How the formula was confirmed.
    """

    name: str
    expression: str
    formula: str
    source: str
    fact: str
    checked: str
    params: dict = field(default_factory=dict)


LITERATURE: tuple[Entry, ...] = (
    Entry(
        name="chen_bruna",
        expression="(x**2 - mu)**2/4 + (y**2 - mu)**2/4",
        params={"mu": 1.0},
        formula="f(x) = (x^2 - mu)^2 / 4, one copy per coordinate (GD on each is their "
                "1-D map; their 2-D 1/2 (yz - 1)^2 restricted to y = z is the same map)",
        source="Chen & Bruna 2023, Beyond the edge of stability via two-step gradient "
               "updates, arXiv 2206.04172, s. 4 (thms 1-2), s. 6",
        fact="sharpness f''(sqrt(mu)) = 2 mu at the minimum; for eta = K/mu with "
             "1 < K <= 1.121 GD settles on a period-2 orbit around sqrt(mu)",
        checked="formula and facts re-derived with sympy from the paper cited (verified)"),
    Entry(
        name="catapult",
        expression="(x*y)**2/2",
        formula="f(x) = n^(-1/2) v^T u x on one sample (x, y) = (1, 0), MSE; width n = 1: "
                "L = (u v)^2 / 2 with u = x, v = y",
        source="Lewkowycz, Bahri, Dyer, Sohl-Dickstein & Gur-Ari 2020, The large learning "
               "rate phase of deep learning: the catapult mechanism, arXiv 2003.02218, "
               "s. 3, thm 1",
        fact="eta_max = 4 / lambda0 with lambda0 = u^2 + v^2: GD converges from inside the "
             "circle u^2 + v^2 = 4/eta and diverges from outside (minima: the axes, "
             "sharpness u^2 at (u, 0))",
        checked="formula and the basin boundary re-derived and reproduced "
                "from the paper cited (verified)"),
    Entry(
        name="kreisler",
        expression="(x*y - 1)**2/2",
        formula="scalar network with the squared loss; depth 2, target 1: "
                "L = 1/2 (x y - 1)^2",
        source="Kreisler, Nacson, Soudry & Carmon 2023, Gradient descent monotonically "
               "decreases the sharpness of gradient flow solutions in scalar networks and "
               "beyond, arXiv 2305.13064",
        fact="GD monotonically decreases the sharpness of the gradient flow solution, "
             "sqrt((x^2 - y^2)^2 + 4) at depth 2 (while eta |xy - 1| <= sqrt(2))",
        checked="NOT confirmed from the paper's text (its abstract only: scalar networks, "
                "squared loss); the depth-2 form, the 1/2 and the GFS sharpness formula are "
                "ours (gradient flow conserves x^2 - y^2)"),
    Entry(
        name="song_yun",
        expression="log(cosh(x*y))",
        formula="L(x, y) = log(cosh(x y)), their toy model (step size eta = 2/16)",
        source="Song & Yun 2023, Trajectory alignment: understanding the edge of stability "
               "phenomenon via bifurcation theory, arXiv 2307.04204 (NeurIPS 2023)",
        fact="at eta = 2/16, GD from their window (x0 in [0.5, 1], y0 in [5, 7]) converges "
             "on the minima xy = 0 with sharpness just below 2/eta = 16 (edge of stability)",
        checked="formula from the authors' NeurIPS 2023 slides (toy model, eta = 2/16); the "
                "paper's text not checked. Also an l(xy) loss with l convex and even, the "
                "class of Ahn et al. 2022, arXiv 2212.07469 (whose own l is not confirmed)"),
)
