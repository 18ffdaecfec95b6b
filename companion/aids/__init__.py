"""The book's aids: drawings, widgets and the exercises' checkers.

None of this is part of a model; the chapters use it to show and to practise.
"""
