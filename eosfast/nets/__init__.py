"""Full-batch gradient descent on small networks: paper Fig. 1 and Section 6.

Zhu, Wang, Wang, Zhou, Ge (ICLR 2023) open with a comparison (their Fig. 1,
math.md s. 6): trained by full-batch GD at several step sizes ``eta`` from one
initialisation, a deep network and the 4-layer scalar network both end with
sharpness just below the stability threshold ``2/eta`` ("sharpness
adaptivity"), while a 2-layer linear network ends well below it (the paper's
claims; :data:`FIG1` notes what the default set-up here measures). Section 6
adds that late in training the deep network's trajectory lies close to a 2-D
subspace and follows a parabola there, as the scalar model's does.

This subpackage runs that comparison in JAX (float64, CPU by default). JAX is an
optional dependency (``pip install 'eosfast[nets]'``); it is imported on the
first call, never by ``import eosfast``.

Architectures (:data:`ARCHS`)
-----------------------------
``mlp5``
    Five fully connected layers ``64 -> 50 -> 50 -> 50 -> 50 -> 1`` (four
    hidden layers of 50 units, each followed by ReLU or ELU, and a linear
    output), with biases; 10,951 weights. Initialisation: PyTorch's default
    for ``nn.Linear``, every weight and bias uniform on
    ``(-1/sqrt(fan_in), 1/sqrt(fan_in))``.
``linear2``
    Two linear layers ``64 -> 10 -> 1`` without biases, ``f(x) = v^T W x``;
    650 weights. Initialisation "factor (4, 0.1)": each layer's LeCun-normal
    draw (standard normal over ``sqrt(fan_in)``) is multiplied by the
    layer's factor, so ``W ~ 4 N(0, 1/64)`` and ``v ~ 0.1 N(0, 1/10)``: a large
    first layer and a small second one.
``scalar4``
    The zhu4 model of :data:`eosfast.MODELS`, ``1/2 (1 - w1 w2 w3 w4)^2`` over
    its four weights, started from ``MODELS['zhu4'].weights(x0, y0)``.

Data (``mlp5`` and ``linear2``): :func:`digits_subset`, a balanced 2-class
subset of scikit-learn's 8x8 handwritten digits (shipped with the package,
so no download), pixels scaled to [0, 1] and centred on the subset's mean,
labels +1 / -1. Loss: ``L(w) = 1/(2n) sum_i (f(x_i; w) - y_i)^2`` (for
scalar4 the single "example" gives exactly zhu4's objective).

Sharpness: the largest eigenvalue of the Hessian of ``L`` over all weights,
from exact Hessian-vector products (forward-over-reverse, ``jax.jvp`` of
``jax.grad``) and a Lanczos iteration with full reorthogonalisation followed
by a Rayleigh-Ritz step; the Hessian is never formed. Each measurement is
warm-started from the previous top Ritz vector and reports its residual
``||H u - theta u||``, a bound on the distance from ``theta`` to the nearest
true eigenvalue (that this eigenvalue is the largest is what Lanczos gives in
practice, not a proof; the tests check it against dense Hessians).

File layout (HDF5): coordinates ``run`` (int64, 0..R-1) and ``step`` (int64,
the recorded steps, 0 and the last included); ``eta`` (run), ``loss``,
``sharpness``, ``sharpness_residual`` (run, step) float64, NaN after a
divergence; ``diverged`` (run) int8. Root attributes ``kind =
"eosfast.nets"``, ``arch``, ``activation``, ``steps``, ``every``, ``seed``,
``n_params``, ``eosfast_version``, ``created`` and ``params`` (JSON of every
option, the data set included).
"""

from .data import digits_subset
from .pca import FIG8, PCAResult, late_pca, pca_parabola
from .runner import ARCHS, FIG1, NetsResult, read_nets, run_nets, write_nets

__all__ = ["ARCHS", "FIG1", "FIG8", "NetsResult", "PCAResult", "digits_subset", "late_pca",
           "pca_parabola", "read_nets", "run_nets", "write_nets"]
