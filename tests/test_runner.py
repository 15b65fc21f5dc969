"""The runner's side of the optional contract methods."""

import numpy as np

from benchmark.config import RunConfig
from benchmark.contract import DecoderSpec
from benchmark.runner import _run_task_body
from datasets.adapter import ChallengeDataset
from decoders.chance import ChanceDecoder


class CountedCourse(ChanceDecoder):
    """A decoder whose imagine probabilities are its (random) time course pooled."""

    calls: list[int] = []

    def imagine_time_course(self, X):
        self.calls.append(len(X))
        return np.random.default_rng(len(self.calls)).random((len(X), X.shape[2], 10))

    def pool_time_course(self, course):
        pooled = course.mean(axis=1)
        return pooled / pooled.sum(axis=1, keepdims=True)

    def predict_proba_imagine(self, X):
        return self.pool_time_course(self.imagine_time_course(X))


def test_a_pooled_time_course_is_computed_once_for_probabilities_and_plot(foreign_root, tmp_path):
    spec = DecoderSpec(name="counted", family="baseline", description="Counts its time courses.",
                       factory=lambda context: CountedCourse(context.random_state))  # fmt: skip
    dataset = ChallengeDataset(foreign_root)
    config = RunConfig(data=foreign_root, out=tmp_path, localizer_folds=0)
    CountedCourse.calls = []
    n_imagine, n_times = len(dataset.load("sub-02").imagine.X), len(dataset.load("sub-02").imagine.times)
    row = _run_task_body(dataset, spec, "sub-02", config, order=np.arange(n_imagine))  # the file's order
    assert row["split"] == "train" and CountedCourse.calls == [n_imagine]
    # the probabilities and the curve come from that one course (the first draw)
    course = np.random.default_rng(1).random((n_imagine, n_times, 10))
    np.testing.assert_allclose(row["proba"], CountedCourse().pool_time_course(course), atol=1e-6)
    assert len(row["evidence_curve"]) == n_times
