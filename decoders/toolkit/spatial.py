"""Spatial building blocks on 3-D epochs: channel PCA, covariances, alignment, joint diagonalisation.

- :class:`ChannelPCA`: per-channel standardisation + PCA over every (epoch,
  time) sample of the localizer; tSSS leaves 306 MEG channels with rank
  ~70, and covariance methods need full-rank inputs. Its ``n_components``
  is the one dimensionality parameter of every decoder that reduces
  channels; ``'rank'`` takes it from the data (every component above
  :data:`RANK_TOL` of the largest: ~70 on tSSS data, 306 on raw MEG).
- :func:`channel_scatter`, :func:`mean_covariance`: channel second moments.
- :func:`inverse_sqrtm`: shrunk inverse square root (Euclidean alignment).
- :func:`oas_covariance`, :func:`oas_second_moment`, :class:`BatchCovariances`:
  a light OAS estimator for pyriemann, applied to a whole batch.
- :func:`joint_diagonalise`: UWEDGE approximate joint diagonalisation for
  pyriemann's multiclass CSP.
- :func:`riemann_distance`: pyriemann's affine-invariant distance of many
  matrices to one, whitening by that one once (for ``MDM(metric=...)``).
- :class:`OneVsRestCSP`: one-vs-rest CSP filters of class-mean covariances
  (log-variances or filtered covariances), for power decoders.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from decoders.toolkit.validation import StatelessTransformer, check_epochs

logger = logging.getLogger(__name__)


#: Relative eigenvalue below which a standardised channel component counts as null
#: (``ChannelPCA(n_components='rank')``): far above float32 rounding (~1e-13), far
#: below any physiological component of MEG data.
RANK_TOL = 1e-4


#: Dimension of the internal SSS basis of order 8 ((8 + 1) ** 2 - 1): the space that fields of
#: sources inside the head span at the sensors of a MEG helmet (Taulu & Kajola 2005).
SSS_DIMENSION = 80


class ChannelPCA(TransformerMixin, BaseEstimator):
    """Standardise channels, then PCA over all (epoch, time) samples.

    The covariance of the channels over every sample of every epoch is
    formed in one BLAS product, standardised and diagonalised (the
    ``covariance_eigh`` route of :class:`sklearn.decomposition.PCA`).

    Parameters
    ----------
    n_components : int, 'rank' or None
        Components kept (capped by the number of channels); ``'rank'``: as
        many as the data's numerical rank (eigenvalues of the standardised
        channel covariance above :data:`RANK_TOL` times the largest), so
        that tSSS-reduced data lose nothing but their null space and
        full-rank data keep every channel; None keeps only the
        standardisation.
    time_step : int
        Use every ``time_step``-th sample to estimate the covariance (the
        data are band-limited, so neighbouring samples add little).
    max_components : int or None
        At most this many components, whatever ``n_components`` says (None:
        no cap). E.g. :data:`SSS_DIMENSION` for full-rank data, whose
        components beyond the brain's field space are sensor noise.

    Attributes
    ----------
    mean_, scale_ : ndarray, shape (n_channels,)
        Channel means and standard deviations (1 for constant channels).
    components_ : ndarray, shape (n_components, n_channels) or None
        Principal axes of the standardised data, by decreasing variance; the
        sign of each makes its largest-magnitude coefficient positive.
    explained_variance_ : ndarray, shape (n_components,) or None
        Variance along each axis.
    n_components_ : int or None
        Components kept.
    n_channels_ : int
        Channels seen at fit.
    """

    def __init__(
        self, n_components: int | str | None = 60, time_step: int = 1, max_components: int | None = None
    ) -> None:
        self.n_components = n_components
        self.time_step = time_step
        self.max_components = max_components

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> ChannelPCA:
        """Fit the standardisation and the principal axes.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_times)
            Epochs. Not modified.
        y : ignored

        Returns
        -------
        self : ChannelPCA
        """
        bad_text = isinstance(self.n_components, str) and self.n_components != "rank"
        bad_int = isinstance(self.n_components, int) and self.n_components < 1
        if bad_text or bad_int:
            raise ValueError(f"n_components must be an int >= 1, 'rank' or None, got {self.n_components!r}.")
        if self.time_step < 1:
            raise ValueError(f"time_step must be >= 1, got {self.time_step}.")
        if self.max_components is not None and self.max_components < 1:
            raise ValueError(f"max_components must be None or >= 1, got {self.max_components}.")
        X = check_epochs(X)[:, :, :: self.time_step]
        n_samples = X.shape[0] * X.shape[2]
        self.n_channels_ = X.shape[1]
        self.mean_ = X.mean(axis=(0, 2))
        second = channel_scatter(X) / n_samples
        cov = second - np.outer(self.mean_, self.mean_)
        std = np.sqrt(np.clip(np.diag(cov), 0, None))
        self.scale_ = np.where(std > 0, std, 1.0)
        self.components_ = self.explained_variance_ = self.n_components_ = None
        if self.n_components is not None:
            corr = cov / np.outer(self.scale_, self.scale_)
            vals, vecs = np.linalg.eigh((corr + corr.T) / 2)
            if self.n_components == "rank":
                self.n_components_ = max(1, int(np.count_nonzero(vals > RANK_TOL * vals.max())))
            else:
                self.n_components_ = min(self.n_components, self.n_channels_)
            if self.max_components is not None:
                self.n_components_ = min(self.n_components_, self.max_components)
            keep = np.argsort(vals)[::-1][: self.n_components_]
            vecs = vecs[:, keep].T
            signs = np.sign(vecs[np.arange(len(vecs)), np.abs(vecs).argmax(axis=1)])
            self.components_ = vecs * signs[:, None]
            self.explained_variance_ = vals[keep]
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Project epochs on the components.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_times)
            Epochs with the fitted channels; any number of samples.

        Returns
        -------
        ndarray, shape (n_epochs, n_components, n_times)
            Zero-mean over the training samples.
        """
        check_is_fitted(self, "mean_")
        X = check_epochs(X, self.n_channels_)
        if self.components_ is None:
            return (X - self.mean_[:, None]) / self.scale_[:, None]
        weights = self.components_ / self.scale_  # (n_components, n_channels)
        return np.matmul(weights, X) - (weights @ self.mean_)[:, None]


def channel_scatter(X: np.ndarray, chunk: int = 32) -> np.ndarray:
    """Sum over epochs and samples of ``x x^T``, without a transposed copy of ``X``.

    Parameters
    ----------
    X : ndarray, shape (n_epochs, n_channels, n_times)
        Epochs; float32 input is multiplied in float32 (a symmetric rank-k
        update per chunk of epochs) and accumulated in float64.
    chunk : int
        Epochs per rank-k update; bounds the temporary copy to
        ``chunk * n_channels * n_times`` values.

    Returns
    -------
    ndarray, shape (n_channels, n_channels)
        ``sum_i X[i] @ X[i].T`` in float64.

    Notes
    -----
    ``X[i] @ X[i].T`` summed over epochs equals ``F @ F.T`` with ``F`` the
    channels-by-(epochs x samples) matrix. Building ``F`` for a whole subject
    copies the data once more (142 MB in float64); BLAS ``?syrk`` on chunks
    computes only one triangle, from a cache-sized copy.
    """
    from scipy.linalg import blas

    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(f"X must be 3-D (n_epochs, n_channels, n_times), got shape {X.shape}.")
    single = X.dtype == np.float32
    syrk, dtype = (blas.ssyrk, np.float32) if single else (blas.dsyrk, np.float64)
    n_channels = X.shape[1]
    acc = np.zeros((n_channels, n_channels))
    for start in range(0, len(X), max(1, chunk)):
        block = np.ascontiguousarray(X[start : start + chunk].transpose(1, 0, 2), dtype=dtype)
        # a C-ordered (channels, k) block is a Fortran (k, channels) one: trans=1 gives block @ block.T
        acc += syrk(1.0, block.reshape(n_channels, -1).T, trans=1, lower=0)
    return np.triu(acc) + np.triu(acc, 1).T


def mean_covariance(X: np.ndarray) -> np.ndarray:
    """Average over epochs of each epoch's time-centred channel covariance.

    Parameters
    ----------
    X : ndarray, shape (n_epochs, n_channels, n_times)
        Epochs (any float dtype; accumulated in float64).

    Returns
    -------
    ndarray, shape (n_channels, n_channels)
    """
    X = np.asarray(X)
    n, _, t = X.shape
    means = X.mean(axis=2, dtype=np.float64)  # (n, c)
    return (channel_scatter(X) - t * (means.T @ means)) / (n * t)


def inverse_sqrtm(cov: np.ndarray, reg: float = 1e-2) -> np.ndarray:
    """Symmetric inverse square root of a shrunk covariance matrix.

    Parameters
    ----------
    cov : ndarray, shape (n_channels, n_channels)
        Symmetric positive semi-definite matrix.
    reg : float
        Shrinkage towards the identity scaled by the mean eigenvalue:
        ``(1 - reg) cov + reg * trace(cov) / n * I``; keeps rank-deficient
        (tSSS) covariances invertible.

    Returns
    -------
    ndarray, shape (n_channels, n_channels)
        ``W`` with ``W @ cov_shrunk @ W = I``; symmetric, so whitened channels
        keep their identity (Euclidean alignment).

    Raises
    ------
    ValueError
        If ``cov`` is not square, ``reg`` is not in [0, 1] or the matrix is
        zero.
    """
    cov = np.asarray(cov, dtype=float)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise ValueError(f"cov must be a square matrix, got shape {cov.shape}.")
    if not 0.0 <= reg <= 1.0:
        raise ValueError(f"reg must be in [0, 1], got {reg}.")
    cov = (cov + cov.T) / 2
    mu = np.trace(cov) / cov.shape[0]
    if not mu > 0:
        raise ValueError("cov has zero trace: cannot whiten constant data.")
    shrunk = (1 - reg) * cov + reg * mu * np.eye(cov.shape[0])
    vals, vecs = np.linalg.eigh(shrunk)
    vals = np.maximum(vals, reg * mu if reg > 0 else np.finfo(float).tiny)
    return (vecs / np.sqrt(vals)) @ vecs.T


def ledoit_wolf_epochs(X: np.ndarray) -> tuple[np.ndarray, float]:
    """Ledoit-Wolf covariance of zero-mean epochs, from one symmetric product.

    The estimate of :func:`sklearn.covariance.ledoit_wolf` with
    ``assume_centered=True`` on the samples ``X.transpose(0, 2, 1).reshape(-1,
    n_channels)`` (the formula of scikit-learn 1.9; equal to it within
    rounding), without building that transposed copy and with one
    ``?syrk`` (:func:`channel_scatter`) where scikit-learn computes three
    full products. The shrinkage's fourth-moment term
    ``sum((X2.T @ X2))`` is ``sum_s |x_s|^4``, a sum over samples.

    Parameters
    ----------
    X : ndarray, shape (n_epochs, n_channels, n_times)
        Zero-mean noise epochs (residuals, or band-passed data).

    Returns
    -------
    covariance : ndarray, shape (n_channels, n_channels)
        ``(1 - s) S + s * trace(S) / n_channels * I`` with ``S`` the second moment.
    shrinkage : float
        ``s``.
    """
    X = np.asarray(X)
    n_samples = X.shape[0] * X.shape[2]
    n_channels = X.shape[1]
    emp = channel_scatter(X) / n_samples
    mu = np.trace(emp) / n_channels
    if n_channels == 1:
        return emp, 0.0
    squared_norms = np.einsum("ect,ect->et", X, X, dtype=np.float64)  # |x_s|^2 per sample
    beta_ = float(np.sum(squared_norms**2))
    delta_ = float(np.sum(emp**2))  # = sum((X.T @ X) ** 2) / n_samples**2
    beta = (beta_ / n_samples - delta_) / (n_channels * n_samples)
    delta = (delta_ - 2.0 * mu * np.trace(emp) + n_channels * mu**2) / n_channels
    beta = min(beta, delta)
    shrinkage = 0.0 if beta == 0 else beta / delta
    shrunk = (1.0 - shrinkage) * emp
    shrunk.flat[:: n_channels + 1] += shrinkage * mu
    return shrunk, float(shrinkage)


def oas_covariance(X: np.ndarray, assume_centered: bool = False) -> np.ndarray:
    """Oracle-approximating-shrinkage covariance of multichannel time series.

    The estimate of :func:`sklearn.covariance.oas` (Chen et al. 2010, the
    formula of scikit-learn 1.9) without its per-call validation overhead,
    for pyriemann's ``estimator=`` argument, which calls it once per epoch
    (pyriemann's own ``'oas'`` costs ~1 ms per matrix, too slow to scan
    thousands of imagine windows; its vectorised ``'sch'`` emits a
    DeprecationWarning from array_api_extra under pyriemann 0.12).

    Parameters
    ----------
    X : ndarray, shape (..., n_channels, n_times)
        Time series.
    assume_centered : bool
        False: centre each series over time (a covariance). True: use the
        raw second moment, which keeps a sustained deviation from the
        baseline (e.g. an imagery pattern held over the whole window) that
        centring would remove.

    Returns
    -------
    ndarray, shape (..., n_channels, n_channels)
        Shrunk matrices ``(1 - s) S + s * trace(S) / n_channels * I``.
    """
    X = np.asarray(X, dtype=np.float64)
    n_channels, n_times = X.shape[-2:]
    Xc = X if assume_centered else X - X.mean(axis=-1, keepdims=True)
    emp = Xc @ np.swapaxes(Xc, -1, -2) / n_times
    if n_channels == 1:
        return emp
    alpha = np.mean(emp**2, axis=(-2, -1))
    mu = np.trace(emp, axis1=-2, axis2=-1) / n_channels
    num = alpha + mu**2
    den = (n_times + 1) * (alpha - mu**2 / n_channels)
    shrink = np.where(den > 0, np.minimum(num / np.where(den > 0, den, 1.0), 1.0), 1.0)
    eye = np.eye(n_channels)
    return (1 - shrink)[..., None, None] * emp + (shrink * mu)[..., None, None] * eye


def oas_second_moment(X: np.ndarray) -> np.ndarray:
    """OAS-shrunk second moment (not centred over time) of multichannel time series.

    ``oas_covariance(X, assume_centered=True)``, as a module-level function
    for pyriemann's ``estimator=`` argument (picklable, no extra keywords).

    Parameters
    ----------
    X : ndarray, shape (..., n_channels, n_times)
        Baseline-corrected time series.

    Returns
    -------
    ndarray, shape (..., n_channels, n_channels)
    """
    return oas_covariance(X, assume_centered=True)


def joint_diagonalise(
    X: np.ndarray, *, init: np.ndarray | None = None, eps: float = 1e-7, n_iter_max: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """UWEDGE approximate joint diagonalisation, logging non-convergence.

    A fast (vectorised) replacement for ``ajd_pham`` in pyriemann's
    multiclass CSP (``CSP(ajd_method=joint_diagonalise)``): class-mean covariances
    are never exactly jointly diagonalisable, so UWEDGE often stops at
    ``n_iter_max`` and its best estimate is used. That single
    ``"Convergence not reached"`` warning is caught around this one call and
    logged (DEBUG); any other warning is re-emitted.

    Parameters
    ----------
    X : ndarray, shape (n_matrices, n, n)
        Symmetric matrices to diagonalise jointly.
    init : ndarray, shape (n, n) or None
        Initial diagonaliser (None: UWEDGE's own).
    eps : float
        Convergence tolerance.
    n_iter_max : int
        Maximum number of iterations.

    Returns
    -------
    V : ndarray, shape (n, n)
        Diagonaliser.
    D : ndarray, shape (n_matrices, n, n)
        Quasi-diagonal matrices.
    """
    from pyriemann.geometry.ajd import uwedge

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        V, D = uwedge(X, init=init, eps=eps, n_iter_max=n_iter_max)
    for item in caught:
        if issubclass(item.category, UserWarning) and "Convergence not reached" in str(item.message):
            logger.debug("UWEDGE stopped after %d iterations without converging (eps=%g).", n_iter_max, eps)
        else:
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
    return V, D


def riemann_distance(A: np.ndarray, B: np.ndarray, squared: bool = False) -> np.ndarray:
    """Affine-invariant Riemannian distance of SPD matrices to one SPD matrix.

    The distance of :func:`pyriemann.geometry.distance.distance_riemann`,
    ``sqrt(sum(log(eig(A, B)) ** 2))``, computed as pyriemann does (Cholesky
    reduction ``L^-1 A L^-T`` with ``B = L L^T``), but with ``L`` inverted
    once for the whole batch: pyriemann solves a linear system with ``L``
    (``np.linalg.solve``, twice) for every matrix of ``A``, 1.27 s of a 4-s
    mdm task under cProfile (docs/performance.md, sixth round). Pass it as
    ``MDM(metric={"mean": "riemann", "distance": riemann_distance})``.

    Parameters
    ----------
    A : ndarray, shape (..., n, n)
        SPD matrices.
    B : ndarray, shape (n, n) or (..., n, n)
        One SPD matrix, or as many as ``A`` (then pyriemann's own function).
    squared : bool
        Return the squared distance.

    Returns
    -------
    ndarray, shape (...,)
        Distance of each matrix of ``A`` to ``B``.
    """
    from pyriemann.geometry.distance import distance_riemann
    from scipy.linalg import solve_triangular

    A, B = np.asarray(A), np.asarray(B)
    if B.ndim != 2 or B.shape[0] != A.shape[-1]:
        return distance_riemann(A, B, squared=squared)
    whitener = solve_triangular(np.linalg.cholesky(B), np.eye(len(B)), lower=True)
    eigenvalues = np.linalg.eigvalsh(whitener @ A @ whitener.T)
    d2 = np.sum(np.log(eigenvalues) ** 2, axis=-1)
    return d2 if squared else np.sqrt(d2)


class BatchCovariances(StatelessTransformer):
    """One covariance matrix per epoch, from an estimator that takes the whole batch.

    ``(n_epochs, n_channels, n_times) -> (n_epochs, n_channels, n_channels)``.

    :class:`pyriemann.estimation.Covariances` calls a callable estimator
    once per epoch; with thousands of sliding imagine windows that loop cost
    more than the estimates (17,000 calls, 2.8 s of a csp-lda task). This
    transformer hands the ``(n_epochs, n_channels, n_times)`` array to the
    estimator in one call.

    Parameters
    ----------
    estimator : callable
        ``estimator(X) -> (n_epochs, n_channels, n_channels)`` for ``X`` of
        shape ``(n_epochs, n_channels, n_times)``, e.g.
        :func:`oas_covariance` (the default) or :func:`oas_second_moment`.
    """

    def __init__(self, estimator=oas_covariance) -> None:
        self.estimator = estimator

    def _check_input(self, X) -> np.ndarray:
        """Only the shape: windows cut from checked epochs are not scanned again for NaN."""
        X = np.asarray(X)
        if X.ndim != 3:
            raise ValueError(f"X must be 3-D (n_epochs, n_channels, n_times), got shape {X.shape}.")
        return X

    def _transform(self, X: np.ndarray) -> np.ndarray:
        covs = np.asarray(self.estimator(X))
        if covs.shape != (len(X), X.shape[1], X.shape[1]):
            raise ValueError(
                f"estimator {self.estimator!r} returned shape {covs.shape} for a batch of shape "
                f"{X.shape}; expected {(len(X), X.shape[1], X.shape[1])}."
            )
        return covs


class OneVsRestCSP(TransformerMixin, BaseEstimator):
    """One-vs-rest common spatial patterns on covariance matrices.

    For each class ``k``, the generalised eigenvectors of its mean
    covariance ``C_k`` against ``C_k + C_rest`` (the mean of the other
    classes' covariances); the ``n_filters`` with the largest and the
    ``n_filters`` with the smallest eigenvalues (most and least power for
    ``k`` relative to the rest) are kept. ``(n, c, c) -> (n, 2 n_filters
    n_classes)`` log-variances, or the filtered covariance matrices.

    Parameters
    ----------
    n_filters : int
        Filters per class at each end of the spectrum.
    log : bool
        True: log-variances of the filtered signals (features for a linear
        classifier). False: filtered covariances ``F C F'`` (SPD matrices for
        a Riemannian classifier), with at most as many filters as channels.
    reg : float
        Shrinkage of each class-mean covariance towards its scaled identity.
    ends : {'both', 'top'}
        ``'both'``: filters of most and least power for the class;
        ``'top'``: most power only (a class code that adds power).

    Attributes
    ----------
    filters_ : ndarray, shape (n_features, n_channels)
        Spatial filters in rank-major order: each class's most discriminative
        filter (largest power ratio, then smallest, ...), then the next.
    classes_ : ndarray, shape (n_classes,)

    References
    ----------
    Dornhege, G., et al. (2004). Boosting bit rates in noninvasive EEG
    single-trial classifications by feature combination and multiclass
    paradigms. IEEE Trans Biomed Eng, 51(6), 993-1002.
    """

    def __init__(self, n_filters: int = 2, log: bool = True, reg: float = 1e-3, ends: str = "both") -> None:
        self.n_filters = n_filters
        self.log = log
        self.reg = reg
        self.ends = ends

    def fit(self, X: np.ndarray, y: np.ndarray) -> OneVsRestCSP:
        """Learn the filters from covariances ``X`` (n, c, c) and labels ``y``."""
        from scipy.linalg import eigh

        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 3 or X.shape[1] != X.shape[2]:
            raise ValueError(f"OneVsRestCSP needs covariances (n, c, c), got shape {X.shape}.")
        if self.ends not in ("both", "top"):
            raise ValueError(f"ends must be 'both' or 'top', got {self.ends!r}.")
        if self.n_filters < 1 or 2 * self.n_filters > X.shape[1]:
            raise ValueError(
                f"n_filters must be in 1..{X.shape[1] // 2} for {X.shape[1]} channels, got {self.n_filters}."
            )
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(f"OneVsRestCSP needs at least 2 classes, got {len(self.classes_)}.")
        eye = np.eye(X.shape[1])
        filters = []
        for label in self.classes_:
            own, rest = X[y == label].mean(axis=0), X[y != label].mean(axis=0)
            own = (1 - self.reg) * own + self.reg * np.trace(own) / len(own) * eye
            rest = (1 - self.reg) * rest + self.reg * np.trace(rest) / len(rest) * eye
            _, vecs = eigh(own, own + rest)
            # most power for the class, least, second most, second least, ...
            keep = np.ravel([(len(own) - 1 - j, j) for j in range(self.n_filters)])
            if self.ends == "top":
                keep = keep[::2]
            filters.append(vecs[:, keep].T)
        # rank-major order (every class's best filter first), so that a cap keeps each class's best
        order = np.stack(filters, axis=1).reshape(-1, X.shape[1])
        if not self.log:
            order = order[: X.shape[1]]  # filtered covariances stay full rank
        self.filters_ = order
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Log-variances (n, n_features) or filtered covariances (n, n_features, n_features)."""
        check_is_fitted(self, "filters_")
        X = np.asarray(X, dtype=np.float64)
        if self.log:
            power = np.einsum("fc,ncd,fd->nf", self.filters_, X, self.filters_, optimize=True)
            return np.log(np.maximum(power, np.finfo(float).tiny))
        return self.filters_ @ X @ self.filters_.T
