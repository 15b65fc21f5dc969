"""One-vs-rest L1 logistic regression at the localizer peak (replay decoder), scanned over imagery.

The classifier of the human replay literature, at the latency chosen by the
lda-peak inner CV. scikit-learn 1.9 refuses ``penalty='l1'`` with liblinear
for ten classes, hence the explicit ``OneVsRestClassifier``.

References
----------
Liu, Y., Dolan, R. J., Kurth-Nelson, Z., & Behrens, T. E. J. (2019). Cell, 178(3), 640-652.
Kurth-Nelson, Z., et al. (2016). Neuron, 91(1), 194-204.
"""

from benchmark.contract import DecoderContext, DecoderSpec


def make(context: DecoderContext):
    """One-vs-rest L1 logistic regression at the localizer peak, scanned over imagery."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from decoders.toolkit.scan import peak_scan

    lasso = OneVsRestClassifier(LogisticRegression(l1_ratio=1.0, C=1.0, solver="liblinear"))
    return peak_scan(make_pipeline(StandardScaler(), lasso), context)


DECODER = DecoderSpec(
    name="logreg-l1-peak",
    family="linear",
    factory=make,
    reference="Liu et al. 2019, Cell; Kurth-Nelson et al. 2016, Neuron",
)
