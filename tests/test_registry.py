"""Decoder discovery: valid files register, broken ones are named."""

import itertools
import textwrap

import pytest

from benchmark.contract import DecoderSpec
from benchmark.errors import BenchmarkError, DecoderRegistrationError, UnknownDecoderError
from benchmark.registry import discover

_counter = itertools.count()

GOOD = """
from benchmark.contract import DecoderSpec

def make(context):
    from decoders.chance import ChanceDecoder
    return ChanceDecoder(random_state=context.random_state)

DECODER = DecoderSpec(name={name!r}, family={family!r}, description="A test decoder.", factory=make)
"""


@pytest.fixture
def make_package(tmp_path, monkeypatch):
    """Create an importable package of decoder files: make_package({'a.py': src})."""

    def _make(files: dict[str, str]) -> str:
        name = f"fake_decoders_{next(_counter)}"
        pkg = tmp_path / name
        pkg.mkdir()
        (pkg / "__init__.py").write_text("")
        for filename, source in files.items():
            (pkg / filename).write_text(textwrap.dedent(source))
        monkeypatch.syspath_prepend(str(tmp_path))
        return name

    return _make


def test_real_package_registers_the_skeleton_decoders():
    registry = discover()
    assert {"chance", "lda-peak", "logreg-l1-peak"} <= set(registry.names)
    assert registry.names == sorted(registry.names)
    assert registry.broken == {}


def test_discovery_sorted_and_skips_private(make_package):
    pkg = make_package(
        {
            "b.py": GOOD.format(name="bee", family="linear"),
            "a.py": GOOD.format(name="ay", family="baseline"),
            "_helper.py": "x = 1\n",
        }
    )
    registry = discover(pkg)
    assert registry.names == ["ay", "bee"]
    assert registry.get("bee").module.endswith("b.py")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x = 1\n", "no DECODER declaration"),
        (GOOD.format(name="Bad_Name", family="linear"), "not kebab-case"),
        (GOOD.format(name="ok-name", family="magic"), "unknown family 'magic'"),
        ("def broken(:\n", "cannot import"),
        ("DECODER = 3\n", "must be a benchmark.contract.DecoderSpec"),
        (
            GOOD.format(name="peeker", family="linear").replace(
                "factory=make)", 'factory=make, uses=frozenset({"imagine_labels"}))'
            ),
            "does not offer",
        ),
        (
            GOOD.format(name="two-args", family="linear").replace("def make(context):", "def make(a, b):"),
            "exactly one argument",
        ),
    ],
    ids=[
        "no-declaration",
        "bad-name",
        "unknown-family",
        "syntax-error",
        "not-a-spec",
        "asks-labels",
        "signature",
    ],
)
def test_broken_file_is_named(make_package, source, message):
    pkg = make_package({"good.py": GOOD.format(name="good", family="linear"), "bad.py": source})
    with pytest.raises(DecoderRegistrationError, match=message) as info:
        discover(pkg)
    assert "bad.py" in str(info.value)
    lenient = discover(pkg, strict=False)
    assert lenient.names == ["good"]
    assert [k for k in lenient.broken] and all(k.endswith("bad.py") for k in lenient.broken)


def test_duplicate_name_refused(make_package):
    pkg = make_package(
        {"a.py": GOOD.format(name="same", family="linear"), "b.py": GOOD.format(name="same", family="linear")}
    )
    with pytest.raises(DecoderRegistrationError, match="already declared by .*a.py") as info:
        discover(pkg)
    assert "b.py" in str(info.value)


def test_unknown_decoder_lists_valid_names(make_package):
    registry = discover(make_package({"a.py": GOOD.format(name="ay", family="linear")}))
    with pytest.raises(UnknownDecoderError, match="Valid names: ay") as info:
        registry.get("nope")
    assert isinstance(info.value, KeyError) and isinstance(info.value, BenchmarkError)
    assert "'nope'" in str(info.value)


def test_ranked_must_be_a_boolean():
    with pytest.raises(TypeError, match="'odd'.*ranked must be True or False, got 'no'"):
        DecoderSpec(name="odd", family="baseline", description="x", factory=lambda c: None, ranked="no")
    assert DecoderSpec(name="odd", family="baseline", description="x", factory=lambda c: None).ranked is True


OBJECT_FACTORY = """
from benchmark.contract import DecoderSpec


class Factory:
    \"\"\"A class docstring, not a description.\"\"\"

    def __call__(self, context):
        from decoders.chance import ChanceDecoder
        return ChanceDecoder(random_state=context.random_state)


DECODER = DecoderSpec(name="obj", family="baseline", factory=Factory())
"""


def test_description_defaults_to_the_factory_docstring(make_package):
    def make(context):
        """First line is the description.

        Not this one.
        """

    spec = DecoderSpec(name="doc", family="baseline", factory=make)
    assert spec.description == "First line is the description."
    given = DecoderSpec(name="doc", family="baseline", description="Given.", factory=make)
    assert given.description == "Given."
    with pytest.raises(TypeError, match="'nofactory'.*factory must be callable"):
        DecoderSpec(name="nofactory", family="baseline", description="x")
    # a callable object's class docstring is not taken for the decoder's description
    with pytest.raises(DecoderRegistrationError, match="one-line, non-empty description"):
        discover(make_package({"a.py": OBJECT_FACTORY}))


BUILDER = """
from benchmark.contract import DecoderSpec

def make(context):
    from decoders.chance import ChanceDecoder
    return ChanceDecoder(random_state=context.random_state)

DECODER = DecoderSpec(name={name!r}, family="baseline", description="A stack.", factory=make,
                      builds_on={bases!r}, uses={uses!r})
"""


def test_builds_on_is_resolved_to_the_registered_specs(make_package):
    pkg = make_package(
        {
            "a.py": GOOD.format(name="ay", family="baseline"),
            "s.py": BUILDER.format(name="stack", bases=("ay",), uses=frozenset()),
        }
    )
    registry = discover(pkg)
    assert registry.get("stack").bases == (registry.get("ay"),) and registry.get("ay").bases == ()


@pytest.mark.parametrize(
    "bases, base_uses, message",
    [
        (("nope",), frozenset(), "builds on 'nope', which is not registered"),
        (("stack",), frozenset(), "which is itself"),
        (("ay",), frozenset({"imagine"}), "does not fit on the localizer alone"),
        ("ay", frozenset(), "must be a tuple of decoder names"),
    ],
)
def test_a_decoder_building_on_an_unusable_one_is_named_broken(make_package, bases, base_uses, message):
    pkg = make_package(
        {
            "a.py": BUILDER.format(name="ay", bases=(), uses=base_uses),
            "s.py": BUILDER.format(name="stack", bases=bases, uses=frozenset()),
        }
    )
    with pytest.raises(DecoderRegistrationError, match=message):
        discover(pkg)
    registry = discover(pkg, strict=False)
    assert "stack" not in registry.names and "ay" in registry.names
    assert [path for path, error in registry.broken.items() if message in error][0].endswith("s.py")
