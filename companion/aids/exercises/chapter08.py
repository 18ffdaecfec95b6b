"""Exercises of chapter 8, Self-attention."""

from __future__ import annotations

import numpy as np

from companion.aids.exercises._checker import Verdict, as_numbers, close, register

#: Exercise 8.1: the query of the last of three words, the three keys and the three values,
#: one row per word. The scores k1·q3, k2·q3, k3·q3 are 0, 1 and 2.
Q_8_1 = np.array([1.0, 1.0])
K_8_1 = np.array(
    [
        [1.0, -1.0],  # k1
        [0.0, 1.0],  # k2
        [1.0, 1.0],  # k3
    ]
)
V_8_1 = np.array(
    [
        [1.0, 0.0],  # v1
        [0.0, 1.0],  # v2
        [1.0, 1.0],  # v3
    ]
)

#: Exercise 8.2: the scores of word 3 (counting from 1) of a 4-word sentence against the
#: keys of words 1, 2, 3 and 4, before the causal mask.
SCORES_8_2 = np.array([1.0, 0.0, 1.0, 3.0])
WORD_8_2 = 3

#: Exercise 8.3: three words of two numbers (one per row) and a head's query and key
#: matrices, stored as the companion stores them: [numbers in, numbers out], so k = x @ W_k.
X_8_3 = np.array(
    [
        [1.0, 0.0],  # x1
        [0.0, 1.0],  # x2
        [1.0, 2.0],  # x3
    ]
)
W_Q_8_3 = np.array([[-1.0, 0.0], [0.0, 1.0]])
W_K_8_3 = np.array([[0.0, 2.0], [-1.0, 0.0]])

#: Exercise 8.4: a head that reads vectors of 12 numbers and makes keys, queries and values
#: of 4 numbers, used on a sentence of 26 words.
N_EMBD_8_4, HEAD_SIZE_8_4, WORDS_8_4 = 12, 4, 26


def _softmax(scores: np.ndarray) -> np.ndarray:
    """Chapter 2's softmax of a row of finite scores."""
    e = np.exp(scores - scores.max())
    out: np.ndarray = e / e.sum()
    return out


@register("8.1", "The output of the last word: the softmax of k_i·q3 weighs v1, v2, v3.")
def _weighted_values(answer: object) -> Verdict:
    scores = K_8_1 @ Q_8_1  # [0, 1, 2]
    u = _softmax(scores)
    three = as_numbers(answer, (3,))
    if not isinstance(three, Verdict):  # three numbers: the weights, not the output
        if close(three, u, 5e-3):
            return Verdict(
                False,
                "These are the right weights u1, u2, u3; the answer is the output, "
                "u1·v1 + u2·v2 + u3·v3 (two numbers).",
            )
        if close(three, scores, 5e-3):
            return Verdict(False, "These are the scores; softmax them, then weigh the values.")
        return Verdict(False, "Expected the output: two numbers, u1·v1 + u2·v2 + u3·v3.")
    got = as_numbers(answer, (2,))
    if isinstance(got, Verdict):
        return got
    right = u @ V_8_1
    if close(got, right, 5e-3):
        w = ", ".join(f"{x:.3f}" for x in u)
        return Verdict(
            True, f"Scores 0, 1, 2; softmax gives the weights {w}; they weigh the values."
        )
    if close(got, scores @ V_8_1, 5e-3):
        return Verdict(
            False, "You weighed the values with the raw scores; softmax them first (chapter 2)."
        )
    if close(got, scores / scores.sum() @ V_8_1, 5e-3):
        return Verdict(
            False,
            "You divided the scores by their sum; softmax divides e^score by the sum of the "
            "e^score.",
        )
    if close(got, _softmax(scores / np.sqrt(2)) @ V_8_1, 5e-3):
        return Verdict(
            False,
            "You divided the scores by √2, as the companion does; this exercise follows "
            "the article, without that division.",
        )
    if close(got, u @ K_8_1, 5e-3):
        return Verdict(False, "You added up the keys; the weights multiply the values v1, v2, v3.")
    if close(got, V_8_1.mean(axis=0), 5e-3):
        return Verdict(False, "That is the plain average; the weights come from the scores k·q3.")
    return Verdict(False, "Scores k1·q3, k2·q3, k3·q3; softmax them; then u1·v1 + u2·v2 + u3·v3.")


@register("8.2", "The four attention weights of word 3 of 4, with the causal mask.")
def _masked_row(answer: object) -> Verdict:
    got = as_numbers(answer, (4,))
    if isinstance(got, Verdict):
        return got
    seen = WORD_8_2  # word 3 sees words 1, 2 and 3
    right = np.zeros(4)
    right[:seen] = _softmax(SCORES_8_2[:seen])
    if close(got, right, 5e-3):
        return Verdict(True, "Word 4 is masked; words 1 to 3 share all the weight.")
    no_mask = _softmax(SCORES_8_2)
    if close(got, no_mask, 5e-3):
        return Verdict(
            False,
            "Word 3 gave weight to word 4, which comes after it: mask its score (-inf) "
            "before softmax.",
        )
    cut_after = np.where(np.arange(4) < seen, no_mask, 0.0)
    if close(got, cut_after, 5e-3):
        return Verdict(
            False,
            "You zeroed word 4 after softmax, so the rest no longer add up to 1: mask the "
            "score before softmax.",
        )
    forward_only = np.zeros(4)
    forward_only[seen - 1 :] = _softmax(SCORES_8_2[seen - 1 :])
    if close(got, forward_only, 5e-3):
        return Verdict(
            False, "That looks forward; the mask hides the words *after* word 3, not before."
        )
    without_itself = np.zeros(4)
    without_itself[: seen - 1] = _softmax(SCORES_8_2[: seen - 1])
    if close(got, without_itself, 5e-3):
        return Verdict(False, "Word 3 may look at itself too: words 1, 2 and 3 keep their scores.")
    if abs(got[3]) > 5e-3:
        return Verdict(False, "The weight on word 4 must be exactly 0: it comes after word 3.")
    if not close(got.sum(), 1.0, 5e-3):
        return Verdict(False, "The weights of a row add up to 1.")
    return Verdict(False, "Softmax of the scores of words 1 to 3; a weight of 0 for word 4.")


@register("8.3", "The scores k1·q3, k2·q3, k3·q3, with k = x @ W_k and q = x @ W_q.")
def _scores(answer: object) -> Verdict:
    got = as_numbers(answer, (3,))
    if isinstance(got, Verdict):
        return got
    q, k = X_8_3 @ W_Q_8_3, X_8_3 @ W_K_8_3  # [3, 2] each
    right = k @ q[2]  # k_i·q3 for i = 1, 2, 3
    if close(got, right, 1e-6):
        shown = ", ".join(f"{s:g}" for s in right)
        return Verdict(True, f"q3 = x3 @ W_q = {q[2].tolist()}, and its dot products: {shown}.")
    if close(got, (X_8_3 @ W_K_8_3.T) @ (W_Q_8_3 @ X_8_3[2]), 1e-6):
        return Verdict(
            False,
            "You computed W @ x; the companion's matrices are [numbers in, numbers out], "
            "so k = x @ W_k and q = x @ W_q.",
        )
    if close(got, right / np.sqrt(2), 1e-3):
        return Verdict(False, "No division by √2 here: the exercise asks for the plain k·q3.")
    if close(got, q @ k[2], 1e-6):
        return Verdict(
            False, "Roles swapped: use the last word's query q3 with every word's key k1, k2, k3."
        )
    for i in (0, 1):
        if close(got, k @ q[i], 1e-6):
            return Verdict(
                False, f"You used q{i + 1}; the weights of the last word come from its query q3."
            )
    if close(got, X_8_3 @ X_8_3[2], 1e-6):
        return Verdict(False, "You dotted the x's themselves; first make k = x @ W_k, q = x @ W_q.")
    if close(got, k @ X_8_3[2], 1e-6) or close(got, X_8_3 @ q[2], 1e-6):
        return Verdict(False, "One matrix is missing: the keys need W_k and the query W_q.")
    return Verdict(False, "k_i = x_i @ W_k, q3 = x3 @ W_q, then multiply number by number and add.")


@register("8.4", "How many parameters a self-attention head of 12 numbers in, 4 out has.")
def _parameters(answer: object) -> Verdict:
    got = as_numbers(answer, ())
    if isinstance(got, Verdict):
        return got
    one = N_EMBD_8_4 * HEAD_SIZE_8_4
    right = 3 * one
    if close(got, right, 0.0):
        return Verdict(
            True,
            f"W_k, W_q and W_v of {N_EMBD_8_4} x {HEAD_SIZE_8_4} each, for a sentence of "
            "any length.",
        )
    if close(got, right * WORDS_8_4, 0.0):
        return Verdict(
            False,
            "The same three matrices serve every word: the count does not depend on the "
            "length of the sentence.",
        )
    if close(got, one, 0.0) or close(got, 2 * one, 0.0):
        return Verdict(False, "A head has three matrices: W_k, W_q and W_v.")
    if close(got, 3 * (one + HEAD_SIZE_8_4), 0.0):
        return Verdict(False, "The article's head has no biases: only W_k, W_q and W_v.")
    return Verdict(False, "Each of W_k, W_q, W_v turns 12 numbers into 4: how many weights?")
