"""Sensor geometry, head position, forward model and SSS basis of the simulator.

Part of :mod:`datasets.simulate`. Everything physical that depends
on the MEG system lives here: the measurement info of a MEGIN TRIUX (306 MEG
channels plus the ``ECG``, ``HEOG`` and ``VEOG`` bio channels), a real noise
covariance, a spherical head model with a discrete source space, and the
projector onto the internal SSS basis that gives simulated data the rank of
real tSSS-processed data.

The run-time files come from ``datasets/data/`` (see its README for
provenance); :func:`build_data_files` regenerates them from the MNE testing
data files.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import struct
from dataclasses import dataclass
from pathlib import Path

import mne
import numpy as np
from numpy.typing import NDArray

from .. import layout

logger = logging.getLogger(__name__)

#: Folder of the run-time sensor files shipped with the package.
DATA_DIR = Path(__file__).resolve().parent.parent / "data"

#: Measurement info (306 MEG + 3 bio channels, 100 Hz) written by ``mne.io.write_info``.
INFO_FILE = "triux_meg-info.fif"

#: Real noise covariance of a Vectorview recording, renamed to TRIUX names.
NOISE_COV_FILE = "vectorview_noise-cov.fif"

#: SSS moments kept by MNE's regularization for the shipped info, per order.
SSS_MOMENTS_FILE = "sss_moments.json"

#: Centre of the spherical head model and of the SSS expansion, head frame (m).
SPHERE_ORIGIN: tuple[float, float, float] = (0.0, 0.0, 0.04)

#: Radius of the spherical head model (m); brain sources lie within 0.075 m.
HEAD_RADIUS = 0.09

#: Sampling rate of the challenge epochs (Hz).
SFREQ = 100.0

#: Low-pass edge recorded in the info (Hz), as after decimation to 100 Hz.
LOWPASS = 33.3

#: High-pass edge recorded in the info (Hz).
HIGHPASS = 0.1

_FIFFT_ID_STRUCT = 31  # FIFF type of file / block ids
_FIF_DATE_NONE = (0, 2**31 - 1)  # (secs, usecs) MNE gives the ids it generates

#: Names given to the three bio channels taken from the TRIUX file.
_BIO_SOURCE_NAMES: dict[str, str] = {"MISC001": "ECG", "EOG001": "HEOG", "EOG002": "VEOG"}


def build_data_files(source_dir: Path, out_dir: Path = DATA_DIR) -> list[Path]:
    """Regenerate the run-time sensor files from the MNE testing-data files.

    Parameters
    ----------
    source_dir : Path
        Folder holding ``triux_erm_raw_sss.fif``,
        ``vectorview_sample_raw_sss.fif`` and
        ``vectorview_sample_noise-cov.fif`` (see ``datasets/data/README.md``).
    out_dir : Path
        Destination folder.

    Returns
    -------
    written : list of Path
        The files written.
    """
    triux = source_dir / "triux_erm_raw_sss.fif"
    sample = source_dir / "vectorview_sample_raw_sss.fif"
    cov_file = source_dir / "vectorview_sample_noise-cov.fif"
    for path in (triux, sample, cov_file):
        if not path.is_file():
            raise FileNotFoundError(f"Sensor source file not found: {path}")
    raw = mne.io.read_raw_fif(triux, preload=True, verbose="error")
    meg = [raw.ch_names[i] for i in mne.pick_types(raw.info, meg=True)]
    raw.pick(meg + list(_BIO_SOURCE_NAMES))
    raw.rename_channels(_BIO_SOURCE_NAMES)
    raw.set_channel_types(layout.BIO_CHANNELS, on_unit_change="ignore", verbose="error")
    raw.reorder_channels(meg + list(layout.BIO_CHANNELS))
    raw.resample(SFREQ, verbose="error")
    info = raw.info.copy()
    sample_info = mne.io.read_info(sample, verbose="error")
    keep_dig = [d for d in sample_info["dig"] if d["kind"] != mne.io.constants.FIFF.FIFFV_POINT_EEG]
    info.set_meas_date(None)
    with info._unlock():
        info["file_id"] = None
        info["meas_id"] = None
        info["subject_info"] = None
        info["device_info"] = None
        info["helium_info"] = None
        info["dig"] = keep_dig
        info["dev_head_t"] = sample_info["dev_head_t"]
        info["lowpass"] = LOWPASS
        info["highpass"] = HIGHPASS
        info["acq_pars"] = None
        info["acq_stim"] = None
        info["events"] = []
        info["hpi_subsystem"] = None
        info["proj_name"] = None
        info["proj_id"] = None
        info["description"] = None
        info["experimenter"] = None
    out_dir.mkdir(parents=True, exist_ok=True)
    info_out = out_dir / INFO_FILE
    mne.io.write_info(info_out, info, overwrite=True)
    zero_fif_machine_ids(info_out)
    cov = mne.read_cov(cov_file, verbose="error")
    meg_names = [n for n in cov.ch_names if n.startswith("MEG")]
    cov = cov.pick_channels(meg_names, ordered=True, verbose="error")
    cov = mne.Covariance(
        cov.data,
        [n.replace(" ", "") for n in cov.ch_names],
        bads=[],
        projs=[],
        nfree=cov.nfree,
        verbose="error",
    )
    cov_out = out_dir / NOISE_COV_FILE
    cov.save(cov_out, overwrite=True, verbose="error")
    zero_fif_machine_ids(cov_out)
    meg_info = mne.pick_info(info, mne.pick_types(info, meg=True))
    moments = {}
    for order in (8,):
        _, _, kept, n_in = _maxwell_basis(meg_info, order, "in")
        moments[str(order)] = {"moments": [int(m) for m in kept], "n_in": int(n_in)}
    moments_out = out_dir / SSS_MOMENTS_FILE
    moments_out.write_text(json.dumps(moments, indent=1) + "\n")
    return [info_out, cov_out, moments_out]


def zero_fif_machine_ids(path: Path) -> None:
    """Zero the machine id of the FIF ids MNE generates while writing.

    MNE stamps the file and block ids it creates with the writing machine's
    MAC address (and a null date); zeroing it makes the same configuration
    write byte-identical files on any machine.

    Raises
    ------
    ValueError
        If the file is not a sequential FIF file as MNE writes it.
    """
    header = struct.Struct(">iiii")
    id_struct = struct.Struct(">iiiii")
    with open(path, "r+b") as fid:
        size_total = fid.seek(0, io.SEEK_END)
        pos = 0
        while pos < size_total:
            fid.seek(pos)
            kind, kind_type, size, next_tag = header.unpack(fid.read(header.size))
            if next_tag not in (0, -1) or size < 0:
                raise ValueError(f"{path}: unexpected FIF tag layout at byte {pos}")
            if kind_type == _FIFFT_ID_STRUCT and size == id_struct.size:
                version, _, _, secs, usecs = id_struct.unpack(fid.read(id_struct.size))
                if (secs, usecs) == _FIF_DATE_NONE:
                    fid.seek(pos + header.size)
                    fid.write(id_struct.pack(version, 0, 0, secs, usecs))
            pos += header.size + size


@functools.lru_cache(maxsize=1)
def _base_info_cached() -> mne.Info:
    path = DATA_DIR / INFO_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"Simulator sensor file missing: {path}; regenerate it with "
            "datasets.simulate.sensors.build_data_files (see datasets/data/README.md)."
        )
    return mne.io.read_info(path, verbose="error")


def base_info() -> mne.Info:
    """Return a fresh copy of the shipped measurement info.

    Returns
    -------
    info : mne.Info
        306 MEG channels of a MEGIN TRIUX plus ``ECG``, ``HEOG``, ``VEOG``,
        100 Hz, with the Vectorview sample subject's ``dev_head_t``.
    """
    return _base_info_cached().copy()


@functools.lru_cache(maxsize=1)
def _noise_cov_cached() -> NDArray[np.float64]:
    path = DATA_DIR / NOISE_COV_FILE
    if not path.is_file():
        raise FileNotFoundError(f"Simulator noise covariance missing: {path}")
    cov = mne.read_cov(path, verbose="error")
    info = _base_info_cached()
    meg_names = [info.ch_names[i] for i in mne.pick_types(info, meg=True)]
    index = {name: i for i, name in enumerate(cov.ch_names)}
    full = np.zeros((len(meg_names), len(meg_names)))
    rows = [index.get(name, -1) for name in meg_names]
    present = np.array([r >= 0 for r in rows])
    sub = np.array([r for r in rows if r >= 0])
    full[np.ix_(present, present)] = cov.data[np.ix_(sub, sub)]
    missing = [n for n, p in zip(meg_names, present, strict=True) if not p]
    if missing:
        logger.debug("Noise covariance lacks %s; they get noise only via SSS.", missing)
    full.setflags(write=False)
    return full


def noise_covariance() -> NDArray[np.float64]:
    """Return the real MEG noise covariance in the info's MEG channel order.

    Returns
    -------
    cov : ndarray, shape (n_meg, n_meg)
        Read-only. Channels missing from the recording (MEG2443) have zero
        rows and columns.
    """
    return _noise_cov_cached()


@dataclass(frozen=True)
class HeadModel:
    """The physics of one simulated subject.

    Attributes
    ----------
    info : mne.Info
        Measurement info with the subject's head position.
    meg_idx : ndarray of int, shape (n_meg,)
        Indices of the MEG channels in ``info``.
    sss : ndarray, shape (n_meg, n_meg)
        Projector onto the internal SSS subspace (rank ``n_sss``).
    n_sss : int
        Number of internal SSS components kept.
    """

    info: mne.Info
    meg_idx: NDArray[np.int64]
    sss: NDArray[np.float64]
    n_sss: int


def random_rigid_transform(
    rng: np.random.Generator, rotation_deg: float, translation_m: float
) -> NDArray[np.float64]:
    """Draw a small rigid transform (4 x 4) with Gaussian angles and shifts.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random generator.
    rotation_deg : float
        Standard deviation of each rotation angle (degrees).
    translation_m : float
        Standard deviation of each translation component (m).

    Returns
    -------
    trans : ndarray, shape (4, 4)
    """
    angles = np.deg2rad(rng.normal(0.0, rotation_deg, 3))
    trans = mne.transforms.rotation(*angles)
    trans[:3, 3] = rng.normal(0.0, translation_m, 3)
    return trans


def subject_head_model(
    dev_head_jitter: NDArray[np.float64], int_order: int, meas_date_days: int
) -> HeadModel:
    """Build the measurement info and SSS projector of one subject.

    Parameters
    ----------
    dev_head_jitter : ndarray, shape (4, 4)
        Rigid transform applied (in the device frame) to the sample subject's
        device-to-head transform.
    int_order : int
        Internal order of the SSS basis (8 gives rank ~70, as real tSSS data).
    meas_date_days : int
        Measurement date, in days after 2020-01-01 (deterministic files).

    Returns
    -------
    model : HeadModel
    """
    import datetime

    info = base_info()
    dev_head = info["dev_head_t"]["trans"] @ dev_head_jitter
    info["dev_head_t"] = mne.transforms.Transform("meg", "head", dev_head)
    date = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(days=int(meas_date_days))
    info.set_meas_date(date)
    meg_idx = mne.pick_types(info, meg=True)
    sss, n_in = _sss_projector(mne.pick_info(info, meg_idx), int_order)
    return HeadModel(info=info, meg_idx=meg_idx, sss=sss, n_sss=int(n_in))


def _maxwell_basis(
    meg_info: mne.Info, int_order: int, regularize: str | None
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64], int]:
    info = meg_info.copy()
    with info._unlock():
        # compute_maxwell_basis refuses data already marked as SSS-processed.
        info["proc_history"] = []
    basis, pinv, moments, n_in = mne.preprocessing.compute_maxwell_basis(
        info,
        origin=SPHERE_ORIGIN,
        int_order=int_order,
        ext_order=3,
        coord_frame="head",
        regularize=regularize,
        # Unregularized, the full basis can be ill-conditioned; its own
        # pseudo-inverse is not used then (see _sss_projector).
        bad_condition="error" if regularize else "ignore",
        verbose="error",
    )
    return basis, pinv, np.asarray(moments), int(n_in)


@functools.lru_cache(maxsize=4)
def _regularized_moments(int_order: int) -> tuple[tuple[int, ...], int]:
    """SSS moments kept by MNE's regularization at the reference head position.

    Read from the shipped ``sss_moments.json`` when it has this order (the
    regularization runs dozens of SVDs), computed otherwise.
    """
    shipped = DATA_DIR / SSS_MOMENTS_FILE
    if shipped.is_file():
        entry = json.loads(shipped.read_text()).get(str(int_order))
        if entry is not None:
            return tuple(int(m) for m in entry["moments"]), int(entry["n_in"])
    info = _base_info_cached()
    meg_info = mne.pick_info(info, mne.pick_types(info, meg=True))
    _, _, moments, n_in = _maxwell_basis(meg_info, int_order, "in")
    return tuple(int(m) for m in moments), n_in


def _sss_projector(meg_info: mne.Info, int_order: int) -> tuple[NDArray[np.float64], int]:
    """Projector onto the regularized internal SSS subspace of this head position.

    MNE's ``regularize='in'`` (dozens of SVDs) is run once at the reference
    head position; each subject reuses its choice of moments with its own,
    unregularized basis, which is equivalent for small head movements and
    much faster.

    Returns
    -------
    proj : ndarray, shape (n_meg, n_meg)
        ``S_in @ pinv(S)_in``: reconstruction from the internal moments.
    n_in : int
        Number of internal moments kept (the rank of ``proj``).
    """
    moments, n_in = _regularized_moments(int_order)
    basis, _, _, _ = _maxwell_basis(meg_info, int_order, None)
    # compute_maxwell_basis returns the basis divided by the coil scale
    # (magnetometers x100); invert in the scaled space, as MNE does.
    scale = np.ones(len(meg_info.ch_names))
    scale[mne.pick_types(meg_info, meg="mag")] = 100.0
    chosen = basis[:, list(moments)]
    pinv = np.linalg.pinv(chosen * scale[:, None]) * scale[None, :]
    return chosen[:, :n_in] @ pinv[:n_in], n_in


@functools.lru_cache(maxsize=1)
def source_grid(spacing: float = 0.008, radius: float = 0.072) -> NDArray[np.float64]:
    """Return a regular grid of candidate source positions in the head frame.

    Parameters
    ----------
    spacing : float
        Grid step (m).
    radius : float
        Only points closer than this to the sphere origin are kept (m).

    Returns
    -------
    rr : ndarray, shape (n_points, 3)
        Read-only positions (m), head coordinates (x right, y front, z up).
    """
    axis = np.arange(-radius, radius + spacing / 2, spacing)
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)
    grid = grid[np.linalg.norm(grid, axis=1) <= radius]
    rr = grid + np.asarray(SPHERE_ORIGIN)
    # Keep the upper part of the sphere, where the cortex of a real head is.
    rr = rr[rr[:, 2] >= SPHERE_ORIGIN[2] - 0.035]
    rr.setflags(write=False)
    return rr


def tangential_orientations(rr: NDArray[np.float64], rng: np.random.Generator) -> NDArray[np.float64]:
    """Draw random unit orientations orthogonal to the radius of the sphere.

    Radial dipoles produce no field outside a spherically symmetric conductor,
    so every source gets a tangential orientation.

    Parameters
    ----------
    rr : ndarray, shape (n_sources, 3)
        Source positions (m).
    rng : numpy.random.Generator
        Random generator.

    Returns
    -------
    nn : ndarray, shape (n_sources, 3)
    """
    radial = rr - np.asarray(SPHERE_ORIGIN)
    radial /= np.linalg.norm(radial, axis=1, keepdims=True)
    draw = rng.normal(size=rr.shape)
    tang = draw - np.sum(draw * radial, axis=1, keepdims=True) * radial
    return tang / np.linalg.norm(tang, axis=1, keepdims=True)


def dipole_gain(info: mne.Info, rr: NDArray[np.float64], nn: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the MEG field of unit dipoles (1 A m) in a spherical head.

    Parameters
    ----------
    info : mne.Info
        Measurement info with ``dev_head_t``.
    rr : ndarray, shape (n_sources, 3)
        Positions in the head frame (m), inside the sphere.
    nn : ndarray, shape (n_sources, 3)
        Unit orientations.

    Returns
    -------
    gain : ndarray, shape (n_meg, n_sources)
        Field (T for magnetometers, T/m for gradiometers) per unit moment, in
        the info's MEG channel order.
    """
    rr = np.asarray(rr, float)
    sphere = _sphere_model()
    src = mne.setup_volume_source_space(
        pos=dict(rr=rr, nn=np.tile([0.0, 0.0, 1.0], (len(rr), 1))),
        sphere=(*SPHERE_ORIGIN, HEAD_RADIUS),
        verbose="error",
    )
    if src[0]["nuse"] != len(rr):
        raise ValueError(
            f"{len(rr) - src[0]['nuse']} of {len(rr)} source positions were dropped "
            "by the source space (outside the head sphere?)"
        )
    meg_info = mne.pick_info(info, mne.pick_types(info, meg=True))
    fwd = mne.make_forward_solution(
        meg_info, trans=None, src=src, bem=sphere, meg=True, eeg=False, verbose="error"
    )
    free = fwd["sol"]["data"].reshape(len(meg_info.ch_names), len(rr), 3)
    return np.sum(free * nn[None, :, :], axis=-1)


@functools.lru_cache(maxsize=1)
def _sphere_model() -> mne.bem.ConductorModel:
    # MEG only: no conductivity layers needed (head_radius=None).
    return mne.make_sphere_model(r0=SPHERE_ORIGIN, head_radius=None, verbose="error")
