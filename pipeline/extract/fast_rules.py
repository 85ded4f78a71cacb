"""Faster drop-ins for spaCy's `attribute_ruler` and rule `lemmatizer` on the small English model.

spaCy runs the ruler's ~180 token patterns through its general Matcher, which costs as much as the parser on
this model. Every pattern here is a fixed sequence of one or two tokens tested on LOWER, TAG, DEP or IS_SPACE,
so an index from each pattern's first token to the patterns that can start there finds the same matches
directly. Matches are applied exactly as the ruler does: all found on the unmodified doc first, then in pattern
order (later patterns take precedence), each setting its attributes on one token of the match.
"""

from __future__ import annotations

import copy
import operator
import re
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any, cast

from spacy.attrs import DEP, IS_SPACE, LEMMA, LOWER, MORPH, ORTH, POS, TAG
from spacy.lookups import Lookups, Table
from spacy.pipeline import AttributeRuler, Lemmatizer
from spacy.tokens import Doc
from spacy.tokens._retokenize import set_token_attrs
from thinc.types import Ints2d

# Pattern attribute -> its position in the feature tuple of a token.
CACHE_LIMIT = 200_000
_KEYS = {"LOWER": 0, "TAG": 1, "DEP": 2, "IS_SPACE": 3}


class UnsupportedPattern(ValueError):
    """A ruler pattern this fast path does not handle (operators, other attributes): keep spaCy's ruler."""


def _token_test(spec: dict):
    """(feature position, predicate on its value) pairs for one pattern token."""
    tests: list[tuple[int, Callable[[Any], Any]]] = []
    for key, value in spec.items():
        if key not in _KEYS:
            raise UnsupportedPattern(key)
        position = _KEYS[key]
        if isinstance(value, (str, bool)):
            tests.append((position, partial(operator.eq, value)))
        elif isinstance(value, dict) and len(value) == 1:
            (op, arg), = value.items()
            if op == "IN":
                tests.append((position, frozenset(arg).__contains__))
            elif op == "NOT_IN":
                tests.append((position, partial(_not_in, frozenset(arg))))
            elif op == "REGEX":
                tests.append((position, re.compile(arg).search))
            else:
                raise UnsupportedPattern(op)
        else:
            raise UnsupportedPattern(repr(value))
    return tuple(tests)


class FastAttributeRuler:
    def __init__(self, ruler: AttributeRuler):
        self.attrs = ruler.attrs
        self.indices = ruler.indices
        # Patterns by their first token's LOWER value, else TAG value (exact or IN); the rest always tried.
        self._by_lower: dict[str, list] = {}
        self._by_tag: dict[str, list] = {}
        self._always: list = []
        for attr_id in range(len(ruler.attrs)):
            for pattern in ruler.matcher.get(str(attr_id))[1]:
                entry = (attr_id, tuple(_token_test(spec) for spec in pattern))
                for key, index in (("LOWER", self._by_lower), ("TAG", self._by_tag)):
                    value = pattern[0].get(key)
                    values = [value] if isinstance(value, str) else value.get("IN") if isinstance(value, dict) else None
                    if values is not None:
                        for v in values:
                            index.setdefault(v, []).append(entry)
                        break
                else:
                    self._always.append(entry)
        # A token's (lower, tag, dep, is_space) string ids -> the patterns whose first token it satisfies, found once
        # (emptied when it reaches CACHE_LIMIT entries, so a long run's memory stays flat).
        self._starting: dict[tuple, list[tuple[int, tuple]]] = {}

    def __call__(self, doc: Doc) -> Doc:
        # Features as string ids, read in one array (building a Token per word costs more than the matching);
        # a token's strings are looked up only when its features are new or a pattern's later token needs them.
        rows = doc.to_array([LOWER, TAG, DEP, IS_SPACE]).tolist()
        strings = doc.vocab.strings
        matches: set[tuple[int, int, int]] = set()
        for start, row in enumerate(rows):
            ids = tuple(row)
            starting = self._starting.get(ids)
            if starting is None:
                if len(self._starting) >= CACHE_LIMIT:
                    self._starting.clear()
                feature = _feature(strings, row)
                candidates = self._by_lower.get(feature[0], []) + self._by_tag.get(feature[1], []) + self._always
                starting = self._starting[ids] = [p for p in candidates if _passes(feature, p[1][0])]
            for attr_id, tests in starting:
                end = start + len(tests)
                if end <= len(rows) and all(
                    _passes(_feature(strings, rows[start + k]), tests[k]) for k in range(1, len(tests))
                ):
                    matches.add((attr_id, start, end))
        for attr_id, start, end in sorted(matches):
            index = self.indices[attr_id]
            set_token_attrs(doc[start + index if index >= 0 else end + index], self.attrs[attr_id])
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 0) -> Iterator[Doc]:
        for doc in docs:
            yield self(doc)


def _feature(strings, row: list[int]) -> tuple[str, str, str, bool]:
    """(lower, tag, dep, is_space) of a token from its row of string ids."""
    return strings[row[0]], strings[row[1]], strings[row[2]], bool(row[3])


def _passes(feature: tuple, tests) -> bool:
    return all(predicate(feature[position]) for position, predicate in tests)


def _not_in(excluded: frozenset, value: object) -> bool:
    return value not in excluded


class FastLemmatizer:
    """spaCy's rule lemmatizer with every result remembered. Its lemma is a function of the token's text,
    part of speech and morphology, but spaCy recomputes it per token (base forms are never cached) through
    Token objects; here the three are read as one array per doc and a lemma is computed once per combination."""

    def __init__(self, lemmatizer: Lemmatizer):
        self.lemmatizer = _with_set_index(lemmatizer)
        self._lemmas: dict[tuple[int, int, int], int] = {}

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            return doc
        rows = doc.to_array([ORTH, POS, MORPH, LEMMA])
        lemmas = rows[:, 3].copy()
        strings = doc.vocab.strings
        overwrite = self.lemmatizer.overwrite
        for i, (orth, pos, morph, lemma) in enumerate(rows.tolist()):
            if overwrite or lemma == 0:
                key = (orth, pos, morph)
                found = self._lemmas.get(key)
                if found is None:
                    if len(self._lemmas) >= CACHE_LIMIT:
                        self._lemmas.clear()
                        self.lemmatizer.cache.clear()
                    found = self._lemmas[key] = strings.add(self.lemmatizer.lemmatize(doc[i])[0])
                lemmas[i] = found
        doc.from_array([LEMMA], cast(Ints2d, lemmas.reshape(-1, 1)))
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 0) -> Iterator[Doc]:
        for doc in docs:
            yield self(doc)


def _with_set_index(lemmatizer: Lemmatizer) -> Lemmatizer:
    """A copy of the lemmatizer whose word index per part of speech is a set. spaCy keeps it as a list (57,000
    nouns) and tests every candidate base form against it by `in`, a linear scan that made a new word's lemma
    cost ~0.2 ms; membership, and so every lemma, is the same. spaCy's own component is left as it is."""
    lookups = Lookups()
    for name in lemmatizer.lookups.tables:
        table = lemmatizer.lookups.get_table(name)
        if name == "lemma_index":
            table = Table.from_dict({pos: frozenset(words) for pos, words in table.items()}, name=name)
        lookups.set_table(name, table)
    fast = copy.copy(lemmatizer)
    fast.lookups = lookups
    fast.cache = {}
    fast.lemmatize = fast.rule_lemmatize  # spaCy binds it at construction: to the original, in the copy
    return fast
