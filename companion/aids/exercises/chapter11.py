"""Exercises of chapter 11, Layer normalization."""

from __future__ import annotations

import numpy as np

from companion.aids.exercises._checker import Verdict, as_numbers, close, register

#: Exercise 11.1: a vector to normalize by hand (mean 5, standard deviation 2).
NORMALIZE_X = np.array([2.0, 4.0, 5.0, 6.0, 8.0])

#: Exercise 11.2: numbers whose standard deviation to find (mean 10).
SPREAD_X = np.array([5.0, 11.0, 11.0, 13.0])

#: Exercise 11.3: the scale ``gamma`` and shift ``beta`` applied to NORMALIZE_X, normalized.
GAMMA = np.array([2.0, 1.0, 4.0, -2.0, 0.5])
BETA = np.array([1.0, 0.0, 3.0, 0.0, -1.0])

#: Exercise 11.4: the length of GPT-2 small's vectors (its ``n_embd``).
N_EMBD_GPT2 = 768

#: Exercise 11.5: a vector of equal numbers, and the LayerNorm's scale and shift.
EQUAL_X = np.array([7.0, 7.0, 7.0, 7.0])
EQUAL_GAMMA = np.array([0.5, 2.0, -1.0, 3.0])
EQUAL_BETA = np.array([0.1, -0.2, 0.3, 0.0])


def _x_hat(x: np.ndarray, ddof: int = 0) -> np.ndarray:
    """``(x - mean) / std``, the std dividing by ``n - ddof`` (no eps: the data have spread)."""
    centred = x - x.mean()
    x_hat: np.ndarray = centred / np.sqrt((centred**2).sum() / (x.size - ddof))
    return x_hat


def _nan_hint(answer: object, n: int) -> Verdict | None:
    """A hint about 0 / 0 when ``answer`` is ``n`` numbers of which some are NaN or infinite."""
    if isinstance(answer, str | bytes) or answer is None:
        return None
    try:
        array = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if array.size == n and not np.all(np.isfinite(array)):
        return Verdict(
            False,
            "The answer holds nan or inf: a division by D = 0. LayerNorm adds a small eps "
            "to D squared before the square root, so D is sqrt(eps), not 0.",
        )
    return None


@register("11.1", "NORMALIZE_X = [2, 4, 5, 6, 8] normalized: (x - M) / D.")
def _normalize(answer: object) -> Verdict:
    x = NORMALIZE_X
    got = _nan_hint(answer, x.size) or as_numbers(answer, x.shape)
    if isinstance(got, Verdict):
        return got
    centred = x - x.mean()
    right = _x_hat(x)
    if close(got, right, 1e-4):
        return Verdict(
            True,
            "M = 5; the distances -3, -1, 0, 1, 3 have squares 9, 1, 0, 1, 9, whose average is "
            "4, so D = 2 and (x - M) / D = [-1.5, -0.5, 0, 0.5, 1.5].",
        )
    if close(got, _x_hat(x, ddof=1), 1e-3):
        return Verdict(
            False,
            "You divided the sum of the squares by n - 1 = 4. LayerNorm divides by n = 5, "
            "as GPT-2 and PyTorch do (np.std's default).",
        )
    if close(got, centred, 1e-6):
        return Verdict(False, "That is x - M only; now divide by the standard deviation D.")
    if close(got, x / np.std(x), 1e-3):
        return Verdict(False, "Subtract the mean M = 5 first, then divide by D.")
    if close(got, centred / np.var(x), 1e-3):
        return Verdict(
            False,
            "You divided by the average of the squares, 4. D is its square root.",
        )
    if close(got, centred / np.abs(centred).mean(), 1e-3):
        return Verdict(
            False,
            "You divided by the average distance, 1.6. D averages the *squared* distances, "
            "then takes the square root.",
        )
    if close(got, -right, 1e-4):
        return Verdict(False, "Right size, wrong sign: it is x - M, not M - x.")
    return Verdict(
        False,
        "Find the mean M, each number's distance from it, the average of their squares, and "
        "its square root D; then compute (x - M) / D for each number.",
    )


@register("11.2", "The standard deviation of SPREAD_X = [5, 11, 11, 13].")
def _spread(answer: object) -> Verdict:
    if isinstance(answer, bool | np.bool_):
        return Verdict(False, f"Expected one number; got {answer!r}.")
    got = as_numbers(answer, ())
    if isinstance(got, Verdict):
        return got
    x = SPREAD_X
    squares = (x - x.mean()) ** 2
    right = np.sqrt(squares.mean())
    if close(got, right, 1e-3):
        return Verdict(
            True,
            "The mean is 10; the distances -5, 1, 1, 3 have squares 25, 1, 1, 9; their average "
            "is 36 / 4 = 9, and its square root is 3.",
        )
    if close(got, np.sqrt(squares.sum() / (x.size - 1)), 1e-3):
        return Verdict(
            False,
            "You divided by n - 1 = 3 (the 'sample' standard deviation). LayerNorm divides by "
            "n = 4.",
        )
    if close(got, squares.mean(), 1e-3):
        return Verdict(False, "That is the average square, D squared; take its square root.")
    if close(got, np.abs(x - x.mean()).mean(), 1e-3):
        return Verdict(
            False,
            "That is the average distance. Square the distances, average the squares, then "
            "take the square root.",
        )
    if close(got, x.mean(), 1e-3):
        return Verdict(False, "That is the mean; the spread is about the distances from it.")
    if close(got, 0.0, 1e-9):
        return Verdict(
            False,
            "The distances cancel out when added with their signs: square them first.",
        )
    if close(got, np.sqrt(squares.sum()), 1e-3) or close(got, squares.sum(), 1e-3):
        return Verdict(False, "Average the squares (divide their sum by 4) before the root.")
    return Verdict(
        False, "Mean, distances from it, their squares, the average square, its square root."
    )


@register("11.3", "gamma * x_hat + beta for NORMALIZE_X normalized, with GAMMA and BETA.")
def _scale_and_shift(answer: object) -> Verdict:
    got = as_numbers(answer, GAMMA.shape)
    if isinstance(got, Verdict):
        return got
    x_hat = _x_hat(NORMALIZE_X)
    right = GAMMA * x_hat + BETA
    if close(got, right, 1e-3):
        return Verdict(
            True,
            "Each number gets its own scale and shift: 2 x (-1.5) + 1 = -2, 1 x (-0.5) + 0, "
            "4 x 0 + 3 = 3, -2 x 0.5 + 0 = -1, 0.5 x 1.5 - 1 = -0.25.",
        )
    if close(got, GAMMA * x_hat, 1e-3):
        return Verdict(False, "You scaled but did not shift: add beta.")
    if close(got, x_hat + BETA, 1e-3):
        return Verdict(False, "You shifted but did not scale: multiply by gamma first.")
    if close(got, GAMMA * NORMALIZE_X + BETA, 1e-3):
        return Verdict(
            False,
            "Scale and shift the *normalized* vector, (x - M) / D, not x itself (exercise 11.1).",
        )
    if close(got, GAMMA * (x_hat + BETA), 1e-3):
        return Verdict(False, "Multiply first, then add: gamma * x_hat + beta.")
    if close(got, BETA * x_hat + GAMMA, 1e-3):
        return Verdict(False, "gamma is the scale (it multiplies), beta the shift (it adds).")
    if close(got, x_hat, 1e-3):
        return Verdict(False, "That is the normalized vector; now scale it and shift it.")
    return Verdict(
        False,
        "Normalize x as in exercise 11.1, then for each position i compute "
        "gamma[i] * x_hat[i] + beta[i].",
    )


@register("11.4", "The number of parameters of LayerNorm(768).")
def _parameters(answer: object) -> Verdict:
    if isinstance(answer, bool | np.bool_):
        return Verdict(False, f"Expected one number; got {answer!r}.")
    got = as_numbers(answer, ())
    if isinstance(got, Verdict):
        return got
    n = N_EMBD_GPT2
    if close(got, 2 * n, 0.0):
        return Verdict(
            True,
            f"A scale and a shift for each of the {n} numbers: {2 * n}. A Linear({n}, {n}) "
            f"has {n * n + n:,}.",
        )
    if close(got, n, 0.0):
        return Verdict(
            False,
            f"That is gamma alone (LayerNorm({n}, bias=False)); the shift beta has {n} more.",
        )
    if close(got, 2.0, 0.0):
        return Verdict(
            False,
            f"Not one scale and one shift for the whole vector: one of each for every one of "
            f"its {n} numbers.",
        )
    if close(got, 4 * n, 0.0) or close(got, 2 * n + 2, 0.0):
        return Verdict(
            False,
            "M and D are computed from each vector, not learned: only gamma and beta count.",
        )
    if close(got, n * n + n, 0.0) or close(got, n * n, 0.0):
        return Verdict(
            False,
            f"That is a Linear({n}, {n}): a whole matrix. LayerNorm only multiplies and adds "
            "number by number.",
        )
    return Verdict(False, f"Count gamma's and beta's numbers: each has one per number, {n}.")


@register("11.5", "LayerNorm with EQUAL_GAMMA and EQUAL_BETA applied to EQUAL_X = [7, 7, 7, 7].")
def _equal_numbers(answer: object) -> Verdict:
    x = EQUAL_X
    got = _nan_hint(answer, x.size) or as_numbers(answer, x.shape)
    if isinstance(got, Verdict):
        return got
    right = EQUAL_BETA  # x - M is 0 everywhere, and 0 / sqrt(eps) = 0
    if close(got, right, 1e-6):
        return Verdict(
            True,
            "x - M = 0 for every number and D = sqrt(0 + eps), so x_hat = 0 and the output is "
            "gamma x 0 + beta = beta.",
        )
    if close(got, 0.0, 1e-6):
        return Verdict(False, "That is x_hat, all zeros; the shift beta is still added.")
    if close(got, EQUAL_GAMMA + EQUAL_BETA, 1e-6) or close(got, EQUAL_GAMMA, 1e-6):
        return Verdict(
            False,
            "x - M is 0, not 1, for every number: x_hat is 0, and gamma multiplies 0.",
        )
    if close(got, x, 1e-6) or close(got, EQUAL_GAMMA * x + EQUAL_BETA, 1e-6):
        return Verdict(False, "Subtract the mean first: M = 7, so every x - M is 0.")
    if close(got, x + EQUAL_BETA, 1e-6):
        return Verdict(False, "The 7s are normalized away first: x_hat = (7 - 7) / D = 0.")
    return Verdict(
        False,
        "Find M and x - M for each number; D is sqrt(0 + eps), small but not 0. Then "
        "gamma * x_hat + beta.",
    )
