"""Focused tests of the window / spatial / spectral building blocks of the decoder toolkit.

``decoders.toolkit``: ``times``, ``spatial``, ``spectral`` and ``evidence``
(sliding windows, PCA, filters, OAS, pooling)
and the alignment and weighted LDA of ``decoders/aligned_cross_subject.py``.
The decoders themselves are exercised by ``test_contract.py``.
"""

import numpy as np
import pytest
from sklearn.covariance import ledoit_wolf, oas
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

from decoders.aligned_cross_subject import WeightedShrinkageLDA
from decoders.toolkit.evidence import pooled_proba, remove_epoch_offsets, time_prior
from decoders.toolkit.spatial import (
    BatchCovariances,
    ChannelPCA,
    channel_scatter,
    inverse_sqrtm,
    ledoit_wolf_epochs,
    mean_covariance,
    oas_covariance,
    riemann_distance,
)
from decoders.toolkit.spectral import ChannelBlock, FilterBank
from decoders.toolkit.times import training_windows, window_means, window_starts
from tests.synthetic import IMG_TIMES, SFREQ


def test_window_starts_count_and_times():
    length, stride = 56, 10
    starts = window_starts(IMG_TIMES, (0.0, 5.0), length, stride)
    # first window starts at 0 s, last one ends at or before 5 s, 0.1 s apart
    assert IMG_TIMES[starts[0]] == pytest.approx(0.0)
    assert IMG_TIMES[starts[-1] + length - 1] <= 5.0 + 1e-9
    assert IMG_TIMES[starts[-1]] + (stride + length - 1) / SFREQ > 5.0  # no room for one more
    np.testing.assert_allclose(np.diff(IMG_TIMES[starts]), 0.1)
    assert len(starts) == 45  # starts at 0.0, 0.1, ..., 4.4 s


def test_window_starts_refuses_a_span_without_room():
    with pytest.raises(ValueError, match="No window of 600 samples"):
        window_starts(IMG_TIMES, (0.0, 5.0), 600, 1)


def test_training_windows_need_equal_durations():
    times = np.arange(121) / SFREQ - 0.2
    starts, length = training_windows(times, ((0.05, 0.45), (0.2, 0.6)), SFREQ)
    assert length == 41
    np.testing.assert_allclose(times[starts], [0.05, 0.2])
    with pytest.raises(ValueError, match="same duration"):
        training_windows(times, ((0.05, 0.45), (0.2, 0.3)), SFREQ)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("starts", [[0, 7, 40], list(range(5, 40, 3))], ids=["sparse", "dense"])
def test_window_means_match_direct_average(dtype, starts):
    X = np.random.default_rng(0).normal(size=(3, 4, 50)).astype(dtype)
    means = window_means(X, np.array(starts), 10)
    expected = np.stack([X[:, :, s : s + 10].astype(np.float64).mean(axis=2) for s in starts], axis=2)
    assert means.dtype == np.float64
    np.testing.assert_allclose(means, expected, rtol=1e-5 if dtype == np.float32 else 1e-7)


def test_epochs_pca_matches_sklearn_on_standardised_samples():
    rng = np.random.default_rng(1)
    X = np.matmul(rng.normal(size=(10, 4)), rng.normal(size=(30, 4, 25)))
    X += 0.01 * rng.normal(size=(30, 10, 25))
    X *= np.logspace(-12, -10, 10)[:, None]  # mag/grad-like scales
    pca = ChannelPCA(n_components=3).fit(X)
    Z = pca.transform(X)
    flat = X.transpose(0, 2, 1).reshape(-1, 10)
    flat = (flat - flat.mean(0)) / flat.std(0)
    ref = PCA(3).fit(flat)
    expected = ref.transform(flat).reshape(30, 25, 3).transpose(0, 2, 1)
    np.testing.assert_allclose(np.abs(Z), np.abs(expected), atol=1e-8)
    assert Z.shape == (30, 3, 25)


def test_oas_covariance_matches_sklearn():
    X = np.random.default_rng(2).normal(size=(5, 6, 20))
    expected = np.stack([oas(x.T)[0] for x in X])
    np.testing.assert_allclose(oas_covariance(X), expected, atol=1e-12)


@pytest.mark.parametrize("rank", [None, 4])
def test_ledoit_wolf_epochs_matches_sklearn_on_the_samples(rank):
    """Full-rank and rank-deficient (tSSS-like) epochs; float32 input too."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(7, 9, 30)) * rng.uniform(0.5, 3.0, size=(1, 9, 1))
    if rank is not None:
        X = np.einsum("cr,ert->ect", rng.normal(size=(9, rank)), X[:, :rank])
    expected, shrinkage = ledoit_wolf(X.transpose(0, 2, 1).reshape(-1, 9), assume_centered=True)
    for dtype in (np.float64, np.float32):
        got, got_shrinkage = ledoit_wolf_epochs(X.astype(dtype))
        tol = 1e-12 if dtype == np.float64 else 1e-5
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol * np.abs(expected).max())
        assert got_shrinkage == pytest.approx(shrinkage, rel=tol)


def test_filter_bank_stacks_bands_and_envelopes_are_positive():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(4, 3, 200))
    bank = FilterBank(SFREQ, bands=((8.0, 12.0), (13.0, 30.0)), output="envelope").fit(X)
    out = bank.transform(X)
    assert out.shape == (4, 6, 200)
    assert (out >= 0).all()
    second = ChannelBlock(1, 2).fit(out).transform(out)
    np.testing.assert_array_equal(second, out[:, 3:])


def test_band_pass_keeps_its_band():
    t = np.arange(400) / SFREQ
    X = (np.sin(2 * np.pi * 10 * t) + np.sin(2 * np.pi * 40 * t))[None, None]
    alpha = FilterBank(SFREQ, bands=((8.0, 12.0),)).fit(X).transform(X)[0, 0, 100:-100]
    np.testing.assert_allclose(alpha, np.sin(2 * np.pi * 10 * t)[100:-100], atol=0.05)


@pytest.mark.parametrize("band", [(8.0, 12.0), (None, 4.0), (4.0, None), (13.0, 30.0)])
@pytest.mark.parametrize("n_times", [121, 521, 40])
def test_band_pass_equals_mne_filter_data(band, n_times):
    """The scipy sosfiltfilt path gives MNE's ``filter_data(method='iir')`` output (issue 14)."""
    import mne

    from decoders.toolkit.spectral import BandPass

    X = np.random.default_rng(n_times).normal(size=(6, 5, n_times))
    expected = mne.filter.filter_data(
        X, SFREQ, *band, method="iir", iir_params=dict(order=4, ftype="butter", output="sos"), verbose="error"
    )
    got = BandPass(SFREQ, *band).fit(X).transform(X)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert BandPass(SFREQ, *band).fit(X).transform(X.astype(np.float32)).dtype == np.float64


def test_pooled_proba_removes_class_offsets():
    rng = np.random.default_rng(4)
    decision = rng.normal(size=(20, 30, 10)) + np.arange(10) * 5.0  # huge class offsets
    proba = pooled_proba(decision, "mean")
    # no class dominates after per-class z-scoring over the batch (class 9 would win every epoch)
    assert np.bincount(proba.argmax(axis=1), minlength=10).max() < 10
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # 'mean' logits are the z-scores' mean times sqrt(n_positions)
    z = (decision - decision.mean(axis=(0, 1))) / decision.std(axis=(0, 1))
    np.testing.assert_allclose(
        np.log(proba) - np.log(proba)[:, :1], (z.mean(1) - z.mean(1)[:, :1]) * np.sqrt(30)
    )
    assert pooled_proba(decision, "max").shape == (20, 10)
    with pytest.raises(ValueError, match="pooling must be one of"):
        pooled_proba(decision, "median")


def test_remove_epoch_offsets_removes_constant_offsets_and_keeps_bursts():
    rng = np.random.default_rng(8)
    n, t, k = 30, 200, 10
    noise = rng.normal(size=(n, t, k))
    offsets = 3.0 * rng.normal(size=(n, 1, k))  # one offset per epoch and class, the whole epoch long
    labels = np.arange(n) % k
    burst = np.zeros((n, t, k))
    burst[np.arange(n), 80:100, labels] = 2.0  # each epoch's own class, at one latency
    z = noise + offsets + burst
    z = (z - z.mean(axis=(0, 1))) / z.std(axis=(0, 1))
    got = remove_epoch_offsets(z)
    weights = 1.0 / time_prior(z)
    weighted = np.einsum("ntk,t->nk", got, weights / weights.sum())  # each epoch's offset: one per class
    np.testing.assert_allclose(weighted - weighted[:1], 0.0, atol=1e-12)
    np.testing.assert_allclose(got.mean(axis=(0, 1)), 0.0, atol=1e-12)
    np.testing.assert_allclose(got.std(axis=(0, 1)), 1.0)
    # the offsets hid the bursts; without them each epoch's class wins its burst's window
    assert np.mean(z[:, 80:100].mean(1).argmax(1) == labels) < 0.5
    assert np.mean(got[:, 80:100].mean(1).argmax(1) == labels) > 0.9
    # statistics from a subset of positions, applied to all
    keep = np.arange(t) >= 20
    part = remove_epoch_offsets(z, keep)
    assert part.shape == z.shape
    np.testing.assert_allclose(part[:, keep].mean(axis=(0, 1)), 0.0, atol=1e-12)


def test_alignment_makes_each_subjects_mean_covariance_identity():
    rng = np.random.default_rng(5)
    for _ in range(3):  # different mixings: different subjects
        mixing = rng.normal(size=(8, 8))
        X = np.matmul(mixing, rng.normal(size=(40, 8, 60)))
        W = inverse_sqrtm(mean_covariance(X), reg=0.0)
        aligned = np.matmul(W, X)
        np.testing.assert_allclose(mean_covariance(aligned), np.eye(8), atol=1e-8)
        np.testing.assert_allclose(W, W.T)  # symmetric: channels keep their identity


def test_alignment_of_rank_deficient_data_is_finite():
    rng = np.random.default_rng(6)
    X = np.matmul(rng.normal(size=(12, 4)), rng.normal(size=(20, 4, 30)))  # rank 4 of 12
    W = inverse_sqrtm(mean_covariance(X), reg=0.01)
    assert np.isfinite(W).all()
    with pytest.raises(ValueError, match="reg must be in"):
        inverse_sqrtm(np.eye(3), reg=2.0)


def test_mean_covariance_is_average_of_time_centred_covariances():
    X = np.random.default_rng(7).normal(size=(5, 3, 40)) + 3.0
    expected = np.mean([np.cov(x, bias=True) for x in X], axis=0)
    np.testing.assert_allclose(mean_covariance(X), expected)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("chunk", [1, 3, 64])
def test_channel_scatter_equals_flattened_outer_product(dtype, chunk):
    X = np.random.default_rng(9).normal(size=(7, 5, 11)).astype(dtype)
    flat = X.astype(np.float64).transpose(1, 0, 2).reshape(5, -1)
    out = channel_scatter(X, chunk=chunk)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, out.T)
    np.testing.assert_allclose(out, flat @ flat.T, rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_mean_covariance_of_float32_epochs_matches_float64():
    X = np.random.default_rng(10).normal(size=(20, 6, 50)) * 1e-12 + 1e-13  # tesla-sized values
    np.testing.assert_allclose(mean_covariance(X.astype(np.float32)), mean_covariance(X), rtol=1e-4, atol=0)


def test_batch_covariances_match_pyriemann_per_epoch_loop():
    from pyriemann.estimation import Covariances

    X = np.random.default_rng(11).normal(size=(9, 4, 25))
    expected = Covariances(estimator=oas_covariance).fit_transform(X)
    np.testing.assert_allclose(BatchCovariances(oas_covariance).fit_transform(X), expected)
    with pytest.raises(ValueError, match="returned shape"):
        BatchCovariances(lambda batch: batch[0] @ batch[0].T).fit_transform(X)


def _spd(rng, *shape):
    X = rng.normal(size=(*shape, 40))
    return X @ np.swapaxes(X, -1, -2) / 40 + 0.1 * np.eye(shape[-1])


def test_riemann_distance_matches_pyriemann_and_serves_mdm():
    from pyriemann.classification import MDM
    from pyriemann.geometry.distance import distance_riemann

    rng = np.random.default_rng(12)
    A, B = _spd(rng, 50, 7), _spd(rng, 7)
    np.testing.assert_allclose(riemann_distance(A, B), distance_riemann(A, B), rtol=1e-10)
    np.testing.assert_allclose(riemann_distance(A, B, squared=True), distance_riemann(A, B) ** 2, rtol=1e-10)
    pairs = _spd(rng, 50, 7)  # one B per A: pyriemann's own function
    np.testing.assert_allclose(riemann_distance(A, pairs), distance_riemann(A, pairs), rtol=1e-12)
    assert riemann_distance(B, B) == pytest.approx(0.0, abs=1e-6)
    y = np.repeat(np.arange(5), 10)
    ours = MDM(metric={"mean": "riemann", "distance": riemann_distance}).fit(A, y)
    np.testing.assert_allclose(ours.transform(A), MDM().fit(A, y).transform(A), rtol=1e-10)


def test_weighted_lda_with_unit_weights_matches_sklearn_lda_predictions():
    rng = np.random.default_rng(8)
    y = np.repeat(np.arange(4), 30)
    X = rng.normal(size=(120, 6)) + rng.normal(size=(4, 6))[y] * 1.5
    ours = WeightedShrinkageLDA(shrinkage=0.1).fit(X, y)
    theirs = LinearDiscriminantAnalysis(solver="lsqr", shrinkage=0.1).fit(X, y)
    assert np.mean(ours.predict(X) == theirs.predict(X)) > 0.95
    np.testing.assert_allclose(ours.predict_proba(X).sum(axis=1), 1.0)


def test_weighted_lda_ignores_zero_weight_samples():
    rng = np.random.default_rng(9)
    y = np.repeat(np.arange(3), 20)
    X = rng.normal(size=(60, 4)) + np.eye(3, 4)[y] * 3
    junk = rng.normal(size=(30, 4)) * 50
    weights = np.r_[np.ones(60), np.zeros(30)]
    pooled = WeightedShrinkageLDA(shrinkage=0.2).fit(np.r_[X, junk], np.r_[y, y[:30]], weights)
    alone = WeightedShrinkageLDA(shrinkage=0.2).fit(X, y)
    np.testing.assert_allclose(pooled.coef_, alone.coef_, atol=1e-10)


def test_localizer_epoch_check_rejects_imagine_length_and_keeps_float32():
    from decoders.toolkit.validation import check_localizer_epochs

    X = np.zeros((3, 4, 121), dtype=np.float32)
    assert check_localizer_epochs(X, 4, 121, keep_float32=True) is X
    assert check_localizer_epochs(X, None, 121).dtype == np.float64
    with pytest.raises(ValueError, match="121 samples, got 521; use predict_proba_imagine"):
        check_localizer_epochs(np.zeros((3, 4, 521)), 4, 121)
    with pytest.raises(ValueError, match="fitted on 5"):
        check_localizer_epochs(X, 5, 121)


def test_fft_filter_bank_matches_the_iir_one_away_from_the_edges():
    """One FFT for every band gives the zero-phase IIR response (``|H|**2``) inside the epoch."""
    X = np.random.default_rng(4).normal(size=(5, 3, 521))
    bands = ((7.0, 10.0), (15.0, 20.0), (None, 4.0))
    iir = FilterBank(SFREQ, bands).fit_transform(X)
    fft = FilterBank(SFREQ, bands, method="fft").fit_transform(X)
    assert fft.shape == iir.shape
    middle = slice(150, -150)
    scale = np.abs(iir[..., middle]).max()
    assert np.abs(fft[..., middle] - iir[..., middle]).max() < 0.02 * scale
    with pytest.raises(ValueError, match="method must be"):
        FilterBank(SFREQ, bands, method="fir").fit(X)


@pytest.mark.parametrize("output", ["signal", "envelope", "log-envelope"])
def test_the_fft_bank_filtered_a_few_epochs_at_a_time_is_the_whole_batch_filtered_at_once(output):
    """Chunking the epochs (to keep memory small) changes no number: each epoch's transform is its own."""
    from scipy.signal import hilbert

    from decoders.toolkit.spectral import _CHUNK_EPOCHS, bandpass_bank_fft

    X = np.random.default_rng(5).normal(size=(2 * _CHUNK_EPOCHS + 3, 4, 121))
    bands = ((7.0, 10.0), (15.0, 20.0), (None, None))
    whole = []
    for band in bandpass_bank_fft(X, SFREQ, bands):  # every epoch in one transform
        if output != "signal":
            band = np.abs(hilbert(band, axis=-1))
            if output == "log-envelope":
                band = np.log(band + 1e-9 * band.max())
        whole.append(band)
    chunked = FilterBank(SFREQ, bands, output=output, method="fft").fit_transform(X)
    np.testing.assert_array_equal(chunked, np.concatenate(whole, axis=1))


def test_one_vs_rest_csp_finds_each_class_power_direction():
    from decoders.toolkit.spatial import OneVsRestCSP

    rng = np.random.default_rng(2)
    n_channels, classes = 6, np.array(["a", "b", "c"])
    directions = np.linalg.qr(rng.normal(size=(n_channels, n_channels)))[0][:, :3].T  # orthonormal
    y = np.repeat(classes, 40)
    X = rng.normal(size=(len(y), n_channels, 200))
    for k, label in enumerate(classes):
        X[y == label] += 2.0 * directions[k][:, None] * rng.normal(size=(int(np.sum(y == label)), 1, 200))
    covs = oas_covariance(X)
    csp = OneVsRestCSP(n_filters=1).fit(covs, y)
    assert csp.filters_.shape == (6, n_channels)  # rank-major: each class's most-power filter first
    for k in range(3):
        w = csp.filters_[k] / np.linalg.norm(csp.filters_[k])
        overlap = np.abs(directions @ w)
        assert overlap.argmax() == k, overlap
    features = csp.transform(covs)
    assert features.shape == (len(y), 6)
    assert features[y == "b", 1].mean() > features[y != "b", 1].mean() + 1.0  # log-power of b's filter
    reduced = OneVsRestCSP(n_filters=3, log=False).fit(covs, y).transform(covs)
    assert reduced.shape == (len(y), n_channels, n_channels)  # capped at the channels: SPD
    assert np.all(np.linalg.eigvalsh(reduced) > 0)
    with pytest.raises(ValueError, match="n_filters"):
        OneVsRestCSP(n_filters=4).fit(covs, y)


def test_block_whitening_makes_each_band_white_and_ignores_labels():
    from decoders.toolkit.spectral import BlockWhitening

    rng = np.random.default_rng(3)
    mixing = [rng.normal(size=(4, 4)) * [1.0, 10.0, 100.0, 1000.0] for _ in range(2)]
    X = np.concatenate([np.einsum("cd,ndt->nct", m, rng.normal(size=(30, 4, 50))) for m in mixing], axis=1)
    white = BlockWhitening(n_blocks=2, reg=0.0).fit(X).transform(X)
    for b in range(2):
        block = white[:, 4 * b : 4 * (b + 1)].transpose(1, 0, 2).reshape(4, -1)
        np.testing.assert_allclose(block @ block.T / block.shape[1], np.eye(4), atol=2e-3)
    labelled = BlockWhitening(n_blocks=2).fit(X, np.arange(30) % 3).whiteners_
    np.testing.assert_array_equal(labelled, BlockWhitening(n_blocks=2).fit(X).whiteners_)
    with pytest.raises(ValueError, match="equal channel blocks"):
        BlockWhitening(n_blocks=3).fit(X)
    with pytest.raises(ValueError, match="shape"):
        BlockWhitening(n_blocks=2).fit(X).transform(X[:, :4])


def test_block_whitening_lets_csp_find_weak_class_power_under_an_anisotropic_background():
    """OAS shrinks towards the identity: after whitening that is the background, before it the sensors."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from decoders.toolkit.lda import shrinkage_lda
    from decoders.toolkit.spatial import BatchCovariances, OneVsRestCSP
    from decoders.toolkit.spectral import BlockWhitening

    rng = np.random.default_rng(0)
    n_channels, classes = 30, np.array(["a", "b", "c"])
    y = np.repeat(classes, 20)
    mixing = rng.normal(size=(n_channels, n_channels)) * np.logspace(0, 2, n_channels)
    X = np.einsum("cd,ndt->nct", mixing, rng.normal(size=(len(y), n_channels, 60)))
    directions = rng.normal(size=(3, n_channels))
    for k, label in enumerate(classes):
        m = y == label
        X[m] += 3.0 * directions[k][:, None] * rng.normal(size=(int(m.sum()), 1, 60))
    cv = StratifiedKFold(5, shuffle=True, random_state=0)

    def accuracy(*front):
        steps = (BatchCovariances(), OneVsRestCSP(n_filters=1), StandardScaler(), shrinkage_lda())
        return cross_val_score(make_pipeline(*front, *steps), X, y, cv=cv).mean()

    assert accuracy() < 0.6
    assert accuracy(BlockWhitening(n_blocks=1)) > 0.9


def test_one_vs_rest_csp_top_keeps_each_class_filter_of_most_power():
    from decoders.toolkit.spatial import OneVsRestCSP

    rng = np.random.default_rng(4)
    y = np.repeat(np.array(["a", "b", "c"]), 30)
    covs = oas_covariance(rng.normal(size=(len(y), 5, 100)))
    both = OneVsRestCSP(n_filters=1).fit(covs, y)
    top = OneVsRestCSP(n_filters=1, ends="top").fit(covs, y)
    assert top.filters_.shape == (3, 5)
    np.testing.assert_allclose(top.filters_, both.filters_[:3])  # rank-major: the most-power filters first
    with pytest.raises(ValueError, match="ends"):
        OneVsRestCSP(ends="bottom").fit(covs, y)


def test_channel_pca_max_components_caps_the_rank():
    from decoders.toolkit.spatial import ChannelPCA

    X = np.random.default_rng(5).normal(size=(10, 12, 40))
    assert ChannelPCA("rank").fit(X).n_components_ == 12
    assert ChannelPCA("rank", max_components=5).fit(X).n_components_ == 5
    assert ChannelPCA(3, max_components=5).fit(X).n_components_ == 3
    with pytest.raises(ValueError, match="max_components"):
        ChannelPCA("rank", max_components=0).fit(X)


def test_same_params_compares_nested_estimators_lists_and_arrays():
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis as LDA
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from decoders.toolkit.bases import same_params

    assert same_params(make_pipeline(StandardScaler(), LDA()), make_pipeline(StandardScaler(), LDA()))
    assert not same_params(
        make_pipeline(StandardScaler(), LDA()), make_pipeline(StandardScaler(), LDA("lsqr"))
    )
    assert not same_params(LDA(priors=np.ones(3) / 3), LDA(priors=np.array([0.2, 0.4, 0.4])))
    assert same_params(LDA(priors=np.ones(3) / 3), LDA(priors=np.ones(3) / 3))
    assert not same_params([("a", LDA())], [("b", LDA())]) and not same_params(LDA(), StandardScaler())
    from sklearn.model_selection import StratifiedKFold as KFold  # no get_params, no __eq__: by attributes

    assert same_params(KFold(3, shuffle=True, random_state=0), KFold(3, shuffle=True, random_state=0))
    assert not same_params(KFold(3, shuffle=True, random_state=0), KFold(3, shuffle=True, random_state=1))


def test_fit_or_take_uses_a_handed_fit_only_with_the_templates_parameters(caplog):
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis as LDA

    from decoders.toolkit.bases import fit_or_take

    X, y = np.random.default_rng(0).normal(size=(40, 3)), np.repeat([0, 1], 20)
    given = LDA().fit(X, y)
    assert fit_or_take(LDA(), X, y, {"lda": given}, "lda") is given
    other = fit_or_take(LDA(solver="lsqr"), X, y, {"lda": given}, "lda")
    assert other is not given and other.solver == "lsqr" and "other parameters" in caplog.text
    assert fit_or_take(LDA(), X, y, None, "lda") is not given
    with pytest.raises(Exception, match="not fitted"):
        fit_or_take(LDA(), X, y, {"lda": LDA()}, "lda")


@pytest.mark.parametrize("name", ["csp-lda", "band-power", "mdm"])
def test_band_scans_predict_from_their_chosen_band_alone_with_the_numbers_of_the_whole_bank(name):
    """``chosen_band_only``: the filter bank's other bands are not computed, and nothing changes."""
    from benchmark.registry import discover
    from tests.synthetic import context, make_induced_subject

    X, y, X_img, _ = make_induced_subject(0)
    scan = discover().get(name).factory(context()).fit(X, y)
    band = scan.classifier_.best_params_["channelblock__block"]
    banks = [
        step
        for front in (scan.predictor_[0], scan.preprocessor_)
        for step in front
        if isinstance(step, FilterBank)
    ]
    assert [list(bank.bands) for bank in banks] == [[banks[1].bands[band]], list(banks[1].bands)]
    narrowed = (scan.predict_proba_imagine(X_img), scan.predict_proba(X[:5]))
    scan.predictor_ = None  # the whole bank, then the classifier's ChannelBlock
    whole = (scan.predict_proba_imagine(X_img), scan.predict_proba(X[:5]))
    for a, b in zip(narrowed, whole, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_scans_without_a_filter_bank_predict_with_their_own_pipeline():
    from benchmark.registry import discover
    from tests.synthetic import context, make_subject

    X, y, _, _ = make_subject(0)
    assert discover().get("lda-peak").factory(context()).fit(X, y).predictor_ is None
