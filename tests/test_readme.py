"""The README's decoder table is the registry's, and its example decoder meets the contract."""

import re
from pathlib import Path

import numpy as np

from benchmark.registry import discover, markdown_table
from benchmark.tasks import ordered_proba
from datasets.layout import CLASS_NAMES
from tests.synthetic import context, make_subject

README = Path(__file__).parents[1] / "README.md"


def test_decoder_table_matches_list_markdown():
    text = README.read_text()
    table = re.search(r"<!-- decoders:start -->\n(.*?)<!-- decoders:end -->", text, re.S)
    assert table, "README.md lost its <!-- decoders:start/end --> markers"
    assert table.group(1) == markdown_table(discover()), (
        "README.md's decoder table is stale: paste the output of `python -m benchmark list --markdown` "
        "between the markers"
    )


def test_readme_example_decoder_meets_the_contract(tmp_path, monkeypatch):
    section = README.read_text().split("## Adding a decoder", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    pkg = tmp_path / "readme_decoders"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "example.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    (spec,) = discover("readme_decoders").specs.values()
    assert len(code.splitlines()) <= 40, "the README example should stay as short as a real decoder file"
    X, y, X_img, y_img = make_subject(5, n_per_class=10, signal=1.5)
    first, second = spec.factory(context()), spec.factory(context())
    assert first is not second and first.fit(X, y) is first
    loc = ordered_proba(first, first.predict_proba(X[:7]), 7, spec.name)
    img = ordered_proba(first, first.predict_proba_imagine(X_img), len(X_img), spec.name)
    np.testing.assert_allclose(img.sum(axis=1), 1.0)
    assert np.mean(np.asarray(CLASS_NAMES)[loc.argmax(1)] == y[:7]) > 0.4
    assert np.mean(np.asarray(CLASS_NAMES)[img.argmax(1)] == y_img) > 0.3
    again = spec.factory(context()).fit(X, y).predict_proba_imagine(X_img)
    np.testing.assert_allclose(again, first.predict_proba_imagine(X_img))
