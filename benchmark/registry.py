"""Discovery of decoder files in the ``decoders`` package.

Modelled on :func:`sklearn.utils.discovery.all_estimators` and benchopt's
solver scan: every public module of the package is imported in sorted order
(``_``-prefixed modules are helpers and are skipped) and must declare one
``DECODER = DecoderSpec(...)``. Other files declare decoders through the
package's ``FILE_LOADERS`` mapping (suffix -> reader): in :mod:`decoders`,
MOABB pipeline files (``*.yml``, ``*.yaml``) in the package's folder, or in
folders given as ``pipelines``. The registry itself knows no file format
but Python's.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import logging
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmark.contract import FAMILIES, NAME_PATTERN, OFFERED, DecoderSpec
from benchmark.errors import DecoderRegistrationError, UnknownDecoderError

logger = logging.getLogger(__name__)

DEFAULT_PACKAGE = "decoders"
_RESERVED_NAMES = frozenset({"nan", "na", "n-a", "null", "none"})


@dataclass(frozen=True)
class Registry:
    """The decoders found in a package, and the files that failed to register.

    Attributes
    ----------
    specs : dict of str to DecoderSpec
        Valid decoders by name, sorted by name.
    broken : dict of str to str
        File path -> error message for files that could not be registered.
    """

    specs: dict[str, DecoderSpec]
    broken: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """Registered decoder names, sorted."""
        return list(self.specs)

    def get(self, name: str) -> DecoderSpec:
        """Return the spec called ``name``.

        Raises
        ------
        UnknownDecoderError
            If no decoder has that name; the message lists the valid names.
        """
        try:
            return self.specs[name]
        except KeyError:
            raise UnknownDecoderError(
                f"Unknown decoder {name!r}. Valid names: {', '.join(self.names)}."
                + (f" Files that failed to register: {', '.join(self.broken)}." if self.broken else "")
            ) from None

    def select(self, names: list[str] | None) -> list[DecoderSpec]:
        """Specs for ``names`` (all when None), refusing unknown names."""
        if names is None:
            return list(self.specs.values())
        return [self.get(n) for n in names]


def validate_spec(spec: object, origin: str) -> DecoderSpec:
    """Check one declaration and return it.

    Parameters
    ----------
    spec : object
        The module's ``DECODER`` attribute.
    origin : str
        The file it came from, named in every error.

    Raises
    ------
    DecoderRegistrationError
        If the declaration is not a valid :class:`DecoderSpec`.
    """
    if not isinstance(spec, DecoderSpec):
        raise DecoderRegistrationError(
            f"{origin}: DECODER must be a benchmark.contract.DecoderSpec, got {type(spec).__name__}."
        )
    if not NAME_PATTERN.match(spec.name):
        raise DecoderRegistrationError(
            f"{origin}: decoder name {spec.name!r} is not kebab-case (e.g. 'lda-peak')."
        )
    if spec.name in _RESERVED_NAMES:
        raise DecoderRegistrationError(
            f"{origin}: decoder name {spec.name!r} is reserved (CSV readers take it for a missing value)."
        )
    if spec.family not in FAMILIES:
        raise DecoderRegistrationError(
            f"{origin}: unknown family {spec.family!r} for decoder {spec.name!r}. "
            f"Allowed values are {', '.join(repr(f) for f in FAMILIES)}."
        )
    if not spec.description.strip() or "\n" in spec.description:
        raise DecoderRegistrationError(
            f"{origin}: decoder {spec.name!r} needs a one-line, non-empty description."
        )
    unknown_uses = set(spec.uses) - OFFERED
    if unknown_uses:
        raise DecoderRegistrationError(
            f"{origin}: decoder {spec.name!r} asks for {sorted(unknown_uses)}, which the harness "
            f"does not offer; it offers {sorted(OFFERED)} (imagine labels are never offered)."
        )
    if "truth" in spec.uses and spec.ranked:
        raise DecoderRegistrationError(
            f"{origin}: decoder {spec.name!r} uses the simulation's ground truth and must be declared "
            "ranked=False (it cannot be ranked)."
        )
    if isinstance(spec.builds_on, str) or not all(isinstance(n, str) for n in spec.builds_on):
        raise DecoderRegistrationError(
            f"{origin}: builds_on of {spec.name!r} must be a tuple of decoder names, got {spec.builds_on!r}."
        )
    if not callable(spec.factory):
        raise DecoderRegistrationError(f"{origin}: factory of {spec.name!r} is not callable.")
    try:
        inspect.signature(spec.factory).bind(None)
    except TypeError:
        raise DecoderRegistrationError(
            f"{origin}: factory of {spec.name!r} must take exactly one argument, the DecoderContext."
        ) from None
    return dataclasses.replace(
        spec, uses=frozenset(spec.uses), builds_on=tuple(spec.builds_on), module=origin
    )


def resolve_bases(spec: DecoderSpec, specs: Mapping[str, DecoderSpec]) -> DecoderSpec:
    """Return ``spec`` with the specs of its ``builds_on`` attached as ``bases``.

    Raises
    ------
    DecoderRegistrationError
        If a name is not registered, is the decoder itself, or names a decoder
        that does not fit on the localizer alone (non-empty ``uses`` or its own
        ``builds_on``).
    """
    bases = []
    for name in spec.builds_on:
        base = specs.get(name)
        if base is None or name == spec.name:
            raise DecoderRegistrationError(
                f"{spec.module}: decoder {spec.name!r} builds on {name!r}, which is "
                + ("itself." if name == spec.name else f"not registered; registered: {', '.join(specs)}.")
            )
        if base.uses or base.builds_on:
            raise DecoderRegistrationError(
                f"{spec.module}: decoder {spec.name!r} builds on {name!r}, which does not fit on the "
                f"localizer alone (uses {sorted(base.uses)}, builds on {list(base.builds_on)})."
            )
        bases.append(base)
    return dataclasses.replace(spec, bases=tuple(bases))


def discover(
    package: str = DEFAULT_PACKAGE, *, strict: bool = True, pipelines: Sequence[str | Path] = ()
) -> Registry:
    """Import every public module of ``package`` and collect its decoder.

    Parameters
    ----------
    package : str
        Importable package name to scan.
    strict : bool
        If True, the first broken file raises. If False, broken files are
        logged and listed in :attr:`Registry.broken`, and the others register.
    pipelines : sequence of path
        Extra declaration files (MOABB pipelines in :mod:`decoders`), or
        folders of them, besides those of the package's folder; read by the
        package's ``FILE_LOADERS``.

    Returns
    -------
    Registry

    Raises
    ------
    DecoderRegistrationError
        With ``strict=True``, for a file that fails to import, declares no
        decoder or an invalid one, or reuses another file's name.
    """
    pkg = importlib.import_module(package)
    specs: dict[str, DecoderSpec] = {}
    broken: dict[str, str] = {}
    sources: list[tuple[str, object]] = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.ispkg:
            continue
        origin = str(Path(info.module_finder.path) / f"{info.name}.py")
        sources.append((origin, functools.partial(_load_one, f"{package}.{info.name}", origin)))
    loaders: Mapping[str, Callable[[Path], DecoderSpec]] = getattr(pkg, "FILE_LOADERS", {})
    for path in declaration_files([*pkg.__path__, *pipelines], loaders):
        sources.append((str(path), functools.partial(_load_file, loaders[path.suffix], path)))
    for origin, load in sources:
        try:
            spec = load()
            if spec.name in specs:
                raise DecoderRegistrationError(
                    f"{origin}: decoder name {spec.name!r} is already declared by "
                    f"{specs[spec.name].module}; names must be unique."
                )
            specs[spec.name] = spec
        except DecoderRegistrationError as exc:
            if strict:
                raise
            logger.error("%s", exc)
            broken[origin] = str(exc)
    resolved: dict[str, DecoderSpec] = {}
    for name, spec in specs.items():
        try:
            resolved[name] = resolve_bases(spec, specs)
        except DecoderRegistrationError as exc:
            if strict:
                raise
            logger.error("%s", exc)
            broken[spec.module] = str(exc)
    return Registry(dict(sorted(resolved.items())), broken)


def _load_one(module_name: str, origin: str) -> DecoderSpec:
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # a contributor's file may raise anything on import
        raise DecoderRegistrationError(f"{origin}: cannot import ({type(exc).__name__}: {exc}).") from exc
    if not hasattr(module, "DECODER"):
        raise DecoderRegistrationError(
            f"{origin}: no DECODER declaration. Add `DECODER = DecoderSpec(name=..., family=..., "
            "description=..., factory=...)`, or prefix the file name with '_' if it is a helper."
        )
    return validate_spec(module.DECODER, origin)


def declaration_files(
    locations: Sequence[str | Path], loaders: Mapping[str, Callable[[Path], DecoderSpec]]
) -> list[Path]:
    """Files that declare decoders through ``loaders`` (by suffix) among files and folders.

    Parameters
    ----------
    locations : sequence of path
        Files, or folders whose files are listed sorted by name.
    loaders : mapping of str to callable
        The scanned package's ``FILE_LOADERS`` (e.g. ``.yml`` -> MOABB pipeline reader).

    Raises
    ------
    DecoderRegistrationError
        If a location does not exist, or a file given by name has no loader.
    """
    files: list[Path] = []
    for location in map(Path, locations):
        if location.is_dir():
            files += sorted(p for p in location.iterdir() if p.suffix in loaders)
        elif location.is_file():
            if location.suffix not in loaders:
                raise DecoderRegistrationError(
                    f"{location}: no decoder reader for {location.suffix or 'files without a suffix'!r}; "
                    f"readable suffixes: {', '.join(sorted(loaders)) or 'none'}."
                )
            files.append(location)
        else:
            raise DecoderRegistrationError(f"{location}: no such pipeline file or folder.")
    return files


def _load_file(load: Callable[[Path], DecoderSpec], path: Path) -> DecoderSpec:
    try:
        spec = load(path)
    except ValueError as exc:
        raise DecoderRegistrationError(str(exc)) from exc
    return validate_spec(spec, str(path))


def markdown_table(registry: Registry) -> str:
    """Return the README's decoder table, from the registry: one row per decoder, sorted by name.

    Parameters
    ----------
    registry : Registry
        Discovered decoders.

    Returns
    -------
    str
        A GitHub-flavoured Markdown table (name, family, ranked, description,
        reference), ending with a newline.
    """
    lines = ["| name | family | ranked | what it does | reference |", "| --- | --- | --- | --- | --- |"]
    for spec in registry.specs.values():
        cells = (
            f"`{spec.name}`",
            spec.family,
            "yes" if spec.ranked else "no",
            spec.description,
            spec.reference,
        )
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
