"""TensorFlow (Keras) reference solutions to the chapter's two exercises.

Imports TensorFlow only. The contract is in ``solutions/reference.py`` (NumPy ground truth).
"""

import tensorflow as tf

__all__ = ["FourierHalf", "TensorReduction"]


class TensorReduction(tf.keras.layers.Layer):
    """``Y[b, k] = sum_ij weight[i, j, k] * X[b, i] * X[b, j]``.

    No bias, no activation.
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, X_shape):
        in_units = X_shape[-1]
        self.weight = self.add_weight(
            name="weight",
            shape=(in_units, in_units, self.units),
            initializer=tf.random_normal_initializer(stddev=1.0),
        )

    def call(self, X):
        # Two contractions, in the order that keeps them cheap. First
        # i, in one product with the weight:
        #   Z[b, j, k] = sum_i X[b, i] weight[i, j, k];
        # then j, example by example:
        #   Y[b, k] = sum_j X[b, j] Z[b, j, k].
        # No (batch, in_units, in_units) outer product is ever built,
        # and each einsum has two operands, so TensorFlow does not
        # search for a contraction order at every call.
        Z = tf.einsum("bi,ijk->bjk", X, self.weight)
        return tf.einsum("bj,bjk->bk", X, Z)


class FourierHalf(tf.keras.layers.Layer):
    """The first ``ceil(n / 2)`` DFT coefficients of the last axis.

    Returned as a complex tensor.
    """

    def call(self, X):
        m = (X.shape[-1] + 1) // 2
        # rfft transforms the last axis only: float32 gives complex64,
        # float64 (a layer made with dtype="float64") complex128. It
        # keeps n // 2 + 1 coefficients; tf.split keeps the first m,
        # at a third of the eager cost of indexing [..., :m].
        first_half, _ = tf.split(tf.signal.rfft(X), [m, -1], axis=-1)
        return first_half
